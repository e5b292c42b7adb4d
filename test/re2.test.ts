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
import { createAjv } from '../src/schema/ajv.js';
import { generatorFor } from '../src/schema/generate.js';
import { runCli } from './helpers/cli.js';
import { newAgeKey, testContext } from './helpers/keys.js';

const root = mkdtempSync(join(tmpdir(), 'sealant-re2-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
const key = newAgeKey(root, 'key');

describe('patterns mean what they mean to Go', () => {
  const encrypts = (value: string, keyName: string) =>
    new Selector({ field: 'encrypted_regex', value }).shouldEncrypt([keyName], [[]], false);

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
  const gitEnv = {
    ...process.env,
    GIT_AUTHOR_NAME: 't',
    GIT_AUTHOR_EMAIL: 't@t',
    GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@t',
  };
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', env: gitEnv });
  const run = (args: string[]) => runCli(args, { cwd: repo, env: { SOPS_AGE_KEY_FILE: key.file }, timeoutMs: 20_000 });

  before(async () => {
    const ctx = testContext();
    const encrypt = async (text: string) =>
      (
        await encryptText(text, file, ctx, {
          groups: [{ age: [key.recipient], kms: [] }],
          rule: { field: 'encrypted_regex', value: '^db$' },
        })
      ).text;
    execFileSync('git', ['init', '-q', repo]);
    writeFileSync(join(repo, file), await encrypt('db: old\n'));
    git('add', '-A');
    git('commit', '-q', '-m', 'base');
    // Both patterns select exactly `db` here, so the MAC still holds with the evil one.
    const evil = (await encrypt(`db: s3cret\n${EVIL_KEY}: clear\n`)).replace(
      'encrypted_regex: ^db$',
      `encrypted_regex: ${EVIL_RULE}`,
    );
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
    for (const args of [
      ['diff', '--no-keys', '--json'],
      ['diff', '--json'],
    ]) {
      const r = await run(args);
      assert.equal(r.signal, null, `killed: ${args.join(' ')} hung`);
      const out = JSON.parse(r.stdout) as { status: string; result: { files: { file: string }[] } };
      assert.equal(out.status, 'success', r.stdout);
      assert.deepEqual(
        out.result.files.map((f) => f.file),
        [file],
      );
    }
  });

  test('guard', async () => {
    const r = await run(['guard']);
    assert.equal(r.signal, null, 'killed: guard hung');
    assert.equal(r.code, 0, r.stderr);
  });
});

describe('JSON Schema patterns are Go RE2 too', () => {
  test('Go syntax compiles (\\pL, (?i) mid-pattern), JS-only lookahead is refused at compile time', () => {
    const v = createAjv().compile({
      type: 'object',
      properties: { name: { type: 'string', pattern: '^\\pL+$' }, code: { type: 'string', pattern: '^x(?i)Y$' } },
    });
    assert.equal(v({ name: 'clé', code: 'xy' }), true);
    assert.equal(v({ name: 'a1', code: 'xy' }), false);
    assert.equal(v({ name: 'a', code: 'Xy' }), false);
    assert.throws(() => createAjv().compile({ pattern: '^(?=a)' }), UsageError);
  });

  test('patternProperties read by rotation use the same engine', () => {
    const schema = {
      type: 'object',
      patternProperties: { '^\\pL+_key$': { type: 'string', 'x-sealant-generate': { length: 8 } } },
    };
    assert.deepEqual(generatorFor(schema, ['clé_key']), { length: 8, alphabet: 'alphanumeric' });
    assert.equal(generatorFor({ patternProperties: { '^(?=a)': {} } }, ['a']), undefined);
  });

  describe('a catastrophic pattern in a schema cannot hang validate', () => {
    // Fails after 40 `a`s: ~2^40 backtracking steps in JS, one pass in RE2.
    const EVIL_VALUE = `${'a'.repeat(40)}!`;
    const repo = join(root, 'schema-repo');
    const run = (args: string[]) =>
      runCli(args, { cwd: repo, env: { SOPS_AGE_KEY_FILE: key.file }, timeoutMs: 20_000 });

    before(async () => {
      execFileSync('git', ['init', '-q', repo]);
      writeFileSync(
        join(repo, '.sealant.yaml'),
        `environments:\n  dev:\n    files: ["dev/**"]\n    schema: schema.json\n    age: [${key.recipient}]\n`,
      );
      const evil = { type: 'string', pattern: '^(a+)+$' };
      writeFileSync(
        join(repo, 'schema.json'),
        JSON.stringify({ type: 'object', properties: { token: evil, label_unencrypted: evil } }),
      );
      const ctx = testContext();
      const enc = await encryptText(`token: ${EVIL_VALUE}\nlabel_unencrypted: ${EVIL_VALUE}\n`, 'dev/app.yaml', ctx, {
        groups: [{ age: [key.recipient], kms: [] }],
      });
      execFileSync('mkdir', ['-p', join(repo, 'dev')]);
      writeFileSync(join(repo, 'dev/app.yaml'), enc.text);
    });

    for (const args of [
      ['validate', '--json'],
      ['validate', '--decrypt', '--json'],
    ]) {
      test(args.join(' '), async () => {
        const r = await run(args);
        assert.equal(r.signal, null, `killed: ${args.join(' ')} hung`);
        assert.equal(r.code, 1, r.stderr);
        const out = JSON.parse(r.stdout) as {
          result: { results: { path: string; keyword: string; severity: string }[] };
        };
        const pattern = out.result.results.filter((f) => f.keyword === 'pattern');
        const expected = args.includes('--decrypt')
          ? [
              ['token', 'error'],
              ['label_unencrypted', 'error'],
            ]
          : [
              ['token', 'note'],
              ['label_unencrypted', 'error'],
            ];
        assert.deepEqual(pattern.map((f) => [f.path, f.severity]).sort(), expected.sort());
        assert.ok(!r.stdout.includes(EVIL_VALUE));
      });
    }
  });
});

describe('a render keys glob cannot hang render', () => {
  const repo = join(root, 'render-repo');
  // `*a*a…*b` backtracks exponentially on a long key of `a`s; a run of `**` tries every split of a deep path.
  const STARS = `${'*a'.repeat(24)}*b`;
  const DEEP = `${'**.'.repeat(24)}z`;

  before(async () => {
    execFileSync('git', ['init', '-q', repo]);
    writeFileSync(
      join(repo, '.sealant.yaml'),
      `environments:\n  dev:\n    files: ["dev/**"]\n    age: [${key.recipient}]\n    render:\n      secrets:\n        - name: stars\n          keys: ["${STARS}"]\n        - name: deep\n          keys: ["${DEEP}"]\n`,
    );
    let nested = 'v';
    for (let i = 12; i >= 1; i -= 1) nested = `{n${i}: ${nested}}`;
    const plain = `${'a'.repeat(60)}: x\n${'a'.repeat(30)}b: y\nnest: ${nested}\nz: w\n`;
    const enc = await encryptText(plain, 'dev/app.yaml', testContext(), {
      groups: [{ age: [key.recipient], kms: [] }],
    });
    execFileSync('mkdir', ['-p', join(repo, 'dev')]);
    writeFileSync(join(repo, 'dev/app.yaml'), enc.text);
  });

  test('render --format k8s', async () => {
    const r = await runCli(['render', '--env', 'dev', '--format', 'k8s'], {
      cwd: repo,
      env: { SOPS_AGE_KEY_FILE: key.file },
      timeoutMs: 20_000,
    });
    assert.equal(r.signal, null, 'killed: render hung');
    assert.equal(r.code, 0, r.stderr);
    const docs = r.stdout.split('---\n').map((d) =>
      d
        .match(/^data:\n((?: {2}.+\n)+)/m)?.[1]
        ?.trim()
        .split('\n')
        .map((l) => l.split(':')[0]!.trim()),
    );
    assert.deepEqual(docs, [[`${'a'.repeat(30)}b`], ['z']]);
  });
});
