/**
 * The config is the authority over an owned file's `sops` block (issue 10, item 3). Nothing in
 * that block but `lastmodified` is under the MAC, so the exploits are plain text edits: make
 * `github_token` match `unencrypted_suffix`, narrow `encrypted_regex`, add an age stanza. Every
 * write path must refuse them (nothing written, no value in clear), `rotate` must not keep them,
 * and `validate`/`guard`/`diff` must report them without a key. A file no config owns keeps
 * SOPS's behaviour, with a warning when its rule changed since the last commit.
 *
 * In-process over real git repositories and real age keys; one CLI run shows the exit code.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { str } from '../src/format/tree.js';
import { SealantError } from '../src/errors.js';
import { decryptFile } from '../src/ops/decrypt.js';
import { diffRevisions } from '../src/ops/diff.js';
import { editFile } from '../src/ops/edit.js';
import { encryptOver, encryptText } from '../src/ops/encrypt.js';
import { mergeDriver } from '../src/ops/git-merge.js';
import { guardStaged } from '../src/ops/guard.js';
import { applyPlan } from '../src/ops/apply.js';
import { planRotation } from '../src/ops/plan.js';
import { rotateFile } from '../src/ops/rotate.js';
import { setValue, unsetValue } from '../src/ops/set.js';
import { resolveTargets } from '../src/ops/targets.js';
import { updateKeysFile } from '../src/ops/updatekeys.js';
import { validate } from '../src/ops/validate.js';
import type { KeySources } from '../src/keys/datakey.js';
import { runCli } from './helpers/cli.js';
import { newAgeKey, sourcesFromFiles, testContext } from './helpers/keys.js';

const root = mkdtempSync(join(tmpdir(), 'sealant-authority-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

const alice = newAgeKey(root, 'alice');
const mallory = newAgeKey(root, 'mallory');
/** Must never be written in clear. */
const TOKEN = 'ghp_CANARYa0th0r1ty';

const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@t',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@t',
  GIT_CONFIG_NOSYSTEM: '1',
};

function git(repo: string, ...args: string[]): string {
  return execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', env: gitEnv });
}

const CONFIG = `environments:\n  dev:\n    files: ["env/**"]\n    age: [${alice.recipient}]\n`;
const APP = 'db:\n    host: db.internal\n    password: hunter2\napi:\n    token: t0ken\n';
/** Under `encrypted_regex: ^db$` this file still decrypts (its MAC checks out): the exploit's shape. */
const DB_ONLY = 'db:\n    host: db.internal\n    password: hunter2\n';

interface Repo {
  repo: string;
  /** Absolute path of the encrypted file. */
  file: string;
  ctx: ReturnType<typeof testContext>;
  sources: KeySources;
}

/** A git repository with `.sealant.yaml` (unless `config` is null) and one committed encrypted file. */
async function repoWith(name = 'env/app.yaml', config: string | null = CONFIG, plaintext = APP): Promise<Repo> {
  const repo = mkdtempSync(join(root, 'repo-'));
  git(repo, 'init', '-q');
  if (config !== null) writeFileSync(join(repo, '.sealant.yaml'), config);
  const file = join(repo, name);
  mkdirSync(join(file, '..'), { recursive: true });
  const ctx = { ...testContext(), cwd: repo, env: gitEnv };
  writeFileSync(
    file,
    (await encryptText(plaintext, file, ctx, { groups: [{ age: [alice.recipient], kms: [] }] })).text,
  );
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'init');
  return { repo, file, ctx, sources: await sourcesFromFiles(alice.file) };
}

/** Edits the file's text the way a pull request can: no key needed. */
function tamper(file: string, from: string | RegExp, to: string): string {
  const before = readFileSync(file, 'utf8');
  const after = before.replace(from, to);
  assert.notEqual(after, before, 'the tamper must change the file');
  writeFileSync(file, after);
  return after;
}

const toTokenSuffix = (file: string) => tamper(file, 'unencrypted_suffix: _unencrypted', 'unencrypted_suffix: _token');
const toDbRegex = (file: string) => tamper(file, '    unencrypted_suffix: _unencrypted', '    encrypted_regex: ^db$');

/** Adds an age stanza for `recipient` by hand (it wraps random bytes: whoever adds it has no key). */
function addStanza(file: string, recipient: string): string {
  const armored = execFileSync('age', ['-r', recipient, '-a'], { input: Buffer.alloc(32, 7) }).toString('utf8');
  const stanza = `        - recipient: ${recipient}\n          enc: |\n${armored
    .trimEnd()
    .split('\n')
    .map((l) => `            ${l}`)
    .join('\n')}\n`;
  return tamper(file, '    age:\n', `    age:\n${stanza}`);
}

/** Asserts `p` is refused as WEAKENED_METADATA (exit 53) naming `field`, and the file kept `bytes`. */
async function assertRefused(p: Promise<unknown>, field: string, file: string, bytes: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof SealantError, String(e));
    assert.equal(e.code, 'WEAKENED_METADATA', e.message);
    assert.equal(e.exitCode, 53);
    assert.match(e.message, new RegExp(`sops\\.${field}`));
    assert.ok(!e.toOneLine().includes('\n'));
    return true;
  });
  assert.equal(readFileSync(file, 'utf8'), bytes, 'nothing written');
  assert.ok(!bytes.includes(TOKEN));
}

describe('owned file: a weakened sops block is refused by every write path', () => {
  test("the issue's exploit: unencrypted_suffix _token, then set github_token — refused, never in clear", async () => {
    const { file, ctx, sources } = await repoWith();
    const bytes = toTokenSuffix(file);
    await assertRefused(
      setValue(file, 'github_token', str(TOKEN), ctx, { sources }),
      'unencrypted_suffix',
      file,
      bytes,
    );
    await assertRefused(unsetValue(file, 'api.token', ctx, { sources }), 'unencrypted_suffix', file, bytes);
  });

  test('encrypted_regex ^db$ in an environment-owned file: set api.token is refused', async () => {
    const { file, ctx, sources } = await repoWith(undefined, undefined, DB_ONLY);
    const bytes = toDbRegex(file);
    await assertRefused(setValue(file, 'api.token', str(TOKEN), ctx, { sources }), 'encrypted_regex', file, bytes);
  });

  test('mac_only_encrypted: true added by hand is refused', async () => {
    const { file, ctx, sources } = await repoWith();
    const bytes = tamper(file, '    unencrypted_suffix:', '    mac_only_encrypted: true\n    unencrypted_suffix:');
    await assertRefused(setValue(file, 'api.token', str(TOKEN), ctx, { sources }), 'mac_only_encrypted', file, bytes);
  });

  test("rotate does not keep the weakened rule: refused; --adopt-rule re-encrypts under the environment's rule", async () => {
    const { file, ctx, sources } = await repoWith(undefined, undefined, DB_ONLY);
    const bytes = toDbRegex(file);
    const target = (await resolveTargets(ctx, { files: [file] })).targets[0]!;
    assert.equal(target.environment?.name, 'dev');
    await assertRefused(rotateFile(target, ctx, { sources }), 'encrypted_regex', file, bytes);
    await rotateFile(target, ctx, { sources, adoptRule: true });
    const after = readFileSync(file, 'utf8');
    assert.doesNotMatch(after, /encrypted_regex/);
    assert.match(after, /unencrypted_suffix: _unencrypted/);
    assert.match(after, /host: ENC\[/);
    await setValue(file, 'api.token', str(TOKEN), ctx, { sources });
    assert.match(readFileSync(file, 'utf8'), /token: ENC\[/);
  });

  test('updatekeys refuses a weakened rule (re-wrapping does not repair it)', async () => {
    const { file, ctx, sources } = await repoWith(
      undefined,
      `environments:\n  dev:\n    files: ["env/**"]\n    age: [${alice.recipient}, ${mallory.recipient}]\n`,
    );
    const bytes = toTokenSuffix(file);
    const target = (await resolveTargets(ctx, { files: [file] })).targets[0]!;
    await assertRefused(updateKeysFile(target, ctx, { sources }), 'unencrypted_suffix', file, bytes);
  });

  test('edit refuses before the editor opens', async () => {
    const { repo, file, ctx, sources } = await repoWith();
    const bytes = toTokenSuffix(file);
    const marker = join(repo, 'editor-ran');
    await assertRefused(
      editFile(file, ctx, { sources, editor: `touch '${marker}' && true` }),
      'unencrypted_suffix',
      file,
      bytes,
    );
    assert.equal(existsSync(marker), false, 'the editor must not have run');
  });

  test('encrypt --output over a weakened old version is refused', async () => {
    const { repo, file, ctx, sources } = await repoWith();
    const bytes = toTokenSuffix(file);
    const plain = join(repo, 'plain.yaml');
    writeFileSync(plain, `${APP}github_token: ${TOKEN}\n`);
    await assertRefused(
      encryptOver(readFileSync(plain, 'utf8'), plain, bytes, file, ctx, { sources }),
      'unencrypted_suffix',
      file,
      bytes,
    );
  });

  test('apply of a plan refuses a file whose rule was weakened', async () => {
    const { repo, file, ctx, sources } = await repoWith(undefined, undefined, DB_ONLY);
    const bytes = toDbRegex(file);
    git(repo, 'commit', '-q', '-am', 'weaken');
    // A recipient added in the config makes the plan re-wrap the file.
    writeFileSync(
      join(repo, '.sealant.yaml'),
      `environments:\n  dev:\n    files: ["env/**"]\n    age: [${alice.recipient}, ${mallory.recipient}]\n`,
    );
    const plan = await planRotation(ctx, { sources });
    assert.equal(plan.files.length, 1);
    assert.ok(plan.files[0]!.actions.includes('rewrap'));
    await assertRefused(applyPlan(plan, ctx, { sources }), 'encrypted_regex', file, bytes);
  });

  test("the merge driver refuses a merge that takes theirs' weakened sops block; %A stays ours", async () => {
    const { repo, file, ctx, sources } = await repoWith();
    const ours = readFileSync(file, 'utf8');
    const theirs = toTokenSuffix(file);
    writeFileSync(file, ours);
    const [base, a, b] = ['base', 'ours', 'theirs'].map((n) => join(repo, `.merge-${n}`));
    writeFileSync(base!, ours);
    writeFileSync(a!, ours);
    writeFileSync(b!, theirs);
    await assertRefused(
      mergeDriver(ctx, { ancestor: base!, current: a!, other: b!, path: 'env/app.yaml' }, { sources }),
      'unencrypted_suffix',
      a!,
      ours,
    );
  });

  test('a recipient the environment does not name: set refuses; updatekeys drops it; rotate wraps no new key for it', async () => {
    const { file, ctx, sources } = await repoWith();
    const bytes = addStanza(file, mallory.recipient);
    await assertRefused(setValue(file, 'api.token', str(TOKEN), ctx, { sources }), 'key_groups', file, bytes);
    const target = (await resolveTargets(ctx, { files: [file] })).targets[0]!;
    await rotateFile(target, ctx, { sources });
    assert.ok(
      !readFileSync(file, 'utf8').includes(mallory.recipient),
      'rotate wraps the new data key only for the environment',
    );
    addStanza(file, mallory.recipient);
    const up = await updateKeysFile(target, ctx, { sources });
    assert.deepEqual(up.removed, [mallory.recipient]);
    assert.ok(!readFileSync(file, 'utf8').includes(mallory.recipient));
    assert.equal((await setValue(file, 'api.token', str('fine'), ctx, { sources })).changed, true);
  });

  test('a stronger rule in the file is not refused (a longer unencrypted_suffix)', async () => {
    const { file, ctx, sources } = await repoWith();
    tamper(file, 'unencrypted_suffix: _unencrypted', 'unencrypted_suffix: _really_unencrypted');
    assert.equal((await setValue(file, 'api.token', str('fine'), ctx, { sources })).changed, true);
  });

  test('CLI: exit 53, one line naming the field and a hint; the token is not in the file or the output', async () => {
    const { repo, file } = await repoWith();
    const bytes = toTokenSuffix(file);
    const r = await runCli(['set', 'env/app.yaml', 'github_token', JSON.stringify(TOKEN)], {
      cwd: repo,
      env: { SOPS_AGE_KEY_FILE: alice.file },
    });
    assert.equal(r.code, 53, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0]!, /^sealant: env\/app\.yaml: refusing to write: sops\.unencrypted_suffix "_token"/);
    assert.match(lines[1]!, /^hint: .*rotate --adopt-rule/);
    assert.ok(!r.stderr.includes(TOKEN) && !r.stdout.includes(TOKEN));
    assert.equal(readFileSync(file, 'utf8'), bytes);
    const json = await runCli(['set', '--json', 'env/app.yaml', 'github_token', JSON.stringify(TOKEN)], {
      cwd: repo,
      env: { SOPS_AGE_KEY_FILE: alice.file },
    });
    assert.equal(json.code, 53);
    assert.deepEqual([JSON.parse(json.stdout).code, JSON.parse(json.stdout).exitCode], ['WEAKENED_METADATA', 53]);
  });

  test('CLI: rotate refuses a rule weaker than the config (exit 53) until --adopt-rule', async () => {
    const { repo, file } = await repoWith(undefined, undefined, DB_ONLY);
    const bytes = toDbRegex(file);
    const env = { SOPS_AGE_KEY_FILE: alice.file };
    const refused = await runCli(['rotate', 'env/app.yaml'], { cwd: repo, env });
    assert.equal(refused.code, 53, refused.stderr);
    assert.match(refused.stderr, /env\/app\.yaml: FAILED: refusing to write: sops\.encrypted_regex/);
    assert.equal(readFileSync(file, 'utf8'), bytes);
    const adopted = await runCli(['rotate', '--adopt-rule', 'env/app.yaml'], { cwd: repo, env });
    assert.equal(adopted.code, 0, adopted.stderr);
    assert.doesNotMatch(readFileSync(file, 'utf8'), /encrypted_regex/);
  });
});

describe('--config decides who owns the file, for every write path', () => {
  /** A repository whose own config owns nothing (vendor/), and other.yaml, which owns vendor/. */
  async function repoOwnedByOther(): Promise<Repo & { other: string; bytes: string }> {
    const r = await repoWith(
      'vendor/app.yaml',
      `environments:\n  dev:\n    files: ["env/**"]\n    age: [${alice.recipient}]\n`,
    );
    const other = join(r.repo, 'other.yaml');
    writeFileSync(other, `environments:\n  vendor:\n    files: ["vendor/**"]\n    age: [${alice.recipient}]\n`);
    return { ...r, other, bytes: toTokenSuffix(r.file) };
  }

  test('set and unset with configPath refuse what that config forbids (the found config owns nothing)', async () => {
    const { file, ctx, sources, other, bytes } = await repoOwnedByOther();
    const opts = { sources, configPath: other };
    await assertRefused(setValue(file, 'github_token', str(TOKEN), ctx, opts), 'unencrypted_suffix', file, bytes);
    await assertRefused(unsetValue(file, 'api.token', ctx, opts), 'unencrypted_suffix', file, bytes);
  });

  test('edit of an existing file with configPath refuses before the editor opens', async () => {
    const { repo, file, ctx, sources, other, bytes } = await repoOwnedByOther();
    const marker = join(repo, 'editor-ran');
    await assertRefused(
      editFile(file, ctx, { sources, configPath: other, editor: `touch '${marker}' && true` }),
      'unencrypted_suffix',
      file,
      bytes,
    );
    assert.equal(existsSync(marker), false, 'the editor must not have run');
  });

  test('CLI: set --config and unset --config exit 53; without --config the found config lets set through', async () => {
    const { repo, file, bytes } = await repoOwnedByOther();
    const env = { SOPS_AGE_KEY_FILE: alice.file };
    const set = await runCli(['set', '--config', 'other.yaml', 'vendor/app.yaml', 'github_token', '"x"'], {
      cwd: repo,
      env,
    });
    assert.equal(set.code, 53, set.stderr);
    assert.match(set.stderr, /^sealant: vendor\/app\.yaml: refusing to write: sops\.unencrypted_suffix/);
    const unset = await runCli(['unset', '--config', 'other.yaml', 'vendor/app.yaml', 'api.token'], { cwd: repo, env });
    assert.equal(unset.code, 53, unset.stderr);
    assert.equal(readFileSync(file, 'utf8'), bytes);
    const found = await runCli(['set', 'vendor/app.yaml', 'github_token', '"x"'], { cwd: repo, env });
    assert.equal(found.code, 0, found.stderr);
  });
});

describe("a file no config owns keeps SOPS's behaviour", () => {
  test('its own rule decides, with a warning when the rule changed since the last commit', async () => {
    const { file, ctx, sources } = await repoWith('vendor.yaml', null);
    assert.equal((await setValue(file, 'api.token', str('x'), ctx, { sources })).changed, true);
    assert.deepEqual(ctx.warnings, [], 'no warning while the rule is the committed one');
    toTokenSuffix(file);
    assert.equal((await setValue(file, 'github_token', str('as-sops-does'), ctx, { sources })).changed, true);
    assert.match(readFileSync(file, 'utf8'), /github_token: as-sops-does/);
    assert.equal(ctx.warnings.length, 1);
    assert.match(
      ctx.warnings[0]!,
      /^vendor\.yaml: the encryption settings in the sops block changed since the last commit \(unencrypted_suffix "_unencrypted" → unencrypted_suffix "_token"\); values may now stay in clear/,
    );
  });

  test('outside a git repository: no warning', async () => {
    const dir = mkdtempSync(join(root, 'nogit-'));
    const file = join(dir, 'loose.yaml');
    const ctx = { ...testContext(), cwd: dir, env: { ...gitEnv, GIT_CEILING_DIRECTORIES: root } };
    writeFileSync(file, (await encryptText(APP, file, ctx, { groups: [{ age: [alice.recipient], kms: [] }] })).text);
    toTokenSuffix(file);
    await setValue(file, 'github_token', str('x'), ctx, { sources: await sourcesFromFiles(alice.file) });
    assert.deepEqual(ctx.warnings, []);
  });

  test('rotate of an unowned file wraps the new data key for a hand-added stanza too (as sops)', async () => {
    const { file, ctx, sources } = await repoWith('vendor.yaml', null);
    addStanza(file, mallory.recipient);
    const target = (await resolveTargets(ctx, { files: [file] })).targets[0]!;
    assert.equal(target.environment, undefined);
    const r = await rotateFile(target, ctx, { sources });
    assert.ok(r.recipients.includes(mallory.recipient));
    const dec = await decryptFile(file, ctx, { sources: await sourcesFromFiles(mallory.file) });
    assert.match(dec.text, /password: hunter2/, 'mallory holds the new data key, as sops would have done');
  });
});

describe('keyless reports: validate, guard, diff', () => {
  test('validate: a weakened rule and an added recipient are security errors naming the field', async () => {
    const { file, ctx } = await repoWith();
    toDbRegex(file);
    addStanza(file, mallory.recipient);
    const report = await validate(ctx, { mode: 'keyless', files: [file] });
    const security = report.results.filter((r) => r.keyword === 'security');
    assert.deepEqual(
      security.map((r) => [r.severity, r.path, r.message.split(' ')[0]]),
      [
        ['error', 'sops', 'sops.encrypted_regex'],
        ['error', 'sops', 'sops.key_groups:'],
      ],
    );
    assert.match(security[1]!.message, new RegExp(mallory.recipient));
  });

  test('guard: a staged weakened rule or added recipient blocks; unowned, a changed rule warns', async () => {
    const { repo, file, ctx } = await repoWith();
    toTokenSuffix(file);
    git(repo, 'add', '.');
    let report = await guardStaged(ctx, { repoDir: repo });
    assert.deepEqual(
      report.results.map((r) => [r.file, r.check, r.severity]),
      [['env/app.yaml', 'weakened-metadata', 'error']],
    );
    git(repo, 'checkout', 'HEAD', '--', 'env/app.yaml');
    addStanza(file, mallory.recipient);
    git(repo, 'add', '.');
    report = await guardStaged(ctx, { repoDir: repo });
    assert.deepEqual(
      report.results.map((r) => [r.file, r.check, r.severity]),
      [['env/app.yaml', 'added-recipient', 'error']],
    );

    const unowned = await repoWith('vendor.yaml', null);
    toTokenSuffix(unowned.file);
    git(unowned.repo, 'add', '.');
    report = await guardStaged(unowned.ctx, { repoDir: unowned.repo });
    assert.deepEqual(
      report.results.map((r) => [r.file, r.check, r.severity]),
      [['vendor.yaml', 'weakened-metadata', 'warning']],
    );
    assert.equal(report.errors, 0);
  });

  test('diff: the change that weakens the sops block is an alert (owned: against the environment; unowned: against the old revision)', async () => {
    const { file, ctx } = await repoWith();
    toDbRegex(file);
    const [owned] = (await diffRevisions(ctx, { keys: 'no-keys' })).files;
    assert.deepEqual(
      owned!.alerts.filter((a) => a.startsWith('SECURITY:')).map((a) => a.split(' ')[1]),
      ['sops.encrypted_regex'],
    );

    const unowned = await repoWith('vendor.yaml', null);
    toTokenSuffix(unowned.file);
    const [f] = (await diffRevisions(unowned.ctx, { keys: 'no-keys' })).files;
    assert.ok(
      f!.alerts.some((a) => /^SECURITY: sops\.unencrypted_suffix "_token" .* the old revision/.test(a)),
      f!.alerts.join('\n'),
    );
  });
});
