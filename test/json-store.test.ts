import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ParseError, UnsupportedDocumentError, MetadataError } from '../src/errors.js';
import { formatGoFloat, formatGoJsonFloat } from '../src/format/gofloat.js';
import type { MapNode, Node, ScalarNode } from '../src/format/tree.js';
import {
  cloneNode,
  fromPlain,
  get,
  getEntry,
  isEncryptedString,
  map,
  scalar,
  seq,
  str,
  toPlain,
  walk,
} from '../src/format/tree.js';
import { goJsonString, jsonStore } from '../src/stores/json.js';
import { INTEROP_DIR, loadVectors } from './helpers/interop.js';
import { catchError, changedLines } from './helpers/assert.js';

const vectors = loadVectors().filter((v) => v.format === 'json');

/** The leaves as the expected.json files list them: key path, type, encrypted or not. */
function leavesOf(doc: MapNode): { path: string[]; type: string | null; encrypted: boolean }[] {
  const out: { path: string[]; type: string | null; encrypted: boolean }[] = [];
  for (const v of walk(doc)) {
    if (v.kind !== 'scalar') continue;
    const value = v.node.value;
    const encrypted = isEncryptedString(value);
    let type: string | null = null;
    if (encrypted && value.type === 'str') type = /type:(\w+)\]$/.exec(value.value)?.[1] ?? null;
    else if (value.type === 'str' && value.value === '') type = '(empty)';
    out.push({ path: v.keys, type, encrypted });
  }
  return out;
}

function scalarAt(node: Node | undefined, ...path: (string | number)[]): ScalarNode {
  let cur = node;
  for (const p of path) {
    if (cur === undefined) break;
    if (typeof p === 'number')
      cur = cur.kind === 'seq' ? (cur.items.filter((i) => i.kind !== 'comment')[p] as Node | undefined) : undefined;
    else cur = cur.kind === 'map' ? get(cur, p) : undefined;
  }
  assert.ok(cur !== undefined && cur.kind === 'scalar', `no scalar at ${path.join('.')}`);
  return cur;
}

/** Lines that differ between two texts with the same number of lines. */

describe('formatGoFloat (strconv.FormatFloat(v, f, -1, 64))', () => {
  const cases: [number, string][] = [
    [1, '1'],
    [1.5, '1.5'],
    [-2.25, '-2.25'],
    [0.1, '0.1'],
    [1e21, '1000000000000000000000'],
    [1.5e22, '15000000000000000000000'],
    [1e-7, '0.0000001'],
    [1.234e-10, '0.0000000001234'],
    [123456789.125, '123456789.125'],
    [1234568000, '1234568000'],
    [25.4, '25.4'],
    [0, '0'],
    [-0, '-0'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [NaN, 'NaN'],
    [Number.MAX_VALUE, `17976931348623157${'0'.repeat(292)}`],
    [5e-324, `0.${'0'.repeat(323)}5`],
  ];
  for (const [n, want] of cases)
    it(`${String(n)} → ${want.length > 30 ? `${want.slice(0, 20)}…` : want}`, () =>
      assert.equal(formatGoFloat(n), want));

  it('round-trips every finite double and never uses an exponent', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        const s = formatGoFloat(n);
        assert.ok(!/e/i.test(s));
        assert.ok(Object.is(Number(s), n) || (n === 0 && Number(s) === 0));
      }),
    );
  });

  it('json.Marshal form: exponent outside [1e-6, 1e21), sign of -0 kept', () => {
    assert.equal(formatGoJsonFloat(1e21), '1e+21');
    assert.equal(formatGoJsonFloat(1e20), '100000000000000000000');
    assert.equal(formatGoJsonFloat(1e-7), '1e-7');
    assert.equal(formatGoJsonFloat(0.000001), '0.000001');
    assert.equal(formatGoJsonFloat(-0), '-0');
    assert.equal(formatGoJsonFloat(3.14), '3.14');
    assert.throws(() => formatGoJsonFloat(NaN), RangeError);
  });
});

describe('goJsonString (json.Marshal escaping)', () => {
  it('escapes HTML characters, line separators and control characters like Go', () => {
    assert.equal(goJsonString('a<b>&c'), '"a\\u003cb\\u003e\\u0026c"');
    assert.equal(goJsonString('\u2028\u2029'), '"\\u2028\\u2029"');
    assert.equal(goJsonString('q"b\\n\n\r\t\b\f\u0001\u001f'), '"q\\"b\\\\n\\n\\r\\t\\b\\f\\u0001\\u001f"');
    assert.equal(goJsonString('é😀\u007f/'), '"é😀\u007f/"');
    assert.equal(goJsonString('\ud800'), '"\\ufffd"');
  });
});

describe('jsonStore: interop vectors', () => {
  it('has JSON vectors', () => assert.ok(vectors.length >= 4));
  for (const v of vectors) {
    describe(v.name, () => {
      it('re-saves byte-identically', () => assert.equal(jsonStore.load(v.text, v.name).serialize(), v.text));
      it('has the expected leaves (path, type, encrypted)', () => {
        const doc = jsonStore.load(v.text, v.name);
        assert.equal(doc.documents.length, 1);
        const want = v.leaves.map((l) => ({ path: l.path, type: l.type, encrypted: l.encrypted }));
        assert.deepEqual(leavesOf(doc.documents[0] as MapNode), want);
      });
      it('splits off the sops metadata', () => {
        const doc = jsonStore.load(v.text, v.name);
        const md = doc.metadata;
        assert.ok(md !== undefined);
        assert.equal(getEntry(doc.documents[0] as MapNode, 'sops'), undefined);
        assert.equal(scalarAt(md, 'lastmodified').value.type, 'str');
        assert.deepEqual(scalarAt(md, 'lastmodified').value, { type: 'str', value: v.lastmodified });
        assert.match(String(toPlain(scalarAt(md, 'mac'))), /^ENC\[AES256_GCM,/);
        assert.deepEqual(scalarAt(md, 'version').value, { type: 'str', value: v.sopsVersion });
        if (v.ageKeyFile !== undefined) assert.match(String(toPlain(scalarAt(md, 'age', 0, 'recipient'))), /^age1/);
      });
    });
  }

  it('reads age stanzas with their armor newlines', () => {
    const v = vectors.find((x) => x.name.endsWith('pr1031-age/example.json'));
    assert.ok(v);
    const md = jsonStore.load(v.text).metadata;
    const enc = String(toPlain(scalarAt(md, 'age', 1, 'enc')));
    assert.ok(enc.startsWith('-----BEGIN AGE ENCRYPTED FILE-----\n'));
    assert.ok(enc.endsWith('-----END AGE ENCRYPTED FILE-----\n'));
    assert.equal(toPlain(scalarAt(md, 'pgp')), null);
  });

  it('types plaintext numbers as sops 3.13.2 does (int64 → int, else float)', () => {
    const text = readFileSync(join(INTEROP_DIR, 'sops-age-js/secret.json'), 'utf8');
    const doc = jsonStore.load(text);
    const d = doc.documents[0] as MapNode;
    assert.deepEqual(scalarAt(d, 'int').value, { type: 'int', value: 7n });
    assert.deepEqual(scalarAt(d, 'float').value, { type: 'float', value: 3.14 });
    assert.deepEqual(scalarAt(d, 'boolean').value, { type: 'bool', value: true });
    assert.deepEqual(scalarAt(d, 'complex', 'array', 2).value, { type: 'str', value: 'three' });
    assert.equal(doc.metadata, undefined);
    assert.equal(doc.serialize(), text);
  });
});

describe('jsonStore: numbers and scalars', () => {
  const load = (text: string): MapNode => jsonStore.load(text).documents[0] as MapNode;
  it('int64 bounds, floats, exponents, -0', () => {
    const d = load(
      '{"max": 9223372036854775807, "min": -9223372036854775808, "over": 9223372036854775808, "f": 1.0, "e": 1e2, "z": -0, "s": "x", "n": null, "b": false}',
    );
    assert.deepEqual(scalarAt(d, 'max').value, { type: 'int', value: 9223372036854775807n });
    assert.deepEqual(scalarAt(d, 'min').value, { type: 'int', value: -9223372036854775808n });
    assert.deepEqual(scalarAt(d, 'over').value, { type: 'float', value: 9223372036854775808 });
    assert.deepEqual(scalarAt(d, 'f').value, { type: 'float', value: 1 });
    assert.deepEqual(scalarAt(d, 'e').value, { type: 'float', value: 100 });
    assert.deepEqual(scalarAt(d, 'z').value, { type: 'int', value: 0n });
    assert.deepEqual(scalarAt(d, 'n').value, { type: 'null' });
    assert.deepEqual(scalarAt(d, 'b').value, { type: 'bool', value: false });
  });
  it('decodes escapes, surrogate pairs, and turns lone surrogates into U+FFFD like Go', () => {
    const d = load('{"a": "\\u00e9\\ud83d\\ude00\\n\\/", "b": "\\ud800x"}');
    assert.deepEqual(scalarAt(d, 'a').value, { type: 'str', value: 'é😀\n/' });
    assert.deepEqual(scalarAt(d, 'b').value, { type: 'str', value: '\ufffdx' });
  });
  it('keeps the source spelling of unchanged values', () => {
    const text = '{"a": 1.50, "b": "\\u0041", "c": 1E2}\n';
    assert.equal(jsonStore.load(text).serialize(), text);
  });
});

describe('jsonStore: source-preserving edits', () => {
  const v = vectors.find((x) => x.name.endsWith('pr1031-age/example.json'));
  assert.ok(v);
  const text = v.text;

  it('a changed value changes only its own bytes', () => {
    const doc = jsonStore.load(text);
    scalarAt(doc.documents[0], 'firstName').value = { type: 'str', value: 'Jane <x>' };
    const out = doc.serialize();
    assert.deepEqual(changedLines(text, out), [2]);
    assert.equal(out.split('\n')[1], '\t"firstName": "Jane \\u003cx\\u003e",');
  });

  it('a value inside a list of maps', () => {
    const doc = jsonStore.load(text);
    scalarAt(doc.documents[0], 'phoneNumbers', 1, 'type').value = { type: 'int', value: 5n };
    const out = doc.serialize();
    assert.equal(changedLines(text, out).length, 1);
    assert.match(out, /\t\t\t"type": 5\n/);
  });

  it('metadata fields (lastmodified, mac) change in place', () => {
    const doc = jsonStore.load(text);
    scalarAt(doc.metadata, 'lastmodified').value = { type: 'str', value: '2030-01-01T00:00:00Z' };
    scalarAt(doc.metadata, 'mac').value = { type: 'str', value: 'ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]' };
    assert.equal(changedLines(text, doc.serialize()).length, 2);
  });

  it('a replaced but equal metadata tree keeps its bytes', () => {
    const doc = jsonStore.load(text);
    doc.metadata = cloneNode(doc.metadata as MapNode);
    doc.documents = [cloneNode(doc.documents[0] as MapNode)];
    assert.equal(doc.serialize(), text);
  });

  it('removing the metadata writes a plain JSON file', () => {
    const doc = jsonStore.load(text);
    doc.metadata = undefined;
    const out = doc.serialize();
    assert.equal(out, text.slice(0, text.indexOf(',\n\t"sops"')) + '\n}');
    assert.deepEqual(JSON.parse(out), toPlain(doc.documents[0] as MapNode));
  });

  it('setting metadata on a plaintext file appends "sops" in the file\'s indentation', () => {
    const plain = '{\n  "a": "x",\n  "b": [1, 2]\n}\n';
    const doc = jsonStore.load(plain);
    doc.metadata = map([
      [
        'age',
        seq([
          map([
            ['enc', str('E\n')],
            ['recipient', str('age1x')],
          ]),
        ]),
      ],
      ['version', str('3.13.2')],
    ]);
    assert.equal(
      doc.serialize(),
      '{\n  "a": "x",\n  "b": [1, 2],\n  "sops": {\n    "age": [\n      {\n        "enc": "E\\n",\n        "recipient": "age1x"\n      }\n    ],\n    "version": "3.13.2"\n  }\n}\n',
    );
  });

  it('adding and removing keys re-lays out only the container', () => {
    const doc = jsonStore.load(text);
    const d = doc.documents[0] as MapNode;
    d.items = d.items.filter((i) => i.kind !== 'entry' || i.key !== 'lastName');
    const address = get(d, 'address') as MapNode;
    address.items.push({ kind: 'entry', key: 'country', value: map([['code', str('US')]]) });
    const out = doc.serialize();
    const want = text
      .replace(/\t"lastName": [^\n]*\n/, '')
      .replace(/(\t\t"streetAddress": "[^"]*")\n/, '$1,\n\t\t"country": {\n\t\t\t"code": "US"\n\t\t}\n');
    assert.equal(out, want);
  });

  it('a new list item is laid out like its siblings', () => {
    const doc = jsonStore.load('{\n    "l": [\n        "a"\n    ]\n}');
    const l = get(doc.documents[0] as MapNode, 'l');
    assert.ok(l?.kind === 'seq');
    l.items.push(str('b'), map());
    assert.equal(doc.serialize(), '{\n    "l": [\n        "a",\n        "b",\n        {}\n    ]\n}');
  });

  it('keeps whitespace before and after the top-level object', () => {
    const src = '  \n{"a":1}\n\n';
    const doc = jsonStore.load(src);
    scalarAt(doc.documents[0], 'a').value = { type: 'int', value: 2n };
    assert.equal(doc.serialize(), '  \n{"a":2}\n\n');
  });

  it('keeps a "sops" key that was not last where it was', () => {
    const src = '{"sops": {"version": "3.13.2"}, "a": 1}';
    const doc = jsonStore.load(src);
    assert.equal(doc.serialize(), src);
    scalarAt(doc.documents[0], 'a').value = { type: 'int', value: 3n };
    assert.equal(doc.serialize(), '{"sops": {"version": "3.13.2"}, "a": 3}');
  });
});

describe('jsonStore.create', () => {
  it('writes json.Indent layout with a tab, final newline, sops last', () => {
    const doc = jsonStore.create(
      [
        map([
          ['s', str('<&>')],
          ['i', scalar({ type: 'int', value: -12n })],
          ['f', scalar({ type: 'float', value: 1e21 })],
          ['f2', scalar({ type: 'float', value: 0.5 })],
          ['b', scalar({ type: 'bool', value: true })],
          ['n', scalar({ type: 'null' })],
          ['t', scalar({ type: 'time', value: '2024-01-01T00:00:00Z' })],
          ['em', map()],
          ['el', seq()],
          ['nested', map([['list', seq([str('a'), map([['k', str('v')]])])]])],
        ]),
      ],
      map([['version', str('3.13.2')]]),
    );
    const want = [
      '{',
      '\t"s": "\\u003c\\u0026\\u003e",',
      '\t"i": -12,',
      '\t"f": 1e+21,',
      '\t"f2": 0.5,',
      '\t"b": true,',
      '\t"n": null,',
      '\t"t": "2024-01-01T00:00:00Z",',
      '\t"em": {},',
      '\t"el": [],',
      '\t"nested": {',
      '\t\t"list": [',
      '\t\t\t"a",',
      '\t\t\t{',
      '\t\t\t\t"k": "v"',
      '\t\t\t}',
      '\t\t]',
      '\t},',
      '\t"sops": {',
      '\t\t"version": "3.13.2"',
      '\t}',
      '}',
      '',
    ].join('\n');
    assert.equal(doc.serialize(), want);
  });

  it('an empty document is {}', () => assert.equal(jsonStore.create([map()]).serialize(), '{}\n'));

  it('round-trips plain JSON values through create → load', () => {
    const json = fc.dictionary(
      fc.string().filter((k) => k !== 'sops'),
      fc.jsonValue({ maxDepth: 3 }),
    );
    fc.assert(
      fc.property(json, (value) => {
        const text = jsonStore.create([fromPlain(value) as MapNode]).serialize();
        assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(value)));
        assert.equal(jsonStore.load(text).serialize(), text);
      }),
    );
  });

  it('refuses NaN, a data key named "sops", and several documents', () => {
    assert.ok(
      catchError(() => jsonStore.create([map([['x', scalar({ type: 'float', value: NaN })]])]).serialize()) instanceof
        UnsupportedDocumentError,
    );
    assert.ok(
      catchError(() => jsonStore.create([map([['sops', str('x')]])]).serialize()) instanceof UnsupportedDocumentError,
    );
    assert.ok(catchError(() => jsonStore.create([map(), map()]).serialize()) instanceof UnsupportedDocumentError);
  });
});

describe('jsonStore: errors', () => {
  it('malformed JSON → ParseError with line and column, no value in the message', () => {
    const e = catchError(() => jsonStore.load('{\n  "password": "hunter2",\n  "x": hunter3\n}', 'f.json'));
    assert.ok(e instanceof ParseError);
    assert.equal(e.file, 'f.json');
    assert.equal(e.line, 3);
    assert.equal(e.col, 8);
    assert.ok(!e.message.includes('hunter'));
  });
  for (const [name, text, line] of [
    ['unterminated string', '{"a": "secret', 1],
    ['trailing comma', '{"a": 1,}', 1],
    ['control character in a string', '{"a": "x\ty"}', 1],
    ['bad escape', '{"a": "\\x"}', 1],
    ['trailing data', '{"a": 1}\n{"b": 2}', 2],
    ['empty input', '', 1],
    ['leading zero', '{"a": 01}', 1],
    ['single quotes', "{'a': 1}", 1],
    ['comment', '{"a": 1 // no\n}', 1],
  ] as const) {
    it(`${name} → ParseError`, () => {
      const e = catchError(() => jsonStore.load(text));
      assert.ok(e instanceof ParseError, e.message);
      assert.equal(e.line, line);
    });
  }
  it('top level not an object → UnsupportedDocumentError', () => {
    for (const text of ['[1]', '"x"', '3', 'null'])
      assert.ok(catchError(() => jsonStore.load(text)) instanceof UnsupportedDocumentError);
  });
  it('duplicate keys → UnsupportedDocumentError with path and line', () => {
    const e = catchError(() => jsonStore.load('{"a": {\n"b": 1,\n"b": 2}}'));
    assert.ok(e instanceof UnsupportedDocumentError);
    assert.deepEqual(e.path, ['a', 'b']);
    assert.equal(e.line, 3);
  });
  it('a number beyond float64 → UnsupportedDocumentError', () =>
    assert.ok(catchError(() => jsonStore.load('{"a": 1e400}')) instanceof UnsupportedDocumentError));
  it('"sops" that is not an object → MetadataError', () =>
    assert.ok(catchError(() => jsonStore.load('{"sops": 1}')) instanceof MetadataError));
  it('deep nesting is refused, not a stack overflow', () =>
    assert.ok(catchError(() => jsonStore.load(`{"a": ${'['.repeat(5000)}${']'.repeat(5000)}}`)) instanceof ParseError));
});
