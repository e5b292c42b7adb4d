/**
 * go-yaml v3 scalar resolution (`resolve.go`) and the emitter's quoting rules.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ScalarValue } from '../src/format/tree.js';
import {
  canBePlain,
  doubleQuote,
  emitScalar,
  formatYamlFloat,
  isGoTimestamp,
  plainWouldChangeType,
  resolvePlain,
  resolveTagged,
  singleQuote,
  TagMismatchError,
} from '../src/stores/yaml-resolve.js';

const S = (value: string): ScalarValue => ({ type: 'str', value });
const I = (value: bigint): ScalarValue => ({ type: 'int', value });
const F = (value: number): ScalarValue => ({ type: 'float', value });
const B = (value: boolean): ScalarValue => ({ type: 'bool', value });
const T = (value: string): ScalarValue => ({ type: 'time', value });
const N: ScalarValue = { type: 'null' };

// [plain text, what go-yaml v3 decodes it to]
const PLAIN: [string, ScalarValue][] = [
  ['true', B(true)],
  ['True', B(true)],
  ['TRUE', B(true)],
  ['false', B(false)],
  ['False', B(false)],
  ['FALSE', B(false)],
  ['tRUE', S('tRUE')],
  ['yes', S('yes')],
  ['no', S('no')],
  ['on', S('on')],
  ['off', S('off')],
  ['y', S('y')],
  ['~', N],
  ['null', N],
  ['Null', N],
  ['NULL', N],
  ['', N],
  ['nULL', S('nULL')],
  ['0', I(0n)],
  ['12', I(12n)],
  ['-12', I(-12n)],
  ['+12', I(12n)],
  ['1_000', I(1000n)],
  ['0x1F', I(31n)],
  ['0X1f', I(31n)],
  ['-0x1F', I(-31n)],
  ['0o17', I(15n)],
  ['0b101', I(5n)],
  ['-0b101', I(-5n)],
  ['0b-101', I(-5n)], // go-yaml's second chance with the prefix stripped
  ['0o-17', I(-15n)],
  ['0755', I(493n)], // YAML 1.1 octal, still decoded by go-yaml v3
  ['08', F(8)], // not octal, but yamlStyleFloat matches
  ['9223372036854775807', I(9223372036854775807n)],
  ['-9223372036854775808', I(-9223372036854775808n)],
  ['9223372036854775808', F(9223372036854775808)], // uint64 in go-yaml; SOPS cannot encrypt that
  ['-9223372036854775809', F(-9223372036854775809)],
  ['1.5', F(1.5)],
  ['1.', F(1)],
  ['.5', F(0.5)],
  ['-.5', F(-0.5)],
  ['1e3', F(1000)],
  ['1.5E-3', F(0.0015)],
  ['1_000.5', F(1000.5)],
  ['.5_0', S('.5_0')],
  ['1e400', S('1e400')], // ParseFloat range error
  ['.inf', F(Infinity)],
  ['.Inf', F(Infinity)],
  ['+.INF', F(Infinity)],
  ['-.inf', F(-Infinity)],
  ['.NAn', S('.NAn')],
  ['inf', S('inf')],
  ['NaN', S('NaN')],
  ['0x', S('0x')],
  ['-', S('-')],
  ['12abc', S('12abc')],
  ['1:20', S('1:20')], // no base 60 in v3
  ['20240101', I(20240101n)],
  ['2024-01-01', T('2024-01-01')],
  ['2024-1-2', T('2024-1-2')],
  ['2024-02-29', T('2024-02-29')],
  ['2023-02-29', S('2023-02-29')],
  ['2024-13-01', S('2024-13-01')],
  ['2024-01-01T10:00:00Z', T('2024-01-01T10:00:00Z')],
  ['2024-01-01t10:00:00Z', T('2024-01-01t10:00:00Z')],
  ['2024-01-01T10:00:00.123456+02:00', T('2024-01-01T10:00:00.123456+02:00')],
  ['2024-01-01 10:00:00', T('2024-01-01 10:00:00')],
  ['2024-01-01 10:00:00.5', T('2024-01-01 10:00:00.5')],
  ['2024-01-01 10:00:00 +02:00', S('2024-01-01 10:00:00 +02:00')],
  ['2024-01-01T10:00:00', S('2024-01-01T10:00:00')],
  ['2024-01-01T24:00:00Z', S('2024-01-01T24:00:00Z')],
  ['hello', S('hello')],
  ['ENC[AES256_GCM,data:x,type:str]', S('ENC[AES256_GCM,data:x,type:str]')],
];

describe('resolvePlain: go-yaml v3 typing of plain scalars', () => {
  for (const [text, want] of PLAIN) {
    test(JSON.stringify(text), () => {
      assert.deepEqual(resolvePlain(text), want);
    });
  }
});

describe('resolveTagged: explicit tags', () => {
  const cases: [string, string, ScalarValue][] = [
    ['!!str', '12', S('12')],
    ['!!str', 'true', S('true')],
    ['!!int', '12', I(12n)],
    ['!!int', '0755', I(493n)],
    ['!!float', '1', F(1)],
    ['!!float', '1e3', F(1000)],
    ['!!bool', 'true', B(true)],
    ['!!null', '', N],
    ['!!null', '~', N],
    ['!!timestamp', '2024-01-01', T('2024-01-01')],
    ['!!binary', 'aGVsbG8=', S('hello')],
    ['!!binary', 'aGVs\nbG8=\n', S('hello')],
    ['!<tag:yaml.org,2002:int>', '7', I(7n)],
    ['!custom', 'x', S('x')],
    ['!', '12', S('12')],
  ];
  for (const [tag, text, want] of cases) {
    test(`${tag} ${JSON.stringify(text)}`, () => assert.deepEqual(resolveTagged(tag, text), want));
  }
  for (const [tag, text] of [
    ['!!int', '1.5'],
    ['!!int', 'abc'],
    ['!!bool', 'yes'],
    ['!!null', 'x'],
    ['!!timestamp', 'abc'],
    ['!!float', 'x'],
    ['!!binary', 'not base64!'],
  ]) {
    test(`${tag} ${JSON.stringify(text)} is rejected`, () =>
      assert.throws(() => resolveTagged(tag!, text!), TagMismatchError));
  }
});

describe('timestamps', () => {
  test('only the four go-yaml layouts', () => {
    assert.equal(isGoTimestamp('2024-01-01'), true);
    assert.equal(isGoTimestamp('2024-01-01T00:00:00+24:00'), true); // Go allows offsets up to 24h
    assert.equal(isGoTimestamp('2024-01-01T00:00:00+25:00'), false);
    assert.equal(isGoTimestamp('2024-01-01T00:00:00z'), false);
    assert.equal(isGoTimestamp('99-01-01'), false);
    assert.equal(isGoTimestamp('2024-01-001'), false);
  });
});

describe('emission: when a string must be quoted', () => {
  const quoted = [
    '123',
    'true',
    'True',
    '2024-01-01',
    'yes',
    'No',
    'on',
    'y',
    '0755',
    '0x1F',
    '1e3',
    '.inf',
    '~',
    'null',
    '',
    'a: b',
    'a:',
    ' lead',
    'trail ',
    '#x',
    'a #b',
    '- item',
    '-',
    '? x',
    ': x',
    '"q"',
    "'q'",
    '&a',
    '*a',
    '!t',
    '|',
    '>',
    '%x',
    '@x',
    '`x',
    '{a}',
    '[a]',
    ',a',
    '---',
    '...',
    'multi\nline',
    'tab\there',
    'bell\u0007',
    '<<',
    '1:20',
    '2024-01-01 10:00',
  ];
  for (const s of quoted) test(`${JSON.stringify(s)} needs quotes`, () => assert.equal(plainWouldChangeType(s), true));
  const plain = [
    'hello',
    'ENC[AES256_GCM,data:abc+/=,iv:x,tag:y,type:str]',
    'a:b',
    'a#b',
    '-foo',
    ':foo',
    'with space',
    'ünïcödé',
    '3.13.2',
    '_unencrypted',
    '^(data|stringData)$',
    "it's",
    'say "hi"',
    'age1abc',
  ];
  for (const s of plain) test(`${JSON.stringify(s)} stays plain`, () => assert.equal(plainWouldChangeType(s), false));

  test('flow context also quotes flow indicators (so ENC[…] is quoted inside [..] / {..})', () => {
    assert.equal(canBePlain('ENC[AES256_GCM,data:x]', 'flow'), false);
    assert.equal(canBePlain('a,b', 'flow'), false);
    assert.equal(canBePlain('plain', 'flow'), true);
  });
});

describe('emission: scalar text', () => {
  const block = { context: 'block' as const, allowBlock: true, allowKeep: true };
  test('numbers, booleans, null, time', () => {
    assert.deepEqual(emitScalar(I(-12n), block), { kind: 'flow', text: '-12', style: 'plain' });
    assert.equal(formatYamlFloat(1234568000), '1234568000.0');
    assert.equal(formatYamlFloat(1e21), '1000000000000000000000.0');
    assert.equal(formatYamlFloat(0.1), '0.1');
    assert.equal(formatYamlFloat(-0), '-0.0');
    assert.equal(formatYamlFloat(Infinity), '.inf');
    assert.equal(formatYamlFloat(-Infinity), '-.inf');
    assert.equal(formatYamlFloat(NaN), '.nan');
    for (const f of [1234568000, 0.1, 1e21, 1e-7, -3.5]) assert.deepEqual(resolvePlain(formatYamlFloat(f)), F(f));
    assert.deepEqual(emitScalar(B(false), block), { kind: 'flow', text: 'false', style: 'plain' });
    assert.deepEqual(emitScalar(N, block), { kind: 'flow', text: 'null', style: 'plain' });
    assert.deepEqual(emitScalar(T('2024-01-01T00:00:00Z'), block), {
      kind: 'flow',
      text: '2024-01-01T00:00:00Z',
      style: 'plain',
    });
  });

  test('a quoted style is kept for strings only', () => {
    assert.deepEqual(emitScalar(S('ENC[x]'), { ...block, style: 'double' }), {
      kind: 'flow',
      text: '"ENC[x]"',
      style: 'double',
    });
    assert.deepEqual(emitScalar(S('ENC[x]'), { ...block, style: 'single' }), {
      kind: 'flow',
      text: "'ENC[x]'",
      style: 'single',
    });
    assert.deepEqual(emitScalar(I(5n), { ...block, style: 'double' }), { kind: 'flow', text: '5', style: 'plain' });
    assert.deepEqual(emitScalar(S('a\nb'), { ...block, style: 'single' }), {
      kind: 'block',
      header: '|-',
      lines: ['a', 'b'],
    });
  });

  test('multi-line strings become literal blocks with the right chomping', () => {
    assert.deepEqual(emitScalar(S('a\nb'), block), { kind: 'block', header: '|-', lines: ['a', 'b'] });
    assert.deepEqual(emitScalar(S('a\nb\n'), block), { kind: 'block', header: '|', lines: ['a', 'b'] });
    assert.deepEqual(emitScalar(S('a\n\nb\n\n'), block), { kind: 'block', header: '|+', lines: ['a', '', 'b', ''] });
    // |+ only where the next line is known not to be blank; else double quotes.
    assert.deepEqual(emitScalar(S('a\n\n'), { ...block, allowKeep: false }), {
      kind: 'flow',
      text: '"a\\n\\n"',
      style: 'double',
    });
    // A first line starting with a space would need an indentation indicator.
    assert.equal(emitScalar(S(' a\nb'), block).kind, 'flow');
  });

  test('double and single quoting', () => {
    assert.equal(doubleQuote('a"b\\c\n\t\u0000\u0085\u2028é😀'), '"a\\"b\\\\c\\n\\t\\0\\N\\Lé😀"');
    assert.equal(doubleQuote('\u0001\ufeff'), '"\\x01\\uFEFF"');
    assert.equal(singleQuote("it's"), "'it''s'");
    assert.equal(singleQuote('a\nb'), undefined);
  });
});
