/**
 * The Kubernetes integrations' use-cases: run one SecretGenerator (find its config, decrypt its
 * environment, render its Secrets), run every generator of a KRM ResourceList, write the audit
 * event of a run, and install the legacy kustomize exec plugin.
 *
 * Where paths resolve: `config` and the upward search for `.sealant.yaml` start in the working
 * directory the orchestrator gives the process (kustomize: the kustomization's directory; kpt:
 * its own working directory), then, if nothing is found there, in the generator's own directory
 * when kpt says where that is (`fn render` only). `files` are relative to the config file's
 * directory, like the `files:` globs of `.sealant.yaml`; so is a relative `SOPS_AGE_KEY_FILE`
 * that is not found from the working directory ({@link keyFileEnv}).
 */
import { access, chmod, mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { parse } from 'yaml';

import { ConfigNotFoundError, environmentByName, findConfig, loadProjectConfig } from '../config/index.js';
import { filesOf } from './config-files.js';
import { ConfigError, WriteError } from '../errors.js';
import { writeFileAtomic } from '../fsx/atomic.js';
import { readStdinText, STDIO_PATH } from '../fsx/stdin.js';
import {
  GeneratorError,
  KrmInputError,
  findGenerators,
  parseGenerator,
  parseResourceList,
  buildResourceList,
  generatorResult,
  type GeneratorOutcome,
  type KrmObject,
  type KrmResult,
  type ParsedResourceList,
  type ResourceListOutput,
  type SecretGeneratorConfig,
} from '../krm/resource-list.js';
import { defaultPluginHome, kustomizePluginPath, kustomizePluginScript } from '../krm/kustomize-plugin.js';
import type { KeySources } from '../keys/datakey.js';
import { renderSecrets, secretsToYaml, type SecretManifest, type SecretOverrides } from '../render/k8s.js';
import { buildAuditEvent, readAuditSources, writeAuditEvent, type AuditSink } from './audit.js';
import { keySources, type OpsContext } from './context.js';
import { readText } from './read.js';
import { checkUncovered, loadEnvironment, type LoadedFile } from './render.js';

/** What one generator produced. Holds secrets: never log `manifests`. */
export interface GeneratorRun {
  generator: SecretGeneratorConfig;
  /** The environment's name as the config spells it. */
  environment: string;
  manifests: SecretManifest[];
  /** The decrypted files (relative to the working directory) and the key that opened each. */
  files: LoadedFile[];
}

/** Options of {@link runGenerator} and {@link runResourceList}. */
export interface GeneratorOptions {
  /** Pre-built key sources (tests); default: the SOPS sources of `ctx.env`, see {@link keyFileEnv}. */
  sources?: KeySources;
}

/**
 * The ResourceList on standard input, whole, as UTF-8 text, parsed. A terminal is refused rather than waited on.
 * @throws KrmInputError when stdin is a terminal or the list is malformed.
 */
export async function readResourceList(): Promise<ParsedResourceList> {
  const text = await readStdinText('a KRM ResourceList', {
    onTerminal: () =>
      new KrmInputError('expects a KRM ResourceList on standard input, not a terminal', {
        hint: 'run it through kpt or kustomize',
      }),
  });
  return parseResourceList(text);
}

/**
 * The SecretGenerator kustomize wrote to `file` (`-`: standard input). `named` hears the
 * generator's `metadata.name` before the rest is checked, so that errors can name it.
 * @throws ReadError, GeneratorError.
 */
export async function readGeneratorConfig(
  file: string,
  named: (name: string) => void = () => {},
): Promise<SecretGeneratorConfig> {
  const text = file === STDIO_PATH ? await readStdinText('the generator config') : await readText(file);
  let value: unknown;
  try {
    value = parse(text);
  } catch {
    // The parser's message quotes the text; the text is a generator config, but say less anyway.
    throw new GeneratorError('the generator config kustomize passed is not valid YAML');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new GeneratorError('the generator config kustomize passed is not a mapping');
  const obj = value as KrmObject;
  const meta = obj.metadata;
  if (typeof meta === 'object' && meta !== null && typeof (meta as KrmObject).name === 'string')
    named((meta as KrmObject).name as string);
  return parseGenerator(obj);
}

/** The directory the generator's file is in, when kpt `fn render` tells (`eval` does not). */
function generatorDir(gen: SecretGeneratorConfig): string | undefined {
  const { packagePath, path } = gen.origin;
  if (packagePath === undefined) return undefined;
  return path === undefined ? packagePath : resolve(packagePath, dirname(path));
}

/**
 * The absolute path of the generator's config file.
 * @throws ConfigNotFoundError when `config` names a file that exists in none of the places
 * searched, ConfigError when no `.sealant.yaml`/`.sops.yaml` is found at all.
 */
export async function generatorConfigPath(ctx: OpsContext, gen: SecretGeneratorConfig): Promise<string> {
  const dirs = [ctx.cwd];
  const own = generatorDir(gen);
  if (own !== undefined && own !== ctx.cwd) dirs.push(own);
  let missing: unknown;
  for (const dir of dirs) {
    try {
      const found = await findConfig(dir, ctx.env, gen.config);
      if (found !== undefined) return found.path;
    } catch (err) {
      if (!(err instanceof ConfigNotFoundError)) throw err;
      missing ??= err;
    }
  }
  if (missing !== undefined) throw missing;
  throw new ConfigError(`no .sealant.yaml found in ${ctx.cwd} or above it`, {
    hint: 'run kpt/kustomize from inside the repository, or set config: in the SecretGenerator',
  });
}

/**
 * `gen.files` as paths relative to the working directory, each checked to be a file the
 * environment owns (a typo would otherwise render a Secret without its values).
 * @throws GeneratorError naming the first file that is not the environment's.
 */
async function selectedFiles(
  ctx: OpsContext,
  configPath: string,
  gen: SecretGeneratorConfig,
): Promise<string[] | undefined> {
  if (gen.files === undefined) return undefined;
  const config = await loadProjectConfig({ cwd: ctx.cwd, env: ctx.env, path: configPath });
  if (config === undefined) throw new ConfigError('config file has no environments', { file: configPath });
  const environment = environmentByName(config, gen.environment);
  const owned = new Set(await filesOf(config, environment));
  return gen.files.map((f, i) => {
    const abs = resolve(config.root, f);
    if (!owned.has(abs)) {
      throw new GeneratorError(`"${f}" is not a file of environment "${environment.name}"`, {
        path: ['files', i],
        hint: `files are relative to ${relative(ctx.cwd, config.root) || '.'} (the directory of the config file)`,
      });
    }
    return relative(ctx.cwd, abs) || abs;
  });
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * `env` with a relative `SOPS_AGE_KEY_FILE` made absolute: against the working directory when it
 * is there, else against the config file's directory. kustomize runs a plugin in the
 * kustomization's directory, so `SOPS_AGE_KEY_FILE=keys/dev.agekey kubectl kustomize …` typed at
 * the repository root would otherwise name a file that is not found.
 */
export async function keyFileEnv(ctx: OpsContext, configDir: string): Promise<OpsContext['env']> {
  const file = ctx.env.SOPS_AGE_KEY_FILE;
  if (file === undefined || file === '' || isAbsolute(file) || (await exists(resolve(ctx.cwd, file)))) return ctx.env;
  const fallback = resolve(configDir, file);
  return (await exists(fallback)) ? { ...ctx.env, SOPS_AGE_KEY_FILE: fallback } : ctx.env;
}

/** The generator's fields that win over every spec. */
function overridesOf(gen: SecretGeneratorConfig): SecretOverrides {
  const o: SecretOverrides = {};
  if (gen.namespace !== undefined) o.namespace = gen.namespace;
  if (gen.type !== undefined) o.type = gen.type;
  if (gen.encoding !== undefined) o.encoding = gen.encoding;
  return o;
}

/**
 * Decrypts the generator's environment and renders its Secrets: the generator's `secrets`, else
 * the environment's `render.secrets`, else one Secret named after the generator. Values the MAC
 * does not cover and keys set by several files are warnings through `ctx.warn`, as in `render`.
 * @throws ConfigError/ConfigNotFoundError (config, environment), GeneratorError (`files`),
 * NoKeyError, MacMismatchError… (decryption), RenderError (names, keys, typed Secrets);
 * under the generator's `strict`, MergeConflictError and MacUncoveredError.
 */
export async function runGenerator(
  ctx: OpsContext,
  gen: SecretGeneratorConfig,
  opts: GeneratorOptions,
): Promise<GeneratorRun> {
  const configPath = await generatorConfigPath(ctx, gen);
  const files = await selectedFiles(ctx, configPath, gen);
  const sources = opts.sources ?? (await keySources({ ...ctx, env: await keyFileEnv(ctx, dirname(configPath)) }, {}));
  const strict = gen.strict ?? false;
  const loaded = await loadEnvironment(ctx, {
    env: gen.environment,
    sources,
    configPath,
    strict,
    ...(files === undefined ? {} : { files }),
  });
  // A Secret key `PATH` with an empty value becomes `PATH=` in a pod's env as surely as in `exec`.
  checkUncovered(loaded, ctx, strict);
  const specs = gen.secrets ?? loaded.environment.render?.secrets ?? [{ name: gen.name }];
  const manifests = renderSecrets(loaded.tree, {
    environment: loaded.environment.name,
    specs,
    overrides: overridesOf(gen),
  });
  return { generator: gen, environment: loaded.environment.name, manifests, files: loaded.files };
}

/** The answer to a ResourceList, and the runs that succeeded (for the audit). */
export interface ResourceListRun {
  output: ResourceListOutput;
  runs: GeneratorRun[];
}

/**
 * Runs every generator of `list` one after the other and builds the answer. A failing generator becomes an error result; the others still run, so
 * one kpt invocation shows every problem. Warnings (keys set by several files, values the MAC
 * does not cover…) become `warning` results about their generator instead of going to
 * `ctx.warn`: kpt shows results next to the function.
 */
export async function runResourceList(
  outer: OpsContext,
  list: ParsedResourceList,
  opts: GeneratorOptions,
): Promise<ResourceListRun> {
  const extra: KrmResult[] = [];
  const outcomes: GeneratorOutcome[] = [];
  const runs: GeneratorRun[] = [];
  const found = findGenerators(list);
  for (const f of found) {
    if (!f.ok) {
      outcomes.push({ ok: false, ref: f.ref, origin: f.origin, error: f.error });
      continue;
    }
    const ctx: OpsContext = {
      ...outer,
      warn: (m) => {
        extra.push(generatorResult(f.ref, f.generator.origin, m, 'warning'));
      },
    };
    try {
      const run = await runGenerator(ctx, f.generator, opts);
      runs.push(run);
      outcomes.push({ ok: true, ref: f.ref, origin: f.generator.origin, resources: run.manifests });
    } catch (error) {
      outcomes.push({ ok: false, ref: f.ref, origin: f.generator.origin, error });
    }
  }
  if (found.length === 0)
    extra.push({ message: 'no sealant.dev/v1 SecretGenerator in the input: nothing generated', severity: 'info' });
  return { output: buildResourceList(list, outcomes, extra), runs };
}

/** Names of what a run exposed, for the audit: `<secret>/<key>`, never a value. */
function exposedKeys(manifests: readonly SecretManifest[]): string[] {
  return manifests.flatMap((m) => Object.keys(m.data ?? m.stringData ?? {}).map((k) => `${m.metadata.name}/${k}`));
}

/**
 * Writes one audit event (`event: krm`) for a generator run, before its Secrets are printed.
 * @throws ReadError (a source file vanished), WriteError (the audit log cannot be written).
 */
export async function auditGeneratorRun(ctx: OpsContext, run: GeneratorRun, sink: AuditSink): Promise<void> {
  const files = await readAuditSources(ctx.cwd, run.files);
  const event = buildAuditEvent({
    event: 'krm',
    environment: run.environment,
    files,
    keys: exposedKeys(run.manifests),
    output: 'stdout',
    env: ctx.env,
    now: ctx.now(),
  });
  await writeAuditEvent(event, sink);
}

/** The Secrets of a run as a kustomize exec plugin prints them: multi-document YAML. Holds secrets. */
export function generatorRunYaml(run: GeneratorRun): string {
  return secretsToYaml(run.manifests);
}

/**
 * The kustomize plugin home to install into: `dir` when given, else $KUSTOMIZE_PLUGIN_HOME, else
 * $XDG_CONFIG_HOME/kustomize/plugin, else ~/.config/kustomize/plugin; absolute.
 */
export function kustomizePluginHome(dir: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(dir ?? defaultPluginHome(env, homedir()));
}

/** Where {@link installKustomizePlugin} wrote. */
export interface InstalledPlugin {
  /** The executable kustomize runs. */
  plugin: string;
  /** The sealant entry point it runs. */
  entryPoint: string;
}

/**
 * Writes the legacy kustomize exec plugin for `sealant.dev/v1 SecretGenerator` under `dir`
 * (kustomize's plugin home), mode 0755; an existing one is replaced.
 * @param entryPoint absolute path of this installation's `bin/run.js`.
 * @throws WriteError when the directory or file cannot be written.
 */
export async function installKustomizePlugin(dir: string, entryPoint: string): Promise<InstalledPlugin> {
  const plugin = kustomizePluginPath(resolve(dir));
  try {
    await mkdir(dirname(plugin), { recursive: true });
  } catch (err) {
    throw new WriteError(`cannot create the plugin directory (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
      file: dirname(plugin),
      cause: err,
    });
  }
  await writeFileAtomic(plugin, kustomizePluginScript(entryPoint), { mode: 0o755 });
  // The temp file's mode went through the umask; the plugin must be executable whatever it is.
  await chmod(plugin, 0o755);
  return { plugin, entryPoint };
}
