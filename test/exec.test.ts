/**
 * `sealant exec` end to end: real git repositories, real age keys, real child processes.
 * Variables and files reach the command; exit codes, signals and stdin pass through as a shell
 * expects; the private file/FIFO is gone afterwards; the audit line names files (git blob ids),
 * keys and CI identity and never a value. After every test, no file under os.tmpdir() or the
 * repository holds the canary secret.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  type Dirent,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';

import Exec from '../src/commands/exec.js';
import { commands } from '../src/commands/index.js';
import { buildAuditEvent, CI_IDENTITY_VARS, gitBlobId, writeAuditEvent, type AuditEvent } from '../src/ops/audit.js';
import { formatFromName, shellStatus, withPath } from '../src/ops/exec.js';
import { BIN, runCli, type CliResult } from './helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'sealant-exec-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A value that must never reach a file: unique per run, so a leftover from another run cannot match. */
const CANARY = `canary-${randomBytes(12).toString('hex')}`;
const NODE = process.execPath;

const keyFile = join(root, 'key.txt');
let recipient = '';
let repo = '';

const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@t',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@t',
};
function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-C', cwd, ...args], { encoding: 'utf8', env: gitEnv });
}

before(async () => {
  execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' });
  recipient = /public key: (age1[0-9a-z]+)/.exec(readFileSync(keyFile, 'utf8'))![1]!;
  repo = join(root, 'repo');
  mkdirSync(join(repo, 'env/dev'), { recursive: true });
  mkdirSync(join(repo, 'env/app'), { recursive: true });
  git(repo, 'init', '-q');
  writeFileSync(
    join(repo, '.sealant.yaml'),
    [
      'environments:',
      '  dev:',
      '    files: ["env/dev/*.yaml"]',
      `    age: [${recipient}]`,
      '  app:',
      '    files: ["env/app/*.yaml"]',
      `    age: [${recipient}]`,
      '    render:',
      '      dotenv: { prefix: APP_ }',
      '',
    ].join('\n'),
  );
  writeFileSync(join(repo, 'env/dev/a.yaml'), `db:\n    password: ${CANARY}\n    port: 5432\n`);
  writeFileSync(join(repo, 'env/dev/b.yaml'), 'api:\n    token: tok-b\n');
  writeFileSync(join(repo, 'env/app/c.yaml'), 'api:\n    token: tok-app\n');
  for (const f of ['env/dev/a.yaml', 'env/dev/b.yaml', 'env/app/c.yaml']) {
    const r = await runCli(['encrypt', '--in-place', f], { cwd: repo });
    assert.equal(r.code, 0, r.stderr);
  }
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'init');
});

/** Every regular file under `dir` (symlinks not followed; unreadable entries skipped). */
function* files(dir: string): Generator<string> {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.isFile()) yield p;
  }
}

function filesHolding(dir: string, needle: string): string[] {
  const hits: string[] = [];
  const bytes = Buffer.from(needle);
  for (const f of files(dir)) {
    try {
      if (lstatSync(f).size > 64 * 1024 * 1024) continue;
      if (readFileSync(f).includes(bytes)) hits.push(f);
    } catch {
      // Vanished or unreadable (another test's file): not ours.
    }
  }
  return hits;
}

afterEach(() => {
  assert.deepEqual(filesHolding(tmpdir(), CANARY), [], 'the secret reached a file under the temp dir');
  assert.deepEqual(filesHolding(repo, CANARY), [], 'the secret reached a file in the repository');
});

function sealant(
  args: string[],
  opts: { input?: string; env?: Record<string, string | undefined> } = {},
): Promise<CliResult> {
  return runCli(args, {
    cwd: repo,
    env: { SOPS_AGE_KEY_FILE: keyFile, ...opts.env },
    ...(opts.input === undefined ? {} : { input: opts.input }),
  });
}

/** `sealant exec --env dev … -- node -e SCRIPT ARGS`, audit to a throwaway log so stderr stays the child's. */
function execNode(
  script: string,
  args: string[] = [],
  flags: string[] = [],
  opts: { input?: string; env?: Record<string, string | undefined> } = {},
): Promise<CliResult> {
  return sealant(
    [
      'exec',
      '--env',
      'dev',
      '--audit-log',
      join(root, 'scratch-audit.jsonl'),
      ...flags,
      '--',
      NODE,
      '-e',
      script,
      ...args,
    ],
    opts,
  );
}

/** The audit lines of a log, parsed. */
function auditLines(path: string): AuditEvent[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AuditEvent);
}

describe('exec: variables', () => {
  test("the command gets the variables, named by the environment's settings, on top of the base environment", async () => {
    const script =
      'const e = process.env; process.stdout.write(JSON.stringify({ pw: e.DB_PASSWORD, port: e.DB_PORT, token: e.API_TOKEN, base: e.BASE_VAR, app: e.APP_DB_PASSWORD }))';
    const r = await execNode(script, [], [], { env: { BASE_VAR: 'from-parent', DB_PORT: 'overridden' } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { pw: CANARY, port: '5432', token: 'tok-b', base: 'from-parent' });
    assert.equal(r.stderr, '');
    const prefixed = await sealant([
      'exec',
      '-e',
      'app',
      '--audit-log',
      join(root, 'scratch-audit.jsonl'),
      '--',
      NODE,
      '-e',
      'process.stdout.write(JSON.stringify([process.env.APP_API_TOKEN, process.env.API_TOKEN ?? null]))',
    ]);
    assert.equal(prefixed.code, 0, prefixed.stderr);
    assert.deepEqual(JSON.parse(prefixed.stdout), ['tok-app', null]);
  });

  test('arguments reach the command verbatim: order, duplicates, dashes, and values that equal flag values', async () => {
    const r = await execNode('process.stdout.write(JSON.stringify(process.argv.slice(1)))', [
      'dev',
      '--env',
      'dev',
      '-e',
      'a b',
      '{}',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), ['dev', '--env', 'dev', '-e', 'a b', '{}', '--json']);
  });

  test('while the command runs, no file holds the value (and the scan does find one that does)', async () => {
    const script =
      'process.stdout.write("ready\\n"); process.stdin.resume(); process.stdin.on("end", () => process.stdout.write(String(process.env.DB_PASSWORD.length)))';
    const r = await spawnWhileRunning(
      ['exec', '--env', 'dev', '--audit-log', join(root, 'scratch-audit.jsonl'), '--', NODE, '-e', script],
      () => {
        assert.deepEqual(filesHolding(tmpdir(), CANARY), []);
        assert.deepEqual(filesHolding(repo, CANARY), []);
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `ready\n${CANARY.length}`);
    const planted = join(root, 'planted.txt');
    writeFileSync(planted, `x${CANARY}y`);
    try {
      assert.deepEqual(filesHolding(tmpdir(), CANARY), [planted]);
    } finally {
      rmSync(planted);
    }
  });

  test('exit codes 0 and 3 pass through', async () => {
    assert.equal((await execNode('process.exit(0)')).code, 0);
    const r = await execNode('process.exit(3)');
    assert.equal(r.code, 3);
    assert.equal(r.stderr, '');
  });

  test('stdin and stdout pass through', async () => {
    const r = await execNode(
      'let s = ""; process.stdin.on("data", (c) => (s += c)); process.stdin.on("end", () => process.stdout.write(s.toUpperCase()))',
      [],
      [],
      { input: 'hello\nworld\n' },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'HELLO\nWORLD\n');
  });

  for (const [signal, number] of [
    ['SIGTERM', 15],
    ['SIGKILL', 9],
    ['SIGINT', 2],
  ] as const) {
    test(`a command killed by ${signal}: sealant dies of ${signal} too, and a shell reports ${128 + number}`, async () => {
      const script = `process.kill(process.pid, "${signal}"); setTimeout(() => {}, 5000)`;
      const r = await execNode(script);
      assert.equal(r.code, null);
      assert.equal(r.signal, signal);
      // What a calling shell sees: `$?` is 128 + n only when sealant itself died of the signal.
      const out = execFileSync(
        '/bin/sh',
        [
          '-c',
          `"$0" "$@"; echo "status=$?"`,
          NODE,
          BIN,
          'exec',
          '--env',
          'dev',
          '--audit-log',
          join(root, 'scratch-audit.jsonl'),
          '--',
          NODE,
          '-e',
          script,
        ],
        {
          cwd: repo,
          env: { ...process.env, SOPS_AGE_KEY_FILE: keyFile, HOME: '/nonexistent-sealant-test-home' },
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'], // the shell's "Terminated" notice
        },
      );
      assert.match(out, new RegExp(`status=${128 + number}\\n$`));
    });
  }

  test('a command that dumps core (SIGABRT): sealant exits 134 without dumping core itself', async () => {
    // `ulimit -c 0`: the command's own core file would hold the secret (it has it in its environment).
    const r = await sealant([
      'exec',
      '--env',
      'dev',
      '--audit-log',
      join(root, 'scratch-audit.jsonl'),
      '--',
      '/bin/sh',
      '-c',
      'ulimit -c 0; exec "$0" -e "process.abort()"',
      NODE,
    ]);
    assert.equal(r.signal, null);
    assert.equal(r.code, 134);
  });

  test('SIGTERM sent to sealant reaches the command, and sealant exits as the command does', async () => {
    const script =
      'process.on("SIGTERM", () => { process.stdout.write("got SIGTERM"); process.exit(7); }); process.stdout.write("ready\\n"); setInterval(() => {}, 1000)';
    const r = await spawnAndSignal(
      ['exec', '--env', 'dev', '--audit-log', join(root, 'scratch-audit.jsonl'), '--', NODE, '-e', script],
      'SIGTERM',
    );
    assert.equal(r.code, 7, r.stderr);
    assert.equal(r.stdout, 'ready\ngot SIGTERM');
  });

  test('a command that cannot be found: exit 127 and one line; --json gives the envelope', async () => {
    const r = await sealant([
      'exec',
      '--env',
      'dev',
      '--audit-log',
      join(root, 'scratch-audit.jsonl'),
      '--',
      'no-such-command-sealant',
    ]);
    assert.equal(r.code, 127);
    assert.match(r.stderr, /^sealant: command not found: no-such-command-sealant\n/);
    const j = await sealant([
      'exec',
      '--json',
      '--env',
      'dev',
      '--audit-log',
      join(root, 'scratch-audit.jsonl'),
      '--',
      'no-such-command-sealant',
    ]);
    assert.equal(j.code, 127);
    assert.deepEqual(JSON.parse(j.stdout), {
      status: 'error',
      code: 'EXEC',
      message: 'command not found: no-such-command-sealant',
      exitCode: 127,
    });
  });

  test('a command that is not executable: exit 126', async () => {
    const plain = join(root, 'not-executable.sh');
    writeFileSync(plain, '#!/bin/sh\necho hi\n', { mode: 0o644 });
    const r = await sealant(['exec', '--env', 'dev', '--audit-log', join(root, 'scratch-audit.jsonl'), '--', plain]);
    assert.equal(r.code, 126);
    assert.match(r.stderr, /command is not executable/);
  });

  test("--json prints no success envelope: stdout is the command's", async () => {
    const r = await sealant([
      'exec',
      '--json',
      '--env',
      'dev',
      '--audit-log',
      join(root, 'scratch-audit.jsonl'),
      '--',
      NODE,
      '-e',
      'process.stdout.write("only me")',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'only me');
  });

  test('no command, or flags without --: usage errors', async () => {
    const none = await sealant(['exec', '--env', 'dev']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no command to run/);
    const noDash = await sealant(['exec', '--env', 'dev', 'ls', '-la']);
    assert.equal(noDash.code, 2);
    assert.match(noDash.stderr, /after `--`/);
  });

  test('no key: exit 128 and the command never runs', async () => {
    const marker = join(root, 'ran-without-key');
    const r = await runCli(
      ['exec', '--env', 'dev', '--', NODE, '-e', `require("fs").writeFileSync(${JSON.stringify(marker)}, "x")`],
      { cwd: repo },
    );
    assert.equal(r.code, 128);
    assert.equal(existsSync(marker), false);
  });
});

describe('exec --file', () => {
  const reader =
    'const fs = require("fs"); const p = process.argv[process.argv.length - 1]; const path = require("path");' +
    'process.stdout.write(JSON.stringify({ argv: process.argv.slice(1), path: p, mode: fs.statSync(p).mode & 0o777, dirMode: fs.statSync(path.dirname(p)).mode & 0o777, fifo: fs.statSync(p).isFIFO(), content: fs.readFileSync(p, "utf8"), env: process.env.DB_PASSWORD ?? null }))';
  interface Seen {
    argv: string[];
    path: string;
    mode: number;
    dirMode: number;
    fifo: boolean;
    content: string;
    env: string | null;
  }

  test('dotenv in a 0600 file in a private 0700 directory under the temp dir, gone afterwards; no variables', async () => {
    const r = await execNode(reader, ['{}'], ['--file', 'secrets.env']);
    assert.equal(r.code, 0, r.stderr);
    const seen = JSON.parse(r.stdout) as Seen;
    assert.equal(seen.mode, 0o600);
    assert.equal(seen.dirMode, 0o700);
    assert.equal(seen.fifo, false);
    assert.ok(seen.path.startsWith(tmpdir()), seen.path);
    assert.ok(seen.path.endsWith('/secrets.env'));
    assert.match(seen.content, new RegExp(`^DB_PASSWORD=.*${CANARY}`, 'm'));
    assert.match(seen.content, /^API_TOKEN=.*tok-b/m);
    assert.equal(seen.env, null);
    assert.equal(existsSync(seen.path), false);
    assert.equal(existsSync(join(seen.path, '..')), false);
  });

  test('{} is replaced inside arguments; without {} the path is appended', async () => {
    // Like sops, every occurrence is replaced, inside longer arguments too.
    const inside = await execNode(reader, ['x', '--config={}', '{}'], ['--file', 'c.env']);
    assert.equal(inside.code, 0, inside.stderr);
    const a = JSON.parse(inside.stdout) as Seen;
    assert.equal(a.argv.length, 3);
    assert.equal(a.argv[1], `--config=${a.argv[2]}`);
    const appended = await execNode(reader, ['x'], ['--file', 'c.env']);
    const b = JSON.parse(appended.stdout) as Seen;
    assert.deepEqual(b.argv.slice(0, 1), ['x']);
    assert.ok(b.argv[1]!.endsWith('/c.env'));
    const custom = await execNode(reader, ['@@'], ['--file', 'c.env', '--placeholder', '@@']);
    assert.ok((JSON.parse(custom.stdout) as Seen).argv[0]!.endsWith('/c.env'));
  });

  test('JSON and YAML, by extension or --format', async () => {
    const json = await execNode(reader, [], ['--file', 'creds.json']);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse((JSON.parse(json.stdout) as Seen).content), {
      db: { password: CANARY, port: 5432 },
      api: { token: 'tok-b' },
    });
    const yaml = await execNode(reader, [], ['--file', 'creds', '--format', 'yaml']);
    assert.equal(yaml.code, 0, yaml.stderr);
    assert.match((JSON.parse(yaml.stdout) as Seen).content, new RegExp(`password: ${CANARY}`));
  });

  test('the FIFO variant: the command reads it once; it is gone afterwards', async () => {
    const r = await execNode(reader, [], ['--file', 'secrets.env', '--fifo']);
    assert.equal(r.code, 0, r.stderr);
    const seen = JSON.parse(r.stdout) as Seen;
    assert.equal(seen.fifo, true);
    assert.equal(seen.mode, 0o600);
    assert.equal(seen.dirMode, 0o700);
    assert.match(seen.content, new RegExp(`^DB_PASSWORD=.*${CANARY}`, 'm'));
    assert.equal(existsSync(seen.path), false);
  });

  test('FIFO: a command that never opens it, or reads only part of it, does not hang sealant', async () => {
    const ignore = await execNode(
      'process.stdout.write(process.argv[1]); process.exit(4)',
      [],
      ['--file', 'secrets.env', '--fifo'],
    );
    assert.equal(ignore.code, 4, ignore.stderr);
    assert.equal(existsSync(ignore.stdout), false);
    const partial = await execNode(
      'const fs = require("fs"); const fd = fs.openSync(process.argv[1], "r"); fs.readSync(fd, Buffer.alloc(3)); process.exit(0)',
      [],
      ['--file', 'secrets.env', '--fifo'],
    );
    assert.equal(partial.code, 0, partial.stderr);
  });

  test('SIGTERM to sealant: the command gets it, the file is removed, sealant exits 143', async () => {
    const script =
      'const p = process.argv[1]; process.on("SIGTERM", () => { process.stdout.write("got SIGTERM " + require("fs").existsSync(p)); process.exit(0); }); process.stdout.write("ready " + p + "\\n"); setInterval(() => 0, 1000)';
    const r = await spawnAndSignal(
      [
        'exec',
        '--env',
        'dev',
        '--audit-log',
        join(root, 'scratch-audit.jsonl'),
        '--file',
        's.env',
        '--',
        NODE,
        '-e',
        script,
      ],
      'SIGTERM',
    );
    assert.equal(r.code, 143, r.stderr);
    const path = /^ready (.*)\n/.exec(r.stdout)![1]!;
    assert.match(r.stdout, /got SIGTERM/);
    assert.equal(existsSync(path), false);
  });

  for (const [signal, status] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    test(`FIFO: ${signal} to sealant before the command opened it: exit ${status} at once, the FIFO and its directory gone`, async () => {
      const script = 'process.stdout.write("ready " + process.argv[1] + "\\n"); setInterval(() => 0, 1000)';
      const r = await spawnAndSignal(
        [
          'exec',
          '--env',
          'dev',
          '--audit-log',
          join(root, 'scratch-audit.jsonl'),
          '--file',
          's.env',
          '--fifo',
          '--',
          NODE,
          '-e',
          script,
        ],
        signal,
      );
      assert.equal(r.code, status, `sealant did not exit (signal ${String(r.signal)}): ${r.stderr}`);
      const path = /^ready (.*)\n/.exec(r.stdout)![1]!;
      assert.equal(existsSync(path), false);
      assert.equal(existsSync(join(path, '..')), false);
    });
  }

  test('a command killed by a signal: sealant removes the file, then dies of the same signal', async () => {
    const r = await execNode(
      'process.stdout.write(process.argv[1]); process.kill(process.pid, "SIGTERM"); setTimeout(() => 0, 5000)',
      [],
      ['--file', 's.env'],
    );
    assert.equal(r.signal, 'SIGTERM');
    assert.ok(r.stdout.endsWith('/s.env'));
    assert.equal(existsSync(r.stdout), false);
  });

  test('a path as --file is refused', async () => {
    const r = await execNode('1', [], ['--file', '../x.env']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /plain file name/);
  });
});

describe('audit', () => {
  test('one JSON line per exec, with blob ids equal to git hash-object, CI identity, user; never a value; appended 0600', async () => {
    const log = join(root, 'audit', 'exec.jsonl');
    mkdirSync(join(root, 'audit'));
    const env = {
      GITHUB_ACTOR: 'octocat',
      GITHUB_RUN_ID: '42',
      GITHUB_WORKFLOW: 'deploy',
      GITHUB_REPOSITORY: 'o/r',
      CI_JOB_ID: '7',
      USER: 'runner',
      SOME_SECRET: CANARY,
    };
    const r = await sealant(['exec', '--env', 'dev', '--audit-log', log, '--', NODE, '-e', '0'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(statSync(log).mode & 0o777, 0o600);
    const [event] = auditLines(log);
    assert.ok(event !== undefined);
    assert.match(event.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.equal(event.event, 'exec');
    assert.equal(event.environment, 'dev');
    assert.deepEqual(
      event.files.map((f) => f.path),
      ['env/dev/a.yaml', 'env/dev/b.yaml'],
    );
    for (const f of event.files) {
      assert.equal(f.blob, git(repo, 'hash-object', f.path).trim());
      assert.deepEqual(f.unwrappedBy, [`age:${recipient}`]);
    }
    assert.deepEqual([...event.keys].sort(), ['API_TOKEN', 'DB_PASSWORD', 'DB_PORT']);
    assert.deepEqual(event.ci, {
      GITHUB_ACTOR: 'octocat',
      GITHUB_RUN_ID: '42',
      GITHUB_WORKFLOW: 'deploy',
      GITHUB_REPOSITORY: 'o/r',
      CI_JOB_ID: '7',
    });
    assert.equal(event.user, 'runner');
    assert.equal(event.command, 'node');
    // A second run appends.
    await sealant(['exec', '--env', 'dev', '--audit-log', log, '--file', 'x.json', '--', NODE, '-e', '0']);
    const lines = auditLines(log);
    assert.equal(lines.length, 2);
    assert.deepEqual([...lines[1]!.keys].sort(), ['api.token', 'db.password', 'db.port']);
    assert.ok(!readFileSync(log, 'utf8').includes(CANARY));
  });

  test('without --audit-log the line goes to stderr (SEALANT_AUDIT_LOG also works)', async () => {
    const r = await sealant(['exec', '--env', 'dev', '--', NODE, '-e', '0']);
    assert.equal(r.code, 0, r.stderr);
    const line = JSON.parse(r.stderr) as AuditEvent;
    assert.equal(line.event, 'exec');
    assert.ok(!r.stderr.includes(CANARY));
    const log = join(root, 'env-audit.jsonl');
    const viaEnv = await sealant(['exec', '--env', 'dev', '--', NODE, '-e', '0'], { env: { SEALANT_AUDIT_LOG: log } });
    assert.equal(viaEnv.stderr, '');
    assert.equal(auditLines(log).length, 1);
  });

  test('an audit log that cannot be written: exit 3 and the command never runs', async () => {
    const marker = join(root, 'ran-without-audit');
    const r = await sealant([
      'exec',
      '--env',
      'dev',
      '--audit-log',
      join(root, 'no-dir', 'a.jsonl'),
      '--',
      NODE,
      '-e',
      `require("fs").writeFileSync(${JSON.stringify(marker)}, "x")`,
    ]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /cannot append to the audit log: ENOENT/);
    assert.equal(existsSync(marker), false);
  });

  test('builder: blob ids match git hash-object, only present CI variables, USER then LOGNAME', () => {
    const bytes = Buffer.from('a: 1\n\u00e9\0binary');
    const f = join(root, 'blob.bin');
    writeFileSync(f, bytes);
    assert.equal(gitBlobId(bytes), execFileSync('git', ['hash-object', f], { encoding: 'utf8' }).trim());
    assert.equal(gitBlobId(new Uint8Array()), 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391');
    const event = buildAuditEvent({
      event: 'render',
      environment: 'prod',
      files: [{ path: 'p.yaml', bytes, unwrappedBy: ['age:x'] }],
      keys: ['A'],
      output: 'stdout',
      env: { CI_PIPELINE_ID: '9', GITLAB_USER_LOGIN: 'gl', BUILD_ID: '', LOGNAME: 'ln', PASSWORD: 'nope' },
      now: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
    });
    assert.deepEqual(event, {
      time: '2024-01-02T03:04:05.000Z',
      event: 'render',
      environment: 'prod',
      files: [{ path: 'p.yaml', blob: gitBlobId(bytes), unwrappedBy: ['age:x'] }],
      keys: ['A'],
      output: 'stdout',
      ci: { GITLAB_USER_LOGIN: 'gl', CI_PIPELINE_ID: '9' },
      user: 'ln',
    });
    assert.ok(CI_IDENTITY_VARS.includes('GITHUB_ACTOR'));
  });

  test('writer: to stderr as one line', async () => {
    let out = '';
    const event = buildAuditEvent({ event: 'krm', environment: 'e', files: [], keys: [], env: {}, now: new Date(0) });
    await writeAuditEvent(event, { stderr: { write: (s: string) => (out += s) } });
    assert.equal(out, `${JSON.stringify(event)}\n`);
  });
});

describe('exec API snapshot', () => {
  test('flags and command map', () => {
    type FlagLike = {
      type: string;
      char?: string;
      default?: unknown;
      multiple?: boolean;
      required?: boolean;
      dependsOn?: string[];
      env?: string;
      options?: readonly string[];
    };
    const flags = Object.fromEntries(
      Object.entries({ ...Exec.baseFlags, ...Exec.flags } as Record<string, FlagLike>).map(([name, f]) => [
        name,
        {
          type: f.type,
          char: f.char,
          default: f.default,
          multiple: f.multiple ?? false,
          required: f.required ?? false,
          dependsOn: f.dependsOn,
          env: f.env,
          options: f.options,
        },
      ]),
    );
    const plain = {
      type: 'option',
      char: undefined,
      default: undefined,
      multiple: false,
      required: false,
      dependsOn: undefined,
      env: undefined,
      options: undefined,
    };
    assert.deepEqual(flags, {
      verbose: { ...plain, type: 'boolean' },
      env: { ...plain, char: 'e', required: true },
      file: plain,
      fifo: { ...plain, type: 'boolean', dependsOn: ['file'] },
      format: { ...plain, dependsOn: ['file'], options: ['dotenv', 'json', 'yaml'] },
      placeholder: { ...plain, dependsOn: ['file'] },
      identity: { ...plain, multiple: true },
      config: plain,
      strict: { ...plain, type: 'boolean', default: false },
      'audit-log': { ...plain, env: 'SEALANT_AUDIT_LOG' },
    });
    assert.equal(Exec.strict, false);
    assert.equal(Exec.enableJsonFlag, true);
    assert.equal(commands.exec, Exec);
  });
});

describe('exec helpers', () => {
  test('withPath, formatFromName, shellStatus', () => {
    assert.deepEqual(withPath(['a', '{}', 'b={}{}'], '{}', '/p'), ['a', '/p', 'b=/p/p']);
    assert.deepEqual(withPath(['a'], '{}', '/p'), ['a', '/p']);
    assert.equal(formatFromName('X.JSON'), 'json');
    assert.equal(formatFromName('a.yml'), 'yaml');
    assert.equal(formatFromName('.env'), 'dotenv');
    assert.equal(shellStatus({ exitCode: 3, signal: null }), 3);
    assert.equal(shellStatus({ exitCode: null, signal: 'SIGTERM' }), 143);
  });
});

/** Runs the CLI, waits for the command to print a line, sends `signal` to sealant, collects the rest. */
function spawnAndSignal(args: string[], signal: NodeJS.Signals): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [BIN, ...args], {
      cwd: repo,
      env: { ...process.env, SOPS_AGE_KEY_FILE: keyFile, HOME: '/nonexistent-sealant-test-home' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (!sent && stdout.includes('\n')) {
        sent = true;
        child.kill(signal);
      }
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      resolve({ code, signal: sig, stdout, stderr });
    });
  });
}

/** Runs the CLI with stdin open, calls `check` once the command printed a line, then closes stdin. */
function spawnWhileRunning(args: string[], check: () => void): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [BIN, ...args], {
      cwd: repo,
      env: { ...process.env, SOPS_AGE_KEY_FILE: keyFile, HOME: '/nonexistent-sealant-test-home' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let checked = false;
    let failure: unknown;
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (!checked && stdout.includes('\n')) {
        checked = true;
        try {
          check();
        } catch (err) {
          failure = err;
        }
        child.stdin.end();
      }
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      if (failure !== undefined) reject(failure as Error);
      else resolve({ code, signal: sig, stdout, stderr });
    });
  });
}
