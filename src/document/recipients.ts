/**
 * Comparing the master keys a file has with the recipients its environment should have.
 */
import type { SopsMetadata } from '../format/metadata.js';
import type { GroupRecipients } from '../keys/datakey.js';
import { groupNames } from '../keys/recipients.js';

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
