/**
 * Read-only git views decode strictly (issue 10, items 1 and 4 of the follow-ups): `guard`,
 * `diff`, the history behind `plan`, and the authority check of a write never read a blob with
 * U+FFFD in place of bytes that are not UTF-8 — two different byte strings must not look alike
 * in a review. A text blob that is not UTF-8 is a finding naming the file (and revision); binary
 * content is compared, and shown, as bytes. Real git repositories, real age keys, in process.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { str } from '../src/format/tree.js';
import { fileHistory } from '../src/history/history.js';
import { diffRevisions } from '../src/ops/diff.js';
import { encryptText } from '../src/ops/encrypt.js';
import { guardStaged } from '../src/ops/guard.js';
import { setValue } from '../src/ops/set.js';
import { changeDetail } from '../src/review/render.js';
import { newAgeKey, sourcesFromFiles } from './helpers/keys.js';

const root = mkdtempSync(join(tmpdir(), 'sealant-strict-views-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
const key = newAgeKey(root, 'key');
const CANARY = 'CANARYs7r1ct';
/** `# café` in Latin-1: one byte (0xE9) that is not UTF-8. */
const LATIN1_COMMENT = Buffer.from([0x23, 0x20, 0x63, 0x61, 0x66, 0xe9, 0x0a]);

const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@t',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@t',
  GIT_CONFIG_NOSYSTEM: '1',
};

function context(repo: string) {
  const warnings: string[] = [];
  return {
    env: { SOPS_AGE_KEY_FILE: key.file },
    cwd: repo,
    now: () => new Date('2026-01-02T03:04:05Z'),
    warn: (m: string) => warnings.push(m),
    warnings,
  };
}

/** A repository whose `.sealant.yaml` owns `env/dev/**`; `vendor/` belongs to no environment. */
function newRepo(): {
  repo: string;
  git: (...args: string[]) => string;
  write: (name: string, data: string | Buffer) => void;
} {
  const repo = mkdtempSync(join(root, 'repo-'));
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', env: gitEnv });
  git('init', '-q');
  const write = (name: string, data: string | Buffer) => {
    mkdirSync(join(repo, name, '..'), { recursive: true });
    writeFileSync(join(repo, name), data);
  };
  write('.sealant.yaml', `environments:\n  dev:\n    files: ["env/dev/**"]\n    age: [${key.recipient}]\n`);
  return { repo, git, write };
}

async function encrypted(content: string | Buffer, file: string): Promise<string> {
  return (await encryptText(content, file, context(root), { groups: [{ age: [key.recipient], kms: [] }] })).text;
}

/** An encrypted YAML file with a Latin-1 comment line appended: valid SOPS file except for one byte. */
async function withLatin1Comment(file: string): Promise<Buffer> {
  return Buffer.concat([Buffer.from(await encrypted(`password: ${CANARY}\n`, file)), LATIN1_COMMENT]);
}

describe('guard: a staged text file that is not UTF-8', () => {
  test('owned, or holding ENC values where nothing owns it: an error naming the offset; never a repaired view', async () => {
    const { repo, git, write } = newRepo();
    write('env/dev/app.yaml', await withLatin1Comment('env/dev/app.yaml'));
    write('vendor/x.yaml', await withLatin1Comment('vendor/x.yaml'));
    git('add', '-A');
    const report = await guardStaged(context(repo), { repoDir: repo });
    const byFile = (f: string) =>
      report.results
        .filter((r) => r.file === f)
        .map((r) => [r.check, r.severity, r.message.replace(/offset \d+/, 'offset N')]);
    const expected = [
      'sops-metadata',
      'error',
      'not valid UTF-8 text: invalid byte at offset N: no SOPS tool can read this file',
    ];
    assert.deepEqual(byFile('env/dev/app.yaml'), [expected]);
    assert.deepEqual(byFile('vendor/x.yaml'), [expected]);
    assert.ok(!JSON.stringify(report).includes(CANARY));
  });

  test('an owned plaintext file that is not UTF-8 is an unencrypted file; an unowned Latin-1 text is no finding', async () => {
    const { repo, git, write } = newRepo();
    write('env/dev/notes.yaml', LATIN1_COMMENT);
    write('vendor/readme.yaml', LATIN1_COMMENT);
    git('add', '-A');
    const report = await guardStaged(context(repo), { repoDir: repo });
    assert.deepEqual(
      report.results.map((r) => [r.file, r.check, r.line]),
      [['env/dev/notes.yaml', 'unencrypted-file', 1]],
    );
    assert.match(
      report.results[0]!.message,
      /environment "dev" owns this file but it is not a SOPS file \(not valid UTF-8 text: invalid byte at offset 5\)/,
    );
  });
});

describe('diff: two revisions that differ only in bytes that are not UTF-8 do not look alike', () => {
  test('keyless: the side that is not UTF-8 is an alert naming the revision and the offset', async () => {
    const { repo, git, write } = newRepo();
    const clean = await encrypted(`password: ${CANARY}\n`, 'env/dev/app.yaml');
    write('env/dev/app.yaml', clean);
    git('add', '-A');
    git('commit', '-q', '-m', 'base');
    write('env/dev/app.yaml', Buffer.concat([Buffer.from(clean), LATIN1_COMMENT]));
    const report = await diffRevisions(context(repo), { keys: 'no-keys' });
    assert.equal(report.alerts, 1);
    const alerts = report.files[0]!.alerts;
    assert.equal(alerts.length, 1, alerts.join('\n'));
    assert.match(
      alerts[0]!,
      /^the new revision could not be read as yaml: not valid UTF-8 text: invalid byte at offset \d+$/,
    );
  });

  test('an unowned file with ENC values that is not UTF-8 is reviewed, not left out', async () => {
    const { repo, git, write } = newRepo();
    write('vendor/x.yaml', await encrypted('a: 1\n', 'vendor/x.yaml'));
    git('add', '-A');
    git('commit', '-q', '-m', 'base');
    write('vendor/x.yaml', await withLatin1Comment('vendor/x.yaml'));
    const report = await diffRevisions(context(repo), { keys: 'no-keys' });
    assert.deepEqual(
      report.files.map((f) => f.file),
      ['vendor/x.yaml'],
    );
    assert.match(report.files[0]!.alerts.join('\n'), /new revision could not be read as yaml: not valid UTF-8 text/);
  });

  test('keyed --show-values: binary content is compared and shown as bytes (base64), not as U+FFFD', async () => {
    const { repo, git, write } = newRepo();
    write('env/dev/blob.bin', await encrypted(Buffer.from([0xff, 0x00, 0x01]), 'env/dev/blob.bin'));
    git('add', '-A');
    git('commit', '-q', '-m', 'base');
    write('env/dev/blob.bin', await encrypted(Buffer.from([0xfe, 0x00, 0x01]), 'env/dev/blob.bin'));
    const report = await diffRevisions(context(repo), {
      keys: 'keys',
      showValues: true,
      sources: await sourcesFromFiles(key.file),
    });
    const change = report.files[0]!.changes.find((c) => c.path === 'data');
    assert.deepEqual(change?.value, { old: '/wAB', new: '/gAB' });
    assert.deepEqual(change?.valueEncoding, { old: 'base64', new: 'base64' });
    assert.match(changeDetail(change!), /, base64 "\/wAB" → base64 "\/gAB"$/);
  });
});

describe('history (what plan reads): a revision that is not UTF-8', () => {
  test('is left out and listed with its commit and reason; plan-facing, never read with U+FFFD', async () => {
    const { repo, git, write } = newRepo();
    const clean = await encrypted(`password: ${CANARY}\n`, 'env/dev/app.yaml');
    const commit = (data: string | Buffer) => {
      write('env/dev/app.yaml', data);
      git('add', '-A');
      git('commit', '-q', '-m', 'c');
      return git('rev-parse', 'HEAD').trim();
    };
    commit(clean);
    const bad = commit(Buffer.concat([Buffer.from(clean), LATIN1_COMMENT]));
    commit(clean);
    const h = await fileHistory(repo, 'env/dev/app.yaml');
    assert.equal(h.entries.length, 3);
    assert.deepEqual(
      h.skipped.map((s) => [s.commit, s.reason.replace(/offset \d+/, 'offset N')]),
      [[bad, 'not valid UTF-8 text: invalid byte at offset N']],
    );
  });
});

describe('a write to a file no config owns: a last commit that is not UTF-8', () => {
  test('is said, not compared as if its bad bytes were U+FFFD', async () => {
    const { repo, git, write } = newRepo();
    write('vendor/x.yaml', await withLatin1Comment('vendor/x.yaml'));
    git('add', '-A');
    git('commit', '-q', '-m', 'base');
    write('vendor/x.yaml', await encrypted(`password: ${CANARY}\n`, 'vendor/x.yaml'));
    const ctx = context(repo);
    await setValue(join(repo, 'vendor/x.yaml'), 'other', str('v'), ctx, { sources: await sourcesFromFiles(key.file) });
    assert.equal(ctx.warnings.length, 1, ctx.warnings.join('\n'));
    assert.match(
      ctx.warnings[0]!,
      /^vendor\/x\.yaml: the last committed version is not valid UTF-8 text: invalid byte at offset \d+: its encryption settings cannot be compared with these$/,
    );
  });
});

describe('guardStaged without repoDir', () => {
  test('judges the index of the work tree ctx.cwd is in, from a subdirectory too', async () => {
    const { repo, git, write } = newRepo();
    write('env/dev/new.yaml', `token: ${CANARY}\n`);
    git('add', '-A');
    const report = await guardStaged(context(join(repo, 'env', 'dev')));
    assert.deepEqual(
      report.results.filter((r) => r.file === 'env/dev/new.yaml').map((r) => [r.check, r.severity]),
      [['unencrypted-file', 'error']],
    );
    assert.ok(!JSON.stringify(report).includes(CANARY));
  });
});
