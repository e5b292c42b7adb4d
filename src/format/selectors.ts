/**
 * Which leaves are encrypted (`sops.go` shouldBeEncrypted). At most one of the six rules may be
 * set; with none, SOPS assumes `unencrypted_suffix: _unencrypted`.
 */
import { RE2JS } from 're2js';
import { UsageError } from '../errors.js';

export const CRYPT_RULE_FIELDS = [
  'unencrypted_suffix',
  'encrypted_suffix',
  'unencrypted_regex',
  'encrypted_regex',
  'unencrypted_comment_regex',
  'encrypted_comment_regex',
] as const;

export type CryptRuleField = (typeof CRYPT_RULE_FIELDS)[number];

/** The one encryption rule of a file. */
export interface CryptRule {
  field: CryptRuleField;
  value: string;
}

export const DEFAULT_CRYPT_RULE: CryptRule = { field: 'unencrypted_suffix', value: '_unencrypted' };

/**
 * Picks the single rule out of a set of optional fields.
 * @throws UsageError when more than one is set (SOPS refuses too).
 */
export function cryptRuleFrom(fields: Partial<Record<CryptRuleField, string | undefined>>): CryptRule | undefined {
  const set = CRYPT_RULE_FIELDS.filter((f) => fields[f] !== undefined && fields[f] !== '');
  if (set.length > 1) throw new UsageError(`only one of ${set.join(', ')} may be set`);
  const field = set[0];
  return field === undefined ? undefined : { field, value: fields[field] as string };
}

/** A compiled selector or path pattern: Go RE2 syntax and meaning, matched in linear time. */
export interface GoRegex {
  /** Whether the pattern matches somewhere in `input` (unanchored, as Go's `MatchString`). */
  test(input: string): boolean;
}

/**
 * Compiles a pattern the way sops does (Go's `regexp`, RE2). Patterns come from files anyone
 * can edit in a pull request, so a backtracking engine would let `^(a+)+$` hang every reader;
 * re2js is a port of Go's engine: linear time, and Go's syntax (`(?i)` anywhere, `(?P<n>…)`,
 * `\pL`, `[[:alpha:]]`, `\A`/`\z`) with Go's meaning, while JS-only syntax such as lookahead is
 * refused as Go refuses it.
 * @throws UsageError when the pattern is not a valid Go regular expression.
 */
export function compileGoRegex(pattern: string): GoRegex {
  try {
    return RE2JS.compile(pattern);
  } catch {
    throw new UsageError(`invalid regular expression ${JSON.stringify(pattern)} (Go RE2 syntax)`);
  }
}

/** A compiled rule: decides for a leaf (by its key path) or a comment (by the comment stack). */
export class Selector {
  readonly rule: CryptRule;
  private readonly re: GoRegex | undefined;
  /** Keys repeat on every path below them: match each distinct string once. */
  private readonly matched = new Map<string, boolean>();

  constructor(rule: CryptRule = DEFAULT_CRYPT_RULE) {
    this.rule = rule;
    this.re = rule.field.endsWith('_regex') ? compileGoRegex(rule.value) : undefined;
  }

  private matches(text: string): boolean {
    let hit = this.matched.get(text);
    if (hit === undefined) {
      hit = this.re!.test(text);
      this.matched.set(text, hit);
    }
    return hit;
  }

  /**
   * Whether the item at `keys` (mapping keys from the root) is encrypted, given the comment
   * stack (one run of comment texts per nesting level). For a comment, its own text is the
   * last entry of the last run; `encrypted_comment_regex` does not count that line itself.
   */
  shouldEncrypt(keys: readonly string[], commentStack: readonly (readonly string[])[], isComment: boolean): boolean {
    const { field, value } = this.rule;
    switch (field) {
      case 'unencrypted_suffix':
        return !keys.some((k) => k.endsWith(value));
      case 'encrypted_suffix':
        return keys.some((k) => k.endsWith(value));
      case 'unencrypted_regex':
        return !keys.some((k) => this.matches(k));
      case 'encrypted_regex':
        return keys.some((k) => this.matches(k));
      case 'unencrypted_comment_regex':
        return !commentStack.some((run) => run.some((c) => this.matches(c)));
      case 'encrypted_comment_regex': {
        const last = commentStack.length - 1;
        return commentStack.some((run, i) =>
          run.some((c, j) => !(isComment && i === last && j === run.length - 1) && this.matches(c)),
        );
      }
    }
  }
}
