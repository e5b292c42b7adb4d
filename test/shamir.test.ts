/**
 * Shamir over GF(2^8): the branch-free product and quotient agree with an independent textbook
 * implementation on all 65,536 operand pairs and with sops's own field vectors; shares laid out
 * as sops lays them (y bytes, then x) combine whatever their x coordinates; and a key-group file
 * written here decrypts with the real sops library when its harness binary can be had.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { NoKeyError } from '../src/errors.js';
import { combine, div, mul, split } from '../src/keys/shamir.js';
import { decryptText } from '../src/ops/decrypt.js';
import { encryptText } from '../src/ops/encrypt.js';
import { newAgeKey, sourcesFromFiles, testContext } from './helpers/keys.js';
import { REAL_SOPS_SKIP, realSops } from './helpers/real-sops.js';

/** Carry-less multiplication then reduction by x^8+x^4+x^3+x+1, bit by bit (branches and all). */
function textbookMul(a: number, b: number): number {
  let product = 0;
  for (let i = 0; i < 8; i++) if ((b >> i) & 1) product ^= a << i;
  for (let bit = 14; bit >= 8; bit--) if ((product >> bit) & 1) product ^= 0x11b << (bit - 8);
  return product;
}

describe('GF(2^8) arithmetic', () => {
  test('mul equals the textbook product for every pair', () => {
    for (let a = 0; a < 256; a++) for (let b = 0; b < 256; b++) assert.equal(mul(a, b), textbookMul(a, b), `${a}·${b}`);
  });

  test('div is the inverse of mul for every pair with a non-zero divisor', () => {
    for (let a = 0; a < 256; a++) {
      for (let b = 1; b < 256; b++) {
        const q = div(a, b);
        assert.equal(textbookMul(q, b), a, `${a}/${b}`);
      }
    }
    assert.throws(() => div(1, 0), RangeError);
  });

  test("sops's field vectors and FIPS 197's 0x57·0x83", () => {
    assert.equal(mul(3, 7), 9);
    assert.equal(mul(3, 0), 0);
    assert.equal(mul(0, 3), 0);
    assert.equal(div(0, 7), 0);
    assert.equal(div(3, 3), 1);
    assert.equal(div(6, 3), 2);
    assert.equal(mul(0x57, 0x83), 0xc1);
  });
});

describe('constant time', () => {
  const source = readFileSync(new URL('../src/keys/shamir.ts', import.meta.url), 'utf8');
  /** The body of the module's function `name`, comments removed. */
  function body(name: string): string {
    const m = new RegExp(`\\n(?:export )?function ${name}\\([^)]*\\)[^{]*\\{\\n([\\s\\S]*?)\\n\\}\\n`).exec(source);
    assert.ok(m !== null, `src/keys/shamir.ts has no function ${name}`);
    return m[1]!.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  }
  // A branch (if, ?:, && / || / ??, switch, while) or an indexed lookup ([...]) on a key byte or
  // a share would make the time depend on it; sops made this arithmetic branch-free for that.
  const SECRET_DEPENDENT = /\bif\b|\?|&&|\|\||\bswitch\b|\bwhile\b|\[/;

  test('mul and the inverse have no branch or table lookup on their operands', () => {
    for (const name of ['mul', 'inverse']) assert.doesNotMatch(body(name), SECRET_DEPENDENT, name);
  });

  test('div branches only on a zero divisor (a difference of public x coordinates)', () => {
    const lines = body('div').split('\n');
    const guard = lines.filter((l) => /\bif\b/.test(l));
    assert.deepEqual(
      guard.map((l) => l.trim()),
      ["if (b === 0) throw new RangeError('division by zero in GF(2^8)');"],
    );
    assert.doesNotMatch(lines.filter((l) => !guard.includes(l)).join('\n'), SECRET_DEPENDENT);
  });
});

describe('share layout', () => {
  /** Shares made with the textbook field and arbitrary x coordinates, as newer sops picks them. */
  function textbookSplit(secret: Uint8Array, xs: readonly number[], threshold: number): Uint8Array[] {
    const shares = xs.map((x) => {
      const s = new Uint8Array(secret.length + 1);
      s[secret.length] = x;
      return s;
    });
    for (let i = 0; i < secret.length; i++) {
      const coeffs = [secret[i]!, ...randomBytes(threshold - 1)];
      xs.forEach((x, n) => {
        let y = 0;
        for (let c = coeffs.length - 1; c >= 0; c--) y = textbookMul(y, x) ^ coeffs[c]!;
        shares[n]![i] = y;
      });
    }
    return shares;
  }

  test("combine reads each share's own x coordinate (y bytes first, x last)", () => {
    const secret = randomBytes(32);
    const shares = textbookSplit(secret, [200, 7, 91], 2);
    assert.deepEqual(Buffer.from(combine([shares[0]!, shares[2]!])), secret);
    assert.deepEqual(Buffer.from(combine([shares[1]!, shares[0]!])), secret);
  });

  test('split gives 33-byte shares with x = 1, 2, 3 that the textbook interpolation recombines', () => {
    const secret = randomBytes(32);
    const shares = split(secret, 3, 3);
    assert.deepEqual(
      shares.map((s) => [s.length, s[32]]),
      [
        [33, 1],
        [33, 2],
        [33, 3],
      ],
    );
    assert.deepEqual(Buffer.from(combine(shares)), secret);
  });
});

describe('key groups against the real sops library', () => {
  test(
    'a 2-of-3 key-group file written here decrypts with real sops from two of its groups',
    { skip: REAL_SOPS_SKIP },
    async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'sealant-shamir-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const keys = ['a', 'b', 'c'].map((n) => newAgeKey(dir, n));
      const { text } = await encryptText('db:\n    password: hunter2\nport: 5432\n', 'groups.yaml', testContext(), {
        groups: keys.map((k) => ({ age: [k.recipient], kms: [] })),
        shamirThreshold: 2,
      });
      const keyFile = join(dir, 'two.txt');
      writeFileSync(keyFile, [keys[0]!, keys[2]!].map((k) => readFileSync(k.file, 'utf8')).join(''));
      const r = await realSops(text, 'yaml', { SOPS_AGE_KEY_FILE: keyFile });
      assert.equal(r.ok, true, r.sopsError ?? r.reason);
      assert.deepEqual(r.value, { db: { password: 'hunter2' }, port: 5432 });
    },
  );
});

describe('key-group files whose shares do not combine', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealant-shamir-groups-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const [a, b] = [newAgeKey(dir, 'a'), newAgeKey(dir, 'b')];
  const GROUP = '        - age:\n';
  const ARMOR = /-----BEGIN AGE ENCRYPTED FILE-----[\s\S]*?-----END AGE ENCRYPTED FILE-----/;

  async function twoGroups(): Promise<string[]> {
    const { text } = await encryptText('a: 1\n', 'g.yaml', testContext(), {
      groups: [a, b].map((k) => ({ age: [k.recipient], kms: [] })),
      shamirThreshold: 2,
    });
    // [before the groups, group 0, group 1 + the rest of the sops block]
    const parts = text.split(GROUP);
    assert.equal(parts.length, 3);
    return parts;
  }
  const rest = (group1: string) => group1.slice(group1.indexOf('    lastmodified:'));

  /** Decrypting with key a only must be refused as a NoKeyError naming why. */
  async function refused(text: string, why: RegExp): Promise<void> {
    await assert.rejects(
      decryptText(text, 'g.yaml', testContext(), { sources: await sourcesFromFiles(a.file) }),
      (e: unknown) => e instanceof NoKeyError && why.test(e.message),
    );
  }

  test("a group's stanza replaced by another group's (the same x twice): a NoKeyError, not an internal error", async () => {
    const [head, g0, g1] = await twoGroups();
    const swapped = head! + GROUP + g0! + GROUP + g0! + rest(g1!);
    await refused(swapped, /the key groups' shares do not combine \(duplicate share\)/);
  });

  test("a group's share replaced by a whole data key (shares of different lengths): a NoKeyError", async () => {
    const [head, g0, g1] = await twoGroups();
    const single = (await encryptText('a: 1\n', 'g.yaml', testContext(), { groups: [{ age: [a.recipient], kms: [] }] }))
      .text;
    const indent = /\n( *)-----BEGIN AGE/.exec(g0!)![1]!;
    const dataKeyArmor = ARMOR.exec(single)![0]
      .split('\n')
      .map((l, i) => (i === 0 ? l : indent + l.trim()))
      .join('\n');
    const edited = head! + GROUP + g0! + GROUP + g0!.replace(ARMOR, dataKeyArmor) + rest(g1!);
    await refused(edited, /the key groups' shares do not combine \(shares differ in length\)/);
  });
});
