/**
 * Bad input gets one clear line (file, line or key path), the right exit code, never a value.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { bulkExitCode } from '../src/cli/bulk.js';
import {
  DecryptionError,
  ERRORS,
  exitCodeOf,
  MacMismatchError,
  NoKeyError,
  SealantError,
  signalExitStatus,
  sopsExitName,
  UsageError,
  type ErrorCode,
} from '../src/errors.js';
import { BEGIN, COMMANDS_DOC, END, withErrorTable } from '../scripts/docs-errors.js';
import { encryptText } from '../src/ops/encrypt.js';
import { runCli } from './helpers/cli.js';
import { testContext } from './helpers/keys.js';

const dir = mkdtempSync(join(tmpdir(), 'sealant-errors-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const keyFile = join(dir, 'key.txt');
execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' });
const recipient = /public key: (age1[0-9a-z]+)/.exec(readFileSync(keyFile, 'utf8'))![1]!;
const CANARY = 'canary-b1e2c3';

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function assertOneLine(stderr: string): void {
  const lines = stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('hint:'));
  assert.equal(lines.length, 1, stderr);
  assert.ok(!stderr.includes('    at '), 'no stack trace');
}

describe('clear one-line errors', () => {
  test('not a SOPS file', async () => {
    const f = write('plain.yaml', `a: ${CANARY}\n`);
    const r = await runCli(['decrypt', f], { env: { SOPS_AGE_KEY_FILE: keyFile } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /plain\.yaml: not a SOPS-encrypted file/);
    assertOneLine(r.stderr);
    assert.ok(!r.stderr.includes(CANARY));
  });

  test('malformed YAML names the line and not the content', async () => {
    const f = write('bad.yaml', `a: 1\nb: [${CANARY}\nc: 3\n`);
    const r = await runCli(['encrypt', '--age', recipient, f]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.yaml:\d+/);
    assertOneLine(r.stderr);
    assert.ok(!r.stderr.includes(CANARY));
  });

  test('malformed JSON names the line', async () => {
    const f = write('bad.json', `{\n  "a": "${CANARY}",\n  "b": oops\n}\n`);
    const r = await runCli(['encrypt', '--age', recipient, f]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.json:3/);
    assert.ok(!r.stderr.includes(CANARY));
  });

  test('no identity can unwrap: exit 128, lists recipients and the identities tried', async () => {
    const enc = await encryptText(`a: ${CANARY}\n`, 'x.yaml', testContext(), {
      groups: [{ age: [recipient], kms: [] }],
    });
    const f = write('nokey.yaml', enc.text);
    const other = join(dir, 'other.txt');
    execFileSync('age-keygen', ['-o', other], { stdio: 'ignore' });
    const otherRecipient = /public key: (age1[0-9a-z]+)/.exec(readFileSync(other, 'utf8'))![1]!;
    const r = await runCli(['decrypt', f], { env: { SOPS_AGE_KEY_FILE: other } });
    assert.equal(r.code, 128);
    assert.ok(r.stderr.includes(recipient), 'file recipient listed');
    assert.ok(r.stderr.includes(otherRecipient), 'identity tried listed');
    assert.ok(!r.stderr.includes('AGE-SECRET-KEY'));
    assertOneLine(r.stderr);
  });

  test('unknown ENC type', async () => {
    const enc = await encryptText(`a: ${CANARY}\n`, 'x.yaml', testContext(), {
      groups: [{ age: [recipient], kms: [] }],
    });
    const f = write('type.yaml', enc.text.replace(/type:str\]/, 'type:weird]'));
    const r = await runCli(['decrypt', f], { env: { SOPS_AGE_KEY_FILE: keyFile } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown ENC value type "weird"/);
    assertOneLine(r.stderr);
  });

  test('a YAML alias bomb is refused', async () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x","x"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'f: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]',
      '',
    ].join('\n');
    const f = write('bomb.yaml', bomb);
    const r = await runCli(['encrypt', '--age', recipient, f]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /alias/i);
    assertOneLine(r.stderr);
  });

  test('encrypting an encrypted file exits 203 (as sops)', async () => {
    const enc = await encryptText('a: 1\n', 'x.yaml', testContext(), { groups: [{ age: [recipient], kms: [] }] });
    const f = write('twice.yaml', enc.text);
    const r = await runCli(['encrypt', '--age', recipient, f]);
    assert.equal(r.code, 203);
  });

  test('a missing file', async () => {
    const r = await runCli(['decrypt', join(dir, 'nope.yaml')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /nope\.yaml: file not found/);
  });

  test('set with a value that is not JSON exits 7 without echoing it', async () => {
    const enc = await encryptText('a: 1\n', 'x.yaml', testContext(), { groups: [{ age: [recipient], kms: [] }] });
    const f = write('set.yaml', enc.text);
    const r = await runCli(['set', f, 'a', `${CANARY} not json`], { env: { SOPS_AGE_KEY_FILE: keyFile } });
    assert.equal(r.code, 7);
    assert.ok(!r.stderr.includes(CANARY));
  });

  test('--verbose shows the stack', async () => {
    const r = await runCli(['decrypt', '--verbose', join(dir, 'nope.yaml')]);
    assert.match(r.stderr, /\n\s+at /);
  });
});

describe('the exit-code table of docs/commands.md', () => {
  const doc = readFileSync(COMMANDS_DOC, 'utf8');

  test('is what `npm run docs:errors` generates from src/errors.ts', () => {
    assert.equal(doc, withErrorTable(doc), 'docs/commands.md is stale: run `npm run docs:errors`');
  });

  test('documents every code of the table, with its exit code and a summary', () => {
    const table = doc.slice(doc.indexOf(BEGIN), doc.indexOf(END));
    for (const code of Object.keys(ERRORS) as ErrorCode[]) {
      assert.notEqual(ERRORS[code].summary.trim(), '', `${code} has a summary`);
      assert.ok(table.includes(`| ${exitCodeOf(code)} |`) && table.includes(`| \`${code}\` |`), `${code} documented`);
      const line = table.split('\n').find((l) => l.includes(`| \`${code}\` |`));
      assert.ok(line?.startsWith(`| ${exitCodeOf(code)} |`), `${code} documented with exit ${exitCodeOf(code)}`);
    }
  });

  test('a code dropped from the docs fails the check', () => {
    const dropped = doc.replace(/^\| 203 \|.*\n/m, '');
    assert.notEqual(dropped, doc);
    assert.notEqual(withErrorTable(dropped), dropped);
  });
});

describe('exit codes come from the table', () => {
  test("sops's numbers where sops has the failure", () => {
    const sops: [ErrorCode, number, string][] = [
      ['MAC_MISMATCH', 51, 'MacMismatch'],
      ['NO_KEY', 128, 'CouldNotRetrieveKey'],
      ['NOT_MODIFIED', 200, 'FileHasNotBeenModified'],
      ['NO_EDITOR', 201, 'NoEditorFound'],
      ['ALREADY_ENCRYPTED', 203, 'FileAlreadyEncrypted'],
      ['EMPTY_FILE', 204, 'NeedAtLeastOneDocument'],
      ['CONFLICTING_PARAMETERS', 8, 'ErrorConflictingParameters'],
      ['BAD_ENC_VALUE', 25, 'ErrorDecryptingTree'],
    ];
    for (const [code, exit, name] of sops) {
      assert.equal(exitCodeOf(code), exit, code);
      assert.equal(sopsExitName(code), name, code);
    }
    assert.equal(sopsExitName('WEAKENED_METADATA'), undefined, 'ours, not a sops code');
  });

  test('an error takes its exit code from its code', () => {
    assert.equal(new MacMismatchError().exitCode, 51);
    assert.equal(new SealantError('STALE_PLAN', 'x').exitCode, exitCodeOf('STALE_PLAN'));
    assert.equal(new UsageError('x').withFile('f').exitCode, 2);
  });

  test("a bulk run exits with its failures' common exit code, else MIXED_FAILURES's", () => {
    const fail = (error: unknown) => ({ ok: false as const, error });
    const ok = { ok: true as const, value: {} };
    assert.equal(bulkExitCode([ok, ok]), 0);
    assert.equal(bulkExitCode([ok, fail(new MacMismatchError()), fail(new DecryptionError('x'))]), 51);
    assert.equal(bulkExitCode([fail(new MacMismatchError()), fail(new NoKeyError('x'))]), exitCodeOf('MIXED_FAILURES'));
    assert.equal(bulkExitCode([fail(new TypeError('bug'))]), exitCodeOf('INTERNAL'));
  });

  test('signals exit as a shell reports them: 128 + the number', () => {
    assert.equal(signalExitStatus('SIGINT'), 130);
    assert.equal(signalExitStatus('SIGPIPE'), 141);
    assert.equal(signalExitStatus('SIGTERM'), 143);
  });
});
