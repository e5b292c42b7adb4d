/**
 * Environments end to end in real git repositories: encrypt from the config, recipients
 * remove + updatekeys over a 20-file environment (only metadata lines change, the removed
 * identity decrypts nothing at HEAD), key groups with a 2-of-3 threshold, rotate, and access.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCli } from './helpers/cli.js';
import { newAgeKey, type Key } from './helpers/keys.js';

const root = mkdtempSync(join(tmpdir(), 'sealant-envs-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

const newKey = (name: string): Key => newAgeKey(root, name);

const alice = newKey('alice');
const bob = newKey('bob');
const carol = newKey('carol');
const dave = newKey('dave');

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

function newRepo(config: string): string {
  const repo = mkdtempSync(join(root, 'repo-'));
  git(repo, 'init', '-q');
  writeFileSync(join(repo, '.sealant.yaml'), config);
  return repo;
}

async function sealant(repo: string, args: string[], key?: Key) {
  return runCli(args, { cwd: repo, env: key === undefined ? {} : { SOPS_AGE_KEY_FILE: key.file } });
}

describe('environments', () => {
  test("encrypt takes the recipients and rule of the file's environment", async () => {
    const repo = newRepo(
      [
        '# environments of the demo repo',
        'environments:',
        '  dev:',
        '    files: ["envs/dev/**"]',
        `    age: [${alice.recipient}]`,
        '  prod:',
        '    files: ["envs/prod/**"]',
        `    age: [${bob.recipient}]`,
        "    encrypted_regex: '^(data|stringData)$'",
        '',
      ].join('\n'),
    );
    mkdirSync(join(repo, 'envs/prod'), { recursive: true });
    writeFileSync(join(repo, 'envs/prod/secret.yaml'), 'kind: Secret\nstringData:\n    token: abc\n');
    const r = await sealant(repo, ['encrypt', '--in-place', '--json', 'envs/prod/secret.yaml']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).result.environment, 'prod');
    const text = readFileSync(join(repo, 'envs/prod/secret.yaml'), 'utf8');
    assert.match(text, /^kind: Secret$/m);
    assert.match(text, /token: ENC\[/);
    assert.match(text, new RegExp(bob.recipient));
    assert.doesNotMatch(text, new RegExp(alice.recipient));
    assert.match(text, /encrypted_regex: \^\(data\|stringData\)\$/);
    assert.equal((await sealant(repo, ['decrypt', 'envs/prod/secret.yaml'], bob)).code, 0);
    assert.equal((await sealant(repo, ['decrypt', 'envs/prod/secret.yaml'], alice)).code, 128);
  });

  test('recipients remove + updatekeys on a 20-file environment changes only metadata; the removed identity decrypts nothing', async () => {
    const repo = newRepo(
      [
        'environments:',
        '  dev:',
        '    files: ["dev/*.yaml"]',
        `    age: [${alice.recipient}, ${bob.recipient}]`,
        '',
      ].join('\n'),
    );
    mkdirSync(join(repo, 'dev'));
    for (let i = 0; i < 20; i++) {
      writeFileSync(join(repo, `dev/s${i}.yaml`), `db:\n    password: pw-${i}\n    port: ${5000 + i}\n`);
      const r = await sealant(repo, ['encrypt', '--in-place', `dev/s${i}.yaml`]);
      assert.equal(r.code, 0, r.stderr);
    }
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'init');
    const removed = await sealant(repo, ['recipients', 'remove', '--env', 'dev', bob.recipient]);
    assert.equal(removed.code, 0, removed.stderr);
    const up = await sealant(repo, ['updatekeys', '--env', 'dev', '--json'], alice);
    assert.equal(up.code, 0, up.stderr);
    const result = JSON.parse(up.stdout).result as {
      files: { ok: boolean; changed: boolean; removed: string[]; added: string[] }[];
    };
    assert.equal(result.files.length, 20);
    assert.ok(
      result.files.every(
        (f) => f.ok && f.changed && f.removed.length === 1 && f.removed[0] === bob.recipient && f.added.length === 0,
      ),
    );
    // git diff: only lines inside the sops block changed (bob's stanza), no value, mac or lastmodified line.
    const diff = git(repo, 'diff', '--unified=0', '--no-color', '--', 'dev');
    const changed = diff.split('\n').filter((l) => /^[+-]/.test(l) && !/^(\+\+\+|---)/.test(l));
    assert.ok(changed.length > 0);
    for (const l of changed) assert.ok(!/ENC\[|lastmodified|mac:|password|port/.test(l), `unexpected change: ${l}`);
    git(repo, 'commit', '-q', '-am', 'remove bob');
    for (let i = 0; i < 20; i++) {
      assert.equal((await sealant(repo, ['decrypt', `dev/s${i}.yaml`], bob)).code, 128, `bob still decrypts s${i}`);
    }
    assert.equal((await sealant(repo, ['decrypt', 'dev/s7.yaml'], alice)).code, 0);
    // A second run is a no-op.
    const again = await sealant(repo, ['updatekeys', '--env', 'dev', '--json'], alice);
    assert.ok((JSON.parse(again.stdout).result.files as { changed: boolean }[]).every((f) => !f.changed));
  });

  test('key groups with threshold 2 of 3: any two groups decrypt, one alone fails clearly', async () => {
    const repo = newRepo(
      [
        'environments:',
        '  prod:',
        '    files: ["prod/**"]',
        '    key_groups:',
        `      - age: [${alice.recipient}]`,
        `      - age: [${bob.recipient}]`,
        `      - age: [${carol.recipient}]`,
        '    shamir_threshold: 2',
        '',
      ].join('\n'),
    );
    mkdirSync(join(repo, 'prod'));
    writeFileSync(join(repo, 'prod/app.yaml'), 'token: very-secret\n');
    assert.equal((await sealant(repo, ['encrypt', '--in-place', 'prod/app.yaml'])).code, 0);
    const text = readFileSync(join(repo, 'prod/app.yaml'), 'utf8');
    assert.match(text, /key_groups:/);
    assert.match(text, /shamir_threshold: 2/);
    const pairs: [Key, Key][] = [
      [alice, bob],
      [bob, carol],
      [alice, carol],
    ];
    for (const [a, b] of pairs) {
      const r = await runCli(['decrypt', '--identity', a.file, '--identity', b.file, 'prod/app.yaml'], { cwd: repo });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'token: very-secret\n');
    }
    const alone = await sealant(repo, ['decrypt', 'prod/app.yaml'], carol);
    assert.equal(alone.code, 128);
    assert.match(alone.stderr, /only 1 of the 2 key groups needed could be opened/);
  });

  test('rotate gives a new data key: every value line changes, recipients follow the config', async () => {
    const repo = newRepo(
      ['environments:', '  dev:', '    files: ["*.yaml"]', `    age: [${alice.recipient}]`, ''].join('\n'),
    );
    writeFileSync(join(repo, 'a.yaml'), 'x: 1\ny: two\n');
    assert.equal((await sealant(repo, ['encrypt', '--in-place', 'a.yaml'])).code, 0);
    const before = readFileSync(join(repo, 'a.yaml'), 'utf8');
    writeFileSync(
      join(repo, '.sealant.yaml'),
      ['environments:', '  dev:', '    files: ["*.yaml"]', `    age: [${alice.recipient}, ${dave.recipient}]`, ''].join(
        '\n',
      ),
    );
    const r = await sealant(repo, ['rotate', 'a.yaml'], alice);
    assert.equal(r.code, 0, r.stderr);
    const after = readFileSync(join(repo, 'a.yaml'), 'utf8');
    for (const key of ['x', 'y']) {
      const line = (t: string) => t.split('\n').find((l) => l.startsWith(`${key}:`));
      assert.notEqual(line(after), line(before));
    }
    const dec = await sealant(repo, ['decrypt', 'a.yaml'], dave);
    assert.equal(dec.code, 0, dec.stderr);
    assert.equal(dec.stdout, 'x: 1\ny: two\n');
  });

  test('access --json: the environment x recipient matrix and the drift of a test repository', async () => {
    const repo = newRepo(
      [
        'environments:',
        '  dev:',
        '    files: ["dev/**"]',
        `    age: [${alice.recipient}, ${bob.recipient}]`,
        '  prod:',
        '    files: ["prod/**"]',
        `    age: [${alice.recipient}]`,
        '',
      ].join('\n'),
    );
    mkdirSync(join(repo, 'dev'));
    mkdirSync(join(repo, 'prod'));
    writeFileSync(join(repo, 'dev/a.yaml'), 'a: 1\n');
    writeFileSync(join(repo, 'prod/b.yaml'), 'b: 2\n');
    writeFileSync(join(repo, 'prod/c.yaml'), 'c: 3\n');
    for (const f of ['dev/a.yaml', 'prod/b.yaml'])
      assert.equal((await sealant(repo, ['encrypt', '--in-place', f])).code, 0);
    // c.yaml is encrypted by hand to the wrong people: drift.
    assert.equal(
      (await sealant(repo, ['encrypt', '--in-place', '--age', `${alice.recipient},${carol.recipient}`, 'prod/c.yaml']))
        .code,
      0,
    );
    const r = await sealant(repo, ['access', '--json']);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout).result as {
      environments: { name: string; files: number; recipients: string[] }[];
      matrix: { recipient: string; environments: string[] }[];
      drift: { file: string; environment: string; missing: string[]; extra: string[] }[];
    };
    assert.deepEqual(
      report.environments.map((e) => [e.name, e.files, e.recipients.length]),
      [
        ['dev', 1, 2],
        ['prod', 2, 1],
      ],
    );
    const row = (r2: string) => report.matrix.find((m) => m.recipient === r2)?.environments;
    assert.deepEqual(row(alice.recipient), ['dev', 'prod']);
    assert.deepEqual(row(bob.recipient), ['dev']);
    assert.equal(row(carol.recipient), undefined);
    assert.deepEqual(report.drift, [
      { file: join('prod', 'c.yaml'), environment: 'prod', missing: [], extra: [carol.recipient] },
    ]);
    // updatekeys fixes the drift.
    assert.equal((await sealant(repo, ['updatekeys', 'prod/c.yaml'], alice)).code, 0);
    const fixed = await sealant(repo, ['access', '--json']);
    assert.equal(fixed.code, 0);
    assert.deepEqual(JSON.parse(fixed.stdout).result.drift, []);
  });

  test('.sops.yaml is honoured when there is no .sealant.yaml (first matching creation rule wins)', async () => {
    const repo = mkdtempSync(join(root, 'sops-'));
    writeFileSync(
      join(repo, '.sops.yaml'),
      [
        'creation_rules:',
        '  - path_regex: secret/.*\\.yaml$',
        `    age: ${bob.recipient},${carol.recipient}`,
        '  - age: ' + alice.recipient,
        '',
      ].join('\n'),
    );
    mkdirSync(join(repo, 'secret'));
    writeFileSync(join(repo, 'secret/x.yaml'), 'k: v\n');
    writeFileSync(join(repo, 'other.yaml'), 'k: v\n');
    assert.equal((await sealant(repo, ['encrypt', '--in-place', 'secret/x.yaml'])).code, 0);
    assert.equal((await sealant(repo, ['encrypt', '--in-place', 'other.yaml'])).code, 0);
    assert.equal((await sealant(repo, ['decrypt', 'secret/x.yaml'], carol)).code, 0);
    assert.equal((await sealant(repo, ['decrypt', 'secret/x.yaml'], alice)).code, 128);
    assert.equal((await sealant(repo, ['decrypt', 'other.yaml'], alice)).code, 0);
  });
});
