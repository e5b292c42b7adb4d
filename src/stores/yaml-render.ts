/**
 * Fresh YAML text for (sub)trees that have no source bytes yet: new entries, new documents, a
 * new `sops` block, and `create()`. The layout follows go-yaml as SOPS configures it (indent 4,
 * sequences indented under their key, compact `- key: value` items, literal blocks for
 * multi-line strings, no line wrapping) unless the file being edited does otherwise
 * ({@link Layout}). Rendering returns lines without line breaks; callers join them.
 */
import type { CommentNode, MapEntry, MapNode, Node, ScalarNode, SeqNode } from '../format/tree.js';
import { UnsupportedDocumentError } from '../errors.js';
import type { StyleHint } from './yaml-carrier.js';
import { canBePlain, doubleQuote, emitScalar, type EmittedScalar } from './yaml-resolve.js';
import type { Layout } from './yaml-source.js';

export interface RenderContext {
  layout: Layout;
  /** Whether a `|+` block may end the rendered text (the line after it is known not to be blank). */
  allowKeep: boolean;
  /** For a single scalar: how its text was written before encryption, and whether it ends the file. */
  scalar?: (Partial<StyleHint> & { atEnd?: boolean }) | undefined;
}

/** A value as written after `key:` or `-`: text on that line (`inline`, possibly continued over more lines) and whole lines below it. */
export interface RenderedValue {
  /** Empty when the value starts on the next line (block collections). `inline[0]` has no leading space. */
  inline: string[];
  body: string[];
}

const indent = (n: number): string => ' '.repeat(n);

/** A mapping key: plain when go-yaml reads it back as the same string, else double-quoted. */
export function renderKey(key: string, flow = false): string {
  return canBePlain(key, flow ? 'flow-key' : 'key') ? key : doubleQuote(key);
}

/** A comment line at `col`. @throws UnsupportedDocumentError when the text holds a line break. */
function commentLine(c: CommentNode, col: number): string {
  return indent(col) + commentText(c);
}

/** `#` + text. @throws UnsupportedDocumentError when the text holds a line break. */
export function commentText(c: CommentNode): string {
  if (/[\r\n]/.test(c.text)) throw new UnsupportedDocumentError('a comment cannot contain a line break');
  return `#${c.text}`;
}

/** Column of block scalar content under a mapping entry at `col` (go-yaml indents from the dash in compact `- k: |`). */
function blockContentCol(col: number, layout: Layout, compactDash?: number): number {
  return compactDash !== undefined && layout.step > layout.compactGap ? compactDash + layout.step : col + layout.step;
}

function scalarValue(node: ScalarNode, contentCol: number, ctx: RenderContext): RenderedValue {
  const hint = ctx.scalar;
  const style = hint?.style ?? node.style;
  const opts = {
    style,
    context: 'block' as const,
    allowBlock: true,
    allowKeep: ctx.allowKeep,
    chomp: hint?.chomp,
    atEnd: hint?.atEnd,
    keepStyle: hint?.style !== undefined,
  };
  return fromEmitted(emitScalar(node.value, opts), contentCol);
}

/** Lines of an emitted scalar: the text or block header on the current line, block content at `contentCol`. */
function fromEmitted(e: EmittedScalar, contentCol: number): RenderedValue {
  if (e.kind === 'flow') return { inline: [e.text], body: [] };
  return { inline: [e.header], body: e.lines.map((l) => (l === '' ? '' : indent(contentCol) + l)) };
}

function hasEntries(n: MapNode | SeqNode): boolean {
  return n.items.some((i) => i.kind !== 'comment');
}

/** An empty collection as `{}`/`[]`, with any comments it holds as lines below (at `col`). */
function emptyCollection(n: MapNode | SeqNode, col: number): RenderedValue {
  return { inline: [n.kind === 'map' ? '{}' : '[]'], body: n.items.map((c) => commentLine(c as CommentNode, col)) };
}

/**
 * The value of a mapping entry whose key is at `col`. `compactDash` is the dash column when the
 * mapping is a compact sequence item; `contentCol` overrides the block scalar content column.
 */
export function valueAfterKey(
  value: Node,
  col: number,
  ctx: RenderContext,
  compactDash?: number,
  contentCol?: number,
): RenderedValue {
  const { layout } = ctx;
  if (value.kind === 'scalar') return scalarValue(value, contentCol ?? blockContentCol(col, layout, compactDash), ctx);
  if (!hasEntries(value)) return emptyCollection(value, col + layout.step);
  if (value.kind === 'map') return { inline: [], body: mapLines(value, col + layout.step, ctx) };
  return { inline: [], body: seqLines(value, col + layout.seqOffset, ctx) };
}

/** The value of a sequence item whose dash is at `dashCol`: compact (`- a: 1`, `- - x`) when it starts with an entry. */
export function valueAfterDash(value: Node, dashCol: number, ctx: RenderContext, contentCol?: number): RenderedValue {
  const { layout } = ctx;
  if (value.kind === 'scalar') return scalarValue(value, contentCol ?? dashCol + layout.step, ctx);
  if (!hasEntries(value)) return emptyCollection(value, dashCol + layout.compactGap);
  const gap = value.kind === 'map' ? layout.compactGap : 2;
  const col = dashCol + gap;
  // A leading comment cannot share the dash line: the collection then starts on the next line.
  const compact = value.items[0]?.kind !== 'comment';
  const lines =
    value.kind === 'map' ? mapLines(value, col, ctx, compact ? dashCol : undefined) : seqLines(value, col, ctx);
  if (!compact) return { inline: [], body: lines };
  const [first = '', ...rest] = lines;
  return { inline: [indent(gap - 2) + first.slice(col), ...rest], body: [] };
}

/** Lines of a mapping entry with its key at `col`. */
function entryLines(entry: MapEntry, col: number, ctx: RenderContext, compactDash?: number): string[] {
  const head = `${indent(col)}${renderKey(entry.key)}:`;
  const { inline, body } = valueAfterKey(entry.value, col, ctx, compactDash);
  if (inline.length === 0) return [head, ...body];
  return [`${head} ${inline[0] ?? ''}`, ...inline.slice(1), ...body];
}

/** Lines of a sequence item with its dash at `dashCol`. */
function seqItemLines(node: Node, dashCol: number, ctx: RenderContext): string[] {
  const dash = `${indent(dashCol)}-`;
  const { inline, body } = valueAfterDash(node, dashCol, ctx);
  if (inline.length === 0) return [dash, ...body];
  return [`${dash} ${inline[0] ?? ''}`, ...inline.slice(1), ...body];
}

/** Whether an inline comment may follow this item's first line and still be read back as belonging to the same collection. */
function takesInlineComment(item: MapEntry | Node, kind: 'map' | 'seq'): boolean {
  if (kind === 'map') return true;
  const node = item as Node;
  return node.kind === 'scalar' || !hasEntries(node);
}

/**
 * Lines of a run of items of one collection (entries or sequence items, with comments), at
 * `col`. An inline comment goes on the first line of the item before it when that line can
 * carry it, otherwise on its own line.
 * @throws UnsupportedDocumentError when a comment's text holds a line break.
 */
export function itemsLines(
  items: readonly (MapEntry | Node | CommentNode)[],
  col: number,
  kind: 'map' | 'seq',
  ctx: RenderContext,
  compactDash?: number,
): string[] {
  const out: string[] = [];
  let anchor: number | undefined;
  for (const item of items) {
    if (item.kind === 'comment') {
      if (item.inline === true && anchor !== undefined) out[anchor] = `${out[anchor] ?? ''} ${commentText(item)}`;
      else out.push(commentLine(item, col));
      anchor = undefined;
      continue;
    }
    const lines =
      kind === 'map' ? entryLines(item as MapEntry, col, ctx, compactDash) : seqItemLines(item as Node, col, ctx);
    anchor = takesInlineComment(item as MapEntry | Node, kind) ? out.length : undefined;
    out.push(...lines);
  }
  return out;
}

/** Lines of a block mapping's items at `col` (`compactDash`: see {@link valueAfterKey}). */
export function mapLines(map: MapNode, col: number, ctx: RenderContext, compactDash?: number): string[] {
  return itemsLines(map.items, col, 'map', ctx, compactDash);
}

/** Lines of a block sequence's items with dashes at `col`. */
export function seqLines(seq: SeqNode, col: number, ctx: RenderContext): string[] {
  return itemsLines(seq.items, col, 'seq', ctx);
}

/**
 * A document: its mapping at column 0 (`{}` when it has no entries).
 * @throws UnsupportedDocumentError when a comment's text holds a line break.
 */
export function documentLines(map: MapNode, ctx: RenderContext): string[] {
  if (!hasEntries(map))
    return map.items.length === 0 ? ['{}'] : [...map.items.map((c) => commentLine(c as CommentNode, 0))];
  return mapLines(map, 0, ctx);
}

/** Whether a subtree can be written in flow style (no comments anywhere in it). */
export function flowRenderable(node: Node): boolean {
  if (node.kind === 'scalar') return true;
  return node.items.every((i) => i.kind !== 'comment' && flowRenderable(i.kind === 'entry' ? i.value : i));
}

/** A subtree in flow style (`{a: 1, b: [x, y]}`); only for {@link flowRenderable} subtrees. */
export function flowText(node: Node): string {
  if (node.kind === 'scalar') {
    const e = emitScalar(node.value, { style: node.style, context: 'flow', allowBlock: false, allowKeep: false });
    return e.kind === 'flow' ? e.text : doubleQuote('');
  }
  if (node.kind === 'map') {
    const parts = node.items.flatMap((i) =>
      i.kind === 'entry' ? [`${renderKey(i.key, true)}: ${flowText(i.value)}`] : [],
    );
    return `{${parts.join(', ')}}`;
  }
  return `[${node.items.flatMap((i) => (i.kind === 'comment' ? [] : [flowText(i)])).join(', ')}]`;
}
