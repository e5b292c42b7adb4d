/**
 * The dotenv store, byte-compatible with sops' `stores/dotenv/store.go`.
 *
 * SOPS's rules are deliberately simple: lines are split on `\n` only (a `\r` stays in the
 * value), empty lines are dropped, a line starting with `#` is a comment, anything else is split
 * at the first `=` with key and value taken verbatim (no trimming, no quotes), and the two
 * characters `\n` in a value stand for a newline. Metadata lives in `sops_`-prefixed keys,
 * flattened (see `flatten.ts`).
 *
 * To keep bytes stable we remember every source line (with the blank lines before it); on
 * serialise, lines whose item is unchanged are copied, changed values are re-rendered in place,
 * and new items are appended in SOPS's `KEY=value` form.
 */
import { ParseError, UnsupportedDocumentError } from '../errors.js';
import type { CommentNode, MapEntry, MapNode } from '../format/tree.js';
import { cloneNode, str } from '../format/tree.js';
import { joinLines, sameNode, sameScalar, scalarAsText, singleDocument } from './common.js';
import type { LinePiece } from './common.js';
import { flattenMetadata, unflattenMetadata } from './flatten.js';
import type { FlatEntry } from './flatten.js';
import type { Store, StoreDocument } from './store.js';

/** Prefix of the metadata keys (`stores/dotenv/store.go` SopsPrefix). */
export const SOPS_PREFIX = 'sops_';

/** One non-empty source line and the blank lines before it. */
interface SourceLine {
  kind: 'comment' | 'entry' | 'meta';
  /** Blank lines (`\n` each) before this line. */
  lead: string;
  /** The line without its `\n`. */
  text: string;
  /** Whether the source had a `\n` after it (false only for a last line without one). */
  newline: boolean;
  /** Entry key, comment text, or flattened metadata key (without `sops_`). */
  key: string;
  /** Decoded entry value (`\n` escapes turned into newlines). */
  value: string;
  /** 1-based line number. */
  lineNo: number;
}

interface Source {
  lines: SourceLine[];
  /** Blank lines after the last non-empty line. */
  trailer: string;
  /** The metadata as loaded, to tell whether it changed. */
  metadata: MapNode | undefined;
}

const EMPTY_SOURCE: Source = { lines: [], trailer: '', metadata: undefined };

/** `\n` (backslash, n) in a value means a newline: decode on load… */
function decodeValue(raw: string): string {
  return raw.replaceAll('\\n', '\n');
}

/** …and encode on output. */
function encodeValue(value: string): string {
  return value.replaceAll('\n', '\\n');
}

function parseLine(text: string, lineNo: number, lead: string, newline: boolean, file: string | undefined): SourceLine {
  if (text.startsWith('#')) return { kind: 'comment', lead, text, newline, key: text.slice(1), value: '', lineNo };
  const eq = text.indexOf('=');
  // The message names the line, never its content (it may be a secret).
  if (eq === -1)
    throw new ParseError('invalid dotenv line: no "=" found', {
      file,
      line: lineNo,
      hint: 'each line must be KEY=value, a #comment, or empty',
    });
  const key = text.slice(0, eq);
  const value = decodeValue(text.slice(eq + 1));
  if (key.startsWith(SOPS_PREFIX))
    return { kind: 'meta', lead, text, newline, key: key.slice(SOPS_PREFIX.length), value, lineNo };
  return { kind: 'entry', lead, text, newline, key, value, lineNo };
}

function parseSource(text: string, file: string | undefined): Source {
  const segments = text.split('\n');
  const lines: SourceLine[] = [];
  let lead = '';
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === '') {
      if (!last) lead += '\n';
      return;
    }
    lines.push(parseLine(segment, i + 1, lead, !last, file));
    lead = '';
  });
  const flat: FlatEntry[] = lines
    .filter((l) => l.kind === 'meta')
    .map((l) => ({ key: l.key, value: l.value, line: l.lineNo }));
  return { lines, trailer: lead, metadata: flat.length === 0 ? undefined : unflattenMetadata(flat) };
}

function treeFromSource(source: Source): MapNode {
  const items: (MapEntry | CommentNode)[] = [];
  for (const l of source.lines) {
    if (l.kind === 'comment') items.push({ kind: 'comment', text: l.key });
    else if (l.kind === 'entry') items.push({ kind: 'entry', key: l.key, value: str(l.value) });
  }
  return { kind: 'map', items };
}

/**
 * Checks that `doc` can be written as dotenv.
 * @throws UnsupportedDocumentError for nested values, keys that would not read back
 * (containing `=` or a newline, starting with `#`), and data keys starting with `sops_`.
 */
function checkWritable(doc: MapNode): void {
  for (const item of doc.items) {
    if (item.kind === 'comment') continue;
    const path = [item.key];
    if (item.value.kind !== 'scalar')
      throw new UnsupportedDocumentError('dotenv files hold only flat KEY=value pairs; this value is nested', { path });
    if (item.key.includes('=') || item.key.includes('\n') || item.key.startsWith('#'))
      throw new UnsupportedDocumentError('this key cannot be written to a dotenv file', {
        path,
        hint: 'dotenv keys cannot contain "=" or a newline, nor start with "#"',
      });
    if (item.key.startsWith(SOPS_PREFIX))
      throw new UnsupportedDocumentError('dotenv keys starting with "sops_" are reserved for SOPS metadata', { path });
  }
}

function renderItem(item: MapEntry | CommentNode): string {
  if (item.kind === 'comment')
    return item.text
      .split('\n')
      .map((line) => `#${line}`)
      .join('\n');
  return `${item.key}=${encodeValue(scalarAsText(item.value.kind === 'scalar' ? item.value.value : { type: 'null' }))}`;
}

/** The output piece for `item`, reusing `line`'s bytes where the item did not change. */
function pieceFor(item: MapEntry | CommentNode, line: SourceLine | undefined): LinePiece {
  if (line === undefined) return { text: renderItem(item), newline: true };
  let text = line.text;
  if (
    item.kind === 'comment'
      ? item.text !== line.key
      : item.value.kind !== 'scalar' || !sameScalar(item.value.value, { type: 'str', value: line.value })
  )
    text = renderItem(item);
  return { text: line.lead + text, newline: line.newline };
}

function metadataPieces(metadata: MapNode, lead: string): LinePiece[] {
  return flattenMetadata(metadata).map((flat, i) => ({
    text: `${i === 0 ? lead : ''}${SOPS_PREFIX}${flat.key}=${encodeValue(flat.value)}`,
    newline: true,
  }));
}

/** Source lines matching `items` one to one, in order (the usual case: values edited in place). */
function positionalMatch(items: readonly (MapEntry | CommentNode)[], dataLines: readonly SourceLine[]): boolean {
  return (
    items.length === dataLines.length &&
    items.every(
      (item, i) => item.kind === dataLines[i]?.kind && (item.kind === 'comment' || item.key === dataLines[i]?.key),
    )
  );
}

/** After a structural edit: each item takes the first unused source line with the same key (comments: same text). */
function matchByKey(
  items: readonly (MapEntry | CommentNode)[],
  dataLines: readonly SourceLine[],
): (SourceLine | undefined)[] {
  const used = new Set<SourceLine>();
  return items.map((item) => {
    const found = dataLines.find(
      (l) => !used.has(l) && l.kind === item.kind && l.key === (item.kind === 'entry' ? item.key : item.text),
    );
    if (found !== undefined) used.add(found);
    return found;
  });
}

class DotenvDocument implements StoreDocument {
  readonly format = 'dotenv' as const;
  documents: MapNode[];
  metadata: MapNode | undefined;
  readonly #source: Source;

  constructor(source: Source, documents: MapNode[], metadata: MapNode | undefined) {
    this.#source = source;
    this.documents = documents;
    this.metadata = metadata;
  }

  serialize(): string {
    const doc = singleDocument(this.documents, 'dotenv');
    checkWritable(doc);
    const { lines, trailer } = this.#source;
    const dataLines = lines.filter((l) => l.kind !== 'meta');
    const metaUnchanged =
      this.metadata !== undefined &&
      this.#source.metadata !== undefined &&
      sameNode(this.metadata, this.#source.metadata);
    if (positionalMatch(doc.items, dataLines)) return joinLines(this.#inPlace(doc, metaUnchanged), trailer);
    return joinLines(this.#restructured(doc, metaUnchanged), trailer);
  }

  /** Same items in the same order: walk the source lines, metadata where it was. */
  #inPlace(doc: MapNode, metaUnchanged: boolean): LinePiece[] {
    const pieces: LinePiece[] = [];
    let next = 0;
    let metaDone = this.metadata === undefined;
    for (const line of this.#source.lines) {
      if (line.kind !== 'meta') {
        pieces.push(pieceFor(doc.items[next] as MapEntry | CommentNode, line));
        next += 1;
      } else if (metaUnchanged) {
        pieces.push({ text: line.lead + line.text, newline: line.newline });
        metaDone = true;
      } else if (!metaDone && this.metadata !== undefined) {
        pieces.push(...metadataPieces(this.metadata, line.lead));
        metaDone = true;
      }
    }
    if (!metaDone && this.metadata !== undefined) pieces.push(...metadataPieces(this.metadata, ''));
    return pieces;
  }

  /** Items added, removed or moved: keep what can be matched, metadata last (as SOPS writes it). */
  #restructured(doc: MapNode, metaUnchanged: boolean): LinePiece[] {
    const dataLines = this.#source.lines.filter((l) => l.kind !== 'meta');
    const matches = matchByKey(doc.items, dataLines);
    const pieces = doc.items.map((item, i) => pieceFor(item, matches[i]));
    if (this.metadata === undefined) return pieces;
    if (metaUnchanged) {
      for (const line of this.#source.lines)
        if (line.kind === 'meta') pieces.push({ text: line.lead + line.text, newline: line.newline });
      return pieces;
    }
    const firstMeta = this.#source.lines.find((l) => l.kind === 'meta');
    return [...pieces, ...metadataPieces(this.metadata, firstMeta?.lead ?? '')];
  }
}

/**
 * The dotenv store (`.env`). One flat document of string values; comments are items.
 * @see Store
 */
export const dotenvStore: Store = {
  format: 'dotenv',
  /**
   * @throws ParseError (with line) for a non-empty, non-comment line without `=`.
   * @throws MetadataError when the `sops_…` keys do not unflatten into a tree.
   */
  load(text: string, file?: string): StoreDocument {
    const source = parseSource(text, file);
    const metadata = source.metadata === undefined ? undefined : cloneNode(source.metadata);
    return new DotenvDocument(source, [treeFromSource(source)], metadata);
  },
  /** SOPS's layout: `KEY=value` lines, `#comment` lines, then the `sops_…` keys in sorted-tree order. */
  create(documents: MapNode[], metadata?: MapNode): StoreDocument {
    return new DotenvDocument(EMPTY_SOURCE, documents, metadata);
  },
};
