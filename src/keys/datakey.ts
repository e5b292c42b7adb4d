/**
 * Data key wrap/unwrap across key groups: with one group every master key wraps the whole data
 * key; with several, the key is split with Shamir and group i's keys wrap share i. Local age
 * identities are always tried before any network key source, and a network source is never
 * called once the key (or enough shares) has been recovered.
 */
import { randomBytes } from 'node:crypto';
import { NoKeyError, NoRecipientsError } from '../errors.js';
import type { KeyGroup, KmsStanza, PgpStanza, SopsMetadata, WrappedGroup } from '../format/metadata.js';
import { type AgeIdentities, wrapForAgeRecipient } from './age.js';
import { combine, split } from './shamir.js';

/** A KMS-like key source (AWS KMS today): wraps and unwraps over the network. */
export interface KmsKeySource {
  /**
   * @throws an error naming the key ARN and the provider's error code (never key material).
   */
  decrypt(stanza: KmsStanza): Promise<Uint8Array>;
  encrypt(key: KmsRecipient, plaintext: Uint8Array): Promise<KmsStanza>;
}

/** A KMS recipient as configured (before wrapping). */
export interface KmsRecipient {
  arn: string;
  role?: string;
  context?: Record<string, string>;
  awsProfile?: string;
}

/** A PGP key source (the `gpg` binary, so agents and smartcards work). */
export interface PgpKeySource {
  /** @throws an error naming the fingerprint (never key material). */
  decrypt(stanza: PgpStanza): Promise<Uint8Array>;
  encrypt(fingerprint: string, plaintext: Uint8Array): Promise<PgpStanza>;
}

/** Everything that can wrap or unwrap a data key in this run. */
export interface KeySources {
  age: AgeIdentities;
  /** Loaded lazily by `ops/` only when a file has KMS stanzas (CLI start-up never pays for the SDK). */
  kms?: () => Promise<KmsKeySource>;
  /** Loaded lazily only when a file has PGP stanzas. */
  pgp?: () => Promise<PgpKeySource>;
}

/** Which master key unwrapped the data key (for status and audit). */
export interface UnwrapResult {
  dataKey: Uint8Array;
  /** e.g. `age:age1…` or `kms:arn:aws:kms:…`, one per group used. */
  unwrappedBy: string[];
}

async function unwrapGroup(
  group: KeyGroup,
  sources: KeySources,
  failures: string[],
): Promise<{ key: Uint8Array; by: string } | null> {
  if (group.age.length > 0) {
    const r = await sources.age.unwrapFirst(group.age);
    // The identity, not the label: a hand-edited label may name someone else.
    if (r !== null) return { key: r.key, by: `age:${r.identity.recipient}` };
    for (const stanza of group.age) failures.push(`age ${stanza.recipient}: no identity opens it`);
  }
  if (group.pgp.length > 0 && sources.pgp !== undefined) {
    const pgp = await sources.pgp();
    for (const stanza of group.pgp) {
      try {
        return { key: await pgp.decrypt(stanza), by: `pgp:${stanza.fp}` };
      } catch (e) {
        failures.push(e instanceof Error ? e.message : `pgp ${stanza.fp}: ${String(e)}`);
      }
    }
  } else {
    for (const stanza of group.pgp) failures.push(`pgp ${stanza.fp}: no PGP access configured`);
  }
  if (group.kms.length > 0 && sources.kms !== undefined) {
    const kms = await sources.kms();
    for (const stanza of group.kms) {
      try {
        return { key: await kms.decrypt(stanza), by: `kms:${stanza.arn}` };
      } catch (e) {
        failures.push(`kms ${stanza.arn}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  } else {
    for (const stanza of group.kms) failures.push(`kms ${stanza.arn}: no KMS access configured`);
  }
  for (const o of group.other) failures.push(`${o.type}: key type not supported yet (${o.count} stanza(s))`);
  return null;
}

/**
 * Recovers the data key of a file.
 * @throws NoKeyError listing every master key of the file, why it failed, and the public keys
 * of the identities that were tried.
 */
export async function unwrapDataKey(meta: SopsMetadata, sources: KeySources): Promise<UnwrapResult> {
  const failures: string[] = [];
  const groups = meta.keyGroups;
  if (groups.length <= 1) {
    const r = groups[0] === undefined ? null : await unwrapGroup(groups[0], sources, failures);
    if (r !== null && r.key.length === 32) return { dataKey: r.key, unwrappedBy: [r.by] };
    throw noKey(failures, sources);
  }
  const threshold = meta.shamirThreshold ?? groups.length;
  const shares: Uint8Array[] = [];
  const by: string[] = [];
  for (const g of groups) {
    if (shares.length >= threshold) break;
    const r = await unwrapGroup(g, sources, failures);
    if (r !== null) {
      shares.push(r.key);
      by.push(r.by);
    }
  }
  if (shares.length < threshold) {
    throw noKey([`only ${shares.length} of the ${threshold} key groups needed could be opened`, ...failures], sources);
  }
  let dataKey: Uint8Array;
  try {
    dataKey = combine(shares);
  } catch (e) {
    // Shares of different lengths or a repeated x coordinate: a stanza was swapped or edited.
    throw noKey(
      [`the key groups' shares do not combine (${e instanceof Error ? e.message : String(e)})`, ...failures],
      sources,
    );
  }
  return { dataKey, unwrappedBy: by };
}

function noKey(failures: string[], sources: KeySources): NoKeyError {
  const tried = sources.age.recipients();
  const triedText = tried.length === 0 ? 'no age identities were found' : `identities tried: ${tried.join(', ')}`;
  const ageStanzas = failures.some((f) => f.startsWith('age '));
  const loadErrors =
    !ageStanzas || sources.age.loadErrors.length === 0
      ? ''
      : `; errors while loading age identities: ${sources.age.loadErrors.join('; ')}`;
  return new NoKeyError(`no key could decrypt the data key (${failures.join('; ')}; ${triedText}${loadErrors})`);
}

/** The recipients of one key group, as configured (before wrapping). */
export interface GroupRecipients {
  age: string[];
  kms: KmsRecipient[];
  pgp?: string[];
}

/** Number of recipients in a configured group. */
export function recipientCount(g: GroupRecipients): number {
  return g.age.length + g.kms.length + (g.pgp ?? []).length;
}

/**
 * Wraps `dataKey` for every recipient of every group (splitting it with Shamir across groups).
 * With a single group, stanzas in `reuse` that already wrap this same data key for a recipient
 * are kept as they are, so re-wrapping after adding one recipient changes only that stanza.
 * @throws NoRecipientsError when a group has no recipient.
 */
export async function wrapDataKey(
  dataKey: Uint8Array,
  groups: readonly GroupRecipients[],
  threshold: number | undefined,
  sources: Pick<KeySources, 'kms' | 'pgp'>,
  reuse?: WrappedGroup,
): Promise<WrappedGroup[]> {
  if (groups.length === 0 || groups.some((g) => recipientCount(g) === 0)) throw new NoRecipientsError();
  const parts = groups.length === 1 ? [dataKey] : split(dataKey, groups.length, threshold ?? groups.length);
  const keep = groups.length === 1 ? reuse : undefined;
  const kms = groups.some((g) => g.kms.some((k) => !keep?.kms.some((s) => sameKms(s, k))))
    ? await sources.kms?.()
    : undefined;
  const pgp = groups.some((g) => (g.pgp ?? []).some((fp) => !keep?.pgp.some((s) => s.fp === fp)))
    ? await sources.pgp?.()
    : undefined;
  return Promise.all(
    groups.map(async (g, i) => {
      const part = parts[i]!;
      const age = await Promise.all(
        g.age.map((r) => keep?.age.find((s) => s.recipient === r) ?? wrapForAgeRecipient(r, part)),
      );
      const kmsStanzas: KmsStanza[] = [];
      for (const k of g.kms) {
        const existing = keep?.kms.find((s) => sameKms(s, k));
        if (existing !== undefined) kmsStanzas.push(existing);
        else if (kms === undefined) throw new NoRecipientsError({ hint: 'KMS recipients need AWS access' });
        else kmsStanzas.push(await kms.encrypt(k, part));
      }
      const pgpStanzas: PgpStanza[] = [];
      for (const fp of g.pgp ?? []) {
        const existing = keep?.pgp.find((s) => s.fp === fp);
        if (existing !== undefined) pgpStanzas.push(existing);
        else if (pgp === undefined) throw new NoRecipientsError({ hint: 'PGP recipients need gpg' });
        else pgpStanzas.push(await pgp.encrypt(fp, part));
      }
      return { age, kms: kmsStanzas, pgp: pgpStanzas };
    }),
  );
}

/** Same KMS master key: ARN, role, profile and encryption context all equal. */
export function sameKms(s: KmsStanza, k: KmsRecipient): boolean {
  const ctx = (c: Record<string, string> | undefined) => JSON.stringify(Object.entries(c ?? {}).sort());
  return (
    s.arn === k.arn &&
    (s.role ?? '') === (k.role ?? '') &&
    s.awsProfile === (k.awsProfile ?? '') &&
    ctx(s.context) === ctx(k.context)
  );
}

/** A new random 32-byte data key. */
export function newDataKey(): Uint8Array {
  return randomBytes(32);
}
