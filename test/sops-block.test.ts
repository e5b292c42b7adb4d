/**
 * `sopsBlockOf`: the one keyless reader of a file's `sops` block that guard, diff and the
 * authority check of a write share. Real age-encrypted files, in process.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { encryptText } from '../src/ops/encrypt.js';
import { sopsBlockOf } from '../src/stores/index.js';
import { newAgeKey, testContext } from './helpers/keys.js';

const root = mkdtempSync(join(tmpdir(), 'sealant-sops-block-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
const key = newAgeKey(root, 'key');
const encrypt = async (text: string, file: string) =>
  (await encryptText(text, file, testContext(), { groups: [{ age: [key.recipient], kms: [] }] })).text;

describe('sopsBlockOf', () => {
  test('a SOPS file, as text or bytes, in each store: the typed metadata', async () => {
    for (const [file, plain] of [
      ['a.yaml', 'db: secret\n'],
      ['a.json', '{"db": "secret"}\n'],
      ['a.env', 'DB=secret\n'],
      ['a.ini', '[s]\ndb = secret\n'],
    ] as const) {
      const text = await encrypt(plain, file);
      const format = file.endsWith('.yaml')
        ? 'yaml'
        : file.endsWith('.json')
          ? 'json'
          : file.endsWith('.env')
            ? 'dotenv'
            : 'ini';
      for (const content of [text, Buffer.from(text)]) {
        const block = sopsBlockOf(content, format);
        assert.equal(block?.kind, 'sops', file);
        assert.equal(block.kind === 'sops' && block.meta.keyGroups[0]?.age[0]?.recipient, key.recipient, file);
      }
    }
  });

  test('no block, a mention of sops that is no block, or content that does not load: undefined', () => {
    assert.equal(sopsBlockOf('db: x\n', 'yaml'), undefined);
    assert.equal(sopsBlockOf('note: see sops docs\n', 'yaml'), undefined);
    assert.equal(sopsBlockOf('sops: [unclosed\n', 'yaml'), undefined);
    assert.equal(sopsBlockOf(Buffer.from([0x73, 0x6f, 0x70, 0x73, 0xff]), 'binary'), undefined);
  });

  test('a sops block that is not valid metadata: malformed', () => {
    assert.deepEqual(sopsBlockOf('db: x\nsops:\n  key_groups: nope\n', 'yaml'), { kind: 'malformed' });
  });

  test('text bytes that are not UTF-8 and mention sops: not-utf8, with the offset and never the byte', async () => {
    const text = await encrypt('db: secret\n', 'a.yaml');
    const bad = Buffer.concat([Buffer.from('# caf'), Buffer.from([0xe9]), Buffer.from(`\n${text}`)]);
    const block = sopsBlockOf(bad, 'yaml');
    assert.equal(block?.kind, 'not-utf8');
    assert.match(block.kind === 'not-utf8' ? block.message : '', /^not valid UTF-8 text: invalid byte at offset 5$/);
    // Without the word, nothing says it is a SOPS file: no parse at all.
    assert.equal(sopsBlockOf(Buffer.from([0x61, 0x3a, 0x20, 0xe9, 0x0a]), 'yaml'), undefined);
  });
});
