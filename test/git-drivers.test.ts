/**
 * `sealant git install` in real git repositories: `git diff` / `git log -p` through the textconv
 * driver (with and without a key), and `git merge` through the merge driver — different keys
 * merge cleanly and keep unchanged ciphertexts; the same key conflicts without writing plaintext.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { before, describe, test } from 'node:test';
import { merge3 } from '../src/git/merge.js';
import { map, str, type Node } from '../src/format/tree.js';
import { runCli } from './helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'sealant-gitdrv-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

const CANARY = 'canary-91c0de-never-in-clear';
const CANARY_OURS = 'canary-0a11ce-ours-side';
const CANARY_THEIRS = 'canary-7be1r5-theirs-side';

const keyFile = join(root, 'alice.txt');
execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' });
const recipient = /public key: (age1[0-9a-z]+)/.exec(readFileSync(keyFile, 'utf8'))![1]!;

/** git with a clean environment: no SOPS variables, no real home (so no real identities). */
function gitRun(repo: string, args: string[], withKey: boolean) {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/^(SOPS_|SEALANT_|GIT_)/.test(k)) env[k] = v;
  Object.assign(env, {
    HOME: '/nonexistent-sealant-test-home',
    GIT_AUTHOR_NAME: 't',
    GIT_AUTHOR_EMAIL: 't@t',
    GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@t',
    GIT_CONFIG_NOSYSTEM: '1',
  });
  if (withKey) env.SOPS_AGE_KEY_FILE = keyFile;
  return spawnSync('git', ['-C', repo, ...args], { encoding: 'utf8', env });
}

function git(repo: string, ...args: string[]): string {
  const r = gitRun(repo, args, false);
  assert.equal(r.status, 0, `git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function must(repo: string, args: string[]): Promise<string> {
  const r = await runCli(args, { cwd: repo, env: { SOPS_AGE_KEY_FILE: keyFile } });
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const FILE = 'environments/dev/app/secrets.yaml';

/** A repo with one committed encrypted file and the drivers installed. */
async function newRepo(): Promise<string> {
  const repo = mkdtempSync(join(root, 'repo-'));
  git(repo, 'init', '-q', '-b', 'main');
  writeFileSync(
    join(repo, '.sealant.yaml'),
    ['environments:', '  dev:', '    files: ["environments/dev/**"]', `    age: [${recipient}]`, ''].join('\n'),
  );
  execFileSync('mkdir', ['-p', join(repo, 'environments/dev/app')]);
  writeFileSync(join(repo, FILE), `db:\n    password: ${CANARY}\n    user: app\napi_token: tok-1\nkeep: same-value\n`);
  await must(repo, ['encrypt', '--in-place', FILE]);
  const out = await must(repo, ['git', 'install', '--no-hook', '--json']);
  assert.equal((JSON.parse(out) as { status: string }).status, 'success');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'c1');
  return repo;
}

const encLine = (text: string, key: string) => text.split('\n').find((l) => l.trimStart().startsWith(`${key}:`))!;

/** Every file under `dir`, loose git objects inflated. */
function scanForCanaries(dir: string, canaries: string[]): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else {
        let data = readFileSync(p);
        if (/\/objects\/[0-9a-f]{2}\//.test(p)) data = inflateSync(data);
        if (canaries.some((c) => data.includes(c))) hits.push(p);
      }
    }
  };
  walk(dir);
  return hits;
}

describe('merge3 (unit)', () => {
  test('different keys merge; the same key changed twice is a conflict', () => {
    const base = map([
      ['a', str('1')],
      ['b', str('1')],
    ]);
    const conflicts: string[] = [];
    const m = merge3(
      base,
      map([
        ['a', str('2')],
        ['b', str('1')],
      ]),
      map([
        ['a', str('1')],
        ['b', str('3')],
        ['c', str('4')],
      ]),
      [],
      conflicts,
    ) as Node;
    assert.deepEqual(conflicts, []);
    assert.deepEqual(
      m,
      map([
        ['a', str('2')],
        ['b', str('3')],
        ['c', str('4')],
      ]),
    );
    merge3(base, map([['a', str('2')]]), map([['a', str('3')]]), [], conflicts);
    assert.deepEqual(conflicts, ['a']);
  });
});

describe('sealant git install', () => {
  let repo = '';
  before(async () => {
    repo = await newRepo();
  });

  test('writes one .gitattributes line per glob and the local driver config; idempotent', async () => {
    const attrs = readFileSync(join(repo, '.gitattributes'), 'utf8');
    assert.equal(attrs, 'environments/dev/** diff=sealant merge=sealant\n');
    assert.match(git(repo, 'config', '--local', 'diff.sealant.textconv'), /bin\/run\.js'? git textconv/);
    assert.match(git(repo, 'config', '--local', 'merge.sealant.driver'), /git merge-driver %O %A %B %P/);
    assert.equal(git(repo, 'check-attr', 'diff', '--', FILE).trim(), `${FILE}: diff: sealant`);
    const out = JSON.parse(await must(repo, ['git', 'install', '--no-hook', '--json'])) as {
      result: { attributes: { added: string[] } };
    };
    assert.deepEqual(out.result.attributes.added, []);
    assert.equal(readFileSync(join(repo, '.gitattributes'), 'utf8'), attrs);
  });
});

describe('git diff / git log -p through textconv', () => {
  let repo = '';
  before(async () => {
    repo = await newRepo();
    await must(repo, ['set', FILE, 'api_token', '"tok-2"']);
  });

  test('without a key: key paths, types and ciphertext hashes; only the changed value differs', () => {
    const r = gitRun(repo, ['diff'], false);
    assert.equal(r.status, 0, r.stderr);
    const changed = r.stdout.split('\n').filter((l) => /^[+-][^+-]/.test(l));
    assert.equal(changed.length, 2, r.stdout);
    assert.match(changed[0]!, /^-api_token: ENC\[str\] #[0-9a-f]{12}$/);
    assert.match(changed[1]!, /^\+api_token: ENC\[str\] #[0-9a-f]{12}$/);
    assert.ok(!r.stdout.includes(CANARY));
    assert.ok(!r.stdout.includes('ENC[AES256_GCM'), 'the raw ciphertext is not shown');
  });

  test('with a key: the decrypted values', () => {
    const r = gitRun(repo, ['diff'], true);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^-api_token: tok-1$/m);
    assert.match(r.stdout, /^\+api_token: tok-2$/m);
    assert.ok(!/^[+-].*(mac|lastmodified)/m.test(r.stdout), 'metadata stamps are not part of the view');
  });

  test('git log -p: keyless and keyed views of history', () => {
    git(repo, 'commit', '-q', '-am', 'c2');
    const keyless = gitRun(repo, ['log', '-p', '-1'], false);
    assert.match(keyless.stdout, /^\+api_token: ENC\[str\]/m);
    assert.match(keyless.stdout, new RegExp(`# sops recipient: ${recipient}`));
    const keyed = gitRun(repo, ['log', '-p', '-1'], true);
    assert.match(keyed.stdout, /^\+api_token: tok-2$/m);
  });
});

describe('git merge through the merge driver', () => {
  test('different keys on two branches: merged, MAC valid, both changes, unchanged ciphertexts kept', async () => {
    const repo = await newRepo();
    const before = readFileSync(join(repo, FILE), 'utf8');
    git(repo, 'checkout', '-q', '-b', 'feature');
    await must(repo, ['set', FILE, 'api_token', '"tok-theirs"']);
    const theirsText = readFileSync(join(repo, FILE), 'utf8');
    git(repo, 'commit', '-q', '-am', 'theirs');
    git(repo, 'checkout', '-q', 'main');
    await must(repo, ['set', FILE, 'db.user', '"ours-user"']);
    const oursText = readFileSync(join(repo, FILE), 'utf8');
    git(repo, 'commit', '-q', '-am', 'ours');
    const r = gitRun(repo, ['merge', '--no-edit', 'feature'], true);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const merged = readFileSync(join(repo, FILE), 'utf8');
    assert.equal(encLine(merged, 'password'), encLine(before, 'password'));
    assert.equal(encLine(merged, 'keep'), encLine(before, 'keep'));
    assert.equal(encLine(merged, 'api_token'), encLine(theirsText, 'api_token'), "theirs' ciphertext taken unchanged");
    assert.equal(encLine(merged, 'user'), encLine(oursText, 'user'));
    const plain = await must(repo, ['decrypt', FILE]);
    assert.match(plain, /api_token: tok-theirs/);
    assert.match(plain, /user: ours-user/);
    assert.match(plain, new RegExp(`password: ${CANARY}`));
    assert.equal(git(repo, 'status', '--porcelain'), '');
  });

  test('without a key a non-trivial merge is refused and ours is left in place', async () => {
    const repo = await newRepo();
    git(repo, 'checkout', '-q', '-b', 'feature');
    await must(repo, ['set', FILE, 'api_token', '"tok-theirs"']);
    git(repo, 'commit', '-q', '-am', 'theirs');
    git(repo, 'checkout', '-q', 'main');
    await must(repo, ['set', FILE, 'db.user', '"ours-user"']);
    git(repo, 'commit', '-q', '-am', 'ours');
    const ours = readFileSync(join(repo, FILE), 'utf8');
    const r = gitRun(repo, ['merge', '--no-edit', 'feature'], false);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /needs the data key/);
    assert.equal(readFileSync(join(repo, FILE), 'utf8'), ours);
  });

  test('the same key changed on both sides: conflict, key path listed, no plaintext anywhere', async () => {
    const repo = await newRepo();
    git(repo, 'checkout', '-q', '-b', 'feature');
    await must(repo, ['set', FILE, 'db.password', JSON.stringify(CANARY_THEIRS)]);
    git(repo, 'commit', '-q', '-am', 'theirs');
    git(repo, 'checkout', '-q', 'main');
    await must(repo, ['set', FILE, 'db.password', JSON.stringify(CANARY_OURS)]);
    git(repo, 'commit', '-q', '-am', 'ours');
    const ours = readFileSync(join(repo, FILE), 'utf8');
    for (const withKey of [true, false]) {
      const r = gitRun(repo, ['merge', '--no-edit', 'feature'], withKey);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /db\.password/);
      assert.equal(readFileSync(join(repo, FILE), 'utf8'), ours, 'the work tree keeps ours, encrypted');
      const canaries = [CANARY, CANARY_OURS, CANARY_THEIRS];
      const outputs = [
        r.stdout,
        r.stderr,
        gitRun(repo, ['status'], false).stdout,
        gitRun(repo, ['diff'], false).stdout,
      ];
      for (const o of outputs) for (const c of canaries) assert.ok(!o.includes(c), `canary in git output: ${c}`);
      assert.deepEqual(scanForCanaries(repo, canaries), [], 'no canary in the work tree or under .git');
      gitRun(repo, ['merge', '--abort'], false);
    }
  });
});
