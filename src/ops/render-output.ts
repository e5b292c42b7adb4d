/**
 * `render`: one environment to a deploy-time format, written to stdout or to a 0600 file that
 * git does not track, with one audit event per run.
 */
import { resolve } from 'node:path';
import { SealantError } from '../errors.js';
import { gitDirOf, isTrackedOrUnignored } from '../fsx/git.js';
import { stagingPath, writeFileAtomic } from '../fsx/atomic.js';
import type { KeySources } from '../keys/datakey.js';
import { envVars, renderDockerEnv, renderDotenv } from '../render/dotenv.js';
import { renderJson, renderYaml } from '../render/json.js';
import { renderSecrets, secretsToYaml, type SecretOverrides } from '../render/k8s.js';
import { flattenTree } from '../render/values.js';
import { buildAuditEvent, readAuditSources, writeAuditEvent } from './audit.js';
import type { OpsContext } from './context.js';
import { checkUncovered, loadEnvironment, type LoadedEnvironment } from './render.js';

export const RENDER_FORMATS = ['dotenv', 'docker-env', 'json', 'yaml', 'k8s'] as const;
export type RenderFormat = (typeof RENDER_FORMATS)[number];

/** The text of `loaded` in `format`, and the names of what it holds (variables, Secret keys or key paths — never values). */
export function renderLoaded(
  loaded: LoadedEnvironment,
  format: RenderFormat,
  overrides: SecretOverrides = {},
): { text: string; keys: string[] } {
  const naming = loaded.environment.render?.dotenv;
  switch (format) {
    case 'dotenv':
      return { text: renderDotenv(loaded.tree, naming), keys: envVars(loaded.tree, naming).map(([n]) => n) };
    case 'docker-env':
      return { text: renderDockerEnv(loaded.tree, naming), keys: envVars(loaded.tree, naming).map(([n]) => n) };
    case 'json':
      return { text: renderJson(loaded.tree), keys: flattenTree(loaded.tree).map(([, , k]) => k) };
    case 'yaml':
      return { text: renderYaml(loaded.tree), keys: flattenTree(loaded.tree).map(([, , k]) => k) };
    case 'k8s': {
      const manifests = renderSecrets(loaded.tree, {
        environment: loaded.environment.name,
        specs: loaded.environment.render?.secrets ?? [],
        overrides,
      });
      const keys = manifests.flatMap((m) =>
        Object.keys(m.data ?? m.stringData ?? {}).map((k) => `${m.metadata.name}/${k}`),
      );
      return { text: secretsToYaml(manifests), keys };
    }
  }
}

/** Refusing to put plaintext where `git add` would pick it up. */
export class UnsafeOutputError extends SealantError {
  constructor(file: string, why: string) {
    super('UNSAFE_OUTPUT', `refusing to write decrypted output into a path git ${why}`, {
      file,
      hint: 'write outside the repository, add the path to .gitignore, or pass --force',
    });
  }
}

export interface RenderOptions {
  env: string;
  format: RenderFormat;
  sources: KeySources;
  /** A file path; undefined or '-' = the caller prints `text`. */
  out?: string;
  force?: boolean;
  strict?: boolean;
  configPath?: string;
  overrides?: SecretOverrides;
  auditLog?: string;
  /** Where the audit line goes without `auditLog`. */
  stderr: { write(chunk: string): unknown };
}

export interface RenderResult {
  environment: string;
  format: RenderFormat;
  files: { file: string; unwrappedBy: string[] }[];
  /** Variable names / Secret keys / key paths rendered. */
  keys: string[];
  conflicts: { path: string; files: string[] }[];
  /** The file written, when `out` was a path. */
  output?: string;
  /** The rendered text, when the caller prints it. Holds secrets. */
  text?: string;
}

/**
 * Where to stage `out` so that a crash mid-write leaves no plaintext git would add: next to it
 * (`undefined`) when git ignores the staged name too — every rule that matches the output's
 * name or extension does — else the repository's git directory (a rule anchored to the one
 * path, `/.env`, matches nothing else; git never adds files from its own directory).
 */
async function ignoredStagingDir(out: string, cwd: string): Promise<string | undefined> {
  const staged = await isTrackedOrUnignored(stagingPath(resolve(cwd, out)), cwd);
  if (!staged.inRepo || staged.ignored) return undefined;
  return gitDirOf(out, cwd);
}

/**
 * Renders environment `opts.env`.
 * Values the MAC does not cover are named in a warning ({@link checkUncovered}).
 * @throws UnsafeOutputError when `out` is tracked or not ignored by git (unless `force`),
 * WriteError when `out` is a symlink (never followed) or cannot be written,
 * MacUncoveredError under `strict` for values the MAC does not cover, RenderError for values
 * the format cannot carry, plus everything {@link loadEnvironment} throws.
 */
export async function renderEnvironment(ctx: OpsContext, opts: RenderOptions): Promise<RenderResult> {
  const toFile = opts.out !== undefined && opts.out !== '-';
  let stageIn: string | undefined;
  if (toFile && opts.force !== true) {
    const status = await isTrackedOrUnignored(opts.out!, ctx.cwd);
    if (status.inRepo && status.tracked) throw new UnsafeOutputError(opts.out!, 'tracks');
    if (status.inRepo && !status.ignored) throw new UnsafeOutputError(opts.out!, 'does not ignore');
    if (status.inRepo) stageIn = await ignoredStagingDir(opts.out!, ctx.cwd);
  }
  const loaded = await loadEnvironment(ctx, {
    env: opts.env,
    sources: opts.sources,
    strict: opts.strict ?? false,
    ...(opts.configPath === undefined ? {} : { configPath: opts.configPath }),
  });
  checkUncovered(loaded, ctx, opts.strict ?? false);
  const { text, keys } = renderLoaded(loaded, opts.format, opts.overrides);
  const event = buildAuditEvent({
    event: 'render',
    environment: loaded.environment.name,
    files: await readAuditSources(ctx.cwd, loaded.files),
    keys,
    output: toFile ? opts.out! : 'stdout',
    env: ctx.env,
    now: ctx.now(),
  });
  // The audit line is written before any plaintext leaves: no unaudited output.
  await writeAuditEvent(event, {
    ...(opts.auditLog === undefined ? {} : { auditLog: opts.auditLog }),
    stderr: opts.stderr,
  });
  const result: RenderResult = {
    environment: loaded.environment.name,
    format: opts.format,
    files: loaded.files,
    keys,
    conflicts: loaded.conflicts,
  };
  if (toFile) {
    await writeFileAtomic(opts.out!, text, {
      mode: 0o600,
      noFollow: true,
      ...(stageIn === undefined ? {} : { stageIn }),
    });
    result.output = opts.out!;
  } else result.text = text;
  return result;
}
