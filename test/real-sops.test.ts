/**
 * The real getsops/sops 3.9.2 library (`test/helpers/real-sops.ts`) decrypts what every sealant
 * write path produces — each store, each selector, age / PGP / AWS KMS / Shamir key groups, and
 * the output of encrypt, encrypt over an old version, set, unset, edit, updatekeys, rotate,
 * apply and the git merge driver — and every value it returns is compared with what went in.
 * A flipped value or MAC byte must make it refuse the file.
 *
 * Files are produced in-process through the library where the write path is a library
 * function; `edit` and the merge driver run the built CLI (`npm run build` first).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import type { CryptRule } from '../src/format/selectors.js';
import type { GroupRecipients, KeySources, KmsKeySource } from '../src/keys/datakey.js';
import { gpgKeySource } from '../src/keys/pgp.js';
import { applyPlan, type ValueInput } from '../src/ops/apply.js';
import type { OpsContext } from '../src/ops/context.js';
import { decryptFile } from '../src/ops/decrypt.js';
import { encryptFile, encryptOver } from '../src/ops/encrypt.js';
import { planRotation } from '../src/ops/plan.js';
import { rotateFile } from '../src/ops/rotate.js';
import { setValue, unsetValue } from '../src/ops/set.js';
import { resolveTargets } from '../src/ops/targets.js';
import { updateKeysFile } from '../src/ops/updatekeys.js';
import { parseJsonValue, stringValue } from '../src/ops/value.js';
import type { FileFormat } from '../src/stores/store.js';
import { runCli } from './helpers/cli.js';
import { INTEROP_DIR } from './helpers/interop.js';
import { newAgeKey, sourcesFromFiles, testContext, type Key } from './helpers/keys.js';
import { startKmsServer, type KmsServer } from './helpers/kms-server.js';
import { HARNESS_AWS_CREDENTIALS, REAL_SOPS_SKIP, realSops, type RealSopsResult } from './helpers/real-sops.js';

// The AWS SDK reads process.env on its own (profiles, shared config, IMDS): keep the
// developer's AWS setup out, as test/kms.test.ts does.
const root = mkdtempSync(join(tmpdir(), 'sealant-realsops-'));
for (const v of Object.keys(process.env)) if (v.startsWith('AWS_')) delete process.env[v];
process.env.AWS_CONFIG_FILE = join(root, 'no-aws-config');
process.env.AWS_SHARED_CREDENTIALS_FILE = join(root, 'no-aws-credentials');
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
const { awsKmsKeySource } = await import('../src/keys/kms.js');

const PGP_KEY_FILE = join(INTEROP_DIR, 'getsops-sops/keys/sops_functional_tests_key.asc');
const FPR = 'FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4';
const KMS_ARN = 'arn:aws:kms:eu-west-2:111122223333:key/5e1a1a27-0000-4000-8000-000000000001';
const KMS_ROLE = 'arn:aws:iam::111122223333:role/sops-decrypt';

const alice = newAgeKey(root, 'alice');
const bob = newAgeKey(root, 'bob');
const carol = newAgeKey(root, 'carol');
// gpg refuses or warns about a group/world-readable home.
const gnupgHome = join(root, 'gnupg');
mkdirSync(gnupgHome, { mode: 0o700 });
let kms: KmsServer;
let kmsSource: KmsKeySource;

const keyFiles = new Map<string, string>();
/**
 * One age key file holding the identities of all `keys` (sops reads every line), written once:
 * a concurrent test must never see it half-written.
 */
function keyFileOf(...keys: Key[]): string {
  const name = keys.map((k) => /\/([^/]+)\.txt$/.exec(k.file)![1]).join('+');
  let file = keyFiles.get(name);
  if (file === undefined) {
    file = join(root, `${name}.keys`);
    writeFileSync(file, keys.map((k) => readFileSync(k.file, 'utf8')).join(''), { mode: 0o600 });
    keyFiles.set(name, file);
  }
  return file;
}

/** What real sops is given: only the keys named here. */
interface Keys {
  age?: Key[];
  pgp?: boolean;
  kms?: boolean;
}

function harnessEnv(keys: Keys): Record<string, string> {
  const env: Record<string, string> = {};
  if (keys.age !== undefined && keys.age.length > 0) env.SOPS_AGE_KEY_FILE = keyFileOf(...keys.age);
  if (keys.pgp === true) env.GNUPGHOME = gnupgHome;
  if (keys.kms === true) Object.assign(env, { AWS_ENDPOINT_URL_KMS: kms.url, AWS_ENDPOINT_URL_STS: kms.url });
  return env;
}

/** sealant's key sources: age identities of `ageKeys`, gpg in the test home, the loopback KMS. */
async function sources(...ageKeys: Key[]): Promise<KeySources> {
  return {
    ...(await sourcesFromFiles(...ageKeys.map((k) => k.file))),
    pgp: async () => gpgKeySource({ env: { GNUPGHOME: gnupgHome, PATH: process.env.PATH } }),
    kms: async () => kmsSource,
  };
}

const ageGroup = (...keys: Key[]): GroupRecipients => ({ age: keys.map((k) => k.recipient), kms: [], pgp: [] });

/** A context working in `cwd`; with the real clock where git history (dated now) matters. */
function ctxIn(cwd: string, clock: 'fixed' | 'real' = 'fixed'): OpsContext {
  return { ...testContext(), cwd, ...(clock === 'real' ? { now: () => new Date() } : {}) };
}

let seq = 0;
/** A fresh directory under the test root. */
function newDir(prefix: string): string {
  return mkdtempSync(join(root, `${prefix}-${++seq}-`));
}

/** Writes a plaintext file and encrypts it in place through the library (`encrypt -i`). */
async function encrypted(
  name: string,
  content: string | Uint8Array,
  opts: {
    groups?: GroupRecipients[];
    shamirThreshold?: number;
    rule?: CryptRule;
    macOnlyEncrypted?: boolean;
    outputType?: FileFormat;
    dir?: string;
  } = {},
): Promise<{ file: string; bytes: Buffer }> {
  const dir = opts.dir ?? newDir('enc');
  const file = join(dir, name);
  writeFileSync(file, content);
  const r = await encryptFile(file, testContext(), {
    groups: opts.groups ?? [ageGroup(alice)],
    ...(opts.shamirThreshold === undefined ? {} : { shamirThreshold: opts.shamirThreshold }),
    ...(opts.rule === undefined ? {} : { rule: opts.rule }),
    ...(opts.macOnlyEncrypted === undefined ? {} : { macOnlyEncrypted: opts.macOnlyEncrypted }),
    ...(opts.outputType === undefined ? {} : { outputType: opts.outputType }),
    sources: await sources(),
  });
  writeFileSync(file, r.text);
  return { file, bytes: readFileSync(file) };
}

/** Asserts real sops decrypted the file, verified its MAC and gave no warning. */
function assertOk(r: RealSopsResult, what: string): void {
  assert.equal(r.ok, true, `real sops refused ${what}: ${r.sopsError ?? r.reason ?? ''}`);
  assert.deepEqual(r.warnings, [], `real sops warned about ${what}`);
}

/** Real sops decrypts `bytes` to exactly `expected` (json/yaml: the tree; dotenv: KEY -> value). */
async function assertDecryptsTo(
  bytes: Uint8Array | string,
  format: FileFormat,
  expected: unknown,
  keys: Keys = { age: [alice] },
): Promise<void> {
  const r = await realSops(bytes, format, harnessEnv(keys));
  assertOk(r, `this ${format} file`);
  assert.deepEqual(r.value, expected);
}

/** Byte equality that reports where the first difference is (not 8 KiB of hex). */
function assertSameBytes(actual: Buffer | undefined, expected: Buffer): void {
  assert.ok(actual !== undefined, 'no bytes came back');
  if (actual.equals(expected)) return;
  let i = 0;
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
  assert.fail(`${actual.length} bytes came back for ${expected.length}; first difference at offset ${i}`);
}

/** Real sops refuses `bytes`; returns its error. */
async function assertRefused(
  bytes: Uint8Array | string,
  format: FileFormat,
  keys: Keys = { age: [alice] },
): Promise<string> {
  const r = await realSops(bytes, format, harnessEnv(keys));
  assert.equal(r.ok, false, 'real sops accepted a file it should refuse');
  return r.sopsError ?? r.reason ?? '';
}

/** The plaintext of a YAML/JSON input as an independent parser reads it (YAML 1.2 core schema). */
const plainOf = (text: string): unknown => parseYaml(text) as unknown;

const YAML_TEXT = [
  '# a comment at the top',
  'db:',
  '    host: db.internal',
  '    port: 5432',
  '    password: "hunter2 with spaces"   # inline comment',
  '    ratio: 0.75',
  '    negative: -12',
  '    enabled: true',
  '    disabled: false',
  '    nothing: null',
  '    empty: ""',
  'list:',
  '    - one',
  '    - 2',
  '    - nested: value',
  '      other: [a, b]',
  "single: 'it''s quoted'",
  'multiline: |',
  '    line one',
  '    line two',
  'folded: >',
  '    folded',
  '    text',
  'unicode: "héllo wörld ✓ 🔐"',
  'public_unencrypted: visible',
  '',
].join('\n');

const JSON_TEXT = `${JSON.stringify(
  {
    db: {
      host: 'db.internal',
      port: 5432,
      ratio: 0.5,
      on: false,
      off: true,
      nil: null,
      list: [1, 'two', { three: 3 }, [4.25]],
    },
    empty: '',
    unicode: 'héllo ✓ 🔐',
    escaped: 'quote " backslash \\ tab \t newline \n',
    public_unencrypted: 'clear',
  },
  null,
  2,
)}\n`;

const DOTENV = {
  DB_PASSWORD: 'hunter2',
  API_TOKEN: 'tok=with=equals',
  EMPTY: '',
  SPACED: 'a b c',
  MULTI: 'line1\nline2',
  UNICODE: 'héllo ✓',
  PUBLIC_unencrypted: 'clear',
};
/** sops's dotenv syntax: KEY=VALUE, a newline written as the two characters \n. */
const DOTENV_TEXT = `# a comment\n${Object.entries(DOTENV)
  .map(([k, v]) => `${k}=${v.replaceAll('\n', '\\n')}`)
  .join('\n')}\n`;

const INI_TEXT = [
  '; a comment',
  '[database]',
  'user = admin',
  'password = hunter2',
  '',
  '[api]',
  'token = abc123',
  'public_unencrypted = clear',
  '',
].join('\n');

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const RANDOM_4K = randomBytes(4096);

/** Keys a..f, each value a distinct word, so which stayed in clear is visible in the file. */
const SELECTOR_YAML = [
  '# keep-clear',
  'a_comment_clear: value-a',
  '# secret',
  'b_comment_secret: value-b',
  'c_enc: value-c',
  'd_plain: value-d',
  'nested:',
  '    e_enc: value-e',
  '    f: value-f',
  '',
].join('\n');
const SELECTOR_VALUES = ['value-a', 'value-b', 'value-c', 'value-d', 'value-e', 'value-f'];

/** Per rule: the values it leaves in clear (sops's shouldBeEncrypted). */
const SELECTOR_CASES: { rule: CryptRule; macOnlyEncrypted?: boolean; clear: string[] }[] = [
  { rule: { field: 'unencrypted_suffix', value: '_plain' }, clear: ['value-d'] },
  { rule: { field: 'encrypted_suffix', value: '_enc' }, clear: ['value-a', 'value-b', 'value-d', 'value-f'] },
  { rule: { field: 'unencrypted_regex', value: '^(d_plain|f)$' }, clear: ['value-d', 'value-f'] },
  // A matching map key encrypts everything below it (nested.f too).
  { rule: { field: 'encrypted_regex', value: '^(c_enc|nested)$' }, clear: ['value-a', 'value-b', 'value-d'] },
  { rule: { field: 'unencrypted_comment_regex', value: 'keep-clear' }, clear: ['value-a'] },
  {
    rule: { field: 'encrypted_comment_regex', value: 'secret' },
    clear: ['value-a', 'value-c', 'value-d', 'value-e', 'value-f'],
  },
  {
    rule: { field: 'encrypted_regex', value: '^(c_enc|nested)$' },
    macOnlyEncrypted: true,
    clear: ['value-a', 'value-b', 'value-d'],
  },
];

/** A parsed document, edited below the way each write path edits the file. */
type Plain = Record<string, any>;
const clone = (v: unknown): Plain => structuredClone(v) as Plain;
const at = (doc: Plain, path: readonly string[]): Plain => path.reduce((o: Plain, k) => o[k] as Plain, doc);
function setIn(doc: Plain, path: readonly string[], value: unknown): void {
  at(doc, path.slice(0, -1))[path.at(-1)!] = value;
}

const DAY = 86_400_000;

/** git in `repo`, committing as if `daysAgo` days ago (history drives the planner). */
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
      GIT_CONFIG_NOSYSTEM: '1',
    },
  });
}

function commitAll(repo: string, message: string, daysAgo: number): void {
  git(repo, ['add', '-A'], daysAgo);
  git(repo, ['commit', '-q', '-m', message], daysAgo);
}

// Strings only: what `apply` does to a value's type is another test's subject. One value in
// clear: a new data key re-encrypts every encrypted value but leaves it as it was, and apply
// must predict exactly that.
const PLAN_YAML = 'db:\n    password: hunter2\n    user: app\napi:\n    token: t0ken\npublic_unencrypted: visible\n';
const PLAN_SCHEMA = JSON.stringify({
  type: 'object',
  properties: {
    db: {
      type: 'object',
      properties: { password: { type: 'string', 'x-sealant-generate': { length: 24, alphabet: 'hex' } } },
    },
  },
});

function planConfig(recipients: Key[], extra: string[] = []): string {
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

/** A git repository with `dev/app.yaml` encrypted for `recipients`, committed `daysAgo`. */
async function planRepo(recipients: Key[], extra: string[], daysAgo: number): Promise<string> {
  const repo = newDir('apply');
  git(repo, ['init', '-q']);
  writeFileSync(join(repo, '.sealant.yaml'), planConfig(recipients, extra));
  writeFileSync(join(repo, 'schema.json'), PLAN_SCHEMA);
  mkdirSync(join(repo, 'dev'));
  await encrypted('app.yaml', PLAN_YAML, { dir: join(repo, 'dev'), groups: [ageGroup(...recipients)] });
  commitAll(repo, 'init', daysAgo);
  return repo;
}

/**
 * Applies `plan` with a new value from a file for every planned value no generator makes, and
 * returns the plaintext real sops must now see: planned values replaced (generated ones as
 * sealant decrypts them, checked against their generator's shape), every other value as before.
 */
async function applyWithValues(repo: string, plan: Awaited<ReturnType<typeof planRotation>>, key: Key): Promise<Plain> {
  const expected = clone(plainOf(PLAN_YAML));
  const values: ValueInput[] = [];
  const generated: string[][] = [];
  for (const f of plan.files) {
    for (const v of f.values) {
      const path = v.path.split('.');
      if (v.generate !== undefined) {
        generated.push(path);
        continue;
      }
      const from = join(repo, `value-${values.length}.txt`);
      writeFileSync(from, `new ${v.path}\n`, { mode: 0o600 });
      values.push({ path: v.path, from: { kind: 'file', path: from } });
      setIn(expected, path, `new ${v.path}`);
    }
  }
  await applyPlan(plan, ctxIn(repo, 'real'), { sources: await sources(key), values });
  if (generated.length > 0) {
    const plain = plainOf(
      (await decryptFile(join(repo, 'dev/app.yaml'), testContext(), { sources: await sources(key) })).text,
    ) as Plain;
    for (const path of generated) {
      const value = at(plain, path) as unknown;
      assert.match(String(value), /^[0-9a-f]{24}$/, "a value from the schema's generator");
      setIn(expected, path, value);
    }
  }
  return expected;
}

/** Replaces the base64 character right after `marker` (the top bits of the first byte). */
function flipAfter(bytes: Buffer, marker: string): Buffer {
  const text = bytes.toString('utf8');
  const at = text.indexOf(marker);
  assert.ok(at >= 0, `no ${marker} in the file`);
  const i = at + marker.length;
  return Buffer.from(text.slice(0, i) + (text[i] === 'A' ? 'B' : 'A') + text.slice(i + 1), 'utf8');
}

describe('real getsops/sops 3.9.2 decrypts what sealant writes', { skip: REAL_SOPS_SKIP }, () => {
  before(async () => {
    const r = spawnSync('gpg', ['--batch', '--import', PGP_KEY_FILE], {
      env: { GNUPGHOME: gnupgHome, PATH: process.env.PATH },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `gpg --import failed: ${r.stderr}`);
    kms = await startKmsServer({ keys: [KMS_ARN], credentials: HARNESS_AWS_CREDENTIALS, roles: [KMS_ROLE] });
    kmsSource = awsKmsKeySource({
      env: {
        AWS_ENDPOINT_URL_KMS: kms.url,
        AWS_ENDPOINT_URL_STS: kms.url,
        AWS_ACCESS_KEY_ID: HARNESS_AWS_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: HARNESS_AWS_CREDENTIALS.secretAccessKey,
        AWS_SESSION_TOKEN: HARNESS_AWS_CREDENTIALS.sessionToken,
      },
      hostname: 'sealant-test',
      retryDelayMs: 5,
    });
  });

  after(async () => {
    await kms?.close();
    // The gpg calls (ours and real sops's) started an agent bound to this home.
    spawnSync('gpgconf', ['--kill', 'gpg-agent'], {
      env: { GNUPGHOME: gnupgHome, PATH: process.env.PATH },
      stdio: 'ignore',
    });
  });

  describe('real sops decrypts every store sealant writes', { concurrency: 4 }, () => {
    test('YAML: nested maps, lists, every scalar type, block scalars, comments', async () => {
      const { bytes } = await encrypted('app.yaml', YAML_TEXT);
      await assertDecryptsTo(bytes, 'yaml', plainOf(YAML_TEXT));
    });

    test('YAML: every carrier form (plain, quoted, flow "ENC[…\\x5D", block |N- and |-N)', async () => {
      const text = [
        'plain: yes',
        'word: x',
        'double: "y"',
        "single: 'y'",
        'flow: [y, "x", \'z\', a:b]',
        'fmap: {k: "v", l: w}',
        'strip: |-',
        '    line one',
        '    line two',
        'keep: |+',
        '    kept',
        '',
        'folded_strip: >-',
        '    folded',
        'list:',
        '    - |+',
        '      item',
        '    - k: |-',
        '          deep',
        'far: |+',
        '              far content',
        'end: 1',
        '',
      ].join('\n');
      const { bytes } = await encrypted('carriers.yaml', text);
      const enc = bytes.toString('utf8');
      for (const form of [
        'fmap: {k: "ENC[',
        '\\x5D", l: "ENC[',
        '\nstrip: |4-\n',
        '\nkeep: |-4\n',
        'folded_strip: >4-\n',
        '- |-2\n',
      ])
        assert.ok(enc.includes(form), `no ${form} in\n${enc}`);
      assert.match(enc, /- k: \|\d-\n/);
      assert.match(enc, /\nfar: \|-\n {14}ENC\[/);
      await assertDecryptsTo(bytes, 'yaml', plainOf(text));
    });

    test('YAML with several documents: the MAC covers all, the first comes back', async () => {
      const text = 'a: 1\nb: first\n---\nc: second\nd: [x, y]\n';
      const { bytes } = await encrypted('multi.yaml', text);
      const docs = parseAllDocuments(text);
      assert.ok(Array.isArray(docs) && docs.length === 2);
      await assertDecryptsTo(bytes, 'yaml', docs[0]!.toJS() as unknown);
    });

    test('JSON: nested objects, arrays, numbers, booleans, null, escapes', async () => {
      const { bytes } = await encrypted('app.json', JSON_TEXT);
      await assertDecryptsTo(bytes, 'json', JSON.parse(JSON_TEXT) as unknown);
    });

    test('YAML converted to JSON (--output-type json)', async () => {
      const { bytes } = await encrypted('conv.yaml', YAML_TEXT, { outputType: 'json' });
      await assertDecryptsTo(bytes, 'json', plainOf(YAML_TEXT));
    });

    test('dotenv: values with =, spaces, \\n, unicode, an empty value and a comment', async () => {
      const { bytes } = await encrypted('app.env', DOTENV_TEXT);
      await assertDecryptsTo(bytes, 'dotenv', DOTENV);
    });

    test('INI: sections and a comment (real sops returns no INI values: decrypt and MAC only)', async () => {
      const { bytes } = await encrypted('app.ini', INI_TEXT);
      const r = await realSops(bytes, 'ini', harnessEnv({ age: [alice] }));
      assertOk(r, 'the INI file');
      assert.equal(r.valuesReturned, false);
    });

    test('binary: UTF-8 text comes back byte for byte', async () => {
      const text = Buffer.from('héllo\r\nwörld ✓\n\tno final newline', 'utf8');
      const { bytes } = await encrypted('notes.txt', text);
      const r = await realSops(bytes, 'binary', harnessEnv({ age: [alice] }));
      assertOk(r, 'the binary file');
      assertSameBytes(r.secret, text);
    });

    test('binary: all 256 byte values come back byte for byte', async () => {
      const { bytes } = await encrypted('all-bytes.bin', ALL_BYTES);
      const r = await realSops(bytes, 'binary', harnessEnv({ age: [alice] }));
      assertOk(r, 'the binary file');
      assertSameBytes(r.secret, ALL_BYTES);
    });

    test('binary: 4 KiB of random bytes come back byte for byte', async () => {
      const { bytes } = await encrypted('random.bin', RANDOM_4K);
      const r = await realSops(bytes, 'binary', harnessEnv({ age: [alice] }));
      assertOk(r, 'the binary file');
      assertSameBytes(r.secret, RANDOM_4K);
    });
  });

  describe('real sops reads every selector sealant writes', { concurrency: 4 }, () => {
    for (const c of SELECTOR_CASES) {
      test(`${c.rule.field}: ${c.rule.value}${c.macOnlyEncrypted === true ? ' with mac_only_encrypted' : ''}`, async () => {
        const { bytes } = await encrypted('sel.yaml', SELECTOR_YAML, {
          rule: c.rule,
          ...(c.macOnlyEncrypted === undefined ? {} : { macOnlyEncrypted: c.macOnlyEncrypted }),
        });
        const text = bytes.toString('utf8');
        assert.deepEqual(
          SELECTOR_VALUES.filter((v) => text.includes(v)),
          c.clear,
          'the values left in clear',
        );
        // Real sops decrypts exactly the values its own rule selects: a value encrypted against
        // its rule would come back as ENC[…], one left in clear would be refused.
        await assertDecryptsTo(bytes, 'yaml', plainOf(SELECTOR_YAML));
      });
    }

    test('JSON and dotenv with encrypted_regex and mac_only_encrypted', async () => {
      const json = await encrypted('sel.json', JSON_TEXT, {
        rule: { field: 'encrypted_regex', value: '^(db|empty)$' },
        macOnlyEncrypted: true,
      });
      assert.ok(json.bytes.includes('"unicode": "héllo ✓ 🔐"'), 'a value outside the rule stays in clear');
      await assertDecryptsTo(json.bytes, 'json', JSON.parse(JSON_TEXT) as unknown);
      const env = await encrypted('sel.env', DOTENV_TEXT, {
        rule: { field: 'unencrypted_regex', value: '^(SPACED|UNICODE)$' },
        macOnlyEncrypted: true,
      });
      assert.ok(env.bytes.includes('SPACED=a b c\n'));
      await assertDecryptsTo(env.bytes, 'dotenv', DOTENV);
    });
  });

  describe('real sops opens the data key sealant wraps', { concurrency: 4 }, () => {
    test('PGP, through gpg', async () => {
      const { bytes } = await encrypted('pgp.yaml', YAML_TEXT, { groups: [{ age: [], kms: [], pgp: [FPR] }] });
      await assertDecryptsTo(bytes, 'yaml', plainOf(YAML_TEXT), { pgp: true });
    });

    test('AWS KMS with an encryption context (loopback KMS-protocol server)', async () => {
      const { bytes } = await encrypted('kms.json', JSON_TEXT, {
        groups: [{ age: [], kms: [{ arn: KMS_ARN, context: { app: 'billing', env: 'prod' } }], pgp: [] }],
      });
      await assertDecryptsTo(bytes, 'json', JSON.parse(JSON_TEXT) as unknown, { kms: true });
    });

    test('AWS KMS through an assumed role', async () => {
      const { bytes } = await encrypted('kms-role.env', DOTENV_TEXT, {
        groups: [{ age: [], kms: [{ arn: KMS_ARN, role: KMS_ROLE }], pgp: [] }],
      });
      await assertDecryptsTo(bytes, 'dotenv', DOTENV, { kms: true });
    });

    test('one group of age, PGP and KMS: each master key alone opens it', async () => {
      const { bytes } = await encrypted('mixed.yaml', YAML_TEXT, {
        groups: [{ age: [alice.recipient], kms: [{ arn: KMS_ARN }], pgp: [FPR] }],
      });
      for (const keys of [{ age: [alice] }, { pgp: true }, { kms: true }] satisfies Keys[])
        await assertDecryptsTo(bytes, 'yaml', plainOf(YAML_TEXT), keys);
      await assertRefused(bytes, 'yaml', { age: [bob] });
    });

    test('Shamir 2-of-3 age groups: any two groups open it, one does not', async () => {
      const { bytes } = await encrypted('shamir.yaml', YAML_TEXT, {
        groups: [ageGroup(alice), ageGroup(bob), ageGroup(carol)],
        shamirThreshold: 2,
      });
      for (const pair of [
        [alice, bob],
        [alice, carol],
        [bob, carol],
      ])
        await assertDecryptsTo(bytes, 'yaml', plainOf(YAML_TEXT), { age: pair });
      await assertRefused(bytes, 'yaml', { age: [carol] });
    });

    test('Shamir 2-of-3 across an age, a PGP and a KMS group', async () => {
      const { bytes } = await encrypted('shamir-mixed.json', JSON_TEXT, {
        groups: [ageGroup(alice), { age: [], kms: [], pgp: [FPR] }, { age: [], kms: [{ arn: KMS_ARN }], pgp: [] }],
        shamirThreshold: 2,
      });
      await assertDecryptsTo(bytes, 'json', JSON.parse(JSON_TEXT) as unknown, { pgp: true, kms: true });
      await assertDecryptsTo(bytes, 'json', JSON.parse(JSON_TEXT) as unknown, { age: [alice], kms: true });
      await assertRefused(bytes, 'json', { pgp: true });
    });

    test('Shamir 3-of-3 (no threshold: every group) on a binary file', async () => {
      const text = Buffer.from('three groups, all needed\n');
      const { bytes } = await encrypted('shamir3.txt', text, {
        groups: [ageGroup(alice), ageGroup(bob), { age: [], kms: [{ arn: KMS_ARN }], pgp: [] }],
      });
      const r = await realSops(bytes, 'binary', harnessEnv({ age: [alice, bob], kms: true }));
      assertOk(r, 'the 3-of-3 file');
      assertSameBytes(r.secret, text);
      await assertRefused(bytes, 'binary', { age: [alice, bob] });
    });
  });

  describe('real sops decrypts the output of every write path', { concurrency: 4 }, () => {
    test('encrypt --output over an old version (data key kept, edited content)', async () => {
      for (const [name, format, text, edit] of [
        [
          'app.yaml',
          'yaml',
          YAML_TEXT,
          (t: string) =>
            `${t.replace('    port: 5432\n', '    port: 6543\n').replace('    empty: ""\n', '')}added: a new value\n`,
        ],
        [
          'app.json',
          'json',
          JSON_TEXT,
          (t: string) => t.replace('"port": 5432', '"port": 6543').replace('"empty": "",', '"added": [true, "x"],'),
        ],
        [
          'app.env',
          'dotenv',
          DOTENV_TEXT,
          (t: string) => `${t.replace('API_TOKEN=tok=with=equals\n', 'API_TOKEN=rotated\n')}ADDED=yes\n`,
        ],
      ] as const) {
        const dir = newDir('over');
        const old = await encrypted(`old.${name}`, text, { dir });
        const edited = edit(text);
        assert.notEqual(edited, text);
        const plainFile = join(dir, name);
        writeFileSync(plainFile, edited);
        const r = await encryptOver(edited, plainFile, old.bytes.toString('utf8'), old.file, testContext(), {
          sources: await sources(alice),
        });
        assert.ok(r !== undefined, 'something changed');
        const expected =
          format === 'dotenv'
            ? { ...DOTENV, API_TOKEN: 'rotated', ADDED: 'yes' }
            : format === 'json'
              ? JSON.parse(edited)
              : plainOf(edited);
        await assertDecryptsTo(r.text, format, expected);
      }
    });

    test('set: a changed, a retyped, a new nested and a list value (YAML, JSON, dotenv, INI)', async () => {
      const opts = { sources: await sources(alice) };
      const ctx = testContext();
      const yaml = await encrypted('set.yaml', YAML_TEXT);
      await setValue(yaml.file, 'db.password', parseJsonValue('"a new password"'), ctx, opts);
      await setValue(yaml.file, '["db"]["port"]', parseJsonValue('6543'), ctx, opts);
      await setValue(yaml.file, '["list"][0]', parseJsonValue('"uno"'), ctx, opts);
      await setValue(yaml.file, 'added.deep', parseJsonValue('{"k": [1, "two", false], "f": 2.5}'), ctx, opts);
      const y = clone(plainOf(YAML_TEXT));
      Object.assign(y.db, { password: 'a new password', port: 6543 });
      y.list[0] = 'uno';
      y.added = { deep: { k: [1, 'two', false], f: 2.5 } };
      await assertDecryptsTo(readFileSync(yaml.file), 'yaml', y);

      const json = await encrypted('set.json', JSON_TEXT);
      await setValue(json.file, '["db"]["list"][2]["three"]', parseJsonValue('"drei"'), ctx, opts);
      await setValue(json.file, 'new_key', parseJsonValue('null'), ctx, opts);
      const j = clone(JSON.parse(JSON_TEXT));
      j.db.list[2].three = 'drei';
      j.new_key = null;
      await assertDecryptsTo(readFileSync(json.file), 'json', j);

      const env = await encrypted('set.env', DOTENV_TEXT);
      await setValue(env.file, 'API_TOKEN', stringValue('a=b c'), ctx, opts);
      await setValue(env.file, 'NEW_KEY', stringValue('new'), ctx, opts);
      await assertDecryptsTo(readFileSync(env.file), 'dotenv', { ...DOTENV, API_TOKEN: 'a=b c', NEW_KEY: 'new' });

      const ini = await encrypted('set.ini', INI_TEXT);
      await setValue(ini.file, '["api"]["token"]', stringValue('new-token'), ctx, opts);
      await setValue(ini.file, '["extra"]["key"]', stringValue('value'), ctx, opts);
      const r = await realSops(readFileSync(ini.file), 'ini', harnessEnv({ age: [alice] }));
      assertOk(r, 'the INI file after set');
    });

    test('unset: a map entry, a list item and a whole subtree (YAML, JSON, dotenv)', async () => {
      const opts = { sources: await sources(alice) };
      const ctx = testContext();
      const yaml = await encrypted('unset.yaml', YAML_TEXT);
      await unsetValue(yaml.file, 'db.host', ctx, opts);
      await unsetValue(yaml.file, '["list"][1]', ctx, opts);
      await unsetValue(yaml.file, 'multiline', ctx, opts);
      const y = clone(plainOf(YAML_TEXT));
      delete y.db.host;
      y.list.splice(1, 1);
      delete y.multiline;
      await assertDecryptsTo(readFileSync(yaml.file), 'yaml', y);

      const json = await encrypted('unset.json', JSON_TEXT);
      await unsetValue(json.file, 'db', ctx, opts);
      const j = clone(JSON.parse(JSON_TEXT));
      delete j.db;
      await assertDecryptsTo(readFileSync(json.file), 'json', j);

      const env = await encrypted('unset.env', DOTENV_TEXT);
      await unsetValue(env.file, 'DB_PASSWORD', ctx, opts);
      const { DB_PASSWORD: _gone, ...rest } = DOTENV;
      await assertDecryptsTo(readFileSync(env.file), 'dotenv', rest);
    });

    test('edit, with a scripted EDITOR (CLI)', async () => {
      const dir = newDir('edit');
      const yaml = await encrypted('app.yaml', YAML_TEXT, { dir });
      const editor = join(dir, 'editor.sh');
      writeFileSync(
        editor,
        `#!/bin/sh\nsed -i 's/^    port: 5432$/    port: 6543/' "$1" && printf 'added_by_editor: yes really\\n' >> "$1"\n`,
        { mode: 0o700 },
      );
      const r = await runCli(['edit', yaml.file], { cwd: dir, env: { SOPS_AGE_KEY_FILE: alice.file, EDITOR: editor } });
      assert.equal(r.code, 0, r.stderr);
      const expected = clone(plainOf(YAML_TEXT));
      expected.db.port = 6543;
      expected.added_by_editor = 'yes really';
      await assertDecryptsTo(readFileSync(yaml.file), 'yaml', expected);
    });

    test("updatekeys: the environment's new recipients open the file, a removed one cannot", async () => {
      const dir = newDir('updatekeys');
      mkdirSync(join(dir, 'dev'));
      const file = join(dir, 'dev', 'app.yaml');
      const { bytes } = await encrypted('app.yaml', YAML_TEXT, { dir: join(dir, 'dev') });
      writeFileSync(
        join(dir, '.sealant.yaml'),
        [
          'environments:',
          '  dev:',
          '    files: ["dev/**"]',
          `    age: [${bob.recipient}, ${carol.recipient}]`,
          '',
        ].join('\n'),
      );
      const ctx = ctxIn(dir);
      const { targets } = await resolveTargets(ctx, { files: [file] });
      const r = await updateKeysFile(targets[0]!, ctx, { sources: await sources(alice) });
      assert.equal(r.changed, true);
      const after = readFileSync(file);
      assert.notDeepEqual(after, bytes);
      await assertDecryptsTo(after, 'yaml', plainOf(YAML_TEXT), { age: [bob] });
      await assertDecryptsTo(after, 'yaml', plainOf(YAML_TEXT), { age: [carol] });
      await assertRefused(after, 'yaml', { age: [alice] });

      // To key groups with a threshold: 2 of (age bob, PGP, KMS).
      writeFileSync(
        join(dir, '.sealant.yaml'),
        [
          'environments:',
          '  dev:',
          '    files: ["dev/**"]',
          '    key_groups:',
          `      - age: [${bob.recipient}]`,
          `      - pgp: [${FPR}]`,
          `      - kms: [{arn: ${KMS_ARN}}]`,
          '    shamir_threshold: 2',
          '',
        ].join('\n'),
      );
      const again = await resolveTargets(ctx, { files: [file] });
      assert.equal((await updateKeysFile(again.targets[0]!, ctx, { sources: await sources(bob) })).changed, true);
      const grouped = readFileSync(file);
      await assertDecryptsTo(grouped, 'yaml', plainOf(YAML_TEXT), { age: [bob], kms: true });
      await assertDecryptsTo(grouped, 'yaml', plainOf(YAML_TEXT), { pgp: true, kms: true });
      await assertRefused(grouped, 'yaml', { age: [bob] });
    });

    test('rotate: a new data key for the environment, and for a Shamir file no environment owns', async () => {
      const dir = newDir('rotate');
      mkdirSync(join(dir, 'dev'));
      const owned = await encrypted('app.json', JSON_TEXT, {
        dir: join(dir, 'dev'),
        rule: { field: 'encrypted_regex', value: '^db$' },
      });
      // The environment encrypts more than the file does: rotating with --adopt-rule adopts its rule.
      writeFileSync(
        join(dir, '.sealant.yaml'),
        [
          'environments:',
          '  dev:',
          '    files: ["dev/**"]',
          `    age: [${alice.recipient}, ${bob.recipient}]`,
          "    encrypted_regex: '^(db|unicode)$'",
          '',
        ].join('\n'),
      );
      const ctx = ctxIn(dir);
      const { targets } = await resolveTargets(ctx, { files: [owned.file] });
      await rotateFile(targets[0]!, ctx, { sources: await sources(alice), adoptRule: true });
      const rotated = readFileSync(owned.file);
      assert.ok(!rotated.includes('héllo ✓ 🔐'), "the environment's rule was adopted");
      await assertDecryptsTo(rotated, 'json', JSON.parse(JSON_TEXT) as unknown, { age: [bob] });

      const shamir = await encrypted('shamir.env', DOTENV_TEXT, {
        groups: [ageGroup(alice), ageGroup(bob), ageGroup(carol)],
        shamirThreshold: 2,
      });
      await rotateFile({ file: shamir.file, environment: undefined }, testContext(), {
        sources: await sources(alice, carol),
      });
      const after = readFileSync(shamir.file);
      assert.notDeepEqual(after, shamir.bytes);
      await assertDecryptsTo(after, 'dotenv', DOTENV, { age: [bob, carol] });
      await assertRefused(after, 'dotenv', { age: [bob] });
    });
  });

  describe('real sops decrypts what apply and the merge driver write', { concurrency: 3 }, () => {
    test('apply of a rewrap plan (a recipient added to the environment)', async () => {
      const repo = await planRepo([alice], [], 1);
      writeFileSync(join(repo, '.sealant.yaml'), planConfig([alice, bob]));
      commitAll(repo, 'add bob', 0);
      const plan = await planRotation(ctxIn(repo, 'real'));
      assert.deepEqual(
        plan.files.map((f) => f.actions),
        [['rewrap']],
      );
      const expected = await applyWithValues(repo, plan, alice);
      await assertDecryptsTo(readFileSync(join(repo, 'dev/app.yaml')), 'yaml', expected, { age: [bob] });
    });

    test('apply of a plan whose values are due (rotate_every)', async () => {
      const repo = await planRepo([alice], ['    rotate_every: 90d'], 200);
      const plan = await planRotation(ctxIn(repo, 'real'));
      assert.deepEqual(
        plan.files.map((f) => f.actions),
        [['rotate-values']],
      );
      assert.ok(plan.files[0]!.values.length > 0);
      const expected = await applyWithValues(repo, plan, alice);
      assert.notDeepEqual(expected, plainOf(PLAN_YAML));
      await assertDecryptsTo(readFileSync(join(repo, 'dev/app.yaml')), 'yaml', expected);
    });

    test('apply of an offboarding plan: new data key and values; the offboarded key no longer opens it', async () => {
      const repo = await planRepo([alice, bob], [], 30);
      writeFileSync(join(repo, '.sealant.yaml'), planConfig([alice]));
      commitAll(repo, 'remove bob', 1);
      const plan = await planRotation(ctxIn(repo, 'real'), { offboard: [bob.recipient] });
      assert.deepEqual(
        plan.files.map((f) => f.actions),
        [['rewrap', 'rotate-data-key', 'rotate-values']],
      );
      const expected = await applyWithValues(repo, plan, alice);
      const after = readFileSync(join(repo, 'dev/app.yaml'));
      await assertDecryptsTo(after, 'yaml', expected);
      await assertRefused(after, 'yaml', { age: [bob] });
    });

    test('the git merge driver: a real two-branch merge', async () => {
      const repo = newDir('merge');
      git(repo, ['init', '-q', '-b', 'main']);
      writeFileSync(
        join(repo, '.sealant.yaml'),
        ['environments:', '  dev:', '    files: ["dev/**"]', `    age: [${alice.recipient}]`, ''].join('\n'),
      );
      mkdirSync(join(repo, 'dev'));
      const file = join(repo, 'dev', 'app.yaml');
      await encrypted('app.yaml', YAML_TEXT, { dir: join(repo, 'dev') });
      const cli = (args: string[]) => runCli(args, { cwd: repo, env: { SOPS_AGE_KEY_FILE: alice.file } });
      const installed = await cli(['git', 'install', '--no-hook']);
      assert.equal(installed.code, 0, installed.stderr);
      commitAll(repo, 'base', 2);
      const opts = { sources: await sources(alice) };
      git(repo, ['checkout', '-q', '-b', 'feature']);
      await setValue(file, 'db.password', parseJsonValue('"theirs"'), testContext(), opts);
      commitAll(repo, 'theirs', 1);
      git(repo, ['checkout', '-q', 'main']);
      await setValue(file, 'unicode', parseJsonValue('"ours ✓"'), testContext(), opts);
      await unsetValue(file, 'folded', testContext(), opts);
      commitAll(repo, 'ours', 1);
      const merged = spawnSync('git', ['-C', repo, 'merge', '--no-edit', 'feature'], {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          HOME: '/nonexistent-sealant-test-home',
          SOPS_AGE_KEY_FILE: alice.file,
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@t',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@t',
          GIT_CONFIG_NOSYSTEM: '1',
        },
      });
      assert.equal(merged.status, 0, merged.stdout + merged.stderr);
      const expected = clone(plainOf(YAML_TEXT));
      expected.db.password = 'theirs';
      expected.unicode = 'ours ✓';
      delete expected.folded;
      await assertDecryptsTo(readFileSync(file), 'yaml', expected);
    });
  });

  describe('real sops refuses a tampered sealant file', { concurrency: 4 }, () => {
    for (const [name, format, text, value, mac] of [
      ['t.yaml', 'yaml', YAML_TEXT, 'host: ENC[AES256_GCM,data:', 'mac: ENC[AES256_GCM,data:'],
      ['t.json', 'json', JSON_TEXT, '"host": "ENC[AES256_GCM,data:', '"mac": "ENC[AES256_GCM,data:'],
      ['t.env', 'dotenv', DOTENV_TEXT, 'DB_PASSWORD=ENC[AES256_GCM,data:', 'sops_mac=ENC[AES256_GCM,data:'],
      ['t.bin', 'binary', RANDOM_4K, '"data": "ENC[AES256_GCM,data:', '"mac": "ENC[AES256_GCM,data:'],
    ] as const) {
      test(`${format}: a flipped value byte and a flipped MAC byte`, async () => {
        const { bytes } = await encrypted(name, text);
        assert.match(
          await assertRefused(flipAfter(bytes, value), format),
          /Could not decrypt value: .*message authentication failed/,
        );
        assert.match(
          await assertRefused(flipAfter(bytes, mac), format),
          /Failed to decrypt original mac: .*message authentication failed/,
        );
      });
    }

    test('a changed value left in clear: the MAC covers it (no mac_only_encrypted)', async () => {
      const { bytes } = await encrypted('clear.yaml', YAML_TEXT);
      const changed = Buffer.from(
        bytes.toString('utf8').replace('public_unencrypted: visible\n', 'public_unencrypted: changed\n'),
        'utf8',
      );
      assert.notDeepEqual(changed, bytes);
      assert.match(await assertRefused(changed, 'yaml'), /Failed to verify data integrity/);
    });
  });
});
