/**
 * The pure format layer: value codec, times, Shamir, selectors (with SOPS's comment stack),
 * paths.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { bytesToScalar, decryptEnc, encryptBytes, goTimeText, parseEnc, scalarBytes } from '../src/format/codec.js';
import { visitDocuments } from '../src/format/cipher.js';
import { getAtPath, parseTreePath, setAtPath, unsetAtPath } from '../src/format/paths.js';
import { compileGoRegex, cryptRuleFrom, Selector } from '../src/format/selectors.js';
import { fromPlain, map, str, toPlain, type MapNode } from '../src/format/tree.js';
import { combine, split } from '../src/keys/shamir.js';

describe('value codec', () => {
  test('ENC strings round-trip and use a 32-byte IV and standard padded base64', () => {
    const key = randomBytes(32);
    const enc = encryptBytes(key, Buffer.from('hello'), 'a:b:', 'str');
    assert.match(
      enc,
      /^ENC\[AES256_GCM,data:[A-Za-z0-9+/]+=*,iv:[A-Za-z0-9+/]{43}=,tag:[A-Za-z0-9+/]{22}==,type:str\]$/,
    );
    assert.equal(parseEnc(enc).iv.length, 32);
    assert.equal(decryptEnc(key, enc, 'a:b:').bytes.toString(), 'hello');
  });

  test('the AAD binds a value to its path', () => {
    const key = randomBytes(32);
    const enc = encryptBytes(key, Buffer.from('x'), 'a:', 'str');
    assert.throws(
      () => decryptEnc(key, enc, 'b:'),
      (e: Error & { code?: string }) => e.code === 'DECRYPT_FAILED',
    );
  });

  test('unknown type and malformed strings are rejected without echoing them', () => {
    assert.throws(
      () => parseEnc('ENC[AES256_GCM,data:AAAA,iv:AAAA,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:weird]'),
      /unknown ENC value type "weird"/,
    );
    assert.throws(
      () => parseEnc('ENC[AES256_GCM,data:s3cr3t!,iv:AAAA,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]'),
      (e: Error) => !e.message.includes('s3cr3t') && /base64/.test(e.message),
    );
  });

  test('plaintext bytes per type follow SOPS (True/False, decimal ints, Go floats, RFC 3339 times)', () => {
    assert.equal(scalarBytes({ type: 'bool', value: true }).toString(), 'True');
    assert.equal(scalarBytes({ type: 'bool', value: false }).toString(), 'False');
    assert.equal(scalarBytes({ type: 'int', value: -12n }).toString(), '-12');
    assert.equal(scalarBytes({ type: 'float', value: 1e21 }).toString(), '1000000000000000000000');
    assert.equal(scalarBytes({ type: 'float', value: 1.5 }).toString(), '1.5');
    assert.equal(scalarBytes({ type: 'time', value: '2024-01-01' }).toString(), '2024-01-01T00:00:00Z');
    assert.deepEqual(bytesToScalar(Buffer.from('True'), 'bool'), { type: 'bool', value: true });
    assert.deepEqual(bytesToScalar(Buffer.from('t'), 'bool'), { type: 'bool', value: true });
    assert.deepEqual(bytesToScalar(Buffer.from('9223372036854775807'), 'int'), {
      type: 'int',
      value: 9223372036854775807n,
    });
    assert.throws(() => bytesToScalar(Buffer.from('abc'), 'int'));
  });

  test('go-yaml timestamps normalise as Go time.MarshalText does', () => {
    assert.equal(goTimeText('2006-1-2T15:4:5Z'), '2006-01-02T15:04:05Z');
    assert.equal(goTimeText('2006-01-02T15:04:05.500+07:00'), '2006-01-02T15:04:05.5+07:00');
    assert.equal(goTimeText('2006-01-02 15:04:05'), '2006-01-02T15:04:05Z');
    assert.equal(goTimeText('2006-01-02T15:04:05+00:00'), '2006-01-02T15:04:05Z');
    assert.equal(goTimeText('2006-02-30'), undefined);
    assert.equal(goTimeText('not a time'), undefined);
  });

  test('fast-check: every typed scalar survives bytes -> scalar', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'grapheme' }).map((s) => ({ type: 'str' as const, value: s })),
          fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((v) => ({ type: 'int' as const, value: v })),
          fc.double({ noNaN: true }).map((v) => ({ type: 'float' as const, value: Object.is(v, -0) ? 0 : v })),
          fc.boolean().map((v) => ({ type: 'bool' as const, value: v })),
        ),
        (v) => {
          assert.deepEqual(bytesToScalar(scalarBytes(v), v.type), v);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('Shamir', () => {
  test('any threshold of the shares recovers the key; fewer do not', () => {
    const secret = randomBytes(32);
    const shares = split(secret, 3, 2);
    assert.ok(shares.every((s) => s.length === 33));
    assert.deepEqual(Buffer.from(combine([shares[0]!, shares[1]!])), secret);
    assert.deepEqual(Buffer.from(combine([shares[2]!, shares[0]!])), secret);
    const shares3 = split(secret, 3, 3);
    assert.notDeepEqual(Buffer.from(combine([shares3[0]!, shares3[1]!])), secret);
    assert.deepEqual(Buffer.from(combine(shares3)), secret);
  });
});

describe('selectors', () => {
  test('suffix and regex rules look at every key on the path', () => {
    const s = new Selector({ field: 'unencrypted_suffix', value: '_unencrypted' });
    assert.equal(s.shouldEncrypt(['a', 'b'], [[]], false), true);
    assert.equal(s.shouldEncrypt(['a_unencrypted', 'b'], [[]], false), false);
    const r = new Selector({ field: 'encrypted_regex', value: '^(data|stringData)$' });
    assert.equal(r.shouldEncrypt(['stringData', 'key'], [[]], false), true);
    assert.equal(r.shouldEncrypt(['metadata', 'name'], [[]], false), false);
    assert.equal(r.shouldEncrypt([], [[]], true), false, 'top-level comments stay clear with encrypted_regex');
  });

  test('encrypted_comment_regex: the marker comment stays clear, the value after it is encrypted', () => {
    const s = new Selector({ field: 'encrypted_comment_regex', value: 'sops:enc' });
    const doc: MapNode = {
      kind: 'map',
      items: [
        { kind: 'comment', text: ' sops:enc' },
        { kind: 'entry', key: 'secret', value: str('x') },
        { kind: 'entry', key: 'plain', value: str('y') },
      ],
    };
    const decisions = [...visitDocuments([doc])].map((v) =>
      s.shouldEncrypt(v.keys, v.stack, v.node.kind === 'comment'),
    );
    assert.deepEqual(decisions, [false, true, false]);
  });

  test('only one rule may be set; (?i) works', () => {
    assert.throws(() => cryptRuleFrom({ encrypted_regex: 'a', unencrypted_suffix: '_u' }), /only one of/);
    assert.equal(compileGoRegex('(?i)^PASS').test('password'), true);
  });
});

describe('paths', () => {
  test('SOPS bracket form and dotted form', () => {
    assert.deepEqual(parseTreePath('["a"]["b"][0]'), ['a', 'b', 0]);
    assert.deepEqual(parseTreePath('a.b[0].c'), ['a', 'b', 0, 'c']);
    assert.deepEqual(parseTreePath('["with.dot"]'), ['with.dot']);
    assert.throws(
      () => parseTreePath('["a"'),
      (e: Error & { exitCode?: number }) => e.exitCode === 91,
    );
  });

  test('set creates maps, replaces scalars in place, unset removes', () => {
    const doc = fromPlain({ a: { b: 1 }, list: ['x'] }) as MapNode;
    const before = getAtPath([doc], ['a', 'b']);
    setAtPath(doc, ['a', 'b'], str('two'));
    assert.equal(getAtPath([doc], ['a', 'b']), before, 'same node object');
    setAtPath(doc, ['new', 'deep'], str('v'));
    setAtPath(doc, ['list', 1], str('y'));
    assert.deepEqual(toPlain(doc), { a: { b: 'two' }, list: ['x', 'y'], new: { deep: 'v' } });
    assert.equal(unsetAtPath(doc, ['a', 'b']), true);
    assert.equal(unsetAtPath(doc, ['missing']), false);
    assert.deepEqual(toPlain(doc), { a: {}, list: ['x', 'y'], new: { deep: 'v' } });
    assert.deepEqual(toPlain(map([['k', str('v')]])), { k: 'v' });
  });
});
