/**
 * `sealant render` end to end in a real git repository: formats, merge precedence, refusing to
 * write plaintext where git would pick it up, 0600 outputs, the audit line, and a canary value
 * that never shows up in logs, errors or audit events.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import dotenv from 'dotenv';
import YAML from 'yaml';
import { runCli } from './helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'sealant-render-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
const keyFile = join(root, 'key.txt');
execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' });
const recipient = /public key: (age1[0-9a-z]+)/.exec(readFileSync(keyFile, 'utf8'))![1]!;
const CANARY = 'canary-5e1f-render-Zq';
const repo = join(root, 'repo');

function git(...args: string[]): string {
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

async function sealant(args: string[], extraEnv: Record<string, string> = {}) {
  return runCli(args, {
    cwd: repo,
    env: { SOPS_AGE_KEY_FILE: keyFile, GITHUB_ACTOR: 'octocat', GITHUB_RUN_ID: '42', ...extraEnv },
  });
}

describe('sealant render', () => {
  before(async () => {
    mkdirSync(join(repo, 'env/dev'), { recursive: true });
    git('init', '-q');
    writeFileSync(
      join(repo, '.sealant.yaml'),
      [
        'environments:',
        '  dev:',
        '    files: ["env/dev/*.yaml"]',
        `    age: [${recipient}]`,
        '    render:',
        '      secrets:',
        '        - name: app-db',
        '          namespace: shop',
        '          keys: ["db.*"]',
        '          strip_prefix: db',
        '        - name: app-api',
        '          keys: ["api.**"]',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(repo, 'env/dev/10-base.yaml'),
      `db:\n    password: ${CANARY}\n    port: 5432\napi:\n    token: "quote's \\"and\\" # not a comment"\n    price: "$HOME costs 5$"\n    multi: |\n        line one\n        line two\n`,
    );
    writeFileSync(join(repo, 'env/dev/20-override.yaml'), 'db:\n    port: 6543\n');
    for (const f of ['env/dev/10-base.yaml', 'env/dev/20-override.yaml']) {
      const r = await sealant(['encrypt', '-i', f]);
      assert.equal(r.code, 0, r.stderr);
    }
    writeFileSync(join(repo, '.gitignore'), 'out/\n');
    git('add', '.');
    git('commit', '-q', '-m', 'init');
  });

  test('dotenv: later files win, values read back exactly with the dotenv package, one audit line', async () => {
    const r = await sealant(['render', '--env', 'dev', '--format', 'dotenv']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\.yaml is set by|set by/);
    const parsed = dotenv.parse(r.stdout);
    assert.equal(parsed.DB_PASSWORD, CANARY);
    assert.equal(parsed.DB_PORT, '6543');
    assert.equal(parsed.API_TOKEN, 'quote\'s "and" # not a comment');
    assert.equal(parsed.API_PRICE, '$HOME costs 5$');
    assert.equal(parsed.API_MULTI, 'line one\nline two\n');
    const audit = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(audit.length, 1);
    const event = audit[0]! as {
      event: string;
      environment: string;
      files: { path: string; blob: string; unwrappedBy: string[] }[];
      keys: string[];
      ci: Record<string, string>;
    };
    assert.equal(event.event, 'render');
    assert.equal(event.environment, 'dev');
    assert.deepEqual(event.ci, { GITHUB_ACTOR: 'octocat', GITHUB_RUN_ID: '42' });
    assert.deepEqual(event.keys.sort(), ['API_MULTI', 'API_PRICE', 'API_TOKEN', 'DB_PASSWORD', 'DB_PORT']);
    for (const f of event.files) {
      assert.equal(f.blob, execFileSync('git', ['-C', repo, 'hash-object', f.path], { encoding: 'utf8' }).trim());
      assert.deepEqual(f.unwrappedBy, [`age:${recipient}`]);
    }
    assert.ok(!r.stderr.includes(CANARY), 'canary not in logs or audit');
  });

  test('--strict turns the conflict into an error that names the key, not the values', async () => {
    const r = await sealant(['render', '--env', 'dev', '--strict']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /db\.port/);
    assert.ok(!r.stderr.includes('5432') && !r.stderr.includes('6543') && !r.stderr.includes(CANARY));
    assert.equal(r.stdout, '');
  });

  test("k8s: Secrets from the environment's render.secrets", async () => {
    const r = await sealant(['render', '--env', 'dev', '--format', 'k8s', '--label', 'team=shop']);
    assert.equal(r.code, 0, r.stderr);
    const docs = YAML.parseAllDocuments(r.stdout).map(
      (d) =>
        d.toJS() as {
          metadata: { name: string; namespace?: string; labels: Record<string, string> };
          data: Record<string, string>;
        },
    );
    const db = docs.find((d) => d.metadata.name === 'app-db')!;
    assert.equal(db.metadata.namespace, 'shop');
    assert.equal(db.metadata.labels.team, 'shop');
    assert.equal(Buffer.from(db.data.password!, 'base64').toString(), CANARY);
    assert.equal(Buffer.from(db.data.port!, 'base64').toString(), '6543');
    const api = docs.find((d) => d.metadata.name === 'app-api')!;
    assert.equal(Buffer.from(api.data['api.multi']!, 'base64').toString(), 'line one\nline two\n');
  });

  test('--out: refuses a tracked path and an unignored path without --force; writes 0600 into an ignored one', async () => {
    const tracked = await sealant(['render', '--env', 'dev', '--out', 'env/dev/10-base.yaml']);
    assert.equal(tracked.code, 3);
    assert.match(tracked.stderr, /git tracks/);
    const unignored = await sealant(['render', '--env', 'dev', '--out', 'plain.env']);
    assert.equal(unignored.code, 3);
    assert.match(unignored.stderr, /does not ignore/);
    assert.equal(git('status', '--porcelain', '--untracked-files=all').includes('plain.env'), false, 'nothing written');
    mkdirSync(join(repo, 'out'), { recursive: true });
    const ok = await sealant(['render', '--env', 'dev', '--out', 'out/dev.env', '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(statSync(join(repo, 'out/dev.env')).mode & 0o777, 0o600);
    assert.equal(dotenv.parse(readFileSync(join(repo, 'out/dev.env'), 'utf8')).DB_PASSWORD, CANARY);
    assert.ok(!ok.stdout.includes(CANARY), 'the JSON result of a file render holds no value');
    const forced = await sealant(['render', '--env', 'dev', '--out', 'forced.env', '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    rmSync(join(repo, 'forced.env'));
  });

  test('--audit-log appends one 0600 line per run, never a value', async () => {
    const log = join(root, 'audit.jsonl');
    for (let i = 0; i < 2; i++)
      assert.equal((await sealant(['render', '--env', 'dev', '--format', 'json', '--audit-log', log])).code, 0);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    assert.equal(lines.length, 2);
    assert.equal(statSync(log).mode & 0o777, 0o600);
    assert.ok(!readFileSync(log, 'utf8').includes(CANARY));
  });

  test('errors never carry the canary: wrong key, unknown environment', async () => {
    const other = join(root, 'other.txt');
    execFileSync('age-keygen', ['-o', other], { stdio: 'ignore' });
    const wrong = await runCli(['render', '--env', 'dev'], { cwd: repo, env: { SOPS_AGE_KEY_FILE: other } });
    assert.equal(wrong.code, 128);
    const unknown = await sealant(['render', '--env', 'nope', '--json']);
    assert.notEqual(unknown.code, 0);
    for (const r of [wrong, unknown]) assert.ok(!r.stdout.includes(CANARY) && !r.stderr.includes(CANARY));
  });
});
