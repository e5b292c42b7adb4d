/**
 * Rotation plans end to end in real git repositories with backdated commits: a compliant repo
 * plans nothing, old values are due, offboarding a recipient rotates the data key and the values
 * it could read, and `apply` refuses stale plans and changes all files or none.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { renderHuman, renderMarkdown, type Plan } from '../src/plan/index.js';
import { runCli } from './helpers/cli.js';
import { newAgeKey, sourcesFromFiles, type Key } from './helpers/keys.js';
import { applyPlan, parsePlan } from '../src/ops/apply.js';
import { decryptText } from '../src/ops/decrypt.js';
import { planRotation } from '../src/ops/plan.js';
import type { SealantError } from '../src/errors.js';

const root = mkdtempSync(join(tmpdir(), 'sealant-plan-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

const newKey = (name: string): Key => newAgeKey(root, name);

const alice = newKey('alice');
const bob = newKey('bob');
const DAY = 86_400_000;

function git(repo: string, args: string[], daysAgo = 0): string {
  const date = new Date(Date.now() - daysAgo * DAY).toISOString();
  return execFileSync('git', ['-C', repo, ...args], {
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@t',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@t',
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_DATE: date,
    },
  });
}

function config(recipients: Key[], extra: string[] = []): string {
  return [
    'environments:',
    '  dev:',
    '    files: ["dev/**"]',
    `    age: [${recipients.map((k) => k.recipient).join(', ')}]`,
    '    schema: schema.json',
    ...extra,
    '',
  ].join('\n');
}

const SCHEMA = JSON.stringify({
  type: 'object',
  properties: {
    db: {
      type: 'object',
      properties: { password: { type: 'string', 'x-sealant-generate': { length: 24, alphabet: 'hex' } } },
    },
    api: { type: 'object' },
  },
});

async function sealant(repo: string, args: string[], key: Key = alice, input?: string) {
  return runCli(args, { cwd: repo, env: { SOPS_AGE_KEY_FILE: key.file }, ...(input === undefined ? {} : { input }) });
}

const CONTENT = 'db:\n    password: hunter2\napi:\n    token: t0ken\n';

async function newRepo(
  recipients: Key[],
  extra: string[] = [],
  files = ['dev/app.yaml'],
  content = CONTENT,
  schema = SCHEMA,
): Promise<string> {
  const repo = mkdtempSync(join(root, 'repo-'));
  git(repo, ['init', '-q']);
  writeFileSync(join(repo, '.sealant.yaml'), config(recipients, extra));
  writeFileSync(join(repo, 'schema.json'), schema);
  mkdirSync(join(repo, 'dev'));
  for (const f of files) {
    writeFileSync(join(repo, f), content);
    const r = await sealant(repo, ['encrypt', '--in-place', f]);
    assert.equal(r.code, 0, r.stderr);
  }
  return repo;
}

function commit(repo: string, message: string, daysAgo: number): void {
  git(repo, ['add', '-A'], daysAgo);
  git(repo, ['commit', '-q', '-m', message], daysAgo);
}

async function plan(repo: string, args: string[] = []): Promise<Plan> {
  const r = await sealant(repo, ['plan', '--json', ...args]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return (JSON.parse(r.stdout) as { result: Plan }).result;
}

async function decrypted(repo: string, file: string, key: Key = alice): Promise<string> {
  const r = await sealant(repo, ['decrypt', file], key);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

describe('rotation plans', () => {
  test('a compliant repository gives an empty plan', async () => {
    const repo = await newRepo([alice], ['    rotate_every: 90d', '    data_key_max_age: 1y']);
    commit(repo, 'init', 10);
    const p = await plan(repo);
    assert.deepEqual(p.files, []);
    assert.equal(p.summary.files, 0);
    const human = await sealant(repo, ['plan']);
    assert.match(human.stdout, /No changes/);
  });

  test('a value older than rotate_every is due, with its owner and generator', async () => {
    const repo = await newRepo(
      [alice],
      [
        '    rotate_every: 90d',
        '    owner: team-app',
        '    policies:',
        '      - keys: ["db.*"]',
        '        owner: team-db',
      ],
    );
    commit(repo, 'init', 213);
    const p = await plan(repo);
    assert.equal(p.files.length, 1);
    const f = p.files[0]!;
    assert.deepEqual(f.actions, ['rotate-values']);
    const pw = f.values.find((v) => v.path === 'db.password')!;
    assert.match(pw.reason, /age 213d > 90d/);
    assert.equal(pw.owner, 'team-db');
    assert.deepEqual(pw.generate, { length: 24, alphabet: 'hex' });
    assert.equal(pw.needsInput, false);
    const token = f.values.find((v) => v.path === 'api.token')!;
    assert.equal(token.owner, 'team-app');
    assert.equal(token.needsInput, true);
    const human = await sealant(repo, ['plan']);
    assert.match(human.stdout, /~ db\.password {2}age 213d > 90d {2}owner team-db/);
    assert.match(human.stdout, /^-db\.password: <redacted>$/m);
    assert.match(human.stdout, /^\+db\.password: <new value>$/m);
    assert.doesNotMatch(human.stdout, /hunter2|t0ken/);
    const md = await sealant(repo, ['plan', '--format', 'markdown']);
    assert.match(md.stdout, /^## sealant rotation plan/m);
    assert.match(md.stdout, /```diff/);
  });

  test('offboarding: plan lists what B could read; apply rotates the data key and values', async () => {
    const repo = await newRepo([alice, bob]);
    commit(repo, 'one', 30);
    writeFileSync(join(repo, 'README.md'), 'x\n');
    commit(repo, 'two', 20);
    const set = await sealant(repo, ['set', 'dev/app.yaml', '["api"]["other"]', '"v2"']);
    assert.equal(set.code, 0, set.stderr);
    commit(repo, 'three', 10);
    writeFileSync(join(repo, '.sealant.yaml'), config([alice]));
    commit(repo, 'remove bob', 1);
    const p = await plan(repo, ['--offboard', bob.recipient, '--out', 'plan.json']);
    assert.equal(p.files.length, 1);
    const f = p.files[0]!;
    assert.deepEqual(f.actions, ['rewrap', 'rotate-data-key', 'rotate-values']);
    assert.deepEqual(f.removeRecipients, [bob.recipient]);
    assert.deepEqual(f.values.map((v) => v.path).sort(), ['api.other', 'api.token', 'db.password']);
    assert.equal(f.values.find((v) => v.path === 'db.password')!.needsInput, false);
    const exp = p.offboarding!;
    assert.equal(exp.length, 1);
    assert.equal(exp[0]!.file, 'dev/app.yaml');
    assert.ok(exp[0]!.since !== undefined);
    assert.ok(exp[0]!.keys.includes('db.password'));
    const before = await decrypted(repo, 'dev/app.yaml');

    const missing = await sealant(repo, ['apply', 'plan.json']);
    assert.equal(missing.code, 2, missing.stderr);
    const literal = await sealant(repo, ['apply', 'plan.json', '--value', 'api.token=secret']);
    assert.equal(literal.code, 2);
    assert.match(literal.stderr, /never from the command line/);

    writeFileSync(join(root, 'other.txt'), 'new-other\n');
    const dry = await sealant(
      repo,
      ['apply', 'plan.json', '--dry-run', '--value', `api.other=@${join(root, 'other.txt')}`, '--value', 'api.token=-'],
      alice,
      'new-token\n',
    );
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^--- a\/dev\/app\.yaml/m);
    assert.equal(await decrypted(repo, 'dev/app.yaml'), before);

    const r = await sealant(
      repo,
      ['apply', 'plan.json', '--json', '--value', `api.other=@${join(root, 'other.txt')}`, '--value', 'api.token=-'],
      alice,
      'new-token\n',
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal((await sealant(repo, ['decrypt', 'dev/app.yaml'], bob)).code, 128);
    const after = await decrypted(repo, 'dev/app.yaml');
    assert.match(after, /token: new-token\n/);
    assert.match(after, /other: new-other\n/);
    assert.match(after, /password: [0-9a-f]{24}\n/);
    assert.doesNotMatch(after, /hunter2/);
    assert.doesNotMatch(readFileSync(join(repo, 'dev/app.yaml'), 'utf8'), new RegExp(bob.recipient));
    commit(repo, 'rotated', 0);
    const again = await plan(repo, ['--offboard', bob.recipient]);
    assert.deepEqual(again.files, []);
  });

  test('a stale plan is refused', async () => {
    const repo = await newRepo([alice], ['    rotate_every: 90d']);
    commit(repo, 'init', 200);
    await plan(repo, ['--out', 'plan.json']);
    assert.equal((await sealant(repo, ['set', 'dev/app.yaml', '["api"]["token"]', '"changed"'])).code, 0);
    const r = await sealant(repo, ['apply', 'plan.json', '--json']);
    assert.equal(r.code, 2);
    assert.equal((JSON.parse(r.stdout) as { code: string }).code, 'STALE_PLAN');
  });

  test('apply produces exactly the diff the plan predicted, and refuses a plan whose prediction it cannot meet', async () => {
    const repo = await newRepo([alice], ['    rotate_every: 90d']);
    commit(repo, 'init', 200);
    await plan(repo, ['--out', 'plan.json']);
    const saved = JSON.parse(readFileSync(join(repo, 'plan.json'), 'utf8')) as { files: { expectedDiff?: string }[] };
    assert.ok(
      saved.files.length > 0 &&
        saved.files.every((f) => typeof f.expectedDiff === 'string' && f.expectedDiff.includes('<new value>')),
    );
    // A prediction apply cannot meet: one replaced value shown as merely re-encrypted.
    const tampered = {
      ...saved,
      files: saved.files.map((f) => ({
        ...f,
        expectedDiff: f.expectedDiff!.replace('<new value>', '<redacted, re-encrypted>'),
      })),
    };
    assert.notDeepEqual(tampered, saved);
    writeFileSync(join(repo, 'tampered.json'), JSON.stringify(tampered));
    const before = readFileSync(join(repo, 'dev/app.yaml'), 'utf8');
    const refused = await sealant(
      repo,
      ['apply', 'tampered.json', '--json', '--value', 'api.token=-'],
      alice,
      'new-token',
    );
    assert.notEqual(refused.code, 0);
    assert.equal((JSON.parse(refused.stdout) as { code: string }).code, 'PLAN_MISMATCH');
    assert.equal(readFileSync(join(repo, 'dev/app.yaml'), 'utf8'), before, 'nothing written');
    const applied = await sealant(repo, ['apply', 'plan.json', '--value', 'api.token=-'], alice, 'new-token');
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(await decrypted(repo, 'dev/app.yaml'), /token: new-token/);
  });

  test('a value nobody supplied is asked for through the prompt (a hidden TTY prompt in the CLI)', async () => {
    const repo = await newRepo([alice], ['    rotate_every: 90d']);
    commit(repo, 'init', 200);
    await plan(repo, ['--out', 'plan.json']);
    const asked: string[] = [];
    const ctx = { env: {}, cwd: repo, now: () => new Date(), warn: () => undefined };
    const planData = parsePlan(JSON.parse(readFileSync(join(repo, 'plan.json'), 'utf8')));
    const result = await applyPlan(planData, ctx, {
      sources: await sourcesFromFiles(alice.file),
      prompt: async (file, path) => {
        asked.push(`${file}#${path}`);
        return 'prompted-token';
      },
    });
    assert.deepEqual(asked, ['dev/app.yaml#api.token'], 'only the value without a generator is asked for');
    assert.deepEqual(result.files[0]!.values.map((v) => `${v.path}:${v.source}`).sort(), [
      'api.token:input',
      'db.password:generated',
    ]);
    assert.match(await decrypted(repo, 'dev/app.yaml'), /token: prompted-token/);
  });

  test('a failure during apply leaves every file byte-identical', async () => {
    const repo = await newRepo([alice, bob], [], ['dev/a.yaml', 'dev/b.yaml']);
    commit(repo, 'init', 5);
    writeFileSync(join(repo, '.sealant.yaml'), config([alice]));
    commit(repo, 'remove bob', 1);
    const p = await plan(repo, ['--offboard', bob.recipient, '--out', 'plan.json']);
    assert.equal(p.files.length, 2);
    const snapshot = () => ['dev/a.yaml', 'dev/b.yaml'].map((f) => readFileSync(join(repo, f), 'utf8'));
    const before = snapshot();
    writeFileSync(join(root, 'tok.txt'), 'tok\n');
    const bad = await sealant(repo, [
      'apply',
      'plan.json',
      '--value',
      `dev/a.yaml#api.token=@${join(root, 'tok.txt')}`,
      '--value',
      `dev/b.yaml#api.token=@${join(root, 'missing.txt')}`,
    ]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.deepEqual(snapshot(), before);
    chmodSync(join(repo, 'dev/b.yaml'), 0o444);
    const ro = await sealant(repo, ['apply', 'plan.json', '--json', '--value', `api.token=@${join(root, 'tok.txt')}`]);
    assert.equal(ro.code, 3, ro.stdout);
    assert.deepEqual(snapshot(), before);
    assert.equal(execFileSync('ls', ['-a', join(repo, 'dev')], { encoding: 'utf8' }).includes('.sealant-tmp-'), false);
    chmodSync(join(repo, 'dev/b.yaml'), 0o644);
    const ok = await sealant(repo, ['apply', 'plan.json', '--value', `api.token=@${join(root, 'tok.txt')}`]);
    assert.equal(ok.code, 0, ok.stderr);
    for (const f of ['dev/a.yaml', 'dev/b.yaml']) assert.equal((await sealant(repo, ['decrypt', f], bob)).code, 128);
  });
});

/** An ops context for in-process plan/apply in `repo`. */
function repoContext(repo: string) {
  return { env: {}, cwd: repo, now: () => new Date(), warn: () => undefined };
}

async function decryptedInProcess(repo: string, file: string, key: Key = alice): Promise<string> {
  return (
    await decryptText(readFileSync(join(repo, file), 'utf8'), file, repoContext(repo), { identityFiles: [key.file] })
  ).text;
}

function valueFile(name: string, text: string): string {
  const path = join(root, name);
  writeFileSync(path, text);
  return path;
}

describe('a revision left out of the history', () => {
  test('is a warning of the plan, shown in its text, Markdown and JSON (not a separate log line)', async () => {
    const repo = await newRepo([alice]);
    const file = join(repo, 'dev/app.yaml');
    const encrypted = readFileSync(file, 'utf8');
    writeFileSync(file, 'db: [unclosed\n');
    commit(repo, 'broken', 10);
    writeFileSync(file, encrypted);
    commit(repo, 'fixed', 5);
    const broken = git(repo, ['rev-list', '-1', 'HEAD~1']).trim().slice(0, 12);
    const logged: string[] = [];
    const p = await planRotation({ ...repoContext(repo), warn: (m: string) => logged.push(m) }, {});
    assert.equal(p.warnings.length, 1, JSON.stringify(p.warnings));
    assert.match(
      p.warnings[0]!,
      new RegExp(
        `^dev/app\\.yaml: revision ${broken} left out of the history \\(not readable as yaml.*\\): what it exposed is not counted$`,
      ),
    );
    assert.deepEqual(logged, []);
    assert.ok(renderHuman(p).includes(`warning: ${p.warnings[0]!}`));
    assert.ok(renderMarkdown(p).includes(`> warning: ${p.warnings[0]!}`));
    // CLI: with the plan on stdout, the warning goes to stderr too.
    const r = await sealant(repo, ['plan', '--out', '-']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as Plan).warnings, p.warnings);
    assert.ok(r.stderr.includes(p.warnings[0]!), r.stderr);
  });
});

describe('apply writes values of the right type, and only values the schema accepts', () => {
  const typed = 'db:\n    host: db.local\n    port: 5432\n    ratio: 0.5\n    tls: true\n    password: hunter2\n';
  const dueRepo = async (content: string, schema: string) => {
    const repo = await newRepo([alice], ['    rotate_every: 90d'], ['dev/app.yaml'], content, schema);
    commit(repo, 'init', 200);
    return repo;
  };

  test('a new value keeps the ENC type of the value it replaces (apply --value db.port=@f writes an int)', async () => {
    const repo = await dueRepo(typed, JSON.stringify({ type: 'object' }));
    const plan = await planRotation(repoContext(repo), { sources: await sourcesFromFiles(alice.file) });
    assert.deepEqual(
      plan.files[0]!.values.map((v) => v.path),
      ['db.host', 'db.port', 'db.ratio', 'db.tls', 'db.password'],
    );
    const from = (path: string, text: string) => ({
      path,
      from: { kind: 'file' as const, path: valueFile(path, text) },
    });
    await applyPlan(plan, repoContext(repo), {
      sources: await sourcesFromFiles(alice.file),
      values: [
        from('db.host', 'db2.local\n'),
        from('db.port', '5433\n'),
        from('db.ratio', '0.75\n'),
        from('db.tls', 'false\n'),
        from('db.password', 'new-pw\n'),
      ],
    });
    const encrypted = readFileSync(join(repo, 'dev/app.yaml'), 'utf8');
    assert.match(encrypted, /port: ENC\[AES256_GCM,[^\]]*type:int\]/);
    assert.match(encrypted, /ratio: ENC\[AES256_GCM,[^\]]*type:float\]/);
    assert.match(encrypted, /tls: ENC\[AES256_GCM,[^\]]*type:bool\]/);
    assert.equal(
      await decryptedInProcess(repo, 'dev/app.yaml'),
      'db:\n    host: db2.local\n    port: 5433\n    ratio: 0.75\n    tls: false\n    password: new-pw\n',
    );
  });

  test("a value that is not of its key's type is refused, naming the key and never the value", async () => {
    const repo = await dueRepo(typed, JSON.stringify({ type: 'object' }));
    const plan = await planRotation(repoContext(repo), { sources: await sourcesFromFiles(alice.file) });
    const before = readFileSync(join(repo, 'dev/app.yaml'), 'utf8');
    const values = ['db.host', 'db.port', 'db.ratio', 'db.tls', 'db.password'].map((path) => ({
      path,
      from: { kind: 'file' as const, path: valueFile(path, path === 'db.port' ? 'not-a-port-s3cret' : '1') },
    }));
    await assert.rejects(
      applyPlan(plan, repoContext(repo), { sources: await sourcesFromFiles(alice.file), values }),
      (e: SealantError) => {
        assert.equal(e.code, 'INVALID_SET_VALUE');
        assert.equal(e.file, 'dev/app.yaml');
        assert.deepEqual(e.path, ['db', 'port']);
        assert.match(e.message, /int/);
        assert.doesNotMatch(`${e.message} ${e.hint ?? ''}`, /s3cret/);
        return true;
      },
    );
    assert.equal(readFileSync(join(repo, 'dev/app.yaml'), 'utf8'), before);
  });

  test('where the schema states a type, the new value takes it', async () => {
    const schema = JSON.stringify({
      type: 'object',
      properties: { db: { type: 'object', properties: { port: { type: 'integer' } } } },
    });
    const repo = await dueRepo('db:\n    port: "5432"\n', schema);
    const plan = await planRotation(repoContext(repo), { sources: await sourcesFromFiles(alice.file) });
    await applyPlan(plan, repoContext(repo), {
      sources: await sourcesFromFiles(alice.file),
      values: [{ path: 'db.port', from: { kind: 'file', path: valueFile('port', '5433\n') } }],
    });
    assert.match(readFileSync(join(repo, 'dev/app.yaml'), 'utf8'), /port: "?ENC\[AES256_GCM,[^\]]*type:int\]/);
    assert.equal(await decryptedInProcess(repo, 'dev/app.yaml'), 'db:\n    port: 5433\n');
  });

  test('the result is validated against the schema before anything is written', async () => {
    const schema = JSON.stringify({
      type: 'object',
      properties: { api: { type: 'object', properties: { token: { type: 'string', pattern: '^tok-' } } } },
    });
    const repo = await newRepo(
      [alice],
      ['    rotate_every: 90d'],
      ['dev/a.yaml', 'dev/b.yaml'],
      'api:\n    token: tok-old\n',
      schema,
    );
    commit(repo, 'init', 200);
    const plan = await planRotation(repoContext(repo), { sources: await sourcesFromFiles(alice.file) });
    assert.equal(plan.files.length, 2);
    const snapshot = () => ['dev/a.yaml', 'dev/b.yaml'].map((f) => readFileSync(join(repo, f), 'utf8'));
    const before = snapshot();
    const values = [
      { file: 'dev/a.yaml', path: 'api.token', from: { kind: 'file' as const, path: valueFile('good', 'tok-new\n') } },
      {
        file: 'dev/b.yaml',
        path: 'api.token',
        from: { kind: 'file' as const, path: valueFile('bad', 'wrong-s3cret\n') },
      },
    ];
    await assert.rejects(
      applyPlan(plan, repoContext(repo), { sources: await sourcesFromFiles(alice.file), values }),
      (e: SealantError) => {
        assert.equal(e.code, 'SCHEMA_VIOLATION');
        assert.equal(e.file, 'dev/b.yaml');
        assert.match(e.message, /api\.token: must match pattern "\^tok-"/);
        assert.doesNotMatch(e.message, /s3cret/);
        return true;
      },
    );
    assert.deepEqual(snapshot(), before, 'no file written, not even the valid one');
    await applyPlan(plan, repoContext(repo), {
      sources: await sourcesFromFiles(alice.file),
      values: [{ ...values[0]!, file: undefined, path: 'api.token' }].map(({ file: _f, ...v }) => v),
    });
    assert.equal(await decryptedInProcess(repo, 'dev/b.yaml'), 'api:\n    token: tok-new\n');
  });

  test('apply of an empty plan says there is nothing to do and exits 0', async () => {
    const repo = await newRepo([alice], ['    rotate_every: 90d']);
    commit(repo, 'init', 1);
    await plan(repo, ['--out', 'plan.json']);
    const human = await sealant(repo, ['apply', 'plan.json']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^Nothing to do/m);
    assert.equal(human.stderr, '');
    const json = await sealant(repo, ['apply', 'plan.json', '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual((JSON.parse(json.stdout) as { status: string; result: { files: unknown[] } }).result.files, []);
  });
});

describe('offboarding a recipient the config still lists', () => {
  test('the plan removes it from .sealant.yaml as a step it shows; apply writes it and the recipient can no longer decrypt', async () => {
    const repo = await newRepo([alice, bob]);
    commit(repo, 'init', 5);
    const configBefore = readFileSync(join(repo, '.sealant.yaml'), 'utf8');
    const p = await planRotation(repoContext(repo), {
      offboard: [bob.recipient],
      sources: await sourcesFromFiles(alice.file),
    });
    assert.deepEqual(p.config?.removeRecipients, [{ environment: 'dev', recipient: bob.recipient }]);
    assert.equal(p.config.file, '.sealant.yaml');
    assert.ok(p.config.expectedDiff.includes(`-    age: [${alice.recipient}, ${bob.recipient}]`));
    assert.ok(p.config.expectedDiff.includes(`+    age: [${alice.recipient}]`));
    assert.deepEqual(p.warnings, []);
    const f = p.files[0]!;
    assert.deepEqual(f.actions, ['rewrap', 'rotate-data-key', 'rotate-values']);
    assert.deepEqual(f.removeRecipients, [bob.recipient]);
    assert.match(
      renderHuman(p),
      /# \.sealant\.yaml: remove offboarded recipients \(first\)\n {2}- age1\S+ from environment "dev"/,
    );
    assert.equal(readFileSync(join(repo, '.sealant.yaml'), 'utf8'), configBefore, 'planning writes nothing');

    const result = await applyPlan(p, repoContext(repo), {
      sources: await sourcesFromFiles(alice.file),
      values: [{ path: 'api.token', from: { kind: 'file', path: valueFile('tok', 'new-token\n') } }],
    });
    assert.deepEqual(result.config, {
      file: '.sealant.yaml',
      removed: [{ environment: 'dev', recipient: bob.recipient }],
    });
    assert.equal(readFileSync(join(repo, '.sealant.yaml'), 'utf8'), configBefore.replace(`, ${bob.recipient}`, ''));
    await assert.rejects(decryptedInProcess(repo, 'dev/app.yaml', bob), (e: SealantError) => e.exitCode === 128);
    assert.match(await decryptedInProcess(repo, 'dev/app.yaml'), /token: new-token\n/);
    commit(repo, 'offboarded', 0);
    const again = await planRotation(repoContext(repo), {
      offboard: [bob.recipient],
      sources: await sourcesFromFiles(alice.file),
    });
    assert.equal(again.config, undefined);
    assert.deepEqual(again.files, []);
  });

  test('a plan whose only step is the config edit is applied (and touches only the planned environment)', async () => {
    const repo = await newRepo([alice, bob]);
    writeFileSync(
      join(repo, '.sealant.yaml'),
      config([alice, bob]) +
        ['  ops:', '    files: ["ops/**"]', `    age: [${alice.recipient}, ${bob.recipient}]`, ''].join('\n'),
    );
    commit(repo, 'init', 5);
    const p = await planRotation(repoContext(repo), { env: 'ops', offboard: [bob.recipient] });
    assert.deepEqual(p.files, []);
    assert.deepEqual(p.config?.removeRecipients, [{ environment: 'ops', recipient: bob.recipient }]);
    assert.doesNotMatch(renderHuman(p), /No changes/);
    const r = await applyPlan(p, repoContext(repo), { sources: await sourcesFromFiles(alice.file) });
    assert.deepEqual(r.files, []);
    const text = readFileSync(join(repo, '.sealant.yaml'), 'utf8');
    assert.ok(
      text.includes(`    age: [${alice.recipient}, ${bob.recipient}]\n    schema:`),
      'dev keeps bob: it was not planned',
    );
    assert.ok(text.endsWith(`  ops:\n    files: ["ops/**"]\n    age: [${alice.recipient}]\n`));
  });

  test('a config changed since the plan is refused, and nothing is written', async () => {
    const repo = await newRepo([alice, bob]);
    commit(repo, 'init', 5);
    const p = await planRotation(repoContext(repo), {
      offboard: [bob.recipient],
      sources: await sourcesFromFiles(alice.file),
    });
    writeFileSync(join(repo, '.sealant.yaml'), `${readFileSync(join(repo, '.sealant.yaml'), 'utf8')}# reviewed\n`);
    const before = readFileSync(join(repo, 'dev/app.yaml'), 'utf8');
    const values = [{ path: 'api.token', from: { kind: 'file' as const, path: valueFile('tok', 'new-token\n') } }];
    await assert.rejects(
      applyPlan(p, repoContext(repo), { sources: await sourcesFromFiles(alice.file), values }),
      (e: SealantError) => e.code === 'STALE_PLAN' && e.file === '.sealant.yaml',
    );
    assert.equal(readFileSync(join(repo, 'dev/app.yaml'), 'utf8'), before);
  });

  test('the last recipient of an environment cannot be offboarded by a plan: it refuses', async () => {
    const repo = await newRepo([bob]);
    commit(repo, 'init', 5);
    await assert.rejects(
      planRotation(repoContext(repo), { offboard: [bob.recipient] }),
      (e: SealantError) => e.code === 'CONFIG' && /last recipient of environment "dev"/.test(e.message),
    );
  });

  test('a .sops.yaml project is refused with a clear error (sealant edits recipients only in .sealant.yaml)', async () => {
    const repo = await newRepo([alice, bob]);
    rmSync(join(repo, '.sealant.yaml'));
    writeFileSync(
      join(repo, '.sops.yaml'),
      `creation_rules:\n  - path_regex: ^dev/\n    age: ${alice.recipient},${bob.recipient}\n`,
    );
    commit(repo, 'init', 5);
    await assert.rejects(
      planRotation(repoContext(repo), { offboard: [bob.recipient] }),
      (e: SealantError) =>
        e.code === 'CONFIG' && e.file === '.sops.yaml' && /still a recipient of "rule-1"/.test(e.message),
    );
  });
});

describe('an offboarding plan replaces secrets, not configuration', () => {
  const content = 'db:\n    host: db.local\n    password: hunter2\n';

  test('with x-sealant-secret in the schema, only the secrets an offboarded recipient could read are asked for', async () => {
    const schema = JSON.stringify({
      type: 'object',
      properties: {
        db: {
          type: 'object',
          properties: { host: { type: 'string' } },
          additionalProperties: { type: 'string', 'x-sealant-secret': true },
        },
      },
    });
    const repo = await newRepo([alice, bob], [], ['dev/app.yaml'], content, schema);
    commit(repo, 'init', 5);
    writeFileSync(join(repo, '.sealant.yaml'), config([alice]));
    commit(repo, 'remove bob', 1);
    const p = await planRotation(repoContext(repo), { offboard: [bob.recipient] });
    const f = p.files[0]!;
    assert.deepEqual(f.actions, ['rewrap', 'rotate-data-key', 'rotate-values']);
    assert.deepEqual(
      f.values.map((v) => v.path),
      ['db.password'],
    );
    assert.ok(p.offboarding![0]!.keys.includes('db.host'), 'the report still says bob could read db.host');
  });

  test('without x-sealant-secret anywhere in the schema, every value counts as a secret', async () => {
    const repo = await newRepo([alice, bob], [], ['dev/app.yaml'], content, JSON.stringify({ type: 'object' }));
    commit(repo, 'init', 5);
    writeFileSync(join(repo, '.sealant.yaml'), config([alice]));
    commit(repo, 'remove bob', 1);
    const p = await planRotation(repoContext(repo), { offboard: [bob.recipient] });
    assert.deepEqual(
      p.files[0]!.values.map((v) => v.path),
      ['db.host', 'db.password'],
    );
  });
});
