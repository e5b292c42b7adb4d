/**
 * `path_regex` and the regex rule fields are Go RE2 patterns, compiled by the one Go-compatible
 * engine the selectors use.
 */
import { compileGoRegex, type GoRegex } from '../format/selectors.js';
import { errorAt, type ConfigYaml } from './yaml-doc.js';

/**
 * Compiles a Go RE2 pattern for an unanchored search, as Go's `regexp.MatchString` does.
 * @throws UsageError naming the (non-secret) pattern when it does not compile.
 */
export function compilePathRegex(pattern: string): GoRegex {
  return compileGoRegex(pattern);
}

/**
 * Checks that a config value compiles.
 * @throws ConfigError at `path` of `y` (the message does not repeat the pattern).
 */
export function checkRegex(y: ConfigYaml, path: readonly (string | number)[], pattern: string): void {
  try {
    compilePathRegex(pattern);
  } catch {
    throw errorAt(y, path, 'is not a valid regular expression (Go RE2 syntax)');
  }
}
