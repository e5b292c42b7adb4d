/**
 * Comparing the master keys a file has with the recipients its environment should have.
 */
import type { KmsStanza, SopsMetadata, WrappedGroup } from '../format/metadata.js';
import type { GroupRecipients, KmsRecipient } from '../keys/datakey.js';

/** A display name for a KMS key: the ARN, plus role and context when set. */
export function kmsName(k: KmsRecipient | KmsStanza): string {
  let name = k.arn;
  if (k.role !== undefined && k.role !== '') name += `+${k.role}`;
  const ctx = Object.entries(k.context ?? {}).sort();
  if (ctx.length > 0) name += ` (context ${ctx.map(([a, b]) => `${a}:${b}`).join(',')})`;
  return name;
}

/** Names of the master keys of one group, as users read them (`age1…`, ARNs, `pgp:FPR`). */
export function groupNames(g: GroupRecipients | WrappedGroup): string[] {
  const age = g.age.map((a) => (typeof a === 'string' ? a : a.recipient));
  const kms = g.kms.map((k) => kmsName(k));
  const pgp = (g.pgp ?? []).map((p) => `pgp:${typeof p === 'string' ? p.toUpperCase() : p.fp.toUpperCase()}`);
  return [...age, ...kms, ...pgp];
}

/** The recipients a file's metadata names, as configurable groups (for rotate without a config). */
export function recipientsOf(meta: SopsMetadata): GroupRecipients[] {
  return meta.keyGroups.map((g) => ({
    age: g.age.map((a) => a.recipient),
    kms: g.kms.map((k) => ({
      arn: k.arn,
      ...(k.role === undefined ? {} : { role: k.role }),
      ...(k.context === undefined ? {} : { context: k.context }),
      ...(k.awsProfile === '' ? {} : { awsProfile: k.awsProfile }),
    })),
    pgp: g.pgp.map((p) => p.fp),
  }));
}

export interface KeyDiff {
  added: string[];
  removed: string[];
  /** True when anything differs: membership, grouping or threshold. */
  changed: boolean;
}

/** What `updatekeys` would change: recipients added/removed across all groups, and structure. */
export function diffRecipients(
  meta: SopsMetadata,
  wanted: readonly GroupRecipients[],
  wantedThreshold: number | undefined,
): KeyDiff {
  const have = meta.keyGroups.map((g) => new Set(groupNames(g)));
  const want = wanted.map((g) => new Set(groupNames(g)));
  const all = (groups: Set<string>[]) => new Set(groups.flatMap((s) => [...s]));
  const haveAll = all(have);
  const wantAll = all(want);
  const added = [...wantAll].filter((n) => !haveAll.has(n));
  const removed = [...haveAll].filter((n) => !wantAll.has(n));
  const sameGroups =
    have.length === want.length &&
    have.every((s, i) => s.size === want[i]!.size && [...s].every((n) => want[i]!.has(n)));
  const threshold = (groups: number, t: number | undefined) => (groups <= 1 ? undefined : (t ?? groups));
  const sameThreshold = threshold(have.length, meta.shamirThreshold) === threshold(want.length, wantedThreshold);
  return { added, removed, changed: !(sameGroups && sameThreshold) };
}
