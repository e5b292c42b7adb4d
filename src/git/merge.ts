/**
 * Three-way merge of a SOPS file by key path (git's `merge.sealant.driver`).
 *
 * With a key: all three revisions are decrypted in memory, merged key by key on their
 * plaintexts, carried onto ours' document and re-encrypted under ours' data key. IVs recorded
 * while decrypting make every value that did not change re-encrypt to its old `ENC[...]` bytes;
 * when ours and theirs share the data key, a value taken from theirs keeps theirs' ciphertext
 * the same way. The MAC and `lastmodified` are then recomputed.
 *
 * Without a key the merge is judged on ciphertexts (sealant keeps an unchanged value's
 * ciphertext, so a different `ENC[...]` string is a changed value). That tells conflicts
 * apart, but the MAC covers every value and needs the data key: unless one side is the result
 * as is, a keyless merge is refused.
 *
 * Nothing here ever writes plaintext or conflict markers: on a conflict the caller leaves ours'
 * encrypted bytes in place.
 */
import { NoKeyError, formatPath } from '../errors.js';
import { IvStash } from '../format/cipher.js';
import { reconcile } from '../format/reconcile.js';
import { sameScalar, type CommentNode, type MapEntry, type MapNode, type Node, type TreePath } from '../format/tree.js';
import type { KeySources } from '../keys/datakey.js';
import {
  asEncrypted,
  loadDocument,
  openDocument,
  type EncryptedDocument,
  type OpenedDocument,
} from '../document/document.js';
import { sealDocument } from '../document/seal.js';
import type { FileFormat } from '../stores/store.js';

/** The three revisions git hands the driver; `base` is empty when there is no common ancestor. */
export interface MergeInput {
  base: string;
  ours: string;
  theirs: string;
  /** The real path (`%P`), for messages and the file format. */
  file: string;
  format: FileFormat;
}

/** What the driver should do with `%A`. */
export type MergeOutcome =
  /** `text` is the merged file: write it to `%A`, exit 0. */
  | { status: 'merged'; text: string; mode: 'keyed' | 'keyless'; warnings: string[] }
  /** Both sides changed these key paths differently: leave `%A` as ours, exit 1. */
  | { status: 'conflict'; paths: string[]; mode: 'keyed' | 'keyless' }
  /** A clean merge exists but its MAC needs the data key: leave `%A`, exit 1. */
  | { status: 'needs-key' };

/** A key path both sides changed differently (rendered as `db.password`). */
type Conflicts = string[];

/** Deep equality of two nodes, comments included (ciphertexts compare as strings). */
export function sameNode(a: Node | undefined, b: Node | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.kind !== b.kind) return false;
  if (a.kind === 'scalar') return b.kind === 'scalar' && sameScalar(a.value, b.value);
  const ai: Item[] = a.items;
  const bi: Item[] = (b as typeof a).items;
  return ai.length === bi.length && ai.every((x, i) => sameItem(x, bi[i]!));
}

type Item = MapEntry | CommentNode | Node;

function sameItem(x: Item, y: Item): boolean {
  if (x.kind === 'comment' || y.kind === 'comment')
    return x.kind === 'comment' && y.kind === 'comment' && x.text === y.text;
  if (x.kind === 'entry' || y.kind === 'entry')
    return x.kind === 'entry' && y.kind === 'entry' && x.key === y.key && sameNode(x.value, y.value);
  return sameNode(x, y);
}

function entries(m: MapNode | undefined): Map<string, Node> {
  const out = new Map<string, Node>();
  for (const i of m?.items ?? []) if (i.kind === 'entry') out.set(i.key, i.value);
  return out;
}

/**
 * Merges one node. A side that did not change takes the other; maps merge key by key (ours'
 * order and comments, theirs' new keys appended); anything else changed on both sides is a
 * conflict, and ours is kept. Returns undefined when the key is deleted.
 */
export function merge3(
  base: Node | undefined,
  ours: Node | undefined,
  theirs: Node | undefined,
  path: TreePath,
  conflicts: Conflicts,
): Node | undefined {
  if (sameNode(ours, theirs)) return ours;
  if (sameNode(base, ours)) return theirs;
  if (sameNode(base, theirs)) return ours;
  if (ours?.kind === 'map' && theirs?.kind === 'map' && (base === undefined || base.kind === 'map'))
    return mergeMaps(base, ours, theirs, path, conflicts);
  conflicts.push(formatPath(path));
  return ours;
}

function mergeMaps(
  base: MapNode | undefined,
  ours: MapNode,
  theirs: MapNode,
  path: TreePath,
  conflicts: Conflicts,
): MapNode {
  const b = entries(base);
  const t = entries(theirs);
  const items: MapNode['items'] = [];
  for (const item of ours.items) {
    if (item.kind === 'comment') {
      items.push(item);
      continue;
    }
    const merged = merge3(b.get(item.key), item.value, t.get(item.key), [...path, item.key], conflicts);
    if (merged !== undefined) items.push({ kind: 'entry', key: item.key, value: merged });
  }
  const oursKeys = entries(ours);
  for (const item of theirs.items) {
    if (item.kind !== 'entry' || oursKeys.has(item.key)) continue;
    // Added by theirs, or deleted by ours: merge3 decides (a deletion against an edit conflicts).
    const merged = merge3(b.get(item.key), undefined, item.value, [...path, item.key], conflicts);
    if (merged !== undefined) items.push({ kind: 'entry', key: item.key, value: merged } satisfies MapEntry);
  }
  return { kind: 'map', items };
}

/** Merges the documents of a (multi-document) file; a different document count conflicts. */
function mergeDocuments(
  base: MapNode[] | undefined,
  ours: MapNode[],
  theirs: MapNode[],
  conflicts: Conflicts,
): MapNode[] {
  if (ours.length !== theirs.length) {
    conflicts.push('(document count)');
    return ours;
  }
  const multi = ours.length > 1;
  return ours.map((doc, i) => {
    const found: Conflicts = [];
    const merged = merge3(base?.[i], doc, theirs[i], [], found);
    conflicts.push(...found.map((p) => (multi ? `(document ${i + 1}) ${p}` : p)));
    return merged?.kind === 'map' ? merged : doc;
  });
}

function parse(text: string, input: MergeInput): EncryptedDocument {
  return asEncrypted(loadDocument(text, input.file, input.format));
}

/**
 * Merges three revisions of one encrypted file.
 * @throws NotSopsFileError/ParseError/MetadataError when ours or theirs is not a readable SOPS
 * file; MacMismatchError/DecryptionError when a revision was tampered with (a merge must not
 * launder it); NoKeyError never (a missing key gives a keyless merge).
 */
export async function mergeEncrypted(
  input: MergeInput,
  sources: KeySources | undefined,
  now: Date,
): Promise<MergeOutcome> {
  const ours = parse(input.ours, input);
  const theirs = parse(input.theirs, input);
  const base = input.base.trim() === '' ? undefined : parse(input.base, input);
  if (sources !== undefined) {
    try {
      return await mergeKeyed(input, { base, ours, theirs }, sources, now);
    } catch (e) {
      if (!(e instanceof NoKeyError)) throw e;
    }
  }
  return mergeKeyless(input, { base, ours, theirs });
}

interface Revisions {
  base: EncryptedDocument | undefined;
  ours: EncryptedDocument;
  theirs: EncryptedDocument;
}

function sameKey(a: OpenedDocument, b: OpenedDocument): boolean {
  return Buffer.from(a.dataKey).equals(Buffer.from(b.dataKey));
}

async function mergeKeyed(input: MergeInput, revs: Revisions, sources: KeySources, now: Date): Promise<MergeOutcome> {
  // Fresh parses: openDocument decrypts in place, and a NoKeyError half way must leave `revs`
  // encrypted for the keyless fallback.
  const fresh = (text: string) => parse(text, input);
  const ours = await openDocument(fresh(input.ours), sources);
  const theirs = await openDocument(fresh(input.theirs), sources);
  const base = revs.base === undefined ? undefined : await openDocument(fresh(input.base), sources);
  const warnings: string[] = [];
  // Same data key: a value taken from theirs re-encrypts with theirs' IV, i.e. to theirs' bytes.
  if (sameKey(ours, theirs)) ours.stash = new LayeredStash([ours.stash, theirs.stash]);
  else
    warnings.push(
      "ours and theirs have different data keys: values taken from theirs were re-encrypted under ours' data key",
    );
  const conflicts: Conflicts = [];
  const merged = mergeDocuments(base?.doc.documents, ours.doc.documents, theirs.doc.documents, conflicts);
  if (conflicts.length > 0) return { status: 'conflict', paths: conflicts, mode: 'keyed' };
  merged.forEach((doc, i) => {
    ours.doc.documents[i] = reconcile(ours.doc.documents[i]!, doc) as MapNode;
  });
  pickMetadata(ours, theirs, base, warnings);
  const text = sealDocument(ours, input.ours, now) ?? input.ours;
  return { status: 'merged', text, mode: 'keyed', warnings };
}

/** IVs looked up in each stash in turn: the first (ours) wins. */
class LayeredStash extends IvStash {
  constructor(private readonly layers: readonly IvStash[]) {
    super();
  }

  override lookup(aad: string, type: Parameters<IvStash['lookup']>[1], bytes: Uint8Array): Uint8Array | undefined {
    for (const s of this.layers) {
      const iv = s.lookup(aad, type, bytes);
      if (iv !== undefined) return iv;
    }
    return undefined;
  }
}

/** The `sops` block without the fields every write changes. */
function metaWithoutStamp(doc: EncryptedDocument | undefined): MapNode | undefined {
  const m = doc?.doc.metadata;
  if (m === undefined) return undefined;
  return {
    kind: 'map',
    items: m.items.filter((i) => i.kind !== 'entry' || (i.key !== 'mac' && i.key !== 'lastmodified')),
  };
}

/**
 * Keeps ours' metadata unless only theirs changed it with the same data key (an `updatekeys`
 * on their branch): then theirs' recipients are taken, since they wrap the same data key.
 */
function pickMetadata(
  ours: OpenedDocument,
  theirs: OpenedDocument,
  base: OpenedDocument | undefined,
  warnings: string[],
): void {
  const [o, t, b] = [metaWithoutStamp(ours), metaWithoutStamp(theirs), metaWithoutStamp(base)];
  if (sameNode(o, t) || ours.doc.metadata === undefined || theirs.doc.metadata === undefined) return;
  if (b !== undefined && sameNode(o, b) && sameKey(ours, theirs)) {
    ours.doc.metadata = reconcile(ours.doc.metadata, theirs.doc.metadata) as MapNode;
    return;
  }
  warnings.push(
    "recipients or settings differ between ours and theirs: kept ours' sops metadata (run `sealant updatekeys` if theirs added recipients)",
  );
}

function mergeKeyless(input: MergeInput, revs: Revisions): MergeOutcome {
  const conflicts: Conflicts = [];
  const merged = mergeDocuments(
    revs.base?.doc.documents,
    revs.ours.doc.documents,
    revs.theirs.doc.documents,
    conflicts,
  );
  if (conflicts.length > 0) return { status: 'conflict', paths: conflicts, mode: 'keyless' };
  // Only when the merge is one side as it stands is its MAC still right.
  const same = (docs: MapNode[]) => docs.length === merged.length && docs.every((d, i) => sameNode(d, merged[i]));
  const [o, t, b] = [metaWithoutStamp(revs.ours), metaWithoutStamp(revs.theirs), metaWithoutStamp(revs.base)];
  // Theirs changed recipients (or rotated): taking them needs the data key to check and re-MAC.
  if (same(revs.ours.doc.documents) && (sameNode(t, o) || sameNode(t, b)))
    return { status: 'merged', text: input.ours, mode: 'keyless', warnings: [] };
  if (same(revs.theirs.doc.documents) && (sameNode(o, t) || sameNode(o, b)))
    return { status: 'merged', text: input.theirs, mode: 'keyless', warnings: [] };
  return { status: 'needs-key' };
}
