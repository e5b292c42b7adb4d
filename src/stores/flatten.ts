/**
 * The flattened form of the `sops` metadata block used by the dotenv and INI stores
 * (`stores/flatten.go`): nested maps are joined with `__map_`, list items with `__list_<i>`, so
 * `age[0].enc` is written `age__list_0__map_enc` (dotenv prefixes it with `sops_`, INI puts it
 * in a `[sops]` section). Every value is a string on disk; `shamir_threshold` and
 * `mac_only_encrypted` are converted back to an int and a bool (`DecodeNonStrings`).
 */
import { MetadataError } from '../errors.js';
import type { MapNode, Node, ScalarValue, SeqNode } from '../format/tree.js';
import { scalar, scalarText } from '../format/tree.js';

const MAP_SEPARATOR = '__map_';
const LIST_SEPARATOR = '__list_';

/** One flattened metadata key and its on-disk string value. */
export interface FlatEntry {
  key: string;
  value: string;
  /** 1-based source line, for error messages. */
  line?: number;
}

/** Go's `sort.Strings` order: byte-wise on UTF-8 (differs from UTF-16 order outside the BMP). */
export function compareGoStrings(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function flattenInto(out: FlatEntry[], prefix: string, node: Node): void {
  if (node.kind === 'scalar') {
    const value = scalarText(node.value);
    if (value !== undefined) out.push({ key: prefix, value });
    return;
  }
  if (node.kind === 'seq') {
    let index = 0;
    for (const item of node.items) {
      if (item.kind === 'comment') continue;
      flattenInto(out, `${prefix}${LIST_SEPARATOR}${index}`, item);
      index += 1;
    }
    return;
  }
  for (const entry of sortedEntries(node)) flattenInto(out, `${prefix}${MAP_SEPARATOR}${entry.key}`, entry.value);
}

function sortedEntries(node: MapNode): { key: string; value: Node }[] {
  const entries: { key: string; value: Node }[] = [];
  for (const item of node.items) if (item.kind === 'entry') entries.push(item);
  // sops ≥ 3.13 goes through a Go map and sorts its keys at every level (`stores/flatten.go`).
  return entries.sort((a, b) => compareGoStrings(a.key, b.key));
}

/**
 * Flattens a metadata tree into `key → string` pairs in the order sops ≥ 3.13 writes them
 * (map keys sorted at every level, list items by index, so `__list_10` follows `__list_9`).
 * Null leaves, comments and empty lists/maps produce nothing. Newlines are not escaped here:
 * each store does that its own way.
 */
export function flattenMetadata(metadata: MapNode): FlatEntry[] {
  const out: FlatEntry[] = [];
  for (const entry of sortedEntries(metadata)) {
    if (entry.value.kind === 'scalar') {
      const value = scalarText(entry.value.value);
      if (value !== undefined) out.push({ key: entry.key, value });
    } else {
      flattenInto(out, entry.key, entry.value);
    }
  }
  return out;
}

type Token = { kind: 'map'; key: string } | { kind: 'list'; index: number };

/**
 * Splits a flat key into tokens exactly as sops' `tokenize` does: the text before the first
 * separator is a map key, then each `__map_`/`__list_` starts a new token.
 */
function tokenize(flat: FlatEntry): Token[] {
  const path = flat.key;
  const tokens: Token[] = [];
  let state: 'normal' | 'map' | 'list' = 'normal';
  let tokenStart = 0;
  const finish = (end: number): void => {
    if (state === 'list') {
      const digits = path.slice(tokenStart + LIST_SEPARATOR.length, end);
      if (!/^\d{1,9}$/.test(digits))
        throw new MetadataError('malformed list index in a flattened metadata key', {
          line: flat.line,
          path: ['sops', flat.key],
        });
      tokens.push({ kind: 'list', index: Number(digits) });
    } else {
      tokens.push({
        kind: 'map',
        key: path.slice(state === 'map' ? tokenStart + MAP_SEPARATOR.length : tokenStart, end),
      });
    }
    tokenStart = end;
  };
  let i = 0;
  while (i < path.length) {
    if (path.startsWith(MAP_SEPARATOR, i)) {
      finish(i);
      state = 'map';
      i += MAP_SEPARATOR.length;
    } else if (path.startsWith(LIST_SEPARATOR, i)) {
      finish(i);
      state = 'list';
      i += LIST_SEPARATOR.length;
    } else {
      i += 1;
    }
  }
  finish(path.length);
  return tokens;
}

/** Intermediate tree while unflattening: lists may be filled out of order. */
type Building =
  | { kind: 'map'; entries: Map<string, Building> }
  | { kind: 'list'; items: (Building | undefined)[] }
  | { kind: 'leaf'; value: ScalarValue };

function conflict(flat: FlatEntry): MetadataError {
  return new MetadataError('conflicting flattened metadata keys', { line: flat.line, path: ['sops', flat.key] });
}

function childFor(next: Token | undefined, flat: FlatEntry): Building {
  if (next === undefined) throw conflict(flat);
  return next.kind === 'map' ? { kind: 'map', entries: new Map() } : { kind: 'list', items: [] };
}

function place(root: Building, tokens: Token[], leaf: ScalarValue, flat: FlatEntry, maxIndex: number): void {
  let current = root;
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i] as Token;
    const last = i === tokens.length - 1;
    // A dense list never has an index beyond the number of keys; this also bounds allocation.
    if (token.kind === 'list' && token.index >= maxIndex)
      throw new MetadataError('list index in a flattened metadata key is out of range', {
        line: flat.line,
        path: ['sops', flat.key],
      });
    let existing: Building | undefined;
    if (current.kind === 'map' && token.kind === 'map') existing = current.entries.get(token.key);
    else if (current.kind === 'list' && token.kind === 'list') existing = current.items[token.index];
    else throw conflict(flat); // e.g. `age__map_x` next to `age__list_0`
    if (last && existing !== undefined) throw conflict(flat);
    const child = last ? ({ kind: 'leaf', value: leaf } as const) : (existing ?? childFor(tokens[i + 1], flat));
    if (current.kind === 'map' && token.kind === 'map') current.entries.set(token.key, child);
    else if (current.kind === 'list' && token.kind === 'list') current.items[token.index] = child;
    current = child;
  }
}

function toNode(b: Building | undefined): Node {
  if (b === undefined) return scalar({ type: 'null' }); // a hole left by a missing list index
  if (b.kind === 'leaf') return scalar(b.value);
  if (b.kind === 'list') {
    const items: Node[] = [];
    for (let i = 0; i < b.items.length; i += 1) items.push(toNode(b.items[i]));
    return { kind: 'seq', items } satisfies SeqNode;
  }
  return {
    kind: 'map',
    items: [...b.entries].map(([key, value]) => ({ kind: 'entry' as const, key, value: toNode(value) })),
  };
}

/** `DecodeNonStrings`: the two non-string top-level fields of the metadata block. */
function decodeLeaf(flat: FlatEntry): ScalarValue {
  if (flat.key === 'mac_only_encrypted') return { type: 'bool', value: flat.value === 'true' };
  if (flat.key === 'shamir_threshold') {
    if (!/^[+-]?\d{1,18}$/.test(flat.value))
      throw new MetadataError('shamir_threshold is not an integer', {
        line: flat.line,
        path: ['sops', 'shamir_threshold'],
      });
    return { type: 'int', value: BigInt(flat.value) };
  }
  return { type: 'str', value: flat.value };
}

/**
 * Rebuilds the metadata tree from flattened pairs (keys without the dotenv `sops_` prefix,
 * values with newlines already unescaped). Map keys keep the order in which they first appear;
 * list items are ordered by index. `shamir_threshold` becomes an `int`, `mac_only_encrypted` a
 * `bool`, everything else a `str`.
 *
 * @throws MetadataError when two keys conflict (`age=x` next to `age__list_0__map_enc=y`, or the
 * same key twice), a list index is not a number or is larger than the number of keys, or
 * `shamir_threshold` is not an integer.
 */
export function unflattenMetadata(entries: readonly FlatEntry[]): MapNode {
  const root: Building = { kind: 'map', entries: new Map() };
  for (const flat of entries) place(root, tokenize(flat), decodeLeaf(flat), flat, entries.length);
  return toNode(root) as MapNode;
}
