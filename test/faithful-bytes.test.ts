/**
 * Byte-faithful corners (issue 10, item 7): each case is encrypted and decrypted through the
 * library with a real age key and must come back byte for byte, and the encrypted file must be
 * decrypted by the real getsops/sops library (../shared/tools/real-sops) to the same values.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { formatGoFloatG } from '../src/format/gofloat.js';
import { str } from '../src/format/tree.js';
import { rotateFile } from '../src/ops/rotate.js';
import { setValue } from '../src/ops/set.js';
import { decryptText } from '../src/ops/decrypt.js';
import { encryptText } from '../src/ops/encrypt.js';
import { newAgeKey, sourcesFromFiles, testContext } from './helpers/keys.js';
import { REAL_SOPS_SKIP, realSops } from './helpers/real-sops.js';

const tmp = mkdtempSync(join(tmpdir(), 'sealant-faithful-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const key = newAgeKey(tmp, 'key');

async function encrypt(plaintext: string, file: string): Promise<string> {
  return (await encryptText(plaintext, file, testContext(), { groups: [{ age: [key.recipient], kms: [] }] })).text;
}

async function decrypt(text: string, file: string, outputType?: 'ini' | 'dotenv'): Promise<string> {
  return (
    await decryptText(text, file, testContext(), {
      sources: await sourcesFromFiles(key.file),
      ...(outputType === undefined ? {} : { outputType }),
    })
  ).text;
}

/** What real sops decrypts `text` to (flattened `a.b[0]` keys); fails the test if it refuses. */
async function realSopsValues(text: string, format: 'yaml' | 'json'): Promise<unknown> {
  const r = await realSops(text, format, { SOPS_AGE_KEY_FILE: key.file }, { flatten: true });
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
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) =>
        assert.ok(Object.is(Number(formatGoFloatG(n)), n)),
      ),
    );
  });
});

describe('INI output of floats (decrypt --output-type ini)', () => {
  const yaml = [
    'n:',
    '  a: 1.23',
    '  b: 1.2345678',
    '  c: 1e20',
    '  d: 3.0',
    '  e: 0.0001',
    '  f: 1e-7',
    '  g: 1234567.5',
    '  h: -0.5',
    '',
  ].join('\n');

  test("floats are written as sops 3.13's stores.ValToString writes them (shortest 'G' form, .0 for whole numbers)", async () => {
    const ini = await decrypt(await encrypt(yaml, 'f.yaml'), 'f.yaml', 'ini');
    const values = Object.fromEntries([...ini.matchAll(/^(\w+)\s*=\s*(.*)$/gm)].map((m) => [m[1], m[2]]));
    assert.deepEqual(values, {
      a: '1.23',
      b: '1.2345678',
      c: '1E+20',
      d: '3.0',
      e: '0.0001',
      f: '1E-07',
      g: '1.2345675E+06',
      h: '-0.5',
    });
  });

  test('real sops reads the same floats from the encrypted YAML', { skip: REAL_SOPS_SKIP }, async () => {
    const values = await realSopsValues(await encrypt(yaml, 'f.yaml'), 'yaml');
    assert.deepEqual(values, {
      'n.a': 1.23,
      'n.b': 1.2345678,
      'n.c': 1e20,
      'n.d': 3,
      'n.e': 0.0001,
      'n.f': 1e-7,
      'n.g': 1234567.5,
      'n.h': -0.5,
    });
  });
});

describe('dotenv output of floats (decrypt --output-type dotenv)', () => {
  // sops's dotenv store writes non-string values with the same stores.ValToString as INI.
  const json =
    '{"a": 1.23, "b": 1.2345678, "c": 1e20, "d": 3.0, "e": 0.0001, "f": 1e-7, "g": 1234567.5, "h": -0.5, "i": 7, "j": true}';

  test("floats are written as sops 3.11+'s dotenv store writes them; ints and booleans as before", async () => {
    const env = await decrypt(await encrypt(json, 'f.json'), 'f.json', 'dotenv');
    assert.equal(env, 'a=1.23\nb=1.2345678\nc=1E+20\nd=3.0\ne=0.0001\nf=1E-07\ng=1.2345675E+06\nh=-0.5\ni=7\nj=true\n');
  });
});

/** Encrypts `plaintext`, checks that decryption gives back its bytes (or `back`), and returns the encrypted text. */
async function roundTrip(plaintext: string, file = 'f.yaml', back = plaintext): Promise<string> {
  const enc = await encrypt(plaintext, file);
  assert.equal(await decrypt(enc, file), back);
  return enc;
}

describe('a block scalar that ends a file without a final line break', () => {
  // go-yaml reads all four without a final line break (`multi\nline`, `multi line`): no line
  // break follows the last line, so none is added; the encrypted form keeps the header.
  const cases: [string, string, string][] = [
    ['|', 'k: |\n  multi\n  line', 'multi\nline'],
    ['|-', 'k: |-\n  multi\n  line', 'multi\nline'],
    ['|+', 'k: |+\n  multi\n  line', 'multi\nline'],
    ['>', 'k: >\n  multi line', 'multi line'],
    ['nested |', 'a:\n    b: 1\n    k: |\n        multi\n        line', 'multi\nline'],
    ['| in a list', 'l:\n  - x\n  - |\n    multi\n    line', 'multi\nline'],
  ];
  for (const [name, plaintext] of cases) {
    test(`${name}: decrypt gives back the exact bytes`, async () => {
      await roundTrip(plaintext);
    });
  }
  for (const [name, plaintext, value] of cases) {
    test(`${name}: real sops decrypts the value without an added line break`, { skip: REAL_SOPS_SKIP }, async () => {
      const values = (await realSopsValues(await encrypt(plaintext, 'f.yaml'), 'yaml')) as Record<string, unknown>;
      assert.equal(values['k'] ?? values['a.k'] ?? values['l[1]'], value);
    });
  }

  test('a folded block wrapped over lines keeps its style and value; the wrap itself is not kept', async () => {
    const enc = await encrypt('k: >\n  multi\n  line', 'f.yaml');
    assert.equal(await decrypt(enc, 'f.yaml'), 'k: >\n  multi line');
  });

  test('a plain value and an unencrypted block at the end keep the missing final line break', async () => {
    await roundTrip('a: x');
    await roundTrip('a: x\nk: |\n  y');
  });

  test(
    'an unencrypted block at the end is read as sops reads it, so real sops accepts the MAC',
    { skip: REAL_SOPS_SKIP },
    async () => {
      const values = await realSopsValues(await encrypt('a: x\nk_unencrypted: |\n  multi\n  line', 'f.yaml'), 'yaml');
      assert.deepEqual(values, { a: 'x', k_unencrypted: 'multi\nline' });
    },
  );
});

describe('a file whose only nested content is block scalars', () => {
  const plaintext = 'cert: |\n  -----BEGIN-----\n  abc\n  -----END-----\nnote: >\n  folded text\nkey: |-\n  k1\n  k2\n';

  test('decrypt gives back the exact bytes (content at its own column)', async () => {
    await roundTrip(plaintext);
  });

  test("the file's indent comes from the block scalars, not the default", async () => {
    const enc = await encrypt(plaintext, 'f.yaml');
    assert.match(enc, /\nsops:\n {2}age:\n {4}- enc: \|\n/);
  });

  test('real sops decrypts it to the same values', { skip: REAL_SOPS_SKIP }, async () => {
    const values = await realSopsValues(await encrypt(plaintext, 'f.yaml'), 'yaml');
    assert.deepEqual(values, { cert: '-----BEGIN-----\nabc\n-----END-----\n', note: 'folded text\n', key: 'k1\nk2' });
  });
});

describe('plain scalars inside flow collections', () => {
  const plaintext = [
    'zones: [a, b]',
    'm: {x: y}',
    'mixed: [plain, \'single\', "double", yes, "no", 1:20, "a b"]',
    'nested: {l: [on, off], "k": v}',
    '',
  ].join('\n');

  test('decrypt gives back the exact bytes, but plain text only go-yaml reads as a string comes back quoted', async () => {
    // The carrier says how a value was written, never what it is: plain `yes` and plain `a`
    // are encrypted alike, and decrypt as any string is written (as sops writes them).
    const back = [
      'zones: [a, b]',
      'm: {x: "y"}',
      'mixed: [plain, \'single\', "double", "yes", "no", "1:20", "a b"]',
      'nested: {l: ["on", "off"], "k": v}',
      '',
    ].join('\n');
    await roundTrip(plaintext, 'f.yaml', back);
  });

  test('real sops decrypts every value', { skip: REAL_SOPS_SKIP }, async () => {
    const values = await realSopsValues(await encrypt(plaintext, 'f.yaml'), 'yaml');
    assert.deepEqual(values, {
      'zones[0]': 'a',
      'zones[1]': 'b',
      'm.x': 'y',
      'mixed[0]': 'plain',
      'mixed[1]': 'single',
      'mixed[2]': 'double',
      'mixed[3]': 'yes',
      'mixed[4]': 'no',
      'mixed[5]': '1:20',
      'mixed[6]': 'a b',
      'nested.l[0]': 'on',
      'nested.l[1]': 'off',
      'nested.k': 'v',
    });
  });

  test('plain `y`-like values in block context come back double-quoted, as sops writes them', async () => {
    await roundTrip('a: y\nb: yes\nc: "yes"\nd: on\ne: x\n', 'f.yaml', 'a: "y"\nb: "yes"\nc: "yes"\nd: "on"\ne: x\n');
  });
});

describe('styles survive set and rotate', () => {
  const plaintext = 'zones: [a, "b", y]\ncert: |+\n  x\nk: |-\n  multi\n  line';

  test('after set of another value and a rotation the file still decrypts to its own bytes', async () => {
    const file = join(tmp, 'styles.yaml');
    writeFileSync(file, await encrypt(plaintext, file));
    const sources = await sourcesFromFiles(key.file);
    await setValue(file, 'other', str('v'), testContext(), { sources });
    await rotateFile({ file, environment: undefined }, testContext(), { sources });
    const out = await decrypt(readFileSync(file, 'utf8'), file);
    assert.equal(out, 'zones: [a, "b", "y"]\ncert: |+\n  x\nk: |-\n  multi\n  line\nother: v');
  });
});
