/**
 * `npm run bench` (second part): `sealant validate` over 1,000 encrypted files of 50 keys each,
 * without keys vs decrypting the same files (bare decrypt, and validate --decrypt). Reported as
 * ratios measured in the same run, never as pass/fail thresholds.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgeIdentities } from '../src/keys/age.js';
import { decryptText } from '../src/ops/decrypt.js';
import { encryptText } from '../src/ops/encrypt.js';
import { loadAgeIdentities } from '../src/ops/identities.js';
import { validate } from '../src/ops/validate.js';

const FILES = 1000;
const SECTIONS = 5;
const KEYS_PER_SECTION = 10;

/** 5 sections × 10 keys: strings with a pattern, integers with limits, booleans. */
function schema(): object {
  const section = {
    type: 'object',
    additionalProperties: false,
    required: [] as string[],
    properties: {} as Record<string, object>,
  };
  for (let k = 0; k < KEYS_PER_SECTION; k++) {
    const name = `k${k}`;
    section.required.push(name);
    section.properties[name] =
      k % 3 === 0
        ? { type: 'integer', minimum: 0 }
        : k % 3 === 1
          ? { type: 'string', pattern: '^v-', 'x-sealant-secret': true }
          : { type: 'boolean' };
  }
  const properties = Object.fromEntries(Array.from({ length: SECTIONS }, (_, s) => [`s${s}`, section]));
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    additionalProperties: false,
    required: Object.keys(properties),
    properties,
  };
}

function plainFile(i: number): string {
  const lines: string[] = [];
  for (let s = 0; s < SECTIONS; s++) {
    lines.push(`s${s}:`);
    for (let k = 0; k < KEYS_PER_SECTION; k++)
      lines.push(`    k${k}: ${k % 3 === 0 ? i * 100 + k : k % 3 === 1 ? `v-${i}-${s}-${k}` : k % 2 === 0}`);
  }
  return `${lines.join('\n')}\n`;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const dir = mkdtempSync(join(tmpdir(), 'sealant-bench-validate-'));
try {
  const keyFile = join(dir, 'key.txt');
  execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' });
  const recipient = /public key: (age1[0-9a-z]+)/.exec(readFileSync(keyFile, 'utf8'))![1]!;
  writeFileSync(
    join(dir, '.sealant.yaml'),
    `environments:\n  bench:\n    files: ["files/**"]\n    schema: schema.json\n    age: [${recipient}]\n`,
  );
  writeFileSync(join(dir, 'schema.json'), JSON.stringify(schema()));
  mkdirSync(join(dir, 'files'));
  const ctx = { env: {}, cwd: dir, now: () => new Date(), warn: () => {} };
  const texts: string[] = [];
  for (let i = 0; i < FILES; i++) {
    const enc = (await encryptText(plainFile(i), `f${i}.yaml`, ctx, { groups: [{ age: [recipient], kms: [] }] })).text;
    writeFileSync(join(dir, 'files', `f${String(i).padStart(4, '0')}.yaml`), enc);
    texts.push(enc);
  }
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

  let notes = 0;
  const keyless = await timed(async () => {
    const r = await validate(ctx, { mode: 'keyless' });
    if (r.errors > 0 || r.files.length !== FILES) throw new Error('bench fixture does not validate');
    notes = r.notes;
  });
  const decryptOnly = await timed(async () => {
    for (const t of texts) await decryptText(t, 'f.yaml', ctx, { sources });
  });
  const full = await timed(async () => {
    const r = await validate(ctx, { mode: 'decrypt', sources });
    if (r.errors > 0) throw new Error('bench fixture does not validate with keys');
  });
  const label = `${FILES.toLocaleString('en')} files × ${SECTIONS * KEYS_PER_SECTION} keys`;
  console.log(`validate without keys, ${label}: ${keyless.toFixed(0)} ms (${notes} needs-keys notes)`);
  console.log(
    `decrypt the same files: ${decryptOnly.toFixed(0)} ms = ${(decryptOnly / keyless).toFixed(2)}x keyless validation`,
  );
  console.log(
    `validate --decrypt the same files: ${full.toFixed(0)} ms = ${(full / keyless).toFixed(2)}x keyless validation`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
