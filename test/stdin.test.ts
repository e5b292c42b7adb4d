/**
 * Standard input is read only where the user asked for it, as bytes, and `-` means stdin for an
 * input file and stdout for an output path in every command. The CLI tests need `npm run build`.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';

import { commands } from '../src/commands/index.js';
import { SealantError } from '../src/errors.js';
import { readStdin, readStdinText } from '../src/fsx/stdin.js';
import { mapBounded } from '../src/ops/bulk.js';
import { parseJson, runCli, type CliResult } from './helpers/cli.js';
import { newAgeKey } from './helpers/keys.js';

const root = mkdtempSync(join(tmpdir(), 'sealant-stdin-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
const key = newAgeKey(root, 'key');
const withKey = { env: { SOPS_AGE_KEY_FILE: key.file } };

const CANARY = 'canary-5d8e1f0b7a';
const CANARY_YAML = `password: ${CANARY}\n`;
const CANARY_BARE = `${CANARY}-bare`;

/** A fresh directory under the test root. */
function newDir(name: string): string {
  return mkdtempSync(join(root, `${name}-`));
}

/** An encrypted YAML file holding `text`, in a new directory. */
async function encryptedFile(text: string): Promise<{ dir: string; file: string }> {
  const dir = newDir('file');
  const file = join(dir, 'secrets.yaml');
  writeFileSync(file, text);
  const r = await runCli(['encrypt', '--age', key.recipient, '-i', file]);
  assert.equal(r.code, 0, r.stderr);
  return { dir, file };
}

async function decryptedText(file: string): Promise<string> {
  const r = await runCli(['decrypt', file], withKey);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

function failedWith(r: CliResult, code: number, message: RegExp): void {
  assert.equal(r.code, code, r.stdout + r.stderr);
  assert.match(r.stderr, message);
}

describe('positional arguments never read stdin', () => {
  test('every argument of every command sets ignoreStdin (oclif would fill a missing one from a pipe)', () => {
    const missing: string[] = [];
    for (const [id, command] of Object.entries(commands)) {
      for (const [name, arg] of Object.entries(
        (command as { args?: Record<string, { ignoreStdin?: boolean }> }).args ?? {},
      )) {
        if (arg.ignoreStdin !== true) missing.push(`${id} ${name}`);
      }
    }
    assert.deepEqual(missing, []);
  });
});

describe('readStdin: the one reader of standard input', () => {
  const piped = (bytes: Uint8Array) => Readable.from([Buffer.from(bytes)]);

  test('gives every byte back exactly (all 256 values)', async () => {
    const bytes = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
    assert.deepEqual(await readStdin('the input file', { stream: piped(bytes) }), bytes);
  });

  test('refuses a terminal instead of waiting for input', async () => {
    // A stream that never ends: reading it would hang the test.
    const terminal = Object.assign(new Readable({ read() {} }), { isTTY: true });
    await assert.rejects(
      readStdin('the input file', { stream: terminal }),
      (e: unknown) => e instanceof SealantError && e.code === 'USAGE' && /terminal/.test(e.message),
    );
  });

  test('a closed stdin reads as empty', async () => {
    assert.equal((await readStdin('the input file', { stream: Readable.from([]) })).length, 0);
  });

  test('one stream is one input: the same purpose gets the same bytes, another is refused', async () => {
    const stream = piped(Buffer.from('x'));
    const first = await readStdin('the plan', { stream });
    assert.equal(await readStdin('the plan', { stream }), first);
    await assert.rejects(
      readStdin('the value', { stream }),
      /standard input is already the plan; it cannot also be the value/,
    );
  });

  test('text: kept as it came (BOM, spaces, newlines), and bytes that are not UTF-8 are refused with their offset', async () => {
    const text = '\uFEFF  two\nlines \n\n';
    assert.equal(await readStdinText('the value', { stream: piped(Buffer.from(text, 'utf8')) }), text);
    const bad = Buffer.concat([Buffer.from(`${CANARY}é`), Buffer.from([0xff, 0x41])]);
    await assert.rejects(readStdinText('the value', { stream: piped(bad) }), (e: unknown) => {
      assert.ok(e instanceof SealantError);
      assert.equal(e.message, `the value on standard input is not valid UTF-8 text (at byte ${CANARY.length + 2})`);
      return true;
    });
    // A bad continuation byte, and a text that ends inside a character: the offset is where the character starts.
    await assert.rejects(
      readStdinText('the value', { stream: piped(Buffer.from([0x61, 0x62, 0xc3, 0x28])) }),
      /at byte 2\)/,
    );
    await assert.rejects(readStdinText('the value', { stream: piped(Buffer.from([0x61, 0xe2, 0x82])) }), /at byte 1\)/);
  });
});

describe('"-" and no FILE: standard input and standard output', () => {
  const PLAIN = `# a comment\npassword: ${CANARY}\nlist:\n    - a\n    - b\n`;

  test('encrypt reads stdin when FILE is omitted or "-", and decrypt of stdin gives the exact bytes back', async () => {
    for (const file of [[], ['-']]) {
      const enc = await runCli(['encrypt', '--age', key.recipient, '--input-type', 'yaml', ...file], { input: PLAIN });
      assert.equal(enc.code, 0, enc.stderr);
      assert.ok(!enc.stdout.includes(CANARY), 'the value is encrypted');
      for (const again of [[], ['-']]) {
        const dec = await runCli(['decrypt', '--input-type', 'yaml', ...again], { ...withKey, input: enc.stdout });
        assert.equal(dec.code, 0, dec.stderr);
        assert.equal(dec.stdout, PLAIN);
      }
    }
  });

  test('stdin needs --input-type, and cannot be written in place (exit 8, as sops)', async () => {
    failedWith(
      await runCli(['decrypt'], { ...withKey, input: PLAIN }),
      2,
      /^sealant: reading standard input needs --input-type/,
    );
    failedWith(
      await runCli(['encrypt', '--age', key.recipient, '-'], { input: PLAIN }),
      2,
      /^sealant: reading standard input needs --input-type/,
    );
    failedWith(
      await runCli(['encrypt', '--age', key.recipient, '--input-type', 'yaml', '-i'], { input: PLAIN }),
      8,
      /^sealant: cannot use --in-place when reading from standard input/,
    );
    const json = await runCli(['decrypt', '--input-type', 'yaml', '-i', '-', '--json'], { ...withKey, input: PLAIN });
    assert.equal(json.code, 8);
    assert.deepEqual(parseJson(json.stdout), {
      status: 'error',
      code: 'CONFLICTING_PARAMETERS',
      message: 'cannot use --in-place when reading from standard input',
      exitCode: 8,
      hint: 'name the file to change in place',
    });
  });

  test('encrypting stdin without recipients says why the config cannot help', async () => {
    const r = await runCli(['encrypt', '--input-type', 'yaml'], { input: PLAIN, cwd: newDir('norecipients') });
    failedWith(r, 111, /^sealant: <stdin>: no recipients to encrypt to\nhint: standard input has no path/);
  });

  test('status - reads stdin', async () => {
    const { file } = await encryptedFile(PLAIN);
    const r = await runCli(['status', '-', '--input-type', 'yaml', '--json'], {
      ...withKey,
      input: readFileSync(file),
    });
    assert.equal(r.code, 0, r.stderr);
    const result = (parseJson(r.stdout) as { result: { file: string; encrypted: boolean; macValid: boolean } }).result;
    assert.deepEqual([result.file, result.encrypted, result.macValid], ['<stdin>', true, true]);
  });

  test('--output - / --out - is stdout: decrypt, encrypt, keygen and plan write no file called "-"', async () => {
    const { dir, file } = await encryptedFile(PLAIN);
    const dec = await runCli(['decrypt', '--output', '-', file], { ...withKey, cwd: dir });
    assert.equal(dec.code, 0, dec.stderr);
    assert.equal(dec.stdout, PLAIN);
    const plain = join(dir, 'plain.yaml');
    writeFileSync(plain, PLAIN);
    const enc = await runCli(['encrypt', '--age', key.recipient, '--output', '-', plain], { cwd: dir });
    assert.equal(enc.code, 0, enc.stderr);
    assert.match(enc.stdout, /^password: ENC\[AES256_GCM,/m);
    const kg = await runCli(['keygen', '--output', '-'], { cwd: dir });
    assert.equal(kg.code, 0, kg.stderr);
    assert.match(kg.stdout, /^AGE-SECRET-KEY-1/m);
    assert.equal(existsSync(join(dir, '-')), false);
  });

  /** A git repository whose .sealant.yaml gives dev/app.yaml (PLAIN, encrypted, committed) to `key`. */
  async function newRepo(): Promise<string> {
    const repo = newDir('repo');
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', repo, ...args], {
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@t',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@t',
        },
      });
    git('init', '-q');
    writeFileSync(
      join(repo, '.sealant.yaml'),
      `environments:\n  dev:\n    files: ["dev/**"]\n    age: [${key.recipient}]\n`,
    );
    mkdirSync(join(repo, 'dev'));
    writeFileSync(join(repo, 'dev/app.yaml'), PLAIN);
    assert.equal((await runCli(['encrypt', '-i', 'dev/app.yaml'], { cwd: repo })).code, 0);
    git('add', '-A');
    git('commit', '-q', '-m', 'init');
    return repo;
  }

  test('plan --out - prints the plan, and apply - reads it (not also a --value from stdin)', async () => {
    const repo = await newRepo();
    // A recipient added to the config: the plan rewraps the file's data key.
    const other = newAgeKey(root, 'other');
    writeFileSync(
      join(repo, '.sealant.yaml'),
      `environments:\n  dev:\n    files: ["dev/**"]\n    age: [${key.recipient}, ${other.recipient}]\n`,
    );
    const planned = await runCli(['plan', '--out', '-'], { ...withKey, cwd: repo });
    assert.equal(planned.code, 0, planned.stderr);
    const plan = parseJson(planned.stdout) as { version: number; files: { file: string; actions: string[] }[] };
    assert.equal(plan.version, 1);
    assert.deepEqual(
      plan.files.map((f) => [f.file, f.actions]),
      [['dev/app.yaml', ['rewrap']]],
    );
    assert.equal(existsSync(join(repo, '-')), false);

    const both = await runCli(['apply', '-', '--value', 'password=-'], {
      ...withKey,
      cwd: repo,
      input: planned.stdout,
    });
    failedWith(both, 2, /standard input is already the plan; it cannot also be/);
    const applied = await runCli(['apply', '-'], { ...withKey, cwd: repo, input: planned.stdout });
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(await decryptedText(join(repo, 'dev/app.yaml')), PLAIN);
    const again = await runCli(['decrypt', 'dev/app.yaml'], { cwd: repo, env: { SOPS_AGE_KEY_FILE: other.file } });
    assert.equal(again.stdout, PLAIN, 'the new recipient opens the file');
  });

  test('commands that work on files in place refuse "-" instead of using a file called "-"', async () => {
    const { dir, file } = await encryptedFile(PLAIN);
    const cases = [
      ['set', '-', 'password', '"x"'],
      ['unset', '-', 'password'],
      ['edit', '-'],
      ['rotate', '-'],
      ['rotate', file, '-'],
      ['updatekeys', '-'],
      ['validate', '-'],
      ['git', 'merge-driver', '-', file, file, 'secrets.yaml'],
      ['git', 'textconv', '-'],
    ];
    for (const argv of cases) {
      const r = await runCli(argv, { ...withKey, cwd: dir, input: PLAIN });
      failedWith(r, 2, /works on files by their path; it cannot read standard input \("-"\)/);
    }
    failedWith(
      await runCli(['decrypt', '--identity', '-', file], { input: readFileSync(key.file) }),
      2,
      /--identity: an identity is not read from standard input/,
    );
    failedWith(
      await runCli(['access', '--config', '-'], { cwd: dir }),
      2,
      /--config names a file; the config cannot be read from standard input/,
    );
    assert.equal(existsSync(join(dir, '-')), false);
  });

  test('--audit-log - is stdout only where stdout carries nothing else', async () => {
    const repo = await newRepo();
    const out = join(newDir('render'), 'dev.env');
    const r = await runCli(['render', '--env', 'dev', '--out', out, '--audit-log', '-'], { ...withKey, cwd: repo });
    assert.equal(r.code, 0, r.stderr);
    const event = parseJson(r.stdout) as { event: string; environment: string; output: string };
    assert.deepEqual([event.event, event.environment, event.output], ['render', 'dev', out]);
    assert.match(readFileSync(out, 'utf8'), /^PASSWORD=/m);
    assert.equal(existsSync(join(repo, '-')), false);
    failedWith(
      await runCli(['render', '--env', 'dev', '--audit-log', '-'], { ...withKey, cwd: repo }),
      2,
      /--audit-log - would mix the audit line into the rendered output/,
    );
    failedWith(
      await runCli(['exec', '--env', 'dev', '--audit-log', '-', '--', 'true'], { ...withKey, cwd: repo }),
      2,
      /--audit-log - would mix the audit line into the command's output/,
    );
    failedWith(
      await runCli(['krm'], {
        ...withKey,
        cwd: repo,
        env: { ...withKey.env, SEALANT_AUDIT_LOG: '-' },
        input: '{"apiVersion":"config.kubernetes.io/v1","kind":"ResourceList","items":[]}',
      }),
      2,
      /would mix the audit line into the Kubernetes output/,
    );
  });
});

describe('set --value-stdin', () => {
  // oclif's stdin read raced the command for the pipe (it gives up after 10 ms), so the old
  // failure showed in most runs, not all: three runs in a row make it show.
  test('stores exactly what stdin holds: nothing trimmed, nothing raced by the argument parser', async () => {
    const { file } = await encryptedFile('api:\n    token: old\n');
    for (const n of [1, 2, 3]) {
      const value = `  ${CANARY}-${n}\nsecond line \n\n`;
      const r = await runCli(['set', '--value-stdin', '--string', file, 'api.token'], { ...withKey, input: value });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!r.stderr.includes(CANARY));
      const x = await runCli(['decrypt', '--extract', 'api.token', file], withKey);
      assert.equal(x.stdout, value);
    }
  });

  test('refuses bytes that are not UTF-8 (never stores U+FFFD) and leaves the file as it was', async () => {
    const { file } = await encryptedFile('api:\n    token: old\n');
    const before = readFileSync(file);
    const r = await runCli(['set', '--value-stdin', '--string', file, 'api.token'], {
      ...withKey,
      input: Buffer.from([0x74, 0x6f, 0x6b, 0xc3, 0x28]),
    });
    failedWith(r, 2, /^sealant: the value of --value-stdin on standard input is not valid UTF-8 text \(at byte 3\)/);
    assert.deepEqual(readFileSync(file), before);
  });

  test('without VALUE and without --value-stdin piped stdin is not taken: a usage error, the file unchanged', async () => {
    const { file } = await encryptedFile('api:\n    token: old\n');
    const before = readFileSync(file);
    for (const n of [1, 2, 3]) {
      const r = await runCli(['set', file, 'api.token'], { ...withKey, input: JSON.stringify(`${CANARY}-${n}`) });
      failedWith(r, 2, /^sealant: missing VALUE/);
      assert.deepEqual(readFileSync(file), before);
    }
  });
});

/** Every file under `dir`, with its bytes. */
function filesUnder(dir: string): { path: string; bytes: Buffer }[] {
  const out: { path: string; bytes: Buffer }[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push({ path: join(e.parentPath, e.name), bytes: readFileSync(join(e.parentPath, e.name)) });
  }
  return out;
}

describe('a canary piped into every command never comes out', () => {
  interface Run {
    id: string;
    argv: string[];
    input: string;
  }
  const runs: Run[] = [];
  for (const [id, command] of Object.entries(commands)) {
    const c = command as {
      args?: Record<string, { required?: boolean }>;
      flags?: Record<string, { required?: boolean; type: string }>;
      enableJsonFlag?: boolean;
    };
    // Required flags get a placeholder, so that parsing gets as far as the positional arguments.
    const flags = Object.entries(c.flags ?? {}).flatMap(([name, f]) => (f.required === true ? [`--${name}`, 'x'] : []));
    const args = Object.keys(c.args ?? {});
    const inputType = c.flags?.['input-type'] === undefined ? [] : ['--input-type', 'yaml'];
    const base = [...id.split(':'), ...flags];
    // No positionals (oclif would fill the first from the pipe), and "-" for the first one.
    runs.push({ id, argv: base, input: CANARY_YAML });
    runs.push({ id, argv: [...base, '--json'], input: CANARY_BARE });
    if (args.length > 0) {
      const positionals = args.map((name, i) => (i === 0 ? '-' : `missing-${name}`));
      runs.push({ id, argv: [...base, ...inputType, ...positionals], input: CANARY_BARE });
      runs.push({ id, argv: [...base, ...inputType, ...positionals, '--json'], input: CANARY_YAML });
    }
  }

  test(`${runs.length} runs over ${Object.keys(commands).length} commands: not in stderr, stdout (--json errors) or any file left behind`, async () => {
    const outcomes = await mapBounded(runs, 4, async (run) => {
      const dir = newDir(`canary-${run.id.replace(':', '-')}`);
      const home = join(dir, 'home');
      mkdirSync(home);
      const r = await runCli(run.argv, {
        cwd: dir,
        input: run.input,
        env: { HOME: home, EDITOR: 'false', SEALANT_AUDIT_LOG: join(dir, 'audit.jsonl') },
      });
      const leaks = [
        ...(r.stderr.includes(CANARY) ? ['stderr'] : []),
        ...(r.stdout.includes(CANARY) ? ['stdout'] : []),
        ...filesUnder(dir)
          .filter((f) => f.bytes.includes(CANARY))
          .map((f) => f.path.slice(dir.length + 1)),
      ];
      return { run: run.argv.join(' '), leaks, exit: r.code };
    });
    const leaked = outcomes.flatMap((o) =>
      o.ok && o.value.leaks.length === 0
        ? []
        : [o.ok ? `${o.value.run}: ${o.value.leaks.join(', ')}` : String(o.error)],
    );
    assert.deepEqual(leaked, []);
    // The runs did run: none was killed by the harness's timeout.
    assert.ok(outcomes.every((o) => o.ok && o.value.exit !== null));
  });
});
