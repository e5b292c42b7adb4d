/**
 * The YAML store: SOPS's YAML files (go-yaml v3 semantics) with byte-stable editing.
 *
 * `load` parses with the `yaml` package's CST and builds the tree (`yaml-source.ts`). On
 * `serialize`, the current tree is diffed against what was loaded and the differences become
 * splices of the original text at CST offsets: a changed scalar rewrites only its own token, a
 * changed comment only its text, a removed entry only its lines, a new entry is inserted as new
 * lines in the file's own indentation (`yaml-render.ts`). Everything else keeps its bytes, so an
 * untouched file re-serialises identically and `git diff` after an edit shows only what changed.
 *
 * Matching the current tree to the loaded one goes by object identity first (the cipher mutates
 * nodes in place), then by key (mappings) and position (sequences, comments), so a replaced
 * subtree — e.g. a freshly built `sops` block — still only rewrites the lines that differ.
 */
import { isEncValue } from '../format/codec.js';
import type { CommentNode, MapEntry, MapNode, Node, ScalarStyle, ScalarValue, SeqNode } from '../format/tree.js';
import { sameScalar } from './common.js';
import type { Store, StoreDocument } from './store.js';
import {
  carrierFor,
  hintFor,
  sameCarrier,
  type CarrierText,
  type CarrierSource,
  type StyleHint,
} from './yaml-carrier.js';
import {
  commentText,
  documentLines,
  flowRenderable,
  flowText,
  itemsLines,
  renderKey,
  valueAfterDash,
  valueAfterKey,
  type RenderContext,
  type RenderedValue,
} from './yaml-render.js';
import { emitScalar, shortTag, trailingBreaks } from './yaml-resolve.js';
import {
  DEFAULT_LAYOUT,
  loadSource,
  type Layout,
  type LoadedSource,
  type Span,
  type SrcCollection,
  type SrcComment,
  type SrcEntry,
  type SrcItem,
  type SrcNode,
  type SrcScalar,
  type SrcSeqItem,
} from './yaml-source.js';

type NewItem = MapEntry | Node | CommentNode;

/** Where a value sits in its parent, and what of the original text it occupies. */
interface Slot {
  kind: 'entry' | 'item' | 'root';
  /** Text on the key/dash line (empty at the insertion point when the value starts below, or is missing). */
  inline: Span;
  /** Whole lines below the key/dash line (block collections, block scalar content). */
  body?: Span | undefined;
  /** Column of the key (entry) or dash (item). */
  col: number;
  compactDash?: number | undefined;
  inFlow: boolean;
  contentCol?: number | undefined;
}

interface Edit {
  start: number;
  end: number;
  text: string;
  order: number;
  /** The text to write instead when `tail` ends the output. */
  alt?: string | undefined;
  tail?: TailGroup | undefined;
}

/**
 * A written value whose last line break depends on whether it ends the output: in a file
 * without a final line break, a block scalar there is written without one (go-yaml reads `|`
 * there as `|-`), and one whose value ends with a line break keeps the file's last one.
 */
interface TailGroup {
  /** Source offset after which nothing may remain for the value to end the output. */
  end: number;
  /** The value needs a line break after its last line. */
  needsBreak: boolean;
  atEnd?: boolean;
}

/** What to do with a scalar's style across encryption: how to write the ciphertext, or how to write the plaintext. */
interface ScalarPlan {
  carrier?: CarrierText;
  hint?: StyleHint;
}

/** Whether the last value in `node` (depth first) is a string holding a line break. */
function endsWithBreakingString(node: Node | MapEntry | CommentNode | undefined): boolean {
  if (node === undefined || node.kind === 'comment') return false;
  if (node.kind === 'entry') return endsWithBreakingString(node.value);
  if (node.kind === 'scalar') return node.value.type === 'str' && node.value.value.includes('\n');
  return endsWithBreakingString(node.items.filter((i) => i.kind !== 'comment').at(-1));
}

function sopsEntry(metadata: MapNode): MapEntry {
  return { kind: 'entry', key: 'sops', value: metadata };
}

function withMetadata(doc: MapNode, metadata: MapNode | undefined): MapNode {
  return metadata === undefined ? doc : { kind: 'map', items: [...doc.items, sopsEntry(metadata)] };
}

/** A document in SOPS's canonical layout (indent 4, `---` between documents, `sops` last). */
function renderFresh(documents: readonly MapNode[], metadata: MapNode | undefined, layout: Layout): string {
  const docs = documents.length === 0 && metadata !== undefined ? [{ kind: 'map', items: [] } as MapNode] : documents;
  const ctx: RenderContext = { layout, allowKeep: true };
  return docs
    .map((d) =>
      documentLines(withMetadata(d, metadata), ctx)
        .map((l) => l + layout.eol)
        .join(''),
    )
    .join(`---${layout.eol}`);
}

/** Whether `v` may keep an explicit tag `tag` written before it. */
function tagFits(tag: string, v: ScalarValue): boolean {
  switch (shortTag(tag)) {
    case '!!int':
      return v.type === 'int';
    case '!!float':
      return v.type === 'float';
    case '!!bool':
      return v.type === 'bool';
    case '!!null':
      return v.type === 'null';
    case '!!timestamp':
      return v.type === 'time';
    case '!!binary':
      return false; // the new value is not base64
    default:
      return v.type === 'str';
  }
}

/** Deep equality of a tree node with a loaded source node (comments included). */
function srcEqual(node: Node, src: SrcNode): boolean {
  if (src.kind === 'alias') return srcEqual(node, src.target);
  if (src.kind === 'scalar') return node.kind === 'scalar' && sameScalar(node.value, src.value);
  if (node.kind !== src.kind || node.items.length !== src.items.length) return false;
  return node.items.every((item, i) => sameItem(item, src.items[i] as SrcItem, srcEqual));
}

function sameItem(item: NewItem, src: SrcItem, values: (n: Node, s: SrcNode) => boolean): boolean {
  if (src.kind === 'comment')
    return item.kind === 'comment' && item.text === src.text && (item.inline === true) === src.inline;
  if (item.kind === 'comment') return false;
  if (src.kind === 'entry') return item.kind === 'entry' && item.key === src.key && values(item.value, src.value);
  return item.kind !== 'entry' && values(item, src.value);
}

/** Same structure (kinds, keys, lengths, comments) inside a flow collection: only scalar values may differ. */
function flowShapeEqual(node: Node, src: SrcNode): boolean {
  if (src.kind === 'alias') return srcEqual(node, src.target);
  if (src.kind === 'scalar') {
    if (node.kind !== 'scalar') return false;
    // A missing value (`{a}`) has no token to rewrite.
    return src.inline.start < src.inline.end || sameScalar(node.value, src.value);
  }
  if (node.kind !== src.kind || node.items.length !== src.items.length) return false;
  return node.items.every((item, i) => sameItem(item, src.items[i] as SrcItem, flowShapeEqual));
}

/** Indices of a longest strictly increasing subsequence of `values` (entries < 0 ignored); O(n log n). */
function increasingSubsequence(values: readonly number[]): Set<number> {
  const tails: number[] = []; // tails[k]: index (into values) ending the best run of length k+1
  const prev = new Map<number, number>();
  values.forEach((v, i) => {
    if (v < 0) return;
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((values[tails[mid] as number] as number) < v) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prev.set(i, tails[lo - 1] as number);
    tails[lo] = i;
  });
  const keep = new Set<number>();
  let at = tails[tails.length - 1];
  while (at !== undefined) {
    keep.add(at);
    at = prev.get(at);
  }
  return keep;
}

class Serializer {
  private readonly text: string;
  private readonly layout: Layout;
  private readonly edits: Edit[] = [];
  private readonly tails: TailGroup[] = [];
  /** Something written at the end needs the line break the source lacked at its end. */
  private keepFinalBreak = false;

  constructor(private readonly src: LoadedSource) {
    this.text = src.text;
    this.layout = src.layout;
  }

  run(documents: readonly MapNode[], metadata: MapNode | undefined): string {
    const docs = this.src.docs;
    for (let i = 0; i < Math.min(documents.length, docs.length); i += 1)
      this.diffDocument(documents[i] as MapNode, i, metadata);
    for (let i = docs.length; i < documents.length; i += 1)
      this.appendDocument(documents[i] as MapNode, metadata, i === 0);
    for (let i = documents.length; i < docs.length; i += 1) {
      const d = docs[i];
      if (d !== undefined) this.edit(d.start, d.end, '');
    }
    this.closeTailBlock();
    return this.apply();
  }

  private get missingFinalBreak(): boolean {
    return this.text.length > 0 && !this.text.endsWith('\n');
  }

  /**
   * Text written after a block scalar that ended the file without a line break gives its last
   * line one, which `|` and `|+` would make part of the value: the header becomes `|-`.
   */
  private closeTailBlock(): void {
    const block = this.src.tailBlock;
    if (block === undefined || !this.missingFinalBreak) return;
    const appended = this.edits.some((e) => e.start >= block.end && e.text !== '');
    const touched = this.edits.some((e) => e.start < block.end && e.end > block.start);
    if (!appended || touched) return;
    const header = this.text.slice(block.inline.start, block.inline.end);
    const stripped = `${header.replace(/[+-]/, '')}-`;
    if (stripped !== header) this.edit(block.inline.start, block.inline.end, stripped);
  }

  // --- text positions -------------------------------------------------------------------------

  private lineStart(p: number): number {
    return this.text.lastIndexOf('\n', p - 1) + 1;
  }

  /** Offset after the line break ending the line that holds `p` (or the end of the text). */
  private endOfLine(p: number): number {
    const nl = this.text.indexOf('\n', Math.max(0, p));
    return nl < 0 ? this.text.length : nl + 1;
  }

  /** `end` without a line break right before it (a block scalar's span ends after one). */
  private trimBreak(end: number): number {
    let e = end;
    if (this.text[e - 1] === '\n') e -= 1;
    if (this.text[e - 1] === '\r') e -= 1;
    return e;
  }

  /** Start of the spaces/tabs right before `p`. */
  private wsBefore(p: number): number {
    let q = p;
    while (q > 0 && (this.text[q - 1] === ' ' || this.text[q - 1] === '\t')) q -= 1;
    return q;
  }

  /** Whether the line starting at `p` has content (or the text ends): a `|+` block may end there. */
  private keepOk(p: number): boolean {
    if (p >= this.text.length) return true;
    const nl = this.text.indexOf('\n', p);
    return this.text.slice(p, nl < 0 ? undefined : nl).trim() !== '';
  }

  private ctx(at: number): RenderContext {
    return { layout: this.layout, allowKeep: this.keepOk(at) };
  }

  // --- edits -----------------------------------------------------------------------------------

  private edit(start: number, end: number, text: string, alt?: string, tail?: TailGroup): void {
    if (alt === undefined || alt === text) {
      if (start === end && text === '') return;
      if (text === this.text.slice(start, end)) return;
      this.edits.push({ start, end, text, order: this.edits.length, tail });
      return;
    }
    this.edits.push({ start, end, text, order: this.edits.length, alt, tail });
  }

  /** Whether nothing of the source after `p` remains and nothing is written after it (edits of `group` aside). */
  private nothingAfter(p: number, edits: readonly Edit[], group: TailGroup): boolean {
    let q = p;
    for (const e of edits) {
      if (e.tail === group || (e.end <= p && e.start < p)) continue;
      if (e.start > q || e.text !== '' || (e.alt ?? '') !== '') return false;
      q = Math.max(q, e.end);
    }
    return q >= this.text.length;
  }

  private apply(): string {
    const eol = this.layout.eol;
    const missingFinalEol = this.missingFinalBreak;
    const edits = [...this.edits].sort(
      (a, b) => a.start - b.start || Number(a.start !== a.end) - Number(b.start !== b.end) || a.order - b.order,
    );
    // Only the last-ending values can end the output.
    const last = this.tails.reduce((m, g) => Math.max(m, g.end), -1);
    if (missingFinalEol) for (const g of this.tails) g.atEnd = g.end === last && this.nothingAfter(g.end, edits, g);
    let out = '';
    let cursor = 0;
    // Where the source text that ends `out` stops (undefined: written text ends it).
    let sourceEnd: number | undefined;
    for (const e of edits) {
      if (e.start < cursor) throw new Error('internal error: overlapping YAML edits');
      let text = e.tail?.atEnd === true && e.alt !== undefined ? e.alt : e.text;
      if (e.start > cursor) sourceEnd = e.start;
      out += this.text.slice(cursor, e.start);
      // Appending to a file without a final line break: start with one (and keep it absent at the end, below).
      if (
        missingFinalEol &&
        e.start === this.text.length &&
        e.end === e.start &&
        text !== '' &&
        out !== '' &&
        !out.endsWith('\n')
      )
        text = eol + text;
      if (text !== '') sourceEnd = undefined;
      out += text;
      cursor = e.end;
    }
    if (cursor < this.text.length) sourceEnd = this.text.length;
    out += this.text.slice(cursor);
    // A kept block scalar that now ends the output (what followed it was removed) needs its line break if its value has one.
    const exposed = sourceEnd === undefined ? undefined : this.src.blockEnds.get(sourceEnd);
    const exposedNeedsBreak = exposed?.value.type === 'str' && trailingBreaks(exposed.value.value) > 0;
    const keep = this.keepFinalBreak || exposedNeedsBreak || this.tails.some((g) => g.atEnd === true && g.needsBreak);
    if (missingFinalEol && !keep && out.endsWith('\n')) out = out.slice(0, out.endsWith('\r\n') ? -2 : -1);
    return out;
  }

  // --- documents -------------------------------------------------------------------------------

  private diffDocument(doc: MapNode, index: number, metadata: MapNode | undefined): void {
    const root = (this.src.docs[index] as { root: SrcCollection }).root;
    const items: NewItem[] = metadata === undefined ? [...doc.items] : [...doc.items, sopsEntry(metadata)];
    if (root.flow) {
      const node: MapNode = { kind: 'map', items: items as MapNode['items'] };
      // Rewritten whole, the root takes the comments around its braces along.
      const start = root.items.reduce((m, i) => Math.min(m, i.start), root.start);
      const end = root.items.reduce((m, i) => Math.max(m, i.end), root.end);
      const slot: Slot = { kind: 'root', inline: { start, end }, col: 0, inFlow: false };
      this.diffFlow(node, root, slot);
      return;
    }
    this.diffBlock({ kind: 'map', items: items as MapNode['items'] }, root, undefined);
    // A document emptied of everything would vanish from the file: keep it as `{}`.
    const first = root.items[0];
    if (items.length === 0 && first !== undefined) {
      const at = this.lineStart(first.start);
      this.edit(at, at, `{}${this.layout.eol}`);
    }
  }

  private appendDocument(doc: MapNode, metadata: MapNode | undefined, first: boolean): void {
    const eol = this.layout.eol;
    const body = documentLines(withMetadata(doc, metadata), { layout: this.layout, allowKeep: true })
      .map((l) => l + eol)
      .join('');
    const blank = this.text.trim() === '';
    if (endsWithBreakingString(withMetadata(doc, metadata))) this.keepFinalBreak = true;
    this.edit(this.text.length, this.text.length, (first && blank ? '' : `---${eol}`) + body);
  }

  // --- matching --------------------------------------------------------------------------------

  private lookup(item: NewItem, src: SrcCollection): SrcItem | undefined {
    if (item.kind === 'comment') return this.src.maps.comment.get(item);
    if (src.kind === 'map') return item.kind === 'entry' ? this.src.maps.entry.get(item) : undefined;
    return item.kind === 'entry' ? undefined : this.src.maps.seqItem.get(item);
  }

  /** For each new item, the loaded item it continues (or undefined: a new item). */
  private match(items: readonly NewItem[], src: SrcCollection): (SrcItem | undefined)[] {
    const res: (SrcItem | undefined)[] = items.map(() => undefined);
    const used = new Set<SrcItem>();
    const take = (i: number, s: SrcItem | undefined): void => {
      if (s !== undefined && s.container === src && !used.has(s)) {
        res[i] = s;
        used.add(s);
      }
    };
    items.forEach((item, i) => take(i, this.lookup(item, src)));
    if (src.kind === 'map') {
      const byKey = new Map<string, SrcEntry>();
      for (const s of src.items) if (s.kind === 'entry' && !used.has(s) && !byKey.has(s.key)) byKey.set(s.key, s);
      items.forEach((item, i) => {
        if (res[i] === undefined && item.kind === 'entry') take(i, byKey.get(item.key));
      });
    }
    const position = new Map(src.items.map((s, i) => [s, i]));
    const order = res.map((s) => (s === undefined ? -1 : (position.get(s) as number)));
    const keep = increasingSubsequence(order);
    res.forEach((_, i) => {
      if (!keep.has(i)) res[i] = undefined;
    });
    // An inline comment stays on its line only while it still follows the same item.
    res.forEach((s, i) => {
      if (s?.kind === 'comment' && s.inline && (i === 0 || res[i - 1] !== src.items[(position.get(s) as number) - 1]))
        res[i] = undefined;
    });
    this.pairGaps(items, res, src, position);
    return res;
  }

  /** Pairs new and loaded items (sequence items, comments) left over between two matched neighbours. */
  private pairGaps(
    items: readonly NewItem[],
    res: (SrcItem | undefined)[],
    src: SrcCollection,
    position: ReadonlyMap<SrcItem, number>,
  ): void {
    const taken = new Set(res.filter((s): s is SrcItem => s !== undefined));
    let prevOld = -1;
    let run: number[] = [];
    const flush = (nextOld: number): void => {
      const olds = src.items.slice(prevOld + 1, nextOld).filter((s) => !taken.has(s));
      this.pairRun(items, res, run, olds, src, position);
    };
    items.forEach((_, i) => {
      const s = res[i];
      if (s === undefined) {
        run.push(i);
        return;
      }
      const at = position.get(s) as number;
      flush(at);
      prevOld = at;
      run = [];
    });
    flush(src.items.length);
  }

  private pairRun(
    items: readonly NewItem[],
    res: (SrcItem | undefined)[],
    run: number[],
    olds: SrcItem[],
    src: SrcCollection,
    position: ReadonlyMap<SrcItem, number>,
  ): void {
    let from = 0;
    for (const i of run) {
      const item = items[i] as NewItem;
      // An inline comment pairs only where it still follows the item it followed.
      const follows = (s: SrcComment): boolean =>
        !s.inline || (i > 0 && res[i - 1] !== undefined && res[i - 1] === src.items[(position.get(s) as number) - 1]);
      const fits = (s: SrcItem): boolean =>
        s.kind === 'comment'
          ? item.kind === 'comment' && (item.inline === true) === s.inline && follows(s)
          : s.kind === 'item' && item.kind !== 'comment' && item.kind !== 'entry';
      const rest = olds.slice(from);
      let k = rest.findIndex((s) => fits(s) && s.kind === 'item' && srcEqual(item as Node, s.value));
      if (k < 0) k = rest.findIndex(fits);
      if (k < 0) continue;
      res[i] = rest[k];
      from += k + 1;
    }
  }

  // --- block collections -----------------------------------------------------------------------

  /** Diffs the items of a block mapping/sequence (or a document root) against the loaded ones. */
  private diffBlock(node: MapNode | SeqNode, src: SrcCollection, slot: Slot | undefined): void {
    const items: readonly NewItem[] = node.items;
    const res = this.match(items, src);
    const first = src.items[0];
    // A block collection left without entries is written as `{}`/`[]` (else it would read as null).
    if (slot !== undefined && !items.some((i) => i.kind !== 'comment')) {
      this.replaceSlot(node, slot, src);
      return;
    }
    // The first item of a compact collection shares its dash's line (`- a: 1`): if it goes or
    // anything comes before it, the collection is written afresh.
    if (slot !== undefined && src.compactDash !== undefined && first !== undefined && res[0] !== first) {
      this.replaceSlot(node, slot, src);
      return;
    }
    const kept = new Set(res.filter((s): s is SrcItem => s !== undefined));
    const deletions = src.items.filter((s) => !kept.has(s)).map((s) => this.deletionSpan(s));
    // An inline comment on a deleted item's line goes with the line; if it is still in the
    // tree it is written again as a new comment.
    res.forEach((s, i) => {
      if (s?.kind === 'comment' && s.inline && deletions.some((d) => d.start <= s.start && s.start < d.end))
        res[i] = undefined;
    });
    let reach = -1;
    for (const d of deletions.sort((x, y) => x.start - y.start || y.end - x.end)) {
      if (d.end <= reach) continue;
      this.edit(Math.max(d.start, reach), d.end, '');
      reach = d.end;
    }
    items.forEach((item, i) => {
      const s = res[i];
      if (s !== undefined) this.diffItem(item, s, src);
    });
    this.insertRuns(items, res, src);
  }

  private deletionSpan(s: SrcItem): Span {
    if (s.kind === 'comment' && s.inline) return { start: this.wsBefore(s.start), end: s.end };
    return { start: this.lineStart(s.start), end: this.endOfLine(s.end - 1) };
  }

  private diffItem(item: NewItem, s: SrcItem, src: SrcCollection): void {
    if (s.kind === 'comment') {
      if (item.kind === 'comment' && item.text !== s.text) this.edit(s.start, s.end, commentText(item));
      return;
    }
    if (s.kind === 'entry') {
      const entry = item as MapEntry;
      if (entry.key !== s.key) this.edit(s.keySpan.start, s.keySpan.end, renderKey(entry.key, src.flow || src.inFlow));
      this.diffValue(entry.value, s.value, this.slotOf(s));
      return;
    }
    this.diffValue(item as Node, s.value, this.slotOf(s));
  }

  /** The slot a loaded entry's or sequence item's value occupies. */
  private slotOf(s: SrcEntry | SrcSeqItem): Slot {
    const c = s.container;
    const base = { kind: s.kind, col: c.col, compactDash: c.compactDash, inFlow: c.flow || c.inFlow };
    const v = s.value;
    if (v.kind === 'scalar') return { ...base, inline: v.inline, body: v.body, contentCol: v.contentCol };
    if (v.kind === 'alias' || v.flow) return { ...base, inline: { start: v.start, end: v.end } };
    if (v.compactDash !== undefined) return { ...base, inline: { start: v.start, end: this.trimBreak(v.end) } };
    return {
      ...base,
      inline: { start: s.afterSep, end: s.afterSep },
      body: { start: this.lineStart(v.start), end: this.endOfLine(v.end - 1) },
    };
  }

  /** Inserts each run of new items after the kept item before it (or before the kept item after it). */
  private insertRuns(items: readonly NewItem[], res: readonly (SrcItem | undefined)[], src: SrcCollection): void {
    let i = 0;
    while (i < items.length) {
      if (res[i] !== undefined) {
        i += 1;
        continue;
      }
      let j = i;
      while (j < items.length && res[j] === undefined) j += 1;
      this.insertRun(items.slice(i, j), i > 0 ? res[i - 1] : undefined, j < items.length ? res[j] : undefined, src);
      i = j;
    }
  }

  private insertRun(
    run: readonly NewItem[],
    prev: SrcItem | undefined,
    next: SrcItem | undefined,
    src: SrcCollection,
  ): void {
    const eol = this.layout.eol;
    let rest = run;
    const head = rest[0];
    if (prev !== undefined && head?.kind === 'comment' && head.inline === true && this.takesInlineComment(prev)) {
      this.edit(prev.end, prev.end, ` ${commentText(head)}`);
      rest = rest.slice(1);
    }
    if (rest.length === 0) return;
    let pos: number;
    // After `prev` and everything it holds: a comment on a key's line (`k: # c`) ends before the key's value.
    if (prev !== undefined) pos = this.endOfLine(this.endWithOwner(prev, src) - 1);
    else if (next !== undefined) pos = this.lineStart(next.start);
    else pos = src.items[0] === undefined ? src.start : this.lineStart(src.items[0].start);
    const lines = itemsLines(rest, src.col, src.kind, this.ctx(pos), src.compactDash);
    if (pos >= this.text.length && endsWithBreakingString(rest.filter((i) => i.kind !== 'comment').at(-1)))
      this.keepFinalBreak = true;
    let text = lines.map((l) => l + eol).join('');
    if (pos > 0 && pos < this.text.length && this.text[pos - 1] !== '\n') text = eol + text;
    this.edit(pos, pos, text);
  }

  /** End of `item`, or of the entry whose key line holds it when it is an inline comment. */
  private endWithOwner(item: SrcItem, src: SrcCollection): number {
    if (item.kind !== 'comment') return item.end;
    let i = src.items.indexOf(item) - 1;
    while (i >= 0 && (src.items[i] as SrcItem).kind === 'comment') i -= 1;
    return Math.max(item.end, src.items[i]?.end ?? 0);
  }

  /** Whether an inline comment can be appended to the line a kept item ends on. */
  private takesInlineComment(prev: SrcItem): boolean {
    if (prev.kind === 'comment') return false;
    const v = prev.value;
    const oneLine =
      (v.kind === 'scalar' && v.body === undefined) ||
      v.kind === 'alias' ||
      ((v.kind === 'map' || v.kind === 'seq') && v.flow);
    if (!oneLine) return false;
    const line = this.src.lines.linePos(prev.end).line - 1;
    const nl = this.text.indexOf('\n', prev.end);
    return !this.src.commentLines.has(line) && this.text.slice(prev.end, nl < 0 ? undefined : nl).trim() === '';
  }

  // --- values ----------------------------------------------------------------------------------

  private diffValue(node: Node, src: SrcNode, slot: Slot): void {
    if (src.kind === 'alias') {
      if (!srcEqual(node, src.target)) this.replaceSlot(node, slot, src);
      return;
    }
    if (src.kind === 'scalar') {
      if (node.kind !== 'scalar' || !sameScalar(node.value, src.value)) this.replaceSlot(node, slot, src);
      return;
    }
    if (node.kind !== src.kind) {
      this.replaceSlot(node, slot, src);
      return;
    }
    if (src.flow) this.diffFlow(node, src, slot);
    else this.diffBlock(node, src, slot);
  }

  private diffFlow(node: MapNode | SeqNode, src: SrcCollection, slot: Slot): void {
    if (flowShapeEqual(node, src)) {
      this.diffFlowValues(node, src);
      return;
    }
    if (slot.inFlow || (slot.kind === 'root' ? false : flowRenderable(node))) {
      this.dropTag(node, src);
      this.edit(src.start, src.end, flowText(node));
      return;
    }
    this.replaceSlot(node, slot, src);
  }

  /** Rewrites changed scalars inside a flow collection whose shape did not change. */
  private diffFlowValues(node: Node, src: SrcNode): void {
    if (src.kind === 'alias') return;
    if (src.kind === 'scalar') {
      if (node.kind !== 'scalar' || sameScalar(node.value, src.value)) return;
      this.dropTag(node, src);
      const plan = this.scalarPlan(node, src, 0, true);
      const text = plan.carrier?.kind === 'flow' ? plan.carrier.text : this.flowScalar(node, plan.hint, src.style);
      if (text !== undefined) this.edit(src.inline.start, src.inline.end, text);
      return;
    }
    if (node.kind === 'scalar') return;
    node.items.forEach((item, i) => {
      const s = src.items[i];
      if (s === undefined) return;
      if (s.kind === 'comment') {
        if (item.kind === 'comment' && item.text !== s.text) this.edit(s.start, s.end, commentText(item));
      } else if (item.kind === 'entry') this.diffFlowValues(item.value, s.value);
      else if (item.kind !== 'comment') this.diffFlowValues(item, s.value);
    });
  }

  /** Removes an explicit tag the new value no longer fits; returns its span if removed. */
  private dropTag(node: Node, src: SrcNode): Span | undefined {
    if (src.kind === 'alias' || src.tag === undefined) return undefined;
    if (src.kind === 'scalar') {
      if (node.kind === 'scalar' && src.tagName !== undefined && tagFits(src.tagName, node.value)) return undefined;
    } else if (node.kind === src.kind) return undefined;
    this.edit(src.tag.start, src.tag.end, '');
    return src.tag;
  }

  /** A scalar in flow context, in the style `hint` asks for (else its own). */
  private flowScalar(node: Node, hint: StyleHint | undefined, fallback?: ScalarStyle): string | undefined {
    if (node.kind !== 'scalar') return undefined;
    const e = emitScalar(node.value, {
      style: hint?.style ?? node.style ?? fallback,
      context: 'flow',
      allowBlock: false,
      allowKeep: false,
    });
    return e.kind === 'flow' ? e.text : undefined;
  }

  /** How the loaded scalar `src` was written, for the carrier rules. */
  private carrierSource(src: SrcScalar, parentCol: number, inFlow: boolean): CarrierSource {
    return {
      style: src.style,
      token: this.text.slice(src.inline.start, src.inline.end),
      inFlow: inFlow || src.inFlow,
      tagged: src.tag !== undefined,
      contentCol: src.contentCol,
      parentCol,
    };
  }

  /** Encrypting, re-encrypting or decrypting a string: how its style crosses over (see yaml-carrier.ts). */
  private scalarPlan(node: Node, src: SrcNode, parentCol: number, inFlow: boolean): ScalarPlan {
    if (node.kind !== 'scalar' || src.kind !== 'scalar' || src.value.type !== 'str') return {};
    const source = this.carrierSource(src, parentCol, inFlow);
    const wasEnc = isEncValue(src.value.value);
    if (node.value.type === 'str' && isEncValue(node.value.value))
      return { carrier: wasEnc ? sameCarrier(node.value.value, source) : carrierFor(node.value.value, source) };
    if (wasEnc && node.value.type === 'str') return { hint: hintFor(source) };
    return {};
  }

  /** Writes `node` afresh in the place `src` occupied. */
  private replaceSlot(node: Node, slot: Slot, src: SrcNode): void {
    const eol = this.layout.eol;
    const dropped = this.dropTag(node, src);
    if (slot.kind === 'root') {
      const lines = documentLines(node as MapNode, { layout: this.layout, allowKeep: false });
      this.edit(slot.inline.start, slot.inline.end, lines.join(eol));
      return;
    }
    const plan = this.scalarPlan(node, src, slot.col, slot.inFlow);
    if (slot.inFlow) {
      const carried = plan.carrier?.kind === 'flow' ? plan.carrier.text : this.flowScalar(node, plan.hint);
      this.edit(slot.inline.start, slot.inline.end, carried ?? flowText(node));
      return;
    }
    const after = slot.body?.end ?? this.endOfLine(slot.inline.end - 1);
    const render = (atEnd: boolean): RenderedValue => {
      const c = plan.carrier;
      if (c !== undefined)
        return c.kind === 'flow' ? { inline: [c.text], body: [] } : { inline: [c.header], body: [c.line] };
      const ctx: RenderContext = { ...this.ctx(after), scalar: { ...plan.hint, atEnd } };
      return slot.kind === 'entry'
        ? valueAfterKey(node, slot.col, ctx, slot.compactDash, slot.contentCol)
        : valueAfterDash(node, slot.col, ctx, slot.contentCol);
    };
    const r = render(false);
    const head = r.inline[0] ?? '';
    let group: TailGroup | undefined;
    let rEnd: RenderedValue | undefined;
    if (node.kind === 'scalar' && r.body.length > 0 && (head.startsWith('|') || head.startsWith('>'))) {
      const breaks = node.value.type === 'str' && plan.carrier === undefined ? trailingBreaks(node.value.value) : 0;
      group = { end: after, needsBreak: breaks > 0 };
      if (breaks === 0) rEnd = render(true);
    } else if (node.kind !== 'scalar' && endsWithBreakingString(node)) group = { end: after, needsBreak: true };
    if (group !== undefined) this.tails.push(group);
    const main = this.slotEdits(r, slot, dropped, true);
    const alts = rEnd === undefined ? undefined : this.slotEdits(rEnd, slot, dropped, false);
    main.forEach((e, i) => this.edit(e.start, e.end, e.text, alts?.[i]?.text, group));
  }

  /** The edits that write `r` into `slot`; `finalBreak`: end the last body line with a line break. */
  private slotEdits(
    r: RenderedValue,
    slot: Slot,
    dropped: Span | undefined,
    finalBreak: boolean,
  ): { start: number; end: number; text: string }[] {
    const eol = this.layout.eol;
    const inline = r.inline.join(eol);
    let body = r.body.map((l) => l + eol).join('');
    if (!finalBreak && body.endsWith(eol)) body = body.slice(0, -eol.length);
    const { start, end } = slot.inline;
    const out: { start: number; end: number; text: string }[] = [];
    if (inline === '' && start < end && this.text.slice(start, end).includes('\n')) {
      // A multi-line value on the dash line (`- a: 1\n  b: 2`) becomes lines below the dash.
      out.push({ start: this.wsBefore(start), end, text: eol + r.body.join(eol) });
      return out;
    }
    if (inline !== '') {
      if (start < end) out.push({ start, end, text: inline });
      else out.push({ start, end: start, text: (this.needsSpace(start, dropped) ? ' ' : '') + inline });
    } else if (start < end) out.push({ start: this.wsBefore(start), end, text: '' });
    if (slot.body !== undefined) out.push({ start: slot.body.start, end: slot.body.end, text: body });
    else if (body !== '') out.push({ start: this.endOfLine(end - 1), end: this.endOfLine(end - 1), text: body });
    return out;
  }

  private needsSpace(p: number, dropped: Span | undefined): boolean {
    const c = dropped !== undefined && dropped.end === p ? this.text[dropped.start - 1] : this.text[p - 1];
    return c !== undefined && c !== ' ' && c !== '\t' && c !== '\n';
  }
}

/** A YAML document bound to its source text (if loaded). */
class YamlDocument implements StoreDocument {
  readonly format = 'yaml' as const;

  constructor(
    private readonly source: LoadedSource | undefined,
    public documents: MapNode[],
    public metadata: MapNode | undefined,
    private readonly bom = '',
  ) {}

  /**
   * The text for the current tree: the loaded bytes with only the changed parts rewritten, or
   * SOPS's canonical layout for a created document.
   * @throws UnsupportedDocumentError when a comment's text contains a line break.
   */
  serialize(): string {
    if (this.source === undefined) return renderFresh(this.documents, this.metadata, DEFAULT_LAYOUT);
    return this.bom + new Serializer(this.source).run(this.documents, this.metadata);
  }
}

const BOM = '\ufeff';

/**
 * The YAML store (`format: 'yaml'`): go-yaml v3 typing, comments as tree items where SOPS puts
 * them, aliases expanded, one tree per YAML document, byte-stable serialisation.
 */
export const yamlStore: Store = {
  format: 'yaml',
  /**
   * @throws ParseError for malformed YAML (with line and column; the message quotes no input).
   * @throws UnsupportedDocumentError for a top level that is not a mapping, non-string or
   * duplicate keys, a scalar that does not fit its explicit tag, or aliases expanding beyond
   * the limit (billion laughs).
   */
  load(text: string, file?: string): StoreDocument {
    // go-yaml skips a leading byte-order mark, so sops reads a file that has one: keep it, in
    // the encrypted file and in the decrypted output, so decrypt gives back the exact bytes.
    const bom = text.startsWith(BOM) ? BOM : '';
    const src = loadSource(text.slice(bom.length), file);
    return new YamlDocument(src, src.documents, src.metadata, bom);
  },
  create(documents: MapNode[], metadata?: MapNode): StoreDocument {
    return new YamlDocument(undefined, documents, metadata);
  },
};
