/**
 * Git history for rotation planning, in a real repository with backdated commits: value ages
 * (keyless and keyed) across a data-key rotation and a rename, data-key eras and who held them,
 * and what a removed recipient could read.
 *
 * The story of secrets/dev.yaml (→ secrets/development.yaml):
 *   c1 2024-01 encrypt a, b, c for alice + bob
 *   c2 2024-02 set a
 *   c3 2024-03 set d (new)
 *   c4 2024-04 updatekeys: bob removed (same data key)
 *   c5 2024-05 set e (new) — under the data key bob still has
 *   c6 2024-06 rotate: new data key, alice only
 *   c7 2024-07 git mv to secrets/development.yaml
 *   c8 2024-08 set b, set f (new), unset c
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { exposure, fileHistory, type FileHistory } from '../src/history/index.js';
import { parseLog } from '../src/history/log.js';
import { runCli } from './helpers/cli.js';
import { sourcesFromFiles, newAgeKey, type Key } from './helpers/keys.js';

const root = mkdtempSync(join(tmpdir(), 'sealant-history-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

const newKey = (name: string): Key => newAgeKey(root, name);

const alice = newKey('alice');
const bob = newKey('bob');

function git(repo: string, args: string[], date?: string): string {
  return execFileSync('git', ['-C', repo, ...args], {
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@t',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@t',
      ...(date === undefined ? {} : { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date }),
    },
  });
}

function commit(repo: string, message: string, date: string): string {
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', message], date);
  return git(repo, ['rev-parse', 'HEAD']).trim();
}

const config = (...recipients: string[]) =>
  ['environments:', '  dev:', '    files: ["secrets/**"]', `    age: [${recipients.join(', ')}]`, ''].join('\n');

async function must(repo: string, args: string[], key?: Key): Promise<void> {
  const r = await runCli(args, { cwd: repo, env: key === undefined ? {} : { SOPS_AGE_KEY_FILE: key.file } });
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
}

const d = (month: number) => `2024-${String(month).padStart(2, '0')}-01T12:00:00Z`;
const c: string[] = [''];
let repo = '';

before(async () => {
  repo = mkdtempSync(join(root, 'repo-'));
  git(repo, ['init', '-q']);
  writeFileSync(join(repo, '.sealant.yaml'), config(alice.recipient, bob.recipient));
  execFileSync('mkdir', ['-p', join(repo, 'secrets')]);
  writeFileSync(join(repo, 'secrets/dev.yaml'), 'a: one\nb: two\nc: three\n');
  await must(repo, ['encrypt', '--in-place', 'secrets/dev.yaml']);
  c[1] = commit(repo, 'c1', d(1));
  await must(repo, ['set', 'secrets/dev.yaml', 'a', '"one-changed"'], alice);
  c[2] = commit(repo, 'c2', d(2));
  await must(repo, ['set', 'secrets/dev.yaml', 'd', '"four"'], alice);
  c[3] = commit(repo, 'c3', d(3));
  writeFileSync(join(repo, '.sealant.yaml'), config(alice.recipient));
  await must(repo, ['updatekeys', 'secrets/dev.yaml'], alice);
  c[4] = commit(repo, 'c4', d(4));
  await must(repo, ['set', 'secrets/dev.yaml', 'e', '"five"'], alice);
  c[5] = commit(repo, 'c5', d(5));
  await must(repo, ['rotate', 'secrets/dev.yaml'], alice);
  c[6] = commit(repo, 'c6', d(6));
  git(repo, ['mv', 'secrets/dev.yaml', 'secrets/development.yaml']);
  c[7] = commit(repo, 'c7', d(7));
  await must(repo, ['set', 'secrets/development.yaml', 'b', '"two-changed"'], alice);
  await must(repo, ['set', 'secrets/development.yaml', 'f', '"six"'], alice);
  await must(repo, ['unset', 'secrets/development.yaml', 'c'], alice);
  c[8] = commit(repo, 'c8', d(8));
  // Uncommitted work is not history.
  await must(repo, ['set', 'secrets/development.yaml', 'g', '"seven"'], alice);
});

const ages = (h: FileHistory) =>
  Object.fromEntries(
    h.values.map((v) => [v.path, `${c.indexOf(v.lastChanged?.commit ?? '-')}${v.certain ? '' : '?'}`]),
  );

describe('fileHistory', () => {
  test('entries: oldest first, committer dates, renames followed', async () => {
    const h = await fileHistory(repo, 'secrets/development.yaml');
    assert.equal(h.file, 'secrets/development.yaml');
    assert.deepEqual(
      h.entries.map((e) => e.commit),
      c.slice(1),
    );
    assert.deepEqual(
      h.entries.map((e) => e.date.toISOString()),
      [1, 2, 3, 4, 5, 6, 7, 8].map((m) => new Date(d(m)).toISOString()),
    );
    assert.deepEqual(
      h.entries.map((e) => e.path),
      [...Array<string>(6).fill('secrets/dev.yaml'), 'secrets/development.yaml', 'secrets/development.yaml'],
    );
  });

  test('keyless ages: a rotation makes older ages uncertain; later changes are exact', async () => {
    const h = await fileHistory(repo, 'secrets/development.yaml');
    // `g` is only in the working tree, `c` was unset at c8: neither has an age.
    assert.deepEqual(ages(h), { a: '2?', b: '8', d: '3?', e: '5?', f: '8' });
    assert.equal(h.values.find((v) => v.path === 'a')!.lastChanged!.date.toISOString(), new Date(d(2)).toISOString());
  });

  test('keyed ages: plaintexts compared across the rotation keep ages exact', async () => {
    const h = await fileHistory(repo, 'secrets/development.yaml', { sources: await sourcesFromFiles(alice.file) });
    assert.deepEqual(ages(h), { a: '2', b: '8', d: '3', e: '5', f: '8' });
    assert.equal(h.eras.length, 2);
  });

  test('keys that open nothing leave the history keyless', async () => {
    const stranger = newKey('stranger');
    const h = await fileHistory(repo, 'secrets/development.yaml', { sources: await sourcesFromFiles(stranger.file) });
    assert.deepEqual(ages(h), { a: '2?', b: '8', d: '3?', e: '5?', f: '8' });
  });

  test('eras: updatekeys keeps the era (bob still counts); rotate starts one without bob', async () => {
    const h = await fileHistory(repo, 'secrets/development.yaml');
    assert.equal(h.eras.length, 2);
    const [first, current] = h.eras as [FileHistory['eras'][number], FileHistory['eras'][number]];
    assert.equal(first.since.commit, c[1]);
    assert.equal(first.since.date.toISOString(), new Date(d(1)).toISOString());
    assert.deepEqual(first.recipients, [alice.recipient, bob.recipient].sort());
    assert.deepEqual(first.keys, ['a', 'b', 'c', 'd', 'e']);
    assert.equal(current.since.commit, c[6]);
    assert.deepEqual(current.recipients, [alice.recipient]);
    assert.deepEqual(current.keys, ['a', 'b', 'c', 'd', 'e', 'f']);
  });

  test('a path relative to a subdirectory of the repository', async () => {
    const h = await fileHistory(join(repo, 'secrets'), 'development.yaml');
    assert.equal(h.entries.length, 8);
    assert.equal(h.eras.length, 2);
  });
});

describe('exposure', () => {
  test('a removed recipient: the keys of its era, not the current data key', async () => {
    const h = await fileHistory(repo, 'secrets/development.yaml');
    assert.deepEqual(exposure(h, bob.recipient), {
      readable: true,
      since: new Date(d(1)),
      keys: ['a', 'b', 'c', 'd', 'e'],
      currentKeyExposed: false,
    });
  });

  test('a current recipient holds the current data key', async () => {
    const h = await fileHistory(repo, 'secrets/development.yaml');
    const e = exposure(h, alice.recipient);
    assert.equal(e.readable, true);
    assert.equal(e.currentKeyExposed, true);
    assert.deepEqual(e.keys, ['a', 'b', 'c', 'd', 'e', 'f']);
  });

  test('a stranger read nothing', async () => {
    const h = await fileHistory(repo, 'secrets/development.yaml');
    assert.deepEqual(exposure(h, 'age1nobody'), { readable: false, keys: [], currentKeyExposed: false });
  });
});

describe('parseLog', () => {
  test('renames, a merge without a status line, and a deletion', () => {
    const H = '\u0001';
    const hash = (n: number) => String(n).repeat(40);
    const text = [
      `${H}${hash(4)} 2024-04-01T00:00:00+00:00`,
      '\nM',
      'new.yaml',
      `${H}${hash(3)} 2024-03-01T00:00:00+00:00`,
      `${H}${hash(2)} 2024-02-01T00:00:00+00:00`,
      '\nR090',
      'old.yaml',
      'new.yaml',
      `${H}${hash(1)} 2024-01-01T00:00:00+00:00`,
      '\nD',
      'old.yaml',
      `${H}${hash(0)} 2023-12-01T00:00:00+00:00`,
      '\nA',
      'old.yaml',
      '',
    ].join('\u0000');
    assert.deepEqual(
      parseLog(text, 'new.yaml').map((e) => [e.commit[0], e.path]),
      [
        ['0', 'old.yaml'],
        ['2', 'new.yaml'],
        ['3', 'new.yaml'],
        ['4', 'new.yaml'],
      ],
    );
  });
});
