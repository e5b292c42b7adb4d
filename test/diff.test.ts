/**
 * `sealant diff` in real git repositories: commits that add, remove, change and retype keys
 * (through `sealant set`/`unset`, which keep other ciphertexts), add a recipient (`updatekeys`)
 * and rotate the data key (`rotate`), each reviewed without keys and with keys. A canary secret
 * must never appear in masked output, `--json` or Markdown — only with `--show-values`.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { parseNameStatus } from '../src/ops/diff.js';
import { fingerprinter } from '../src/review/keyed.js';
import { renderHuman, renderMarkdown } from '../src/review/render.js';
import { reviewFile, type FileReview } from '../src/review/semantic.js';
import { runCli } from './helpers/cli.js';
import { newAgeKey, type Key } from './helpers/keys.js';

const root = mkdtempSync(join(tmpdir(), 'sealant-diff-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

const CANARY = 'canary-7f3e9a-do-not-print';
const CANARY2 = 'canary-b41d22-also-secret';

const newKey = (name: string): Key => newAgeKey(root, name);

const alice = newKey('alice');
const bob = newKey('bob');

function git(repo: string, ...args: string[]): string {
  return execFileSync('git', ['-C', repo, ...args], {
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@t',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@t',
    },
  });
}

function commit(repo: string, message: string): string {
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', message);
  return git(repo, 'rev-parse', 'HEAD').trim();
}

const config = (...recipients: string[]) =>
  ['environments:', '  dev:', '    files: ["secrets/**"]', `    age: [${recipients.join(', ')}]`, ''].join('\n');

async function sealant(repo: string, args: string[], key?: Key) {
  const r = await runCli(args, { cwd: repo, env: key === undefined ? {} : { SOPS_AGE_KEY_FILE: key.file } });
  return r;
}

async function must(repo: string, args: string[], key?: Key): Promise<void> {
  const r = await sealant(repo, args, key);
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
}

async function diffJson(
  repo: string,
  args: string[],
  key?: Key,
): Promise<{ report: { mode: string; files: FileReview[]; alerts: number }; stdout: string; code: number | null }> {
  const r = await sealant(repo, ['diff', '--json', ...args], key);
  const env = JSON.parse(r.stdout) as { status: string; result: { mode: string; files: FileReview[]; alerts: number } };
  assert.equal(env.status, 'success', r.stdout);
  return { report: env.result, stdout: r.stdout, code: r.code };
}

const paths = (f: FileReview, kind: string) =>
  f.changes
    .filter((c) => c.change === kind)
    .map((c) => c.path)
    .sort();

/** The history every test reads: c1 initial, c2 edits, c3 updatekeys (+bob), c4 rotate. */
const h = { repo: '', c1: '', c2: '', c3: '', c4: '' };

before(async () => {
  const repo = mkdtempSync(join(root, 'repo-'));
  git(repo, 'init', '-q');
  writeFileSync(join(repo, '.sealant.yaml'), config(alice.recipient));
  execFileSync('mkdir', ['-p', join(repo, 'secrets')]);
  writeFileSync(
    join(repo, 'secrets/app.yaml'),
    `db:\n    password: ${CANARY}\n    port: 5432\nkeep: same-value\nold: going-away\n`,
  );
  await must(repo, ['encrypt', '--in-place', 'secrets/app.yaml']);
  h.c1 = commit(repo, 'c1');
  await must(repo, ['set', 'secrets/app.yaml', 'db.password', JSON.stringify(CANARY2)], alice);
  await must(repo, ['set', 'secrets/app.yaml', 'db.port', '"5432"'], alice);
  await must(repo, ['set', 'secrets/app.yaml', 'added', '"new-value"'], alice);
  await must(repo, ['unset', 'secrets/app.yaml', 'old'], alice);
  h.c2 = commit(repo, 'c2');
  writeFileSync(join(repo, '.sealant.yaml'), config(alice.recipient, bob.recipient));
  await must(repo, ['updatekeys', 'secrets/app.yaml'], alice);
  h.c3 = commit(repo, 'c3');
  await must(repo, ['rotate', 'secrets/app.yaml'], alice);
  h.c4 = commit(repo, 'c4');
  h.repo = repo;
});

describe('sealant diff: add, remove, change, retype', () => {
  test('keyless: ciphertexts tell which values changed; types from the ENC tags', async () => {
    const { report } = await diffJson(h.repo, [h.c1, h.c2]);
    assert.equal(report.mode, 'keyless');
    assert.equal(report.files.length, 1);
    const f = report.files[0]!;
    assert.equal(f.file, 'secrets/app.yaml');
    assert.deepEqual(paths(f, 'added'), ['added']);
    assert.deepEqual(paths(f, 'removed'), ['old']);
    assert.deepEqual(paths(f, 'changed'), ['db.password', 'db.port']);
    assert.deepEqual(f.unchanged.paths, ['keep']);
    assert.deepEqual(f.retyped, [{ path: 'db.port', old: 'int', new: 'str' }]);
    assert.equal(f.dataKey, 'same');
    assert.equal(f.mac.changed, true);
    assert.ok(f.lastmodified !== undefined);
    assert.deepEqual(f.recipients, { added: [], removed: [] });
    assert.deepEqual(f.alerts, []);
    const pw = f.changes.find((c) => c.path === 'db.password')!;
    assert.deepEqual(pw.length, { old: CANARY.length, new: CANARY2.length });
    assert.equal(pw.fingerprint, undefined);
  });

  test('keyed: the same verdicts, masked with fingerprints; no canary anywhere', async () => {
    const { report, stdout } = await diffJson(h.repo, [h.c1, h.c2], alice);
    assert.equal(report.mode, 'keyed');
    const f = report.files[0]!;
    assert.deepEqual(paths(f, 'changed'), ['db.password', 'db.port']);
    assert.deepEqual(f.unchanged.paths, ['keep']);
    const pw = f.changes.find((c) => c.path === 'db.password')!;
    assert.match(pw.fingerprint!.old!, /^fp:[0-9a-f]{6}$/);
    assert.notEqual(pw.fingerprint!.old, pw.fingerprint!.new);
    assert.equal(pw.value, undefined);
    // Same digits, different type: fingerprints differ because the type is hashed too.
    const port = f.changes.find((c) => c.path === 'db.port')!;
    assert.notEqual(port.fingerprint!.old, port.fingerprint!.new);
    for (const format of [[], ['--format', 'markdown']]) {
      const r = await sealant(h.repo, ['diff', h.c1, h.c2, ...format], alice);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /db\.password/);
      assert.ok(!r.stdout.includes(CANARY) && !r.stdout.includes(CANARY2), r.stdout);
    }
    assert.ok(!stdout.includes(CANARY) && !stdout.includes(CANARY2));
  });

  test('--show-values reveals the values (and only then)', async () => {
    const r = await sealant(h.repo, ['diff', h.c1, h.c2, '--show-values'], alice);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(CANARY) && r.stdout.includes(CANARY2), r.stdout);
    const { report } = await diffJson(h.repo, [h.c1, h.c2, '--show-values'], alice);
    assert.deepEqual(report.files[0]!.changes.find((c) => c.path === 'db.password')!.value, {
      old: CANARY,
      new: CANARY2,
    });
  });

  test('--no-keys stays keyless even with an identity at hand', async () => {
    const { report } = await diffJson(h.repo, [h.c1, h.c2, '--no-keys'], alice);
    assert.equal(report.mode, 'keyless');
  });
});

describe('sealant diff: recipients and data key', () => {
  test('updatekeys: a recipient added, no value changed, same data key', async () => {
    for (const key of [undefined, alice]) {
      const f = (await diffJson(h.repo, [h.c2, h.c3], key)).report.files.find((x) => x.file === 'secrets/app.yaml')!;
      assert.deepEqual(f.recipients, { added: [bob.recipient], removed: [] });
      assert.deepEqual(f.changes, []);
      assert.equal(f.dataKey, 'same');
      assert.equal(f.mode, key === undefined ? 'keyless' : 'keyed');
    }
  });

  test('rotate without keys: data key rotated, per-value change unknown', async () => {
    const f = (await diffJson(h.repo, [h.c3, h.c4])).report.files[0]!;
    assert.equal(f.dataKey, 'rotated');
    assert.equal(f.counts.unknown, 4);
    assert.equal(f.counts.changed, 0);
    assert.ok(f.notes.some((n) => /unknown without keys/.test(n)));
    const human = await sealant(h.repo, ['diff', h.c3, h.c4]);
    assert.match(human.stdout, /data key: rotated/);
  });

  test('rotate with keys: data key rotated, every value unchanged', async () => {
    const f = (await diffJson(h.repo, [h.c3, h.c4], alice)).report.files[0]!;
    assert.equal(f.dataKey, 'rotated');
    assert.equal(f.counts.unchanged, 4);
    assert.deepEqual(f.changes, []);
  });

  test('--base compares the merge base with HEAD; paths after -- filter', async () => {
    git(h.repo, 'branch', '-f', 'base', h.c1);
    const { report } = await diffJson(h.repo, ['--base', 'base']);
    const f = report.files[0]!;
    assert.deepEqual(paths(f, 'added'), ['added']);
    assert.deepEqual(f.recipients.added, [bob.recipient]);
    const none = await diffJson(h.repo, ['--base', 'base', '--', 'nothing-here']);
    assert.deepEqual(none.report.files, []);
  });

  test('an unknown revision is a usage error', async () => {
    const r = await sealant(h.repo, ['diff', 'no-such-rev']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /unknown revision/);
  });
});

describe('sealant diff: plaintext', () => {
  test('a plaintext file the config owns is flagged loudly (exit 1), its value not printed', async () => {
    const repo = mkdtempSync(join(root, 'plain-'));
    git(repo, 'init', '-q');
    writeFileSync(join(repo, '.sealant.yaml'), config(alice.recipient));
    execFileSync('mkdir', ['-p', join(repo, 'secrets')]);
    writeFileSync(join(repo, 'README.md'), 'hello\n');
    commit(repo, 'init');
    writeFileSync(join(repo, 'secrets/leak.yaml'), `token: ${CANARY}\n`);
    writeFileSync(join(repo, 'notes.yaml'), 'not: a secret\n');
    const r = await sealant(repo, ['diff']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /PLAINTEXT/);
    assert.ok(!r.stdout.includes(CANARY));
    assert.doesNotMatch(r.stdout, /notes\.yaml/);
    const md = await sealant(repo, ['diff', '--format', 'markdown']);
    assert.match(md.stdout, /\[!CAUTION\]/);
    assert.ok(!md.stdout.includes(CANARY));
    const { report } = await diffJson(repo, []);
    assert.equal(report.alerts, 1);
  });
});

describe('review units', () => {
  test('parseNameStatus reads -z output with renames', () => {
    assert.deepEqual(parseNameStatus('M\0a.yaml\0R090\0old.yaml\0new.yaml\0D\0gone.env\0'), [
      { status: 'M', path: 'a.yaml', oldPath: 'a.yaml' },
      { status: 'R', path: 'new.yaml', oldPath: 'old.yaml' },
      { status: 'D', path: 'gone.env', oldPath: 'gone.env' },
    ]);
  });

  test('fingerprints: equal for equal values in one run, typed, different across runs', () => {
    const fp = fingerprinter(Buffer.alloc(32, 1));
    assert.equal(fp('str', Buffer.from('x')), fp('str', Buffer.from('x')));
    assert.notEqual(fp('str', Buffer.from('1')), fp('int', Buffer.from('1')));
    assert.notEqual(fingerprinter()('str', Buffer.from('x')), fingerprinter()('str', Buffer.from('x')));
  });

  test('a changed rule is shown as the other reports show it; regexes that differ past 80 characters still differ', () => {
    const enc = readFileSync(join(h.repo, 'secrets/app.yaml'), 'utf8');
    const long = `^(${'a'.repeat(90)})$`;
    const withRule = (rule: string) => enc.replace(/^ {4}unencrypted_suffix: _unencrypted$/m, () => `    ${rule}`);
    const f = reviewFile({ file: 'secrets/app.yaml', oldText: enc, newText: withRule('encrypted_regex: ^db$') });
    assert.deepEqual(f.rule, { old: 'unencrypted_suffix "_unencrypted"', new: 'encrypted_regex "^db$"' });
    assert.ok(
      renderHuman({ from: 'a', to: 'b', mode: 'keyless', files: [f] }).includes(
        'rule: unencrypted_suffix "_unencrypted" → encrypted_regex "^db$"',
      ),
    );
    const past80 = reviewFile({
      file: 'secrets/app.yaml',
      oldText: withRule(`encrypted_regex: '${long}'`),
      newText: withRule(`encrypted_regex: '${long.replace('a)', 'b)')}'`),
    });
    assert.ok(past80.rule !== undefined, 'the rules differ');
  });

  test('a value the rule encrypts, committed in clear inside a SOPS file, is an alert', () => {
    const enc = readFileSync(join(h.repo, 'secrets/app.yaml'), 'utf8');
    const tampered = enc.replace(/^keep: .*$/m, `keep: ${CANARY}`);
    const f = reviewFile({ file: 'secrets/app.yaml', oldText: enc, newText: tampered });
    assert.ok(
      f.alerts.some((a) => /keep/.test(a) && /clear text/.test(a)),
      f.alerts.join('\n'),
    );
    assert.ok(!JSON.stringify(f).includes(CANARY));
    assert.ok(!renderMarkdown({ from: 'a', to: 'b', mode: 'keyless', files: [f] }).includes(CANARY));
  });
});
