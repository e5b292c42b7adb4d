import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnsupportedDocumentError, UsageError } from '../src/errors.js';
import type { MapNode } from '../src/format/tree.js';
import { get, map, seq, str, toPlain, walk } from '../src/format/tree.js';
import { binaryStore } from '../src/stores/binary.js';
import { loadVectors } from './helpers/interop.js';
import { catchError } from './helpers/assert.js';

const vectors = loadVectors().filter((v) => v.format === 'binary');

describe('binaryStore: interop vectors', () => {
  it('has binary vectors', () => assert.ok(vectors.length >= 2));
  for (const v of vectors) {
    describe(v.name, () => {
      it('re-saves byte-identically', () => assert.equal(binaryStore.load(v.text, v.name).serialize(), v.text));
      it('holds one encrypted str leaf "data" (AAD data:) and the metadata', () => {
        const doc = binaryStore.load(v.text);
        const leaves = [...walk(doc.documents[0] as MapNode)].filter((x) => x.kind === 'scalar');
        assert.equal(leaves.length, 1);
        assert.deepEqual(leaves[0]?.keys, ['data']);
        assert.match(String(toPlain(leaves[0]?.node as never)), /^ENC\[AES256_GCM,.*,type:str\]$/);
        assert.deepEqual(
          v.leaves.map((l) => l.path),
          [['data']],
        );
        const md = doc.metadata;
        assert.ok(md !== undefined);
        assert.equal(toPlain(get(md, 'lastmodified') as never), v.lastmodified);
        const age = get(md, 'age');
        assert.ok(age?.kind === 'seq');
        assert.match(String((toPlain(age) as { recipient: string }[])[0]?.recipient), /^age1/);
      });
      it('after decryption (metadata removed) writes the raw data', () => {
        const doc = binaryStore.load(v.text);
        const data = get(doc.documents[0] as MapNode, 'data');
        assert.ok(data?.kind === 'scalar');
        data.value = { type: 'str', value: String(v.leaves[0]?.value) };
        doc.metadata = undefined;
        assert.equal(doc.serialize(), v.leaves[0]?.value);
      });
      it('a changed data value changes only its line of the envelope', () => {
        const doc = binaryStore.load(v.text);
        const data = get(doc.documents[0] as MapNode, 'data');
        assert.ok(data?.kind === 'scalar');
        data.value = { type: 'str', value: 'ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]' };
        const before = v.text.split('\n');
        const after = doc.serialize().split('\n');
        assert.equal(after.length, before.length);
        assert.deepEqual(
          after.flatMap((l, i) => (l === before[i] ? [] : [i])),
          [1],
        );
      });
    });
  }
});

describe('binaryStore: plaintext', () => {
  for (const [what, text] of [
    ['text', 'Welcome to SOPS!\n\nline 3'],
    ['empty', ''],
    ['JSON that is not an envelope', '{"data": "x"}\n'],
    ['broken JSON', '{ not json'],
    ['CRLF and NUL', 'a\r\n\u0000b'],
  ] as const) {
    it(`${what}: loads as {data} and writes the same bytes back`, () => {
      const doc = binaryStore.load(text);
      assert.deepEqual(toPlain(doc.documents[0] as MapNode), { data: text });
      assert.equal(doc.metadata, undefined);
      assert.equal(doc.serialize(), text);
    });
  }

  it('with metadata set, writes the JSON envelope (tab indent, final newline)', () => {
    const doc = binaryStore.load('secret <file>\n');
    const data = get(doc.documents[0] as MapNode, 'data');
    assert.ok(data?.kind === 'scalar');
    data.value = { type: 'str', value: 'ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]' };
    doc.metadata = map([
      [
        'age',
        seq([
          map([
            ['enc', str('A\n')],
            ['recipient', str('age1x')],
          ]),
        ]),
      ],
      ['version', str('3.13.2')],
    ]);
    assert.equal(
      doc.serialize(),
      '{\n\t"data": "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]",\n\t"sops": {\n\t\t"age": [\n\t\t\t{\n\t\t\t\t"enc": "A\\n",\n\t\t\t\t"recipient": "age1x"\n\t\t\t}\n\t\t],\n\t\t"version": "3.13.2"\n\t}\n}\n',
    );
  });

  it('create: raw without metadata, envelope with it', () => {
    assert.equal(binaryStore.create([map([['data', str('raw\n')]])]).serialize(), 'raw\n');
    assert.equal(
      binaryStore.create([map([['data', str('x')]])], map([['version', str('3.13.2')]])).serialize(),
      '{\n\t"data": "x",\n\t"sops": {\n\t\t"version": "3.13.2"\n\t}\n}\n',
    );
  });

  it('refuses to write raw content that is not exactly {data: <string>}', () => {
    for (const tree of [
      map([
        ['data', str('x')],
        ['other', str('y')],
      ]),
      map([['x', str('y')]]),
      map([['data', map()]]),
    ]) {
      assert.ok(catchError(() => binaryStore.create([tree]).serialize()) instanceof UnsupportedDocumentError);
    }
  });
});

describe('stores/index', () => {
  it('formatFromPath follows sops (case-sensitive suffixes, else binary)', async () => {
    const { formatFromPath } = await import('../src/stores/index.js');
    const cases: [string, string][] = [
      ['a.yaml', 'yaml'],
      ['dir/a.yml', 'yaml'],
      ['a.json', 'json'],
      ['.env', 'dotenv'],
      ['prod.env', 'dotenv'],
      ['a.ini', 'ini'],
      ['a.txt', 'binary'],
      ['a.YAML', 'binary'],
      ['a.env.bak', 'binary'],
      ['Makefile', 'binary'],
    ];
    for (const [path, want] of cases) assert.equal(formatFromPath(path), want, path);
  });

  it('storeFor returns the store of each format', async () => {
    const { storeFor } = await import('../src/stores/index.js');
    const { FILE_FORMATS } = await import('../src/stores/store.js');
    for (const f of FILE_FORMATS) assert.equal(storeFor(f).format, f);
  });

  it('parseFormat accepts the five names and refuses others without echoing them', async () => {
    const { parseFormat } = await import('../src/stores/index.js');
    assert.equal(parseFormat('dotenv'), 'dotenv');
    const e = catchError(() => parseFormat('yml-typo'));
    assert.ok(e instanceof UsageError);
    assert.ok(!e.message.includes('yml-typo'));
  });
});
