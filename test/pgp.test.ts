/**
 * PGP through the `gpg` binary: every real sops PGP vector decrypts end to end, wrap/unwrap
 * round trips, stanzas we write open with plain `gpg`, and failures are one typed line naming
 * the fingerprint without key material. Runs in a throw-away GNUPGHOME (never ~/.gnupg) and
 * kills the gpg-agents it started.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KeyFormatError, NoKeyError, PgpError } from '../src/errors.js';
import { parseMetadata, type PgpStanza } from '../src/format/metadata.js';
import { AgeIdentities } from '../src/keys/age.js';
import { unwrapDataKey, wrapDataKey, type KeySources } from '../src/keys/datakey.js';
import { gpgKeySource, gpgReason, parsePgpFingerprint } from '../src/keys/pgp.js';
import { decryptText } from '../src/ops/decrypt.js';
import { encryptText, type EncryptOptions } from '../src/ops/encrypt.js';
import { storeFor } from '../src/stores/index.js';
import { INTEROP_DIR, loadVectors } from './helpers/interop.js';
import { testContext } from './helpers/keys.js';

const KEY_FILE = join(INTEROP_DIR, 'getsops-sops/keys/sops_functional_tests_key.asc');
const FPR = 'FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4';
const FPR2 = 'D7229043384BCC60326C6FB9D8720D957C3D3074';
const NOW = new Date('2026-01-02T03:04:05.678Z');

// PGP vectors are those whose expected.json says `decrypt_with: …/*.asc` (the loader leaves
// ageKeyFile undefined for them).
const pgpVectors = loadVectors().filter((v) => v.ageKeyFile === undefined);

const homes: string[] = [];
let home = '';
let emptyHome = '';

/** A private GnuPG home (gpg refuses or warns about group/world-readable ones). */
function newHome(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sealant-gpg-'));
  chmodSync(dir, 0o700);
  homes.push(dir);
  return dir;
}

/** Only GNUPGHOME (and PATH for gpg's helpers): no HOME, so nothing can fall back to ~/.gnupg. */
function gpgEnv(gnupgHome: string): Record<string, string> {
  return { GNUPGHOME: gnupgHome, PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
}

/** `gpg --decrypt` run directly, as a second opinion on what we wrote. */
function gpgDecrypt(enc: string, gnupgHome: string): Buffer {
  const r = spawnSync('gpg', ['--batch', '--no-tty', '--quiet', '--decrypt'], { input: enc, env: gpgEnv(gnupgHome) });
  assert.equal(r.status, 0, `gpg --decrypt failed: ${r.stderr?.toString()}`);
  return r.stdout;
}

function pgpSources(gnupgHome: string): KeySources {
  return { age: new AgeIdentities([]), pgp: async () => gpgKeySource({ env: { GNUPGHOME: gnupgHome } }) };
}

function stanzasOf(text: string, format: Parameters<typeof storeFor>[0], name: string): PgpStanza[] {
  return parseMetadata(storeFor(format).load(text, name).metadata!).keyGroups.flatMap((g) => g.pgp);
}

/** Asserts an error is a one-line PgpError naming `fp` and containing none of `secrets`. */
function assertPgpError(e: unknown, fp: string, secrets: string[]): true {
  assert.ok(e instanceof PgpError, `expected PgpError, got ${String(e)}`);
  assert.equal(e.code, 'PGP');
  assert.equal(e.exitCode, 128);
  assert.ok(e.message.includes(fp), `names the fingerprint: ${e.message}`);
  assert.ok(!e.message.includes('\n'), 'one line');
  for (const s of secrets)
    assert.ok(!e.message.includes(s) && !(e.hint ?? '').includes(s), `no secret in: ${e.message}`);
  return true;
}

before(() => {
  home = newHome();
  emptyHome = newHome();
  const r = spawnSync('gpg', ['--batch', '--import', KEY_FILE], { env: gpgEnv(home), encoding: 'utf8' });
  assert.equal(r.status, 0, `gpg --import failed (is GnuPG installed?): ${r.error?.message ?? r.stderr}`);
});

after(() => {
  // Every gpg call above may have started an agent bound to its GNUPGHOME: stop each one.
  for (const dir of homes) {
    spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env: gpgEnv(dir), stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the PGP vectors are found', () => {
  assert.equal(pgpVectors.length, 7, pgpVectors.map((v) => v.name).join(', '));
});

describe('every sops PGP vector decrypts through gpg', () => {
  for (const v of pgpVectors) {
    test(`${v.name}: the data key unwraps to data_key_hex`, async () => {
      const meta = parseMetadata(storeFor(v.format).load(v.text, v.name).metadata!);
      const r = await unwrapDataKey(meta, pgpSources(home));
      assert.equal(Buffer.from(r.dataKey).toString('hex'), v.dataKeyHex);
      assert.match(r.unwrappedBy[0]!, /^pgp:[0-9A-F]{40}$/);
    });

    test(`${v.name}: every PGP stanza opens on its own`, async () => {
      const src = gpgKeySource({ env: { GNUPGHOME: home } });
      const stanzas = stanzasOf(v.text, v.format, v.name);
      assert.ok(stanzas.length > 0);
      for (const s of stanzas) assert.equal(Buffer.from(await src.decrypt(s)).toString('hex'), v.dataKeyHex, s.fp);
    });

    test(`${v.name}: decryptText end to end`, async () => {
      const r = await decryptText(v.text, v.name, testContext(), { sources: pgpSources(home), inputType: v.format });
      assert.equal(r.macValid, true);
      assert.ok(!r.text.includes('ENC[AES256_GCM'), 'no ciphertext left');
      assert.ok(!r.text.includes('PGP MESSAGE'), 'no metadata left');
      for (const leaf of v.leaves) {
        if (typeof leaf.value === 'string' && leaf.value !== '' && !leaf.value.includes('\n') && v.format !== 'json')
          assert.ok(r.text.includes(leaf.value.trim()), `${leaf.aad} in output`);
      }
    });
  }
});

describe('wrap and unwrap with gpg', () => {
  test('encrypt -> decrypt round trip, for both test keys, data key and Shamir share sizes', async () => {
    const src = gpgKeySource({ env: { GNUPGHOME: home }, now: () => NOW });
    for (const [fp, size] of [
      [FPR, 32],
      [FPR2, 33],
    ] as const) {
      const key = new Uint8Array(size).map((_, i) => (i * 7 + size) & 0xff);
      const stanza = await src.encrypt(fp, key);
      assert.equal(stanza.fp, fp);
      assert.equal(stanza.createdAt, '2026-01-02T03:04:05Z');
      // As sops writes it (go TrimSpace on gpg's output): no trailing newline.
      assert.match(stanza.enc, /^-----BEGIN PGP MESSAGE-----\n[\s\S]+\n-----END PGP MESSAGE-----$/);
      assert.deepEqual(Buffer.from(await src.decrypt(stanza)), Buffer.from(key));
      assert.deepEqual(gpgDecrypt(stanza.enc, home), Buffer.from(key));
    }
  });

  test('fingerprints are normalised: spaces, 0x and lower case', async () => {
    const src = gpgKeySource({ env: { GNUPGHOME: home } });
    const spaced = `0x${FPR.toLowerCase().replace(/(.{4})/g, '$1 ')}`;
    const stanza = await src.encrypt(spaced, new Uint8Array(32).fill(1));
    assert.equal(stanza.fp, FPR);
    assert.equal(parsePgpFingerprint(' 3d16cee4a27381b4 '), '3D16CEE4A27381B4');
  });

  test('malformed fingerprints are refused before gpg runs', async () => {
    // A missing binary would fail differently: proves gpg is never started for these.
    const src = gpgKeySource({ env: { GNUPGHOME: home, SOPS_GPG_EXEC: '/nonexistent/gpg' } });
    for (const bad of ['', 'A27381B4', 'FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B', 'secops@mozilla.com', `${FPR}Z`]) {
      await assert.rejects(src.encrypt(bad, new Uint8Array(32)), KeyFormatError, JSON.stringify(bad));
    }
  });

  test('wrapDataKey: a PGP-only group, opened by plain gpg', async () => {
    const dataKey = new Uint8Array(32).map((_, i) => i);
    const [group] = await wrapDataKey(dataKey, [{ age: [], kms: [], pgp: [FPR] }], undefined, pgpSources(home));
    assert.equal(group!.pgp.length, 1);
    assert.deepEqual(gpgDecrypt(group!.pgp[0]!.enc, home), Buffer.from(dataKey));
  });

  test('wrapDataKey: Shamir across two PGP groups recovers the data key', async () => {
    const dataKey = new Uint8Array(32).map((_, i) => 255 - i);
    const groups = await wrapDataKey(
      dataKey,
      [
        { age: [], kms: [], pgp: [FPR] },
        { age: [], kms: [], pgp: [FPR2] },
      ],
      2,
      pgpSources(home),
    );
    const meta = {
      keyGroups: groups.map((g) => ({ ...g, other: [] })),
      usesKeyGroups: true,
      shamirThreshold: 2,
    } as unknown as Parameters<typeof unwrapDataKey>[0];
    const r = await unwrapDataKey(meta, pgpSources(home));
    assert.deepEqual(Buffer.from(r.dataKey), Buffer.from(dataKey));
  });

  test('encryptText with a PGP recipient: a file whose stanza plain gpg opens', async () => {
    const opts: EncryptOptions = { groups: [{ age: [], kms: [], pgp: [FPR] }], sources: { pgp: pgpSources(home).pgp } };
    const { text } = await encryptText('secret: canary-7f3a\n', 'x.yaml', testContext(), opts);
    const [stanza] = stanzasOf(text, 'yaml', 'x.yaml');
    assert.equal(stanza!.fp, FPR);
    assert.equal(gpgDecrypt(stanza!.enc, home).length, 32);
    const back = await decryptText(text, 'x.yaml', testContext(), { sources: pgpSources(home) });
    assert.equal(back.text, 'secret: canary-7f3a\n');
  });
});

describe('gpg failures', () => {
  const v = pgpVectors.find((x) => x.name.endsWith('format.enc.yaml'))!;

  test('wrong GNUPGHOME: PgpError naming the fingerprint, gpg reason, no key material', async () => {
    const [stanza] = stanzasOf(v.text, v.format, v.name);
    const src = gpgKeySource({ env: { GNUPGHOME: emptyHome } });
    const keyB64 = Buffer.from(v.dataKeyHex, 'hex').toString('base64');
    const encBody = stanza!.enc.split('\n')[2]!;
    await assert.rejects(src.decrypt(stanza!), (e) => {
      assertPgpError(e, FPR, [v.dataKeyHex, v.dataKeyHex.toUpperCase(), keyB64, encBody]);
      assert.match((e as Error).message, /No secret key/);
      return true;
    });
  });

  test('wrong GNUPGHOME through decryptText: NoKeyError (128) listing the PGP key', async () => {
    await assert.rejects(
      decryptText(v.text, v.name, testContext(), { sources: pgpSources(emptyHome), inputType: v.format }),
      (e) => {
        assert.ok(e instanceof NoKeyError);
        assert.equal(e.exitCode, 128);
        assert.ok(e.message.includes(FPR));
        assert.ok(!e.message.includes(v.dataKeyHex) && !e.message.includes('PGP MESSAGE'));
        return true;
      },
    );
  });

  test('encrypting to a key missing from the keyring names it', async () => {
    const src = gpgKeySource({ env: { GNUPGHOME: emptyHome } });
    const key = Buffer.alloc(32, 0x5a);
    await assert.rejects(src.encrypt(FPR, key), (e) => {
      assertPgpError(e, FPR, [key.toString('hex'), key.toString('base64')]);
      assert.match((e as Error).message, /No public key/);
      return true;
    });
  });

  test('gpg not installed: a clear PgpError', async () => {
    const [stanza] = stanzasOf(v.text, v.format, v.name);
    const src = gpgKeySource({ env: { GNUPGHOME: home, SOPS_GPG_EXEC: '/nonexistent/gpg' } });
    await assert.rejects(src.decrypt(stanza!), (e) => {
      assertPgpError(e, FPR, [v.dataKeyHex]);
      assert.match((e as Error).message, /cannot run gpg \("\/nonexistent\/gpg"\): not found/);
      return true;
    });
  });

  test('SOPS_GPG_EXEC picks the binary', async () => {
    const [stanza] = stanzasOf(v.text, v.format, v.name);
    const gpgPath = spawnSync('sh', ['-c', 'command -v gpg'], { encoding: 'utf8' }).stdout.trim();
    const src = gpgKeySource({ env: { GNUPGHOME: home, SOPS_GPG_EXEC: gpgPath } });
    assert.equal(Buffer.from(await src.decrypt(stanza!)).toString('hex'), v.dataKeyHex);
  });

  test('a PGP message that is not a data key is refused', async () => {
    const r = spawnSync('gpg', ['--batch', '--armor', '--trust-model', 'always', '--encrypt', '--recipient', FPR], {
      input: 'canary-not-a-key',
      env: gpgEnv(home),
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const src = gpgKeySource({ env: { GNUPGHOME: home } });
    await assert.rejects(src.decrypt({ fp: FPR, createdAt: '', enc: r.stdout }), (e) =>
      assertPgpError(e, FPR, ['canary-not-a-key']),
    );
  });

  test('a corrupt stanza: gpg reason, one line', async () => {
    const src = gpgKeySource({ env: { GNUPGHOME: home } });
    await assert.rejects(
      src.decrypt({ fp: FPR, createdAt: '', enc: '-----BEGIN PGP MESSAGE-----\n\nAAAA\n-----END PGP MESSAGE-----' }),
      (e) => assertPgpError(e, FPR, []),
    );
  });

  test('gpgReason picks the specific line, masks control characters', () => {
    assert.equal(
      gpgReason('gpg: ABC: skipped: No public key\ngpg: [stdin]: encryption failed: No public key\n'),
      'ABC: skipped: No public key',
    );
    assert.equal(
      gpgReason('gpg: WARNING: unsafe permissions on homedir\ngpg: decryption failed: No secret key\n'),
      'decryption failed: No secret key',
    );
    assert.equal(gpgReason('      "User \u001b[31m" <x@y>\ngpg: something odd\n'), 'something odd');
    assert.equal(gpgReason('gpg: bad \u001b[2J thing\n'), 'bad ?[2J thing');
    assert.equal(gpgReason(''), '');
  });
});
