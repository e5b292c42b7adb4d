/**
 * The configuration layer: `.sealant.yaml` validation with file:line errors, files → environment
 * (exactly one), `.sops.yaml` read with SOPS's semantics, `config import`, and recipient edits
 * that leave every other byte of the file alone. CLI tests need `npm run build` first.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';

import { generateIdentity, identityToRecipient } from 'age-encryption';
import { minimatch } from 'minimatch';

import { commands } from '../src/commands/index.js';
import { addRecipientText, removeRecipientText } from '../src/config/edit.js';
import { addRecipient } from '../src/ops/config-edit.js';
import { globsForRegex, importSopsConfig } from '../src/config/import.js';
import {
  ConfigNotFoundError,
  environmentByName,
  environmentFor,
  findConfig,
  loadProjectConfig,
  parseSealantConfig,
  parseSopsConfig,
  type ProjectConfig,
} from '../src/config/index.js';
import { filesOf } from '../src/ops/config-files.js';
import { parseRecipient } from '../src/config/recipients.js';
import { compilePathRegex } from '../src/config/regex.js';
import { ConfigError, SealantError, UsageError } from '../src/errors.js';
import { parseJson, runCli } from './helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'sealant-config-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

const [A, B, C] = await Promise.all([0, 1, 2].map(async () => identityToRecipient(await generateIdentity())));
const a = A as string;
const b = B as string;
const c = C as string;
const ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const ARN2 = 'arn:aws:kms:us-east-1:111122223333:alias/shop';
const ROLE = 'arn:aws:iam::111122223333:role/deployer';
const FPR = '85D77543B3D624B63CEA9E6DBC17301B49136DE5';
const CANARY = 'canary-7f3a9e';

let counter = 0;
/** A fresh directory with the given files (paths relative to it). */
function tree(files: Record<string, string>): string {
  const dir = join(root, `t${counter++}`);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

function sealant(text: string): ProjectConfig {
  return parseSealantConfig(text, '/repo/.sealant.yaml', '.sealant.yaml');
}

function sops(text: string): ProjectConfig {
  const cfg = parseSopsConfig(text, '/repo/.sops.yaml', '.sops.yaml');
  assert.ok(cfg !== undefined, 'has creation rules');
  return cfg;
}

/** The ConfigError a parse raises, checked for code, exit code and one line. */
function configError(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    assert.equal(e.exitCode, 5);
    assert.ok(!e.toOneLine().includes('\n'), 'one line');
    return e;
  }
  assert.fail('expected a ConfigError');
}

const FULL = `# .sealant.yaml
environments:
  dev:
    files: ["environments/dev/**"]        # globs relative to this file's directory
    age: [${a}, ${b}]
    encrypted_regex: '^(data|stringData)$'
  staging:
    files:
      - environments/staging/**
      - "!environments/staging/public/**"
    age:
      - ${a}
    kms:
      - arn: ${ARN}
        role: ${ROLE}
        context: {app: shop}
        profile: prod-admin
    pgp: [${FPR.toLowerCase()}]
    mac_only_encrypted: true
    schema: schemas/app.schema.json
  prod:
    files: ["environments/prod/**"]
    key_groups:
      - age: [${a}]
      - kms: [{arn: ${ARN2}}]
      - age: [${c}]
    shamir_threshold: 2
    unencrypted_suffix: _clear
`;

describe('.sealant.yaml', () => {
  test('the documented example parses into environments', () => {
    const cfg = sealant(FULL);
    assert.equal(cfg.kind, 'sealant');
    assert.equal(cfg.root, '/repo');
    assert.deepEqual(
      cfg.environments.map((e) => [e.name, e.line]),
      [
        ['dev', 3],
        ['staging', 7],
        ['prod', 21],
      ],
    );
    const [dev, staging, prod] = cfg.environments;
    assert.deepEqual(dev?.groups, [{ age: [a, b], kms: [], pgp: [] }]);
    assert.deepEqual(dev?.rule, { field: 'encrypted_regex', value: '^(data|stringData)$' });
    assert.deepEqual(staging?.groups, [
      { age: [a], kms: [{ arn: ARN, role: ROLE, context: { app: 'shop' }, awsProfile: 'prod-admin' }], pgp: [FPR] },
    ]);
    assert.equal(staging?.macOnlyEncrypted, true);
    assert.equal(staging?.schema, 'schemas/app.schema.json');
    assert.equal(prod?.groups.length, 3);
    assert.equal(prod?.shamirThreshold, 2);
    assert.deepEqual(prod?.rule, { field: 'unencrypted_suffix', value: '_clear' });
  });

  test('the example in docs/config.md is valid', () => {
    const doc = readFileSync(new URL('../docs/config.md', import.meta.url), 'utf8');
    const example = /```yaml\n(# \.sealant\.yaml[\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(example !== undefined, 'example block');
    const cfg = sealant(example);
    assert.deepEqual(
      cfg.environments.map((e) => e.name),
      ['dev', 'staging', 'prod'],
    );
    assert.equal(environmentFor(cfg, 'environments/staging/public/x.yaml', '/repo'), undefined);
    assert.equal(cfg.environments[2]?.shamirThreshold, 2);
  });

  test('an unknown key is named with its line, column and the keys allowed there', () => {
    const e = configError(() =>
      sealant(`environments:\n  dev:\n    files: [a]\n    age: [${a}]\n    rotate_evry: 30d\n`),
    );
    assert.equal(e.toOneLine(), '.sealant.yaml:5:5: environments.dev.rotate_evry: unknown key "rotate_evry"');
    assert.match(e.hint ?? '', /known keys here: files, path_regex, age, kms/);
    const top = configError(() => sealant(`environment:\n  dev: {}\n`));
    assert.match(
      top.toOneLine(),
      /^\.sealant\.yaml:1:1: (environment: unknown key "environment"|missing required key "environments")/,
    );
  });

  test('a malformed recipient points at its list item', () => {
    const e = configError(() =>
      sealant(`environments:\n  dev:\n    files: [a]\n    age:\n      - ${a}\n      - age1notarecipient\n`),
    );
    assert.equal(e.line, 6);
    assert.equal(e.toOneLine(), '.sealant.yaml:6:9: environments.dev.age[1]: is not an age recipient (age1…)');
    // Right alphabet, wrong checksum: caught by the age parser, the (public) recipient named.
    const bad = `${a.slice(0, -1)}${a.endsWith('q') ? 'p' : 'q'}`;
    const e2 = configError(() => sealant(`environments:\n  dev:\n    files: [a]\n    age: [${bad}]\n`));
    assert.equal(e2.line, 4);
    assert.match(e2.message, /invalid age recipient/);
    const e3 = configError(() =>
      sealant(`environments:\n  dev:\n    files: [a]\n    kms:\n      - arn: arn:aws:kms:eu-west-1:key\n`),
    );
    assert.match(e3.toOneLine(), /^\.sealant\.yaml:5:\d+: environments\.dev\.kms\[0\]\.arn: is not an AWS KMS key ARN/);
    const e4 = configError(() => sealant(`environments:\n  dev:\n    files: [a]\n    pgp: [ABCD]\n`));
    assert.match(e4.toOneLine(), /:4:\d+: environments\.dev\.pgp\[0\]: is not a PGP fingerprint/);
  });

  test('two encryption rule fields: the second one is reported', () => {
    const e = configError(() =>
      sealant(
        `environments:\n  dev:\n    files: [a]\n    age: [${a}]\n    encrypted_regex: ^data$\n    unencrypted_suffix: _u\n`,
      ),
    );
    assert.equal(e.line, 6);
    assert.match(e.message, /^only one of .* may be set \(encrypted_regex is set too\)$/);
  });

  test('missing files, files with path_regex, and misplaced key group settings', () => {
    assert.match(
      configError(() => sealant(`environments:\n  dev:\n    age: [${a}]\n`)).toOneLine(),
      /^\.sealant\.yaml:2:3: environments\.dev: missing "files"/,
    );
    assert.match(
      configError(() => sealant(`environments:\n  dev:\n    files: [a]\n    path_regex: x\n    age: [${a}]\n`)).message,
      /either files or path_regex/,
    );
    assert.match(
      configError(() =>
        sealant(`environments:\n  dev:\n    files: [a]\n    age: [${a}]\n    key_groups: [{age: [${b}]}]\n`),
      ).message,
      /inside each group/,
    );
    assert.match(
      configError(() => sealant(`environments:\n  dev:\n    files: [a]\n    age: [${a}]\n    shamir_threshold: 1\n`))
        .message,
      /shamir_threshold needs key_groups/,
    );
    const t = configError(() =>
      sealant(
        `environments:\n  dev:\n    files: [a]\n    key_groups: [{age: [${a}]}, {age: [${b}]}]\n    shamir_threshold: 3\n`,
      ),
    );
    assert.equal(t.line, 5);
    assert.match(t.message, /only 2 key groups/);
    const one = configError(() =>
      sealant(
        `environments:\n  dev:\n    files: [a]\n    key_groups: [{age: [${a}]}, {age: [${b}]}]\n    shamir_threshold: 1\n`,
      ),
    );
    assert.equal(one.line, 5);
    assert.match(one.toOneLine(), /environments\.dev\.shamir_threshold: is 1 but must be at least 2 with 2 key groups/);
  });

  test('environments need recipients, globs stay inside the root, names are simple', () => {
    assert.match(
      configError(() => sealant(`environments:\n  dev:\n    files: [a]\n    age: []\n`)).message,
      /no recipients/,
    );
    assert.match(
      configError(() =>
        sealant(`environments:\n  dev:\n    files: [a]\n    key_groups: [{age: [${a}]}, {}]\n`),
      ).toOneLine(),
      /key_groups\[1\]: no recipients/,
    );
    assert.match(
      configError(() => sealant(`environments:\n  dev:\n    files: [../x/**]\n    age: [${a}]\n`)).message,
      /relative to the config file/,
    );
    assert.match(
      configError(() => sealant(`environments:\n  dev:\n    files: [/etc/**]\n    age: [${a}]\n`)).message,
      /no leading '\/'/,
    );
    assert.match(
      configError(() => sealant(`environments:\n  dev:\n    files: ["!a/**"]\n    age: [${a}]\n`)).message,
      /only exclusions/,
    );
    assert.match(
      configError(() => sealant(`environments:\n  "my env":\n    files: [a]\n    age: [${a}]\n`)).message,
      /environment names/,
    );
    assert.match(configError(() => sealant('environments: {}\n')).message, /must not be empty/);
    assert.match(configError(() => sealant('')).message, /missing required key "environments"/);
  });

  test('YAML syntax errors and duplicate keys have a line', () => {
    assert.equal(configError(() => sealant(`environments:\n  dev:\n    files: [a\n`)).line !== undefined, true);
    const dup = configError(() => sealant(`environments:\n  dev:\n    files: [a]\n    files: [b]\n    age: [${a}]\n`));
    assert.equal(dup.line, 4);
    assert.match(dup.message, /unique/);
  });

  test('messages never echo values that are not recipients', () => {
    const cases = [
      `environments:\n  dev:\n    files: [a]\n    age: [${a}]\n    mac_only_encrypted: ${CANARY}\n`,
      `environments:\n  dev:\n    files: [a]\n    age: [${a}]\n    encrypted_regex: "(${CANARY}"\n`,
      `environments:\n  dev:\n    files: [a]\n    age: [${a}]\n    ${CANARY}: 1\n`.replace(
        `${CANARY}: 1`,
        `x: ${CANARY}`,
      ),
      `environments:\n  dev:\n    files: [a]\n    age: ${CANARY}\n`,
      `environments:\n  dev:\n    files: [a]\n    kms: [{arn: ${ARN}, context: {k: [${CANARY}]}}]\n`,
      `environments:\n  dev:\n    files: [a]\n    age: [${a}]\n    shamir_threshold: ${CANARY}\n`,
      `environments:\n  dev:\n    files: [a]\n    age: [${a}\n    x: "${CANARY}`,
    ];
    for (const text of cases) {
      const e = configError(() => sealant(text));
      assert.ok(!`${e.toOneLine()} ${e.hint ?? ''}`.includes(CANARY), e.toOneLine());
    }
  });

  test('a file matching two environments is an error naming both', () => {
    const cfg = sealant(
      `environments:\n  dev:\n    files: ["apps/**"]\n    age: [${a}]\n  prod:\n    files: ["**/*.prod.yaml"]\n    age: [${b}]\n`,
    );
    assert.equal(environmentFor(cfg, 'apps/x.yaml', '/repo')?.name, 'dev');
    assert.equal(environmentFor(cfg, 'other/x.prod.yaml', '/repo')?.name, 'prod');
    const e = configError(() => environmentFor(cfg, '/repo/apps/x.prod.yaml', '/elsewhere'));
    assert.equal(
      e.message,
      'matches environments "dev" (line 2) and "prod" (line 5); a file must belong to exactly one',
    );
    assert.match(e.hint ?? '', /!glob/);
  });

  test('globs are relative to the config directory, whatever the working directory', () => {
    const cfg = sealant(FULL);
    assert.equal(environmentFor(cfg, 'app.yaml', '/repo/environments/dev')?.name, 'dev');
    assert.equal(environmentFor(cfg, '../prod/app.yaml', '/repo/environments/dev')?.name, 'prod');
    assert.equal(environmentFor(cfg, 'environments/staging/public/x.yaml', '/repo'), undefined, 'excluded by !glob');
    assert.equal(
      environmentFor(cfg, 'environments/staging/x/.hidden.yaml', '/repo')?.name,
      'staging',
      'dot files match',
    );
    assert.equal(environmentFor(cfg, '/elsewhere/environments/dev/x.yaml', '/repo'), undefined, 'outside the root');
    assert.equal(environmentFor(cfg, 'README.md', '/repo'), undefined);
  });

  test('environmentByName lists the known names', () => {
    const cfg = sealant(FULL);
    assert.equal(environmentByName(cfg, 'prod').name, 'prod');
    assert.equal(
      configError(() => environmentByName(cfg, 'qa')).message,
      'no environment "qa" (known: dev, staging, prod)',
    );
  });

  test('filesOf: existing files, sorted, absolute; .git, node_modules and the config itself skipped', async () => {
    const dir = tree({
      '.sealant.yaml': `environments:\n  dev:\n    files: ["envs/dev/**", "shared/*.yaml", "!envs/dev/skip.yaml"]\n    age: [${a}]\n  all:\n    files: ["**/*.json"]\n    age: [${a}]\n`,
      'envs/dev/b.yaml': '',
      'envs/dev/a/z.yaml': '',
      'envs/dev/.env': '',
      'envs/dev/skip.yaml': '',
      'envs/dev/node_modules/m.yaml': '',
      'shared/s.yaml': '',
      'shared/deep/no.yaml': '',
      '.git/config.json': '',
      'x/y.json': '',
    });
    const cfg = (await loadProjectConfig({ cwd: dir, env: {} }))!;
    const rel = async (name: string) =>
      (await filesOf(cfg, environmentByName(cfg, name))).map((f) => f.slice(dir.length + 1));
    assert.deepEqual(await rel('dev'), ['envs/dev/.env', 'envs/dev/a/z.yaml', 'envs/dev/b.yaml', 'shared/s.yaml']);
    assert.deepEqual(await rel('all'), ['x/y.json']);
    assert.ok((await filesOf(cfg, environmentByName(cfg, 'dev'))).every((f) => f.startsWith(`${dir}/`)));
  });
});

describe('.sops.yaml (SOPS semantics)', () => {
  test('first matching rule wins; a rule without path_regex matches everything', () => {
    const cfg = sops(
      `creation_rules:\n  - path_regex: \\.prod\\.yaml$\n    age: ${a}\n  - path_regex: secrets/\n    age: ${b}\n  - age: ${c}\n`,
    );
    assert.deepEqual(
      cfg.environments.map((e) => [e.name, e.pathRegex, e.line]),
      [
        ['rule-1', '\\.prod\\.yaml$', 2],
        ['rule-2', 'secrets/', 4],
        ['rule-3', undefined, 6],
      ],
    );
    assert.equal(
      environmentFor(cfg, 'secrets/app.prod.yaml', '/repo')?.name,
      'rule-1',
      'earlier rule wins over a later match',
    );
    assert.equal(environmentFor(cfg, 'secrets/app.yaml', '/repo')?.name, 'rule-2');
    assert.equal(environmentFor(cfg, 'x/mysecrets/app.yaml', '/repo')?.name, 'rule-2', 'unanchored search');
    assert.equal(environmentFor(cfg, 'README.md', '/repo')?.name, 'rule-3');
  });

  test('path_regex applies to the path relative to the config directory (absolute outside it)', () => {
    const cfg = sops(
      `creation_rules:\n  - path_regex: ^envs/dev/\n    age: ${a}\n  - path_regex: ^/outside/\n    age: ${b}\n`,
    );
    assert.equal(environmentFor(cfg, 'app.yaml', '/repo/envs/dev')?.name, 'rule-1');
    assert.equal(environmentFor(cfg, '/repo/envs/dev/app.yaml', '/tmp')?.name, 'rule-1');
    assert.equal(environmentFor(cfg, 'envs/dev/app.yaml', '/repo/sub'), undefined, 'resolved against cwd first');
    assert.equal(environmentFor(cfg, '/outside/app.yaml', '/repo')?.name, 'rule-2');
  });

  test('keys as comma-separated strings or lists; arn+role and aws_profile', () => {
    const cfg = sops(
      `creation_rules:\n  - age: ' ${a} , ${b},'\n    pgp: '${FPR.slice(0, 20)} ${FPR.slice(20)}'\n    kms: ${ARN}+${ROLE}, ${ARN2}\n    aws_profile: ops\n  - age:\n      - ${a},${c}\n      - ${b}\n    kms: [${ARN}]\n`,
    );
    assert.deepEqual(cfg.environments[0]?.groups, [
      {
        age: [a, b],
        kms: [
          { arn: ARN, role: ROLE, awsProfile: 'ops' },
          { arn: ARN2, awsProfile: 'ops' },
        ],
        pgp: [FPR],
      },
    ]);
    assert.deepEqual(cfg.environments[1]?.groups, [{ age: [a, c, b], kms: [{ arn: ARN }], pgp: [] }]);
  });

  test('key_groups with merge (flattened first, duplicates removed) and shamir_threshold', () => {
    const cfg = sops(
      [
        'creation_rules:',
        '  - path_regex: prod',
        '    shamir_threshold: 2',
        '    key_groups:',
        `      - age: [${b}]`,
        `        merge:`,
        `          - age: [${a}]`,
        `            kms: [{arn: ${ARN}, role: ${ROLE}, aws_profile: p, context: {app: shop, n: 1}}]`,
        `          - age: [${a}, ${b}]`,
        `        kms: [{arn: ${ARN}}]`,
        `      - pgp: [${FPR}]`,
        `      - age: [${c}]`,
        '',
      ].join('\n'),
    );
    const env = cfg.environments[0]!;
    assert.equal(env.shamirThreshold, 2);
    assert.deepEqual(env.groups, [
      { age: [a, b], kms: [{ arn: ARN, role: ROLE, awsProfile: 'p', context: { app: 'shop', n: '1' } }], pgp: [] },
      { age: [], kms: [], pgp: [FPR] },
      { age: [c], kms: [], pgp: [] },
    ]);
  });

  test('unknown keys are ignored: a path_regexp typo matches every file', () => {
    const cfg = sops(
      `creation_rules:\n  - path_regexp: ^prod/\n    age: ${a}\n    colour: red\n  - path_regex: ^prod/\n    age: ${b}\n`,
    );
    assert.equal(environmentFor(cfg, 'prod/app.yaml', '/repo')?.name, 'rule-1');
    assert.equal(cfg.environments[0]?.pathRegex, undefined);
  });

  test('no creation_rules counts as no config; an empty list matches nothing', () => {
    assert.equal(parseSopsConfig('', '/r/.sops.yaml'), undefined);
    assert.equal(parseSopsConfig('stores:\n  yaml:\n    indent: 2\n', '/r/.sops.yaml'), undefined);
    assert.equal(parseSopsConfig('creation_rules:\n', '/r/.sops.yaml'), undefined);
    const empty = sops('creation_rules: []\n');
    assert.equal(environmentFor(empty, 'a.yaml', '/repo'), undefined);
  });

  test('rule fields, mac_only_encrypted, and the errors SOPS also reports', () => {
    const cfg = sops(
      `creation_rules:\n  - encrypted_regex: ^(data|stringData)$\n    mac_only_encrypted: true\n    age: ${a}\n`,
    );
    assert.deepEqual(cfg.environments[0]?.rule, { field: 'encrypted_regex', value: '^(data|stringData)$' });
    assert.equal(cfg.environments[0]?.macOnlyEncrypted, true);
    assert.match(
      configError(() =>
        sops(`creation_rules:\n  - age: ${a}\n  - encrypted_regex: a\n    unencrypted_suffix: _u\n`),
      ).toOneLine(),
      /^\.sops\.yaml:3:5: creation_rules\[1\]: cannot use more than one of/,
    );
    assert.equal(configError(() => sops(`creation_rules:\n  - path_regex: '(unclosed'\n`)).line, 2);
    assert.match(configError(() => sops(`creation_rules:\n  - age: [1]\n`)).message, /expected a string in the list/);
    assert.match(configError(() => sops(`creation_rules:\n  - mac_only_encrypted: "yes"\n`)).message, /true or false/);
    assert.match(
      configError(() => sops(`creation_rules:\n  - key_groups: [{age: [${a}]}]\n    shamir_threshold: 2\n`)).message,
      /only 1 key groups/,
    );
    assert.match(
      configError(() =>
        sops(`creation_rules:\n  - key_groups: [{age: [${a}]}, {age: [${b}]}]\n    shamir_threshold: 1\n`),
      ).toOneLine(),
      /^\.sops\.yaml:3:5: creation_rules\[0\]\.shamir_threshold: is 1 but must be at least 2 with 2 key groups/,
    );
    assert.match(configError(() => sops('creation_rules: {a: 1}\n')).message, /must be a list/);
  });

  test('key types sealant does not support are recorded, not dropped silently', () => {
    const cfg = sops(
      `creation_rules:\n  - age: ${a}\n    gcp_kms: projects/p/locations/l/keyRings/r/cryptoKeys/k\n  - key_groups:\n      - age: [${a}]\n        hc_vault: [https://vault/v1/transit/keys/k]\n`,
    );
    assert.deepEqual(
      cfg.environments.map((e) => e.unsupportedKeys),
      [['gcp_kms'], ['hc_vault']],
    );
  });

  test('filesOf for a rule lists the files that rule is the first match of', async () => {
    const dir = tree({
      '.sops.yaml': `creation_rules:\n  - path_regex: \\.prod\\.yaml$\n    age: ${a}\n  - path_regex: ^apps/\n    age: ${b}\n`,
      'apps/a.yaml': '',
      'apps/a.prod.yaml': '',
      'b.prod.yaml': '',
      'c.yaml': '',
    });
    const cfg = (await loadProjectConfig({ cwd: join(dir), env: {} }))!;
    const rel = async (name: string) =>
      (await filesOf(cfg, environmentByName(cfg, name))).map((f) => f.slice(dir.length + 1));
    assert.deepEqual(await rel('rule-1'), ['apps/a.prod.yaml', 'b.prod.yaml']);
    assert.deepEqual(await rel('rule-2'), ['apps/a.yaml']);
  });
});

describe('finding the config', () => {
  const sealantText = `environments:\n  dev:\n    files: ["**"]\n    age: [${a}]\n`;
  const sopsText = `creation_rules:\n  - age: ${b}\n`;

  test('walks up from cwd; .sealant.yaml wins over .sops.yaml in the same directory', async () => {
    const dir = tree({ '.sealant.yaml': sealantText, '.sops.yaml': sopsText, 'a/b/c/x.yaml': '' });
    assert.deepEqual(await findConfig(join(dir, 'a/b/c'), {}), { path: join(dir, '.sealant.yaml'), kind: 'sealant' });
    const cfg = await loadProjectConfig({ cwd: join(dir, 'a/b'), env: {} });
    assert.equal(cfg?.kind, 'sealant');
    assert.equal(cfg?.root, dir);
  });

  test('the nearest directory wins, as in SOPS', async () => {
    const dir = tree({ '.sealant.yaml': sealantText, 'sub/.sops.yaml': sopsText });
    assert.equal((await findConfig(join(dir, 'sub'), {}))?.kind, 'sops');
    assert.equal((await findConfig(dir, {}))?.kind, 'sealant');
  });

  test('SOPS_CONFIG replaces the .sops.yaml lookup, not .sealant.yaml; --config overrides both', async () => {
    const dir = tree({ 'sub/.sops.yaml': sopsText, 'conf/custom.yaml': sopsText, 'conf/mine.yaml': sealantText });
    assert.deepEqual(await findConfig(join(dir, 'sub'), { SOPS_CONFIG: '../conf/custom.yaml' }), {
      path: join(dir, 'conf/custom.yaml'),
      kind: 'sops',
    });
    const withSealant = tree({ '.sealant.yaml': sealantText, 'conf/custom.yaml': sopsText });
    assert.equal((await findConfig(withSealant, { SOPS_CONFIG: 'conf/custom.yaml' }))?.kind, 'sealant');
    assert.deepEqual(await findConfig(dir, {}, 'conf/mine.yaml'), {
      path: join(dir, 'conf/mine.yaml'),
      kind: 'sealant',
    });
    assert.equal((await findConfig(dir, {}, 'conf/custom.yaml'))?.kind, 'sops');
    await assert.rejects(
      findConfig(dir, {}, 'missing.yaml'),
      (e) => e instanceof ConfigNotFoundError && e.exitCode === 61,
    );
    await assert.rejects(findConfig(dir, { SOPS_CONFIG: 'missing.yaml' }), ConfigNotFoundError);
  });

  test('a .sops.yaml without creation_rules is no config', async () => {
    const dir = tree({ '.sops.yaml': 'stores: {}\n' });
    assert.equal(await loadProjectConfig({ cwd: dir, env: {} }), undefined);
  });

  test('errors name the config file relative to the working directory', async () => {
    const dir = tree({ '.sealant.yaml': 'environments:\n  dev:\n    files: [a]\n    age: [x]\n', 'sub/.keep': '' });
    await assert.rejects(
      loadProjectConfig({ cwd: join(dir, 'sub'), env: {} }),
      (e) => e instanceof ConfigError && e.file === '../.sealant.yaml' && e.line === 4,
    );
  });
});

describe('config import', () => {
  const PATHS = [
    'environments/dev/app.yaml',
    'environments/dev/a/b/c.env',
    'environments/development.yaml',
    'x/environments/dev/y.yaml',
    'xenvironments/dev/y.yaml',
    'app.dev.yaml',
    'deep/dir/app.dev.yaml',
    '.dev.yaml',
    'app.dev.yaml.bak',
    'secrets/a.yaml',
    'secrets/sub/b.yaml',
    'mysecrets/a.yaml',
    'secrets/a.json',
    'a/x.json',
    'a/b/x.json',
    'dev',
    'devx/y/z.yaml',
    'README.md',
  ];

  test('globsForRegex selects exactly what the regex matches', () => {
    const regexes = [
      '^environments/dev/',
      'environments/dev/',
      '\\.dev\\.yaml$',
      '.*\\.dev\\.yaml$',
      '^secrets/.*\\.yaml$',
      'secrets/.*\\.yaml$',
      '^a/[^/]*\\.json$',
      '^a/[^/]+\\.json$',
      'dev',
      '^dev$',
      '^secrets/',
      '.*',
      'secrets/.*',
    ];
    for (const r of regexes) {
      const globs = globsForRegex(r);
      assert.ok(globs !== undefined, r);
      const re = compilePathRegex(r);
      for (const p of PATHS) {
        const byGlob = globs.some((g) => minimatch(p, g, { dot: true }));
        assert.equal(byGlob, re.test(p), `${r} vs ${globs.join(',')} on ${p}`);
      }
    }
    for (const r of ['^(dev|prod)/', '\\d+', 'a.b', '(?i)dev', '^x+$', 'a|b'])
      assert.equal(globsForRegex(r), undefined, r);
  });

  const SOPS = [
    "# the team's rules",
    'creation_rules:',
    '  - path_regex: ^environments/prod/.*\\.yaml$',
    '    key_groups:',
    `      - age: [${a}]`,
    `      - kms: [{arn: ${ARN}, role: ${ROLE}, context: {app: shop}, aws_profile: ops}]`,
    '    shamir_threshold: 2',
    '    encrypted_regex: ^(data|stringData)$',
    '  - path_regex: ^environments/dev/',
    `    age: ${a},${b}`,
    `    kms: ${ARN2}`,
    '    aws_profile: dev',
    '    mac_only_encrypted: true',
    '  - path_regex: \\.shared\\.yaml$',
    `    pgp: ${FPR}`,
    `  - age: ${c}`,
    '',
  ].join('\n');

  test('round trip: every file gets the same recipients and rules from the imported .sealant.yaml', () => {
    const before = sops(SOPS);
    const files = [
      'environments/prod/app.yaml',
      'environments/prod/app.json',
      'environments/dev/a.yaml',
      'environments/dev/x.shared.yaml',
      'x.shared.yaml',
      'README.md',
      'environments/prod/sub/b.yaml',
    ];
    const r = importSopsConfig(before, files);
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(
      r.environments.map((e) => [e.name, e.rule]),
      [
        ['prod', 1],
        ['dev', 2],
        ['rule-3', 3],
        ['default', 4],
      ],
    );
    const after = sealant(r.text);
    for (const f of files) {
      const want = environmentFor(before, f, '/repo');
      const got = environmentFor(after, f, '/repo');
      assert.ok(want !== undefined && got !== undefined, f);
      assert.deepEqual(got.groups, want.groups, f);
      assert.equal(got.shamirThreshold, want.shamirThreshold, f);
      assert.deepEqual(got.rule, want.rule, f);
      assert.equal(got.macOnlyEncrypted ?? false, want.macOnlyEncrypted ?? false, f);
    }
    assert.match(r.text, /^# Imported from \.sops\.yaml/);
    assert.match(r.text, /files: \["environments\/prod\/\*\*\/\*\.yaml"\]/);
    assert.match(r.text, /encrypted_regex: '\^\(data\|stringData\)\$'/);
    assert.match(
      r.text,
      /files: \["\*\*", "!environments\/prod\/\*\*\/\*\.yaml", "!environments\/dev\/\*\*", "!\*\*\/\*\.shared\.yaml"\]/,
    );
  });

  test('a regex globs cannot express is kept as path_regex; overlaps it causes are reported', () => {
    const r = importSopsConfig(sops(`creation_rules:\n  - path_regex: ^(dev|qa)/\n    age: ${a}\n  - age: ${b}\n`), [
      'dev/a.yaml',
      'b.yaml',
    ]);
    assert.deepEqual(r.environments[0], { name: 'dev', rule: 1, pathRegex: '^(dev|qa)/' });
    assert.deepEqual(r.warnings, [
      'dev/a.yaml matches environments dev and default (.sops.yaml used dev): narrow their files or path_regex',
    ]);
    const after = sealant(r.text);
    assert.match(
      configError(() => environmentFor(after, 'qa/x.yaml', '/repo')).message,
      /matches environments "dev" .* and "default"/,
    );
  });

  test('rules sealant cannot represent are refused with their line', () => {
    const e = configError(() =>
      importSopsConfig(
        sops(`creation_rules:\n  - age: ${a}\n  - gcp_kms: projects/p/locations/l/keyRings/r/cryptoKeys/k\n`),
      ),
    );
    assert.equal(e.line, 3);
    assert.match(e.message, /gcp_kms/);
    assert.match(
      configError(() => importSopsConfig(sops('creation_rules:\n  - encrypted_regex: x\n'))).message,
      /names no age, kms or pgp key/,
    );
  });
});

describe('recipients add/remove', () => {
  const BASE = [
    '# Secrets of the shop.  Keep this tidy!',
    'environments:',
    '  dev:   # developers',
    '    files: ["environments/dev/**"]    # everything under dev',
    '    age:',
    `      - ${a}   # alice`,
    '      # bob joined in May',
    `      - ${b}`,
    "    encrypted_regex: '^(data|stringData)$'",
    '  prod:',
    '    files: [ environments/prod/** ]',
    `    age: [${a}]   # flow list`,
    '    kms:',
    `      - arn: ${ARN}`,
    `        role: ${ROLE}   # assumed first`,
    '  shared:',
    '    files: ["shared/**"]',
    '    key_groups:',
    `      - age: [${a}]`,
    `      - {age: [${b}]}`,
    '',
  ].join('\n');
  const P = '/repo/.sealant.yaml';

  /** Lines of `after` minus those of `before`, and the other way round (as a line diff would show). */
  function lineDiff(before: string, after: string): { added: string[]; removed: string[] } {
    const x = before.split('\n');
    const y = after.split('\n');
    let i = 0;
    while (i < x.length && x[i] === y[i]) i++;
    let j = 0;
    while (j < x.length - i && j < y.length - i && x[x.length - 1 - j] === y[y.length - 1 - j]) j++;
    return { removed: x.slice(i, x.length - j), added: y.slice(i, y.length - j) };
  }

  test("adding to a block list inserts one line, in the list's indentation", () => {
    const r = addRecipientText(BASE, P, 'dev', parseRecipient(c));
    assert.equal(r.changed, true);
    assert.deepEqual(lineDiff(BASE, r.text), { removed: [], added: [`      - ${c}`] });
    assert.equal(r.text.indexOf(`- ${c}`) > r.text.indexOf(`- ${b}`), true);
    assert.deepEqual(sealant(r.text).environments[0]?.groups[0]?.age, [a, b, c]);
  });

  test('adding to a flow list keeps it a flow list', () => {
    const r = addRecipientText(BASE, P, 'prod', parseRecipient(c));
    assert.deepEqual(lineDiff(BASE, r.text), {
      removed: [`    age: [${a}]   # flow list`],
      added: [`    age: [${a}, ${c}]   # flow list`],
    });
  });

  test('a missing list is created after the lists that come before it; KMS with role', () => {
    const r = addRecipientText(BASE, P, 'dev', parseRecipient(`${ARN2}+${ROLE}`));
    const { added, removed } = lineDiff(BASE, r.text);
    assert.deepEqual(removed, []);
    assert.deepEqual(added, ['    kms:', `      - arn: ${ARN2}`, `        role: ${ROLE}`]);
    assert.ok(r.text.indexOf(`role: ${ROLE}\n    encrypted_regex`) > 0, 'before the rule field, after age');
    const p = addRecipientText(BASE, P, 'prod', parseRecipient(FPR.toLowerCase()));
    assert.deepEqual(lineDiff(BASE, p.text).added, ['    pgp:', `      - ${FPR}`]);
  });

  test('adding an existing recipient is a no-op, byte for byte', () => {
    for (const [env, rcp] of [
      ['dev', b],
      ['prod', `${ARN}+${ROLE}`],
    ] as const) {
      const r = addRecipientText(BASE, P, env, parseRecipient(rcp));
      assert.equal(r.changed, false);
      assert.equal(r.text, BASE);
    }
    const again = addRecipientText(
      addRecipientText(BASE, P, 'dev', parseRecipient(c)).text,
      P,
      'dev',
      parseRecipient(c),
    );
    assert.equal(again.changed, false);
  });

  test("removing drops only the item's own line (and its inline comment)", () => {
    const r = removeRecipientText(BASE, P, 'dev', parseRecipient(a));
    assert.deepEqual(lineDiff(BASE, r.text), { removed: [`      - ${a}   # alice`], added: [] });
    const r2 = removeRecipientText(BASE, P, 'dev', parseRecipient(b));
    assert.deepEqual(lineDiff(BASE, r2.text), { removed: [`      - ${b}`], added: [] });
    assert.ok(r2.text.includes('      # bob joined in May\n'), 'comments elsewhere stay');
  });

  test('removing the last entry of a list removes the list; the last recipient is refused', () => {
    const r = removeRecipientText(BASE, P, 'prod', parseRecipient(ARN));
    assert.deepEqual(lineDiff(BASE, r.text), {
      removed: ['    kms:', `      - arn: ${ARN}`, `        role: ${ROLE}   # assumed first`],
      added: [],
    });
    const e = configError(() => removeRecipientText(r.text, P, 'prod', parseRecipient(a)));
    assert.match(e.message, /is the last recipient of environment "prod"/);
    const none = removeRecipientText(BASE, P, 'dev', parseRecipient(c));
    assert.equal(none.changed, false);
    assert.equal(none.text, BASE);
  });

  test('key groups need --group', () => {
    assert.throws(
      () => addRecipientText(BASE, P, 'shared', parseRecipient(c)),
      (e) => e instanceof UsageError && /pass --group 1…2/.test(e.message),
    );
    assert.throws(() => addRecipientText(BASE, P, 'shared', parseRecipient(c), 3), UsageError);
    assert.throws(() => addRecipientText(BASE, P, 'dev', parseRecipient(c), 2), UsageError);
    const r = addRecipientText(BASE, P, 'shared', parseRecipient(c), 2);
    assert.equal(r.group, 2);
    assert.deepEqual(lineDiff(BASE, r.text), {
      removed: [`      - {age: [${b}]}`],
      added: [`      - {age: [${b}, ${c}]}`],
    });
    assert.match(
      configError(() => removeRecipientText(BASE, P, 'shared', parseRecipient(a), 1)).message,
      /last recipient of key group 1/,
    );
  });

  test('unknown environments and malformed recipients', () => {
    assert.match(
      configError(() => addRecipientText(BASE, P, 'qa', parseRecipient(c))).message,
      /no environment "qa" \(known: dev, prod, shared\)/,
    );
    assert.throws(
      () => parseRecipient('ssh-ed25519 AAAA'),
      (e) => e instanceof SealantError && e.code === 'BAD_KEY',
    );
    assert.throws(
      () => parseRecipient('arn:aws:kms:eu-west-1:1:nope'),
      (e) => e instanceof SealantError && /invalid AWS KMS key ARN/.test(e.message),
    );
  });

  test('addRecipient writes the file atomically, and not at all for a no-op', async () => {
    const dir = tree({ '.sealant.yaml': BASE });
    const path = join(dir, '.sealant.yaml');
    const r = await addRecipient(path, 'dev', c, { shown: '.sealant.yaml' });
    assert.deepEqual(r, { config: '.sealant.yaml', environment: 'dev', type: 'age', recipient: c, changed: true });
    const text = readFileSync(path, 'utf8');
    const mtime = statSync(path).mtimeMs;
    await new Promise((res) => setTimeout(res, 20));
    const again = await addRecipient(path, 'dev', c);
    assert.equal(again.changed, false);
    assert.equal(readFileSync(path, 'utf8'), text);
    assert.equal(statSync(path).mtimeMs, mtime);
  });
});

describe('CLI: config import and recipients (built CLI)', () => {
  const CONFIG = `# team config\nenvironments:\n  dev:\n    files: ["dev/**"]   # dev files\n    age: [${a}]\n  prod:\n    files: ["prod/**"]\n    key_groups:\n      - age: [${a}]\n      - age: [${b}]\n`;

  test('the four commands are registered under their topics', () => {
    const ids = Object.keys(commands);
    for (const id of ['config:import', 'recipients:list', 'recipients:add', 'recipients:remove'])
      assert.ok(ids.includes(id), id);
    const flagNames = (id: keyof typeof commands) => Object.keys(commands[id].flags ?? {}).sort();
    assert.deepEqual(flagNames('recipients:add'), ['config', 'env', 'group']);
    assert.deepEqual(flagNames('recipients:remove'), ['config', 'env', 'group']);
    assert.deepEqual(flagNames('recipients:list'), ['config', 'env']);
    assert.deepEqual(flagNames('config:import'), ['config', 'force', 'out']);
  });

  test('recipients add --json: envelope, then a no-op; the file keeps its comments', async () => {
    const dir = tree({ '.sealant.yaml': CONFIG });
    const r = await runCli(['recipients', 'add', '--env', 'dev', c, '--json'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(parseJson(r.stdout), {
      status: 'success',
      result: {
        config: '.sealant.yaml',
        environment: 'dev',
        type: 'age',
        recipient: c,
        changed: true,
        next: 'sealant updatekeys --env dev',
      },
      warnings: [],
    });
    assert.equal(
      readFileSync(join(dir, '.sealant.yaml'), 'utf8'),
      CONFIG.replace(`age: [${a}]\n  prod`, `age: [${a}, ${c}]\n  prod`),
    );
    const again = await runCli(['recipients', 'add', '--env', 'dev', c], { cwd: join(dir) });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /is already a recipient of dev; nothing changed/);
  });

  test('recipients remove tells the user to run updatekeys; --group for key groups', async () => {
    const dir = tree({ '.sealant.yaml': CONFIG, 'prod/x.yaml': '' });
    const noGroup = await runCli(['recipients', 'remove', '--env', 'prod', b], { cwd: join(dir, 'prod') });
    assert.equal(noGroup.code, 2);
    assert.match(noGroup.stderr, /uses key_groups: pass --group 1…2/);
    const add = await runCli(['recipients', 'add', '--env', 'prod', '--group', '2', c], { cwd: dir });
    assert.equal(add.code, 0, add.stderr);
    const r = await runCli(['recipients', 'remove', '--env', 'prod', '--group', '2', b], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /removed .* from prod \(group 2\)\nNow run `sealant updatekeys --env prod`/);
    const list = await runCli(['recipients', 'list', '--env', 'prod', '--json'], { cwd: dir });
    assert.deepEqual(parseJson(list.stdout), {
      status: 'success',
      result: {
        config: '.sealant.yaml',
        kind: 'sealant',
        environments: [
          {
            name: 'prod',
            files: ['prod/**'],
            groups: [
              { age: [a], kms: [], pgp: [] },
              { age: [c], kms: [], pgp: [] },
            ],
          },
        ],
      },
      warnings: [],
    });
  });

  test('a schema error is one line with file:line:col, and the --json envelope has the line', async () => {
    const dir = tree({ '.sealant.yaml': CONFIG.replace('    age: [', '    agee: [') });
    const r = await runCli(['recipients', 'list'], { cwd: dir });
    assert.equal(r.code, 5);
    assert.equal(r.stderr.split('\n')[0], 'sealant: .sealant.yaml:5:5: environments.dev.agee: unknown key "agee"');
    const j = await runCli(['recipients', 'list', '--json'], { cwd: dir });
    const env = parseJson(j.stdout) as Record<string, unknown>;
    assert.equal(env.code, 'CONFIG');
    assert.equal(env.line, 5);
    assert.equal(env.file, '.sealant.yaml');
  });

  test('recipients add refuses a .sops.yaml project and points at config import', async () => {
    const dir = tree({ '.sops.yaml': `creation_rules:\n  - age: ${a}\n` });
    const r = await runCli(['recipients', 'add', '--env', 'rule-1', b], { cwd: dir });
    assert.equal(r.code, 5);
    assert.match(r.stderr, /hint: run `sealant config import`/);
    const list = await runCli(['recipients', 'list'], { cwd: dir });
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout, `rule-1 (every file)\n  age  ${a}\n`);
  });

  test('config import writes .sealant.yaml next to .sops.yaml, refuses to overwrite without --force', async () => {
    const dir = tree({
      '.sops.yaml': `creation_rules:\n  - path_regex: ^dev/\n    age: ${a}\n  - age: ${b}\n`,
      'dev/a.yaml': '',
      'sub/.keep': '',
    });
    const r = await runCli(['config', 'import', '--json'], { cwd: join(dir, 'sub') });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(parseJson(r.stdout), {
      status: 'success',
      result: {
        source: '../.sops.yaml',
        environments: [
          { name: 'dev', rule: 1, files: ['dev/**'] },
          { name: 'default', rule: 2, files: ['**', '!dev/**'] },
        ],
        out: '../.sealant.yaml',
      },
      warnings: [],
    });
    const written = readFileSync(join(dir, '.sealant.yaml'), 'utf8');
    assert.equal(sealant(written).environments.length, 2);
    const again = await runCli(['config', 'import'], { cwd: dir });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /\.sealant\.yaml: already exists\nhint: pass --force/);
    const forced = await runCli(['config', 'import', '--force'], { cwd: dir });
    assert.equal(forced.code, 0, forced.stderr);
    const preview = await runCli(['config', 'import', '--out', '-'], { cwd: dir });
    assert.equal(preview.stdout, written);
    // With .sealant.yaml present, sealant uses it; the list shows the imported names.
    const list = await runCli(['recipients', 'list'], { cwd: dir });
    assert.match(list.stdout, /^dev \(dev\/\*\*\)\n/);
  });
});
