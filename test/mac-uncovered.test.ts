/**
 * Values the MAC does not cover. SOPS never encrypts `""` or null and neither adds a byte to the
 * MAC, so anyone who can edit an encrypted file can add `path: ""` or `git_ssl_no_verify: ""`
 * without a key, and the file still decrypts with a valid MAC. Deploy-time output (`render`,
 * `exec`) names such keys in a warning and refuses them under `--strict`; `validate` reports them
 * and `diff` flags a revision that adds them. Real git repository, real age keys, real children.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { SealantError } from '../src/errors.js';
import { decryptText } from '../src/ops/decrypt.js';
import { diffRevisions } from '../src/ops/diff.js';
import { encryptText } from '../src/ops/encrypt.js';
import { execInEnvironment } from '../src/ops/exec.js';
import { parseGenerator, parseResourceList } from '../src/krm/resource-list.js';
import { runGenerator, runResourceList } from '../src/ops/krm.js';
import { renderEnvironment } from '../src/ops/render-output.js';
import { validate } from '../src/ops/validate.js';
import { newAgeKey, sourcesFromFiles } from './helpers/keys.js';

const root = mkdtempSync(join(tmpdir(), 'sealant-uncovered-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
const key = newAgeKey(root, 'key');
const repo = join(root, 'repo');
const FILE = 'env/dev/app.yaml';
/** What an attacker without a key prepends: a clear empty PATH, a TLS switch and a null. */
const INJECTED = 'path: ""\ngit_ssl_no_verify: ""\nproxy: null\n';

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

function context() {
  const warnings: string[] = [];
  return {
    env: { PATH: process.env.PATH },
    cwd: repo,
    now: () => new Date('2026-01-02T03:04:05Z'),
    warn: (m: string) => warnings.push(m),
    warnings,
  };
}

const sink = { write: () => true };
let encrypted = '';

before(async () => {
  mkdirSync(join(repo, 'env/dev'), { recursive: true });
  git('init', '-q');
  writeFileSync(
    join(repo, '.sealant.yaml'),
    ['environments:', '  dev:', '    files: ["env/dev/*.yaml"]', `    age: [${key.recipient}]`, ''].join('\n'),
  );
  writeFileSync(join(repo, '.gitignore'), 'out/\n');
  const r = await encryptText('db:\n    password: hunter2\n', FILE, context(), {
    groups: [{ age: [key.recipient], kms: [] }],
  });
  encrypted = r.text;
  writeFileSync(join(repo, FILE), encrypted);
  git('add', '.');
  git('commit', '-q', '-m', 'init');
});

/** The committed file with the keyless edit applied in the working tree. */
function tamper(): void {
  writeFileSync(join(repo, FILE), INJECTED + encrypted);
}

function restore(): void {
  writeFileSync(join(repo, FILE), encrypted);
}

describe('keys with "" or null values are not covered by the MAC', () => {
  test('a keyless edit adding them keeps the MAC valid (the premise: as in sops)', async () => {
    const r = await decryptText(INJECTED + encrypted, FILE, context(), { identityFiles: [key.file] });
    assert.equal(r.macValid, true);
    assert.match(r.text, /^path: ""\ngit_ssl_no_verify: ""\nproxy: null\n/);
  });
});

describe('render and exec name them in a warning, and refuse them with --strict', () => {
  test('render warns with the key paths (never a value) and still renders', async () => {
    tamper();
    try {
      const ctx = context();
      const r = await renderEnvironment(ctx, {
        env: 'dev',
        format: 'dotenv',
        sources: await sourcesFromFiles(key.file),
        stderr: sink,
      });
      assert.match(r.text!, /^PATH=/m);
      assert.equal(ctx.warnings.length, 1);
      assert.match(ctx.warnings[0]!, /^env\/dev\/app\.yaml: path, git_ssl_no_verify, proxy: .*not covered by the MAC/);
      assert.doesNotMatch(ctx.warnings[0]!, /hunter2/);
    } finally {
      restore();
    }
  });

  test('render --strict refuses and writes nothing', async () => {
    tamper();
    try {
      const out = join(repo, 'out/dev.env');
      await assert.rejects(
        renderEnvironment(context(), {
          env: 'dev',
          format: 'dotenv',
          sources: await sourcesFromFiles(key.file),
          stderr: sink,
          strict: true,
          out,
        }),
        (e: SealantError) => {
          assert.equal(e.code, 'MAC_UNCOVERED');
          assert.equal(e.exitCode, 1);
          assert.match(e.message, /env\/dev\/app\.yaml: path, git_ssl_no_verify, proxy/);
          return true;
        },
      );
      assert.equal(existsSync(out), false);
    } finally {
      restore();
    }
  });

  test('an untouched file renders without a warning, with or without --strict', async () => {
    const ctx = context();
    await renderEnvironment(ctx, {
      env: 'dev',
      format: 'dotenv',
      sources: await sourcesFromFiles(key.file),
      stderr: sink,
      strict: true,
    });
    assert.deepEqual(ctx.warnings, []);
  });

  test('exec warns and runs the command; with --strict the command never runs', async () => {
    tamper();
    try {
      const marker = join(root, 'ran');
      const command = {
        command: process.execPath,
        args: [
          '-e',
          `require('fs').writeFileSync(${JSON.stringify(marker)}, process.env.PATH === '' ? 'empty' : 'set')`,
        ],
      };
      const ctx = context();
      const report = await execInEnvironment(ctx, {
        env: 'dev',
        sources: await sourcesFromFiles(key.file),
        stderr: sink,
        ...command,
      });
      assert.equal(report.exitCode, 0);
      assert.equal(readFileSync(marker, 'utf8'), 'empty', 'the injected PATH= reached the command');
      assert.equal(ctx.warnings.length, 1);
      assert.match(ctx.warnings[0]!, /path, git_ssl_no_verify, proxy/);
      rmSync(marker);
      await assert.rejects(
        execInEnvironment(context(), {
          env: 'dev',
          sources: await sourcesFromFiles(key.file),
          stderr: sink,
          strict: true,
          ...command,
        }),
        (e: SealantError) => e.code === 'MAC_UNCOVERED',
      );
      assert.equal(existsSync(marker), false, 'no child ran');
    } finally {
      restore();
    }
  });
});

describe('the KRM function and the kustomize plugin name them too', () => {
  const generator = (strict: string) =>
    `apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: sealant.dev/v1\n  kind: SecretGenerator\n  metadata:\n    name: app\n    annotations:\n      config.kubernetes.io/path: gen.yaml\n  environment: dev\n${strict}`;

  test('krm: a warning result about the generator, with the key paths; the Secret is still generated', async () => {
    tamper();
    try {
      const { output, runs } = await runResourceList(context(), parseResourceList(generator('')), {
        sources: await sourcesFromFiles(key.file),
      });
      assert.equal(output.errors, 0);
      assert.equal(runs[0]!.manifests.length, 1);
      assert.deepEqual(
        output.results.map((r) => [r.severity, r.resourceRef?.name, r.file?.path]),
        [['warning', 'app', 'gen.yaml']],
      );
      assert.match(
        output.results[0]!.message,
        /^env\/dev\/app\.yaml: path, git_ssl_no_verify, proxy: not covered by the MAC/,
      );
      assert.doesNotMatch(output.text, /hunter2/);
    } finally {
      restore();
    }
  });

  test('krm with strict: true: an error result (MAC_UNCOVERED) and no Secret', async () => {
    tamper();
    try {
      const { output, runs } = await runResourceList(context(), parseResourceList(generator('  strict: true\n')), {
        sources: await sourcesFromFiles(key.file),
      });
      assert.equal(output.errors, 1);
      assert.deepEqual(runs, []);
      assert.match(
        output.results[0]!.message,
        /values the MAC does not cover would be output: env\/dev\/app\.yaml: path, git_ssl_no_verify, proxy/,
      );
      assert.doesNotMatch(output.text, /kind: Secret$/m);
    } finally {
      restore();
    }
  });

  test('kustomize generate (the legacy plugin): a warning on ctx.warn; strict refuses', async () => {
    tamper();
    try {
      const gen = {
        apiVersion: 'sealant.dev/v1',
        kind: 'SecretGenerator',
        metadata: { name: 'app' },
        environment: 'dev',
      };
      const ctx = context();
      const run = await runGenerator(ctx, parseGenerator(gen), { sources: await sourcesFromFiles(key.file) });
      assert.equal(run.manifests.length, 1);
      assert.equal(ctx.warnings.length, 1);
      assert.match(ctx.warnings[0]!, /path, git_ssl_no_verify, proxy: not covered by the MAC/);
      await assert.rejects(
        runGenerator(context(), parseGenerator({ ...gen, strict: true }), {
          sources: await sourcesFromFiles(key.file),
        }),
        (e: SealantError) => e.code === 'MAC_UNCOVERED',
      );
    } finally {
      restore();
    }
    const clean = context();
    await runGenerator(
      clean,
      parseGenerator({
        apiVersion: 'sealant.dev/v1',
        kind: 'SecretGenerator',
        metadata: { name: 'app' },
        environment: 'dev',
        strict: true,
      }),
      { sources: await sourcesFromFiles(key.file) },
    );
    assert.deepEqual(clean.warnings, []);
  });
});

describe('validate reports them as warnings, keyless', () => {
  test('each key with a "" or null value is a warning-level finding at its line; exit status stays clean', async () => {
    tamper();
    try {
      const report = await validate(context(), { mode: 'keyless', files: [FILE] });
      const mac = report.results.filter((r) => r.keyword === 'mac');
      assert.deepEqual(
        mac.map((r) => [r.path, r.line, r.severity]),
        [
          ['path', 1, 'warning'],
          ['git_ssl_no_verify', 2, 'warning'],
          ['proxy', 3, 'warning'],
        ],
      );
      assert.match(mac[0]!.message, /MAC does not cover/);
      assert.equal(report.errors, 0);
      assert.equal(report.warnings, 3);
    } finally {
      restore();
    }
    const clean = await validate(context(), { mode: 'keyless', files: [FILE] });
    assert.equal(clean.warnings, 0);
  });

  test('clear values under mac_only_encrypted are one warning on the sops block', async () => {
    const file = 'env/dev/mac-only.yaml';
    const r = await encryptText(
      'kind: Secret\nmetadata:\n    name: app\ndata:\n    password: hunter2\n',
      file,
      context(),
      {
        groups: [{ age: [key.recipient], kms: [] }],
        rule: { field: 'encrypted_regex', value: '^data$' },
        macOnlyEncrypted: true,
      },
    );
    writeFileSync(join(repo, file), r.text);
    try {
      const report = await validate(context(), { mode: 'keyless', files: [file] });
      const mac = report.results.filter((x) => x.keyword === 'mac');
      assert.equal(mac.length, 1);
      assert.equal(mac[0]!.path, 'sops');
      assert.match(mac[0]!.message, /mac_only_encrypted: the 2 value\(s\) in clear are not covered by the MAC/);
    } finally {
      rmSync(join(repo, file));
    }
  });
});

describe('diff flags a revision that adds them, keyless', () => {
  test('keys added with "" or null are an alert; the file still passes its MAC check', async () => {
    tamper();
    try {
      const report = await diffRevisions(context(), { keys: 'no-keys' });
      assert.equal(report.alerts, 1);
      const f = report.files[0]!;
      assert.deepEqual(
        f.changes.map((c) => [c.path, c.change]),
        [
          ['path', 'added'],
          ['git_ssl_no_verify', 'added'],
          ['proxy', 'added'],
        ],
      );
      assert.deepEqual(f.alerts, [
        'UNAUTHENTICATED: 3 key(s) added with a value the MAC does not cover (such as "" or null), which anyone can add without a key: path, git_ssl_no_verify, proxy',
      ]);
      assert.equal(f.mac.changed, false, 'no key was needed: the MAC is the same');
    } finally {
      restore();
    }
  });

  test('an added value the MAC covers is no alert', async () => {
    const ctx = context();
    const r = await decryptText(encrypted, FILE, ctx, { identityFiles: [key.file] });
    const edited = await encryptText(`${r.text}api:\n    token: tok\n`, FILE, ctx, {
      groups: [{ age: [key.recipient], kms: [] }],
    });
    writeFileSync(join(repo, FILE), edited.text);
    try {
      const report = await diffRevisions(context(), { keys: 'no-keys' });
      assert.equal(report.alerts, 0);
      assert.ok(report.files[0]!.changes.some((c) => c.path === 'api.token' && c.change === 'added'));
    } finally {
      restore();
    }
  });
});
