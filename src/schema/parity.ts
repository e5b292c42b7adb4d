/**
 * Key parity across environments: a key path one environment's files have (union over its
 * files) that another's lack is usually a forgotten secret. Pure: callers pass the key paths.
 */
import { formatPath } from '../errors.js';
import { walk, type MapNode } from '../format/tree.js';
import { compileGlob } from '../util/glob.js';

/** The key paths of one environment, with where each was first seen. */
export interface EnvironmentKeys {
  name: string;
  /** Dotted key path (`db.password`; sequence indexes left out) → file and JSON pointer. */
  keys: Map<string, { file: string; doc: number; pointer: string }>;
  /** `parity_ignore` of this environment. */
  ignore: readonly string[];
}

/** One gap: `path` is in `presentIn` (first at `where`) but not in `missingIn`. */
export interface ParityGap {
  path: string;
  missingIn: string[];
  presentIn: string[];
  where: { file: string; doc: number; pointer: string };
}

/** Adds the leaf key paths of `documents` (from `file`) to `keys`. Sequence items count as their list. */
export function collectKeys(keys: EnvironmentKeys['keys'], documents: readonly MapNode[], file: string): void {
  documents.forEach((d, doc) => {
    for (const v of walk(d)) {
      if (v.kind !== 'scalar' || v.keys.length === 0) continue;
      const path = formatPath(v.keys);
      if (!keys.has(path))
        keys.set(path, {
          file,
          doc,
          pointer: `/${v.path.map((s) => String(s).replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`,
        });
    }
  });
}

/** A glob list matching a key path or any of its ancestors (`tls` and `tls.*` both cover `tls.cert`). */
function matcher(globs: readonly string[]): (path: string) => boolean {
  const ms = globs.map(compileGlob);
  return (path) => {
    const parts = path.split('.');
    for (let i = parts.length; i > 0; i--) {
      const prefix = parts.slice(0, i).join('.');
      if (ms.some((m) => m.test(prefix))) return true;
    }
    return false;
  };
}

/**
 * The gaps between environments, sorted by path. A path is exempt when the top-level allow-list
 * matches it, for an environment whose own `parity_ignore` matches it, and entirely when every
 * environment that has it ignores it.
 * @param only - report only gaps involving this environment.
 */
export function findParityGaps(
  envs: readonly EnvironmentKeys[],
  globalIgnore: readonly string[],
  only?: string,
): ParityGap[] {
  const global = matcher(globalIgnore);
  const own = new Map(envs.map((e) => [e.name, matcher(e.ignore)]));
  const all = new Set(envs.flatMap((e) => [...e.keys.keys()]));
  const gaps: ParityGap[] = [];
  for (const path of [...all].sort()) {
    if (global(path)) continue;
    const present = envs.filter((e) => e.keys.has(path));
    if (present.every((e) => own.get(e.name)!(path))) continue;
    const missing = envs.filter((e) => !e.keys.has(path) && !own.get(e.name)!(path));
    if (missing.length === 0) continue;
    if (only !== undefined && !present.concat(missing).some((e) => e.name === only)) continue;
    gaps.push({
      path,
      missingIn: missing.map((e) => e.name),
      presentIn: present.map((e) => e.name),
      where: present[0]!.keys.get(path)!,
    });
  }
  return gaps;
}
