/** BaseCommand: envelope, bigints, warnings, error mapping, colour rules. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { debugEnabled, toErrorEnvelope } from '../src/cli/base.js';
import { toJson } from '../src/cli/output.js';
import { colorEnabled, createStyle } from '../src/cli/style.js';
import { MacMismatchError } from '../src/errors.js';
import { parseJson, runCli } from './helpers/cli.js';

const FIXTURE = fileURLToPath(new URL('./helpers/base-fixture.ts', import.meta.url));
const fixture = (args: string[], env?: Record<string, string | undefined>) =>
  runCli(args, { script: FIXTURE, nodeArgs: ['--import', 'tsx'], ...(env ? { env } : {}) });

describe('BaseCommand through a fixture command', () => {
  it('bigints serialize: numbers when safe, strings otherwise; this.log is silent under --json', async () => {
    const r = await fixture(['big', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(parseJson(r.stdout), {
      status: 'success',
      result: {
        small: 42,
        big: '18446744073709551616',
        negBig: '-1152921504606846976',
        nested: { list: [1, '9007199254740993'] },
      },
      warnings: [],
    });
  });

  it('warnings go into the envelope under --json, to stderr otherwise', async () => {
    const j = await fixture(['warns', '--json']);
    assert.equal(j.code, 0, j.stderr);
    assert.equal(j.stderr, '');
    assert.deepEqual(parseJson(j.stdout), {
      status: 'success',
      result: { ok: true },
      warnings: ['first warning', 'oclif-style warning'],
    });
    const h = await fixture(['warns']);
    assert.equal(h.code, 0);
    assert.equal(h.stderr, 'warning: first warning\nwarning: oclif-style warning\n');
  });

  it('an unexpected error is one line "internal error", exit 1; first line of the message only', async () => {
    const h = await fixture(['boom']);
    assert.equal(h.code, 1);
    assert.equal(h.stderr, 'sealant: internal error: cannot read properties of undefined\n');
    const j = await fixture(['boom', '--json']);
    assert.equal(j.code, 1);
    assert.deepEqual(parseJson(j.stdout), {
      status: 'error',
      code: 'INTERNAL',
      message: 'internal error: cannot read properties of undefined',
      exitCode: 1,
    });
    const v = await fixture(['boom', '--verbose']);
    assert.match(v.stderr, /^sealant: internal error: .*\nTypeError: cannot read/);
  });

  it('a located SealantError: file:line:col: path: message + hint; JSON carries each field', async () => {
    const h = await fixture(['located']);
    assert.equal(h.code, 91);
    assert.equal(
      h.stderr,
      'sealant: secrets.yaml:7:3: db.hosts[0].password: key not found\nhint: list keys with `sealant keys`\n',
    );
    const j = await fixture(['located', '--json']);
    assert.equal(j.code, 91);
    assert.deepEqual(parseJson(j.stdout), {
      status: 'error',
      code: 'BAD_PATH',
      message: 'key not found',
      exitCode: 91,
      hint: 'list keys with `sealant keys`',
      file: 'secrets.yaml',
      path: 'db.hosts[0].password',
      line: 7,
      col: 3,
    });
  });

  it('a SealantError from a flag parse function keeps its code, with the flag named', async () => {
    const j = await fixture(['flagparse', '--age', 'nope', '--json']);
    assert.equal(j.code, 2);
    assert.deepEqual(parseJson(j.stdout), {
      status: 'error',
      code: 'USAGE',
      message: '--age: not an age recipient',
      exitCode: 2,
    });
    const h = await fixture(['flagparse', '--age', 'nope']);
    assert.equal(h.stderr, 'sealant: --age: not an age recipient\n');
  });

  it('oclif option and exclusivity errors are one line, exit 2', async () => {
    const o = await fixture(['flagparse', '--mode', 'c']);
    assert.equal(o.code, 2);
    assert.equal(o.stderr.split('\n').filter(Boolean).length, 1, o.stderr);
    assert.match(o.stderr, /^sealant: Expected --mode=c to be one of: a, b \(see `sealant flagparse --help`\)\n$/);
    const x = await fixture(['flagparse', '--one', '--two', '--json']);
    assert.equal(x.code, 2);
    const env = parseJson(x.stdout) as { code: string; message: string };
    assert.equal(env.code, 'USAGE');
    assert.match(env.message, /--two=true cannot also be provided when using --one/);
    assert.ok(!env.message.includes('\n'));
  });

  it('this.exit(n) sets the status without printing an error', async () => {
    const r = await fixture(['exits']);
    assert.equal(r.code, 7);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, '');
  });
});

describe('helpers', () => {
  it('toErrorEnvelope omits absent fields', () => {
    assert.deepEqual(toErrorEnvelope(new MacMismatchError()), {
      status: 'error',
      code: 'MAC_MISMATCH',
      message: 'MAC mismatch: the file was modified outside sealant/sops or is corrupted',
      exitCode: 51,
      hint: 'inspect `git log -p` for the file; `--ignore-mac` decrypts anyway (unsafe)',
    });
    assert.deepEqual(toErrorEnvelope('a string'), {
      status: 'error',
      code: 'INTERNAL',
      message: 'internal error: a string',
      exitCode: 1,
    });
  });

  it('toJson handles bigint at the edges of the safe range', () => {
    assert.equal(
      toJson({ a: 9007199254740991n, b: 9007199254740992n, c: -9007199254740991n }),
      '{\n  "a": 9007199254740991,\n  "b": "9007199254740992",\n  "c": -9007199254740991\n}',
    );
  });

  it('colour only on a TTY, without NO_COLOR, and not under --json', () => {
    assert.equal(colorEnabled({ isTTY: true }, { env: {} }), true);
    assert.equal(colorEnabled({ isTTY: false }, { env: {} }), false);
    assert.equal(colorEnabled({}, { env: {} }), false);
    assert.equal(colorEnabled({ isTTY: true }, { env: { NO_COLOR: '1' } }), false);
    assert.equal(colorEnabled({ isTTY: true }, { env: { NO_COLOR: '' } }), true);
    assert.equal(colorEnabled({ isTTY: true }, { env: {}, json: true }), false);
    assert.equal(createStyle({ isTTY: true }, { env: {} }).red('x'), '\u001b[31mx\u001b[39m');
    assert.equal(createStyle({ isTTY: false }, { env: {} }).red('x'), 'x');
  });

  it('DEBUG patterns', () => {
    for (const v of ['sealant', 'sealant*', 'sealant:*', '*', 'foo,sealant*'])
      assert.equal(debugEnabled({ DEBUG: v }), true, v);
    for (const v of [undefined, '', 'oclif*', 'other']) assert.equal(debugEnabled({ DEBUG: v }), false, String(v));
  });
});
