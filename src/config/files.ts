/**
 * Which files an environment owns: `files:` globs (`util/glob.ts`: minimatch's meaning, dot files
 * included, `!` to exclude) or a `path_regex`, both applied to the path relative to the config file's
 * directory with `/` separators. The walk that lists the files that exist is fsx/walk.ts.
 */
import { isAbsolute, relative, sep } from 'node:path';
import type { EnvironmentConfig } from './model.js';
import type { GoRegex } from '../format/selectors.js';
import { compilePathRegex } from './regex.js';
import { compileGlob, type Glob } from '../util/glob.js';

interface CompiledFiles {
  include: Glob[];
  exclude: Glob[];
  regex?: GoRegex;
}

const cache = new WeakMap<EnvironmentConfig, CompiledFiles>();

function compiled(env: EnvironmentConfig): CompiledFiles {
  let c = cache.get(env);
  if (c === undefined) {
    c = {
      include: env.files.filter((g) => !g.startsWith('!')).map((g) => compileGlob(g)),
      exclude: env.files.filter((g) => g.startsWith('!')).map((g) => compileGlob(g.slice(1))),
      ...(env.pathRegex === undefined ? {} : { regex: compilePathRegex(env.pathRegex) }),
    };
    cache.set(env, c);
  }
  return c;
}

/**
 * The path SOPS matches `path_regex` against: relative to the config directory when the file is
 * inside it, else absolute (`strings.TrimPrefix(filePath, configDir+"/")`). Always `/`-separated.
 */
export function configRelativePath(root: string, absPath: string): { path: string; inside: boolean } {
  const rel = relative(root, absPath);
  const inside = rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
  const p = inside ? rel : absPath;
  return { path: sep === '/' ? p : p.split(sep).join('/'), inside };
}

/**
 * Whether `env` selects the file at `rel` (relative to the config root, `/`-separated). An
 * environment with neither globs nor a regex (a `.sops.yaml` rule without `path_regex`)
 * selects everything.
 */
export function selects(env: EnvironmentConfig, rel: string): boolean {
  const c = compiled(env);
  if (c.regex !== undefined) return c.regex.test(rel);
  if (c.include.length === 0) return env.files.length === 0;
  return c.include.some((g) => g.test(rel)) && !c.exclude.some((g) => g.test(rel));
}

/** The directory part of a glob before its first wildcard (`environments/dev/**` → `environments/dev`). */
export function staticBase(glob: string): string {
  const parts = glob.split('/');
  const fixed: string[] = [];
  for (const part of parts.slice(0, -1)) {
    if (/[*?[\]{}()!+@\\]/.test(part)) break;
    fixed.push(part);
  }
  return fixed.join('/');
}

/**
 * The directories to walk for `env`: each glob's static base, or the whole root for a regex
 * or an environment without globs. Nested bases are dropped (their parent covers them).
 */
export function walkBases(env: EnvironmentConfig): string[] {
  const globs = env.files.filter((g) => !g.startsWith('!'));
  if (env.pathRegex !== undefined || globs.length === 0) return [''];
  const bases = [...new Set(globs.map(staticBase))].sort();
  return bases.filter((b) => !bases.some((o) => o !== b && (o === '' || b.startsWith(`${o}/`))));
}
