/**
 * Which files a command works on: the files named on the command line, or every file an
 * environment owns (`--env`), each paired with the environment the project config assigns it.
 */
import { relative } from 'node:path';
import { ConfigError } from '../errors.js';
import { environmentByName, environmentFor, loadProjectConfig } from '../config/index.js';
import { filesOf } from './config-files.js';
import type { EnvironmentConfig, ProjectConfig } from '../config/model.js';
import type { OpsContext } from './context.js';

export interface Target {
  file: string;
  environment: EnvironmentConfig | undefined;
}

export interface TargetOptions {
  files?: readonly string[];
  env?: string;
  /** `--config` override. */
  configPath?: string;
  /** Whether every target must belong to an environment (updatekeys). */
  requireEnvironment?: boolean;
}

/**
 * Resolves the targets of a bulk command.
 * @throws ConfigError when `--env` is given without a config, names an unknown environment, or a
 * named file belongs to another environment; or when `requireEnvironment` and a file has none.
 */
export async function resolveTargets(
  ctx: OpsContext,
  opts: TargetOptions,
): Promise<{ config: ProjectConfig | undefined; targets: Target[] }> {
  const config = await loadProjectConfig({
    cwd: ctx.cwd,
    env: ctx.env,
    ...(opts.configPath === undefined ? {} : { path: opts.configPath }),
  });
  const files = opts.files ?? [];
  if (config === undefined) {
    if (opts.env !== undefined || opts.requireEnvironment === true)
      throw new ConfigError('no .sealant.yaml or .sops.yaml found', {
        hint: 'create one (see docs/config.md) or run from the repository root',
      });
    return { config, targets: files.map((file) => ({ file, environment: undefined })) };
  }
  let targets: Target[];
  if (opts.env !== undefined) {
    const env = environmentByName(config, opts.env);
    const owned = files.length > 0 ? [...files] : (await filesOf(config, env)).map((f) => relative(ctx.cwd, f) || f);
    targets = owned.map((file) => {
      const actual = environmentFor(config, file, ctx.cwd);
      if (actual !== undefined && actual.name !== env.name)
        throw new ConfigError(`belongs to environment "${actual.name}", not "${env.name}"`, { file });
      return { file, environment: env };
    });
  } else if (files.length > 0) {
    targets = files.map((file) => ({ file, environment: environmentFor(config, file, ctx.cwd) }));
  } else {
    targets = [];
    for (const env of config.environments)
      for (const f of await filesOf(config, env)) targets.push({ file: relative(ctx.cwd, f) || f, environment: env });
  }
  if (opts.requireEnvironment === true) {
    const orphan = targets.find((t) => t.environment === undefined);
    if (orphan !== undefined)
      throw new ConfigError('no environment in the config owns this file', { file: orphan.file });
  }
  return { config, targets };
}
