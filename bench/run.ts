/**
 * `npm run bench`: timings reported as ratios against a baseline measured in the same run, never
 * as absolute pass/fail thresholds.
 *
 * - load+save of an encrypted 1,000-key YAML file vs `yaml`'s own parse+stringify of it
 * - decrypt of that file (one age unwrap + 1,000 AES-GCM values + MAC) vs bare AES-GCM of the values
 */
import { execFileSync } from 'node:child_process';
import { createDecipheriv } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { parseEnc } from '../src/format/codec.js';
import { AgeIdentities } from '../src/keys/age.js';
import { decryptText } from '../src/ops/decrypt.js';
import { encryptText } from '../src/ops/encrypt.js';
import { loadAgeIdentities } from '../src/ops/identities.js';
import { yamlStore } from '../src/stores/yaml.js';

function time(fn: () => unknown, minMs = 300): number {
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < minMs * 1e6) {
    fn();
    n += 1;
    elapsed = Number(process.hrtime.bigint() - start);
  }
  return elapsed / n / 1e6;
}

async function timeAsync(fn: () => Promise<unknown>, minMs = 300): Promise<number> {
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < minMs * 1e6) {
    await fn();
    n += 1;
    elapsed = Number(process.hrtime.bigint() - start);
  }
  return elapsed / n / 1e6;
}

const dir = mkdtempSync(join(tmpdir(), 'sealant-bench-'));
try {
  const keyFile = join(dir, 'key.txt');
  execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' });
  const recipient = /public key: (age1[0-9a-z]+)/.exec(readFileSync(keyFile, 'utf8'))![1]!;
  const plain = Array.from({ length: 1000 }, (_, i) => `key${i}: value-${i}-${'x'.repeat(20)}`).join('\n') + '\n';
  const ctx = { env: {}, cwd: dir, now: () => new Date(), warn: () => {} };
  const enc = (await encryptText(plain, 'bench.yaml', ctx, { groups: [{ age: [recipient], kms: [] }] })).text;
  const sources = {
    age: new AgeIdentities(
      await loadAgeIdentities({
        env: {},
        identityFiles: [keyFile],
        homeDir: dir,
        platform: 'linux',
        readFile: (p) => Promise.resolve(readFileSync(p, 'utf8')),
      }),
    ),
  };

  const baselineYaml = time(() => YAML.stringify(YAML.parse(enc)));
  const storeRoundTrip = time(() => yamlStore.load(enc).serialize());

  const values = [...enc.matchAll(/ENC\[[^\]]+\]/g)].map((m) => parseEnc(m[0]));
  const key = Buffer.alloc(32, 1);
  const baselineAes = time(() => {
    for (const v of values) {
      const d = createDecipheriv('aes-256-gcm', key, v.iv);
      d.update(v.data);
    }
  });
  const decrypt = await timeAsync(() => decryptText(enc, 'bench.yaml', ctx, { sources }));

  const rows = [
    ['load+serialize 1,000-key encrypted YAML', storeRoundTrip, 'yaml parse+stringify', baselineYaml],
    ['decrypt 1,000-key YAML (unwrap, values, MAC)', decrypt, 'bare AES-GCM of the values', baselineAes],
  ] as const;
  for (const [name, ms, base, baseMs] of rows) {
    console.log(`${name}: ${ms.toFixed(2)} ms = ${(ms / baseMs).toFixed(2)}x ${base} (${baseMs.toFixed(2)} ms)`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
