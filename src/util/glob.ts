/**
 * The globs of `.sealant.yaml` (`files:`, `schemas[].files`, `policies[].keys`, `parity_ignore`),
 * with minimatch's meaning (`dot: true`: `*`, `**`, `?`, `[...]` with POSIX classes, `{a,b}` and
 * `{1..3}`, `+(a|b)`-style extglobs, `\` escapes) but matched in linear time. Globs come from a
 * file anyone can edit in a pull request, and minimatch's backtracking regexes take exponential
 * time on `*a*a*a*a*a*a*a*a*a*a*a*a*c` against a long name: minimatch only parses here, and the
 * whole glob becomes one RE2 program (re2js).
 */
import { GLOBSTAR, Minimatch, type MMRegExp } from 'minimatch';
import { RE2JS } from 're2js';
import { UsageError } from '../errors.js';

const OPTIONS = { dot: true, nocomment: true, nonegate: true } as const;

/**
 * What minimatch puts before a segment pattern that may start with a dot: a lookahead refusing
 * the segments `.` and `..`. RE2 has no lookahead; the segment is checked for that in code.
 */
const NO_TRAVERSAL = '(?!(?:^|/)\\.\\.?(?:$|/))';

/** One compiled glob: `test` is a full match of a `/`-separated path. */
export interface Glob {
  test(path: string): boolean;
}

type Part = typeof GLOBSTAR | ((segment: string) => boolean);

const traversal = (segment: string) => segment === '.' || segment === '..';

/**
 * Compiles `glob` (a pattern as written, without a leading `!` of exclusion). minimatch parses
 * it into brace-expanded alternatives of path segments; each segment pattern is one RE2 program
 * and the alternative is matched against the path's segments by a set-of-states walk, so a test
 * costs at most (path segments × glob segments) linear-time segment matches, whatever the glob.
 * @throws UsageError naming the (non-secret) glob when it has no linear-time form: a negated
 * extglob `!(…)` needs a lookahead, which RE2 does not have.
 */
export function compileGlob(glob: string): Glob {
  const mm = new Minimatch(glob, OPTIONS);
  if (mm.empty) return { test: (path) => path === '' };
  const alternatives = mm.set.map((parts) => parts.map((p) => part(glob, p)));
  return {
    test(path) {
      // As minimatch: runs of `/` are one separator, and a trailing `/` may be left out (`a/*` matches `a/b/`).
      const segments = path.split(/\/+/);
      const trimmed = segments.length > 1 && segments.at(-1) === '' ? segments.slice(0, -1) : undefined;
      return alternatives.some((a) => walk(a, segments) || (trimmed !== undefined && walk(a, trimmed)));
    },
  };
}

function part(glob: string, p: string | typeof GLOBSTAR | MMRegExp): Part {
  if (p === GLOBSTAR) return GLOBSTAR;
  if (typeof p === 'string') return (segment) => segment === p;
  const src = p._src ?? p.source.slice(1, -1);
  const noTraversal = src.startsWith(NO_TRAVERSAL);
  let re: RE2JS;
  try {
    re = RE2JS.compile(`^(?:${noTraversal ? src.slice(NO_TRAVERSAL.length) : src})$`);
  } catch {
    throw new UsageError(`glob ${JSON.stringify(glob)} cannot be matched (a negated extglob !(…) is not supported)`);
  }
  return noTraversal ? (segment) => !traversal(segment) && re.matches(segment) : (segment) => re.matches(segment);
}

/**
 * Whether `parts` match all of `segments`: `**` takes zero or more segments other than `.` and
 * `..`, and at the end of the glob at least one (`a/**` does not match `a`).
 */
function walk(parts: readonly Part[], segments: readonly string[]): boolean {
  const last = parts.length - 1;
  // States: how many parts are matched so far; closed over a `**` that matches nothing.
  const close = (states: Set<number>, i: number) => {
    states.add(i);
    while (parts[i] === GLOBSTAR && i < last) states.add(++i);
  };
  let states = new Set<number>();
  close(states, 0);
  for (const segment of segments) {
    const next = new Set<number>();
    for (const i of states) {
      const p = parts[i];
      if (p === undefined) continue;
      if (p === GLOBSTAR) {
        if (traversal(segment)) continue;
        close(next, i);
        if (i === last) next.add(i + 1);
      } else if (p(segment)) close(next, i + 1);
    }
    if (next.size === 0) return false;
    states = next;
  }
  return states.has(parts.length);
}

/** Whether some glob of `globs` (`!`-prefixed ones excluding) selects `path`; a list of exclusions only selects nothing. */
export function globListMatcher(globs: readonly string[]): (path: string) => boolean {
  const include = globs.filter((g) => !g.startsWith('!')).map(compileGlob);
  const exclude = globs.filter((g) => g.startsWith('!')).map((g) => compileGlob(g.slice(1)));
  return (path) => include.some((g) => g.test(path)) && !exclude.some((g) => g.test(path));
}
