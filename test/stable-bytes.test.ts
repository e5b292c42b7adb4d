/**
 * Stable bytes in a real git repository: `set` on one value of a 100-key file changes exactly
 * three lines (that value, `mac`, `lastmodified`); `unset` and `edit` change only what they must;
 * saving an unchanged value writes nothing.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { encryptText } from '../src/ops/encrypt.js';
import { setValue, unsetValue } from '../src/ops/set.js';
import { editFile } from '../src/ops/edit.js';
import { decryptFile } from '../src/ops/decrypt.js';
import { str } from '../src/format/tree.js';
import { BIN, runCli } from './helpers/cli.js';
import { sourcesFromFiles, testContext } from './helpers/keys.js';

const root = mkdtempSync(join(tmpdir(), 'sealant-git-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
const keyFile = join(root, 'key.txt');
execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' });
const recipient = /public key: (age1[0-9a-z]+)/.exec(readFileSync(keyFile, 'utf8'))![1]!;

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

/** The changed lines of the working tree against HEAD, as `-`/`+` lines. */
function changedLines(repo: string): string[] {
  return git(repo, 'diff', '--unified=0', '--no-color')
    .split('\n')
    .filter((l) => (l.startsWith('+') || l.startsWith('-')) && !l.startsWith('+++') && !l.startsWith('---'));
}

async function repoWithFile(name: string, plaintext: string): Promise<{ repo: string; file: string }> {
  const repo = mkdtempSync(join(root, 'repo-'));
  git(repo, 'init', '-q');
  const file = join(repo, name);
  const enc = await encryptText(plaintext, file, testContext(new Date('2026-01-01T00:00:00Z')), {
    groups: [{ age: [recipient], kms: [] }],
  });
  writeFileSync(file, enc.text);
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'init');
  return { repo, file };
}

const hundredKeys =
  Array.from({ length: 100 }, (_, i) => `key${String(i).padStart(3, '0')}: value-${i}`).join('\n') + '\n';

describe('stable ciphertexts in git', () => {
  test('set on one value of a 100-key file changes exactly three lines', async () => {
    const { repo, file } = await repoWithFile('secrets.yaml', hundredKeys);
    const sources = await sourcesFromFiles(keyFile);
    const r = await setValue(file, '["key042"]', str('new-value'), testContext(new Date('2026-02-01T00:00:00Z')), {
      sources,
    });
    assert.equal(r.changed, true);
    const lines = changedLines(repo);
    assert.equal(lines.length, 6, lines.join('\n'));
    assert.deepEqual(
      lines.filter((l) => l.startsWith('+')).map((l) => `+${l.slice(1).replace(/:.*/, '').trim()}`),
      ['+key042', '+lastmodified', '+mac'],
    );
    const dec = await decryptFile(file, testContext(), { sources, extract: 'key042' });
    assert.equal(dec.text, 'new-value');
  });

  test('the same through the CLI, with the dotted path form', async () => {
    const { repo, file } = await repoWithFile('cli.yaml', hundredKeys);
    const r = await runCli(['set', file, 'key007', '"via-cli"'], { env: { SOPS_AGE_KEY_FILE: keyFile } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(changedLines(repo).length, 6);
  });

  test('encrypt --output over an existing encrypted version changes only the edited value', async () => {
    const { repo, file } = await repoWithFile('over.yaml', hundredKeys);
    const plain = join(root, 'over-plain.yaml');
    writeFileSync(plain, hundredKeys.replace('key033: value-33', 'key033: edited-33'));
    const r = await runCli(['encrypt', '--output', file, plain], { env: { SOPS_AGE_KEY_FILE: keyFile } });
    assert.equal(r.code, 0, r.stderr);
    const lines = changedLines(repo);
    assert.deepEqual(
      lines.filter((l) => l.startsWith('+')).map((l) => `+${l.slice(1).replace(/:.*/, '').trim()}`),
      ['+key033', '+lastmodified', '+mac'],
    );
    const same = await runCli(['encrypt', '--output', file, plain], { env: { SOPS_AGE_KEY_FILE: keyFile } });
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stderr, /already holds this content/);
    const fresh = await runCli(['encrypt', '--fresh', '--age', recipient, '--output', file, plain]);
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.ok(changedLines(repo).length > 200, 'a fresh encrypt changes every ciphertext');
  });

  test('setting a value to what it already is writes nothing', async () => {
    const { repo, file } = await repoWithFile('same.yaml', hundredKeys);
    const r = await setValue(file, 'key001', str('value-1'), testContext(new Date('2026-02-01T00:00:00Z')), {
      sources: await sourcesFromFiles(keyFile),
    });
    assert.equal(r.changed, false);
    assert.deepEqual(changedLines(repo), []);
  });

  test('unset removes one key: its line plus mac and lastmodified', async () => {
    const { repo, file } = await repoWithFile('unset.yaml', hundredKeys);
    await unsetValue(file, 'key050', testContext(new Date('2026-02-01T00:00:00Z')), {
      sources: await sourcesFromFiles(keyFile),
    });
    const lines = changedLines(repo);
    assert.equal(lines.filter((l) => l.startsWith('-')).length, 3, lines.join('\n'));
    assert.equal(lines.filter((l) => l.startsWith('+')).length, 2, lines.join('\n'));
  });

  test('set of a new nested key adds its lines only', async () => {
    const { repo, file } = await repoWithFile('nested.yaml', 'db:\n    user: admin\n    password: x\nother: y\n');
    await setValue(file, 'db.host', str('localhost'), testContext(new Date('2026-02-01T00:00:00Z')), {
      sources: await sourcesFromFiles(keyFile),
    });
    const lines = changedLines(repo);
    assert.equal(lines.filter((l) => l.startsWith('+')).length, 3, lines.join('\n'));
    assert.equal(lines.filter((l) => l.startsWith('-')).length, 2, lines.join('\n'));
    assert.ok(
      lines.some((l) => /^\+ {4}host: ENC\[/.test(l)),
      lines.join('\n'),
    );
  });

  test('edit through $EDITOR changes only the edited value; the temp directory is removed', async () => {
    const { repo, file } = await repoWithFile('edit.yaml', hundredKeys);
    const editor = join(root, 'editor.sh');
    const seen = join(root, 'seen-path');
    writeFileSync(
      editor,
      `#!/bin/sh\necho "$1" > ${seen}\nstat -c %a "$1" >> ${seen}\nsed -i 's/^key010: value-10$/key010: edited/' "$1"\n`,
    );
    chmodSync(editor, 0o755);
    const r = await editFile(
      file,
      { ...testContext(new Date('2026-02-01T00:00:00Z')), env: { EDITOR: editor } },
      { sources: await sourcesFromFiles(keyFile) },
    );
    assert.equal(r.changed, true);
    const [tmpPath, mode] = readFileSync(seen, 'utf8').trim().split('\n');
    assert.equal(mode, '600');
    assert.equal(spawnSync('test', ['-e', tmpPath!]).status, 1, 'plaintext temp file removed');
    assert.equal(changedLines(repo).length, 6);
  });

  test('edit: a failing editor leaves the file untouched and removes the temp directory', async () => {
    const { repo, file } = await repoWithFile('edit-fail.yaml', 'a: secret-canary-123\n');
    const editor = join(root, 'fail.sh');
    const seen = join(root, 'seen-fail');
    writeFileSync(editor, `#!/bin/sh\necho "$1" > ${seen}\nexit 3\n`);
    chmodSync(editor, 0o755);
    await assert.rejects(
      editFile(file, { ...testContext(), env: { EDITOR: editor } }, { sources: await sourcesFromFiles(keyFile) }),
      (e: Error & { code?: string }) => e.code === 'EDITOR_FAILED' && !e.message.includes('canary'),
    );
    assert.deepEqual(changedLines(repo), []);
    const tmpPath = readFileSync(seen, 'utf8').trim();
    assert.equal(spawnSync('test', ['-e', tmpPath]).status, 1);
  });

  test('edit: SIGTERM while the editor runs removes the plaintext and leaves the file untouched', async () => {
    const { repo, file } = await repoWithFile('edit-sig.yaml', 'a: secret-canary-456\n');
    const editor = join(root, 'hang.sh');
    const seen = join(root, 'seen-sig');
    writeFileSync(editor, `#!/bin/sh\necho "$1" > ${seen}.tmp && mv ${seen}.tmp ${seen}\nsleep 10\n`);
    chmodSync(editor, 0o755);
    const before = readFileSync(file, 'utf8');
    const child = spawn(process.execPath, [BIN, 'edit', file], {
      env: { ...process.env, SOPS_AGE_KEY_FILE: keyFile, EDITOR: editor },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    while (!existsSync(seen)) await new Promise((r) => setTimeout(r, 20));
    const tmpPath = readFileSync(seen, 'utf8').trim();
    assert.ok(existsSync(tmpPath), 'plaintext exists while editing');
    child.kill('SIGTERM');
    assert.equal(await exited, 143);
    assert.equal(existsSync(tmpPath), false, 'plaintext temp file removed');
    assert.equal(readFileSync(file, 'utf8'), before);
    assert.deepEqual(changedLines(repo), []);
    assert.ok(!readdirSync(repo).some((n) => n.includes('sealant-tmp')));
  });
});
