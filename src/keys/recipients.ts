/**
 * Naming recipients as users read them (`age1…`, ARNs, `pgp:FPR`), and the recipients a file's
 * metadata names.
 */
import type { KmsStanza, SopsMetadata, WrappedGroup } from '../format/metadata.js';
import type { GroupRecipients, KmsRecipient } from './datakey.js';

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
