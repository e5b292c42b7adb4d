/**
 * Selector and path patterns are Go RE2, as in sops: Go-only syntax works, JS-only syntax is
 * refused, and a catastrophic pattern written into a file's own `sops` block cannot hang the
 * readers anyone runs on a pull request (decrypt, status, textconv, diff, guard). The CLI runs
 * in a child with a kill timer, so a hang fails the test instead of blocking the runner.
 * Needs `npm run build`.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { compilePathRegex } from '../src/config/regex.js';
import { UsageError } from '../src/errors.js';
import { compileGoRegex, Selector } from '../src/format/selectors.js';
import { encryptText } from '../src/ops/encrypt.js';
import { runCli } from './helpers/cli.js';
import { newAgeKey, testContext } from './helpers/keys.js';

const root = mkdtempSync(join(tmpdir(), 'sealant-re2-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
const key = newAgeKey(root, 'key');

describe('patterns mean what they mean to Go', () => {
  const encrypts = (value: string, keyName: string) => new Selector({ field: 'encrypted_regex', value }).shouldEncrypt([keyName], [[]], false);

  test('an inline flag group after the start of the pattern applies from there on', () => {
    assert.equal(encrypts('^db(?i)_PASSWORD$', 'db_password'), true);
    assert.equal(encrypts('^db(?i)_PASSWORD$', 'DB_password'), false);
  });

  test('Go shorthands: \\pL, POSIX classes, \\z', () => {
    assert.equal(encrypts('^\\pL+$', 'clé'), true);
    assert.equal(encrypts('^[[:upper:]]+$', 'TOKEN'), true);
    assert.equal(encrypts('^[[:upper:]]+$', 'token'), false);
    assert.equal(encrypts('^api\\z', 'api'), true);
  });

  test('JS-only syntax (lookahead, \\Z) is refused, as Go refuses it', () => {
    assert.throws(() => compileGoRegex('^(?=db)'), UsageError);
    assert.throws(() => new Selector({ field: 'unencrypted_regex', value: 'x\\Z' }), UsageError);
  });

  test('path_regex uses the same engine: (?i) mid-pattern and (?P<name>…)', () => {
    assert.equal(compilePathRegex('^environments/(?i)PROD/').test('environments/prod/app.yaml'), true);
    assert.equal(compilePathRegex('^(?P<env>dev|prod)/').test('prod/x.yaml'), true);
  });
});

describe('a catastrophic encrypted_regex in the file cannot hang a reader', () => {
  // Backtracking engines take ~2^40 steps on this key; RE2 takes one pass.
  const EVIL_KEY = `${'a'.repeat(40)}b`;
  const EVIL_RULE = '^(a+)+$|^db$';
  const repo = join(root, 'repo');
  const file = 'secrets.yaml';
  const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', env: gitEnv });
  const run = (args: string[]) => runCli(args, { cwd: repo, env: { SOPS_AGE_KEY_FILE: key.file }, timeoutMs: 20_000 });

  before(async () => {
    const ctx = testContext();
    const encrypt = async (text: string) =>
      (await encryptText(text, file, ctx, { groups: [{ age: [key.recipient], kms: [] }], rule: { field: 'encrypted_regex', value: '^db$' } })).text;
    execFileSync('git', ['init', '-q', repo]);
    writeFileSync(join(repo, file), await encrypt('db: old\n'));
    git('add', '-A');
    git('commit', '-q', '-m', 'base');
    // Both patterns select exactly `db` here, so the MAC still holds with the evil one.
    const evil = (await encrypt(`db: s3cret\n${EVIL_KEY}: clear\n`)).replace('encrypted_regex: ^db$', `encrypted_regex: ${EVIL_RULE}`);
    assert.ok(evil.includes(EVIL_RULE));
    writeFileSync(join(repo, file), evil);
    git('add', file);
  });

  test('decrypt', async () => {
    const r = await run(['decrypt', file]);
    assert.equal(r.signal, null, 'killed: decrypt hung');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `db: s3cret\n${EVIL_KEY}: clear\n`);
  });

  test('status', async () => {
    const r = await run(['status', file]);
    assert.equal(r.signal, null, 'killed: status hung');
    assert.equal(r.code, 0, r.stderr);
  });

  test('git textconv', async () => {
    const r = await run(['git', 'textconv', file]);
    assert.equal(r.signal, null, 'killed: textconv hung');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(EVIL_KEY), r.stdout);
  });

  test('diff, keyless and with keys', async () => {
    for (const args of [['diff', '--no-keys', '--json'], ['diff', '--json']]) {
      const r = await run(args);
      assert.equal(r.signal, null, `killed: ${args.join(' ')} hung`);
      const out = JSON.parse(r.stdout) as { status: string; result: { files: { file: string }[] } };
      assert.equal(out.status, 'success', r.stdout);
      assert.deepEqual(out.result.files.map((f) => f.file), [file]);
    }
  });

  test('guard', async () => {
    const r = await run(['guard']);
    assert.equal(r.signal, null, 'killed: guard hung');
    assert.equal(r.code, 0, r.stderr);
  });
});
