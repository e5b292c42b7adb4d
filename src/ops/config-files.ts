/**
 * The files an environment owns, found by walking the project directory.
 */
import { resolve } from 'node:path';
import { configRelativePath, selects, walkBases } from '../config/files.js';
import { environmentFor, type EnvironmentConfig, type ProjectConfig } from '../config/index.js';
import { walkFiles } from '../fsx/walk.js';

/**
 * The files of `env` that exist, as absolute paths sorted by their path relative to the config
 * directory. `.git` and `node_modules` are skipped, symlinks are not followed, and the config
 * file itself is never listed. For `.sops.yaml`, a file counts only when `env` is the first
 * rule that matches it (the one SOPS would use).
 * @throws ConfigError when a listed file of a `.sealant.yaml` also matches another environment.
 */
export async function filesOf(config: ProjectConfig, env: EnvironmentConfig): Promise<string[]> {
  const found = new Set<string>();
  for (const base of walkBases(env)) for (const f of await walkFiles(config.root, base)) found.add(f);
  const configRel = configRelativePath(config.root, config.path).path;
  const owned = [...found].filter((rel) => rel !== configRel && selects(env, rel) && ownerOf(config, rel) === env);
  return owned.sort().map((rel) => resolve(config.root, rel));
}

/** The environment of a path relative to the config root (errors for a sealant file in two). */
function ownerOf(config: ProjectConfig, rel: string): EnvironmentConfig | undefined {
  return environmentFor(config, rel, config.root);
}
