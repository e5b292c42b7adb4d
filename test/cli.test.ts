/**
 * End-to-end tests of the built CLI (`npm run build` first). The JSON envelope and keygen's
 * flags are public API: the "snapshot" tests below fail on any change to them, on purpose.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Decrypter, Encrypter, identityToRecipient } from 'age-encryption';

import Keygen from '../src/commands/keygen.js';
import { commands } from '../src/commands/index.js';
import { parseJson, runCli } from './helpers/cli.js';

const AGE = '/usr/bin/age';
const KEY_FILE_RE =
  /^# created: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)\n# public key: (age1[02-9ac-hj-np-z]+)\n(AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]+)\n$/;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealant-cli-test-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sealant keygen', () => {
  it('--output writes an age-keygen style file with mode 0600 and prints the public key to stderr', async () => {
    const out = join(dir, 'key.txt');
    const r = await runCli(['keygen', '--output', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal((await stat(out)).mode & 0o777, 0o600);
    const m = KEY_FILE_RE.exec(await readFile(out, 'utf8'));
    assert.ok(m, 'key file format');
    assert.equal(r.stderr, `Public key: ${m[2]}\n`);
    assert.equal(await identityToRecipient(m[3] ?? ''), m[2]);
  });

  it('--output into a directory that does not exist yet creates it (0700), as for ~/.config/sops/age/keys.txt', async () => {
    const home = join(dir, 'fresh-home');
    await mkdir(home);
    const out = join(home, '.config/sops/age/keys.txt');
    const r = await runCli(['keygen', '--output', out], { env: { HOME: home } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await stat(out)).mode & 0o777, 0o600);
    for (const d of ['.config', '.config/sops', '.config/sops/age'])
      assert.equal((await stat(join(home, d))).mode & 0o777, 0o700, d);
    assert.equal((await stat(home)).mode & 0o777, 0o755, 'an existing directory keeps its mode');
    assert.ok(KEY_FILE_RE.test(await readFile(out, 'utf8')));
  });

  it('the age CLI encrypts to the printed recipient and decrypts with the file', async () => {
    const key = join(dir, 'age-interop.txt');
    const r = await runCli(['keygen', '-o', key]);
    assert.equal(r.code, 0, r.stderr);
    const recipient = r.stderr.replace(/^Public key: /, '').trim();
    const enc = spawnSync(AGE, ['-r', recipient], { input: 'hello from sealant\n' });
    assert.equal(enc.status, 0, enc.stderr.toString());
    const dec = spawnSync(AGE, ['-d', '-i', key], { input: enc.stdout });
    assert.equal(dec.status, 0, dec.stderr.toString());
    assert.equal(dec.stdout.toString(), 'hello from sealant\n');
  });

  it('without --output prints the key file to stdout (exact bytes) and the public key to stderr', async () => {
    const r = await runCli(['keygen']);
    assert.equal(r.code, 0, r.stderr);
    const m = KEY_FILE_RE.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.equal(r.stderr, `Public key: ${m[2]}\n`);
  });

  it('--pq generates a hybrid post-quantum identity', async () => {
    const out = join(dir, 'pq.txt');
    const r = await runCli(['keygen', '--pq', '--output', out]);
    assert.equal(r.code, 0, r.stderr);
    const text = await readFile(out, 'utf8');
    const identity = text.split('\n')[2] ?? '';
    const recipient = /^# public key: (\S+)$/m.exec(text)?.[1] ?? '';
    assert.match(identity, /^AGE-SECRET-KEY-PQ-1/);
    assert.match(recipient, /^age1pq1/);
    // /usr/bin/age (1.1) predates post-quantum keys: round-trip through age-encryption instead.
    const e = new Encrypter();
    e.addRecipient(recipient);
    const d = new Decrypter();
    d.addIdentity(identity);
    assert.equal(await d.decrypt(await e.encrypt('pq'), 'text'), 'pq');
  });

  it('refuses to overwrite an existing file: one line + hint on stderr, exit 3, file untouched', async () => {
    const out = join(dir, 'exists.txt');
    await writeFile(out, 'precious\n');
    const r = await runCli(['keygen', '--output', out]);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      `sealant: ${out}: refusing to overwrite existing file\nhint: choose another output path or remove the file first\n`,
    );
    assert.equal(await readFile(out, 'utf8'), 'precious\n');
  });

  it('prints a stack trace only with --verbose or DEBUG=sealant*', async () => {
    const out = join(dir, 'exists2.txt');
    await writeFile(out, 'x');
    const verbose = await runCli(['keygen', '--output', out, '--verbose']);
    assert.equal(verbose.code, 3);
    assert.match(verbose.stderr, /^sealant: .*\nhint: .*\nWriteError: refusing to overwrite existing file\n\s+at /);
    const debug = await runCli(['keygen', '--output', out], { env: { DEBUG: 'sealant*' } });
    assert.match(debug.stderr, /\n\s+at /);
  });
});

describe('--json envelope (public API)', () => {
  it('success with --output: recipient and output, never the identity', async () => {
    const out = join(dir, 'json-key.txt');
    const r = await runCli(['keygen', '--output', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const env = parseJson(r.stdout) as {
      status: string;
      result: { recipient: string; output: string };
      warnings: string[];
    };
    assert.deepEqual(Object.keys(env), ['status', 'result', 'warnings']);
    assert.deepEqual(env, {
      status: 'success',
      result: { recipient: env.result.recipient, output: out },
      warnings: [],
    });
    assert.ok(!r.stdout.includes('AGE-SECRET-KEY'));
    assert.match(await readFile(out, 'utf8'), new RegExp(`# public key: ${env.result.recipient}\n`));
  });

  it('success without --output: stdout is the destination, so the identity is in the result', async () => {
    const r = await runCli(['keygen', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const env = parseJson(r.stdout) as { result: { recipient: string; identity: string } };
    assert.deepEqual(Object.keys(env.result), ['recipient', 'identity']);
    assert.equal(await identityToRecipient(env.result.identity), env.result.recipient);
  });

  it('failure: error envelope on stdout with the error exit code, nothing on stderr', async () => {
    const out = join(dir, 'json-exists.txt');
    await writeFile(out, 'x');
    const r = await runCli(['keygen', '--output', out, '--json']);
    assert.equal(r.code, 3);
    assert.equal(r.stderr, '');
    assert.deepEqual(parseJson(r.stdout), {
      status: 'error',
      code: 'WRITE_FAILED',
      message: 'refusing to overwrite existing file',
      exitCode: 3,
      hint: 'choose another output path or remove the file first',
      file: out,
    });
  });

  it('usage failure: code USAGE, exit 2', async () => {
    const r = await runCli(['keygen', '--nope', '--json']);
    assert.equal(r.code, 2);
    assert.deepEqual(parseJson(r.stdout), {
      status: 'error',
      code: 'USAGE',
      message: 'Nonexistent flag: --nope',
      exitCode: 2,
      hint: 'see `sealant keygen --help`',
    });
  });
});

describe('usage and help', () => {
  it('an unknown flag exits 2 with one line on stderr', async () => {
    const r = await runCli(['keygen', '--nope']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'sealant: Nonexistent flag: --nope (see `sealant keygen --help`)\n');
  });

  it('a flag missing its value exits 2 with one line', async () => {
    const r = await runCli(['keygen', '--output']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
    assert.match(r.stderr, /^sealant: Flag --output expects a value/);
  });

  it('an unknown command exits 2 with one line', async () => {
    const r = await runCli(['frobnicate']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'sealant: unknown command "frobnicate" (see `sealant --help` for the list of commands)\n');
  });

  it('keygen --help shows the summary, flags and examples', async () => {
    const r = await runCli(['keygen', '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(Keygen.summary ?? '<none>'));
    assert.match(r.stdout, /USAGE\n\s+\$ sealant keygen \[--json\] \[--verbose\] \[-o FILE\] \[--pq\]/);
    assert.match(r.stdout, /EXAMPLES/);
    assert.match(r.stdout, /\$ sealant keygen --output ~\/\.config\/sops\/age\/keys\.txt/);
    assert.match(r.stdout, /GLOBAL FLAGS\n\s+--json/);
  });

  it('top-level --help lists keygen', async () => {
    const r = await runCli(['--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /keygen\s+Generate an age identity/);
  });
});

describe('API snapshots', () => {
  it('keygen flags', () => {
    const describeFlags = (
      flags: Record<
        string,
        { type: string; char?: string; default?: unknown; multiple?: boolean; required?: boolean; helpGroup?: string }
      >,
    ) =>
      Object.fromEntries(
        Object.entries(flags).map(([name, f]) => [
          name,
          {
            type: f.type,
            char: f.char,
            default: f.default,
            multiple: f.multiple ?? false,
            required: f.required ?? false,
            helpGroup: f.helpGroup,
          },
        ]),
      );
    assert.equal(Keygen.enableJsonFlag, true);
    assert.deepEqual(describeFlags({ ...Keygen.baseFlags, ...Keygen.flags } as never), {
      verbose: {
        type: 'boolean',
        char: undefined,
        default: undefined,
        multiple: false,
        required: false,
        helpGroup: 'GLOBAL',
      },
      output: { type: 'option', char: 'o', default: undefined, multiple: false, required: false, helpGroup: undefined },
      pq: { type: 'boolean', char: undefined, default: false, multiple: false, required: false, helpGroup: undefined },
    });
    assert.deepEqual(Object.keys(Keygen.args ?? {}), []);
  });

  it('command map', () => {
    assert.equal(commands.keygen, Keygen);
  });
});
