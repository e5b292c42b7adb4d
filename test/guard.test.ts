/**
 * `sealant guard` as a real pre-commit hook: temporary git repositories with a `.sealant.yaml`,
 * the hook written by installPreCommitHook, and every leak class tried through a real
 * `git commit` — which must fail, leave HEAD where it was, name the file and the check, and
 * never print the canary value. A clean encrypted change must commit. Needs `npm run build`.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { hooksDir, installPreCommitHook, preCommitScript } from '../src/git/hooks.js';
import { decryptedName, renderedDotenv } from '../src/ops/guard-rendered.js';
import { runCli } from './helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'sealant-guard-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

const keyFile = join(root, 'key.txt');
execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' });
const recipient = /public key: (age1[0-9a-z]+)/.exec(readFileSync(keyFile, 'utf8'))![1]!;

/** Must never be printed: it is only ever a secret value. */
const CANARY = 'CANARYg7u4rd';

const SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  properties: {
    db: { type: 'object', properties: { password: { type: 'string', 'x-sealant-secret': true } } },
    api: { type: 'object', properties: { token_unencrypted: { type: 'string', 'x-sealant-secret': true } } },
  },
};

const APP = `db:\n    host: db.internal\n    port: 5432\n    password: pw-${CANARY}\napi:\n    token: tok-${CANARY}\n`;

const gitEnv: NodeJS.ProcessEnv = {
  ...process.env,
  HOME: root,
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@t',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@t',
  GIT_CONFIG_NOSYSTEM: '1',
};

function git(repo: string, ...args: string[]): string {
  return execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', env: gitEnv });
}

async function sealant(repo: string, args: string[]) {
  const r = await runCli(args, { cwd: repo, env: { SOPS_AGE_KEY_FILE: keyFile } });
  assert.equal(r.code, 0, r.stderr);
  return r;
}

/** Writes `text` at `name` and encrypts it in place with the CLI. */
async function encrypted(repo: string, name: string, text: string): Promise<string> {
  mkdirSync(join(repo, name, '..'), { recursive: true });
  writeFileSync(join(repo, name), text);
  await sealant(repo, ['encrypt', '-i', name]);
  return readFileSync(join(repo, name), 'utf8');
}

/** A repository with one committed encrypted file and the hook installed. */
async function fixture(): Promise<string> {
  const repo = mkdtempSync(join(root, 'repo-'));
  git(repo, 'init', '-q');
  writeFileSync(
    join(repo, '.sealant.yaml'),
    `environments:\n  dev:\n    files: ["env/dev/**"]\n    schema: schema.json\n    age: [${recipient}]\n`,
  );
  writeFileSync(join(repo, 'schema.json'), JSON.stringify(SCHEMA, null, 2));
  writeFileSync(join(repo, '.gitignore'), 'out/\n');
  await encrypted(repo, 'env/dev/app.yaml', APP);
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'init');
  const hook = await installPreCommitHook(repo, {});
  assert.equal(hook.installed, true);
  return repo;
}

interface Attempt {
  code: number | null;
  output: string;
}

/** `git commit` through the hook; asserts no canary is printed. */
function commit(repo: string): Attempt {
  const r = spawnSync('git', ['-C', repo, 'commit', '-m', 'change'], { encoding: 'utf8', env: gitEnv });
  const output = `${r.stdout}${r.stderr}`;
  assert.ok(!output.includes(CANARY), `a value was printed:\n${output}`);
  return { code: r.status, output };
}

/** Stages what `change` writes and asserts the commit is refused for `file` by `check`. */
async function assertBlocked(repo: string, file: string, check: string): Promise<string> {
  const head = git(repo, 'rev-parse', 'HEAD');
  git(repo, 'add', '-f', '.');
  const r = commit(repo);
  assert.notEqual(r.code, 0, r.output);
  assert.equal(git(repo, 'rev-parse', 'HEAD'), head, 'HEAD must not move');
  assert.match(r.output, new RegExp(`${file.replaceAll('.', '\\.')}\\S*\\s.*${check}`), r.output);
  return r.output;
}

describe('sealant guard through the installed pre-commit hook', () => {
  test('a plaintext file in an owned path is blocked', async () => {
    const repo = await fixture();
    mkdirSync(join(repo, 'env/dev'), { recursive: true });
    writeFileSync(join(repo, 'env/dev/new.yaml'), `token: ${CANARY}\n`);
    await assertBlocked(repo, 'env/dev/new.yaml', 'unencrypted-file');
  });

  test('a value edited into clear text in an encrypted file is blocked, with its line and path', async () => {
    const repo = await fixture();
    const text = readFileSync(join(repo, 'env/dev/app.yaml'), 'utf8');
    writeFileSync(join(repo, 'env/dev/app.yaml'), text.replace(/password: ENC\[[^\]]*\]/, `password: ${CANARY}`));
    const out = await assertBlocked(repo, 'env/dev/app.yaml', 'clear-value');
    assert.match(out, /env\/dev\/app\.yaml:4\s+db\.password\s+clear-value/);
  });

  test('an x-sealant-secret value under _unencrypted is blocked', async () => {
    const repo = await fixture();
    await encrypted(repo, 'env/dev/api.yaml', `api:\n    token_unencrypted: ${CANARY}\n`);
    const out = await assertBlocked(repo, 'env/dev/api.yaml', 'secret-in-clear');
    assert.match(out, /api\.token_unencrypted/);
  });

  test('malformed sops metadata (no mac; unknown ENC type) is blocked', async () => {
    const repo = await fixture();
    const text = readFileSync(join(repo, 'env/dev/app.yaml'), 'utf8');
    writeFileSync(join(repo, 'env/dev/app.yaml'), text.replace(/^\s*mac: .*\n/m, ''));
    assert.match(await assertBlocked(repo, 'env/dev/app.yaml', 'sops-metadata'), /no mac/);
    writeFileSync(join(repo, 'env/dev/app.yaml'), text.replace(/type:str\]/, 'type:bogus]'));
    await assertBlocked(repo, 'env/dev/app.yaml', 'sops-metadata');
  });

  test('a .env written by `sealant render --force` is blocked', async () => {
    const repo = await fixture();
    await sealant(repo, ['render', '--env', 'dev', '--format', 'dotenv', '--out', 'app.env', '--force']);
    assert.match(readFileSync(join(repo, 'app.env'), 'utf8'), /DB_PASSWORD=/);
    await assertBlocked(repo, 'app.env', 'rendered-output');
  });

  test('a rendered Kubernetes Secret manifest is blocked', async () => {
    const repo = await fixture();
    mkdirSync(join(repo, 'deploy'));
    await sealant(repo, ['render', '--env', 'dev', '--format', 'k8s', '--out', 'deploy/secret.yaml', '--force']);
    await assertBlocked(repo, 'deploy/secret.yaml', 'rendered-output');
  });

  test('rendered JSON (key paths of an environment) is blocked', async () => {
    const repo = await fixture();
    await sealant(repo, ['render', '--env', 'dev', '--format', 'json', '--out', 'config.json', '--force']);
    await assertBlocked(repo, 'config.json', 'rendered-output');
  });

  test('a clean encrypted change commits; a *.dec.* name only warns', async () => {
    const repo = await fixture();
    const head = git(repo, 'rev-parse', 'HEAD');
    await encrypted(repo, 'env/dev/other.yaml', `db:\n    password: other-${CANARY}\nnote_unencrypted: fine\n`);
    writeFileSync(join(repo, 'README.md'), 'PORT=1\nHOST=x\n');
    writeFileSync(join(repo, 'notes.dec.txt'), 'nothing secret\n');
    git(repo, 'add', '.');
    const r = commit(repo);
    assert.equal(r.code, 0, r.output);
    assert.notEqual(git(repo, 'rev-parse', 'HEAD'), head);
    assert.match(r.output, /notes\.dec\.txt.*warning: decrypted-name/);
  });

  test('a file encrypted in HEAD and decrypted in place is blocked where no environment owns it (`decrypt -i && git commit -a`)', async () => {
    const repo = await fixture();
    for (const name of ['vendor.yaml', 'certs/vendor.der']) {
      mkdirSync(join(repo, name, '..'), { recursive: true });
      writeFileSync(join(repo, name), name.endsWith('.yaml') ? `api_key: ${CANARY}\n` : `DER-${CANARY}`);
      await sealant(repo, ['encrypt', '--age', recipient, '-i', name]);
    }
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'vendor secrets, no environment');
    const head = git(repo, 'rev-parse', 'HEAD');
    for (const name of ['vendor.yaml', 'certs/vendor.der']) {
      await sealant(repo, ['decrypt', '-i', name]);
      assert.ok(readFileSync(join(repo, name), 'utf8').includes(CANARY));
      const r = spawnSync('git', ['-C', repo, 'commit', '-a', '-m', 'oops'], { encoding: 'utf8', env: gitEnv });
      const output = `${r.stdout}${r.stderr}`;
      assert.notEqual(r.status, 0, output);
      assert.ok(!output.includes(CANARY), output);
      assert.equal(git(repo, 'rev-parse', 'HEAD'), head, 'HEAD must not move');
      assert.match(
        output,
        new RegExp(
          `${name.replaceAll('.', '\\.')}:1\\s.*decrypted-in-place: is encrypted in HEAD but is staged in clear text`,
        ),
        output,
      );
      git(repo, 'checkout', 'HEAD', '--', name);
    }
  });

  test('moved and decrypted in one commit: blocked, naming the encrypted path it came from', async () => {
    const repo = await fixture();
    writeFileSync(join(repo, 'vendor.yaml'), `api_key: ${CANARY}\nregion: eu\n`);
    await sealant(repo, ['encrypt', '--age', recipient, '-i', 'vendor.yaml']);
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'vendor');
    mkdirSync(join(repo, 'third-party'));
    git(repo, 'mv', 'vendor.yaml', 'third-party/vendor.yaml');
    await sealant(repo, ['decrypt', '-i', 'third-party/vendor.yaml']);
    const out = await assertBlocked(repo, 'third-party/vendor.yaml', 'decrypted-in-place');
    assert.match(out, /vendor\.yaml, encrypted in HEAD/);
  });

  test('`git commit -a` is judged on the index it builds (GIT_INDEX_FILE)', async () => {
    const repo = await fixture();
    const text = readFileSync(join(repo, 'env/dev/app.yaml'), 'utf8');
    writeFileSync(join(repo, 'env/dev/app.yaml'), text.replace(/password: ENC\[[^\]]*\]/, `password: ${CANARY}`));
    const head = git(repo, 'rev-parse', 'HEAD');
    const r = spawnSync('git', ['-C', repo, 'commit', '-a', '-m', 'x'], { encoding: 'utf8', env: gitEnv });
    assert.notEqual(r.status, 0);
    assert.ok(!`${r.stdout}${r.stderr}`.includes(CANARY));
    assert.equal(git(repo, 'rev-parse', 'HEAD'), head);
  });
});

describe('sealant guard (CLI)', () => {
  test('--json lists results without values; exit 0 with nothing staged', async () => {
    const repo = await fixture();
    const empty = await runCli(['guard', '--json'], { cwd: repo });
    assert.equal(empty.code, 0, empty.stderr);
    assert.deepEqual(JSON.parse(empty.stdout), {
      status: 'success',
      result: { files: [], errors: 0, warnings: 0, results: [] },
      warnings: [],
    });
    mkdirSync(join(repo, 'env/dev/sub'), { recursive: true });
    writeFileSync(join(repo, 'env/dev/sub/plain.yaml'), `a: ${CANARY}\n`);
    git(repo, 'add', '.');
    const r = await runCli(['guard', '--json'], { cwd: join(repo, 'env') });
    assert.equal(r.code, 1);
    assert.ok(!r.stdout.includes(CANARY));
    const out = JSON.parse(r.stdout) as { result: { results: unknown[] } };
    assert.deepEqual(out.result.results, [
      {
        file: 'env/dev/sub/plain.yaml',
        line: 1,
        check: 'unencrypted-file',
        severity: 'error',
        message: 'environment "dev" owns this file but it is not encrypted (no sops metadata)',
      },
    ]);
    const gh = await runCli(['guard', '--format', 'github'], { cwd: repo });
    assert.equal(gh.code, 1);
    assert.match(gh.stdout, /^::error file=env\/dev\/sub\/plain\.yaml,line=1::unencrypted-file: /m);
  });
});

describe('installPreCommitHook', () => {
  test('idempotent; never replaces a foreign hook unless forced; respects core.hooksPath', async () => {
    const repo = mkdtempSync(join(root, 'hooks-'));
    git(repo, 'init', '-q');
    const first = await installPreCommitHook(repo, {});
    assert.equal(first.path, join(repo, '.git/hooks/pre-commit'));
    assert.equal(first.installed, true);
    assert.equal(readFileSync(first.path, 'utf8'), preCommitScript());
    assert.equal(statSync(first.path).mode & 0o777, 0o755);
    assert.deepEqual(await installPreCommitHook(repo, {}), {
      path: first.path,
      installed: true,
      reason: 'already installed',
    });

    writeFileSync(first.path, '#!/bin/sh\necho mine\n');
    chmodSync(first.path, 0o755);
    const refused = await installPreCommitHook(repo, {});
    assert.equal(refused.installed, false);
    assert.match(refused.reason ?? '', /different pre-commit hook/);
    assert.equal(readFileSync(first.path, 'utf8'), '#!/bin/sh\necho mine\n');
    assert.equal((await installPreCommitHook(repo, { force: true })).installed, true);
    assert.equal(readFileSync(first.path, 'utf8'), preCommitScript());

    // An older sealant hook (another node path) is ours to replace.
    writeFileSync(first.path, preCommitScript('/old/node', '/old/bin/run.js'));
    assert.equal((await installPreCommitHook(repo, {})).installed, true);
    assert.equal(readFileSync(first.path, 'utf8'), preCommitScript());

    git(repo, 'config', 'core.hooksPath', 'githooks');
    assert.equal(await hooksDir(repo), join(repo, 'githooks'));
    const custom = await installPreCommitHook(repo, {});
    assert.equal(custom.path, join(repo, 'githooks/pre-commit'));
    assert.equal(custom.installed, true);
  });

  test('quotes paths for sh', () => {
    assert.match(preCommitScript("/o'dd/node", '/b/run.js'), /exec '\/o'\\''dd\/node' '\/b\/run\.js' guard/);
  });
});

describe('rendered-output heuristic', () => {
  const owned = [
    {
      environment: 'dev',
      envNames: new Set(['DB_HOST', 'DB_PORT', 'DB_PASSWORD', 'API_TOKEN']),
      keyPaths: new Set<string>(),
    },
  ];
  test('needs three matching names', () => {
    assert.deepEqual(renderedDotenv('DB_HOST=a\nDB_PORT=1\nOTHER=x\n', owned), []);
    assert.equal(renderedDotenv("export DB_HOST='a'\nDB_PORT=1\n# c\nDB_PASSWORD='p'\n", owned)[0]?.line, 1);
  });
  test('decrypted names', () => {
    for (const n of ['a/secrets.dec.yaml', 'x.decrypted.json', 'app.dec']) assert.ok(decryptedName(n), n);
    for (const n of ['decoder.ts', 'dec.yaml', 'a/decrypted/x.yaml']) assert.ok(!decryptedName(n), n);
  });
});
