/**
 * Byte-faithful corners (issue 10, item 7): each case is encrypted and decrypted through the
 * library with a real age key and must come back byte for byte, and the encrypted file must be
 * decrypted by the real getsops/sops library (../shared/tools/real-sops) to the same values.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { formatGoFloatG } from '../src/format/gofloat.js';
import { decryptText } from '../src/ops/decrypt.js';
import { encryptText } from '../src/ops/encrypt.js';
import { newAgeKey, sourcesFromFiles, testContext } from './helpers/keys.js';

const tmp = mkdtempSync(join(tmpdir(), 'sealant-faithful-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const key = newAgeKey(tmp, 'key');

interface RealSopsResult {
  ok: boolean;
  value?: unknown;
  sopsError?: string | null;
  reason?: string;
}
interface RealSops {
  ensureBootstrap(): string;
  realSopsDecrypt(content: string | Buffer, format: string, opts?: { env?: Record<string, string> }): Promise<RealSopsResult>;
}

const harness = join(import.meta.dirname, '..', '..', 'shared', 'tools', 'real-sops', 'real-sops.mjs');
const realSops = (await import(pathToFileURL(harness).href)) as RealSops;
let unavailable: string | undefined;
try {
  realSops.ensureBootstrap();
} catch (err) {
  unavailable = (err as Error).message;
}
/** Skips (with one line saying why) only when the harness cannot get its sops binary. */
const withRealSops = unavailable === undefined ? {} : { skip: `real sops binary unavailable: ${unavailable}` };

async function encrypt(plaintext: string, file: string): Promise<string> {
  return (await encryptText(plaintext, file, testContext(), { groups: [{ age: [key.recipient], kms: [] }] })).text;
}

async function decrypt(text: string, file: string, outputType?: 'ini'): Promise<string> {
  return (await decryptText(text, file, testContext(), { sources: await sourcesFromFiles(key.file), ...(outputType === undefined ? {} : { outputType }) })).text;
}

/** What real sops decrypts `text` to (flattened `a.b[0]` keys); fails the test if it refuses. */
async function realSopsValues(text: string, format: 'yaml' | 'json'): Promise<unknown> {
  const r = await realSops.realSopsDecrypt(text, format, { env: { SOPS_AGE_KEY_FILE: key.file } });
  assert.ok(r.ok, `real sops refused the file: ${r.sopsError ?? r.reason ?? ''}`);
  return r.value;
}

describe("formatGoFloatG (strconv.FormatFloat(v, 'G', -1, 64))", () => {
  const cases: [number, string][] = [
    [1e6, '1E+06'],
    [100000, '100000'],
    [123456.789, '123456.789'],
    [0.0001, '0.0001'],
    [0.00001, '1E-05'],
    [1.5e300, '1.5E+300'],
    [5e-324, '5E-324'],
    [-1e21, '-1E+21'],
    [-0, '-0'],
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
  ];
  for (const [n, want] of cases) test(`${String(n)} → ${want}`, () => assert.equal(formatGoFloatG(n), want));

  test('round-trips every finite double', () => {
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => assert.ok(Object.is(Number(formatGoFloatG(n)), n))));
  });
});

describe('INI output of floats (decrypt --output-type ini)', () => {
  const yaml = ['n:', '  a: 1.23', '  b: 1.2345678', '  c: 1e20', '  d: 3.0', '  e: 0.0001', '  f: 1e-7', '  g: 1234567.5', '  h: -0.5', ''].join('\n');

  test("floats are written as sops 3.13's stores.ValToString writes them (shortest 'G' form, .0 for whole numbers)", async () => {
    const ini = await decrypt(await encrypt(yaml, 'f.yaml'), 'f.yaml', 'ini');
    const values = Object.fromEntries([...ini.matchAll(/^(\w+)\s*=\s*(.*)$/gm)].map((m) => [m[1], m[2]]));
    assert.deepEqual(values, { a: '1.23', b: '1.2345678', c: '1E+20', d: '3.0', e: '0.0001', f: '1E-07', g: '1.2345675E+06', h: '-0.5' });
  });

  test('real sops reads the same floats from the encrypted YAML', withRealSops, async () => {
    const values = await realSopsValues(await encrypt(yaml, 'f.yaml'), 'yaml');
    assert.deepEqual(values, { 'n.a': 1.23, 'n.b': 1.2345678, 'n.c': 1e20, 'n.d': 3, 'n.e': 0.0001, 'n.f': 1e-7, 'n.g': 1234567.5, 'n.h': -0.5 });
  });
});
