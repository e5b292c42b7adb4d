/**
 * `sealant validate` end to end on real encrypted files, made in temporary git repositories
 * through the CLI: keyless structure/type/secret checks, needs-keys notes turned into real
 * checks by --decrypt, parity with its allow-list, recipients drift, output formats, exit
 * codes — and a canary value that must never appear in any output. Needs `npm run build`.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { createAjv, SchemaSet } from '../src/schema/ajv.js';
import { validateKeyless } from '../src/schema/keyless.js';
import { findParityGaps } from '../src/schema/parity.js';
import { githubLine, humanLine } from '../src/schema/report.js';
import { yamlStore } from '../src/stores/yaml.js';
import { runCli, ROOT } from './helpers/cli.js';
import { newAgeKey, type Key } from './helpers/keys.js';
import type { ValidationResult } from '../src/schema/report.js';

const root = mkdtempSync(join(tmpdir(), 'sealant-validate-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

const newKey = (name: string): Key => newAgeKey(root, name);

const alice = newKey('alice');
const bob = newKey('bob');

/** Must never be printed: it is only ever a secret value. */
const CANARY = 'CANARYx9q7';

const SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  additionalProperties: false,
  required: ['db', 'api'],
  properties: {
    db: {
      type: 'object',
      additionalProperties: false,
      required: ['host', 'port', 'password'],
      properties: {
        host: { type: 'string' },
        port: { type: 'integer', minimum: 1 },
        password: {
          type: 'string',
          pattern: '^[A-Za-z0-9]{12,}$',
          'x-sealant-secret': true,
          'x-sealant-generate': { length: 24, alphabet: 'alphanumeric' },
        },
      },
    },
    api: { $ref: '#/$defs/api' },
    public_unencrypted: { type: 'object' },
  },
  $defs: {
    api: {
      type: 'object',
      properties: {
        token: { type: 'string', 'x-sealant-secret': true },
        token_unencrypted: { 'x-sealant-secret': true },
      },
    },
  },
};

const GOOD = `db:\n    host: db.internal\n    port: 5432\n    password: Abcdefgh${CANARY}\napi:\n    token: tok-${CANARY}\npublic_unencrypted:\n    region: eu\n`;

interface RepoOptions {
  files: Record<string, string>;
  /** Extra lines under `parity:` / per environment. */
  parityIgnore?: string[];
  prodIgnore?: string[];
  schema?: unknown;
}

function configText(o: RepoOptions, recipients: string[]): string {
  const lines = [];
  if (o.parityIgnore !== undefined) lines.push('parity:', `  ignore: ${JSON.stringify(o.parityIgnore)}`);
  lines.push('environments:');
  for (const env of ['dev', 'prod']) {
    lines.push(
      `  ${env}:`,
      `    files: ["${env}/**"]`,
      '    schema: schema.json',
      `    age: [${recipients.join(', ')}]`,
    );
    if (env === 'prod' && o.prodIgnore !== undefined) lines.push(`    parity_ignore: ${JSON.stringify(o.prodIgnore)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A git repo with `.sealant.yaml`, `schema.json`, and each file encrypted in place by the CLI. */
async function fixture(o: RepoOptions): Promise<string> {
  const repo = mkdtempSync(join(root, 'repo-'));
  execFileSync('git', ['-C', repo, 'init', '-q']);
  writeFileSync(join(repo, '.sealant.yaml'), configText(o, [alice.recipient]));
  writeFileSync(join(repo, 'schema.json'), JSON.stringify(o.schema ?? SCHEMA, null, 2));
  for (const [name, text] of Object.entries(o.files)) {
    mkdirSync(join(repo, name, '..'), { recursive: true });
    writeFileSync(join(repo, name), text);
    const r = await runCli(['encrypt', '-i', name], { cwd: repo });
    assert.equal(r.code, 0, r.stderr);
  }
  return repo;
}

type Result = ValidationResult;

async function validateJson(
  repo: string,
  args: string[] = [],
): Promise<{ code: number | null; results: Result[]; raw: string }> {
  const r = await runCli(['validate', '--json', ...args], { cwd: repo, env: { SOPS_AGE_KEY_FILE: alice.file } });
  assert.doesNotMatch(r.stdout + r.stderr, new RegExp(CANARY));
  const out = JSON.parse(r.stdout) as { status: string; result?: { results: Result[] } };
  return { code: r.code, results: out.result?.results ?? [], raw: r.stdout };
}

async function validateText(repo: string, args: string[] = []) {
  const r = await runCli(['validate', ...args], { cwd: repo, env: { SOPS_AGE_KEY_FILE: alice.file } });
  assert.doesNotMatch(r.stdout + r.stderr, new RegExp(CANARY));
  return r;
}

const errors = (rs: Result[]) => rs.filter((r) => r.severity === 'error');

describe('validate (CLI, real encrypted files)', () => {
  test('a clean environment passes without keys (needs-keys note for the pattern) and with --decrypt', async () => {
    const repo = await fixture({ files: { 'dev/app.yaml': GOOD, 'prod/app.yaml': GOOD } });
    const keyless = await validateJson(repo);
    assert.equal(keyless.code, 0, keyless.raw);
    assert.deepEqual(errors(keyless.results), []);
    const note = keyless.results.find((r) => r.path === 'db.password' && r.file === 'dev/app.yaml');
    assert.ok(note !== undefined, keyless.raw);
    assert.equal(note.severity, 'note');
    assert.match(note.message, /^needs keys: .*pattern/);
    assert.deepEqual([note.line, note.col], [4, 5]);
    const full = await validateJson(repo, ['--decrypt']);
    assert.equal(full.code, 0, full.raw);
    assert.deepEqual(full.results, []);
    assert.equal((await validateText(repo, ['--parity'])).code, 0);
  });

  test('missing key, extra key and wrong type are caught without keys, located at file:line:col', async () => {
    const bad = `db:\n    host: db.internal\n    port: "5432"\n    password: Abcdefgh${CANARY}\n    extra: 1\napi:\n    token: tok-${CANARY}\n`;
    const missing = `db:\n    host: db.internal\n    password: Abcdefgh${CANARY}\napi: {}\n`;
    const repo = await fixture({ files: { 'dev/app.yaml': bad, 'dev/other.yaml': missing } });
    const { code, results } = await validateJson(repo, ['--env', 'dev']);
    assert.equal(code, 1);
    const find = (file: string, path: string, keyword: string) =>
      results.find((r) => r.file === file && r.path === path && r.keyword === keyword && r.severity === 'error');
    assert.deepEqual(find('dev/app.yaml', 'db.port', 'type')?.line, 3);
    assert.equal(find('dev/app.yaml', 'db.port', 'type')?.message, 'must be integer');
    assert.deepEqual(find('dev/app.yaml', 'db.extra', 'additionalProperties')?.line, 5);
    const req = find('dev/other.yaml', 'db.port', 'required');
    assert.ok(req !== undefined);
    assert.deepEqual([req.line, req.col], [1, 1]);
    const text = await validateText(repo, ['--env', 'dev']);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /^dev\/app\.yaml:3:5 {2}db\.port {2}must be integer$/m);
    assert.match(text.stdout, /^dev\/other\.yaml:1:1 {2}db\.port {2}required key is missing$/m);
  });

  test('secrets in clear: x-sealant-secret on an _unencrypted key (through $ref), and a selected value edited into clear text', async () => {
    const file = `db:\n    host: db.internal\n    port: 5432\n    password: Abcdefgh${CANARY}\napi:\n    token_unencrypted: leak-${CANARY}\n`;
    const repo = await fixture({ files: { 'dev/app.yaml': file } });
    const path = join(repo, 'dev/app.yaml');
    writeFileSync(
      path,
      readFileSync(path, 'utf8').replace(/^ {4}host: ENC\[.*\]$/m, `    host: edited-${CANARY}.internal`),
    );
    const { code, results } = await validateJson(repo);
    assert.equal(code, 1);
    const secret = results.find((r) => r.keyword === 'x-sealant-secret');
    assert.deepEqual(secret && [secret.path, secret.line, secret.severity], ['api.token_unencrypted', 6, 'error']);
    const clear = results.find((r) => r.keyword === 'encryption');
    assert.deepEqual(clear && [clear.path, clear.line], ['db.host', 2]);
    assert.match(clear!.message, /clear text/);
    // --decrypt still reports both (the file cannot be decrypted: that is said too).
    const full = await validateJson(repo, ['--decrypt']);
    assert.equal(full.code, 1);
    assert.ok(full.results.some((r) => r.keyword === 'encryption'));
    assert.ok(full.results.some((r) => r.keyword === 'x-sealant-secret'));
  });

  test('a pattern violation is only a needs-keys note without keys, an error with --decrypt; no output holds the value', async () => {
    const weak = `db:\n    host: db.internal\n    port: 5432\n    password: short-${CANARY}!\napi:\n    token: tok-${CANARY}\n`;
    const repo = await fixture({ files: { 'dev/app.yaml': weak } });
    const keyless = await validateJson(repo);
    assert.equal(keyless.code, 0);
    assert.equal(keyless.results.find((r) => r.path === 'db.password')?.severity, 'note');
    const full = await validateJson(repo, ['--decrypt']);
    assert.equal(full.code, 1);
    const e = full.results.find((r) => r.path === 'db.password');
    assert.deepEqual(e && [e.keyword, e.severity, e.line, e.col, e.message], [
      'pattern',
      'error',
      4,
      5,
      'must match pattern "^[A-Za-z0-9]{12,}$"',
    ]);
    const github = await validateText(repo, ['--decrypt', '--format', 'github']);
    assert.equal(github.code, 1);
    assert.equal(
      github.stdout.trim(),
      '::error file=dev/app.yaml,line=4,col=5::db.password: must match pattern "^[A-Za-z0-9]{12,}$"',
    );
    const human = await validateText(repo, ['--decrypt']);
    assert.equal(human.stdout.trim(), 'dev/app.yaml:4:5  db.password  must match pattern "^[A-Za-z0-9]{12,}$"');
  });

  test('parity: a key in one environment but not another; the allow-lists suppress it', async () => {
    const extra = GOOD.replace('    region: eu\n', '    region: eu\n    beta: true\n');
    const files = { 'dev/app.yaml': extra, 'prod/app.yaml': GOOD };
    const repo = await fixture({ files });
    const gap = await validateJson(repo, ['--parity']);
    assert.equal(gap.code, 1);
    assert.deepEqual(
      gap.results.map((r) => [r.file, r.line, r.path, r.keyword, r.message]),
      [['dev/app.yaml', 9, 'public_unencrypted.beta', 'parity', 'missing in environment "prod" (present in "dev")']],
    );
    const globalIgnore = await fixture({ files, parityIgnore: ['public_unencrypted.*'] });
    assert.equal((await validateJson(globalIgnore, ['--parity'])).code, 0);
    const envIgnore = await fixture({ files, prodIgnore: ['public_unencrypted.beta'] });
    assert.equal((await validateJson(envIgnore, ['--parity'])).code, 0);
  });

  test('recipients drift and a non-SOPS file are reported', async () => {
    const repo = await fixture({ files: { 'dev/app.yaml': GOOD } });
    writeFileSync(join(repo, '.sealant.yaml'), configText({ files: {} }, [alice.recipient, bob.recipient]));
    mkdirSync(join(repo, 'prod'));
    writeFileSync(join(repo, 'prod/plain.yaml'), GOOD);
    const { code, results } = await validateJson(repo);
    assert.equal(code, 1);
    const drift = results.find((r) => r.keyword === 'recipients');
    assert.equal(drift?.file, 'dev/app.yaml');
    assert.equal(drift?.path, 'sops');
    assert.match(drift!.message, new RegExp(`missing ${bob.recipient}`));
    assert.ok(results.some((r) => r.file === 'prod/plain.yaml' && r.keyword === 'sops'));
  });

  test('exit 2: a schema that does not compile (named), an unknown environment, conflicting flags', async () => {
    const repo = await fixture({ files: { 'dev/app.yaml': GOOD }, schema: SCHEMA });
    writeFileSync(join(repo, 'schema.json'), JSON.stringify({ type: 12 }));
    const r = await validateText(repo);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /schema\.json: schema does not compile/);
    assert.equal((await validateText(repo, ['--env', 'nope'])).code, 2);
    const unknownEnv = await validateJson(repo, ['--env', 'nope']);
    const envelope = JSON.parse(unknownEnv.raw) as { code: string; exitCode: number; message: string };
    assert.equal(envelope.code, 'VALIDATE_CONFIG', unknownEnv.raw);
    assert.equal(envelope.exitCode, 2);
    assert.match(envelope.message, /nope/);
    assert.equal((await validateText(repo, ['--parity', '--decrypt'])).code, 2);
    writeFileSync(
      join(repo, 'schema.json'),
      JSON.stringify({ properties: { a: { 'x-sealant-generate': { length: 'long' } } } }),
    );
    assert.equal((await validateText(repo)).code, 2);
  });

  test('the shipped demo validates clean in all three modes', async () => {
    const env = { SOPS_AGE_KEY_FILE: join(ROOT, 'environments/demo.agekey') };
    for (const args of [[], ['--decrypt'], ['--parity']]) {
      const r = await runCli(['validate', ...args], { cwd: ROOT, env });
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    }
  });
});

describe('validate (library)', () => {
  const keyless = (schema: object, yaml: string) => {
    const doc = yamlStore.load(yaml);
    return validateKeyless(createAjv().compile(schema), doc.documents[0]!, 0);
  };
  const ENC_STR =
    'ENC[AES256_GCM,data:AAAA,iv:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]';
  const ENC_INT = ENC_STR.replace('type:str', 'type:int');

  test('every value rule at an encrypted leaf is a note, even ones a single placeholder would pass', () => {
    const f = keyless(
      {
        properties: {
          a: { type: 'string', minLength: 1, maxLength: 5000 },
          n: { type: 'integer', minimum: 0, maximum: 10 },
        },
      },
      `a: ${ENC_STR}\nn: ${ENC_INT}\n`,
    );
    assert.deepEqual(
      f.map((x) => [x.pointer, x.severity, x.keyword]),
      [
        ['/a', 'note', 'minLength'],
        ['/n', 'note', 'minimum,maximum'],
      ],
    );
  });

  test('a type mismatch from the ENC tag is an error; anyOf over encrypted values is one note', () => {
    assert.deepEqual(
      keyless({ properties: { n: { type: 'integer' } } }, `n: ${ENC_STR}\n`).map((x) => [x.severity, x.keyword]),
      [['error', 'type']],
    );
    const f = keyless({ properties: { a: { anyOf: [{ const: 'x' }, { const: 'y' }] } } }, `a: ${ENC_STR}\n`);
    assert.deepEqual(
      f.map((x) => [x.severity, x.keyword]),
      [['note', 'anyOf']],
    );
    const clear = keyless(
      { properties: { a: { anyOf: [{ type: 'integer' }, { type: 'boolean' }] } } },
      'a_unencrypted: 1\na: x\n',
    );
    assert.deepEqual(
      clear.map((x) => [x.severity, x.keyword]),
      [['error', 'anyOf']],
    );
  });

  test('SchemaSet compiles each path once', async () => {
    const dir = mkdtempSync(join(root, 'schemas-'));
    writeFileSync(join(dir, 's.json'), '{"type":"object"}');
    const set = new SchemaSet();
    assert.equal(await set.get(join(dir, 's.json'), 's.json'), await set.get(join(dir, 's.json'), 's.json'));
    assert.ok(new Ajv2020());
  });

  test('parity ignore globs cover descendants; output lines are exact', () => {
    const keys = (paths: string[]) => new Map(paths.map((p) => [p, { file: 'f', doc: 0, pointer: '' }]));
    const gaps = findParityGaps(
      [
        { name: 'a', keys: keys(['x.y', 'tls.cert']), ignore: [] },
        { name: 'b', keys: keys([]), ignore: [] },
      ],
      ['tls'],
    );
    assert.deepEqual(
      gaps.map((g) => g.path),
      ['x.y'],
    );
    const r = {
      file: 'a,b.yaml',
      line: 3,
      col: 5,
      path: 'k',
      keyword: 'type',
      severity: 'note' as const,
      message: '50% done\nx',
    };
    assert.equal(githubLine(r), '::notice file=a%2Cb.yaml,line=3,col=5::k: 50%25 done%0Ax');
    assert.equal(humanLine(r), 'a,b.yaml:3:5  k  note: 50% done\nx');
  });
});
