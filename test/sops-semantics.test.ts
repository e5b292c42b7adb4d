/**
 * Where sops has an answer, sealant gives the same one: the `sops` block is parsed as sops
 * parses it (Go RFC 3339 `lastmodified`/`created_at`, a semver `version`, an integer
 * `shamir_threshold` that can actually split and recover the key), refused with one line naming
 * the field otherwise; and every age identity is tried on every stanza (the recipient label is
 * not authenticated).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { MetadataError, type SealantError } from '../src/errors.js';
import { parseMetadata } from '../src/format/metadata.js';
import { asEncrypted, loadDocument } from '../src/document/document.js';
import { decryptText } from '../src/ops/decrypt.js';
import { editFile } from '../src/ops/edit.js';
import { encryptText } from '../src/ops/encrypt.js';
import { storeFor } from '../src/stores/index.js';
import { runCli } from './helpers/cli.js';
import { INTEROP_DIR } from './helpers/interop.js';
import { newAgeKey, sourcesFromFiles, testContext, type Key } from './helpers/keys.js';

const root = mkdtempSync(join(tmpdir(), 'sealant-semantics-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
const alice = newAgeKey(root, 'alice');
const bob = newAgeKey(root, 'bob');
const both = join(root, 'both.txt');
writeFileSync(both, readFileSync(alice.file, 'utf8') + readFileSync(bob.file, 'utf8'));

const PLAIN = 'db:\n    password: hunter2\n';

async function encrypted(groups: Key[][], shamirThreshold?: number): Promise<string> {
  const r = await encryptText(PLAIN, 'app.yaml', testContext(), {
    groups: groups.map((g) => ({ age: g.map((k) => k.recipient), kms: [] })),
    ...(shamirThreshold === undefined ? {} : { shamirThreshold }),
  });
  return r.text;
}

/** Writes `text` under `name` and runs `sealant decrypt` on it with both keys. */
async function decryptCli(name: string, text: string) {
  const file = join(root, name);
  writeFileSync(file, text);
  return runCli(['decrypt', file], { env: { SOPS_AGE_KEY_FILE: both } });
}

function oneLine(stderr: string): string {
  const lines = stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('hint:'));
  assert.equal(lines.length, 1, stderr);
  assert.ok(!stderr.includes('internal error'), stderr);
  return lines[0]!;
}

const metadataOf = (text: string) => asEncrypted(loadDocument(text, 'app.yaml')).meta;

describe('shamir_threshold in a file', () => {
  let twoGroups = '';
  before(async () => {
    twoGroups = await encrypted([[alice], [bob]], 2);
    assert.match(twoGroups, /\n {4}shamir_threshold: 2\n/);
  });
  const withThreshold = (v: string) => twoGroups.replace(/shamir_threshold: 2\n/, `shamir_threshold: ${v}\n`);

  test('not an integer (J, 1.5, abc, true) is refused naming the field', () => {
    for (const v of ['J', '1.5', 'abc', 'true']) {
      assert.throws(
        () => metadataOf(withThreshold(v)),
        (e: unknown) => e instanceof MetadataError && /^sops\.shamir_threshold must be a whole number$/.test(e.message),
        v,
      );
    }
  });

  test('1, -1 and more than the groups cannot recover the key: refused naming the field', () => {
    assert.throws(
      () => metadataOf(withThreshold('1')),
      /sops\.shamir_threshold is 1 but must be at least 2 with 2 key groups/,
    );
    assert.throws(() => metadataOf(withThreshold('-1')), /sops\.shamir_threshold is -1 but must be at least 2/);
    assert.throws(() => metadataOf(withThreshold('3')), /sops\.shamir_threshold is 3 but there are only 2 key groups/);
  });

  test('0 means unset (sops omits it): every group is needed, and the file decrypts', async () => {
    assert.equal(metadataOf(withThreshold('0')).shamirThreshold, undefined);
    const r = await decryptText(withThreshold('0'), 'app.yaml', testContext(), {
      sources: await sourcesFromFiles(alice.file, bob.file),
    });
    assert.equal(r.text, PLAIN);
  });

  test('decrypt of a threshold-1 file: exit 2 and one line, not an internal error', async () => {
    const r = await decryptCli('one.yaml', withThreshold('1'));
    assert.equal(r.code, 2);
    assert.match(oneLine(r.stderr), /one\.yaml: sops\.shamir_threshold is 1 but must be at least 2 with 2 key groups/);
  });
});

describe('lastmodified, created_at and version are parsed as sops parses them', () => {
  let file = '';
  before(async () => {
    file = await encrypted([[alice]]);
    assert.match(file, /lastmodified: "2026-01-02T03:04:05Z"\n/);
    assert.match(file, /version: 3\.13\.2\n/);
  });
  const withLastmodified = (v: string) => file.replace('lastmodified: "2026-01-02T03:04:05Z"', `lastmodified: "${v}"`);
  const withVersion = (v: string) => file.replace('version: 3.13.2', `version: ${v}`);

  test('a lastmodified Go would not parse is refused, even where the MAC would still match', async () => {
    for (const v of [
      '2026-01-02T03:04:05',
      '2026-01-02 03:04:05Z',
      '2026-02-30T03:04:05Z',
      '2026-01-02t03:04:05z',
      'yesterday',
    ]) {
      assert.throws(() => metadataOf(withLastmodified(v)), /sops\.lastmodified is not an RFC 3339 timestamp$/, v);
    }
    const r = await decryptCli('no-zone.yaml', withLastmodified('2026-01-02T03:04:05'));
    assert.equal(r.code, 2);
    assert.match(oneLine(r.stderr), /no-zone\.yaml: sops\.lastmodified is not an RFC 3339 timestamp/);
  });

  test("forms Go accepts authenticate against Go's re-formatting (+00:00 is Z, fractions dropped, hour padded)", async () => {
    const sources = await sourcesFromFiles(alice.file);
    for (const v of [
      '2026-01-02T03:04:05+00:00',
      '2026-01-02T03:04:05.999Z',
      '2026-01-02T3:04:05Z',
      '2026-01-02T03:04:05-00:00',
    ]) {
      const r = await decryptText(withLastmodified(v), 'app.yaml', testContext(), { sources });
      assert.equal(r.text, PLAIN, v);
    }
  });

  test('a version that is not semver is refused; 1.x, v-prefixed and pre-release forms pass', async () => {
    for (const v of ['3.13', 'banana', '""', '03.1.0', '3.13.2-', '3.13.2+']) {
      assert.throws(() => metadataOf(withVersion(v)), /sops\.version is not a semantic version/, v);
    }
    for (const v of ['1.14', 'v3.9.2', '3.10.0-rc.1', '3.9.2+build.5'])
      assert.doesNotThrow(() => metadataOf(withVersion(v)), v);
    const r = await decryptCli('bad-version.yaml', withVersion('banana'));
    assert.equal(r.code, 2);
    assert.match(oneLine(r.stderr), /bad-version\.yaml: sops\.version is not a semantic version/);
  });

  test('a KMS or PGP created_at Go would not parse is refused naming the stanza', () => {
    const block = (stanza: string) =>
      `a: ENC[AES256_GCM,data:AA==,iv:AAAAAAAAAAAAAAAAAAAAAA==,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]\nsops:\n${stanza}    lastmodified: "2026-01-02T03:04:05Z"\n    mac: x\n    version: 3.13.2\n`;
    const kms = (createdAt: string) =>
      `    kms:\n        - arn: arn:aws:kms:eu-west-1:111122223333:key/k\n          created_at: "${createdAt}"\n          enc: AAAA\n          aws_profile: ""\n`;
    const pgp = (createdAt: string) =>
      `    pgp:\n        - created_at: "${createdAt}"\n          enc: x\n          fp: FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4\n`;
    const meta = (text: string) => parseMetadata(storeFor('yaml').load(text).metadata!);
    assert.equal(meta(block(kms('2026-01-02T03:04:05Z'))).keyGroups[0]!.kms.length, 1);
    assert.throws(() => meta(block(kms('last week'))), /sops\.kms\.created_at is not an RFC 3339 timestamp$/);
    assert.throws(() => meta(block(pgp(''))), /sops\.pgp\.created_at is not an RFC 3339 timestamp$/);
  });
});

describe('age: every identity is tried on every stanza, as in sops', () => {
  test('a stanza whose recipient label was edited still opens with the identity it was wrapped for', async () => {
    const file = await encrypted([[alice]]);
    const relabelled = file.replace(`recipient: ${alice.recipient}`, `recipient: ${bob.recipient}`);
    assert.notEqual(relabelled, file);
    const r = await decryptText(relabelled, 'app.yaml', testContext(), { sources: await sourcesFromFiles(alice.file) });
    assert.equal(r.text, PLAIN);
    assert.deepEqual(r.unwrappedBy, [`age:${alice.recipient}`], 'reports the identity that opened it, not the label');
  });

  test('labels swapped between two stanzas: each identity still finds its own stanza', async () => {
    const file = await encrypted([[alice, bob]]);
    const swapped = file
      .replaceAll(`recipient: ${alice.recipient}`, 'recipient: @A')
      .replaceAll(`recipient: ${bob.recipient}`, `recipient: ${alice.recipient}`)
      .replaceAll('recipient: @A', `recipient: ${bob.recipient}`);
    for (const key of [alice, bob]) {
      const r = await decryptText(swapped, 'app.yaml', testContext(), { sources: await sourcesFromFiles(key.file) });
      assert.equal(r.text, PLAIN);
    }
  });

  test('a sops-written vector with its label changed decrypts through the CLI', async () => {
    const vector = join(INTEROP_DIR, 'sops-nix/secrets.yaml');
    const text = readFileSync(vector, 'utf8');
    const label = /recipient: (age1[0-9a-z]+)/.exec(text)![1]!;
    const relabelled = join(root, 'nix-relabelled.yaml');
    writeFileSync(relabelled, text.replaceAll(label, alice.recipient));
    const env = { SOPS_AGE_KEY_FILE: join(INTEROP_DIR, 'sops-nix/age-keys.txt') };
    const r = await runCli(['decrypt', relabelled], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, (await runCli(['decrypt', vector], { env })).stdout);
  });
});

describe('a selected comment that does not decrypt', () => {
  test('is kept as written with a warning naming where it is, never its text', async () => {
    const r = await encryptText(
      '# top note\ndb:\n    # the password\n    password: hunter2\n',
      'app.yaml',
      testContext(),
      { groups: [{ age: [alice.recipient], kms: [] }] },
    );
    const comments = [...r.text.matchAll(/#(ENC\[[^\]]+\])/g)].map((m) => m[1]!);
    assert.equal(comments.length, 2);
    // The top-level comment's ciphertext moved under db (wrong AAD), and a clear comment added by hand.
    const tampered = r.text
      .replace(`#${comments[1]!}`, `#${comments[0]!}`)
      .replace('# top note', '')
      .replace(/^#ENC\[[^\]]+\]\n/, '# injected canary-c0mment\n');
    const ctx = testContext();
    const out = await decryptText(tampered, 'app.yaml', ctx, { sources: await sourcesFromFiles(alice.file) });
    assert.ok(out.text.startsWith('# injected canary-c0mment\ndb:\n'), out.text);
    assert.ok(out.text.includes(`    #${comments[0]!}\n    password: hunter2\n`), out.text);
    assert.deepEqual(ctx.warnings, [
      'app.yaml: a comment at the top level did not decrypt and is kept as written (added by hand, by an old sops, or tampered with: the MAC does not cover comments)',
      'app.yaml: a comment under db did not decrypt and is kept as written (added by hand, by an old sops, or tampered with: the MAC does not cover comments)',
    ]);
  });
});

describe('encrypt of an empty file', () => {
  test('YAML with no document: exit 204 and one line, as sops; nothing is written', async () => {
    const file = join(root, 'empty.yaml');
    for (const text of ['', '\n']) {
      writeFileSync(file, text);
      const inPlace = await runCli(['encrypt', '--age', alice.recipient, '-i', file]);
      assert.equal(inPlace.code, 204, inPlace.stderr);
      assert.match(
        oneLine(inPlace.stderr),
        /empty\.yaml: file cannot be completely empty, it must contain at least one document/,
      );
      assert.equal(readFileSync(file, 'utf8'), text);
      const toStdout = await runCli(['encrypt', '--age', alice.recipient, file]);
      assert.equal(toStdout.code, 204);
      assert.equal(toStdout.stdout, '');
    }
  });

  test('an empty dotenv file has one (empty) document: it encrypts to a metadata-only file and back, as in sops', async () => {
    const file = join(root, 'empty.env');
    writeFileSync(file, '');
    const enc = await runCli(['encrypt', '--age', alice.recipient, '-i', file]);
    assert.equal(enc.code, 0, enc.stderr);
    assert.match(readFileSync(file, 'utf8'), /^sops_age__list_0__map_enc=/);
    const dec = await runCli(['decrypt', file], { env: { SOPS_AGE_KEY_FILE: alice.file } });
    assert.equal(dec.code, 0, dec.stderr);
    assert.equal(dec.stdout, '');
  });
});

describe('edit without an editor', () => {
  test("no SOPS_EDITOR/EDITOR and none of vim, nano, vi on PATH: exit 201 (sops's NoEditorFound), file untouched", async () => {
    const file = join(root, 'no-editor.yaml');
    const text = await encrypted([[alice]]);
    writeFileSync(file, text);
    const emptyPath = mkdtempSync(join(root, 'path-'));
    await assert.rejects(
      editFile(file, { ...testContext(), env: { PATH: emptyPath } }, { sources: await sourcesFromFiles(alice.file) }),
      (e: SealantError) => {
        assert.equal(e.code, 'NO_EDITOR');
        assert.equal(e.exitCode, 201);
        return true;
      },
    );
    assert.equal(readFileSync(file, 'utf8'), text);
  });

  test('the first of vim, nano, vi on PATH is the editor', async () => {
    const file = join(root, 'fallback.yaml');
    writeFileSync(file, await encrypted([[alice]]));
    const bin = mkdtempSync(join(root, 'bin-'));
    // A "nano" that changes the value: vim is absent, so it must be the one run.
    writeFileSync(join(bin, 'nano'), '#!/bin/sh\nprintf \'db:\\n    password: by-nano\\n\' > "$1"\n', { mode: 0o755 });
    writeFileSync(join(bin, 'vi'), '#!/bin/sh\nexit 9\n', { mode: 0o755 });
    const r = await editFile(
      file,
      { ...testContext(), env: { PATH: bin } },
      { sources: await sourcesFromFiles(alice.file) },
    );
    assert.equal(r.changed, true);
    assert.equal(
      (
        await decryptText(readFileSync(file, 'utf8'), file, testContext(), {
          sources: await sourcesFromFiles(alice.file),
        })
      ).text,
      'db:\n    password: by-nano\n',
    );
  });
});

describe('edit of a file that does not exist creates it, as sops does', () => {
  /** An $EDITOR that records the example it was shown and saves `content` (or nothing). */
  function editorScript(name: string, content: string | undefined): { editor: string; shown: string } {
    const editor = join(root, `${name}.sh`);
    const shown = join(root, `${name}.shown`);
    const save = content === undefined ? '' : `printf '%s' '${content}' > "$1"\n`;
    writeFileSync(editor, `#!/bin/sh\ncat "$1" > ${shown}\n${save}`, { mode: 0o755 });
    return { editor, shown };
  }

  test('opens on an example, encrypts what was saved for --age, and the result decrypts to it', async () => {
    const file = join(root, 'new.yaml');
    const { editor, shown } = editorScript('new', 'db:\n    password: s3cret-new\n');
    const r = await editFile(
      file,
      { ...testContext(), env: { EDITOR: editor } },
      { newFile: { age: [alice.recipient] } },
    );
    assert.deepEqual(r, { file, changed: true });
    assert.match(
      readFileSync(shown, 'utf8'),
      /^hello: Welcome to SOPS! Edit this file as you please!\nexample_key: example_value\n/,
    );
    const written = readFileSync(file, 'utf8');
    assert.ok(!written.includes('s3cret-new'));
    assert.match(written, /password: ENC\[AES256_GCM,/);
    assert.equal(
      (await decryptText(written, file, testContext(), { sources: await sourcesFromFiles(alice.file) })).text,
      'db:\n    password: s3cret-new\n',
    );
  });

  test('saved unchanged: exit 200 and no file; no recipient: refused before the editor opens', async () => {
    const file = join(root, 'untouched.yaml');
    const same = editorScript('same', undefined);
    await assert.rejects(
      editFile(file, { ...testContext(), env: { EDITOR: same.editor } }, { newFile: { age: [alice.recipient] } }),
      (e: SealantError) => e.exitCode === 200,
    );
    assert.equal(existsSync(file), false);
    const never = editorScript('never', 'a: 1\n');
    await assert.rejects(
      editFile(file, { ...testContext(), env: { EDITOR: never.editor } }, {}),
      (e: SealantError) => e.exitCode === 111,
    );
    assert.equal(existsSync(never.shown), false, 'the editor never opened');
    assert.equal(existsSync(file), false);
  });

  test('through the CLI, for the recipients of the environment that owns the file', async () => {
    const repo = mkdtempSync(join(root, 'repo-'));
    writeFileSync(
      join(repo, '.sealant.yaml'),
      `environments:\n  dev:\n    files: ["secrets/**"]\n    age: [${bob.recipient}]\n`,
    );
    const { editor, shown } = editorScript('cli', 'token: t0ken-new\n');
    const noDir = await runCli(['edit', 'secrets/app.yaml'], { cwd: repo, env: { EDITOR: editor } });
    assert.equal(noDir.code, 3);
    assert.match(oneLine(noDir.stderr), /secrets\/app\.yaml: cannot create the file: its directory does not exist/);
    assert.equal(existsSync(shown), false, 'refused before the editor opened');
    mkdirSync(join(repo, 'secrets'));
    const r = await runCli(['edit', 'secrets/app.yaml'], { cwd: repo, env: { EDITOR: editor } });
    assert.equal(r.code, 0, r.stderr);
    const dec = await runCli(['decrypt', 'secrets/app.yaml'], { cwd: repo, env: { SOPS_AGE_KEY_FILE: bob.file } });
    assert.equal(dec.code, 0, dec.stderr);
    assert.equal(dec.stdout, 'token: t0ken-new\n');
  });
});
