/**
 * Writes that leave nothing behind and change nothing they should not: `render --out` killed
 * with SIGKILL at random moments in a real git repository leaves no file git would add, and
 * the next run removes what it left; in-place writes keep the file's owner, group and mode and
 * refuse a read-only file; `--output`/`--out` never write through a symlink.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import { WriteError } from '../src/errors.js';
import { TEMP_PREFIX } from '../src/fsx/atomic.js';
import { str } from '../src/format/tree.js';
import { editFile } from '../src/ops/edit.js';
import { encryptText } from '../src/ops/encrypt.js';
import { rotateFile } from '../src/ops/rotate.js';
import { setValue } from '../src/ops/set.js';
import { resolveTargets } from '../src/ops/targets.js';
import { updateKeysFile } from '../src/ops/updatekeys.js';
import { BIN, runCli } from './helpers/cli.js';
import { newAgeKey, sourcesFromFiles, testContext } from './helpers/keys.js';

const root = mkdtempSync(join(tmpdir(), 'sealant-write-safety-'));
after(() => rmSync(root, { recursive: true, force: true }));
const alice = newAgeKey(root, 'alice');
const bob = newAgeKey(root, 'bob');
const CANARY = `canary-${randomBytes(8).toString('hex')}`;
const isRoot = process.getuid?.() === 0;

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

/** A git repository with environment `dev` (one encrypted file holding `values`) and `gitignore`, all committed. */
async function renderRepo(name: string, gitignore: string, values: string): Promise<string> {
  const repo = join(root, name);
  mkdirSync(join(repo, 'env/dev'), { recursive: true });
  git(repo, 'init', '-q');
  writeFileSync(
    join(repo, '.sealant.yaml'),
    ['environments:', '  dev:', '    files: ["env/dev/*.yaml"]', `    age: [${alice.recipient}]`, ''].join('\n'),
  );
  writeFileSync(join(repo, 'env/dev/app.yaml'), values);
  const r = await runCli(['encrypt', '-i', 'env/dev/app.yaml'], { cwd: repo });
  assert.equal(r.code, 0, r.stderr);
  writeFileSync(join(repo, '.gitignore'), gitignore);
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'init');
  return repo;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
}

/**
 * Runs `sealant render --env dev --out OUT` in `repo`. `kill` decides when to SIGKILL it: after
 * `afterMs`, or `afterStaging` ms after a staging entry appears in one of `watchDirs`.
 */
function render(
  repo: string,
  out: string,
  kill?: { afterMs?: number; afterStaging?: number; watchDirs?: string[] },
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [BIN, 'render', '--env', 'dev', '--out', out], {
      cwd: repo,
      env: { ...process.env, SOPS_AGE_KEY_FILE: alice.file, HOME: '/nonexistent-sealant-test-home' },
      stdio: 'ignore',
    });
    const timers: NodeJS.Timeout[] = [];
    const watchers = (kill?.afterStaging === undefined ? [] : (kill.watchDirs ?? [repo])).map((d) =>
      watch(d, (_event, file) => {
        if (file?.startsWith(TEMP_PREFIX) === true)
          timers.push(setTimeout(() => child.kill('SIGKILL'), kill!.afterStaging));
      }),
    );
    if (kill?.afterMs !== undefined) timers.push(setTimeout(() => child.kill('SIGKILL'), kill.afterMs));
    const hardStop = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      for (const t of [...timers, hardStop]) clearTimeout(t);
      for (const w of watchers) w.close();
      resolve({ code, signal, ms: Date.now() - started });
    });
  });
}

/** Every regular file under `dir` (not entering `.git`), relative to it. */
function filesUnder(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const p = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory() && p !== '.git') out.push(...filesUnder(dir, p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

function stagingEntries(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.startsWith(TEMP_PREFIX));
}

/**
 * The invariant after any kill: git would add nothing (every leftover is ignored), and whatever
 * holds the plaintext outside the output is readable by its owner only.
 */
function assertNothingGitWouldAdd(repo: string, out: string, what: string): void {
  assert.equal(git(repo, 'status', '--porcelain', '--untracked-files=all'), '', `${what}: git would add a leftover`);
  for (const f of filesUnder(repo).filter((f) => f !== out && readFileSync(join(repo, f)).includes(CANARY))) {
    assert.equal(statSync(join(repo, f)).mode & 0o077, 0, `${what}: ${f} holds plaintext and others can read it`);
  }
}

const BLOB = 'x'.repeat(1 << 20);

/** A value large enough that staging (write + fsync) takes a while, so kills land inside it. */
function bigValues(): string {
  return `db:\n    password: ${CANARY}\nblob: ${BLOB}\n`;
}

/** The complete output of a finished run, 0600 (compared without printing a megabyte on failure). */
function assertRendered(path: string): void {
  const text = readFileSync(path, 'utf8');
  assert.ok(
    text === `DB_PASSWORD='${CANARY}'\nBLOB='${BLOB}'\n`,
    `${path} is not the complete rendering (${text.length} bytes)`,
  );
  assert.equal(statSync(path).mode & 0o777, 0o600);
}

/** Kills `render --out` `n` times: half at random moments of a run, half just after it starts staging. */
async function killRepeatedly(repo: string, out: string, n: number, watchDirs: string[]): Promise<number> {
  const full = await render(repo, out);
  assert.equal(full.code, 0, 'a complete run');
  rmSync(join(repo, out));
  let leftovers = 0;
  for (let i = 0; i < n; i++) {
    const kill =
      i % 2 === 0
        ? { afterMs: Math.floor(Math.random() * full.ms * 1.2) }
        : { afterStaging: Math.floor(Math.random() * 15), watchDirs };
    const r = await render(repo, out, kill);
    assertNothingGitWouldAdd(repo, out, `kill ${i} (${JSON.stringify(kill)}, ${r.signal ?? `exit ${String(r.code)}`})`);
    if (watchDirs.some((d) => stagingEntries(d).length > 0)) leftovers++;
  }
  return leftovers;
}

describe('render --out killed with SIGKILL', () => {
  test('at random moments (rule *.env): every leftover is ignored by git and private; the next run removes it', async (t) => {
    const repo = await renderRepo('kill-ext', '*.env\n', bigValues());
    const leftovers = await killRepeatedly(repo, 'dev.env', 10, [repo]);
    t.diagnostic(`${leftovers} of 10 kills left a staging directory`);
    const done = await render(repo, 'dev.env');
    assert.equal(done.code, 0);
    assert.deepEqual(stagingEntries(repo), [], "the next run removed the dead runs' staging directories");
    assertRendered(join(repo, 'dev.env'));
  });

  test('a rule anchored to the one path (/.env): staged in the git directory, nothing next to the output', async (t) => {
    const repo = await renderRepo('kill-anchored', '/.env\n', bigValues());
    const gitDir = join(repo, '.git');
    const leftovers = await killRepeatedly(repo, '.env', 6, [repo, gitDir]);
    t.diagnostic(`${leftovers} of 6 kills left a staging directory`);
    assert.deepEqual(stagingEntries(repo), []);
    const done = await render(repo, '.env');
    assert.equal(done.code, 0);
    assert.deepEqual([...stagingEntries(repo), ...stagingEntries(gitDir)], []);
    assertRendered(join(repo, '.env'));
  });
});

/** An encrypted file for alice alone, owned by 4242:4343 (when root) with `mode`. */
async function encryptedFile(name: string, mode: number): Promise<string> {
  const dir = mkdtempSync(join(root, 'lib-'));
  writeFileSync(
    join(dir, '.sealant.yaml'),
    ['environments:', '  dev:', '    files: ["*.yaml"]', `    age: [${alice.recipient}, ${bob.recipient}]`, ''].join(
      '\n',
    ),
  );
  const file = join(dir, name);
  const enc = await encryptText(`db:\n    password: ${CANARY}\n`, file, testContext(), {
    groups: [{ age: [alice.recipient], kms: [] }],
  });
  writeFileSync(file, enc.text);
  if (isRoot) chownSync(file, 4242, 4343);
  chmodSync(file, mode);
  return file;
}

/** An editor that changes the password. */
function editor(): string {
  const path = join(root, 'editor.sh');
  writeFileSync(path, '#!/bin/sh\nsed -i "s/password: .*/password: edited/" "$1"\n', { mode: 0o755 });
  return path;
}

type InPlaceWrite = (file: string) => Promise<unknown>;
const inPlaceWrites: [string, InPlaceWrite][] = [
  [
    'set',
    async (file) =>
      setValue(file, 'db.password', str('new'), testContext(), { sources: await sourcesFromFiles(alice.file) }),
  ],
  [
    'rotate',
    async (file) =>
      rotateFile({ file, environment: undefined }, testContext(), { sources: await sourcesFromFiles(alice.file) }),
  ],
  [
    'updatekeys',
    async (file) => {
      const ctx = { ...testContext(), cwd: join(file, '..') };
      const { targets } = await resolveTargets(ctx, { files: [file], requireEnvironment: true });
      return updateKeysFile(targets[0]!, ctx, { sources: await sourcesFromFiles(alice.file) });
    },
  ],
  [
    'edit',
    async (file) =>
      editFile(file, { ...testContext(), env: { EDITOR: editor() } }, { sources: await sourcesFromFiles(alice.file) }),
  ],
];

describe('in-place writes', () => {
  for (const [name, write] of inPlaceWrites) {
    test(
      `${name} keeps the file's owner, group and mode`,
      { skip: isRoot ? false : 'giving a file to another user needs root' },
      async () => {
        const file = await encryptedFile(`${name}-owner.yaml`, 0o640);
        const before = readFileSync(file);
        await write(file);
        assert.notDeepEqual(readFileSync(file), before, 'the file was rewritten');
        const st = statSync(file);
        assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [4242, 4343, 0o640]);
      },
    );

    test(`${name} refuses a read-only file (exit 3) and leaves it as it was`, async () => {
      const file = await encryptedFile(`${name}-ro.yaml`, 0o444);
      const before = readFileSync(file);
      await assert.rejects(
        write(file),
        (e: unknown) =>
          e instanceof WriteError && e.exitCode === 3 && e.message === 'file is read-only' && e.file === file,
      );
      assert.deepEqual(readFileSync(file), before);
      assert.deepEqual(stagingEntries(join(file, '..')), []);
    });
  }

  test('the CLI says so in one line naming the file', async () => {
    const file = await encryptedFile('cli-ro.yaml', 0o444);
    const r = await runCli(['set', file, 'db.password', '"x"'], { env: { SOPS_AGE_KEY_FILE: alice.file } });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stderr.split('\n')[0], `sealant: ${file}: file is read-only`);
    assert.ok(!r.stderr.includes(CANARY));
  });
});

describe('--output and --out never write through a symlink', () => {
  test('decrypt --output, encrypt --output, render --out: a symlink there is refused (exit 3), nothing written', async () => {
    const repo = await renderRepo('symlinks', '*.env\nout/\n', `db:\n    password: ${CANARY}\n`);
    mkdirSync(join(repo, 'out'));
    const victim = join(root, 'victim.txt');
    writeFileSync(victim, 'precious\n');
    const linkTo = (name: string, target: string): string => {
      const p = join(repo, name);
      symlinkSync(target, p);
      return p;
    };
    const env = { SOPS_AGE_KEY_FILE: alice.file };
    writeFileSync(join(repo, 'out/plain.yaml'), 'a: 1\n');
    const cases: [string, string[]][] = [
      ['out/decrypted.yaml', ['decrypt', '--output', 'out/decrypted.yaml', 'env/dev/app.yaml']],
      ['out/dangling.yaml', ['decrypt', '--output', 'out/dangling.yaml', 'env/dev/app.yaml']],
      ['out/enc.yaml', ['encrypt', '--age', alice.recipient, '--output', 'out/enc.yaml', 'out/plain.yaml']],
      ['dev.env', ['render', '--env', 'dev', '--out', 'dev.env']],
    ];
    for (const [link, args] of cases) {
      const target = link.includes('dangling') ? join(root, 'nothing-here.txt') : victim;
      linkTo(link, target);
      const r = await runCli(args, { cwd: repo, env });
      assert.equal(r.code, 3, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /refusing to write through a symbolic link/);
      assert.ok(lstatSync(join(repo, link)).isSymbolicLink());
      assert.equal(readlinkSync(join(repo, link)), target);
    }
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
    assert.equal(existsSync(join(root, 'nothing-here.txt')), false);
  });

  test('an in-place write still replaces the file a symlink points to, and keeps the link', async () => {
    const dir = mkdtempSync(join(root, 'inplace-link-'));
    writeFileSync(join(dir, 'real.yaml'), 'a: 1\n');
    symlinkSync('real.yaml', join(dir, 'link.yaml'));
    const r = await runCli(['encrypt', '--age', alice.recipient, '-i', 'link.yaml'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(lstatSync(join(dir, 'link.yaml')).isSymbolicLink());
    assert.match(readFileSync(join(dir, 'real.yaml'), 'utf8'), /^sops:/m);
  });
});
