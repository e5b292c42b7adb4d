/**
 * The document model shared by every store: an ordered tree of mappings (string keys),
 * sequences, scalar leaves and comments — the shape of SOPS's TreeBranch/TreeItem/Comment.
 *
 * Stores turn text into this tree and back; the cipher walks it. Nodes are plain mutable
 * objects: stores remember the node objects they produced so that, on serialisation, a node
 * whose value did not change keeps its original bytes (see `stores/store.ts`).
 */
import { UnsupportedDocumentError } from '../errors.js';
import { utf8Text } from '../util/utf8.js';
import { formatGoFloat } from './gofloat.js';

/** A typed scalar. `str` values that start with `ENC[AES256_GCM,` are encrypted values. */
export type ScalarValue =
  | { type: 'str'; value: string }
  /** 64-bit integer (Go `int`); bigint so large values survive exactly. */
  | { type: 'int'; value: bigint }
  | { type: 'float'; value: number }
  | { type: 'bool'; value: boolean }
  /** A timestamp; `value` is the text as written (or the RFC 3339 form after a decrypt). */
  | { type: 'time'; value: string }
  /**
   * Content that is not UTF-8 text: only the binary store's `data`, and only when its bytes are
   * not valid UTF-8 (valid ones are a `str`). Encrypted as sops does, as type `str`.
   */
  | { type: 'bytes'; value: Buffer }
  | { type: 'null' };

export type ScalarType = ScalarValue['type'];

/** How a scalar was (or should be) written in YAML. Other stores ignore it. */
export type ScalarStyle = 'plain' | 'single' | 'double' | 'literal' | 'folded';

export interface ScalarNode {
  kind: 'scalar';
  value: ScalarValue;
  /** Source quoting style, kept across encrypt/decrypt so output matches input. */
  style?: ScalarStyle;
}

/** A comment line; `text` is everything after `#` (SOPS keeps the leading space). */
export interface CommentNode {
  kind: 'comment';
  text: string;
  /** A comment on the same line as a value (`key: v # note`), kept inline on output. */
  inline?: boolean;
}

export interface MapEntry {
  kind: 'entry';
  key: string;
  value: Node;
}

export interface MapNode {
  kind: 'map';
  items: (MapEntry | CommentNode)[];
}

export interface SeqNode {
  kind: 'seq';
  items: (Node | CommentNode)[];
}

export type Node = MapNode | SeqNode | ScalarNode;

/** Key path from the document root: mapping keys as strings, sequence indexes as numbers. */
export type TreePath = (string | number)[];

export function scalar(value: ScalarValue, style?: ScalarStyle): ScalarNode {
  return style === undefined ? { kind: 'scalar', value } : { kind: 'scalar', value, style };
}

export function str(value: string, style?: ScalarStyle): ScalarNode {
  return scalar({ type: 'str', value }, style);
}

/** Raw file content as a scalar: a `str` when it is UTF-8 text, else `bytes` (kept exactly). */
export function content(bytes: Uint8Array): ScalarValue {
  const text = utf8Text(bytes);
  return text === undefined ? { type: 'bytes', value: Buffer.from(bytes) } : { type: 'str', value: text };
}

export function map(entries: [string, Node][] = []): MapNode {
  return { kind: 'map', items: entries.map(([key, value]) => ({ kind: 'entry', key, value })) };
}

export function seq(items: Node[] = []): SeqNode {
  return { kind: 'seq', items: [...items] };
}

/** True when two scalars have the same type and value (NaN equals NaN, -0 differs from 0). */
export function sameScalar(a: ScalarValue, b: ScalarValue): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'null' || b.type === 'null') return true;
  if (a.type === 'float' && b.type === 'float') return Object.is(a.value, b.value);
  if (a.type === 'bytes' && b.type === 'bytes') return a.value.equals(b.value);
  return (a as { value: unknown }).value === (b as { value: unknown }).value;
}

export function isEncryptedString(v: ScalarValue): boolean {
  return v.type === 'str' && v.value.startsWith('ENC[');
}

/** The entry with `key` in `m`, if any. */
export function getEntry(m: MapNode, key: string): MapEntry | undefined {
  for (const item of m.items) if (item.kind === 'entry' && item.key === key) return item;
  return undefined;
}

/** The value under `key` in `m`, if any. */
export function get(m: MapNode, key: string): Node | undefined {
  return getEntry(m, key)?.value;
}

/** A visit of every leaf and comment in document order. */
export type Visit =
  | { kind: 'scalar'; node: ScalarNode; path: TreePath; keys: string[] }
  | { kind: 'comment'; node: CommentNode; path: TreePath; keys: string[] };

/**
 * Walks `node` depth-first in document order, yielding scalars and comments with their full
 * path (`path`, indexes included) and their mapping-key path (`keys`, what SOPS uses for AAD
 * and selectors: sequence indexes are not part of it). For a comment, `path`/`keys` are those
 * of the container that holds it.
 */
export function* walk(node: Node, path: TreePath = [], keys: string[] = []): Generator<Visit> {
  if (node.kind === 'scalar') {
    yield { kind: 'scalar', node, path, keys };
    return;
  }
  if (node.kind === 'map') {
    for (const item of node.items) {
      if (item.kind === 'comment') yield { kind: 'comment', node: item, path, keys };
      else yield* walk(item.value, [...path, item.key], [...keys, item.key]);
    }
    return;
  }
  let index = 0;
  for (const item of node.items) {
    if (item.kind === 'comment') {
      yield { kind: 'comment', node: item, path, keys };
      continue;
    }
    yield* walk(item, [...path, index], keys);
    index += 1;
  }
}

/** Deep structural copy (used when one tree is written through two stores). */
export function cloneNode<T extends Node | CommentNode>(node: T): T {
  switch (node.kind) {
    case 'scalar':
      return { ...node, value: { ...node.value } } as T;
    case 'comment':
      return { ...node } as T;
    case 'map':
      return {
        kind: 'map',
        items: node.items.map((i) =>
          i.kind === 'comment' ? { ...i } : { kind: 'entry', key: i.key, value: cloneNode(i.value) },
        ),
      } as T;
    case 'seq':
      return { kind: 'seq', items: node.items.map((i) => cloneNode(i)) } as T;
  }
}

/** Plain JavaScript value of a tree (comments dropped; ints as numbers when safe, else strings). */
export function toPlain(node: Node): unknown {
  switch (node.kind) {
    case 'scalar':
      return scalarToPlain(node.value);
    case 'seq':
      return node.items.filter((i): i is Node => i.kind !== 'comment').map(toPlain);
    case 'map': {
      const out: Record<string, unknown> = {};
      // defineProperty, not assignment: a key named `__proto__` must stay a key.
      for (const item of node.items) {
        if (item.kind === 'entry')
          Object.defineProperty(out, item.key, {
            value: toPlain(item.value),
            enumerable: true,
            writable: true,
            configurable: true,
          });
      }
      return out;
    }
  }
}

/**
 * A scalar as untyped text (metadata fields, dotenv and INI values): floats in Go 'f' form,
 * bools as `true`/`false`; `undefined` for null.
 * @throws UnsupportedDocumentError for `bytes`: content that is not UTF-8 has no text form.
 */
export function scalarText(v: ScalarValue): string | undefined {
  switch (v.type) {
    case 'bytes':
      throw notText();
    case 'null':
      return undefined;
    case 'str':
    case 'time':
      return v.value;
    case 'int':
      return v.value.toString();
    case 'float':
      return formatGoFloat(v.value);
    case 'bool':
      return v.value ? 'true' : 'false';
  }
}

/** The error for binary content that a text format was asked to hold. */
export function notText(path?: TreePath): UnsupportedDocumentError {
  return new UnsupportedDocumentError(
    'the content is binary (not valid UTF-8 text): only the binary format can hold it',
    { hint: 'keep the binary format (--output-type binary)', ...(path === undefined ? {} : { path }) },
  );
}

export function scalarToPlain(v: ScalarValue): unknown {
  switch (v.type) {
    case 'null':
      return null;
    case 'int':
      return v.value >= BigInt(Number.MIN_SAFE_INTEGER) && v.value <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(v.value)
        : v.value.toString();
    default:
      return v.value;
  }
}

/** Builds a tree from a plain JavaScript value (JSON-like). Integers become `int`, other numbers `float`. */
export function fromPlain(value: unknown): Node {
  if (value === null || value === undefined) return scalar({ type: 'null' });
  if (typeof value === 'string') return str(value);
  if (typeof value === 'boolean') return scalar({ type: 'bool', value });
  if (typeof value === 'bigint') return scalar({ type: 'int', value });
  if (typeof value === 'number')
    return Number.isInteger(value) ? scalar({ type: 'int', value: BigInt(value) }) : scalar({ type: 'float', value });
  if (Array.isArray(value)) return seq(value.map(fromPlain));
  if (typeof value === 'object')
    return map(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, fromPlain(v)]));
  throw new TypeError(`cannot represent a ${typeof value} in a document`);
}
