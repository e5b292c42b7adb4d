import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base.js';
import { configFlag, contextFor, identityFlag } from '../cli/flags.js';
import { auditStream, isStdoutPath } from '../cli/stdio.js';
import { writeStdout } from '../cli/output.js';
import { UsageError } from '../errors.js';
import { keySources } from '../ops/context.js';
import { RENDER_FORMATS, renderEnvironment, type RenderFormat, type RenderResult } from '../ops/render-output.js';

function keyValues(values: readonly string[] | undefined, flag: string): Record<string, string> | undefined {
  if (values === undefined || values.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i <= 0) throw new UsageError(`--${flag} takes KEY=VALUE`);
    Object.defineProperty(out, v.slice(0, i), {
      value: v.slice(i + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

export default class Render extends BaseCommand<RenderResult> {
  static override summary = 'Decrypt an environment into a .env file, JSON, YAML or Kubernetes Secrets.';
  static override description = [
    'Decrypts every file of the environment (one key unwrap per file) and merges them in path order: later files win; keys set differently by two files are reported (an error with --strict).',
    "Formats: dotenv (read back exactly by the dotenv npm package and dotenvx: values are quoted as needed), docker-env (for `docker run --env-file`, which takes values literally: multi-line values are refused), json, yaml, k8s (v1 Secret manifests, from the environment's render.secrets in .sealant.yaml or one Opaque Secret named after the environment).",
    '--out writes atomically with mode 0600 and refuses a path git tracks or does not ignore (so plaintext is not committed by accident) unless --force. One audit line (JSON, never values) goes to stderr or --audit-log.',
    'Keys whose value is "" or null are not covered by the MAC (as in sops): anyone who can edit a file can add `path: ""` without a key. They are named in a warning (key paths only); --strict refuses them and writes nothing.',
  ].join('\n\n');
  static override examples = [
    {
      description: 'A .env for docker compose / dotenv',
      command:
        'SOPS_AGE_KEY_FILE=environments/demo.agekey <%= config.bin %> <%= command.id %> --env dev --format dotenv --out /tmp/dev.env',
    },
    {
      description: 'Secret manifests for kubectl apply',
      command: '<%= config.bin %> <%= command.id %> --env prod --format k8s --namespace shop | kubectl apply -f -',
    },
    {
      description: 'JSON for an application, fail on conflicts',
      command: '<%= config.bin %> <%= command.id %> --env staging --format json --strict --out config/secrets.json',
    },
  ];
  static override flags = {
    env: Flags.string({ char: 'e', summary: 'The environment to render.', required: true }),
    format: Flags.string({ char: 'f', summary: 'Output format.', options: [...RENDER_FORMATS], default: 'dotenv' }),
    out: Flags.string({
      char: 'o',
      summary: 'Write to FILE (0600) instead of stdout ("-" = stdout).',
      helpValue: 'FILE',
    }),
    force: Flags.boolean({ summary: 'Write even into a path git tracks or does not ignore.', default: false }),
    strict: Flags.boolean({
      summary:
        'Fail when two files set the same key to different values, or a value is not covered by the MAC ("" or null).',
      default: false,
    }),
    name: Flags.string({ summary: 'k8s: Secret name (when one Secret is rendered).' }),
    namespace: Flags.string({ summary: 'k8s: namespace.' }),
    type: Flags.string({ summary: 'k8s: Secret type (Opaque, kubernetes.io/tls, kubernetes.io/dockerconfigjson…).' }),
    'string-data': Flags.boolean({ summary: 'k8s: write stringData instead of base64 data.', default: false }),
    immutable: Flags.boolean({ summary: 'k8s: mark the Secrets immutable.', default: false }),
    label: Flags.string({ summary: 'k8s: label KEY=VALUE (repeatable).', multiple: true, multipleNonGreedy: true }),
    annotation: Flags.string({
      summary: 'k8s: annotation KEY=VALUE (repeatable).',
      multiple: true,
      multipleNonGreedy: true,
    }),
    'audit-log': Flags.string({
      summary: 'Append the audit line to FILE (0600) instead of stderr ("-" = stdout, with --out FILE).',
      helpValue: 'FILE',
      env: 'SEALANT_AUDIT_LOG',
    }),
    config: configFlag(),
    identity: identityFlag(),
  };

  async run(): Promise<RenderResult> {
    const { flags } = await this.parse(Render);
    const ctx = contextFor((m) => this.warnUser(m));
    const labels = keyValues(flags.label, 'label');
    const annotations = keyValues(flags.annotation, 'annotation');
    const audit = auditStream(
      flags['audit-log'],
      this.jsonEnabled()
        ? 'the --json result'
        : flags.out === undefined || isStdoutPath(flags.out)
          ? 'the rendered output'
          : undefined,
    );
    const r = await renderEnvironment(ctx, {
      env: flags.env,
      format: flags.format as RenderFormat,
      sources: await keySources(ctx, { identityFiles: flags.identity ?? [] }),
      force: flags.force,
      strict: flags.strict,
      stderr: audit.stream,
      overrides: {
        ...(flags.name === undefined ? {} : { name: flags.name }),
        ...(flags.namespace === undefined ? {} : { namespace: flags.namespace }),
        ...(flags.type === undefined ? {} : { type: flags.type }),
        ...(flags['string-data'] ? { encoding: 'stringData' as const } : {}),
        ...(flags.immutable ? { immutable: true } : {}),
        ...(labels === undefined ? {} : { labels }),
        ...(annotations === undefined ? {} : { annotations }),
      },
      ...(flags.out === undefined ? {} : { out: flags.out }),
      ...(flags.config === undefined ? {} : { configPath: flags.config }),
      ...(audit.auditLog === undefined ? {} : { auditLog: audit.auditLog }),
    });
    if (r.text !== undefined && !this.jsonEnabled()) {
      await writeStdout(r.text);
      const { text: _text, ...rest } = r;
      return rest;
    }
    if (!this.jsonEnabled())
      this.logToStderr(`wrote ${r.output} (${r.keys.length} keys from ${r.files.length} file(s))`);
    return r;
  }
}
