/**
 * YAML source → tree, remembering where every node came from.
 *
 * The `yaml` package's CST (`Parser`) gives every token with its offset; its `Composer` is run
 * over the same tokens only to collect syntax errors. We walk the CST ourselves because the
 * tree must follow go-yaml/SOPS, not the `yaml` package's data model: scalar typing is go-yaml's
 * (`yaml-resolve.ts`), aliases are expanded into copies, and comments are attached to the
 * mapping or sequence go-yaml would attach them to — the CST hangs a trailing comment on the
 * deepest open collection, go-yaml decides by column.
 *
 * The result is the tree plus a parallel "source" tree (`Src*`) of immutable spans and load-time
 * values, and weak maps from tree objects to their source, which `yaml.ts` diffs against on
 * serialisation.
 */
import { Composer, LineCounter, Parser, CST } from 'yaml';
import type { ErrorCode } from 'yaml';
import type {
  CommentNode,
  MapEntry,
  MapNode,
  Node,
  ScalarNode,
  ScalarStyle,
  ScalarValue,
  SeqNode,
} from '../format/tree.js';
import { ParseError, UnsupportedDocumentError } from '../errors.js';
import { resolvePlain, resolveTagged, TagMismatchError } from './yaml-resolve.js';

/** A range of the source text, `[start, end)` in UTF-16 offsets. */
export interface Span {
  start: number;
  end: number;
}

/** A loaded scalar (or a missing value, with an empty span where it would go). */
export interface SrcScalar {
  kind: 'scalar';
  /** The value as loaded (never mutated). */
  value: ScalarValue;
  style: ScalarStyle;
  start: number;
  end: number;
  /** The part on the key/dash line: the flow scalar token, or a block scalar's header. Empty for a missing value. */
  inline: Span;
  /** A block scalar's content lines (through the last line break). */
  body?: Span;
  /** Column of a block scalar's content. */
  contentCol?: number;
  /** An explicit tag token, with the spaces after it. */
  tag?: Span;
  tagName?: string;
  inFlow: boolean;
}

/** An alias (`*name`); the tree holds a copy of its target. */
export interface SrcAlias {
  kind: 'alias';
  start: number;
  end: number;
  inline: Span;
  target: SrcNode;
  inFlow: boolean;
}

interface SrcCollectionBase {
  flow: boolean;
  /** Column of the items (mapping keys; sequence dashes). */
  col: number;
  /** First item or leading comment (block); the opening bracket (flow). */
  start: number;
  /** After the last item or trailing comment (block); after the closing bracket (flow). */
  end: number;
  /** Span of the items alone, before comments were attached. */
  contentStart: number;
  contentEnd: number;
  items: SrcItem[];
  parent: SrcCollection | undefined;
  /** Set when this block collection starts on the line of its sequence dash (`- a: 1`): the dash column. */
  compactDash?: number;
  inFlow: boolean;
  tag?: Span;
}

/** A loaded mapping (block or flow). */
export interface SrcMap extends SrcCollectionBase {
  kind: 'map';
  /** True for a document root that has no content at all. */
  virtual?: boolean;
}

/** A loaded sequence (block or flow). */
export interface SrcSeq extends SrcCollectionBase {
  kind: 'seq';
}

export type SrcCollection = SrcMap | SrcSeq;
export type SrcNode = SrcScalar | SrcAlias | SrcCollection;

/** A loaded mapping entry. */
export interface SrcEntry {
  kind: 'entry';
  key: string;
  /** The key token (without properties). */
  keySpan: Span;
  /** First character of the entry (key properties or `?` included). */
  start: number;
  end: number;
  /** Where a value written on the key line starts (after `:` and value properties). */
  afterSep: number;
  value: SrcNode;
  container: SrcMap;
}

/** A loaded sequence item. */
export interface SrcSeqItem {
  kind: 'item';
  /** The dash (block) or the first character of the item (flow). */
  start: number;
  end: number;
  /** Where a value written on the dash line starts (after `-` and value properties). */
  afterSep: number;
  value: SrcNode;
  container: SrcSeq;
}

/** A loaded comment and the collection it was attached to. */
export interface SrcComment {
  kind: 'comment';
  text: string;
  /** The `#`. */
  start: number;
  end: number;
  /** Something other than white space precedes it on its line. */
  inline: boolean;
  container: SrcCollection | undefined;
}

export type SrcItem = SrcEntry | SrcSeqItem | SrcComment;

/** One YAML document of the file. */
export interface SrcDocument {
  /** Start of the document's text (its `---`, or its first token). */
  start: number;
  /** Start of the next document (or the end of the text). */
  end: number;
  root: SrcMap;
}

/** Tree objects produced by `load` → their source. */
export interface SourceMaps {
  node: WeakMap<Node, SrcNode>;
  entry: WeakMap<MapEntry, SrcEntry>;
  comment: WeakMap<CommentNode, SrcComment>;
  seqItem: WeakMap<Node, SrcSeqItem>;
}

/** How the file is laid out, so new content looks like the old. */
export interface Layout {
  /** Indentation of a nested mapping relative to its parent. */
  step: number;
  /** Indentation of a sequence's dashes relative to its parent key (0: `key:\n- item`). */
  seqOffset: number;
  /** Column of a compact mapping's keys relative to its dash (`- a: 1` → 2). */
  compactGap: number;
  eol: '\n' | '\r\n';
}

/** SOPS's own layout (go-yaml with `SetIndent(4)`), used by `create()` and when a file gives no hint. */
export const DEFAULT_LAYOUT: Layout = { step: 4, seqOffset: 4, compactGap: 2, eol: '\n' };

/** Everything `load` learned about a file. */
export interface LoadedSource {
  text: string;
  docs: SrcDocument[];
  documents: MapNode[];
  /** Per document: the top-level `sops` entry, if any. */
  sopsEntries: (SrcEntry | undefined)[];
  metadata: MapNode | undefined;
  maps: SourceMaps;
  layout: Layout;
  /** Lines (0-based) holding at least one comment. */
  commentLines: Set<number>;
  lines: LineCounter;
  /** A block scalar whose last content line ends the text without a line break. */
  tailBlock?: SrcScalar | undefined;
  /** Block scalars by the offset their content ends at. */
  blockEnds: Map<number, SrcScalar>;
}

/** Expanded alias nodes allowed per file: at least this many, or 4× the nodes written out. */
const MIN_ALIAS_BUDGET = 10_000;

type Tok = CST.Token;
type SourceToken = CST.SourceToken;

class Loader {
  readonly lines = new LineCounter();
  private anchors = new Map<string, SrcNode>();
  private readonly comments: { tok: SourceToken; doc: number }[] = [];
  tailBlock: SrcScalar | undefined;
  readonly blockEnds = new Map<number, SrcScalar>();

  constructor(
    readonly text: string,
    readonly file: string | undefined,
  ) {}

  where(offset: number): { file?: string; line: number; col: number } {
    const pos = this.lines.linePos(offset);
    return { ...(this.file === undefined ? {} : { file: this.file }), line: pos.line, col: pos.col };
  }

  lineStart(offset: number): number {
    return this.text.lastIndexOf('\n', offset - 1) + 1;
  }

  col(offset: number): number {
    return offset - this.lineStart(offset);
  }

  parse(): Tok[] {
    const tokens = [...new Parser(this.lines.addNewLine).parse(this.text)];
    for (const doc of new Composer({ schema: 'failsafe', uniqueKeys: false }).compose(
      tokens,
      false,
      this.text.length,
    )) {
      const err = doc.errors[0];
      if (err !== undefined)
        throw new ParseError(`malformed YAML: ${describeYamlError(err.code)}`, this.where(err.pos[0]));
    }
    return tokens;
  }

  /** Groups top-level tokens into documents; stray comments go to the next document (or the last). */
  documents(tokens: Tok[]): SrcDocument[] {
    const docTokens = tokens.filter((t): t is CST.Document => t.type === 'document');
    const docs: SrcDocument[] = [];
    let pending: SourceToken[] = [];
    for (const tok of tokens) {
      if (tok.type === 'document') {
        const index = docs.length;
        for (const c of pending) this.comments.push({ tok: c, doc: index });
        pending = [];
        const next = docTokens[index + 1];
        docs.push(this.document(tok, index, next === undefined ? this.text.length : next.offset));
      } else if (tok.type === 'comment') pending.push(tok);
      else if (tok.type === 'doc-end') this.collectComments(tok.end ?? [], Math.max(0, docs.length - 1));
    }
    if (pending.length > 0) {
      if (docs.length === 0) docs.push(this.emptyDocument(0, this.text.length));
      for (const c of pending) this.comments.push({ tok: c, doc: docs.length - 1 });
    }
    return docs;
  }

  private emptyDocument(start: number, end: number): SrcDocument {
    return { start, end, root: virtualRoot(end) };
  }

  private document(tok: CST.Document, index: number, end: number): SrcDocument {
    this.anchors = new Map();
    this.collectComments(tok.start, index);
    this.collectComments(tok.end ?? [], index);
    if (tok.value !== undefined) this.collectComments([tok.value], index);
    const bodyStart = tok.start.length > 0 ? lastEnd(tok.start) : tok.offset;
    if (tok.value === undefined) return { start: tok.offset, end, root: virtualRoot(bodyStart) };
    const props = propsOf(tok.start);
    const root = this.value(tok.value, props, bodyStart, undefined, false, []);
    if (root.kind !== 'map') {
      if (root.kind === 'scalar' && root.value.type === 'null' && root.inline.start === root.inline.end) {
        return { start: tok.offset, end, root: virtualRoot(bodyStart) };
      }
      throw new UnsupportedDocumentError(
        'the top level of a YAML document must be a mapping',
        this.where(tok.value.offset),
      );
    }
    return { start: tok.offset, end, root };
  }

  private collectComments(toks: readonly (Tok | null | undefined)[], doc: number): void {
    for (const t of toks) {
      if (t === null || t === undefined) continue;
      if (t.type === 'comment') this.comments.push({ tok: t, doc });
      for (const arr of subTokenLists(t)) this.collectComments(arr, doc);
    }
  }

  /** Builds the source node for a value token (or a missing value at `emptyAt`). */
  value(
    tok: Tok | undefined,
    props: SourceToken[],
    emptyAt: number,
    parent: SrcCollection | undefined,
    inFlow: boolean,
    path: string[],
  ): SrcNode {
    const tag = props.find((p) => p.type === 'tag');
    const anchor = props.find((p) => p.type === 'anchor');
    let node: SrcNode;
    if (tok === undefined) node = this.scalar(undefined, tag, emptyAt, inFlow);
    else if (tok.type === 'alias') node = this.alias(tok, inFlow);
    else if (
      tok.type === 'scalar' ||
      tok.type === 'single-quoted-scalar' ||
      tok.type === 'double-quoted-scalar' ||
      tok.type === 'block-scalar'
    ) {
      node = this.scalar(tok, tag, emptyAt, inFlow);
    } else if (tok.type === 'block-map') node = this.blockMap(tok, parent, path);
    else if (tok.type === 'block-seq') node = this.blockSeq(tok, parent, path);
    else if (tok.type === 'flow-collection') node = this.flow(tok, parent, path);
    else throw new ParseError('malformed YAML: unexpected token', this.where(tok.offset));
    if (tag !== undefined && node.kind !== 'scalar' && node.kind !== 'alias')
      node.tag = tokenSpanWithSpace(this.text, tag);
    if (anchor !== undefined) this.anchors.set(anchor.source.slice(1), node);
    return node;
  }

  private scalar(
    tok: CST.FlowScalar | CST.BlockScalar | undefined,
    tag: SourceToken | undefined,
    emptyAt: number,
    inFlow: boolean,
  ): SrcScalar {
    const tagName = tag?.source;
    let text = '';
    let style: ScalarStyle = 'plain';
    let start = emptyAt;
    let end = emptyAt;
    let inline: Span = { start: emptyAt, end: emptyAt };
    let body: Span | undefined;
    let contentCol: number | undefined;
    let tail = false;
    if (tok !== undefined) {
      const resolved = CST.resolveAsScalar(tok, true);
      text = resolved.value;
      // A block scalar whose last content line ends the file without a line break: the `yaml`
      // package still adds one for `|`/`|+`/`>`, go-yaml (and so sops) does not (`a\nb`).
      if (tok.type === 'block-scalar' && /[^ \t\r\n][ \t]*$/.test(tok.source)) {
        tail = true;
        if (text.endsWith('\n')) text = text.slice(0, -1);
      }
      style = styleOf(resolved.type);
      start = tok.offset;
      if (tok.type === 'block-scalar') {
        const header = tok.props.find((p) => p.type === 'block-scalar-header') as SourceToken | undefined;
        const nl = tok.props.find((p) => p.type === 'newline') as SourceToken | undefined;
        const bodyStart = nl === undefined ? lastEnd(tok.props as SourceToken[]) : nl.offset + nl.source.length;
        end = bodyStart + tok.source.length;
        inline = { start: tok.offset, end: header === undefined ? tok.offset : header.offset + header.source.length };
        body = { start: bodyStart, end };
        const firstLine = /^(?:[ \t]*\r?\n)*( *)\S/.exec(tok.source);
        contentCol = firstLine?.[1]?.length;
      } else {
        end = tok.offset + tok.source.length;
        inline = { start, end };
      }
    }
    const value = this.typed(text, style, tagName, start);
    const scalar: SrcScalar = {
      kind: 'scalar',
      value,
      style,
      start,
      end,
      inline,
      ...(body === undefined ? {} : { body }),
      ...(contentCol === undefined ? {} : { contentCol }),
      ...(tag === undefined ? {} : { tag: tokenSpanWithSpace(this.text, tag), tagName: tag.source }),
      inFlow,
    };
    if (tail) this.tailBlock = scalar;
    if (body !== undefined) this.blockEnds.set(body.end, scalar);
    return scalar;
  }

  private typed(text: string, style: ScalarStyle, tag: string | undefined, offset: number): ScalarValue {
    if (tag !== undefined) {
      try {
        return resolveTagged(tag, text);
      } catch (err) {
        if (err instanceof TagMismatchError)
          throw new UnsupportedDocumentError(`a scalar does not match its explicit tag ${err.tag}`, this.where(offset));
        throw err;
      }
    }
    return style === 'plain' ? resolvePlain(text) : { type: 'str', value: text };
  }

  private alias(tok: CST.FlowScalar, inFlow: boolean): SrcAlias {
    const target = this.anchors.get(tok.source.slice(1));
    if (target === undefined)
      throw new ParseError('malformed YAML: an alias refers to an unknown anchor', this.where(tok.offset));
    const end = tok.offset + tok.source.length;
    return { kind: 'alias', start: tok.offset, end, inline: { start: tok.offset, end }, target, inFlow };
  }

  private blockMap(tok: CST.BlockMap, parent: SrcCollection | undefined, path: string[]): SrcMap {
    const map: SrcMap = newCollection('map', false, parent, parent?.inFlow ?? false);
    const seen = new Map<string, number>();
    for (const item of tok.items) {
      if (item.key === undefined && item.sep === undefined && item.value === undefined) continue; // comments only
      const entry = this.blockMapEntry(item, map, path, seen);
      map.items.push(entry);
    }
    return this.closeCollection(map);
  }

  private blockMapEntry(
    item: CST.BlockMap['items'][number],
    map: SrcMap,
    path: string[],
    seen: Map<string, number>,
  ): SrcEntry {
    const startProps = afterLast(item.start, ['newline', 'comment']);
    const keyProps = startProps.filter((t) => t.type === 'anchor' || t.type === 'tag');
    const firstProp = startProps.find((t) => t.type === 'anchor' || t.type === 'tag' || t.type === 'explicit-key-ind');
    const keyTok = item.key ?? null;
    const sep = item.sep ?? [];
    const colon = sep.find((t) => t.type === 'map-value-ind');
    const entryStart = firstProp?.offset ?? keyTok?.offset ?? colon?.offset ?? lastEnd(item.start);
    const { key, span } = this.key(keyTok, keyProps, entryStart, path);
    const dup = seen.get(key);
    if (dup !== undefined)
      throw new UnsupportedDocumentError('duplicate mapping key', { ...this.where(entryStart), path: [...path, key] });
    seen.set(key, entryStart);
    const valueProps =
      colon === undefined
        ? []
        : sep.slice(sep.indexOf(colon) + 1).filter((t) => t.type === 'anchor' || t.type === 'tag');
    const afterSep = lastSignificantEnd(sep) ?? span.end;
    const value = this.value(item.value, valueProps, afterSep, map, map.inFlow, [...path, key]);
    this.markCompact(value, undefined);
    const entry: SrcEntry = {
      kind: 'entry',
      key,
      keySpan: span,
      start: entryStart,
      end: Math.max(value.end, afterSep),
      afterSep,
      value,
      container: map,
    };
    return entry;
  }

  private key(tok: Tok | null, props: SourceToken[], at: number, path: string[]): { key: string; span: Span } {
    const fail = (): never => {
      throw new UnsupportedDocumentError('mapping keys must be strings', { ...this.where(at), path });
    };
    if (tok === null) return fail();
    const node = this.value(tok, props, tok.offset, undefined, true, path);
    const target = node.kind === 'alias' ? node.target : node;
    if (target.kind !== 'scalar' || target.value.type !== 'str') return fail();
    return { key: target.value.value, span: { start: node.start, end: node.end } };
  }

  private blockSeq(tok: CST.BlockSequence, parent: SrcCollection | undefined, path: string[]): SrcSeq {
    const seq: SrcSeq = newCollection('seq', false, parent, parent?.inFlow ?? false);
    for (const item of tok.items) {
      const dash = item.start.find((t) => t.type === 'seq-item-ind');
      if (dash === undefined) continue; // comments only
      const props = item.start
        .slice(item.start.indexOf(dash) + 1)
        .filter((t) => t.type === 'anchor' || t.type === 'tag');
      const afterSep = lastSignificantEnd(item.start) ?? dash.offset + 1;
      const value = this.value(item.value, props, afterSep, seq, false, path);
      this.markCompact(value, dash.offset);
      seq.items.push({
        kind: 'item',
        start: dash.offset,
        end: Math.max(value.end, afterSep),
        afterSep,
        value,
        container: seq,
      });
    }
    return this.closeCollection(seq);
  }

  /** A block collection whose first item sits on its sequence dash's line is compact (`- a: 1`). */
  private markCompact(value: SrcNode, dashOffset: number | undefined): void {
    if (dashOffset === undefined || (value.kind !== 'map' && value.kind !== 'seq') || value.flow) return;
    const first = value.items[0];
    if (first !== undefined && this.lineStart(first.start) === this.lineStart(dashOffset))
      value.compactDash = this.col(dashOffset);
  }

  private flow(tok: CST.FlowCollection, parent: SrcCollection | undefined, path: string[]): SrcCollection {
    const isMap = tok.start.type === 'flow-map-start';
    const coll: SrcCollection = isMap
      ? newCollection('map', true, parent, true)
      : newCollection('seq', true, parent, true);
    const close = tok.end.find((t) => t.type === 'flow-map-end' || t.type === 'flow-seq-end');
    const seen = new Map<string, number>();
    for (const item of tok.items) {
      if (item.key === undefined && item.sep === undefined && item.value === undefined) continue;
      const first = afterLast(item.start, ['comma', 'newline', 'comment']).find((t) => t.type !== 'space');
      const itemStart = first?.offset ?? item.key?.offset ?? item.value?.offset ?? lastEnd(item.start);
      if (coll.kind === 'map' || item.sep?.some((t) => t.type === 'map-value-ind') === true || item.key != null) {
        const pairMap: SrcMap = coll.kind === 'map' ? coll : newCollection('map', true, coll, true);
        const entry = this.flowEntry(item, pairMap, itemStart, path, coll.kind === 'map' ? seen : new Map());
        pairMap.items.push(entry);
        if (coll.kind === 'seq') {
          this.closeCollection(pairMap);
          coll.items.push({
            kind: 'item',
            start: itemStart,
            end: entry.end,
            afterSep: itemStart,
            value: pairMap,
            container: coll,
          });
        }
        continue;
      }
      const props = afterLast(item.start, ['comma', 'newline', 'comment']).filter(
        (t) => t.type === 'anchor' || t.type === 'tag',
      );
      const value = this.value(item.value, props, itemStart, coll, true, path);
      coll.items.push({
        kind: 'item',
        start: itemStart,
        end: value.end,
        afterSep: value.start,
        value,
        container: coll,
      });
    }
    coll.start = tok.start.offset;
    coll.contentStart = coll.start;
    coll.end = close === undefined ? lastEnd(tok.end) : close.offset + close.source.length;
    coll.contentEnd = coll.end;
    coll.col = this.col(coll.start);
    return coll;
  }

  private flowEntry(
    item: CST.CollectionItem,
    map: SrcMap,
    itemStart: number,
    path: string[],
    seen: Map<string, number>,
  ): SrcEntry {
    const keyProps = afterLast(item.start, ['comma', 'newline', 'comment']).filter(
      (t) => t.type === 'anchor' || t.type === 'tag',
    );
    const { key, span } = this.key(item.key ?? null, keyProps, itemStart, path);
    if (seen.has(key))
      throw new UnsupportedDocumentError('duplicate mapping key', { ...this.where(itemStart), path: [...path, key] });
    seen.set(key, itemStart);
    const sep = item.sep ?? [];
    const colon = sep.find((t) => t.type === 'map-value-ind');
    const valueProps =
      colon === undefined
        ? []
        : sep.slice(sep.indexOf(colon) + 1).filter((t) => t.type === 'anchor' || t.type === 'tag');
    const afterSep = lastSignificantEnd(sep) ?? span.end;
    const value = this.value(item.value, valueProps, afterSep, map, true, [...path, key]);
    return {
      kind: 'entry',
      key,
      keySpan: span,
      start: itemStart,
      end: Math.max(value.end, afterSep),
      afterSep,
      value,
      container: map,
    };
  }

  private closeCollection<T extends SrcCollection>(coll: T): T {
    const first = coll.items[0];
    const last = coll.items[coll.items.length - 1];
    coll.contentStart = first?.start ?? 0;
    coll.contentEnd = last?.end ?? 0;
    coll.start = coll.contentStart;
    coll.end = coll.contentEnd;
    coll.col = first === undefined ? 0 : this.col(first.start);
    for (const item of coll.items)
      if (item.kind !== 'comment' && item.value.kind !== 'scalar' && item.value.kind !== 'alias')
        item.value.parent = coll;
    return coll;
  }

  /** Attaches every comment to its collection (see {@link attributeComment}) and widens spans. */
  attachComments(docs: SrcDocument[]): Set<number> {
    const commentLines = new Set<number>();
    for (const { tok, doc } of this.comments) {
      const srcDoc = docs[doc];
      if (srcDoc === undefined) continue;
      const start = tok.offset;
      const inline = this.text.slice(this.lineStart(start), start).trim() !== '';
      const container = inline ? this.inlineOwner(srcDoc.root, start) : this.fullLineOwner(srcDoc.root, start);
      const comment: SrcComment = {
        kind: 'comment',
        text: tok.source.slice(1),
        start,
        end: start + tok.source.length,
        inline,
        container,
      };
      container.items.push(comment);
      commentLines.add(this.lines.linePos(start).line - 1);
    }
    for (const d of docs) widen(d.root);
    return commentLines;
  }

  /**
   * The collection a comment on its own line belongs to, following go-yaml: inside the innermost
   * collection whose items surround it; after the last item of nested collections, the deepest
   * one whose items are at or left of the comment's column (and deeper than its parent's); before
   * the first item of a nested collection, that collection if the comment is indented like it.
   */
  private fullLineOwner(root: SrcMap, p: number): SrcCollection {
    const col = this.col(p);
    let e: SrcCollection = root;
    for (;;) {
      if (e.flow) return e;
      const item = itemAt(e, p);
      if (item === undefined) return this.trailingOwner(e, p, col);
      const v: SrcNode = item.value;
      if (v.kind !== 'map' && v.kind !== 'seq') return e;
      if (v.flow) {
        if (p > v.start && p < v.end) return innermostFlow(v, p);
        return e;
      }
      if (p >= v.contentStart) {
        e = v;
        continue;
      }
      return col >= v.col ? v : e;
    }
  }

  private trailingOwner(e: SrcCollection, p: number, col: number): SrcCollection {
    let best: SrcCollection = e;
    let parentCol = e.col;
    let prev = lastBefore(e, p);
    while (prev !== undefined && (prev.value.kind === 'map' || prev.value.kind === 'seq') && !prev.value.flow) {
      const v: SrcCollection = prev.value;
      if (col >= v.col && col > parentCol) best = v;
      parentCol = v.col;
      const content = contentOf(v);
      prev = content[content.length - 1];
    }
    return best;
  }

  /** The collection of the item whose text precedes an inline comment on its line. */
  private inlineOwner(root: SrcMap, p: number): SrcCollection {
    const q = lastNonSpaceBefore(this.text, p);
    let e: SrcCollection = root;
    for (;;) {
      const item = itemAt(e, q);
      if (item === undefined) return e;
      const v: SrcNode = item.value;
      if ((v.kind === 'map' || v.kind === 'seq') && q >= v.start && q < v.end) {
        if (v.flow && q === v.end - 1) return e;
        e = v;
        continue;
      }
      return e;
    }
  }

  /** Turns the source tree into the data tree, expanding aliases within the budget. */
  build(docs: SrcDocument[], maps: SourceMaps): MapNode[] {
    const budget = Math.max(MIN_ALIAS_BUDGET, 4 * docs.reduce((n, d) => n + countSrc(d.root), 0));
    const builder = new TreeBuilder(maps, budget, (offset) => this.where(offset));
    return docs.map((d) => builder.collection(d.root) as MapNode);
  }
}

class TreeBuilder {
  private expanded = 0;

  constructor(
    private readonly maps: SourceMaps,
    private readonly budget: number,
    private readonly where: (offset: number) => { file?: string; line: number; col: number },
  ) {}

  node(src: SrcNode, register: boolean): Node {
    switch (src.kind) {
      case 'scalar': {
        const n: ScalarNode = { kind: 'scalar', value: { ...src.value }, style: src.style };
        if (register) this.maps.node.set(n, src);
        return n;
      }
      case 'alias': {
        const copy = this.copy(src.target, src.start);
        if (register) this.maps.node.set(copy, src);
        return copy;
      }
      default:
        return this.collection(src, register);
    }
  }

  collection(src: SrcCollection, register = true): MapNode | SeqNode {
    if (src.kind === 'map') {
      const m: MapNode = { kind: 'map', items: [] };
      for (const item of src.items) {
        if (item.kind === 'comment') m.items.push(this.comment(item, register));
        else if (item.kind === 'entry') {
          const e: MapEntry = { kind: 'entry', key: item.key, value: this.node(item.value, register) };
          if (register) this.maps.entry.set(e, item);
          m.items.push(e);
        }
      }
      if (register) this.maps.node.set(m, src);
      return m;
    }
    const s: SeqNode = { kind: 'seq', items: [] };
    for (const item of src.items) {
      if (item.kind === 'comment') s.items.push(this.comment(item, register));
      else if (item.kind === 'item') {
        const v = this.node(item.value, register);
        if (register) this.maps.seqItem.set(v, item);
        s.items.push(v);
      }
    }
    if (register) this.maps.node.set(s, src);
    return s;
  }

  private comment(src: SrcComment, register: boolean): CommentNode {
    const c: CommentNode = src.inline
      ? { kind: 'comment', text: src.text, inline: true }
      : { kind: 'comment', text: src.text };
    if (register) this.maps.comment.set(c, src);
    return c;
  }

  /** A fresh copy of an anchored node for an alias (copies are never tied to source text). */
  private copy(src: SrcNode, at: number): Node {
    this.expanded += 1;
    if (this.expanded > this.budget)
      throw new UnsupportedDocumentError('YAML aliases expand beyond the limit', this.where(at));
    if (src.kind === 'alias') return this.copy(src.target, at);
    if (src.kind === 'scalar') return { kind: 'scalar', value: { ...src.value }, style: src.style };
    if (src.kind === 'map') {
      const m: MapNode = { kind: 'map', items: [] };
      for (const item of src.items) {
        if (item.kind === 'comment')
          m.items.push(
            item.inline ? { kind: 'comment', text: item.text, inline: true } : { kind: 'comment', text: item.text },
          );
        else if (item.kind === 'entry')
          m.items.push({ kind: 'entry', key: item.key, value: this.copy(item.value, at) });
      }
      return m;
    }
    const s: SeqNode = { kind: 'seq', items: [] };
    for (const item of src.items) {
      if (item.kind === 'comment')
        s.items.push(
          item.inline ? { kind: 'comment', text: item.text, inline: true } : { kind: 'comment', text: item.text },
        );
      else if (item.kind === 'item') s.items.push(this.copy(item.value, at));
    }
    return s;
  }
}

function countSrc(src: SrcNode): number {
  if (src.kind === 'scalar' || src.kind === 'alias') return 1;
  let n = 1;
  for (const item of src.items) if (item.kind !== 'comment') n += countSrc(item.value);
  return n;
}

function newCollection(kind: 'map', flow: boolean, parent: SrcCollection | undefined, inFlow: boolean): SrcMap;
function newCollection(kind: 'seq', flow: boolean, parent: SrcCollection | undefined, inFlow: boolean): SrcSeq;
function newCollection(
  kind: 'map' | 'seq',
  flow: boolean,
  parent: SrcCollection | undefined,
  inFlow: boolean,
): SrcCollection {
  return {
    kind,
    flow,
    col: 0,
    start: 0,
    end: 0,
    contentStart: 0,
    contentEnd: 0,
    items: [],
    parent,
    inFlow,
  } as SrcCollection;
}

function virtualRoot(at: number): SrcMap {
  return {
    ...newCollection('map', false, undefined, false),
    start: at,
    end: at,
    contentStart: at,
    contentEnd: at,
    virtual: true,
  };
}

function contentItems(c: SrcCollection): (SrcEntry | SrcSeqItem)[] {
  return c.items.filter((i): i is SrcEntry | SrcSeqItem => i.kind !== 'comment');
}

// Entries and sequence items of each collection, in order, before comments are attached.
const CONTENT = new WeakMap<SrcCollection, (SrcEntry | SrcSeqItem)[]>();

function contentOf(c: SrcCollection): (SrcEntry | SrcSeqItem)[] {
  let content = CONTENT.get(c);
  if (content === undefined) {
    content = contentItems(c);
    CONTENT.set(c, content);
  }
  return content;
}

/** Index of the last item starting at or before `p` (-1 if none): items are ordered and disjoint. */
function lastStartingAt(content: readonly (SrcEntry | SrcSeqItem)[], p: number): number {
  let lo = 0;
  let hi = content.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((content[mid] as SrcEntry | SrcSeqItem).start <= p) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** The item of `c` whose span holds `p`. */
function itemAt(c: SrcCollection, p: number): SrcEntry | SrcSeqItem | undefined {
  const content = contentOf(c);
  const item = content[lastStartingAt(content, p)];
  return item !== undefined && p < item.end ? item : undefined;
}

/** The last item of `c` that ends at or before `p`. */
function lastBefore(c: SrcCollection, p: number): SrcEntry | SrcSeqItem | undefined {
  const content = contentOf(c);
  let i = lastStartingAt(content, p);
  while (i >= 0 && (content[i] as SrcEntry | SrcSeqItem).end > p) i -= 1;
  return content[i];
}

function innermostFlow(c: SrcCollection, p: number): SrcCollection {
  for (const item of contentItems(c)) {
    const v = item.value;
    if ((v.kind === 'map' || v.kind === 'seq') && p > v.start && p < v.end) return innermostFlow(v, p);
  }
  return c;
}

/** Sorts each collection's items by position and widens spans over attached comments, bottom-up. */
function widen(c: SrcCollection): void {
  for (const item of c.items)
    if (item.kind !== 'comment' && (item.value.kind === 'map' || item.value.kind === 'seq')) widen(item.value);
  c.items.sort((a, b) => a.start - b.start);
  for (const item of c.items) {
    if (item.kind !== 'comment') item.end = Math.max(item.end, item.value.end);
    if (!c.flow && !(c.kind === 'map' && c.virtual === true)) {
      c.start = Math.min(c.start, item.start);
      c.end = Math.max(c.end, item.end);
    }
  }
  if ('virtual' in c && c.virtual === true && c.items.length > 0) {
    c.start = c.items.reduce((m, i) => Math.min(m, i.start), Number.POSITIVE_INFINITY);
    c.end = c.items.reduce((m, i) => Math.max(m, i.end), 0);
  }
}

function lastNonSpaceBefore(text: string, p: number): number {
  let q = p - 1;
  while (q > 0 && (text[q] === ' ' || text[q] === '\t')) q -= 1;
  return q;
}

function styleOf(type: string | null): ScalarStyle {
  switch (type) {
    case 'QUOTE_DOUBLE':
      return 'double';
    case 'QUOTE_SINGLE':
      return 'single';
    case 'BLOCK_LITERAL':
      return 'literal';
    case 'BLOCK_FOLDED':
      return 'folded';
    default:
      return 'plain';
  }
}

function subTokenLists(t: Tok): (readonly (Tok | null | undefined)[])[] {
  switch (t.type) {
    case 'document':
      return [t.start, t.end ?? [], [t.value]];
    case 'doc-end':
      return [t.end ?? []];
    case 'alias':
    case 'scalar':
    case 'single-quoted-scalar':
    case 'double-quoted-scalar':
      return [t.end ?? []];
    case 'block-scalar':
      return [t.props];
    case 'block-map':
    case 'block-seq':
      return t.items.flatMap((i: CST.CollectionItem) => [i.start, [i.key], i.sep ?? [], [i.value]]);
    case 'flow-collection':
      return [[t.start], ...t.items.flatMap((i) => [i.start, [i.key], i.sep ?? [], [i.value]]), t.end];
    default:
      return [];
  }
}

/** The tokens after the last token of one of `types` (the current line's tokens). */
function afterLast(toks: SourceToken[], types: SourceToken['type'][]): SourceToken[] {
  let i = toks.length - 1;
  while (i >= 0 && !types.includes((toks[i] as SourceToken).type)) i -= 1;
  return toks.slice(i + 1);
}

function propsOf(toks: SourceToken[]): SourceToken[] {
  return toks.filter((t) => t.type === 'anchor' || t.type === 'tag');
}

function lastEnd(toks: readonly SourceToken[] | Tok[]): number {
  const last = toks[toks.length - 1] as SourceToken | undefined;
  return last === undefined ? 0 : last.offset + last.source.length;
}

/** End of the last indicator/property (`:`, `-`, `?`, anchor, tag) in a token list. */
function lastSignificantEnd(toks: SourceToken[]): number | undefined {
  for (let i = toks.length - 1; i >= 0; i -= 1) {
    const t = toks[i] as SourceToken;
    if (
      t.type === 'map-value-ind' ||
      t.type === 'seq-item-ind' ||
      t.type === 'explicit-key-ind' ||
      t.type === 'anchor' ||
      t.type === 'tag'
    ) {
      return t.offset + t.source.length;
    }
  }
  return undefined;
}

function tokenSpanWithSpace(text: string, tok: SourceToken): Span {
  let end = tok.offset + tok.source.length;
  while (text[end] === ' ') end += 1;
  return { start: tok.offset, end };
}

const YAML_ERRORS: Partial<Record<ErrorCode, string>> = {
  BAD_ALIAS: 'bad alias',
  BAD_DIRECTIVE: 'bad directive',
  BAD_DQ_ESCAPE: 'bad escape in a double-quoted scalar',
  BAD_INDENT: 'bad indentation',
  BAD_PROP_ORDER: 'anchor and tag in the wrong order',
  BAD_SCALAR_START: 'a plain scalar cannot start with this character',
  BLOCK_AS_IMPLICIT_KEY: 'a block collection cannot be an implicit key',
  BLOCK_IN_FLOW: 'block syntax inside a flow collection',
  DUPLICATE_KEY: 'duplicate mapping key',
  KEY_OVER_1024_CHARS: 'an implicit key is longer than 1024 characters',
  MISSING_CHAR: 'a closing character or a value indicator is missing',
  MULTILINE_IMPLICIT_KEY: 'an implicit key spans several lines',
  MULTIPLE_ANCHORS: 'a node has several anchors',
  MULTIPLE_TAGS: 'a node has several tags',
  TAB_AS_INDENT: 'tabs are not allowed as indentation',
  UNEXPECTED_TOKEN: 'unexpected token',
  ALIAS_PROPS: 'an alias cannot have properties',
};

/** Fixed text per `yaml` error code: the library's own messages may quote source text. */
function describeYamlError(code: ErrorCode): string {
  return YAML_ERRORS[code] ?? `syntax error (${code})`;
}

function detectLayout(text: string, docs: SrcDocument[]): Layout {
  const steps: number[] = [];
  const seqOffsets: number[] = [];
  const gaps: number[] = [];
  const blockIndents: number[] = [];
  const visit = (c: SrcCollection): void => {
    for (const item of contentItems(c)) {
      const v = item.value;
      if (
        v.kind === 'scalar' &&
        v.contentCol !== undefined &&
        item.kind === 'entry' &&
        c.compactDash === undefined &&
        v.contentCol > c.col
      )
        blockIndents.push(v.contentCol - c.col);
      if ((v.kind !== 'map' && v.kind !== 'seq') || v.flow) continue;
      if (v.compactDash !== undefined) {
        if (v.kind === 'map') gaps.push(v.col - v.compactDash);
      } else if (item.kind === 'entry' && c.kind === 'map' && !c.flow) {
        if (v.kind === 'map' && v.col > c.col) steps.push(v.col - c.col);
        if (v.kind === 'seq') seqOffsets.push(v.col - c.col);
      }
      visit(v);
    }
  };
  for (const d of docs) visit(d.root);
  // A file whose only nested content is block scalars still shows its indent in their content.
  const step = mode(steps) ?? seqOffsets.find((o) => o > 0) ?? mode(blockIndents) ?? DEFAULT_LAYOUT.step;
  const seqOffset = mode(seqOffsets) ?? step;
  const compactGap = mode(gaps) ?? DEFAULT_LAYOUT.compactGap;
  const nl = text.indexOf('\n');
  const eol = nl > 0 && text[nl - 1] === '\r' ? '\r\n' : '\n';
  return { step, seqOffset, compactGap, eol };
}

function mode(values: number[]): number | undefined {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: number | undefined;
  let bestCount = 0;
  for (const [v, n] of counts) {
    if (n > bestCount) {
      best = v;
      bestCount = n;
    }
  }
  return best;
}

/**
 * Parses `text` into documents (top-level `sops` entries removed), metadata, and the source
 * information needed to write it back byte for byte.
 * @throws ParseError for malformed YAML or an alias to an unknown anchor (with line).
 * @throws UnsupportedDocumentError for a top level that is not a mapping, non-string or
 * duplicate keys, a scalar that does not match its tag, aliases that expand too far.
 */
export function loadSource(text: string, file: string | undefined): LoadedSource {
  const loader = new Loader(text, file);
  const tokens = loader.parse();
  const docs = loader.documents(tokens);
  const commentLines = loader.attachComments(docs);
  const maps: SourceMaps = {
    node: new WeakMap(),
    entry: new WeakMap(),
    comment: new WeakMap(),
    seqItem: new WeakMap(),
  };
  const documents = loader.build(docs, maps);
  const sopsEntries = docs.map((d) => d.root.items.find((i): i is SrcEntry => i.kind === 'entry' && i.key === 'sops'));
  let metadata: MapNode | undefined;
  documents.forEach((doc, i) => {
    const index = doc.items.findIndex((item) => item.kind === 'entry' && item.key === 'sops');
    if (index < 0) return;
    const entry = doc.items[index] as MapEntry;
    doc.items.splice(index, 1);
    if (i > 0) return;
    if (entry.value.kind !== 'map') {
      throw new UnsupportedDocumentError('the "sops" metadata entry must be a mapping', {
        ...loader.where(sopsEntries[0]?.start ?? 0),
        path: ['sops'],
      });
    }
    metadata = entry.value;
  });
  return {
    text,
    docs,
    documents,
    sopsEntries,
    metadata,
    maps,
    layout: detectLayout(text, docs),
    commentLines,
    lines: loader.lines,
    tailBlock: loader.tailBlock,
    blockEnds: loader.blockEnds,
  };
}
