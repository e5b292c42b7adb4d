/**
 * `npm run bench` (third part): `sealant guard` over 200 staged encrypted files (with a schema)
 * vs bare `git diff --cached --name-only` of the same index — the floor any pre-commit hook
 * pays; then the same 200 files committed and staged again modified (each has a HEAD version
 * that guard may have to read). Reported as ratios measured in the same run (median of 5),
 * never as a threshold.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encryptText } from '../src/ops/encrypt.js';
import { guardStaged } from '../src/ops/guard.js';

const FILES = 200;
const RUNS = 5;

function plainFile(i: number): string {
  return `db:\n    host: h${i}\n    port: ${5000 + i}\n    password: p-${i}\napi:\n    token: t-${i}\nregion_unencrypted: eu\n`;
}

async function median(fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const start = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
}

const dir = mkdtempSync(join(tmpdir(), 'sealant-bench-guard-'));
try {
  const keyFile = join(dir, 'key.txt');
  execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' });
  const recipient = /public key: (age1[0-9a-z]+)/.exec(readFileSync(keyFile, 'utf8'))![1]!;
  const repo = join(dir, 'repo');
  mkdirSync(join(repo, 'files'), { recursive: true });
  execFileSync('git', ['-C', repo, 'init', '-q']);
  writeFileSync(
    join(repo, '.sealant.yaml'),
    `environments:\n  bench:\n    files: ["files/**"]\n    schema: schema.json\n    age: [${recipient}]\n`,
  );
  const secret = { type: 'string', 'x-sealant-secret': true };
  writeFileSync(
    join(repo, 'schema.json'),
    JSON.stringify({
      type: 'object',
      properties: {
        db: { type: 'object', properties: { password: secret } },
        api: { type: 'object', properties: { token: secret } },
      },
    }),
  );
  const ctx = { env: process.env, cwd: repo, now: () => new Date(), warn: () => {} };
  const writeFiles = async (offset: number) => {
    for (let i = 0; i < FILES; i++) {
      const plain = plainFile(i + offset);
      const enc = (await encryptText(plain, `f${i}.yaml`, ctx, { groups: [{ age: [recipient], kms: [] }] })).text;
      writeFileSync(join(repo, 'files', `f${String(i).padStart(3, '0')}.yaml`), enc);
    }
    execFileSync('git', ['-C', repo, 'add', '.']);
  };
  const measure = async (what: string) => {
    const floor = await median(async () => execFileSync('git', ['-C', repo, 'diff', '--cached', '--name-only']));
    let found = -1;
    const guard = await median(async () => {
      found = (await guardStaged(ctx, { repoDir: repo })).results.length;
    });
    const cli = await median(async () =>
      execFileSync(process.execPath, [join(import.meta.dirname, '..', 'bin', 'run.js'), 'guard'], { cwd: repo }),
    );
    console.log(`guard: ${FILES} ${what} (schema on each), median of ${RUNS}; ${found} findings`);
    console.log(`  git diff --cached --name-only  ${floor.toFixed(1)} ms`);
    console.log(`  guardStaged (in process)       ${guard.toFixed(1)} ms  (${(guard / floor).toFixed(1)}x)`);
    console.log(
      `  sealant guard (CLI, built)     ${cli.toFixed(1)} ms  (${(cli / floor).toFixed(1)}x, node start-up included)`,
    );
  };
  await writeFiles(0);
  await measure('staged encrypted files');
  const gitEnv = {
    ...process.env,
    GIT_AUTHOR_NAME: 'b',
    GIT_AUTHOR_EMAIL: 'b@b',
    GIT_COMMITTER_NAME: 'b',
    GIT_COMMITTER_EMAIL: 'b@b',
  };
  execFileSync('git', ['-C', repo, 'commit', '-q', '-m', 'base'], { env: gitEnv });
  await writeFiles(FILES);
  await measure('modified staged SOPS files (encrypted in HEAD too)');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
