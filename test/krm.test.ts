/**
 * The Kubernetes integrations: the ResourceList handling (pure), then the machine's real
 * `kubectl kustomize --enable-alpha-plugins` through the installed legacy exec plugin and the
 * real `kpt fn eval --exec` / `kpt fn render --allow-exec` through `sealant krm`, on a test
 * repository with its own age key and on the shipped examples with the public demo key.
 * The integration tests need `npm run build`, `age-keygen`, `kubectl` and `kpt`; without the
 * last two they are skipped.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { parse, parseAllDocuments } from 'yaml';

import { commands } from '../src/commands/index.js';
import Krm from '../src/commands/krm.js';
import KustomizeGenerate from '../src/commands/kustomize/generate.js';
import KustomizeInstallPlugin from '../src/commands/kustomize/install-plugin.js';
import { NoKeyError, SealantError } from '../src/errors.js';
import { defaultPluginHome, kustomizePluginPath, kustomizePluginScript } from '../src/krm/kustomize-plugin.js';
import {
  buildResourceList,
  failureMessage,
  findGenerators,
  KrmInputError,
  parseGenerator,
  parseResourceList,
  type GeneratorOutcome,
  type KrmObject,
} from '../src/krm/resource-list.js';
import { BIN, ROOT, runCli } from './helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'sealant-krm-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

const GEN = { apiVersion: 'sealant.dev/v1', kind: 'SecretGenerator' };

function resourceList(items: string, functionConfig = ''): string {
  return `apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n${items}${functionConfig}`;
}

/** What kpt sends: bookkeeping annotations, a comment after a dash. */
const KPT_INPUT = resourceList(
  [
    '- # the app',
    '  apiVersion: v1',
    '  kind: ConfigMap',
    '  metadata:',
    '    name: app',
    '    annotations:',
    "      config.kubernetes.io/path: 'cm.yaml'",
    "      config.k8s.io/id: '1'",
    '  data: {a: "yes"}',
    '- apiVersion: sealant.dev/v1',
    '  kind: SecretGenerator',
    '  metadata:',
    '    name: shop',
    '    annotations:',
    "      config.kubernetes.io/index: '0'",
    "      config.kubernetes.io/path: 'gen.yaml'",
    "      config.k8s.io/id: '2'",
    '  environment: dev',
    '',
  ].join('\n'),
  'functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: function-input\n  data: {}\n',
);

function secret(name: string, data: Record<string, string>, annotations: Record<string, string> = {}): KrmObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, annotations }, type: 'Opaque', data };
}

function ok(name: string, resources: KrmObject[]): GeneratorOutcome {
  return {
    ok: true,
    ref: { apiVersion: 'sealant.dev/v1', kind: 'SecretGenerator', name },
    origin: { path: 'gen.yaml', index: 0 },
    resources,
  };
}

describe('ResourceList handling', () => {
  test('parses YAML and JSON lists; refuses anything else with a message that quotes nothing', () => {
    assert.equal(parseResourceList(KPT_INPUT).items.length, 2);
    const json = parseResourceList(
      JSON.stringify({
        apiVersion: 'config.kubernetes.io/v1',
        kind: 'ResourceList',
        items: [{ ...GEN, metadata: { name: 'x' }, environment: 'dev' }],
      }),
    );
    assert.equal(findGenerators(json).length, 1);
    for (const bad of [
      'a: [1, 2\nb: sekrit-value',
      'kind: List\nitems: []',
      'apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: sekrit-value',
    ]) {
      assert.throws(
        () => parseResourceList(bad),
        (e: unknown) => e instanceof KrmInputError && !e.message.includes('sekrit') && !e.message.includes('\n'),
      );
    }
  });

  test('the functionConfig and an item of the same generator run once; a ConfigMap functionConfig is ignored', () => {
    const item = `- apiVersion: sealant.dev/v1\n  kind: SecretGenerator\n  metadata:\n    name: g\n  environment: dev\n`;
    const fc =
      'functionConfig:\n  apiVersion: sealant.dev/v1\n  kind: SecretGenerator\n  metadata:\n    name: g\n  environment: dev\n';
    assert.equal(findGenerators(parseResourceList(resourceList(item, fc))).length, 1);
    // kustomize's KRM generators: the config as functionConfig only (items empty).
    const only = findGenerators(
      parseResourceList(`apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n${fc}`),
    );
    assert.equal(only.length, 1);
    assert.ok(only[0]!.ok && only[0]!.generator.environment === 'dev');
    assert.equal(findGenerators(parseResourceList(KPT_INPUT)).length, 1);
  });

  test('generator fields are validated; messages name the field, never its value', () => {
    const g = parseGenerator({
      ...GEN,
      metadata: { name: 'g' },
      environment: 'dev',
      files: ['a.yaml'],
      namespace: 'ns',
      encoding: 'stringData',
      secrets: [{ name: 's', keys: ['db.*'], strip_prefix: 'db', labels: { a: 'b' } }],
    });
    assert.deepEqual(g.secrets, [{ name: 's', keys: ['db.*'], stripPrefix: 'db', labels: { a: 'b' } }]);
    const cases: [KrmObject, RegExp][] = [
      [{ ...GEN, metadata: { name: 'g' } }, /environment: is required/],
      [{ ...GEN, metadata: { name: 'g' }, environment: 'dev', env: 'sekrit-value' }, /env: unknown field/],
      [
        { ...GEN, metadata: { name: 'g' }, environment: 'dev', secrets: [{ name: 'sekrit-value_X' }] },
        /secrets\[0\]\.name: is not a valid/,
      ],
      [
        { ...GEN, metadata: { name: 'g' }, environment: 'dev', secrets: [{ name: 's', stripPrefix: 'sekrit-value' }] },
        /secrets\[0\]\.stripPrefix: unknown field/,
      ],
      [
        { ...GEN, metadata: { name: 'g' }, environment: 'dev', encoding: 'sekrit-value' },
        /encoding: must be "data" or "stringData"/,
      ],
      [{ ...GEN, environment: 'dev' }, /metadata\.name: is required/],
    ];
    for (const [obj, re] of cases) {
      assert.throws(
        () => parseGenerator(obj),
        (e: unknown) => e instanceof SealantError && re.test(e.toOneLine()) && !e.message.includes('sekrit'),
      );
    }
  });

  test('output: generators removed, Secrets appended, untouched items byte for byte', () => {
    const list = parseResourceList(KPT_INPUT);
    const out = buildResourceList(list, [
      ok('shop', [secret('shop', { k: 'dg==' }, { 'config.k8s.io/id': '2', keep: 'yes' })]),
    ]);
    assert.equal(out.errors, 0);
    // The first item, comment after the dash included, is unchanged; so is functionConfig.
    assert.ok(out.text.startsWith(KPT_INPUT.slice(0, KPT_INPUT.indexOf('- apiVersion: sealant.dev/v1'))));
    assert.ok(
      out.text.endsWith(
        'functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: function-input\n  data: {}\n',
      ),
    );
    const parsed = parse(out.text) as { items: KrmObject[]; results?: unknown };
    assert.deepEqual(
      parsed.items.map((i) => i.kind),
      ['ConfigMap', 'Secret'],
    );
    // kpt's bookkeeping: the generator's id is not copied; the Secret gets a file of its own.
    assert.deepEqual((parsed.items[1]!.metadata as { annotations: unknown }).annotations, {
      keep: 'yes',
      'config.kubernetes.io/path': 'secret_shop.yaml',
      'config.kubernetes.io/index': '0',
      'internal.config.kubernetes.io/path': 'secret_shop.yaml',
      'internal.config.kubernetes.io/index': '0',
    });
    assert.equal(parsed.results, undefined);
    // "yes" stays a string for YAML 1.1 readers (kubectl).
    assert.match(out.text, /keep: "yes"/);
  });

  test('failures become error results with one line and no value; the other generators still output', () => {
    const list = parseResourceList(KPT_INPUT);
    const failed: GeneratorOutcome = {
      ok: false,
      ref: { apiVersion: 'sealant.dev/v1', kind: 'SecretGenerator', name: 'bad' },
      origin: { path: 'bad.yaml', index: 1 },
      error: new NoKeyError('no key could decrypt the data key', { file: 'dev/app.yaml' }),
    };
    const internal: GeneratorOutcome = {
      ...failed,
      ref: { ...failed.ref, name: 'bug' },
      error: new TypeError('cannot read "sekrit-value"\n    at foo (x.js:1:1)'),
    };
    const out = buildResourceList(list, [ok('shop', [secret('shop', { k: 'dg==' })]), failed, internal]);
    assert.equal(out.errors, 2);
    const parsed = parse(out.text) as {
      items: KrmObject[];
      results: { message: string; severity: string; resourceRef: { name: string }; file: unknown }[];
    };
    assert.equal(parsed.items.length, 2);
    assert.deepEqual(parsed.results[0], {
      message: 'dev/app.yaml: no key could decrypt the data key',
      severity: 'error',
      resourceRef: { apiVersion: 'sealant.dev/v1', kind: 'SecretGenerator', name: 'bad' },
      file: { path: 'bad.yaml', index: 1 },
    });
    assert.match(parsed.results[1]!.message, /^internal error \(TypeError\)/);
    for (const r of parsed.results)
      assert.ok(!r.message.includes('sekrit') && !r.message.includes('\n') && !r.message.includes(' at '));
    assert.equal(failureMessage(new Error('sekrit-value')).includes('sekrit'), false);
  });

  test('a generated Secret that an input item or another generator already has is an error', () => {
    const list = parseResourceList(
      resourceList(
        '- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: taken\n- apiVersion: sealant.dev/v1\n  kind: SecretGenerator\n  metadata:\n    name: g\n  environment: dev\n',
      ),
    );
    const out = buildResourceList(list, [
      ok('g', [secret('taken', {})]),
      ok('h', [secret('mine', {})]),
      ok('i', [secret('mine', {})]),
    ]);
    assert.equal(out.errors, 2);
    assert.deepEqual(
      out.results.map((r) => r.message),
      ['generates Secret taken, which the input already has', 'generates Secret mine, which generator "h" already has'],
    );
  });

  test('inputs the splice does not handle (JSON, flow items, results present) go through the Document', () => {
    const json = JSON.stringify({
      apiVersion: 'config.kubernetes.io/v1',
      kind: 'ResourceList',
      items: [{ ...GEN, metadata: { name: 'g' }, environment: 'dev' }],
      results: [{ message: 'earlier', severity: 'info' }],
    });
    const out = buildResourceList(
      parseResourceList(json),
      [ok('g', [secret('s', { a: 'YQ==' })])],
      [{ message: 'note', severity: 'warning' }],
    );
    const parsed = parse(out.text) as { items: KrmObject[]; results: { message: string }[] };
    assert.deepEqual(
      parsed.items.map((i) => i.kind),
      ['Secret'],
    );
    assert.deepEqual(
      parsed.results.map((r) => r.message),
      ['earlier', 'note'],
    );
  });

  test('the kustomize plugin: path, script and default plugin home', () => {
    assert.equal(kustomizePluginPath('/p'), '/p/sealant.dev/v1/secretgenerator/SecretGenerator');
    const script = kustomizePluginScript("/opt/it's/bin/run.js");
    assert.ok(script.startsWith('#!/bin/sh\n'));
    assert.match(script, /^exec node '\/opt\/it'\\''s\/bin\/run\.js' kustomize generate "\$@"$/m);
    assert.equal(defaultPluginHome({ KUSTOMIZE_PLUGIN_HOME: '/k' }, '/h'), '/k');
    assert.equal(defaultPluginHome({ XDG_CONFIG_HOME: '/x' }, '/h'), '/x/kustomize/plugin');
    assert.equal(defaultPluginHome({}, '/h'), '/h/.config/kustomize/plugin');
  });
});

describe('API snapshots', () => {
  test('commands, flags and arguments', () => {
    assert.equal(commands.krm, Krm);
    assert.equal(commands['kustomize:generate'], KustomizeGenerate);
    assert.equal(commands['kustomize:install-plugin'], KustomizeInstallPlugin);
    // stdout is the ResourceList / the Secrets: no --json there.
    assert.equal(Krm.enableJsonFlag, false);
    assert.equal(KustomizeGenerate.enableJsonFlag, false);
    assert.equal(KustomizeGenerate.hidden, true);
    assert.equal(KustomizeInstallPlugin.enableJsonFlag, true);
    assert.deepEqual(Object.keys(Krm.flags ?? {}), []);
    assert.deepEqual(Object.keys(KustomizeGenerate.args), ['config']);
    assert.deepEqual(Object.keys(KustomizeInstallPlugin.flags), ['dir']);
  });
});

// --- integration ---------------------------------------------------------------------------------

function has(cmd: string, ...args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

const tools = has('kubectl', 'version', '--client') && has('kpt', 'version');
const skip = tools ? false : 'kubectl and kpt are needed';

/** A HOME that exists but holds no age key, so the developer's own keys never take part. */
const home = mkdtempSync(join(root, 'home-'));
const SCRUB = /^(SOPS_|SEALANT_|KUSTOMIZE_|DEBUG$|XDG_CONFIG_HOME$|NODE_OPTIONS$)/;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], opts: { cwd: string; env?: Record<string, string>; input?: string }): Run {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !SCRUB.test(k)) env[k] = v;
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd,
    env: { ...env, HOME: home, ...opts.env },
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The Secrets of a multi-document YAML stream, by name, with `data` decoded. */
function secrets(yamlText: string): Map<string, { namespace?: string; values: Record<string, string> }> {
  const out = new Map<string, { namespace?: string; values: Record<string, string> }>();
  for (const doc of parseAllDocuments(yamlText)) {
    const obj = doc.toJS() as KrmObject | null;
    if (obj?.kind !== 'Secret') continue;
    const meta = obj.metadata as { name: string; namespace?: string };
    const values = Object.fromEntries(
      Object.entries((obj.data ?? {}) as Record<string, string>).map(([k, v]) => [
        k,
        Buffer.from(v, 'base64').toString('utf8'),
      ]),
    );
    out.set(meta.name, { ...(meta.namespace === undefined ? {} : { namespace: meta.namespace }), values });
  }
  return out;
}

function assertOneLineFailure(r: Run, pattern: RegExp, ...secretValues: string[]): void {
  assert.notEqual(r.code, 0, r.stdout);
  const ours = r.stderr.split('\n').filter((l) => l.includes('sealant:'));
  assert.equal(ours.length, 1, r.stderr);
  assert.match(ours[0]!, pattern);
  assert.doesNotMatch(r.stderr, /^\s+at |Error: |node:internal/m);
  for (const v of secretValues) assert.ok(!r.stderr.includes(v) && !r.stdout.includes(v), `value leaked: ${r.stderr}`);
}

/** A repository with its own age key: environment dev (two files) and prod, a kustomization in deploy/. */
async function testRepo(): Promise<{ repo: string; key: string }> {
  const repo = mkdtempSync(join(root, 'repo-'));
  const key = join(root, `key-${repo.slice(-6)}.txt`);
  execFileSync('age-keygen', ['-o', key], { stdio: 'ignore' });
  const recipient = /public key: (age1[0-9a-z]+)/.exec(readFileSync(key, 'utf8'))![1]!;
  writeFileSync(
    join(repo, '.sealant.yaml'),
    [
      'environments:',
      '  dev:',
      '    files: ["secrets/dev/*.yaml"]',
      `    age: [${recipient}]`,
      '  prod:',
      '    files: ["secrets/prod/*.yaml"]',
      `    age: [${recipient}]`,
      '',
    ].join('\n'),
  );
  mkdirSync(join(repo, 'secrets/dev'), { recursive: true });
  mkdirSync(join(repo, 'secrets/prod'), { recursive: true });
  writeFileSync(join(repo, 'secrets/dev/a.yaml'), 'db:\n  password: "dev-pw: s3cr3t"\n  port: 5432\n');
  writeFileSync(join(repo, 'secrets/dev/b.yaml'), 'api:\n  token: dev-token-xyz\n  enabled: "yes"\n');
  writeFileSync(join(repo, 'secrets/prod/a.yaml'), 'db:\n  password: prod-pw-zzz\n');
  for (const f of ['secrets/dev/a.yaml', 'secrets/dev/b.yaml', 'secrets/prod/a.yaml']) {
    const r = await runCli(['encrypt', '--in-place', f], { cwd: repo });
    assert.equal(r.code, 0, r.stderr);
  }
  mkdirSync(join(repo, 'deploy'));
  writeFileSync(join(repo, 'deploy/kustomization.yaml'), 'generators:\n  - generator.yaml\n');
  writeFileSync(
    join(repo, 'deploy/generator.yaml'),
    [
      'apiVersion: sealant.dev/v1',
      'kind: SecretGenerator',
      'metadata:',
      '  name: app-secrets',
      'environment: dev',
      'namespace: apps',
      'secrets:',
      '  - name: db',
      '    keys: ["db.*"]',
      '    strip_prefix: db',
      '  - name: api',
      '    keys: ["api.**"]',
      '',
    ].join('\n'),
  );
  return { repo, key };
}

describe('kubectl kustomize through the installed plugin', { skip }, () => {
  const plugins = join(root, 'plugins');

  test('install-plugin writes an executable script that runs this installation', async () => {
    const r = await runCli(['kustomize', 'install-plugin', '--dir', plugins, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const result = (JSON.parse(r.stdout) as { result: { plugin: string; entryPoint: string; pluginHome: string } })
      .result;
    assert.deepEqual(Object.keys(result).sort(), ['entryPoint', 'plugin', 'pluginHome']);
    assert.equal(result.plugin, join(plugins, 'sealant.dev/v1/secretgenerator/SecretGenerator'));
    assert.equal(result.entryPoint, BIN);
    assert.equal(statSync(result.plugin).mode & 0o777, 0o755);
    assert.ok(readFileSync(result.plugin, 'utf8').includes(`'${BIN}' kustomize generate "$@"`));
  });

  test('builds the Secrets of a test repository with its own key (run from the repository root)', async () => {
    const { repo, key } = await testRepo();
    const audit = join(root, 'audit.log');
    const r = run('kubectl', ['kustomize', '--enable-alpha-plugins', 'deploy'], {
      cwd: repo,
      env: { SOPS_AGE_KEY_FILE: key, KUSTOMIZE_PLUGIN_HOME: plugins, SEALANT_AUDIT_LOG: audit },
    });
    assert.equal(r.code, 0, r.stderr);
    const s = secrets(r.stdout);
    assert.deepEqual(s.get('db'), { namespace: 'apps', values: { password: 'dev-pw: s3cr3t', port: '5432' } });
    assert.deepEqual(s.get('api'), {
      namespace: 'apps',
      values: { 'api.token': 'dev-token-xyz', 'api.enabled': 'yes' },
    });
    // One audit line, names only.
    const lines = readFileSync(audit, 'utf8').trim().split('\n');
    assert.equal(lines.length, 1);
    const event = JSON.parse(lines[0]!) as {
      event: string;
      environment: string;
      files: { path: string }[];
      keys: string[];
    };
    assert.equal(event.event, 'krm');
    assert.equal(event.environment, 'dev');
    assert.deepEqual(
      event.files.map((f) => f.path),
      ['../secrets/dev/a.yaml', '../secrets/dev/b.yaml'], // relative to the plugin's working directory, deploy/
    );
    assert.ok(event.keys.includes('db/password'));
    assert.ok(!lines[0]!.includes('s3cr3t') && !lines[0]!.includes('dev-token-xyz'));
  });

  test('files narrows the environment; a relative SOPS_AGE_KEY_FILE is found from the config directory', async () => {
    const { repo, key } = await testRepo();
    writeFileSync(join(repo, 'dev.agekey'), readFileSync(key));
    writeFileSync(
      join(repo, 'deploy/generator.yaml'),
      'apiVersion: sealant.dev/v1\nkind: SecretGenerator\nmetadata:\n  name: only-b\nenvironment: dev\nfiles: [secrets/dev/b.yaml]\nencoding: stringData\n',
    );
    const r = run('kubectl', ['kustomize', '--enable-alpha-plugins', 'deploy'], {
      cwd: repo,
      env: { SOPS_AGE_KEY_FILE: 'dev.agekey', KUSTOMIZE_PLUGIN_HOME: plugins },
    });
    assert.equal(r.code, 0, r.stderr);
    const doc = parse(r.stdout) as { metadata: { name: string }; stringData: Record<string, string> };
    assert.equal(doc.metadata.name, 'only-b');
    assert.deepEqual(doc.stringData, { 'api.token': 'dev-token-xyz', 'api.enabled': 'yes' });
  });

  test('the shipped example builds from the repository root with the demo key', () => {
    const r = run('kubectl', ['kustomize', '--enable-alpha-plugins', 'examples/kustomize'], {
      cwd: ROOT,
      env: { SOPS_AGE_KEY_FILE: 'environments/demo.agekey', KUSTOMIZE_PLUGIN_HOME: plugins },
    });
    assert.equal(r.code, 0, r.stderr);
    const s = secrets(r.stdout).get('shop-secrets');
    assert.equal(s?.namespace, 'shop-dev');
    assert.equal(s?.values['db.password'], 'demo-dev-db-password-23757');
    assert.equal(s?.values['stripe.api_key'], 'demo-dev-stripe-key-not-real');
    assert.match(r.stdout, /kind: Deployment/);
  });

  test('a broken generator fails with one line and no stack: unknown environment, no key, bad field', async () => {
    const { repo, key } = await testRepo();
    const gen = join(repo, 'deploy/generator.yaml');
    const env = { SOPS_AGE_KEY_FILE: key, KUSTOMIZE_PLUGIN_HOME: plugins };
    writeFileSync(
      gen,
      'apiVersion: sealant.dev/v1\nkind: SecretGenerator\nmetadata:\n  name: g\nenvironment: staging\n',
    );
    assertOneLineFailure(
      run('kubectl', ['kustomize', '--enable-alpha-plugins', 'deploy'], { cwd: repo, env }),
      /SecretGenerator "g": .*no environment "staging" \(known: dev, prod\)/,
    );
    writeFileSync(gen, 'apiVersion: sealant.dev/v1\nkind: SecretGenerator\nmetadata:\n  name: g\nenvironment: dev\n');
    assertOneLineFailure(
      run('kubectl', ['kustomize', '--enable-alpha-plugins', 'deploy'], {
        cwd: repo,
        env: { KUSTOMIZE_PLUGIN_HOME: plugins },
      }),
      /no key could decrypt/,
    );
    writeFileSync(
      gen,
      'apiVersion: sealant.dev/v1\nkind: SecretGenerator\nmetadata:\n  name: g\nenvironment: dev\nsecrets:\n  - name: db\n    keys: ["nothing.*"]\n',
    );
    assertOneLineFailure(
      run('kubectl', ['kustomize', '--enable-alpha-plugins', 'deploy'], { cwd: repo, env }),
      /keys pattern "nothing\.\*" of Secret db selects no value/,
      's3cr3t',
      'dev-token-xyz',
    );
    writeFileSync(
      gen,
      'apiVersion: sealant.dev/v1\nkind: SecretGenerator\nmetadata:\n  name: g\nenvironment: dev\nfiles: [secrets/prod/a.yaml]\n',
    );
    assertOneLineFailure(
      run('kubectl', ['kustomize', '--enable-alpha-plugins', 'deploy'], { cwd: repo, env }),
      /files\[0\]: "secrets\/prod\/a\.yaml" is not a file of environment "dev"/,
      'prod-pw-zzz',
    );
  });
});

describe('kpt through `sealant krm`', { skip }, () => {
  const fn = `node ${BIN} krm`;

  test('kpt fn eval --exec renders the generators of a package', async () => {
    const { repo, key } = await testRepo();
    const r = run('kpt', ['fn', 'eval', '--exec', fn, 'deploy', '-o', 'unwrap'], {
      cwd: repo,
      env: { SOPS_AGE_KEY_FILE: key },
    });
    assert.equal(r.code, 0, r.stderr);
    const s = secrets(r.stdout);
    assert.deepEqual(s.get('db')?.values, { password: 'dev-pw: s3cr3t', port: '5432' });
    assert.doesNotMatch(r.stdout, /SecretGenerator/);
    // The audit event went to stderr, which kpt shows.
    assert.match(r.stderr, /\\"event\\":\\"krm\\"/);
  });

  test('kpt fn eval: failures are error results, one line each, no stack, no value', async () => {
    const { repo, key } = await testRepo();
    writeFileSync(
      join(repo, 'deploy/more.yaml'),
      'apiVersion: sealant.dev/v1\nkind: SecretGenerator\nmetadata:\n  name: broken\nenvironment: qa\n---\napiVersion: sealant.dev/v1\nkind: SecretGenerator\nmetadata:\n  name: typo\nenvironment: dev\nnamespce: x\n',
    );
    const r = run('kpt', ['fn', 'eval', '--exec', fn, 'deploy', '-o', 'unwrap'], {
      cwd: repo,
      env: { SOPS_AGE_KEY_FILE: key },
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /\[error\] sealant\.dev\/v1\/SecretGenerator\/broken: .*no environment "qa"/);
    assert.match(r.stderr, /\[error\] sealant\.dev\/v1\/SecretGenerator\/typo: more\.yaml: namespce: unknown field/);
    assert.doesNotMatch(r.stderr, /^\s+at |s3cr3t|dev-token-xyz/m);
  });

  test('the same list through `kustomize generate` with no argument (the KRM exec form of the plugin)', async () => {
    const { repo, key } = await testRepo();
    // What standalone kustomize sends a KRM generator: the config as functionConfig and as the one item.
    const config = readFileSync(join(repo, 'deploy/generator.yaml'), 'utf8').replace(
      '  name: app-secrets\n',
      '  name: app-secrets\n  annotations:\n    config.kubernetes.io/local-config: "true"\n',
    );
    const input = JSON.stringify({
      apiVersion: 'config.kubernetes.io/v1',
      kind: 'ResourceList',
      items: [parse(config)],
      functionConfig: parse(config),
    });
    const r = await runCli(['kustomize', 'generate'], {
      cwd: join(repo, 'deploy'),
      input,
      env: { SOPS_AGE_KEY_FILE: key },
    });
    assert.equal(r.code, 0, r.stderr);
    const out = parse(r.stdout) as { items: KrmObject[] };
    assert.deepEqual(
      out.items.map((i) => (i.metadata as { name: string }).name),
      ['db', 'api'],
    );
  });

  test('kpt fn render started outside the repository finds .sealant.yaml from the package', async () => {
    const { repo, key } = await testRepo();
    writeFileSync(
      join(repo, 'deploy/Kptfile'),
      `apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: deploy\npipeline:\n  mutators:\n    - exec: "${fn}"\n`,
    );
    const outside = mkdtempSync(join(root, 'elsewhere-'));
    const r = run('kpt', ['fn', 'render', '--allow-exec', join(repo, 'deploy'), '-o', 'unwrap'], {
      cwd: outside,
      env: { SOPS_AGE_KEY_FILE: key },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(secrets(r.stdout).get('api')?.values, { 'api.token': 'dev-token-xyz', 'api.enabled': 'yes' });
  });

  test('the shipped kpt package renders with kpt fn render --allow-exec from the repository root', () => {
    // Not through npx: a first `npx sealant` in a clone runs the `prepare` script, rebuilding
    // dist/ under every other test that is running the CLI at that moment.
    assert.doesNotMatch(readFileSync(join(ROOT, 'examples/kpt/Kptfile'), 'utf8'), /exec:\s*"?npx/);
    const r = run('kpt', ['fn', 'render', '--allow-exec', 'examples/kpt', '-o', 'unwrap'], {
      cwd: ROOT,
      env: { SOPS_AGE_KEY_FILE: 'environments/demo.agekey' },
    });
    assert.equal(r.code, 0, r.stderr);
    const s = secrets(r.stdout).get('shop-secrets');
    assert.equal(s?.values['db.password'], 'demo-dev-db-password-23757');
    // The package on disk is untouched (-o unwrap).
    assert.match(readFileSync(join(ROOT, 'examples/kpt/secret-generator.yaml'), 'utf8'), /kind: SecretGenerator/);
  });

  test('stdin that is not a ResourceList: one line, exit 2, nothing on stdout', async () => {
    const r = await runCli(['krm'], { input: 'password: sekrit-value\n' });
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(!r.stderr.includes('sekrit'));
  });
});
