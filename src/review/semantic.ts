/**
 * The keyless review of one SOPS file between two revisions: what changed, judged from what is
 * in clear in the file — key paths, `ENC[...]` ciphertexts and their `type:` tags, clear values,
 * and the `sops` metadata block.
 *
 * Why comparing ciphertexts works: sealant's `set`/`edit` re-encrypt an unchanged value with the
 * IV it had (`format/cipher.ts`), so an unchanged value keeps its `ENC[...]` string byte for
 * byte and a different string means a different value. A new data key (`rotate`) changes every
 * ciphertext; then per-value change cannot be told without keys, and the review says so rather
 * than calling every value "changed".
 *
 * Pure: text in, data out. Values are carried as bytes for comparison and fingerprints; they are
 * put in the result only when the caller asks (`showValues`).
 */
import {
  authorityFindings,
  ruleText,
  sameProtection,
  weakerProtection,
  type AuthorityFinding,
} from '../checks/authority.js';
import type { EnvironmentConfig } from '../config/model.js';
import { formatPath } from '../errors.js';
import { visitDocuments } from '../format/cipher.js';
import { isEncValue, parseEnc, scalarBytes } from '../format/codec.js';
import { macCovers } from '../format/mac.js';
import { parseMetadata, type SopsMetadata } from '../format/metadata.js';
import { DEFAULT_CRYPT_RULE, Selector } from '../format/selectors.js';
import type { MapNode, ScalarValue } from '../format/tree.js';
import { groupNames } from '../keys/recipients.js';
import { formatFromPath, loadContent } from '../stores/index.js';
import { utf8Text } from '../util/utf8.js';
import type { FileFormat } from '../stores/store.js';

/** One leaf of one side, keyed by its rendered path. */
export interface Leaf {
  /** Stored as `ENC[...]` on this side. */
  encrypted: boolean;
  /** The ENC `type:` tag, or the clear scalar's type (`str`, `int`, …, `null`). */
  type: string;
  /** The `ENC[...]` string (encrypted leaves only). */
  ciphertext?: string;
  /** Plaintext bytes: clear leaves always, encrypted leaves once decrypted (`review/keyed.ts`). */
  plain?: Buffer;
  /** Plaintext length in bytes (for encrypted values: the GCM data length, which equals it). */
  length: number;
  /** The rule says this leaf must be encrypted but it is in clear text. */
  shouldBeEncrypted: boolean;
  /** The MAC vouches for the value (not so for `""`, null, or clear values under `mac_only_encrypted`). */
  macCovered: boolean;
}

/** One revision of a file, parsed. */
export interface Side {
  /** The file has a `sops` block. */
  sops: boolean;
  meta?: SopsMetadata;
  leaves: Map<string, Leaf>;
  /** The data key once unwrapped (`review/keyed.ts`); lets a keyed review tell rotation for sure. */
  dataKey?: Uint8Array;
  /** The MAC checked out when decrypted (keyed only). */
  macValid?: boolean;
}

/** How one key changed between the two sides. */
export type ChangeKind = 'added' | 'removed' | 'changed' | 'unknown';

/** One changed (or undecidable) key. Values appear only under `showValues`. */
export interface KeyChange {
  path: string;
  change: ChangeKind;
  /** Whether the value was stored encrypted on each side (absent side: undefined). */
  encrypted: { old?: boolean; new?: boolean };
  type: { old?: string; new?: string };
  /** Plaintext length in bytes per side. */
  length: { old?: number; new?: number };
  /** Keyed fingerprints (`fp:3fa1c2`) when plaintexts are known on that side. */
  fingerprint?: { old?: string; new?: string };
  /** The values themselves: only with `showValues`. */
  value?: { old?: string; new?: string };
  /** Set for a side whose value is not UTF-8 text: `value` holds its bytes in base64. */
  valueEncoding?: { old?: 'base64'; new?: 'base64' };
}

/** The review of one file. This object is part of `sealant diff --json` (public API). */
export interface FileReview {
  file: string;
  /** The path on the old side, when git saw a rename. */
  previousFile?: string;
  status: 'added' | 'deleted' | 'modified' | 'renamed';
  format: FileFormat;
  /** Whether values were compared as plaintexts (`keyed`) or as ciphertexts (`keyless`). */
  mode: 'keyless' | 'keyed';
  /** Each side has a `sops` block (undefined: the side does not exist). */
  sops: { old?: boolean; new?: boolean };
  changes: KeyChange[];
  unchanged: { count: number; paths: string[] };
  counts: { added: number; removed: number; changed: number; retyped: number; unknown: number; unchanged: number };
  /** Keys whose type changed (`int` → `str`), from ENC tags or clear values. */
  retyped: { path: string; old: string; new: string }[];
  /** Clear-text values (outside the encryption rule) that changed: paths only. */
  clearChanged: string[];
  recipients: { added: string[]; removed: string[] };
  /** `rotated` keyless means: every ciphertext and every wrapped data key changed. */
  dataKey: 'same' | 'rotated' | 'unknown' | 'n/a';
  rule?: { old: string; new: string };
  mac: { changed: boolean };
  lastmodified?: { old: string; new: string };
  /** Loud problems: plaintext committed, values in clear that the rule encrypts, bad MAC. */
  alerts: string[];
  /** Quieter remarks (why a value is "unknown", a side that could not be opened…). */
  notes: string[];
}

/** What a review may add beyond paths and counts. */
export interface ReviewOptions {
  /** Put values (clear and decrypted) in the result. */
  showValues?: boolean;
  /** Keyed fingerprint of a plaintext (see `review/keyed.ts`); none in a keyless review. */
  fingerprint?: (type: string, plain: Buffer) => string;
  /**
   * The environment that owns the file: the change is alerted when it makes the `sops` block
   * weaker than it. Without one, a rule weaker than the old revision's is alerted.
   */
  authority?: EnvironmentConfig;
}

/** The input for one file: either side may be absent (file added or deleted). */
export interface FileInput {
  file: string;
  previousFile?: string;
  /**
   * Each side's content. Bytes (as git or the disk gave them) are decoded strictly: a text
   * format that is not UTF-8 is a side that cannot be read, and binary-store content stays bytes.
   */
  oldText?: string | Uint8Array;
  newText?: string | Uint8Array;
  format?: FileFormat;
}

/**
 * Parses one revision of a file into leaves. A file without a `sops` block gives clear leaves.
 * @throws ParseError when bytes of a text format are not UTF-8 (with the offset), ParseError /
 * UnsupportedDocumentError when the text does not parse in `format`; MetadataError for a
 * malformed `sops` block; EncValueError for a malformed `ENC[...]` value.
 */
export function readSide(content: string | Uint8Array, file: string, format: FileFormat): Side {
  const doc = loadContent(content, format, file);
  const meta = doc.metadata === undefined ? undefined : parseMetadata(doc.metadata);
  const selector = new Selector(meta?.rule ?? DEFAULT_CRYPT_RULE);
  const leaves = leavesOf(doc.documents, meta === undefined ? undefined : selector, meta?.macOnlyEncrypted ?? false);
  return meta === undefined ? { sops: false, leaves } : { sops: true, meta, leaves };
}

function leavesOf(documents: MapNode[], selector: Selector | undefined, macOnlyEncrypted: boolean): Map<string, Leaf> {
  const leaves = new Map<string, Leaf>();
  documents.forEach((doc, index) => {
    // Multi-document YAML: prefix paths with the document number so they stay unique.
    const prefix = documents.length > 1 ? `(document ${index + 1}) ` : '';
    for (const v of visitDocuments([doc])) {
      if (v.node.kind === 'comment') continue;
      leaves.set(
        prefix + formatPath(v.path),
        leafOf(
          v.node.value,
          selector !== undefined && selector.shouldEncrypt(v.keys, v.stack, false),
          macOnlyEncrypted,
        ),
      );
    }
  });
  return leaves;
}

function leafOf(value: ScalarValue, ruleEncrypts: boolean, macOnlyEncrypted: boolean): Leaf {
  if (value.type === 'str' && isEncValue(value.value)) {
    const p = parseEnc(value.value);
    return {
      encrypted: true,
      type: p.type,
      ciphertext: value.value,
      length: p.data.length,
      shouldBeEncrypted: false,
      macCovered: true,
    };
  }
  const plain = scalarBytes(value);
  const empty = value.type === 'null' || (value.type === 'str' && value.value === '');
  return {
    encrypted: false,
    type: value.type,
    plain,
    length: plain.length,
    shouldBeEncrypted: ruleEncrypts && !empty,
    macCovered: macCovers(value, false, macOnlyEncrypted),
  };
}

/**
 * Reviews one file from the text of both revisions, without keys.
 * @throws nothing for content problems: a side that does not parse becomes an alert.
 */
export function reviewFile(input: FileInput, opts: ReviewOptions = {}): FileReview {
  const format = input.format ?? formatFromPath(input.file);
  const notes: string[] = [];
  const read = (text: string | Uint8Array | undefined, which: 'old' | 'new'): Side | undefined => {
    if (text === undefined) return undefined;
    try {
      return readSide(text, input.file, format);
    } catch (e) {
      notes.push(`the ${which} revision could not be read as ${format}: ${e instanceof Error ? e.message : 'error'}`);
      return { sops: false, leaves: new Map() };
    }
  };
  const review = reviewSides(input, format, read(input.oldText, 'old'), read(input.newText, 'new'), 'keyless', opts);
  review.alerts.push(...notes);
  return review;
}

/** Status of a file from which sides exist. */
function statusOf(input: FileInput, oldSide: Side | undefined, newSide: Side | undefined): FileReview['status'] {
  if (oldSide === undefined) return 'added';
  if (newSide === undefined) return 'deleted';
  return input.previousFile !== undefined && input.previousFile !== input.file ? 'renamed' : 'modified';
}

/**
 * Compares two parsed sides. Keyed when both sides carry plaintexts (`Side.dataKey` set).
 * Exported for `review/keyed.ts`; most callers want {@link reviewFile}.
 */
export function reviewSides(
  input: FileInput,
  format: FileFormat,
  oldSide: Side | undefined,
  newSide: Side | undefined,
  mode: FileReview['mode'],
  opts: ReviewOptions,
): FileReview {
  const review: FileReview = {
    file: input.file,
    status: statusOf(input, oldSide, newSide),
    format,
    mode,
    sops: {},
    changes: [],
    unchanged: { count: 0, paths: [] },
    counts: { added: 0, removed: 0, changed: 0, retyped: 0, unknown: 0, unchanged: 0 },
    retyped: [],
    clearChanged: [],
    recipients: { added: [], removed: [] },
    dataKey: 'n/a',
    mac: { changed: false },
    alerts: [],
    notes: [],
  };
  if (input.previousFile !== undefined && input.previousFile !== input.file) review.previousFile = input.previousFile;
  if (oldSide !== undefined) review.sops.old = oldSide.sops;
  if (newSide !== undefined) review.sops.new = newSide.sops;
  compareMetadata(review, oldSide, newSide);
  review.dataKey = dataKeyVerdict(oldSide, newSide, mode);
  compareLeaves(review, oldSide, newSide, opts);
  plaintextAlerts(review, oldSide, newSide);
  securityAlerts(review, oldSide?.meta, newSide?.meta, opts.authority);
  return review;
}

/** What this change made weaker in the `sops` block (a finding the old side already had is not repeated). */
function securityAlerts(
  review: FileReview,
  before: SopsMetadata | undefined,
  after: SopsMetadata | undefined,
  authority: EnvironmentConfig | undefined,
): void {
  if (after === undefined) return;
  let found: AuthorityFinding[];
  if (authority !== undefined) {
    const had = new Set(before === undefined ? [] : authorityFindings(before, authority).map((f) => f.message));
    found = authorityFindings(after, authority).filter((f) => !had.has(f.message));
  } else {
    if (before === undefined) return;
    found = weakerProtection(
      { rule: after.rule, macOnlyEncrypted: after.macOnlyEncrypted },
      { rule: before.rule, macOnlyEncrypted: before.macOnlyEncrypted },
      'the old revision',
    );
  }
  for (const f of found) review.alerts.push(`SECURITY: ${f.message}`);
}

function recipientSet(meta: SopsMetadata | undefined): Set<string> {
  return new Set((meta?.keyGroups ?? []).flatMap((g) => groupNames(g)));
}

function compareMetadata(review: FileReview, oldSide: Side | undefined, newSide: Side | undefined): void {
  const a = oldSide?.meta;
  const b = newSide?.meta;
  const before = recipientSet(a);
  const after = recipientSet(b);
  review.recipients.added = [...after].filter((r) => !before.has(r));
  review.recipients.removed = [...before].filter((r) => !after.has(r));
  if (a === undefined || b === undefined) return;
  if (!sameProtection({ rule: a.rule }, { rule: b.rule }))
    review.rule = { old: ruleText(a.rule), new: ruleText(b.rule) };
  review.mac.changed = a.mac !== b.mac;
  if (a.lastmodified !== b.lastmodified) review.lastmodified = { old: a.lastmodified, new: b.lastmodified };
  if ((a.shamirThreshold ?? 0) !== (b.shamirThreshold ?? 0) || a.keyGroups.length !== b.keyGroups.length) {
    review.notes.push(
      `key groups changed: ${a.keyGroups.length} → ${b.keyGroups.length} group(s), threshold ${a.shamirThreshold ?? '-'} → ${b.shamirThreshold ?? '-'}`,
    );
  }
}

/** `enc` blob per master key name: the data key as wrapped for that recipient. */
function wrappedBlobs(meta: SopsMetadata): Map<string, string> {
  const blobs = new Map<string, string>();
  for (const g of meta.keyGroups) {
    g.age.forEach((s) => blobs.set(s.recipient, s.enc));
    g.kms.forEach((s) => blobs.set(s.arn, s.enc));
    g.pgp.forEach((s) => blobs.set(`pgp:${s.fp.toUpperCase()}`, s.enc));
  }
  return blobs;
}

/**
 * Keyless rotation test: every ciphertext present on both sides changed AND every data-key
 * wrapping of a recipient present on both sides changed. `updatekeys` keeps the data key and the
 * existing wrappings; `set`/`edit` keep unchanged ciphertexts; only a new data key changes both.
 */
function dataKeyVerdict(
  oldSide: Side | undefined,
  newSide: Side | undefined,
  mode: FileReview['mode'],
): FileReview['dataKey'] {
  if (oldSide?.meta === undefined || newSide?.meta === undefined) return 'n/a';
  if (mode === 'keyed' && oldSide.dataKey !== undefined && newSide.dataKey !== undefined) {
    return Buffer.from(oldSide.dataKey).equals(Buffer.from(newSide.dataKey)) ? 'same' : 'rotated';
  }
  const common = [...oldSide.leaves].filter(([p, l]) => l.encrypted && newSide.leaves.get(p)?.encrypted === true);
  const valuesAllChanged =
    common.length > 0 && common.every(([p, l]) => newSide.leaves.get(p)!.ciphertext !== l.ciphertext);
  const before = wrappedBlobs(oldSide.meta);
  const after = wrappedBlobs(newSide.meta);
  const shared = [...before.keys()].filter((k) => after.has(k));
  const blobsAllChanged = shared.every((k) => before.get(k) !== after.get(k));
  if (common.length === 0) return shared.length > 0 && !blobsAllChanged ? 'same' : 'unknown';
  return valuesAllChanged && blobsAllChanged ? 'rotated' : 'same';
}

function compareLeaves(
  review: FileReview,
  oldSide: Side | undefined,
  newSide: Side | undefined,
  opts: ReviewOptions,
): void {
  const before = oldSide?.leaves ?? new Map<string, Leaf>();
  const after = newSide?.leaves ?? new Map<string, Leaf>();
  const rotatedKeyless = review.dataKey === 'rotated' && review.mode === 'keyless';
  const paths = [...before.keys(), ...[...after.keys()].filter((p) => !before.has(p))];
  for (const path of paths) {
    const a = before.get(path);
    const b = after.get(path);
    const kind = changeOf(a, b, rotatedKeyless);
    if (kind === undefined) {
      review.unchanged.count += 1;
      review.unchanged.paths.push(path);
      continue;
    }
    review.changes.push(describe(path, kind, a, b, opts));
    review.counts[kind] += 1;
    if (a !== undefined && b !== undefined && a.type !== b.type)
      review.retyped.push({ path, old: a.type, new: b.type });
    if (a !== undefined && b !== undefined && !a.encrypted && !b.encrypted && kind === 'changed')
      review.clearChanged.push(path);
  }
  review.counts.unchanged = review.unchanged.count;
  review.counts.retyped = review.retyped.length;
  if (rotatedKeyless && review.counts.unknown > 0) {
    review.notes.push(
      `data key rotated: every ciphertext changed, so whether ${review.counts.unknown} value(s) changed is unknown without keys`,
    );
  }
}

/** undefined = unchanged. */
function changeOf(a: Leaf | undefined, b: Leaf | undefined, rotatedKeyless: boolean): ChangeKind | undefined {
  if (a === undefined) return 'added';
  if (b === undefined) return 'removed';
  if (a.type !== b.type || a.encrypted !== b.encrypted) return 'changed';
  if (a.plain !== undefined && b.plain !== undefined) return a.plain.equals(b.plain) ? undefined : 'changed';
  if (a.ciphertext === b.ciphertext) return undefined;
  return rotatedKeyless ? 'unknown' : 'changed';
}

function describe(
  path: string,
  change: ChangeKind,
  a: Leaf | undefined,
  b: Leaf | undefined,
  opts: ReviewOptions,
): KeyChange {
  const c: KeyChange = { path, change, encrypted: {}, type: {}, length: {} };
  for (const [side, leaf] of [
    ['old', a],
    ['new', b],
  ] as const) {
    if (leaf === undefined) continue;
    c.encrypted[side] = leaf.encrypted;
    c.type[side] = leaf.type;
    c.length[side] = leaf.length;
  }
  const fp = opts.fingerprint;
  if (fp !== undefined && (a?.plain !== undefined || b?.plain !== undefined)) {
    c.fingerprint = {};
    if (a?.plain !== undefined) c.fingerprint.old = fp(a.type, a.plain);
    if (b?.plain !== undefined) c.fingerprint.new = fp(b.type, b.plain);
  }
  if (opts.showValues === true && (a?.plain !== undefined || b?.plain !== undefined)) {
    c.value = {};
    for (const [side, leaf] of [
      ['old', a],
      ['new', b],
    ] as const) {
      if (leaf?.plain === undefined) continue;
      // Bytes that are not UTF-8 (binary-store content) would all read as U+FFFD: show them exactly.
      const text = utf8Text(leaf.plain);
      c.value[side] = text ?? leaf.plain.toString('base64');
      if (text === undefined) (c.valueEncoding ??= {})[side] = 'base64';
    }
  }
  return c;
}

function plaintextAlerts(review: FileReview, oldSide: Side | undefined, newSide: Side | undefined): void {
  if (newSide !== undefined && !newSide.sops && newSide.leaves.size > 0) {
    review.alerts.push(
      oldSide?.sops === true
        ? 'PLAINTEXT: the file was encrypted before and is committed in clear text now'
        : 'PLAINTEXT: the file is not encrypted (no sops metadata)',
    );
  }
  if (newSide?.sops !== true) return;
  const leaked = [...newSide.leaves].filter(([, l]) => l.shouldBeEncrypted).map(([p]) => p);
  if (leaked.length > 0)
    review.alerts.push(
      `PLAINTEXT: ${leaked.length} value(s) the encryption rule covers are in clear text: ${leaked.join(', ')}`,
    );
  for (const c of review.changes) {
    if (c.encrypted.old === true && c.encrypted.new === false)
      review.alerts.push(`${c.path} was encrypted and is in clear text now`);
  }
  // Both sides encrypted: the MAC vouches for the change, except for keys it cannot see.
  if (oldSide?.sops !== true) return;
  const unvouched = review.changes
    .filter((c) => c.change === 'added' && newSide.leaves.get(c.path)?.macCovered === false)
    .map((c) => c.path);
  if (unvouched.length > 0)
    review.alerts.push(
      `UNAUTHENTICATED: ${unvouched.length} key(s) added with a value the MAC does not cover (such as "" or null), which anyone can add without a key: ${unvouched.join(', ')}`,
    );
}
