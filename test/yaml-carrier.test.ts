/**
 * The way an encrypted YAML value's `ENC[…]` string is written (its carrier) remembers how the
 * author wrote the plaintext scalar, and nothing else: two values written the same way give
 * files that differ only in their ciphertexts, so the encrypted file tells no more about a
 * secret than sops's own output does. Decryption reads the carrier back to the author's style.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { decryptText } from '../src/ops/decrypt.js';
import { encryptText } from '../src/ops/encrypt.js';
import { rotateFile } from '../src/ops/rotate.js';
import { newAgeKey, sourcesFromFiles, testContext } from './helpers/keys.js';

const root = mkdtempSync(join(tmpdir(), 'sealant-carrier-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
const key = newAgeKey(root, 'key');

async function encrypt(text: string): Promise<string> {
  return (await encryptText(text, 'f.yaml', testContext(), { groups: [{ age: [key.recipient], kms: [] }] })).text;
}

async function decrypt(text: string): Promise<string> {
  return (await decryptText(text, 'f.yaml', testContext(), { identityFiles: [key.file] })).text;
}

/** The data part of an encrypted file with every ciphertext (up to, not including, the closing bracket) masked. */
function masked(enc: string): string {
  const data = enc.slice(0, enc.search(/^sops:/m));
  return data.replace(
    /ENC\[AES256_GCM,data:[A-Za-z0-9+/=]*,iv:[A-Za-z0-9+/=]+,tag:[A-Za-z0-9+/=]+,type:[a-z]+/g,
    'ENC[…',
  );
}

describe('YAML carriers depend on the author style only, never on the value', () => {
  // Each pair: the same style, values a reader of the old carriers could tell apart.
  const pairs: [string, string, string][] = [
    ['block plain: a yes/no-like word and another', 'a: y\n', 'a: x\n'],
    ['block plain: yes and hello', 'a: yes\n', 'a: hello\n'],
    ['block plain: on, 1:20 and a word', 'a: on\nb: 1:20\n', 'a: hi\nb: word\n'],
    ['block double-quoted: y and x', 'a: "y"\n', 'a: "x"\n'],
    ['block single-quoted: y and x', "a: 'y'\n", "a: 'x'\n"],
    ['flow plain: [y] and [x]', 'a: [y]\n', 'a: [x]\n'],
    ['flow plain: a:b (not plain everywhere in flow) and x', 'a: [a:b, {k: no}]\n', 'a: [xyz, {k: ab}]\n'],
    ['flow double-quoted: "y" and "x"', 'a: ["y", {k: "no"}]\n', 'a: ["x", {k: "ab"}]\n'],
    ['flow single-quoted', "a: ['y']\n", "a: ['x']\n"],
    ['literal keep: one and two final line breaks', 'a: |+\n    x\nb: 1\n', 'a: |+\n    x\n\nb: 1\n'],
    ['folded keep: one and two final line breaks', 'a: >+\n  x\nb: 1\n', 'a: >+\n  x\n\nb: 1\n'],
    ['literal keep at the end of a file: no and one line break', 'a: |+\n  x', 'a: |+\n  x\n'],
  ];
  for (const [name, one, other] of pairs) {
    test(name, async () => {
      assert.equal(masked(await encrypt(one)), masked(await encrypt(other)));
    });
  }
});

describe('YAML carriers: the forms written, and what decryption gives back', () => {
  // [plaintext, its data part encrypted (ciphertexts masked), decrypted (when not the plaintext)]
  const cases: [string, string, string?][] = [
    ['a: x\nb: "x"\nc: \'x\'\n', 'a: ENC[…]\nb: "ENC[…]"\nc: \'ENC[…]\'\n'],
    // The documented limit: plain text that only go-yaml reads as a string comes back quoted.
    [
      'a: yes\nb: y\nc: "yes"\nd: 1:20\n',
      'a: ENC[…]\nb: ENC[…]\nc: "ENC[…]"\nd: ENC[…]\n',
      'a: "yes"\nb: "y"\nc: "yes"\nd: "1:20"\n',
    ],
    [
      'a: [x, y, a:b, "x", "y", \'y\']\n',
      'a: ["ENC[…]", "ENC[…]", "ENC[…]", "ENC[…\\x5D", "ENC[…\\x5D", \'ENC[…]\']\n',
      'a: [x, "y", "a:b", "x", "y", \'y\']\n',
    ],
    ['a: {k: v, l: "v"}\n', 'a: {k: "ENC[…]", l: "ENC[…\\x5D"}\n'],
    [
      'a: |\n  x\nb: |-\n    x\nc: |+\n  x\n\nd: 1\n',
      'a: |-\n  ENC[…]\nb: |4-\n    ENC[…]\nc: |-2\n  ENC[…]\nd: ENC[…]\n',
    ],
    [
      'a: >\n  x y\nb: >-\n  x y\nc: >+\n  x y\nd: 1\n',
      'a: >-\n  ENC[…]\nb: >2-\n  ENC[…]\nc: >-2\n  ENC[…]\nd: ENC[…]\n',
    ],
    [
      'l:\n  - |-\n    x\n  - k: |+\n      x\n  - 1\n',
      'l:\n  - |2-\n    ENC[…]\n  - k: |-2\n      ENC[…]\n  - ENC[…]\n',
    ],
    // At the end of a file without a final line break: the three chompings read alike.
    ['a: |-\n  x', 'a: |2-\n  ENC[…]\n'],
    ['a: |\n  x', 'a: |-\n  ENC[…]\n'],
    ['a: |+\n  x', 'a: |-2\n  ENC[…]\n'],
    // Content more than 9 columns right of its parent: no indicator can say the chomping.
    ['a: |+\n            x\nb: 1\n', 'a: |-\n            ENC[…]\nb: ENC[…]\n', 'a: |\n            x\nb: 1\n'],
  ];
  for (const [plain, carriers, back] of cases) {
    test(JSON.stringify(plain), async () => {
      const enc = await encrypt(plain);
      assert.equal(masked(enc), carriers);
      assert.equal(await decrypt(enc), back ?? plain);
    });
  }

  test('an older file\'s block-context "ENC[…\\x5D" (plain y-like text) decrypts plain where it can; rotate writes it plain', async () => {
    const old = (await encrypt('a: "y"\nb: "x"\n')).replaceAll('=,type:str]"', '=,type:str\\x5D"');
    assert.equal(masked(old), 'a: "ENC[…\\x5D"\nb: "ENC[…\\x5D"\n');
    assert.equal(await decrypt(old), 'a: "y"\nb: x\n');
    const file = join(root, 'old.yaml');
    writeFileSync(file, old);
    await rotateFile({ file, environment: undefined }, testContext(), { sources: await sourcesFromFiles(key.file) });
    const rotated = readFileSync(file, 'utf8');
    assert.equal(masked(rotated), 'a: ENC[…]\nb: ENC[…]\n');
    assert.equal(await decrypt(rotated), 'a: "y"\nb: x\n');
  });

  test('re-encryption keeps every other carrier as written', async () => {
    const plain = 'a: [x, "y"]\nb: "x"\nc: |+\n  x\nd: |-\n  x\n';
    const file = join(root, 'keep.yaml');
    writeFileSync(file, await encrypt(plain));
    const before = masked(readFileSync(file, 'utf8'));
    await rotateFile({ file, environment: undefined }, testContext(), { sources: await sourcesFromFiles(key.file) });
    const rotated = readFileSync(file, 'utf8');
    assert.equal(masked(rotated), before);
    assert.equal(await decrypt(rotated), plain);
  });
});
