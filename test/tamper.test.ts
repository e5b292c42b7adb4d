/**
 * Tampering: flipping any single byte inside a value's data, iv or tag, or inside the MAC, makes
 * decryption fail with an authentication or MAC error — and the error never shows a value.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { SealantError } from '../src/errors.js';
import { decryptText } from '../src/ops/decrypt.js';
import { encryptText } from '../src/ops/encrypt.js';
import { runCli } from './helpers/cli.js';
import { sourcesFromFiles, testContext } from './helpers/keys.js';

const dir = mkdtempSync(join(tmpdir(), 'sealant-tamper-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const keyFile = join(dir, 'key.txt');
execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' });
const recipient = /public key: (age1[0-9a-z]+)/.exec(readFileSync(keyFile, 'utf8'))![1]!;
const CANARY = 'canary-7f3a9e';

const plaintext = `db:\n    password: ${CANARY}-pw\n    port: 5432\nflags:\n    - true\n    - ${CANARY}-item\nratio: 0.5\n# ${CANARY} comment\nnote: ${CANARY}-note\n`;

const ENC_RE = /ENC\[AES256_GCM,data:([^,]+),iv:([^,]+),tag:([^,]+),type:[a-z]+\]/g;

/** Every (start, field, base64) of the ENC values in `text` (values and the MAC, not comments). */
function encFields(text: string): { start: number; b64: string; field: string; isMac: boolean }[] {
  const out: { start: number; b64: string; field: string; isMac: boolean }[] = [];
  for (const m of text.matchAll(ENC_RE)) {
    if (text[m.index - 1] === '#') continue; // comments are not authenticated by the MAC (as in SOPS)
    const isMac = text.slice(Math.max(0, m.index - 10), m.index).includes('mac:');
    let offset = m.index + 'ENC[AES256_GCM,data:'.length;
    for (const [i, field] of ['data', 'iv', 'tag'].entries()) {
      const b64 = m[i + 1]!;
      out.push({ start: offset, b64, field, isMac });
      offset += b64.length + `,${['iv', 'tag', 'type'][i]}:`.length;
    }
  }
  return out;
}

function flip(text: string, f: { start: number; b64: string }, byteIndex: number, mask: number): string {
  const bytes = Buffer.from(f.b64, 'base64');
  const i = byteIndex % bytes.length;
  bytes[i] = bytes[i]! ^ mask;
  return text.slice(0, f.start) + bytes.toString('base64') + text.slice(f.start + f.b64.length);
}

describe('tamper detection', async () => {
  const enc = (await encryptText(plaintext, 'x.yaml', testContext(), { groups: [{ age: [recipient], kms: [] }] })).text;
  const sources = await sourcesFromFiles(keyFile);
  const fields = encFields(enc);

  test('the untampered file decrypts', async () => {
    const r = await decryptText(enc, 'x.yaml', testContext(), { sources });
    assert.equal(r.text, plaintext);
    assert.ok(fields.some((f) => f.isMac) && fields.length >= 7 * 3);
  });

  test('300 random single-byte flips in data/iv/tag of values and the MAC all fail authentication', async () => {
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: fields.length - 1 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (fi, byteIndex, mask) => {
          const f = fields[fi]!;
          const tampered = flip(enc, f, byteIndex, mask);
          await assert.rejects(decryptText(tampered, 'x.yaml', testContext(), { sources }), (e: unknown) => {
            assert.ok(e instanceof SealantError, String(e));
            assert.equal(e.exitCode, 51, `${f.field}${f.isMac ? ' (mac)' : ''}: ${e.code}`);
            assert.ok(['DECRYPT_FAILED', 'MAC_MISMATCH'].includes(e.code), e.code);
            assert.ok(!e.message.includes(CANARY) && !(e.hint ?? '').includes(CANARY));
            return true;
          });
          checked += 1;
        },
      ),
      { numRuns: 300 },
    );
    assert.equal(checked, 300);
  });

  test('moving a value to another key fails (the AAD binds it to its path)', async () => {
    const swapped = enc
      .replace(/(password: )(ENC\[[^\]]+\])/, '$1PLACEHOLDER')
      .replace(/(note: )(ENC\[[^\]]+\])/, (_m, k) => `${k}${/password: (ENC\[[^\]]+\])/.exec(enc)![1]}`);
    await assert.rejects(
      decryptText(swapped, 'x.yaml', testContext(), { sources }),
      (e: SealantError) => e.exitCode === 51,
    );
  });

  test('removing a value changes the MAC: exit 51 through the CLI, one line, no value', async () => {
    const file = join(dir, 'removed.yaml');
    writeFileSync(file, enc.replace(/^ratio: .*\n/m, ''));
    const r = await runCli(['decrypt', file], { env: { SOPS_AGE_KEY_FILE: keyFile } });
    assert.equal(r.code, 51);
    assert.match(r.stderr, /MAC mismatch/);
    assert.ok(!r.stderr.includes(CANARY) && !r.stdout.includes(CANARY));
    const ignored = await runCli(['decrypt', '--ignore-mac', file], { env: { SOPS_AGE_KEY_FILE: keyFile } });
    assert.equal(ignored.code, 0);
    assert.match(ignored.stderr, /MAC NOT VERIFIED/);
  });

  test('a tampered value through the CLI exits 51 naming the key path, not the value', async () => {
    const f = fields.find((x) => !x.isMac && x.field === 'data')!;
    const file = join(dir, 'flipped.yaml');
    writeFileSync(file, flip(enc, f, 0, 1));
    const r = await runCli(['decrypt', '--json', file], { env: { SOPS_AGE_KEY_FILE: keyFile } });
    assert.equal(r.code, 51);
    const env = JSON.parse(r.stdout) as { status: string; code: string; path?: string; file?: string };
    assert.equal(env.status, 'error');
    assert.equal(env.code, 'DECRYPT_FAILED');
    assert.equal(env.path, 'db.password');
    assert.equal(env.file, file);
    assert.ok(!r.stdout.includes(CANARY));
  });
});
