/**
 * The token-based fast path of the schema Locator gives the same file:line:col as locating on a
 * composed YAML document, for random block-style files and for every real SOPS vector.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { visitDocuments } from '../src/format/cipher.js';
import { fromPlain, type MapNode } from '../src/format/tree.js';
import { Locator } from '../src/schema/locate.js';
import { storeFor } from '../src/stores/index.js';
import { loadVectors } from './helpers/interop.js';

/** Positions of every leaf, by the fast path and by the composed-document path. */
function compare(text: string, format: 'yaml' | 'json'): number {
  const doc = storeFor(format).load(text);
  const fast = new Locator(text, format);
  const slow = new Locator(text, format);
  // Force the composed-document path on the second locator.
  (slow as unknown as { locateCst: () => undefined }).locateCst = () => undefined;
  let n = 0;
  doc.documents.forEach((d, i) => {
    for (const v of visitDocuments([d])) {
      const pointer = `/${v.path.map((p) => String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;
      assert.deepEqual(fast.locate(i, pointer), slow.locate(i, pointer), pointer);
      n += 1;
    }
  });
  return n;
}

test('fast locator = composed locator on every interop vector', () => {
  let n = 0;
  for (const v of loadVectors().filter((x) => x.format === 'yaml' || x.format === 'json'))
    n += compare(v.text, v.format as 'yaml' | 'json');
  assert.ok(n > 100);
});

test('fast locator = composed locator on 300 random block-style YAML files', () => {
  const key = fc.stringMatching(/^[a-z][a-z0-9_ .-]{0,8}$/);
  const leaf = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  );
  const tree = fc.letrec<{ obj: unknown }>((tie) => ({
    obj: fc.dictionary(key, fc.oneof({ depthSize: 'small' }, leaf, tie('obj')), { minKeys: 1, maxKeys: 5 }),
  })).obj;
  fc.assert(
    fc.property(tree, (plain) => {
      const text = storeFor('yaml')
        .create([fromPlain(plain) as MapNode])
        .serialize();
      compare(text, 'yaml');
    }),
    { numRuns: 300 },
  );
});
