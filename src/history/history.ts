/**
 * The history of one SOPS file, read from git: when each value was last set, which data keys the
 * file has had (eras) and who held each of them — what a rotation plan needs to tell which values
 * a removed recipient could read and how old they are.
 *
 * Keyless by default, and it works because sealant's `set`/`edit` keep an unchanged value's
 * ciphertext byte for byte (`format/cipher.ts`): the commit in which a key path's `ENC[...]`
 * string last changed is when its value was last set. A data-key rotation changes every
 * ciphertext at once, which hides whether a value really changed there; without keys the age
 * then falls back to the last change before the rotation and is marked uncertain. With key
 * sources, both sides of a rotation are decrypted and compared as plaintexts, so ages stay exact.
 *
 * Only committed revisions count: uncommitted changes in the working tree are ignored, so
 * `values` describe the file at HEAD.
 */
import { isUtf8 } from 'node:buffer';
import { SealantError } from '../errors.js';
import { mustGit } from '../git/run.js';
import type { SopsMetadata } from '../format/metadata.js';
import type { KeySources } from '../keys/datakey.js';
import { groupNames } from '../keys/recipients.js';
import { openSide } from '../review/keyed.js';
import { readSide, type Leaf, type Side } from '../review/semantic.js';
import { formatFromPath } from '../stores/index.js';
import { fileLog, type FileHistoryEntry } from './log.js';

export type { FileHistoryEntry } from './log.js';

/** How old one value is. */
export interface ValueAge {
  /** Dotted key path, as `sealant diff` prints it. */
  path: string;
  /** Encrypted at HEAD (a value left in clear keeps its bytes when the data key rotates). */
  encrypted: boolean;
  /** The commit where the value was last set (absent when no revision tells). */
  lastChanged?: { commit: string; date: Date };
  /**
   * False when a data-key rotation since `lastChanged` hid whether the value changed there
   * (keyless history): the value may be younger than `lastChanged` says, never older.
   */
  certain: boolean;
}

/** The revisions that shared one data key. */
export interface DataKeyEra {
  /** The first commit with this data key. */
  since: { commit: string; date: Date };
  /**
   * Every recipient (`age1…`, KMS ARN name, `pgp:FPR`) that held a stanza for this data key at
   * any commit of the era: one removed by `updatekeys` still counts, since it kept the key.
   */
  recipients: string[];
  /** Encrypted key paths that existed under this data key at any commit of the era. */
  keys: string[];
}

/** The history of one file. */
export interface FileHistory {
  /** The file as asked for. */
  file: string;
  /** The commits that touched it, oldest first. */
  entries: FileHistoryEntry[];
  /** Ages of the key paths present at HEAD, in file order. */
  values: ValueAge[];
  /** Data-key eras, oldest first; the last is the current data key. */
  eras: DataKeyEra[];
  /**
   * Revisions left out because they do not read as their format (a broken commit, or text that
   * is not UTF-8): what they held is counted nowhere, so callers should say so.
   */
  skipped: { commit: string; reason: string }[];
}

/** Options of {@link fileHistory}. */
export interface FileHistoryOptions {
  /** Decrypt across rotations to make ages exact; revisions no identity opens stay keyless. */
  sources?: KeySources;
}

/** One readable revision. */
interface Revision {
  entry: FileHistoryEntry;
  /** As git stored it: decoded strictly, never with U+FFFD for bytes that are not UTF-8. */
  text: Buffer;
  side: Side;
  opened?: Side | null;
}

/** What is known of one value so far, walking oldest → newest. */
interface Age {
  commit: string;
  date: Date;
  certain: boolean;
}

/**
 * Reads the history of `file` (its path at HEAD, relative to `repoDir` or absolute).
 *
 * Revisions that do not parse (a broken commit, text that is not UTF-8) are skipped and listed
 * in `skipped`; revisions without a `sops` block count for value ages but belong to no era.
 * @throws GitError when `repoDir` is not a git work tree or git fails to read a revision.
 */
export async function fileHistory(repoDir: string, file: string, opts: FileHistoryOptions = {}): Promise<FileHistory> {
  const entries = await fileLog(repoDir, file);
  const revisions: Revision[] = [];
  const skipped: FileHistory['skipped'] = [];
  for (const entry of entries) {
    const text = await mustGit(['show', `${entry.commit}:${entry.path}`], {
      cwd: repoDir,
      what: 'cannot read a revision',
    });
    const format = formatFromPath(entry.path);
    try {
      revisions.push({ entry, text, side: readSide(text, entry.path, format) });
    } catch (e) {
      if (!(e instanceof SealantError)) throw e;
      // A parser's message may quote the line (a plaintext commit's value); the UTF-8 one never does.
      const reason =
        format !== 'binary' && !isUtf8(text)
          ? e.message
          : `not readable as ${format}${e.line === undefined ? '' : ` at line ${e.line}`}`;
      skipped.push({ commit: entry.commit, reason });
    }
  }

  const ages = new Map<string, Age>();
  const eras: { since: Age; recipients: Set<string>; keys: Set<string> }[] = [];
  let previous: Revision | undefined;
  let lastSops: Revision | undefined;
  for (const rev of revisions) {
    const { commit, date } = rev.entry;
    let rotated = false;
    if (rev.side.meta !== undefined) {
      rotated = lastSops === undefined || (await newDataKey(lastSops, rev, opts.sources));
      if (rotated) eras.push({ since: { commit, date, certain: true }, recipients: new Set(), keys: new Set() });
      const era = eras[eras.length - 1]!;
      for (const name of stanzas(rev.side.meta).keys()) era.recipients.add(name);
      for (const [path, leaf] of rev.side.leaves) if (leaf.encrypted) era.keys.add(path);
      lastSops = rev;
    }
    for (const [path, leaf] of rev.side.leaves) {
      const before = previous?.side.leaves.get(path);
      const known = ages.get(path);
      const same =
        before === undefined || known === undefined
          ? false
          : await sameValue(previous!, rev, path, before, leaf, rotated, opts.sources);
      if (same === false) ages.set(path, { commit, date, certain: true });
      else if (same === undefined) ages.set(path, { ...known!, certain: false });
    }
    // A path that disappears and comes back later is a new value: forget its age.
    if (previous !== undefined)
      for (const path of previous.side.leaves.keys()) if (!rev.side.leaves.has(path)) ages.delete(path);
    previous = rev;
  }

  const head = revisions[revisions.length - 1];
  const values: ValueAge[] =
    head === undefined
      ? []
      : [...head.side.leaves].map(([path, leaf]) => {
          const age = ages.get(path);
          return age === undefined
            ? { path, encrypted: leaf.encrypted, certain: false }
            : {
                path,
                encrypted: leaf.encrypted,
                lastChanged: { commit: age.commit, date: age.date },
                certain: age.certain,
              };
        });
  return {
    file,
    entries,
    values,
    eras: eras.map((e) => ({
      since: { commit: e.since.commit, date: e.since.date },
      recipients: [...e.recipients].sort(),
      keys: [...e.keys].sort(),
    })),
    skipped,
  };
}

/**
 * What a recipient could read over the file's history: the values of every era whose data key it
 * held. With a data key one reads every revision encrypted under it, including those committed
 * before one's stanza was added, so exposure is counted per era.
 * @returns `since`: the start of the first era it held; `keys`: encrypted key paths of those
 * eras, sorted; `currentKeyExposed`: it held the current data key at some point (removing its
 * stanza is not enough — the data key must be rotated).
 */
export function exposure(
  history: FileHistory,
  recipient: string,
): { readable: boolean; since?: Date; keys: string[]; currentKeyExposed: boolean } {
  const wanted = normalise(recipient);
  const held = history.eras.filter((e) => e.recipients.some((r) => normalise(r) === wanted));
  const keys = new Set(held.flatMap((e) => e.keys));
  const current = history.eras[history.eras.length - 1];
  return {
    readable: held.length > 0,
    ...(held[0] === undefined ? {} : { since: held[0].since.date }),
    keys: [...keys].sort(),
    currentKeyExposed: current !== undefined && held.includes(current),
  };
}

/** PGP fingerprints are printed upper case; accept them either way. */
function normalise(recipient: string): string {
  return /^pgp:/i.test(recipient) ? `pgp:${recipient.slice(4).toUpperCase()}` : recipient;
}

/** `enc` blob per master key name: the data key as wrapped for that recipient. */
function stanzas(meta: SopsMetadata): Map<string, string> {
  const blobs = new Map<string, string>();
  for (const g of meta.keyGroups) {
    const encs = [...g.age.map((s) => s.enc), ...g.kms.map((s) => s.enc), ...g.pgp.map((s) => s.enc)];
    groupNames(g).forEach((name, i) => blobs.set(name, encs[i]!));
  }
  return blobs;
}

/**
 * Whether `b` has a different data key than `a`. Keyless: every shared stanza `enc` blob and
 * every shared ciphertext changed (`updatekeys` keeps existing stanzas; `set` keeps unchanged
 * ciphertexts; only a new data key changes both). Without anything shared there is no evidence,
 * and the era goes on — which over-counts exposure rather than under-counting it. With sources,
 * a suspected rotation is confirmed by comparing the unwrapped data keys.
 */
async function newDataKey(a: Revision, b: Revision, sources: KeySources | undefined): Promise<boolean> {
  const before = stanzas(a.side.meta!);
  const after = stanzas(b.side.meta!);
  const shared = [...before.keys()].filter((k) => after.has(k));
  const common = [...a.side.leaves].filter(([p, l]) => l.encrypted && b.side.leaves.get(p)?.encrypted === true);
  if (shared.length === 0 && common.length === 0) return false;
  const rotated =
    shared.every((k) => before.get(k) !== after.get(k)) &&
    common.every(([p, l]) => b.side.leaves.get(p)!.ciphertext !== l.ciphertext);
  if (!rotated || sources === undefined) return rotated;
  const [x, y] = [await open(a, sources), await open(b, sources)];
  if (x?.dataKey === undefined || y?.dataKey === undefined) return rotated;
  return !Buffer.from(x.dataKey).equals(Buffer.from(y.dataKey));
}

/**
 * Whether one value is the same in two consecutive revisions: `true`/`false`, or `undefined` when
 * it cannot be told (a rotation or an encrypt/decrypt in between, and no key opens both sides).
 */
async function sameValue(
  a: Revision,
  b: Revision,
  path: string,
  x: Leaf,
  y: Leaf,
  rotated: boolean,
  sources: KeySources | undefined,
): Promise<boolean | undefined> {
  if (x.encrypted && y.encrypted && !rotated) return x.ciphertext === y.ciphertext;
  if (!x.encrypted && !y.encrypted)
    return x.type === y.type && x.plain !== undefined && y.plain !== undefined && x.plain.equals(y.plain);
  if (sources === undefined) return undefined;
  const px = x.encrypted ? (await open(a, sources))?.leaves.get(path) : x;
  const py = y.encrypted ? (await open(b, sources))?.leaves.get(path) : y;
  if (px?.plain === undefined || py?.plain === undefined) return undefined;
  return px.type === py.type && px.plain.equals(py.plain);
}

/** Decrypts a revision once; `undefined` when no identity opens it. */
async function open(rev: Revision, sources: KeySources): Promise<Side | undefined> {
  if (rev.opened === undefined) {
    try {
      rev.opened = await openSide(rev.text, rev.entry.path, formatFromPath(rev.entry.path), sources);
    } catch (e) {
      if (!(e instanceof SealantError)) throw e;
      rev.opened = null;
    }
  }
  return rev.opened ?? undefined;
}
