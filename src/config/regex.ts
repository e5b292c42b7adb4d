/**
 * `path_regex` and the regex rule fields are Go RE2 patterns. JavaScript reads most of them
 * the same way; the spellings that differ and are common in `.sops.yaml` files are rewritten.
 */
import { compileGoRegex } from '../format/selectors.js';
import { errorAt, type ConfigYaml } from './yaml-doc.js';

/**
 * Compiles a Go RE2 pattern for an unanchored search, as Go's `regexp.MatchString` does.
 * `(?P<name>…)` becomes `(?<name>…)`, `\A` and `\z` become `^` and `$` (no multiline mode here).
 * @throws UsageError naming the (non-secret) pattern when it does not compile.
 */
export function compilePathRegex(pattern: string): RegExp {
  return compileGoRegex(pattern.replace(/\(\?P</g, '(?<').replace(/\\A/g, '^').replace(/\\z/g, '$'));
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
