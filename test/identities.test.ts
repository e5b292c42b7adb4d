import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { generateHybridIdentity, identityToRecipient } from 'age-encryption';

import { KeyFormatError, ReadError, SealantError } from '../src/errors.js';
import { defaultAgeKeyFile, loadAgeIdentities, type LoadAgeIdentitiesOptions } from '../src/ops/identities.js';
import { sharedPath } from './helpers/shared.js';

const INTEROP = sharedPath('interop', 'sops');
const FILES = {
  nix: `${INTEROP}/sops-nix/age-keys.txt`, // one key
  getsops: `${INTEROP}/getsops-sops/keys/age-keys.txt`, // two keys, the first shared with sops-nix
  flux: `${INTEROP}/kustomize-controller/keys/age.txt`,
  js: `${INTEROP}/sops-age-js/key.txt`, // has an extra comment line
};
const R = {
  nix: 'age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw',
  getsops2: 'age1tmaae3ld5vpevmsh5yacsauzx8jetg300mpvc4ugp5zr5l6ssq9sla97ep',
  flux: 'age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29',
  js: 'age1je6kjhzuhdjy3fqptpttxjh5k8q46vygzlgtpuq3030c947pc5tqz9dqvr',
};

let home: string;
let secret: { nix: string; flux: string; js: string };

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'sealant-ids-test-'));
  const keyLine = async (f: string) =>
    (await readFile(f, 'utf8')).split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-')) ?? '';
  secret = { nix: await keyLine(FILES.nix), flux: await keyLine(FILES.flux), js: await keyLine(FILES.js) };
});
after(async () => {
  await rm(home, { recursive: true, force: true });
});

/** Options with an empty environment and a home without a default key file. */
function opts(over: Partial<LoadAgeIdentitiesOptions> = {}): LoadAgeIdentitiesOptions {
  return {
    env: {},
    homeDir: join(home, 'nobody'),
    platform: 'linux',
    readFile: (p) => readFile(p, 'utf8'),
    runCommand: () => Promise.reject(new Error('runCommand not expected')),
    ...over,
  };
}

/** Asserts that nothing in the error (message, hint) carries key material. */
function noSecret(e: unknown): void {
  assert.ok(e instanceof SealantError);
  const text = `${e.message} ${e.hint ?? ''} ${e.toOneLine()}`;
  assert.ok(!/AGE-SECRET-KEY-1[0-9A-Z]{5}/i.test(text), `error leaks key material: ${text}`);
}

describe('defaultAgeKeyFile', () => {
  it('Linux: XDG_CONFIG_HOME, else ~/.config; a relative XDG is ignored', () => {
    assert.equal(defaultAgeKeyFile({ XDG_CONFIG_HOME: '/x' }, '/home/u', 'linux'), '/x/sops/age/keys.txt');
    assert.equal(defaultAgeKeyFile({}, '/home/u', 'linux'), '/home/u/.config/sops/age/keys.txt');
    assert.equal(
      defaultAgeKeyFile({ XDG_CONFIG_HOME: 'rel' }, '/home/u', 'linux'),
      '/home/u/.config/sops/age/keys.txt',
    );
  });
  it('macOS: XDG_CONFIG_HOME if set, else ~/Library/Application Support', () => {
    assert.equal(defaultAgeKeyFile({ XDG_CONFIG_HOME: '/x' }, '/Users/u', 'darwin'), '/x/sops/age/keys.txt');
    assert.equal(defaultAgeKeyFile({}, '/Users/u', 'darwin'), '/Users/u/Library/Application Support/sops/age/keys.txt');
  });
  it('Windows: %AppData%', () => {
    assert.equal(
      defaultAgeKeyFile({ AppData: 'C:\\Users\\u\\AppData\\Roaming' }, 'C:\\Users\\u', 'win32'),
      'C:\\Users\\u\\AppData\\Roaming\\sops\\age\\keys.txt',
    );
    assert.equal(defaultAgeKeyFile({}, 'C:\\Users\\u', 'win32'), undefined);
  });
});

describe('loadAgeIdentities', () => {
  it('returns nothing (no error) when no source is configured and the default file is absent', async () => {
    assert.deepEqual(await loadAgeIdentities(opts()), []);
  });

  it('reads --identity files (repeatable), with recipients and sources', async () => {
    const ids = await loadAgeIdentities(opts({ identityFiles: [FILES.flux, FILES.js] }));
    assert.deepEqual(
      ids.map((i) => [i.recipient, i.source]),
      [
        [R.flux, `--identity=${FILES.flux}`],
        [R.js, `--identity=${FILES.js}`],
      ],
    );
    assert.equal(ids[0]?.identity, secret.flux);
  });

  it('combines all sources in order and de-duplicates (first source wins)', async () => {
    const xdg = join(home, 'xdg');
    await mkdir(join(xdg, 'sops', 'age'), { recursive: true });
    await writeFile(join(xdg, 'sops', 'age', 'keys.txt'), `# default file\n${secret.js}\n${secret.nix}\n`);
    const ids = await loadAgeIdentities(
      opts({
        env: {
          XDG_CONFIG_HOME: xdg,
          SOPS_AGE_KEY: `# a comment\n  ${secret.flux}   ${secret.nix}\n\n`,
          SOPS_AGE_KEY_FILE: FILES.getsops,
          SOPS_AGE_KEY_CMD: 'print-my-key',
        },
        identityFiles: [FILES.nix],
        runCommand: async (cmd) => {
          assert.equal(cmd, 'print-my-key');
          return `${secret.flux}\n`;
        },
      }),
    );
    assert.deepEqual(
      ids.map((i) => [i.recipient, i.source]),
      [
        [R.nix, `--identity=${FILES.nix}`],
        [R.flux, 'SOPS_AGE_KEY'],
        [R.getsops2, `SOPS_AGE_KEY_FILE=${FILES.getsops}`],
        [R.js, `default=${join(xdg, 'sops', 'age', 'keys.txt')}`],
      ],
    );
  });

  it('reads the default file under ~/.config when XDG_CONFIG_HOME is unset (injected home, not the real one)', async () => {
    const h = join(home, 'h1');
    await mkdir(join(h, '.config', 'sops', 'age'), { recursive: true });
    await writeFile(join(h, '.config', 'sops', 'age', 'keys.txt'), await readFile(FILES.getsops, 'utf8'));
    const ids = await loadAgeIdentities(opts({ homeDir: h }));
    assert.deepEqual(
      ids.map((i) => i.recipient),
      [R.nix, R.getsops2],
    );
  });

  it('accepts post-quantum identities (AGE-SECRET-KEY-PQ-1…) and CRLF line ends', async () => {
    const pq = await generateHybridIdentity();
    const ids = await loadAgeIdentities(opts({ env: { SOPS_AGE_KEY: `${pq}\r\n${secret.js}\r\n` } }));
    assert.equal(ids.length, 2);
    assert.equal(ids[0]?.recipient, await identityToRecipient(pq));
    assert.ok(ids[0]?.recipient.startsWith('age1pq1'));
  });

  it('a missing explicit file is a ReadError naming it (--identity and SOPS_AGE_KEY_FILE)', async () => {
    const missing = join(home, 'missing.txt');
    await assert.rejects(loadAgeIdentities(opts({ identityFiles: [missing] })), (e: unknown) => {
      assert.ok(e instanceof ReadError);
      assert.equal(e.file, missing);
      assert.match(e.message, /no such file/);
      return true;
    });
    await assert.rejects(
      loadAgeIdentities(opts({ env: { SOPS_AGE_KEY_FILE: missing } })),
      (e: unknown) => e instanceof ReadError && e.file === missing && /SOPS_AGE_KEY_FILE/.test(e.message),
    );
  });

  it('a malformed key line is a KeyFormatError with file and line, never the key', async () => {
    const bad = join(home, 'bad.txt');
    // A truncated key: the bech32 checksum fails.
    await writeFile(bad, `# created: x\n${secret.flux.slice(0, -3)}\n`);
    await assert.rejects(loadAgeIdentities(opts({ identityFiles: [bad] })), (e: unknown) => {
      assert.ok(e instanceof KeyFormatError);
      assert.equal(e.file, bad);
      assert.equal(e.line, 2);
      assert.equal(e.toOneLine(), `${bad}:2: malformed age identity`);
      noSecret(e);
      return true;
    });
  });

  it('a line that is not an identity (e.g. a pasted public key) is rejected, in SOPS_AGE_KEY too', async () => {
    await assert.rejects(
      loadAgeIdentities(opts({ env: { SOPS_AGE_KEY: `${secret.js}\n${R.js}\n` } })),
      (e: unknown) => {
        assert.ok(e instanceof KeyFormatError);
        assert.equal(e.message, 'SOPS_AGE_KEY: line 2: not an age identity');
        assert.equal(e.line, 2);
        noSecret(e);
        return true;
      },
    );
  });

  it('a malformed default file is an error too (it exists, so it was meant to be read)', async () => {
    const h = join(home, 'h2');
    await mkdir(join(h, '.config', 'sops', 'age'), { recursive: true });
    await writeFile(join(h, '.config', 'sops', 'age', 'keys.txt'), 'garbage\n');
    await assert.rejects(loadAgeIdentities(opts({ homeDir: h })), KeyFormatError);
  });

  it('skips AGE-PLUGIN identities with a warning', async () => {
    const warnings: string[] = [];
    const ids = await loadAgeIdentities(
      opts({ env: { SOPS_AGE_KEY: `AGE-PLUGIN-YUBIKEY-1QQQQQQ\n${secret.js}` }, warn: (m) => warnings.push(m) }),
    );
    assert.deepEqual(
      ids.map((i) => i.recipient),
      [R.js],
    );
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /SOPS_AGE_KEY:1: skipping age plugin identity/);
  });

  it('rejects passphrase-encrypted key files with a hint', async () => {
    const enc = join(home, 'enc.txt');
    await writeFile(enc, '-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n');
    await assert.rejects(
      loadAgeIdentities(opts({ identityFiles: [enc] })),
      (e: unknown) => e instanceof KeyFormatError && e.file === enc && e.hint !== undefined,
    );
  });

  it('a failing SOPS_AGE_KEY_CMD is a ReadError', async () => {
    await assert.rejects(
      loadAgeIdentities(
        opts({ env: { SOPS_AGE_KEY_CMD: 'x' }, runCommand: () => Promise.reject(new Error('exit status 1')) }),
      ),
      (e: unknown) => e instanceof ReadError && e.message === 'SOPS_AGE_KEY_CMD failed',
    );
  });

  it('the default SOPS_AGE_KEY_CMD runner goes through the shell', { skip: process.platform === 'win32' }, async () => {
    const ids = await loadAgeIdentities({
      ...opts(),
      runCommand: undefined,
      env: { SOPS_AGE_KEY_CMD: `cat ${FILES.flux} | grep -v '^#'` },
    });
    assert.deepEqual(
      ids.map((i) => [i.recipient, i.source]),
      [[R.flux, 'SOPS_AGE_KEY_CMD']],
    );
    await assert.rejects(
      loadAgeIdentities({ ...opts(), runCommand: undefined, env: { SOPS_AGE_KEY_CMD: 'exit 3' } }),
      ReadError,
    );
  });
});

describe('loadAgeIdentities with sourceError (as decrypting commands call it)', () => {
  it('an unreadable SOPS_AGE_KEY_FILE, a failing SOPS_AGE_KEY_CMD and a malformed SOPS_AGE_KEY are reported and skipped', async () => {
    const missing = join(home, 'missing-env.txt');
    const errors: SealantError[] = [];
    const ids = await loadAgeIdentities(
      opts({
        identityFiles: [FILES.flux],
        env: { SOPS_AGE_KEY: 'AGE-SECRET-KEY-1NOTAKEY', SOPS_AGE_KEY_FILE: missing, SOPS_AGE_KEY_CMD: 'x' },
        runCommand: () => Promise.reject(new Error('exit status 1')),
        sourceError: (e) => errors.push(e),
      }),
    );
    assert.deepEqual(
      ids.map((i) => i.recipient),
      [R.flux],
    );
    assert.deepEqual(
      errors.map((e) => e.toOneLine()),
      [
        'SOPS_AGE_KEY: line 1: malformed age identity',
        `${missing}: cannot read age identity file (SOPS_AGE_KEY_FILE): no such file`,
        'SOPS_AGE_KEY_CMD failed',
      ],
    );
    for (const e of errors) noSecret(e);
  });

  it('an --identity file the user named still fails the command', async () => {
    await assert.rejects(
      loadAgeIdentities(
        opts({ identityFiles: [join(home, 'missing-flag.txt')], sourceError: () => assert.fail('not reported') }),
      ),
      ReadError,
    );
  });
});
