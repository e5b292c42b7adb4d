/**
 * Every real SOPS file in ../shared/interop: byte-identical re-save, every value and the MAC
 * decrypted with the published data key, and (age vectors) the whole read path from the key
 * file, through the library and through the CLI.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decryptDocuments, visitDocuments } from '../src/format/cipher.js';
import { parseMetadata } from '../src/format/metadata.js';
import { DEFAULT_CRYPT_RULE, Selector } from '../src/format/selectors.js';
import { scalarToPlain } from '../src/format/tree.js';
import { unwrapDataKey } from '../src/keys/datakey.js';
import { AgeIdentities } from '../src/keys/age.js';
import { decryptText } from '../src/ops/decrypt.js';
import { storeFor } from '../src/stores/index.js';
import { loadVectors, type Vector } from './helpers/interop.js';
import { identitiesFromFile, testContext } from './helpers/keys.js';
import { runCli } from './helpers/cli.js';

const vectors = loadVectors();

function decryptWithDataKey(v: Vector) {
  const doc = storeFor(v.format).load(v.text, v.name);
  const raw = storeFor(v.format).load(v.text, v.name);
  const meta = parseMetadata(doc.metadata!);
  const result = decryptDocuments(doc.documents, Buffer.from(v.dataKeyHex, 'hex'), {
    selector: new Selector(meta.rule ?? DEFAULT_CRYPT_RULE),
    macOnlyEncrypted: meta.macOnlyEncrypted,
    mac: meta.mac,
    lastmodified: meta.lastmodified,
  });
  return { doc, raw, meta, result };
}

test('there are interop vectors to test', () => {
  assert.ok(vectors.length >= 20, `found ${vectors.length} vectors`);
});

describe('interop: every SOPS vector', () => {
  for (const v of vectors) {
    test(`${v.name}: re-saves byte-identical`, () => {
      const doc = storeFor(v.format).load(v.text, v.name);
      assert.equal(doc.serialize(), v.text);
    });

    test(`${v.name}: every value and the MAC decrypt with the published data key`, () => {
      const { doc, raw, result } = decryptWithDataKey(v);
      assert.equal(result.macValid, true);
      const rawLeaves = [...visitDocuments(raw.documents)].filter(
        (x) => x.node.kind === 'scalar' && x.node.value.type !== 'null',
      );
      const leaves = [...visitDocuments(doc.documents)].filter(
        (x) => x.node.kind === 'scalar' && x.node.value.type !== 'null',
      );
      assert.equal(leaves.length, v.leaves.length, 'leaf count');
      leaves.forEach((leaf, i) => {
        const exp = v.leaves[i]!;
        assert.deepEqual(leaf.keys, exp.path, `path of leaf ${i}`);
        const node = leaf.node.kind === 'scalar' ? leaf.node : undefined;
        const rawNode = rawLeaves[i]!.node;
        assert.ok(node !== undefined && rawNode.kind === 'scalar');
        const wasEncrypted = rawNode.value.type === 'str' && rawNode.value.value.startsWith('ENC[');
        assert.equal(wasEncrypted, exp.encrypted, `encrypted flag of ${exp.aad}`);
        if (exp.encrypted) assert.equal(node.value.type, exp.type, `type of ${exp.aad}`);
        assert.deepEqual(scalarToPlain(node.value), exp.value, `value of ${exp.aad}`);
      });
      const comments = [...visitDocuments(doc.documents)].filter((x) => x.node.kind === 'comment');
      const decrypted = comments.map((c) => ({
        aad: c.keys.length === 0 ? ':' : `${c.keys.join(':')}:`,
        text: c.node.kind === 'comment' ? c.node.text : '',
      }));
      for (const exp of v.comments)
        assert.ok(
          decrypted.some((c) => c.aad === exp.aad && c.text === exp.text),
          `comment ${JSON.stringify(exp.text)} at ${exp.aad}`,
        );
    });

    test(`${v.name}: a flipped MAC byte is detected`, () => {
      const meta = parseMetadata(storeFor(v.format).load(v.text, v.name).metadata!);
      const enc = meta.mac;
      const i = enc.indexOf('data:') + 5;
      const flipped = enc.slice(0, i) + (enc[i] === 'A' ? 'B' : 'A') + enc.slice(i + 1);
      const doc = storeFor(v.format).load(v.text, v.name);
      assert.throws(
        () =>
          decryptDocuments(doc.documents, Buffer.from(v.dataKeyHex, 'hex'), {
            selector: new Selector(meta.rule ?? DEFAULT_CRYPT_RULE),
            macOnlyEncrypted: false,
            mac: flipped,
            lastmodified: meta.lastmodified,
          }),
        (e: Error & { code?: string }) => e.code === 'MAC_MISMATCH',
      );
    });

    if (v.ageKeyFile === undefined) continue;
    const keyFile = v.ageKeyFile;

    test(`${v.name}: the age identity unwraps the published data key`, async () => {
      const meta = parseMetadata(storeFor(v.format).load(v.text, v.name).metadata!);
      const r = await unwrapDataKey(meta, { age: new AgeIdentities(await identitiesFromFile(keyFile)) });
      assert.equal(Buffer.from(r.dataKey).toString('hex'), v.dataKeyHex);
    });

    test(`${v.name}: decrypts end to end from the key file`, async () => {
      const sources = { age: new AgeIdentities(await identitiesFromFile(keyFile)) };
      const r = await decryptText(v.text, v.name, testContext(), { sources, inputType: v.format });
      assert.equal(r.macValid, true);
      // Every expected plaintext value appears in the output.
      for (const leaf of v.leaves) {
        if (typeof leaf.value === 'string' && leaf.value !== '' && !leaf.value.includes('\n') && v.format !== 'json')
          assert.ok(r.text.includes(leaf.value.trim()), `${leaf.aad} in output`);
      }
      assert.ok(!r.text.includes('ENC[AES256_GCM'), 'no ciphertext left');
      assert.ok(!/^sops[:_]/m.test(r.text) && !r.text.includes('"sops"'), 'no metadata left');
    });
  }
});

describe('interop: the CLI decrypts the age vectors', () => {
  for (const v of vectors.filter((x) => x.ageKeyFile !== undefined)) {
    test(`sealant decrypt ${v.name}`, async () => {
      const r = await runCli(['decrypt', '--input-type', v.format, v.file], {
        env: { SOPS_AGE_KEY_FILE: v.ageKeyFile! },
      });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!r.stdout.includes('ENC[AES256_GCM'));
    });
  }

  test("no identity: exit 128 and the file's recipients are listed", async () => {
    const v = vectors.find((x) => x.name.endsWith('pr1031-age/example.yaml'))!;
    const r = await runCli(['decrypt', v.file], {
      env: { SOPS_AGE_KEY_FILE: '', SOPS_AGE_KEY: '', XDG_CONFIG_HOME: '/nonexistent' },
    });
    assert.equal(r.code, 128);
    assert.match(r.stderr, /age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw/);
    assert.equal(r.stderr.trim().split('\n').length <= 2, true, 'one line plus a hint');
  });
});
