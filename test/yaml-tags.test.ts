/**
 * A YAML local tag (`!prod-db-master`) on an encrypted value stays in clear next to the
 * `ENC[...]` string, as in sops: docs/format.md says so, and this test keeps it true. The real
 * getsops/sops library (../shared/tools/real-sops) must read such a file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { decryptText } from '../src/ops/decrypt.js';
import { encryptText } from '../src/ops/encrypt.js';
import { newAgeKey, testContext } from './helpers/keys.js';
import { REAL_SOPS_SKIP, realSops } from './helpers/real-sops.js';

const root = mkdtempSync(join(tmpdir(), 'sealant-tags-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
const key = newAgeKey(root, 'key');

const PLAIN = 'db:\n    password: !prod-db-master hunter2\n    user: app\n';

describe('YAML local tags', () => {
  test('the tag stays in clear before the encrypted value; decrypt gives back the input bytes', async () => {
    const enc = await encryptText(PLAIN, 'app.yaml', testContext(), { groups: [{ age: [key.recipient], kms: [] }] });
    assert.match(enc.text, /^ {4}password: !prod-db-master ENC\[AES256_GCM,data:[^\]]+,type:str\]$/m);
    assert.doesNotMatch(enc.text, /hunter2/);
    const dec = await decryptText(enc.text, 'app.yaml', testContext(), { identityFiles: [key.file] });
    assert.equal(dec.text, PLAIN);
  });

  test(
    'real sops decrypts such a file, MAC included, and reads the value without the tag',
    { skip: REAL_SOPS_SKIP },
    async () => {
      const enc = await encryptText(PLAIN, 'app.yaml', testContext(), { groups: [{ age: [key.recipient], kms: [] }] });
      const r = await realSops(enc.text, 'yaml', { SOPS_AGE_KEY_FILE: key.file });
      assert.equal(r.ok, true, r.sopsError ?? r.reason);
      assert.deepEqual(r.value, { db: { password: 'hunter2', user: 'app' } });
    },
  );
});
