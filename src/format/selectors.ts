/**
 * Which leaves are encrypted (`sops.go` shouldBeEncrypted). At most one of the six rules may be
 * set; with none, SOPS assumes `unencrypted_suffix: _unencrypted`.
 */
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

/**
 * Go RE2 syntax mostly matches JavaScript's; the common exception is a leading inline flag
 * group such as `(?i)`, which we turn into RegExp flags.
 * @throws UsageError when the pattern is not a valid regular expression.
 */
export function compileGoRegex(pattern: string): RegExp {
  let flags = 'u';
  let source = pattern;
  const m = /^\(\?([imsU]+)\)/.exec(source);
  if (m !== null) {
    source = source.slice(m[0].length);
    for (const f of m[1] ?? '') if (f === 'i' || f === 'm' || f === 's') flags += f;
  }
  try {
    return new RegExp(source, flags);
  } catch {
    try {
      return new RegExp(source, flags.replace('u', ''));
    } catch {
      throw new UsageError(`invalid regular expression ${JSON.stringify(pattern)}`);
    }
  }
}

/** A compiled rule: decides for a leaf (by its key path) or a comment (by the comment stack). */
export class Selector {
  readonly rule: CryptRule;
  private readonly re: RegExp | undefined;

  constructor(rule: CryptRule = DEFAULT_CRYPT_RULE) {
    this.rule = rule;
    this.re = rule.field.endsWith('_regex') ? compileGoRegex(rule.value) : undefined;
  }

  /**
   * Whether the item at `keys` (mapping keys from the root) is encrypted, given the comment
   * stack (one run of comment texts per nesting level). For a comment, its own text is the
   * last entry of the last run; `encrypted_comment_regex` does not count that line itself.
   */
  shouldEncrypt(keys: readonly string[], commentStack: readonly (readonly string[])[], isComment: boolean): boolean {
    const { field, value } = this.rule;
    const re = this.re;
    switch (field) {
      case 'unencrypted_suffix':
        return !keys.some((k) => k.endsWith(value));
      case 'encrypted_suffix':
        return keys.some((k) => k.endsWith(value));
      case 'unencrypted_regex':
        return !keys.some((k) => re!.test(k));
      case 'encrypted_regex':
        return keys.some((k) => re!.test(k));
      case 'unencrypted_comment_regex':
        return !commentStack.some((run) => run.some((c) => re!.test(c)));
      case 'encrypted_comment_regex': {
        const last = commentStack.length - 1;
        return commentStack.some((run, i) =>
          run.some((c, j) => !(isComment && i === last && j === run.length - 1) && re!.test(c)),
        );
      }
    }
  }
}
