/**
 * The pure deploy-time renderers (src/render/{values,dotenv,json,k8s}.ts).
 *
 * The `.env` output is read back with the real readers it targets — the `dotenv` package (its
 * regex parser and its `fast` one) and dotenvx — over a fast-check corpus of hostile values;
 * every Secret is validated with the `v1.Secret` schema of `kubernetes-models`; no error message
 * may carry a value.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as dotenvx from '@dotenvx/dotenvx';
import dotenv from 'dotenv';
import fc from 'fast-check';
import { Secret } from 'kubernetes-models/v1';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { SealantError, UsageError } from '../src/errors.js';
import { map, scalar, seq, str, type MapNode, type Node } from '../src/format/tree.js';
import { dotenvLiteral, envVars, renderDockerEnv, renderDotenv } from '../src/render/dotenv.js';
import { plainToYaml, renderJson, renderYaml } from '../src/render/json.js';
import {
  CONTENT_HASH_ANNOTATION,
  MANAGED_BY_LABEL,
  contentHash,
  renderSecrets,
  secretsToYaml,
  type SecretManifest,
} from '../src/render/k8s.js';
import type { SecretSpec } from '../src/render/settings.js';
import { flattenTree, RenderError, scalarString, type RenderErrorCode } from '../src/render/values.js';
import { catchError } from './helpers/assert.js';

const RUNS = { numRuns: 300 };

/** A tree of string values under k0, k1, … */
function strings(values: readonly string[]): MapNode {
  return map(values.map((v, i) => [`k${i}`, str(v)]));
}

function renderError(fn: () => unknown, code: RenderErrorCode): RenderError {
  const e = catchError(fn);
  assert.ok(e instanceof RenderError, `expected a RenderError, got ${e.code}`);
  assert.equal(e.code, code, e.message);
  return e;
}

/** Everything an error shows anywhere: message, hint, one-line form, JSON form, stack. */
function errorText(e: SealantError): string {
  return [e.message, e.hint ?? '', e.toOneLine(), String(e), JSON.stringify({ ...e }), e.stack ?? ''].join('\n');
}

// --- the .env readers ---------------------------------------------------------------------------

type Reader = (src: string) => Record<string, string>;

const READERS: Record<string, Reader> = {
  dotenv: (src) => dotenv.parse(src),
  'dotenv fast': (src) => dotenv.parse(src, { fast: true }),
  // processEnv {}: nothing from this process's environment leaks into expansion.
  dotenvx: (src) => dotenvx.parse(src, { processEnv: {} }),
};

/** dotenvx runs `$(…)` through a shell outside single quotes: never hand it such text. */
const SHELL = /\$\([\s\S]*\)/;

/** Values as each reader reads `src` (callers make sure no `$(…)` stands outside single quotes). */
function readAll(src: string): Record<string, Record<string, string>> {
  return Object.fromEntries(Object.entries(READERS).map(([name, read]) => [name, read(src)]));
}

const tricky = (...units: string[]): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...units), maxLength: 10 });

/** Units from which hostile values are made (no letters that spell a command: see SHELL). */
const HOSTILE_UNITS = [
  'a',
  'Z',
  'x',
  '0',
  'é',
  '😀',
  '\u2028',
  ' ',
  '\t',
  '\n',
  '\r',
  '\r\n',
  "'",
  '"',
  '`',
  '#',
  ' #',
  '$',
  '{',
  '}',
  '(',
  ')',
  '=',
  '\\',
  '\\n',
  '\\r',
  '\\t',
  '\\$',
  "\\'",
  '${X}',
  '$X',
  '$(x)',
  '\uFEFF',
];

const hostileValue: fc.Arbitrary<string> = fc.oneof(
  tricky(...HOSTILE_UNITS),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 6 }).filter((s) => !s.includes('\0')),
  fc.constantFrom(
    '',
    ' ',
    '  x  ',
    '\\',
    'C:\\dir\\',
    '\n',
    '\nx',
    ' #x',
    "'",
    '"',
    '`',
    '\'"`',
    'a=b=c',
    '${HOME}',
    '$(echo pwned)',
    'café ☕',
    '\r\n',
    'x\\',
  ),
);

/** Values that stress the refusal rules: all three quotes, comments, line breaks, expansions. */
const refusalProne: fc.Arbitrary<string> = tricky(
  "'",
  '"',
  '`',
  '#',
  '\n',
  '\r',
  '$X',
  '${X}',
  '\\',
  '\\n',
  "\\'",
  'a',
  ' ',
);

/** A `.env` file from the tree of `values`, and the same read by each reader. */
function roundTrip(values: readonly string[]): void {
  const tree = strings(values);
  const text = renderDotenv(tree);
  // Guard before dotenvx sees it: a command may only appear inside single quotes.
  for (const v of values)
    if (SHELL.test(v)) assert.ok(dotenvLiteral(v)?.startsWith("'"), 'a $(…) value left single quotes');
  const expected = Object.fromEntries(values.map((v, i) => [`K${i}`, v]));
  for (const [reader, got] of Object.entries(readAll(text)))
    assert.deepEqual(got, expected, `${reader} misread ${JSON.stringify(text)}`);
}

/** Every way the readers' grammar offers to write `v`: three quote kinds, the two escapes, bare. */
function candidates(v: string): string[] {
  const escaped = v.replace(/\n/g, '\\n').replace(/\r/g, '\\r');
  return [`'${v}'`, `\`${v}\``, `"${v}"`, `"${escaped}"`, v];
}

/** Lines after the value that catch a quote search running past it (a value starting with a line break). */
const NEIGHBOURS = ['', "N='\nx'\n", 'N=`\nx`\n', 'N="\nx"\n'];
const NEIGHBOUR_VALUE = '\nx';

/** True when `literal` makes every reader read `v` back, whatever follows it. */
function carries(literal: string, v: string): boolean {
  for (const next of NEIGHBOURS) {
    const src = `K=${literal}\n${next}`;
    const expected: Record<string, string> = next === '' ? { K: v } : { K: v, N: NEIGHBOUR_VALUE };
    // A `$(…)` outside single quotes is run by dotenvx: what it reads then depends on the machine.
    if (SHELL.test(literal) && !literal.startsWith("'")) return false;
    for (const got of Object.values(readAll(src))) if (JSON.stringify(got) !== JSON.stringify(expected)) return false;
  }
  return true;
}

describe('render/values', () => {
  it('writes each scalar type as text (null as empty)', () => {
    assert.equal(scalarString({ type: 'str', value: ' x ' }), ' x ');
    assert.equal(scalarString({ type: 'int', value: 2n ** 70n }), '1180591620717411303424');
    assert.equal(scalarString({ type: 'float', value: 1e21 }), '1000000000000000000000');
    assert.equal(scalarString({ type: 'float', value: 1.5 }), '1.5');
    assert.equal(scalarString({ type: 'bool', value: false }), 'false');
    assert.equal(scalarString({ type: 'time', value: '2024-01-01T00:00:00Z' }), '2024-01-01T00:00:00Z');
    assert.equal(scalarString({ type: 'null' }), '');
  });

  it('flattens in document order, lists by index, empty containers to nothing', () => {
    const tree = map([
      ['b', str('1')],
      ['a', map([['x', seq([str('p'), map([['q', str('r')]]), seq([])])]])],
      ['e', map([])],
      ['n', scalar({ type: 'null' })],
    ]);
    assert.deepEqual(flattenTree(tree), [
      [['b'], '1', 'b'],
      [['a', 'x', 0], 'p', 'a.x.0'],
      [['a', 'x', 1, 'q'], 'r', 'a.x.1.q'],
      [['n'], '', 'n'],
    ]);
    assert.deepEqual(
      flattenTree(tree, { separator: '/', transform: (v, p) => `${p.length}:${v.type}` }).map(([, v, k]) => [k, v]),
      [
        ['b', '1:str'],
        ['a/x/0', '3:str'],
        ['a/x/1/q', '4:str'],
        ['n', '1:null'],
      ],
    );
  });
});

describe('render/dotenv: names', () => {
  const tree = map([
    [
      'db',
      map([
        ['password', str('p')],
        ['host-name', str('h')],
      ]),
    ],
    ['hosts', seq([str('a'), str('b')])],
    ['1st', str('x')],
    ['émoji😀', str('y')],
  ]);

  it('joins, cases and cleans the path (defaults: no prefix, "_", upper)', () => {
    assert.deepEqual(
      envVars(tree).map(([n]) => n),
      ['DB_PASSWORD', 'DB_HOST_NAME', 'HOSTS_0', 'HOSTS_1', '_1ST', '_MOJI_'],
    );
  });

  it('applies prefix, separator and case', () => {
    assert.deepEqual(
      envVars(tree, { prefix: 'Shop_', separator: '__', case: 'preserve' }).map(([n]) => n),
      [
        'Shop_db__password',
        'Shop_db__host_name',
        'Shop_hosts__0',
        'Shop_hosts__1',
        'Shop_1st',
        'Shop_émoji😀'.replace(/[^A-Za-z0-9_]/gu, '_'),
      ],
    );
    assert.deepEqual(
      envVars(tree, { case: 'lower', separator: '' }).map(([n]) => n),
      ['dbpassword', 'dbhost_name', 'hosts0', 'hosts1', '_1st', '_moji_'],
    );
  });

  it('refuses two paths on one name, naming both paths and no value', () => {
    const e = renderError(
      () =>
        envVars(
          map([
            ['db', map([['password', str('s3cret-A')]])],
            ['db_password', str('s3cret-B')],
          ]),
        ),
      'RENDER_NAME_COLLISION',
    );
    assert.match(e.message, /db\.password and db_password both become the variable DB_PASSWORD/);
    assert.doesNotMatch(errorText(e), /s3cret/);
    renderError(
      () =>
        envVars(
          map([
            ['a', map([['b', str('1')]])],
            ['A.B', str('2')],
          ]),
        ),
      'RENDER_NAME_COLLISION',
    );
  });

  it('refuses an empty name, a NUL and an unpaired surrogate', () => {
    renderError(() => envVars(map([['', str('x')]])), 'RENDER_INVALID_NAME');
    assert.deepEqual(envVars(map([['', str('x')]]), { prefix: 'P' }), [['P', 'x']]);
    renderError(() => envVars(strings(['a\0b'])), 'RENDER_UNREPRESENTABLE');
    renderError(() => envVars(strings(['a\uD800b'])), 'RENDER_UNREPRESENTABLE');
    assert.deepEqual(envVars(strings(['a😀b'])), [['K0', 'a😀b']]);
  });
});

describe('render/dotenv: .env round trip through dotenv and dotenvx', () => {
  it('quotes the usual hostile values so every reader gets them back', () => {
    const values = [
      '',
      ' lead',
      'trail ',
      'multi\nline\n',
      "it's",
      'say "hi"',
      'back`tick',
      'hash # not a comment',
      '#',
      '$HOME',
      '${HOME}',
      '$(echo pwned)',
      'a=b',
      'C:\\dir\\file',
      'C:\\dir\\',
      '\\n literal',
      'tab\there',
      'crlf\r\nend',
      'uni ☕ 😀 \u2028',
      "'quoted'",
      '"dq"',
      '\n',
      'x\\',
    ];
    roundTrip(values);
    const text = renderDotenv(strings(values));
    assert.match(text, /^K0=''\nK1=' lead'\n/);
    assert.ok(text.includes("K4='it's'\n"), 'a one-line value with a quote stays in single quotes');
    assert.ok(text.includes('K14=C:\\dir\\\n'), 'a trailing backslash is written bare');
  });

  it('dotenvx expands outside single quotes, so such values are single-quoted', () => {
    assert.deepEqual(dotenvx.parse('A="$X"\nB=`$X`\nC=$X\nD=\'$X\'\n', { processEnv: { X: 'v' } }), {
      A: 'v',
      B: 'v',
      C: 'v',
      D: '$X',
    });
    for (const v of ['$X', '${X}', '\\$', '$(x)']) assert.ok(dotenvLiteral(v)?.startsWith("'"));
    assert.equal(dotenvLiteral("it's $X\n"), undefined);
  });

  it('round-trips every value it accepts and refuses the rest with a typed error (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(hostileValue, { minLength: 1, maxLength: 6 }), (values) => {
        const refused = values.findIndex((v) => dotenvLiteral(v) === undefined);
        if (refused >= 0) {
          const e = renderError(() => renderDotenv(strings(values)), 'RENDER_UNREPRESENTABLE');
          assert.deepEqual(e.path, [`k${refused}`]);
          assert.match(e.message, new RegExp(`value of K${refused} `));
          assert.match(e.hint ?? '', /--format json/);
        }
        roundTrip(values.filter((v) => dotenvLiteral(v) !== undefined));
      }),
      RUNS,
    );
  });

  it('refuses only values that no quoting carries (fast-check over quote/comment/break mixes)', () => {
    let refusals = 0;
    fc.assert(
      fc.property(fc.oneof(refusalProne, hostileValue), (v) => {
        const literal = dotenvLiteral(v);
        if (literal !== undefined) {
          assert.ok(carries(literal, v), `${JSON.stringify(literal)} does not carry ${JSON.stringify(v)}`);
          return;
        }
        refusals += 1;
        for (const c of candidates(v))
          assert.ok(!carries(c, v), `refused ${JSON.stringify(v)}, but ${JSON.stringify(c)} carries it`);
        // Specific: only a single quote, a CR or a trailing backslash can start a refusal.
        assert.ok(v.includes("'") || v.includes('\r') || v.endsWith('\\'), `refused ${JSON.stringify(v)}`);
      }),
      { numRuns: 600 },
    );
    assert.ok(refusals > 0, 'the corpus should reach the refusal rules');
  });

  it('accepts every value without a single quote, a CR or a trailing backslash (fast-check)', () => {
    const ordinary = fc
      .oneof(hostileValue, fc.string({ unit: 'grapheme' }))
      .filter((v) => !v.includes("'") && !v.includes('\r') && !v.endsWith('\\'));
    fc.assert(
      fc.property(ordinary, (v) => assert.equal(dotenvLiteral(v), `'${v}'`)),
      RUNS,
    );
  });

  it('refuses exactly the small known set, with no value in the message', () => {
    const refused = [
      '\'`"#', // every quote kind and a comment sign
      "it's $X\n", // a quote and a line break, and dotenvx expands in the other quotes
      '\\\'`"#', // the text \' (dotenvx unescapes it in single quotes), every quote, #
      'a\r"#', // a CR needs double quotes, which cannot hold " and # together …
      'a\r\\n', // … nor the text \n
      'a\r$X', // … nor an expansion
      ' x\\', // a trailing backslash skips the closing quote, and bare would trim the blank
      'a#b\\',
      'line\nbreak\\',
    ];
    for (const v of refused) {
      assert.equal(dotenvLiteral(v), undefined, JSON.stringify(v));
      for (const c of candidates(v)) assert.ok(!carries(c, v), `${JSON.stringify(c)} carries ${JSON.stringify(v)}`);
      const e = renderError(() => renderDotenv(map([['pw', str(v)]])), 'RENDER_UNREPRESENTABLE');
      assert.equal(
        e.toOneLine(),
        'pw: the value of PW cannot be quoted so that dotenv and dotenvx read it back exactly',
      );
    }
    for (const v of ['\'`"', '\'`"\n', 'a\r"b', 'it\'s "q" `b`', 'a\rb', "it's\\", "'\\", 'a\\b\\']) {
      const literal = dotenvLiteral(v);
      assert.ok(literal !== undefined && carries(literal, v), JSON.stringify(v));
    }
  });

  it('writes nothing for an empty tree', () => {
    assert.equal(renderDotenv(map([])), '');
  });
});

// --- docker --env-file --------------------------------------------------------------------------

/**
 * docker/cli `opts/file.go` (parseKeyValueFile): bufio.Scanner lines (split at `\n`, a CR before
 * it dropped), a BOM dropped from line 1, leading Unicode space trimmed, `#` lines and blank
 * lines skipped, split at the first `=`, the name must have no blank, the value is taken as is.
 */
function parseDockerEnvFile(text: string): [string, string][] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const out: [string, string][] = [];
  lines.forEach((raw, i) => {
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (i === 0 && line.startsWith('\uFEFF')) line = line.slice(1);
    line = line.replace(/^\s+/u, '');
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    assert.ok(eq > 0, `no variable on line ${i + 1}`);
    const name = line.slice(0, eq).replace(/^[ \t]+/, '');
    assert.ok(!/[ \t]/.test(name), `blank in variable on line ${i + 1}`);
    out.push([name, line.slice(eq + 1)]);
  });
  return out;
}

describe('render/dotenv: docker --env-file', () => {
  it('writes values raw and docker reads them back exactly (fast-check)', () => {
    const oneLine = hostileValue.filter((v) => !/[\r\n]/.test(v));
    fc.assert(
      fc.property(fc.array(oneLine, { minLength: 1, maxLength: 6 }), (values) => {
        const text = renderDockerEnv(strings(values));
        assert.deepEqual(
          parseDockerEnvFile(text),
          values.map((v, i) => [`K${i}`, v]),
        );
      }),
      RUNS,
    );
  });

  it("keeps quotes, '#', '=' and blanks literally (unlike .env)", () => {
    assert.equal(renderDockerEnv(strings(["'q'", ' # x ', 'a=b', ''])), "K0='q'\nK1= # x \nK2=a=b\nK3=\n");
  });

  it('refuses a value with a line break or a line over 64 KiB, naming the key only', () => {
    for (const v of ['a\nb', 'a\rb', 'end\r']) {
      const e = renderError(() => renderDockerEnv(map([['cert', str(`canary-${v}`)]])), 'RENDER_UNREPRESENTABLE');
      assert.equal(e.toOneLine(), "cert: the value of CERT spans lines, which docker's --env-file format cannot carry");
    }
    renderError(() => renderDockerEnv(strings(['x'.repeat(64 * 1024)])), 'RENDER_UNREPRESENTABLE');
    assert.doesNotThrow(() => renderDockerEnv(strings(['x'.repeat(64 * 1024 - 5)])));
  });
});

// --- JSON and YAML ------------------------------------------------------------------------------

const float = (value: number): Node => scalar({ type: 'float', value });
const int = (value: bigint): Node => scalar({ type: 'int', value });

describe('render/json', () => {
  it('keeps order (integer-like keys too), types, big ints as strings', () => {
    const tree = map([
      ['b', str('x')],
      ['10', int(1n)],
      ['big', int(2n ** 60n)],
      ['neg', int(-(2n ** 53n) + 1n)],
      ['f', float(1.5)],
      ['e', float(1e-7)],
      ['t', scalar({ type: 'time', value: '2024-01-01T00:00:00Z' })],
      ['n', scalar({ type: 'null' })],
      ['ok', scalar({ type: 'bool', value: true })],
      ['l', seq([str('a'), map([])])],
      ['m', map([['__proto__', str('p')]])],
    ]);
    const text = renderJson(tree);
    assert.equal(
      text,
      '{\n  "b": "x",\n  "10": 1,\n  "big": "1152921504606846976",\n  "neg": -9007199254740991,\n  "f": 1.5,\n  "e": 1e-7,\n  "t": "2024-01-01T00:00:00Z",\n  "n": null,\n  "ok": true,\n  "l": [\n    "a",\n    {}\n  ],\n  "m": {\n    "__proto__": "p"\n  }\n}\n',
    );
    assert.deepEqual(Object.keys(JSON.parse(text) as object), [
      '10',
      'b',
      'big',
      'neg',
      'f',
      'e',
      't',
      'n',
      'ok',
      'l',
      'm',
    ]);
  });

  it('round-trips any strings exactly (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ unit: 'binary' }), hostileValue), { maxLength: 6 }), (pairs) => {
        const tree = map(pairs.map(([k, v], i) => [`${i}${k}`, str(v)]));
        assert.deepEqual(JSON.parse(renderJson(tree)), Object.fromEntries(pairs.map(([k, v], i) => [`${i}${k}`, v])));
      }),
      RUNS,
    );
  });

  it('refuses NaN and infinity, naming the path', () => {
    const e = renderError(() => renderJson(map([['a', seq([float(Number.NaN)])]])), 'RENDER_UNREPRESENTABLE');
    assert.deepEqual(e.path, ['a', 0]);
    renderError(() => renderJson(map([['x', float(-Infinity)]])), 'RENDER_UNREPRESENTABLE');
  });
});

/** Strings a YAML 1.1 (Kubernetes, yaml.v2, PyYAML) or 1.2 reader would take for another type unquoted. */
const AMBIGUOUS = [
  'yes',
  'no',
  'on',
  'off',
  'y',
  'n',
  'Y',
  'NO',
  'True',
  'false',
  'null',
  'Null',
  '~',
  '',
  '0755',
  '0o755',
  '0x1F',
  '0b101',
  '1e3',
  '1_000',
  '1:20',
  '190:20:30',
  '2024-01-01',
  '2024-01-01T10:00:00Z',
  '2001-12-14 21:59:43.10 -5',
  '.inf',
  '-.Inf',
  '.NaN',
  '=',
  '<<',
  '+1',
  '-0',
  '.5',
  '12.',
  ' lead',
  'trail ',
  'a: b',
  '- x',
  '#c',
  '@x',
  '`x',
  '!tag',
  '&a',
  '*a',
  '%x',
  '[a]',
  '{a}',
  '"q"',
  "'q'",
  'x #y',
  '? q',
  '|',
  '>',
  ' \n',
  '\n \n',
  'a\n b\n',
];

function readBoth(text: string): [unknown, unknown] {
  return [parseYaml(text, { version: '1.1' }), parseYaml(text, { version: '1.2' })];
}

describe('render/yaml', () => {
  it('quotes strings that a YAML 1.1 or 1.2 reader would misread, as values and as keys', () => {
    const tree = map(
      AMBIGUOUS.flatMap((s, i): [string, Node][] => [
        [`v${i}`, str(s)],
        [s, str('key')],
      ]),
    );
    const text = renderYaml(tree);
    for (const read of readBoth(text)) {
      const got = read as Record<string, unknown>;
      AMBIGUOUS.forEach((s, i) => {
        assert.equal(got[`v${i}`], s, `value ${JSON.stringify(s)}`);
        assert.equal(got[s], 'key', `key ${JSON.stringify(s)}`);
      });
    }
    assert.match(text, /^v0: "yes"$/m);
    assert.match(text, /^"on": key$/m);
    assert.match(text, /^v14: "0755"$/m);
    assert.match(renderYaml(map([['plain', str('text with spaces')]])), /^plain: text with spaces\n$/);
  });

  it('writes floats with a dot, big ints exactly, timestamps unquoted, null and bools', () => {
    const text = renderYaml(
      map([
        ['one', float(1)],
        ['neg', float(-2)],
        ['big', float(1e21)],
        ['small', float(1.5e-7)],
        ['nan', float(Number.NaN)],
        ['inf', float(-Infinity)],
        ['i', int(10n ** 30n)],
        ['t', scalar({ type: 'time', value: '2024-01-01T00:00:00Z' })],
        ['z', scalar({ type: 'null' })],
        ['b', scalar({ type: 'bool', value: false })],
        ['empty', map([])],
        ['list', seq([])],
      ]),
    );
    assert.equal(
      text,
      'one: 1.0\nneg: -2.0\nbig: 1.0e+21\nsmall: 1.5e-7\nnan: .nan\ninf: -.inf\ni: 1000000000000000000000000000000\nt: 2024-01-01T00:00:00Z\nz: null\nb: false\nempty: {}\nlist: []\n',
    );
    // PyYAML's 1.1 float pattern needs a dot: `1e+21` would be a string there.
    const floatV11 = /^[-+]?([0-9][0-9_]*)?\.[0-9.]*([eE][-+][0-9]+)?$/;
    for (const line of text.split('\n').slice(0, 4)) assert.match(line.split(': ')[1] ?? '', floatV11);
    for (const read of readBoth(text)) {
      const got = read as Record<string, unknown>;
      assert.equal(got.big, 1e21);
      assert.equal(got.small, 1.5e-7);
      assert.ok(Number.isNaN(got.nan));
    }
  });

  it('round-trips any strings, keys and nesting through 1.1 and 1.2 readers (fast-check)', () => {
    const leaf = fc.oneof(hostileValue, fc.constantFrom(...AMBIGUOUS), fc.string({ unit: 'grapheme' }));
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(leaf, leaf, leaf), { maxLength: 5, selector: ([k]) => k }), (rows) => {
        const tree = map(rows.map(([k, a, b]) => [k, seq([str(a), map([[b, str(a)]])])]));
        const expected = Object.fromEntries(rows.map(([k, a, b]) => [k, [a, { [b]: a }]]));
        for (const read of readBoth(renderYaml(tree))) assert.deepEqual(read ?? {}, expected);
      }),
      RUNS,
    );
  });

  it('refuses an unpaired surrogate (no UTF-8 form)', () => {
    renderError(() => renderYaml(strings(['a\uDC00'])), 'RENDER_UNREPRESENTABLE');
  });
});

// --- Kubernetes Secrets -------------------------------------------------------------------------

/** Top-level and metadata fields of v1.Secret / ObjectMeta we may emit (the package's schema allows unknown ones). */
const SECRET_FIELDS = new Set(['apiVersion', 'kind', 'metadata', 'type', 'immutable', 'data', 'stringData']);
const META_FIELDS = new Set(['name', 'namespace', 'labels', 'annotations']);

/** Validates with kubernetes-models' generated v1.Secret schema (throws on failure), plus no unknown fields. */
function validateSecret(m: SecretManifest): void {
  new Secret(m).validate();
  for (const k of Object.keys(m)) assert.ok(SECRET_FIELDS.has(k), `unexpected field ${k}`);
  for (const k of Object.keys(m.metadata)) assert.ok(META_FIELDS.has(k), `unexpected metadata field ${k}`);
}

/** Secret key → value, from either encoding. */
function decoded(m: SecretManifest): Record<string, string> {
  if (m.stringData !== undefined) return { ...m.stringData };
  return Object.fromEntries(
    Object.entries(m.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
  );
}

const appTree = (): MapNode =>
  map([
    [
      'db',
      map([
        ['password', str('p@ss\'w"rd\n')],
        ['user', str('app')],
        ['replica', map([['password', str('r3')]])],
      ]),
    ],
    ['hosts', seq([str('a.example'), str('b.example')])],
    ['port', int(5432n)],
    [
      'tls',
      map([
        ['crt', str('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n')],
        ['key', str('-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n')],
      ]),
    ],
    ['registry', map([['.dockerconfigjson', str('{"auths":{"r.example":{"auth":"dTpw"}}}')]])],
  ]);

describe('render/k8s', () => {
  it('default: one Opaque Secret named after the environment with every value, dotted keys', () => {
    const [m, ...rest] = renderSecrets(appTree(), { environment: 'prod' });
    assert.ok(m !== undefined);
    assert.equal(rest.length, 0);
    validateSecret(m);
    assert.equal(m.apiVersion, 'v1');
    assert.equal(m.kind, 'Secret');
    assert.equal(m.type, 'Opaque');
    assert.equal(m.metadata.name, 'prod');
    assert.equal(m.metadata.namespace, undefined);
    assert.equal(m.metadata.labels[MANAGED_BY_LABEL], 'sealant');
    assert.match(m.metadata.annotations[CONTENT_HASH_ANNOTATION] ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.equal(m.immutable, undefined);
    assert.equal(m.stringData, undefined);
    assert.deepEqual(decoded(m), {
      'db.password': 'p@ss\'w"rd\n',
      'db.user': 'app',
      'db.replica.password': 'r3',
      'hosts.0': 'a.example',
      'hosts.1': 'b.example',
      port: '5432',
      'tls.crt': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      'tls.key': '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n',
      'registry..dockerconfigjson': '{"auths":{"r.example":{"auth":"dTpw"}}}',
    });
  });

  it('specs select with keys globs (* one level, ** all below) and strip a prefix', () => {
    const specs: SecretSpec[] = [
      {
        name: 'db',
        namespace: 'shop',
        keys: ['db.*'],
        stripPrefix: 'db',
        labels: { tier: 'data' },
        annotations: { note: 'x' },
      },
      { name: 'db-all', keys: ['db.**'], stripPrefix: 'db', encoding: 'stringData', immutable: true },
      { name: 'passwords', keys: ['**.password', 'port'] },
      { name: 'web-tls', type: 'kubernetes.io/tls', keys: ['tls.*'] },
      { name: 'pull', type: 'kubernetes.io/dockerconfigjson', keys: ['registry.*'], stripPrefix: 'registry' },
    ];
    const out = renderSecrets(appTree(), { environment: 'prod', specs });
    out.forEach(validateSecret);
    assert.deepEqual(
      out.map((m) => [m.metadata.name, Object.keys(decoded(m))]),
      [
        ['db', ['password', 'user']],
        ['db-all', ['password', 'user', 'replica.password']],
        ['passwords', ['db.password', 'db.replica.password', 'port']],
        ['web-tls', ['tls.crt', 'tls.key']],
        ['pull', ['.dockerconfigjson']],
      ],
    );
    const [db, dbAll] = out;
    assert.equal(db?.metadata.namespace, 'shop');
    assert.deepEqual(db?.metadata.labels, { tier: 'data', [MANAGED_BY_LABEL]: 'sealant' });
    assert.equal(db?.metadata.annotations.note, 'x');
    assert.equal(dbAll?.immutable, true);
    assert.equal(dbAll?.data, undefined);
    assert.equal(dbAll?.stringData?.password, 'p@ss\'w"rd\n');
    assert.equal(out[3]?.type, 'kubernetes.io/tls');
  });

  it('validates typed Secrets: tls needs tls.crt and tls.key, dockerconfigjson a JSON object', () => {
    const e = renderError(
      () =>
        renderSecrets(appTree(), {
          environment: 'prod',
          specs: [{ name: 'web', type: 'kubernetes.io/tls', keys: ['tls.crt'] }],
        }),
      'RENDER_INVALID_SECRET',
    );
    assert.match(e.message, /Secret web of type kubernetes\.io\/tls needs the key\(s\) tls\.key/);
    const tree = map([
      ['registry', map([['.dockerconfigjson', str('{"auths": CANARY-not-json')]])],
      ['list', map([['.dockerconfigjson', str('[1]')]])],
    ]);
    for (const prefix of ['registry', 'list']) {
      const bad = renderError(
        () =>
          renderSecrets(tree, {
            environment: 'x',
            specs: [
              { name: 'pull', type: 'kubernetes.io/dockerconfigjson', keys: [`${prefix}.*`], stripPrefix: prefix },
            ],
          }),
        'RENDER_INVALID_SECRET',
      );
      assert.match(bad.message, /needs \.dockerconfigjson to hold a JSON object/);
      assert.doesNotMatch(errorText(bad), /CANARY|auths/);
    }
    renderError(
      () =>
        renderSecrets(map([['password', str('')]]), {
          environment: 'x',
          specs: [{ name: 'ssh', type: 'kubernetes.io/ssh-auth' }],
        }),
      'RENDER_INVALID_SECRET',
    );
    assert.doesNotThrow(() =>
      renderSecrets(map([['password', str('')]]), {
        environment: 'x',
        specs: [{ name: 'auth', type: 'kubernetes.io/basic-auth' }],
      }),
    );
    assert.doesNotThrow(() =>
      renderSecrets(map([['x', str('')]]), { environment: 'x', overrides: { type: 'example.com/custom' } }),
    );
  });

  it('refuses a pattern that selects nothing, invalid keys and two paths on one key', () => {
    const e = renderError(
      () => renderSecrets(appTree(), { environment: 'prod', specs: [{ name: 'db', keys: ['db.*', 'stripe.**'] }] }),
      'RENDER_NO_MATCH',
    );
    assert.match(e.message, /keys pattern "stripe\.\*\*" of Secret db selects no value/);
    renderError(
      () => renderSecrets(appTree(), { environment: 'prod', specs: [{ name: 'db', keys: ['db'] }] }),
      'RENDER_NO_MATCH',
    );
    const bad = renderError(
      () => renderSecrets(map([['api key', str('v')]]), { environment: 'prod' }),
      'RENDER_INVALID_NAME',
    );
    assert.equal(
      bad.toOneLine(),
      '["api key"]: Secret key "api key" of Secret prod may hold only letters, digits, "-", "_" and "."',
    );
    renderError(() => renderSecrets(map([['..x', str('v')]]), { environment: 'prod' }), 'RENDER_INVALID_NAME');
    // A value exactly at the prefix keeps its full key: stripping would leave nothing.
    assert.deepEqual(
      Object.keys(
        decoded(
          renderSecrets(map([['k', str('v')]]), { environment: 'prod', specs: [{ name: 'p', stripPrefix: 'k' }] })[0]!,
        ),
      ),
      ['k'],
    );
    const clash = renderError(
      () =>
        renderSecrets(
          map([
            ['a', map([['b', str('1')]])],
            ['a.b', str('2')],
          ]),
          { environment: 'prod' },
        ),
      'RENDER_NAME_COLLISION',
    );
    assert.match(clash.message, /a\.b and \["a\.b"\] both become key "a\.b" of Secret prod/);
    renderError(
      () => renderSecrets(map([['x', str('1')]]), { environment: 'prod', specs: [{ name: 's' }, { name: 's' }] }),
      'RENDER_NAME_COLLISION',
    );
  });

  it('validates object names, namespaces, labels and the size limit', () => {
    const name = renderError(
      () => renderSecrets(map([['x', str('1')]]), { environment: 'Prod_EU' }),
      'RENDER_INVALID_NAME',
    );
    assert.match(name.message, /Secret name "Prod_EU"/);
    assert.match(name.hint ?? '', /--name/);
    assert.equal(
      renderSecrets(map([['x', str('1')]]), { environment: 'Prod_EU', overrides: { name: 'prod-eu' } })[0]?.metadata
        .name,
      'prod-eu',
    );
    renderError(
      () => renderSecrets(map([['x', str('1')]]), { environment: 'p', overrides: { namespace: 'a.b' } }),
      'RENDER_INVALID_NAME',
    );
    renderError(
      () => renderSecrets(map([['x', str('1')]]), { environment: 'p', overrides: { labels: { team: 'not ok' } } }),
      'RENDER_INVALID_NAME',
    );
    renderError(
      () =>
        renderSecrets(map([['x', str('1')]]), { environment: 'p', overrides: { annotations: { 'bad key!': 'v' } } }),
      'RENDER_INVALID_NAME',
    );
    renderError(
      () => renderSecrets(strings(['x'.repeat(600 * 1024), 'y'.repeat(600 * 1024)]), { environment: 'p' }),
      'RENDER_INVALID_SECRET',
    );
    renderError(() => renderSecrets(strings(['a\uD800']), { environment: 'p' }), 'RENDER_UNREPRESENTABLE');
  });

  it('applies overrides over specs; --name needs a single Secret', () => {
    const specs: SecretSpec[] = [{ name: 'a', keys: ['db.user'], labels: { x: '1' }, encoding: 'stringData' }];
    const [m] = renderSecrets(appTree(), {
      environment: 'prod',
      specs,
      overrides: {
        name: 'b',
        namespace: 'ns',
        labels: { y: '2' },
        annotations: { [CONTENT_HASH_ANNOTATION]: 'forged' },
        encoding: 'data',
        immutable: false,
        type: 'Opaque',
      },
    });
    assert.ok(m !== undefined);
    validateSecret(m);
    assert.equal(m.metadata.name, 'b');
    assert.equal(m.metadata.namespace, 'ns');
    assert.deepEqual(m.metadata.labels, { x: '1', y: '2', [MANAGED_BY_LABEL]: 'sealant' });
    assert.notEqual(m.metadata.annotations[CONTENT_HASH_ANNOTATION], 'forged');
    assert.equal(m.immutable, false);
    assert.deepEqual(m.data, { 'db.user': Buffer.from('app').toString('base64') });
    const e = catchError(() =>
      renderSecrets(appTree(), {
        environment: 'prod',
        specs: [{ name: 'a' }, { name: 'b' }],
        overrides: { name: 'c' },
      }),
    );
    assert.ok(e instanceof UsageError);
  });

  it('content hash changes iff a value (or key) changes, not with order or encoding (fast-check)', () => {
    const entries = fc.dictionary(
      fc.stringMatching(/^[a-z][a-z0-9._-]{0,8}$/),
      fc.string({ unit: 'grapheme', maxLength: 8 }),
      { minKeys: 1, maxKeys: 5 },
    );
    fc.assert(
      fc.property(entries, entries, (a, b) => {
        const hash = (r: Record<string, string>, encoding: 'data' | 'stringData', reverse = false): string => {
          const pairs = Object.entries(r);
          const tree = map((reverse ? pairs.reverse() : pairs).map(([k, v]) => [k, str(v)]));
          return (
            renderSecrets(tree, { environment: 'e', overrides: { encoding } })[0]?.metadata.annotations[
              CONTENT_HASH_ANNOTATION
            ] ?? ''
          );
        };
        assert.equal(hash(a, 'data'), hash(a, 'stringData', true));
        const same = JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
        assert.equal(hash(a, 'data') === hash(b, 'data'), same);
      }),
      RUNS,
    );
    assert.notEqual(contentHash(new Map([['a', 'bc']])), contentHash(new Map([['ab', 'c']])));
  });

  it('every rendered Secret validates and its data decodes to the exact values (fast-check)', () => {
    const key = fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,10}$/).filter((k) => !k.startsWith('..'));
    const leafTree = fc.uniqueArray(fc.tuple(key, hostileValue), {
      minLength: 1,
      maxLength: 6,
      selector: ([k]) => k.toLowerCase(),
    });
    fc.assert(
      fc.property(leafTree, fc.constantFrom<'data' | 'stringData'>('data', 'stringData'), (rows, encoding) => {
        const tree = map(rows.map(([k, v]) => [k, map([['v', str(v)]])]));
        let manifests: SecretManifest[];
        try {
          manifests = renderSecrets(tree, { environment: 'fuzz', overrides: { encoding } });
        } catch (e) {
          // Only a key clash (`a.v` nested vs a key literally named `a.v`) may stop it.
          assert.ok(e instanceof RenderError && e.code === 'RENDER_NAME_COLLISION', String(e));
          return;
        }
        manifests.forEach(validateSecret);
        assert.deepEqual(decoded(manifests[0]!), Object.fromEntries(rows.map(([k, v]) => [`${k}.v`, v])));
        const back = parseAllDocuments(secretsToYaml(manifests), { version: '1.1' }).map((d) => d.toJS() as unknown);
        assert.deepEqual(back, manifests);
      }),
      RUNS,
    );
  });

  it('writes a multi-document stream that YAML 1.1 readers type correctly', () => {
    const manifests = renderSecrets(
      map([
        ['flag', str('yes')],
        ['mode', str('0755')],
      ]),
      {
        environment: 'prod',
        specs: [
          { name: 'a', encoding: 'stringData' },
          { name: 'b', immutable: true },
        ],
      },
    );
    const text = secretsToYaml(manifests);
    assert.equal(text.split(/^---$/m).length, 2);
    assert.match(text, /^ {2}flag: "yes"$/m);
    assert.match(text, /^ {2}mode: "0755"$/m);
    for (const version of ['1.1', '1.2'] as const) {
      const docs = parseAllDocuments(text, { version }).map((d) => d.toJS() as SecretManifest);
      assert.deepEqual(docs, manifests);
      docs.forEach(validateSecret);
    }
    assert.equal(secretsToYaml([]), '');
    assert.equal(
      plainToYaml({ a: 'on', b: undefined, c: [true, 1, null] }),
      'a: "on"\nc:\n  - true\n  - 1\n  - null\n',
    );
  });
});

// --- no value in any error ----------------------------------------------------------------------

describe('render: errors never carry a value', () => {
  const CANARY = 'CANARY-7f3a9c';

  it('no message, hint or one-line form holds the canary (each error kind)', () => {
    const hostile = `${CANARY}'\`"#\n`;
    const errors: SealantError[] = [
      catchError(() => renderDotenv(map([['pw', str(hostile)]]))),
      catchError(() =>
        renderDotenv(
          map([
            ['a', map([['b', str(CANARY)]])],
            ['a_b', str(CANARY)],
          ]),
        ),
      ),
      catchError(() => envVars(map([['pw', str(`${CANARY}\0`)]]))),
      catchError(() => envVars(map([['pw', str(`${CANARY}\uD800`)]]))),
      catchError(() => renderDockerEnv(map([['pw', str(`${CANARY}\n`)]]))),
      catchError(() => renderJson(map([['f', float(Number.NaN)]]))),
      catchError(() => renderYaml(map([['pw', str(`${CANARY}\uDC00`)]]))),
      catchError(() =>
        renderSecrets(map([['registry', map([['.dockerconfigjson', str(`{${CANARY}`)]])]]), {
          environment: 'e',
          specs: [{ name: 'p', type: 'kubernetes.io/dockerconfigjson', keys: ['registry.*'], stripPrefix: 'registry' }],
        }),
      ),
      catchError(() =>
        renderSecrets(map([['tls', map([['crt', str(CANARY)]])]]), {
          environment: 'e',
          specs: [{ name: 't', type: 'kubernetes.io/tls' }],
        }),
      ),
      catchError(() =>
        renderSecrets(
          map([
            ['a', map([['b', str(CANARY)]])],
            ['a.b', str(CANARY)],
          ]),
          { environment: 'e' },
        ),
      ),
      catchError(() => renderSecrets(map([['x', str(CANARY.repeat(100_000))]]), { environment: 'e' })),
      catchError(() => renderSecrets(map([['x', str(`${CANARY}\uDBFF`)]]), { environment: 'e' })),
    ];
    for (const e of errors) assert.ok(!errorText(e).includes(CANARY), `${e.code} leaks: ${e.message}`);
  });

  it('no renderer error holds any value of the tree (fast-check)', () => {
    const value = hostileValue.map((v) => `${CANARY}${v}`);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.constantFrom('a', 'a_b', 'a.b', 'B', 'x y', 'tls', '.dockerconfigjson'), value), {
          minLength: 1,
          maxLength: 5,
          selector: ([k]) => k,
        }),
        (rows) => {
          const tree = map(rows.map(([k, v]) => [k, k === 'a' ? map([['b', str(v)]]) : str(v)]));
          const attempts: (() => unknown)[] = [
            () => renderDotenv(tree),
            () => renderDockerEnv(tree),
            () => renderJson(tree),
            () => renderYaml(tree),
            () =>
              renderSecrets(tree, { environment: 'e', specs: [{ name: 'd', type: 'kubernetes.io/dockerconfigjson' }] }),
            () =>
              renderSecrets(tree, {
                environment: 'e',
                specs: [{ name: 't', type: 'kubernetes.io/tls', keys: ['tls*'] }],
              }),
          ];
          for (const attempt of attempts) {
            try {
              attempt();
            } catch (e) {
              assert.ok(e instanceof SealantError, String(e));
              assert.ok(!errorText(e).includes(CANARY), `${e.code} leaks: ${e.message}`);
            }
          }
        },
      ),
      RUNS,
    );
  });
});
