/**
 * Finding and loading the project configuration, and answering the two questions the rest of
 * sealant asks it: which environment owns this file (ops/config-files.ts lists the files an
 * environment owns).
 *
 * `.sealant.yaml` is preferred; without one, a SOPS `.sops.yaml` is honoured with SOPS's own
 * semantics (first matching creation rule wins). Nothing here reads `process.env` or the
 * working directory: callers pass them.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, relative, resolve } from 'node:path';
import { ConfigError, ReadError, SealantError, UsageError, type SealantErrorOptions } from '../errors.js';
import { configRelativePath, selects } from './files.js';
import { SEALANT_CONFIG_FILE, SOPS_CONFIG_FILE, type EnvironmentConfig, type ProjectConfig } from './model.js';
import { parseSealantConfig } from './sealant-config.js';
import { parseSopsConfig } from './sops-config.js';
import { decodeUtf8 } from '../util/utf8.js';

export type { EnvironmentConfig, ProjectConfig } from './model.js';
export { SEALANT_CONFIG_FILE, SOPS_CONFIG_FILE } from './model.js';
export { parseSealantConfig } from './sealant-config.js';
export { parseSopsConfig } from './sops-config.js';

type Env = Readonly<Record<string, string | undefined>>;

/** SOPS looks at most this many directories up (`config.maxDepth`). */
const MAX_DEPTH = 100;

/** The config file named by `--config` does not exist (SOPS's exit code 61, ConfigFileNotFound). */
export class ConfigNotFoundError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('CONFIG_NOT_FOUND', message, options);
  }
}

/** A config file that was found, and which syntax it is in. */
export interface FoundConfig {
  path: string;
  kind: 'sealant' | 'sops';
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** An explicit path's kind: by name when it says so, else by content (`creation_rules` = SOPS). */
async function kindOf(path: string): Promise<'sealant' | 'sops'> {
  const name = basename(path);
  if (name.includes('sealant')) return 'sealant';
  if (name.includes('sops')) return 'sops';
  const text = await readFile(path, 'utf8').catch(() => '');
  return /^creation_rules\s*:/m.test(text) && !/^environments\s*:/m.test(text) ? 'sops' : 'sealant';
}

/**
 * `--config -`: `-` means standard input everywhere, but a config cannot come from there (its
 * directory anchors the `files:` globs and `path_regex`), and must not be a file called `-`.
 * @throws UsageError
 */
function refuseStdinConfig(override: string | undefined): void {
  if (override === '-')
    throw new UsageError('--config names a file; the config cannot be read from standard input', {
      hint: 'name the file (a file called "-" is ./-)',
    });
}

/**
 * Finds the config file for a command run in `cwd`.
 *
 * Order: `override` (`--config`); else walking up from `cwd` (at most 100 levels, like SOPS),
 * the first directory holding `.sealant.yaml` or `.sops.yaml` wins, `.sealant.yaml` first in
 * the same directory. `SOPS_CONFIG` in `env` replaces the `.sops.yaml` lookup (as in SOPS) but
 * not a `.sealant.yaml`.
 *
 * @returns undefined when there is no config file.
 * @throws ConfigNotFoundError (exit 61) when `override` or `SOPS_CONFIG` names a missing file.
 */
export async function findConfig(cwd: string, env: Env, override?: string): Promise<FoundConfig | undefined> {
  refuseStdinConfig(override);
  if (override !== undefined) {
    const path = resolve(cwd, override);
    if (!(await isFile(path))) throw new ConfigNotFoundError('config file not found', { file: override });
    return { path, kind: await kindOf(path) };
  }
  const sopsOverride =
    env.SOPS_CONFIG !== undefined && env.SOPS_CONFIG !== '' ? resolve(cwd, env.SOPS_CONFIG) : undefined;
  let dir = resolve(cwd);
  for (let i = 0; i < MAX_DEPTH; i++) {
    const sealant = resolve(dir, SEALANT_CONFIG_FILE);
    if (await isFile(sealant)) return { path: sealant, kind: 'sealant' };
    const sops = resolve(dir, SOPS_CONFIG_FILE);
    if (sopsOverride === undefined && (await isFile(sops))) return { path: sops, kind: 'sops' };
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  if (sopsOverride === undefined) return undefined;
  if (!(await isFile(sopsOverride)))
    throw new ConfigNotFoundError('config file not found (SOPS_CONFIG)', { file: env.SOPS_CONFIG });
  return { path: sopsOverride, kind: 'sops' };
}

/**
 * The `.sops.yaml` SOPS itself would use from `cwd` (ignoring any `.sealant.yaml`): `override`,
 * else `SOPS_CONFIG`, else the nearest `.sops.yaml` up to 100 directories up.
 * @returns undefined when there is none.
 * @throws ConfigNotFoundError when `override` or `SOPS_CONFIG` names a missing file.
 */
export async function findSopsConfig(cwd: string, env: Env, override?: string): Promise<string | undefined> {
  refuseStdinConfig(override);
  const named = override ?? (env.SOPS_CONFIG === '' ? undefined : env.SOPS_CONFIG);
  if (named !== undefined) {
    const path = resolve(cwd, named);
    if (!(await isFile(path))) throw new ConfigNotFoundError('config file not found', { file: named });
    return path;
  }
  let dir = resolve(cwd);
  for (let i = 0; i < MAX_DEPTH; i++) {
    const sops = resolve(dir, SOPS_CONFIG_FILE);
    if (await isFile(sops)) return sops;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

/** Options of {@link loadProjectConfig}. */
export interface LoadConfigOptions {
  cwd: string;
  env: Env;
  /** `--config`: use this file instead of looking one up. */
  path?: string;
}

/**
 * Finds ({@link findConfig}) and parses the project config.
 * @returns undefined when there is none (or only a `.sops.yaml` without `creation_rules`).
 * @throws ConfigNotFoundError for a missing `--config`/`SOPS_CONFIG` file, ReadError when it
 * cannot be read, ConfigError (exit 5, with file:line) when it is invalid.
 */
export async function loadProjectConfig(opts: LoadConfigOptions): Promise<ProjectConfig | undefined> {
  const found = await findConfig(opts.cwd, opts.env, opts.path);
  if (found === undefined) return undefined;
  return readProjectConfig(found, opts.cwd);
}

/**
 * Reads and parses a config file found by {@link findConfig}.
 * @throws ReadError, ConfigError.
 */
export async function readProjectConfig(found: FoundConfig, cwd: string): Promise<ProjectConfig | undefined> {
  const shown = relative(cwd, found.path) || found.path;
  let bytes: Buffer;
  try {
    bytes = await readFile(found.path);
  } catch (e) {
    throw new ReadError('cannot read config file', { file: shown, cause: e });
  }
  const text = decodeUtf8(bytes, shown);
  return found.kind === 'sealant'
    ? parseSealantConfig(text, found.path, shown)
    : parseSopsConfig(text, found.path, shown);
}

/**
 * The environment that owns `filePath` (resolved against `cwd`).
 *
 * - `.sealant.yaml`: the one environment whose globs (or `path_regex`) match the path relative
 *   to the config directory; files outside that directory belong to none.
 * - `.sops.yaml`: the first creation rule that matches, exactly as SOPS picks it.
 *
 * @returns undefined when no environment (or rule) matches.
 * @throws ConfigError naming both environments when a file matches two in `.sealant.yaml`.
 */
export function environmentFor(config: ProjectConfig, filePath: string, cwd: string): EnvironmentConfig | undefined {
  const { path, inside } = configRelativePath(config.root, resolve(cwd, filePath));
  if (config.kind === 'sops') return config.environments.find((e) => selects(e, path));
  if (!inside) return undefined;
  const matches = config.environments.filter((e) => selects(e, path));
  if (matches.length > 1) {
    const [a, b] = matches as [EnvironmentConfig, EnvironmentConfig];
    const line = (e: EnvironmentConfig) => (e.line === undefined ? '' : ` (line ${e.line})`);
    throw new ConfigError(
      `matches environments "${a.name}"${line(a)} and "${b.name}"${line(b)}; a file must belong to exactly one`,
      {
        file: relative(cwd, resolve(cwd, filePath)) || filePath,
        hint: `narrow the files globs in ${relative(cwd, config.path) || config.path} (a "!glob" entry excludes)`,
      },
    );
  }
  return matches[0];
}

/**
 * The environment called `name`.
 * @throws ConfigError listing the environments that exist.
 */
export function environmentByName(config: ProjectConfig, name: string): EnvironmentConfig {
  const env = config.environments.find((e) => e.name === name);
  if (env !== undefined) return env;
  const known = config.environments.map((e) => e.name).join(', ') || 'none';
  throw new ConfigError(`no environment "${name}" (known: ${known})`, { file: config.path });
}
