/**
 * The JSON store, compatible with sops' `stores/json/store.go` (3.13.2).
 *
 * Parsing keeps a source map: every value's span in the text. Serialising walks the current
 * tree next to that map: a scalar whose value did not change is copied from the source, a
 * container whose keys did not change is copied with only its changed children re-rendered, and
 * a container whose keys changed is re-laid-out in the style it had (indent, `": "`), children
 * reused where they match. New values are rendered as Go's `json.Marshal` + `json.Indent` do,
 * which is what SOPS writes.
 */
import { MetadataError, ParseError, UnsupportedDocumentError } from '../errors.js';
import { formatGoJsonFloat } from '../format/gofloat.js';
import type { MapEntry, MapNode, Node, ScalarValue, TreePath } from '../format/tree.js';
import { notText, scalar } from '../format/tree.js';
import { positionAt, sameScalar, singleDocument } from './common.js';
import type { Store, StoreDocument } from './store.js';

/** Where a value sits in the source text (`end` exclusive). */
export type JsonSrc = JsonSrcScalar | JsonSrcMap | JsonSrcSeq;
interface JsonSrcScalar {
  kind: 'scalar';
  start: number;
  end: number;
  value: ScalarValue;
}
interface JsonSrcEntry {
  key: string;
  keyStart: number;
  keyEnd: number;
  value: JsonSrc;
}
interface JsonSrcMap {
  kind: 'map';
  start: number;
  end: number;
  entries: JsonSrcEntry[];
}
interface JsonSrcSeq {
  kind: 'seq';
  start: number;
  end: number;
  items: JsonSrc[];
}

/** A parsed JSON file: its text and the source map of its top-level object. */
export interface JsonSource {
  text: string;
  top: JsonSrcMap;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** Go's decoder allows 10000; recursion in JS needs a lower bound to stay off the stack limit. */
const MAX_DEPTH = 1000;
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const PLAIN_STRING_RUN = /[^"\\\u0000-\u001f]*/y;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

class JsonParser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly file: string | undefined,
  ) {}

  /** Parses the whole text; the top level must be an object. */
  parseDocument(): JsonSrcMap {
    this.skipWhitespace();
    const start = this.pos;
    const value = this.parseValue(0, []);
    this.skipWhitespace();
    if (this.pos < this.text.length) throw this.fail('unexpected data after the top-level JSON value');
    if (value.kind !== 'map')
      throw new UnsupportedDocumentError('the top level of a JSON file must be an object', {
        file: this.file,
        ...positionAt(this.text, start),
      });
    return value;
  }

  private fail(message: string, at = this.pos): ParseError {
    return new ParseError(`invalid JSON: ${message}`, { file: this.file, ...positionAt(this.text, at) });
  }

  private skipWhitespace(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      this.pos += 1;
    }
  }

  private parseValue(depth: number, path: TreePath): JsonSrc {
    if (depth > MAX_DEPTH) throw this.fail('nesting too deep');
    const c = this.text[this.pos];
    if (c === '{') return this.parseObject(depth, path);
    if (c === '[') return this.parseArray(depth, path);
    const start = this.pos;
    if (c === '"') return { kind: 'scalar', start, value: { type: 'str', value: this.parseString() }, end: this.pos };
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.parseNumber(path);
    for (const [word, value] of [
      ['true', { type: 'bool', value: true }],
      ['false', { type: 'bool', value: false }],
      ['null', { type: 'null' }],
    ] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return { kind: 'scalar', start, end: this.pos, value };
      }
    }
    throw this.fail(c === undefined ? 'unexpected end of input' : 'unexpected character');
  }

  private parseObject(depth: number, path: TreePath): JsonSrcMap {
    const start = this.pos;
    this.pos += 1;
    const entries: JsonSrcEntry[] = [];
    const seen = new Set<string>();
    this.skipWhitespace();
    if (this.text[this.pos] === '}') {
      this.pos += 1;
      return { kind: 'map', start, end: this.pos, entries };
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.pos] !== '"') throw this.fail('expected a string key');
      const keyStart = this.pos;
      const key = this.parseString();
      const keyEnd = this.pos;
      // Go's decoder keeps the last duplicate; SOPS would then see two tree items. Refuse instead.
      if (seen.has(key))
        throw new UnsupportedDocumentError('duplicate key in a JSON object', {
          file: this.file,
          path: [...path, key],
          ...positionAt(this.text, keyStart),
        });
      seen.add(key);
      this.skipWhitespace();
      if (this.text[this.pos] !== ':') throw this.fail('expected ":" after an object key');
      this.pos += 1;
      this.skipWhitespace();
      entries.push({ key, keyStart, keyEnd, value: this.parseValue(depth + 1, [...path, key]) });
      this.skipWhitespace();
      const c = this.text[this.pos];
      this.pos += 1;
      if (c === '}') return { kind: 'map', start, end: this.pos, entries };
      if (c !== ',') throw this.fail('expected "," or "}" in an object', this.pos - 1);
    }
  }

  private parseArray(depth: number, path: TreePath): JsonSrcSeq {
    const start = this.pos;
    this.pos += 1;
    const items: JsonSrc[] = [];
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.pos += 1;
      return { kind: 'seq', start, end: this.pos, items };
    }
    for (;;) {
      this.skipWhitespace();
      items.push(this.parseValue(depth + 1, [...path, items.length]));
      this.skipWhitespace();
      const c = this.text[this.pos];
      this.pos += 1;
      if (c === ']') return { kind: 'seq', start, end: this.pos, items };
      if (c !== ',') throw this.fail('expected "," or "]" in an array', this.pos - 1);
    }
  }

  private parseString(): string {
    this.pos += 1; // opening quote
    let out = '';
    for (;;) {
      PLAIN_STRING_RUN.lastIndex = this.pos;
      const run = PLAIN_STRING_RUN.exec(this.text)?.[0] ?? '';
      out += run;
      this.pos += run.length;
      const c = this.text[this.pos];
      if (c === '"') {
        this.pos += 1;
        return out;
      }
      if (c === undefined) throw this.fail('unterminated string');
      if (c !== '\\') throw this.fail('control character in a string');
      out += this.parseEscape();
    }
  }

  private parseEscape(): string {
    const c = this.text[this.pos + 1];
    if (c !== undefined && c in ESCAPES) {
      this.pos += 2;
      return ESCAPES[c] as string;
    }
    if (c !== 'u') throw this.fail('invalid escape in a string');
    const unit = this.hex4(this.pos + 2);
    this.pos += 6;
    if (unit >= 0xd800 && unit < 0xdc00 && this.text.startsWith('\\u', this.pos)) {
      const low = this.hex4(this.pos + 2);
      if (low >= 0xdc00 && low < 0xe000) {
        this.pos += 6;
        return String.fromCharCode(unit, low);
      }
    }
    // Go's decoder turns an unpaired surrogate into U+FFFD.
    return unit >= 0xd800 && unit < 0xe000 ? '\ufffd' : String.fromCharCode(unit);
  }

  private hex4(at: number): number {
    const digits = this.text.slice(at, at + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(digits)) throw this.fail('invalid \\u escape in a string', at);
    return parseInt(digits, 16);
  }

  private parseNumber(path: TreePath): JsonSrcScalar {
    const start = this.pos;
    NUMBER.lastIndex = start;
    const m = NUMBER.exec(this.text);
    if (m === null) throw this.fail('invalid number');
    this.pos += m[0].length;
    const literal = m[0];
    // sops ≥ 3.13.2: an integer literal that fits int64 is an int, every other number a float.
    if (m[1] === undefined && m[2] === undefined) {
      const big = BigInt(literal);
      if (big >= INT64_MIN && big <= INT64_MAX)
        return { kind: 'scalar', start, end: this.pos, value: { type: 'int', value: big } };
    }
    const value = Number(literal);
    if (!Number.isFinite(value))
      throw new UnsupportedDocumentError('number out of range for a 64-bit float', {
        file: this.file,
        path,
        ...positionAt(this.text, start),
      });
    return { kind: 'scalar', start, end: this.pos, value: { type: 'float', value } };
  }
}

/**
 * Parses JSON text into its source map.
 * @throws ParseError (with line and column) for malformed JSON.
 * @throws UnsupportedDocumentError when the top level is not an object, a key repeats, or a
 * number does not fit a float64.
 */
export function parseJson(text: string, file?: string): JsonSource {
  return { text, top: new JsonParser(text, file).parseDocument() };
}

/** The tree for a source-map node. */
function treeOf(src: JsonSrc): Node {
  switch (src.kind) {
    case 'scalar':
      return scalar({ ...src.value } as ScalarValue);
    case 'seq':
      return { kind: 'seq', items: src.items.map(treeOf) };
    case 'map':
      return { kind: 'map', items: src.entries.map((e) => ({ kind: 'entry', key: e.key, value: treeOf(e.value) })) };
  }
}

/**
 * Splits a parsed file into its data document and its `sops` block.
 * @throws MetadataError when `sops` is present but not an object.
 */
export function documentsOf(source: JsonSource, file?: string): { document: MapNode; metadata: MapNode | undefined } {
  const items: MapEntry[] = [];
  let metadata: MapNode | undefined;
  for (const entry of source.top.entries) {
    if (entry.key !== 'sops') {
      items.push({ kind: 'entry', key: entry.key, value: treeOf(entry.value) });
      continue;
    }
    const tree = treeOf(entry.value);
    if (tree.kind !== 'map')
      throw new MetadataError('the "sops" key must hold an object', {
        file,
        path: ['sops'],
        ...positionAt(source.text, entry.keyStart),
      });
    metadata = tree;
  }
  return { document: { kind: 'map', items }, metadata };
}

const STRING_ESCAPES =
  /["\\\u0000-\u001f<>&\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const KEY_ESCAPES = /["\\\u0000-\u001f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

function escapeChar(c: string): string {
  const short = SHORT_ESCAPES[c];
  if (short !== undefined) return short;
  const code = c.charCodeAt(0);
  if (code >= 0xd800 && code < 0xe000) return '\\ufffd'; // Go writes invalid UTF-8 as U+FFFD
  return `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * A string as Go's `json.Marshal` writes it: `<`, `>`, `&`, U+2028 and U+2029 escaped as
 * `\u003c`…, control characters as `\n`-style or `\u00XX` escapes.
 */
export function goJsonString(value: string): string {
  return `"${value.replace(STRING_ESCAPES, escapeChar)}"`;
}

/** A key as SOPS writes it: SOPS pastes keys between quotes unescaped; we escape only what JSON requires. */
function goJsonKey(key: string): string {
  return `"${key.replace(KEY_ESCAPES, escapeChar)}"`;
}

function scalarJson(v: ScalarValue, path: TreePath): string {
  switch (v.type) {
    case 'str':
    case 'time':
      return goJsonString(v.value);
    case 'int':
      return v.value.toString();
    case 'float':
      if (!Number.isFinite(v.value)) throw new UnsupportedDocumentError('JSON cannot hold NaN or Infinity', { path });
      return formatGoJsonFloat(v.value);
    case 'bool':
      return v.value ? 'true' : 'false';
    case 'bytes':
      throw notText(path);
    case 'null':
      return 'null';
  }
}

/** How a container's items are laid out: text after the bracket, between key and value, between items, before the closing bracket. */
interface Layout {
  open: string;
  kv: string;
  sep: string;
  close: string;
  /** Indentation of the lines the items start on. */
  childIndent: string;
}

function entriesOf(node: MapNode): MapEntry[] {
  return node.items.filter((i): i is MapEntry => i.kind === 'entry');
}

function valuesOf(node: Node): Node[] {
  return node.kind === 'seq' ? node.items.filter((i): i is Node => i.kind !== 'comment') : [];
}

/** Renders trees to JSON text, reusing a source's bytes where values did not change. */
class JsonRenderer {
  readonly unit: string;

  constructor(private readonly text: string) {
    // The file's own indent unit for new lines; SOPS's is a tab.
    this.unit = /\n([ \t]+)\S/.exec(text)?.[1] ?? '\t';
  }

  /** The whitespace that starts the line holding `pos`. */
  private lineIndentAt(pos: number): string {
    const lineStart = this.text.lastIndexOf('\n', pos - 1) + 1;
    return /^[ \t]*/.exec(this.text.slice(lineStart, pos))?.[0] ?? '';
  }

  private canonicalLayout(indent: string): Layout {
    const inner = indent + this.unit;
    return { open: `\n${inner}`, kv: ': ', sep: `,\n${inner}`, close: `\n${indent}`, childIndent: inner };
  }

  private layoutOf(src: JsonSrcMap | JsonSrcSeq): Layout {
    const starts = src.kind === 'map' ? src.entries.map((e) => e.keyStart) : src.items.map((i) => i.start);
    const ends = src.kind === 'map' ? src.entries.map((e) => e.value.end) : src.items.map((i) => i.end);
    const [first, second] = starts;
    const lastEnd = ends[ends.length - 1];
    if (first === undefined || lastEnd === undefined) return this.canonicalLayout(this.lineIndentAt(src.start));
    const open = this.text.slice(src.start + 1, first);
    const multiline = open.includes('\n');
    const firstEntry = src.kind === 'map' ? src.entries[0] : undefined;
    return {
      open,
      kv: firstEntry === undefined ? ': ' : this.text.slice(firstEntry.keyEnd, firstEntry.value.start),
      sep: second === undefined ? (multiline ? `,${open}` : ', ') : this.text.slice(ends[0], second),
      close: this.text.slice(lastEnd, src.end - 1),
      childIndent: multiline ? open.slice(open.lastIndexOf('\n') + 1) : this.lineIndentAt(src.start),
    };
  }

  /** `node` as JSON; `src` is the source value at the same place, if any; `indent` the indentation of the line it starts on. */
  render(node: Node, src: JsonSrc | undefined, indent: string, path: TreePath): string {
    if (node.kind === 'scalar') {
      if (src?.kind === 'scalar' && sameScalar(node.value, src.value)) return this.text.slice(src.start, src.end);
      return scalarJson(node.value, path);
    }
    if (node.kind === 'map')
      return src?.kind === 'map'
        ? this.renderMapOver(node, src, path)
        : this.renderMap(node, this.canonicalLayout(indent), [], path);
    return src?.kind === 'seq'
      ? this.renderSeqOver(node, src, path)
      : this.renderSeq(node, this.canonicalLayout(indent), [], path);
  }

  private renderMapOver(node: MapNode, src: JsonSrcMap, path: TreePath): string {
    const entries = entriesOf(node);
    const sameKeys = entries.length === src.entries.length && entries.every((e, i) => e.key === src.entries[i]?.key);
    if (!sameKeys) return this.renderMap(node, this.layoutOf(src), src.entries, path);
    // Same keys in the same order: copy the source, re-rendering only the values.
    let out = this.text.slice(src.start, src.entries[0]?.keyStart ?? src.end);
    src.entries.forEach((se, i) => {
      const entry = entries[i] as MapEntry;
      const next = src.entries[i + 1]?.keyStart ?? src.end;
      out +=
        this.text.slice(se.keyStart, se.value.start) +
        this.render(entry.value, se.value, this.lineIndentAt(se.keyStart), [...path, entry.key]) +
        this.text.slice(se.value.end, next);
    });
    return out;
  }

  private renderSeqOver(node: Node, src: JsonSrcSeq, path: TreePath): string {
    const values = valuesOf(node);
    if (values.length !== src.items.length) return this.renderSeq(node, this.layoutOf(src), src.items, path);
    let out = this.text.slice(src.start, src.items[0]?.start ?? src.end);
    src.items.forEach((si, i) => {
      const next = src.items[i + 1]?.start ?? src.end;
      out +=
        this.render(values[i] as Node, si, this.lineIndentAt(si.start), [...path, i]) + this.text.slice(si.end, next);
    });
    return out;
  }

  /** A map laid out with `layout`; each entry reuses the first unused source entry with its key. */
  renderMap(node: MapNode, layout: Layout, srcEntries: readonly JsonSrcEntry[], path: TreePath): string {
    const entries = entriesOf(node);
    if (entries.length === 0) return '{}';
    const used = new Set<JsonSrcEntry>();
    const parts = entries.map((entry) => {
      const se = srcEntries.find((s) => !used.has(s) && s.key === entry.key);
      if (se !== undefined) used.add(se);
      const key = se === undefined ? goJsonKey(entry.key) : this.text.slice(se.keyStart, se.keyEnd);
      return key + layout.kv + this.render(entry.value, se?.value, layout.childIndent, [...path, entry.key]);
    });
    return `{${layout.open}${parts.join(layout.sep)}${layout.close}}`;
  }

  /** A list laid out with `layout`; items reuse the source item at the same index. */
  renderSeq(node: Node, layout: Layout, srcItems: readonly JsonSrc[], path: TreePath): string {
    const values = valuesOf(node);
    if (values.length === 0) return '[]';
    const parts = values.map((value, i) => this.render(value, srcItems[i], layout.childIndent, [...path, i]));
    return `[${layout.open}${parts.join(layout.sep)}${layout.close}]`;
  }
}

/** Where the `sops` entry goes: last, unless the source had it elsewhere. */
function topLevel(document: MapNode, metadata: MapNode | undefined, source: JsonSource | undefined): MapNode {
  const items: MapEntry[] = entriesOf(document);
  for (const entry of items) {
    if (entry.key === 'sops')
      throw new UnsupportedDocumentError('the top-level key "sops" is reserved for SOPS metadata', { path: ['sops'] });
  }
  if (metadata === undefined) return { kind: 'map', items };
  const sopsEntry: MapEntry = { kind: 'entry', key: 'sops', value: metadata };
  const srcIndex = source?.top.entries.findIndex((e) => e.key === 'sops') ?? -1;
  const wasLast = srcIndex === -1 || srcIndex === (source?.top.entries.length ?? 0) - 1;
  const at = wasLast ? items.length : Math.min(srcIndex, items.length);
  return { kind: 'map', items: [...items.slice(0, at), sopsEntry, ...items.slice(at)] };
}

/**
 * The JSON text for `document` plus `metadata` (as the last `sops` key). With a `source`,
 * unchanged values keep their exact bytes; without one, the layout is SOPS's: tab indent,
 * `"key": value`, final newline.
 * @throws UnsupportedDocumentError for a NaN/Infinity float or a data key named `sops`.
 */
export function renderJson(document: MapNode, metadata: MapNode | undefined, source: JsonSource | undefined): string {
  const top = topLevel(document, metadata, source);
  if (source === undefined) {
    const renderer = new JsonRenderer('');
    return `${renderer.render(top, undefined, '', [])}\n`;
  }
  const { text } = source;
  const renderer = new JsonRenderer(text);
  return text.slice(0, source.top.start) + renderer.render(top, source.top, '', []) + text.slice(source.top.end);
}

class JsonDocument implements StoreDocument {
  readonly format = 'json' as const;

  constructor(
    public documents: MapNode[],
    public metadata: MapNode | undefined,
    private readonly source: JsonSource | undefined,
  ) {}

  serialize(): string {
    return renderJson(singleDocument(this.documents, 'JSON'), this.metadata, this.source);
  }
}

/**
 * The JSON store (`.json`). One object per file; key order kept; no comments.
 * @see Store
 */
export const jsonStore: Store = {
  format: 'json',
  /**
   * @throws ParseError (with line and column) for malformed JSON, or one that starts with a BOM.
   * @throws UnsupportedDocumentError when the top level is not an object, a key repeats, or a
   * number overflows a float64.
   * @throws MetadataError when `sops` is not an object.
   */
  load(text: string, file?: string): StoreDocument {
    // Go's encoding/json refuses a BOM, so sops does: a file we wrote with one sops could not read.
    if (text.startsWith('\ufeff')) {
      throw new ParseError(
        'invalid JSON: the file starts with a UTF-8 byte-order mark (BOM), which JSON does not allow',
        { file, line: 1, col: 1, hint: 'remove its first three bytes (EF BB BF); sops refuses such a file too' },
      );
    }
    const source = parseJson(text, file);
    const { document, metadata } = documentsOf(source, file);
    return new JsonDocument([document], metadata, source);
  },
  /** SOPS's layout (`json.Indent` with a tab, final newline, `sops` last). */
  create(documents: MapNode[], metadata?: MapNode): StoreDocument {
    return new JsonDocument(documents, metadata, undefined);
  },
};
