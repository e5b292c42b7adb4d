import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MetadataError, ParseError, UnsupportedDocumentError } from '../src/errors.js';
import type { MapNode, Node } from '../src/format/tree.js';
import { cloneNode, get, isEncryptedString, map, scalar, seq, str, toPlain, walk } from '../src/format/tree.js';
import { dotenvStore } from '../src/stores/dotenv.js';
import { flattenMetadata, unflattenMetadata } from '../src/stores/flatten.js';
import { loadVectors } from './helpers/interop.js';
import { catchError, scalarAt, changedLines } from './helpers/assert.js';

const vectors = loadVectors().filter((v) => v.format === 'dotenv');

describe('dotenvStore: interop vectors', () => {
  it('has dotenv vectors', () => assert.ok(vectors.length >= 3));
  for (const v of vectors) {
    describe(v.name, () => {
      it('re-saves byte-identically', () => assert.equal(dotenvStore.load(v.text, v.name).serialize(), v.text));
      it('has the expected leaves (path, type, encrypted)', () => {
        const doc = dotenvStore.load(v.text);
        const got = [...walk(doc.documents[0] as MapNode)].flatMap((x) =>
          x.kind === 'scalar'
            ? [
                {
                  path: x.keys,
                  encrypted: isEncryptedString(x.node.value),
                  type: /type:(\w+)\]$/.exec(String(toPlain(x.node)))?.[1] ?? null,
                },
              ]
            : [],
        );
        assert.deepEqual(
          got,
          v.leaves.map((l) => ({ path: l.path, encrypted: l.encrypted, type: l.type })),
        );
      });
      it('un-flattens the sops_ keys into a metadata tree', () => {
        const md = dotenvStore.load(v.text).metadata;
        assert.ok(md !== undefined);
        assert.equal(toPlain(scalarAt(md, 'lastmodified')), v.lastmodified);
        assert.equal(toPlain(scalarAt(md, 'version')), v.sopsVersion);
        assert.match(String(toPlain(scalarAt(md, 'mac'))), /^ENC\[AES256_GCM,/);
        assert.equal(toPlain(scalarAt(md, 'unencrypted_suffix')), '_unencrypted');
        const stanzas = get(md, v.ageKeyFile === undefined ? 'pgp' : 'age');
        assert.ok(stanzas?.kind === 'seq' && stanzas.items.length >= 1);
        const enc = String(toPlain(scalarAt(stanzas, 0, 'enc')));
        assert.ok(enc.includes('\n') && !enc.includes('\\n'), 'enc has real newlines');
        if (v.ageKeyFile !== undefined) assert.match(String(toPlain(scalarAt(stanzas, 0, 'recipient'))), /^age1/);
      });
    });
  }

  it('keeps the key of "foo =" verbatim (trailing space, AAD "foo :")', () => {
    const v = vectors.find((x) => x.name.endsWith('format.enc.env'));
    assert.ok(v);
    const d = dotenvStore.load(v.text).documents[0] as MapNode;
    assert.deepEqual(
      d.items.map((i) => (i.kind === 'entry' ? i.key : '#')),
      ['foo '],
    );
  });
});

describe('dotenvStore: parsing like sops', () => {
  const text = '# a comment\nA=1\n\nB= spaced = value \nC="quoted"\nD=line1\\nline2\nE=\nF=crlf\r\n#\n';
  const doc = dotenvStore.load(text);
  const d = doc.documents[0] as MapNode;

  it('takes keys and values verbatim, splits at the first "=", decodes \\n', () => {
    assert.deepEqual(toPlain(d), {
      A: '1',
      B: ' spaced = value ',
      C: '"quoted"',
      D: 'line1\nline2',
      E: '',
      F: 'crlf\r',
    });
  });
  it('keeps comments (text after #) as items in place', () => {
    assert.deepEqual(
      d.items.map((i) => (i.kind === 'comment' ? `#${i.text}` : i.key)),
      ['# a comment', 'A', 'B', 'C', 'D', 'E', 'F', '#'],
    );
  });
  it('re-saves byte-identically, blank lines included', () => assert.equal(doc.serialize(), text));
  it('a file without a final newline re-saves identically', () => {
    const src = 'A=1\n\n\nB=2';
    assert.equal(dotenvStore.load(src).serialize(), src);
  });
  it('a plaintext file has no metadata', () => assert.equal(doc.metadata, undefined));
});

describe('dotenvStore: edits', () => {
  const v = vectors.find((x) => x.name.endsWith('secret.enc.env'));
  assert.ok(v);
  const text = v.text;

  it('a changed value changes only its line', () => {
    const doc = dotenvStore.load(text);
    scalarAt(doc.documents[0], 'another_secret').value = { type: 'str', value: 'two\nlines' };
    const out = doc.serialize();
    assert.deepEqual(changedLines(text, out), [2]);
    assert.equal(out.split('\n')[1], 'another_secret=two\\nlines');
  });

  it('a changed comment is re-rendered in place', () => {
    const src = 'A=1\n\n# old\nB=2\n';
    const doc = dotenvStore.load(src);
    const c = (doc.documents[0] as MapNode).items[1];
    assert.ok(c?.kind === 'comment');
    c.text = 'ENC[x]';
    assert.equal(doc.serialize(), 'A=1\n\n#ENC[x]\nB=2\n');
  });

  it('changed metadata is rewritten in sops 3.13 order where it was', () => {
    const doc = dotenvStore.load(text);
    scalarAt(doc.metadata, 'lastmodified').value = { type: 'str', value: '2030-01-01T00:00:00Z' };
    const out = doc.serialize();
    // This file (3.8.1) already uses sorted order, so only the changed line differs.
    assert.deepEqual(changedLines(text, out), [9]);
    assert.equal(out.split('\n')[8], 'sops_lastmodified=2030-01-01T00:00:00Z');
  });

  it('an equal but replaced metadata tree keeps its bytes', () => {
    const doc = dotenvStore.load(text);
    doc.metadata = cloneNode(doc.metadata as MapNode);
    assert.equal(doc.serialize(), text);
  });

  it('removing the metadata leaves only the data lines', () => {
    const doc = dotenvStore.load(text);
    doc.metadata = undefined;
    assert.equal(doc.serialize(), text.split('\n').slice(0, 2).join('\n') + '\n');
  });

  it('metadata set on a plaintext file is appended after the data', () => {
    const doc = dotenvStore.load('# c\nA=x');
    doc.metadata = map([
      ['version', str('3.13.2')],
      [
        'age',
        seq([
          map([
            ['recipient', str('age1r')],
            ['enc', str('-----BEGIN-----\nAB\n-----END-----\n')],
          ]),
        ]),
      ],
      ['lastmodified', str('2024-01-01T00:00:00Z')],
      ['mac_only_encrypted', scalar({ type: 'bool', value: true })],
    ]);
    assert.equal(
      doc.serialize(),
      '# c\nA=x\nsops_age__list_0__map_enc=-----BEGIN-----\\nAB\\n-----END-----\\n\nsops_age__list_0__map_recipient=age1r\nsops_lastmodified=2024-01-01T00:00:00Z\nsops_mac_only_encrypted=true\nsops_version=3.13.2\n',
    );
  });

  it('added and removed entries keep the other lines', () => {
    const doc = dotenvStore.load('A=1\n\n# about B\nB=2\nC=3\n' + 'sops_version=3.13.2\n');
    const d = doc.documents[0] as MapNode;
    d.items = d.items.filter((i) => i.kind !== 'entry' || i.key !== 'C');
    d.items.push({ kind: 'entry', key: 'D', value: str('4') });
    assert.equal(doc.serialize(), 'A=1\n\n# about B\nB=2\nD=4\nsops_version=3.13.2\n');
  });

  it('an added entry after a last line without newline starts a new line', () => {
    const doc = dotenvStore.load('A=1');
    (doc.documents[0] as MapNode).items.push({ kind: 'entry', key: 'B', value: str('2') });
    assert.equal(doc.serialize(), 'A=1\nB=2\n');
  });
});

describe('dotenvStore.create', () => {
  it('writes KEY=value lines, #comments, then sops_ keys', () => {
    const doc = dotenvStore.create(
      [
        {
          kind: 'map',
          items: [
            { kind: 'comment', text: ' note' },
            { kind: 'entry', key: 'A', value: str('a\nb') },
            { kind: 'entry', key: 'N', value: scalar({ type: 'int', value: 5n }) },
          ],
        },
      ],
      map([['version', str('3.13.2')]]),
    );
    assert.equal(doc.serialize(), '# note\nA=a\\nb\nN=5\nsops_version=3.13.2\n');
  });
  it('an empty document is an empty file', () => assert.equal(dotenvStore.create([map()]).serialize(), ''));
});

describe('dotenvStore: errors', () => {
  it('a line without "=" → ParseError with its line number and no content', () => {
    const e = catchError(() => dotenvStore.load('A=1\n\nsupersecretvalue\n', '.env'));
    assert.ok(e instanceof ParseError);
    assert.equal(e.line, 3);
    assert.equal(e.file, '.env');
    assert.ok(!e.message.includes('supersecret'));
  });
  it('nested values → UnsupportedDocumentError naming the key', () => {
    const e = catchError(() => dotenvStore.create([map([['obj', map([['x', str('y')]])]])]).serialize());
    assert.ok(e instanceof UnsupportedDocumentError);
    assert.deepEqual(e.path, ['obj']);
  });
  it('data keys starting with sops_ → UnsupportedDocumentError', () => {
    assert.ok(
      catchError(() => dotenvStore.create([map([['sops_x', str('1')]])]).serialize()) instanceof
        UnsupportedDocumentError,
    );
  });
  it('keys that cannot be read back → UnsupportedDocumentError', () => {
    for (const key of ['a=b', 'a\nb', '#a'])
      assert.ok(
        catchError(() => dotenvStore.create([map([[key, str('1')]])]).serialize()) instanceof UnsupportedDocumentError,
      );
  });
  it('conflicting sops_ keys → MetadataError with the line', () => {
    const e = catchError(() => dotenvStore.load('A=1\nsops_age=x\nsops_age__list_0__map_enc=y\n'));
    assert.ok(e instanceof MetadataError);
    assert.equal(e.line, 3);
  });
});

describe('flatten / unflatten (stores/flatten.go)', () => {
  const tree = map([
    ['version', str('3.13.2')],
    ['shamir_threshold', scalar({ type: 'int', value: 2n })],
    [
      'key_groups',
      seq([
        map([
          [
            'age',
            seq([
              map([
                ['recipient', str('r0')],
                ['enc', str('e0')],
              ]),
            ]),
          ],
          ['hc_vault', scalar({ type: 'null' })],
        ]),
        map([
          [
            'kms',
            seq([
              map([
                ['arn', str('arn:a')],
                [
                  'context',
                  map([
                    ['b', str('2')],
                    ['a', str('1')],
                  ]),
                ],
                ['aws_profile', str('')],
              ]),
            ]),
          ],
        ]),
      ]),
    ],
    ['mac_only_encrypted', scalar({ type: 'bool', value: true })],
    ['lastmodified', str('2024-01-01T00:00:00Z')],
  ]);

  it('flattens in sorted-tree order with __map_/__list_ and sops string forms', () => {
    assert.deepEqual(
      flattenMetadata(tree).map((f) => `${f.key}=${f.value}`),
      [
        'key_groups__list_0__map_age__list_0__map_enc=e0',
        'key_groups__list_0__map_age__list_0__map_recipient=r0',
        'key_groups__list_1__map_kms__list_0__map_arn=arn:a',
        'key_groups__list_1__map_kms__list_0__map_aws_profile=',
        'key_groups__list_1__map_kms__list_0__map_context__map_a=1',
        'key_groups__list_1__map_kms__list_0__map_context__map_b=2',
        'lastmodified=2024-01-01T00:00:00Z',
        'mac_only_encrypted=true',
        'shamir_threshold=2',
        'version=3.13.2',
      ],
    );
  });

  it('orders list items numerically (__list_10 after __list_9)', () => {
    const many = map([['age', seq(Array.from({ length: 12 }, (_, i) => map([['recipient', str(`r${i}`)]])))]]);
    const keys = flattenMetadata(many).map((f) => f.key);
    assert.equal(keys[9], 'age__list_9__map_recipient');
    assert.equal(keys[10], 'age__list_10__map_recipient');
  });

  it('unflattens back, typing shamir_threshold and mac_only_encrypted', () => {
    const back = unflattenMetadata(flattenMetadata(tree));
    assert.deepEqual(scalarAt(back, 'shamir_threshold').value, { type: 'int', value: 2n });
    assert.deepEqual(scalarAt(back, 'mac_only_encrypted').value, { type: 'bool', value: true });
    const expected = toPlain(tree) as Record<string, unknown>;
    // null leaves are not written, so the null hc_vault does not come back
    delete ((expected.key_groups as Record<string, unknown>[])[0] as Record<string, unknown>).hc_vault;
    const plain = toPlain(back) as Record<string, unknown>;
    assert.deepEqual(plain, { ...expected, shamir_threshold: 2, mac_only_encrypted: true });
  });

  it('round-trips random string trees (fast-check)', () => {
    const key = fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/);
    const leaf = fc.string({ maxLength: 8 }).map((s) => str(s));
    const node: fc.Arbitrary<Node> = fc.letrec<{ node: Node }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc
          .uniqueArray(fc.tuple(key, tie('node')), { minLength: 1, maxLength: 3, selector: ([k]) => k })
          .map((es) => map(es)),
        fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((items) => seq(items)),
      ),
    })).node;
    const root = fc
      .uniqueArray(
        fc.tuple(
          key.filter((k) => k !== 'shamir_threshold' && k !== 'mac_only_encrypted'),
          node,
        ),
        { maxLength: 4, selector: ([k]) => k },
      )
      .map((es) => map(es));
    fc.assert(
      fc.property(root, (t) => {
        const flat = flattenMetadata(t);
        const back = unflattenMetadata(flat);
        assert.deepEqual(flattenMetadata(back), flat);
      }),
    );
  });

  it('rejects conflicts, bad list indexes and a non-integer threshold', () => {
    assert.ok(
      catchError(() =>
        unflattenMetadata([
          { key: 'a', value: '1' },
          { key: 'a__map_b', value: '2' },
        ]),
      ) instanceof MetadataError,
    );
    assert.ok(
      catchError(() =>
        unflattenMetadata([
          { key: 'a__map_b', value: '1' },
          { key: 'a__list_0', value: '2' },
        ]),
      ) instanceof MetadataError,
    );
    assert.ok(
      catchError(() =>
        unflattenMetadata([
          { key: 'a', value: '1' },
          { key: 'a', value: '2' },
        ]),
      ) instanceof MetadataError,
    );
    assert.ok(catchError(() => unflattenMetadata([{ key: 'a__list_x', value: '1' }])) instanceof MetadataError);
    assert.ok(catchError(() => unflattenMetadata([{ key: 'a__list_99999', value: '1' }])) instanceof MetadataError);
    const e = catchError(() => unflattenMetadata([{ key: 'shamir_threshold', value: 'two', line: 4 }]));
    assert.ok(e instanceof MetadataError && e.line === 4 && !e.message.includes('two'));
  });

  it('orders list items by index, whatever the line order', () => {
    const back = unflattenMetadata([
      { key: 'age__list_1__map_recipient', value: 'r1' },
      { key: 'age__list_0__map_recipient', value: 'r0' },
    ]);
    assert.deepEqual(toPlain(back), { age: [{ recipient: 'r0' }, { recipient: 'r1' }] });
  });

  it('fills a missing list index with null rather than failing', () => {
    const back = unflattenMetadata([
      { key: 'age__list_1__map_recipient', value: 'r1' },
      { key: 'version', value: '3.13.2' },
    ]);
    assert.deepEqual(toPlain(back), { age: [null, { recipient: 'r1' }], version: '3.13.2' });
  });
});
