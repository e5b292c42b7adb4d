/**
 * isTrackedOrUnignored against real git repositories: tracked, staged, ignored (by .gitignore,
 * a parent directory rule, .git/info/exclude), untracked, not yet existing paths, paths outside
 * the repository, another repository, the .git directory, glob characters, no repository, no git.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import { GitCheckError, isTrackedOrUnignored } from '../src/fsx/git.js';

const root = mkdtempSync(join(tmpdir(), 'sealant-git-guard-'));
after(() => rmSync(root, { recursive: true, force: true }));

const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@t',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@t',
};

function git(repo: string, ...args: string[]): string {
  return execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', env: gitEnv });
}

function newRepo(name: string): string {
  const repo = join(root, name);
  mkdirSync(repo);
  git(repo, 'init', '-q');
  return repo;
}

const repo = newRepo('repo');
writeFileSync(join(repo, '.gitignore'), '*.env\nout/\n');
writeFileSync(join(repo, 'committed.yaml'), 'a: 1\n');
writeFileSync(join(repo, 'staged.yaml'), 'b: 2\n');
writeFileSync(join(repo, 'forced.env'), 'X=1\n');
mkdirSync(join(repo, 'sub'));
writeFileSync(join(repo, 'sub/kept.txt'), 'k\n');
git(repo, 'add', '.gitignore', 'committed.yaml', 'sub/kept.txt');
git(repo, 'add', '-f', 'forced.env');
git(repo, 'commit', '-q', '-m', 'init');
git(repo, 'add', 'staged.yaml');
writeFileSync(join(repo, '.git/info/exclude'), 'excluded.txt\n');

describe('isTrackedOrUnignored', () => {
  test('a committed file is tracked', async () => {
    assert.deepEqual(await isTrackedOrUnignored('committed.yaml', repo), {
      inRepo: true,
      tracked: true,
      ignored: false,
    });
  });

  test('a staged (not committed) file is tracked', async () => {
    assert.deepEqual(await isTrackedOrUnignored('staged.yaml', repo), { inRepo: true, tracked: true, ignored: false });
  });

  test('a tracked file that an ignore rule matches is still tracked', async () => {
    assert.deepEqual(await isTrackedOrUnignored('forced.env', repo), { inRepo: true, tracked: true, ignored: false });
  });

  test('an ignored name, existing or not, is ignored', async () => {
    writeFileSync(join(repo, 'local.env'), 'Y=2\n');
    assert.deepEqual(await isTrackedOrUnignored('local.env', repo), { inRepo: true, tracked: false, ignored: true });
    assert.deepEqual(await isTrackedOrUnignored('new.env', repo), { inRepo: true, tracked: false, ignored: true });
  });

  test('a file under an ignored directory that does not exist yet is ignored', async () => {
    assert.deepEqual(await isTrackedOrUnignored('out/deep/secret.json', repo), {
      inRepo: true,
      tracked: false,
      ignored: true,
    });
  });

  test('.git/info/exclude counts', async () => {
    assert.deepEqual(await isTrackedOrUnignored('excluded.txt', repo), { inRepo: true, tracked: false, ignored: true });
  });

  test('an untracked, unignored path (existing or not, in a missing directory) is neither', async () => {
    writeFileSync(join(repo, 'loose.json'), '{}');
    assert.deepEqual(await isTrackedOrUnignored('loose.json', repo), { inRepo: true, tracked: false, ignored: false });
    assert.deepEqual(await isTrackedOrUnignored('nowhere/yet/secret.json', repo), {
      inRepo: true,
      tracked: false,
      ignored: false,
    });
  });

  test('relative paths resolve against cwd, including from a subdirectory and with ..', async () => {
    const sub = join(repo, 'sub');
    assert.equal((await isTrackedOrUnignored('kept.txt', sub)).tracked, true);
    assert.equal((await isTrackedOrUnignored('../committed.yaml', sub)).tracked, true);
    assert.equal((await isTrackedOrUnignored('../x.env', sub)).ignored, true);
    assert.equal((await isTrackedOrUnignored(join(repo, 'committed.yaml'), root)).tracked, true);
  });

  test('glob characters in a name are literal', async () => {
    // `*.yaml` as a pathspec would match committed.yaml; as a file name it is untracked.
    assert.deepEqual(await isTrackedOrUnignored('*.yaml', repo), { inRepo: true, tracked: false, ignored: false });
    assert.deepEqual(await isTrackedOrUnignored('sub/*', repo), { inRepo: true, tracked: false, ignored: false });
  });

  test('a path outside the repository is judged where it is, not by cwd', async () => {
    const outside = mkdtempSync(join(root, 'plain-'));
    assert.deepEqual(await isTrackedOrUnignored(join(outside, 'a.env'), repo), {
      inRepo: false,
      tracked: false,
      ignored: false,
    });
    assert.deepEqual(await isTrackedOrUnignored('../plain-none/a.env', repo), {
      inRepo: false,
      tracked: false,
      ignored: false,
    });
  });

  test('a path in another repository is judged by that repository', async () => {
    const other = newRepo('other');
    writeFileSync(join(other, 't.txt'), 't');
    git(other, 'add', 't.txt');
    assert.deepEqual(await isTrackedOrUnignored(join(other, 't.txt'), repo), {
      inRepo: true,
      tracked: true,
      ignored: false,
    });
    // repo's `*.env` rule does not apply there.
    assert.deepEqual(await isTrackedOrUnignored(join(other, 'a.env'), repo), {
      inRepo: true,
      tracked: false,
      ignored: false,
    });
  });

  test('inside .git nothing is committed', async () => {
    assert.deepEqual(await isTrackedOrUnignored('.git/secret.env', repo), {
      inRepo: true,
      tracked: false,
      ignored: true,
    });
  });

  test('not a repository', async () => {
    const plain = mkdtempSync(join(root, 'norepo-'));
    // GIT_CEILING_DIRECTORIES: do not find a repository above the temp dir on a developer machine.
    const env = { ...process.env, GIT_CEILING_DIRECTORIES: root };
    assert.deepEqual(await isTrackedOrUnignored('x.env', plain, { env }), {
      inRepo: false,
      tracked: false,
      ignored: false,
    });
  });

  test('git missing: treated as not a repository', async () => {
    assert.deepEqual(await isTrackedOrUnignored('committed.yaml', repo, { git: join(root, 'no-such-git') }), {
      inRepo: false,
      tracked: false,
      ignored: false,
    });
  });

  test('git that fails for another reason is an error, not a guess', async () => {
    const broken = newRepo('broken');
    writeFileSync(join(broken, '.git/config'), '[core\n');
    await assert.rejects(
      isTrackedOrUnignored('a.env', broken, { env: { ...process.env, GIT_CEILING_DIRECTORIES: root } }),
      (err: unknown) => err instanceof GitCheckError && err.code === 'GIT',
    );
  });
});
