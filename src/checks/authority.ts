/**
 * Whether a file's `sops` block protects its values at least as much as the configuration that
 * owns the file asks for. Nothing in the `sops` block except `lastmodified` is covered by the
 * MAC, so anyone who can open a pull request can change `unencrypted_suffix`, `encrypted_regex`,
 * `mac_only_encrypted` or add a key stanza without a key; for an owned file the config is the
 * authority, and this is the one comparison every write path, `validate`, `guard` and `diff` use.
 *
 * "Weaker" is decided per key path: a rule is weaker than the reference when some key path the
 * reference encrypts would stay in clear under it. That is proved only where it can be decided
 * from the rule text — the same rule, a longer `unencrypted_suffix` ending in the reference's, a
 * shorter `encrypted_suffix` the reference's ends in. Every other difference (another kind of
 * rule, another regex, even an equivalent one) counts as weaker: a false alarm costs a
 * `rotate --adopt-rule`, a missed one costs a secret.
 *
 * Pure: metadata and config in, findings out. Findings name fields and recipients (public), never
 * a value.
 */
import type { EnvironmentConfig } from '../config/model.js';
import type { SopsMetadata } from '../format/metadata.js';
import { DEFAULT_CRYPT_RULE, type CryptRule } from '../format/selectors.js';
import { diffRecipients } from '../document/recipients.js';

/** What protects a file's values: its encryption rule and whether the MAC covers clear values. */
export interface Protection {
  /** undefined = SOPS's default (`unencrypted_suffix: _unencrypted`). */
  rule?: CryptRule | undefined;
  /** undefined = false (the MAC covers every value). */
  macOnlyEncrypted?: boolean | undefined;
}

/** One way a file is weaker than its reference. Part of `validate`/`guard`/`diff` output. */
export interface AuthorityFinding {
  /**
   * `weaker-rule`: values could be left in clear or outside the MAC; `added-recipient`: someone
   * the config does not name may hold the data key; `weaker-threshold`: fewer key groups open it.
   * The last two are what re-wrapping for the environment (`updatekeys`, `rotate`) repairs.
   */
  kind: 'weaker-rule' | 'added-recipient' | 'weaker-threshold';
  /** The `sops` field at fault: a rule field, `mac_only_encrypted`, `shamir_threshold` or `key_groups`. */
  field: string;
  /** One line starting with `sops.FIELD` (naming the recipient where there is one), never a value. */
  message: string;
  /** The recipient that is not in the config (`added-recipient`). */
  recipient?: string;
}

/**
 * Whether every key path `reference` encrypts is provably encrypted by `rule` too.
 * Exact for the suffix rules; for regex and comment rules only an identical rule qualifies.
 */
export function ruleCovers(rule: CryptRule, reference: CryptRule): boolean {
  if (rule.field === reference.field && rule.value === reference.value) return true;
  // A key path stays in clear when any of its keys ends with the suffix: a longer suffix
  // ending in the reference's leaves a subset of what the reference leaves in clear.
  if (rule.field === 'unencrypted_suffix' && reference.field === 'unencrypted_suffix')
    return rule.value.endsWith(reference.value);
  // A key path is encrypted when any of its keys ends with the suffix: a shorter suffix the
  // reference's ends in encrypts a superset.
  if (rule.field === 'encrypted_suffix' && reference.field === 'encrypted_suffix')
    return reference.value.endsWith(rule.value);
  return false;
}

/** A rule as messages show it: quoted, and cut short (the text comes from a file anyone may have edited). */
export function ruleText(rule: CryptRule | undefined): string {
  const r = rule ?? DEFAULT_CRYPT_RULE;
  const value = r.value.length > 80 ? `${r.value.slice(0, 80)}…` : r.value;
  return `${r.field} ${JSON.stringify(value)}${rule === undefined ? " (SOPS's default)" : ''}`;
}

/**
 * How `have` falls short of `want`, which `against` names (`environment "prod"`, `the last
 * commit`): a weaker encryption rule, or `mac_only_encrypted` where `want` has the MAC cover
 * every value.
 */
export function weakerProtection(have: Protection, want: Protection, against: string): AuthorityFinding[] {
  const out: AuthorityFinding[] = [];
  const rule = have.rule ?? DEFAULT_CRYPT_RULE;
  if (!ruleCovers(rule, want.rule ?? DEFAULT_CRYPT_RULE)) {
    out.push({
      kind: 'weaker-rule',
      field: rule.field,
      message: `sops.${ruleText(have.rule)} may leave in clear values that ${against} encrypts (it has ${ruleText(want.rule)})`,
    });
  }
  if (have.macOnlyEncrypted === true && want.macOnlyEncrypted !== true) {
    out.push({
      kind: 'weaker-rule',
      field: 'mac_only_encrypted',
      message: `sops.mac_only_encrypted: true leaves clear values out of the MAC; ${against} does not`,
    });
  }
  return out;
}

/** Whether two protections are the same (the rule as written, and `mac_only_encrypted`). */
export function sameProtection(a: Protection, b: Protection): boolean {
  const ra = a.rule ?? DEFAULT_CRYPT_RULE;
  const rb = b.rule ?? DEFAULT_CRYPT_RULE;
  return (
    ra.field === rb.field && ra.value === rb.value && (a.macOnlyEncrypted === true) === (b.macOnlyEncrypted === true)
  );
}

/** Groups needed to recover the data key: all of them unless a threshold says fewer. */
function needed(groups: number, threshold: number | undefined): number {
  return groups <= 1 ? 1 : (threshold ?? groups);
}

/**
 * Everything in `meta` that is weaker than the environment that owns the file: the encryption
 * rule and `mac_only_encrypted` ({@link weakerProtection}); a master key the environment does
 * not name (it may hold the data key); fewer key groups needed than the environment's threshold.
 * Recipients the environment names but the file lacks are not findings: fewer people can read.
 */
export function authorityFindings(meta: SopsMetadata, env: EnvironmentConfig): AuthorityFinding[] {
  const against = `environment "${env.name}"`;
  const out = weakerProtection(
    { rule: meta.rule, macOnlyEncrypted: meta.macOnlyEncrypted },
    { rule: env.rule, macOnlyEncrypted: env.macOnlyEncrypted },
    against,
  );
  for (const recipient of diffRecipients(meta, env.groups, env.shamirThreshold).removed) {
    out.push({
      kind: 'added-recipient',
      field: 'key_groups',
      recipient,
      message: `sops.key_groups: ${recipient} is not a recipient of ${against}`,
    });
  }
  const configured = new Set(env.unsupportedKeys ?? []);
  for (const o of meta.keyGroups.flatMap((g) => g.other)) {
    if (!configured.has(o.type))
      out.push({
        kind: 'added-recipient',
        field: 'key_groups',
        recipient: o.type,
        message: `sops.key_groups: ${o.type} keys are not recipients of ${against}`,
      });
  }
  const have = needed(meta.keyGroups.length, meta.shamirThreshold);
  const want = needed(env.groups.length, env.shamirThreshold);
  if (have < want)
    out.push({
      kind: 'weaker-threshold',
      field: 'shamir_threshold',
      message: `sops.shamir_threshold: ${have} of ${meta.keyGroups.length} key group(s) open the file; ${against} needs ${want}`,
    });
  return out;
}
