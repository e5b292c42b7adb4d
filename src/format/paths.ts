/**
 * Tree paths as users type them: SOPS's `["a"]["b"][0]` form (for `--extract`, `set`, `unset`)
 * and the dotted `a.b[0]` / `a.b.0` form.
 */
import { TreePathError } from '../errors.js';
import { getEntry, type MapNode, type Node, type TreePath } from './tree.js';

/**
 * Parses a path in either form.
 * @throws TreePathError for a malformed path (the message quotes only the path).
 */
export function parseTreePath(text: string): TreePath {
  const t = text.trim();
  if (t === '') throw new TreePathError('empty path');
  return t.startsWith('[') ? parseBracketPath(t) : parseDottedPath(t);
}

function parseBracketPath(t: string): TreePath {
  const out: TreePath = [];
  let i = 0;
  while (i < t.length) {
    if (t[i] !== '[') throw bad(t);
    i += 1;
    if (t[i] === '"' || t[i] === "'") {
      const quote = t[i]!;
      let j = i + 1;
      let key = '';
      while (j < t.length && t[j] !== quote) {
        if (t[j] === '\\' && j + 1 < t.length) {
          key += t[j + 1];
          j += 2;
          continue;
        }
        key += t[j];
        j += 1;
      }
      if (t[j] !== quote || t[j + 1] !== ']') throw bad(t);
      out.push(key);
      i = j + 2;
    } else {
      const close = t.indexOf(']', i);
      if (close === -1) throw bad(t);
      const inner = t.slice(i, close).trim();
      if (!/^\d+$/.test(inner)) throw bad(t);
      out.push(Number(inner));
      i = close + 1;
    }
  }
  return out;
}

function parseDottedPath(t: string): TreePath {
  const out: TreePath = [];
  for (const part of t.split('.')) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (m === null) throw bad(t);
    const name = m[1]!;
    if (name !== '') out.push(/^\d+$/.test(name) && out.length > 0 ? Number(name) : name);
    else if (m[2] === '') throw bad(t);
    for (const idx of (m[2] ?? '').matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

function bad(t: string): TreePathError {
  return new TreePathError(`invalid path ${JSON.stringify(t)}`, { hint: 'use ["key"]["sub"][0] or key.sub[0]' });
}

function seqChildren(n: Node): Node[] {
  return n.kind === 'seq' ? n.items.filter((i): i is Node => i.kind !== 'comment') : [];
}

/** The node at `path` under one of `documents` (searched in order), or undefined. */
export function getAtPath(documents: readonly MapNode[], path: TreePath): Node | undefined {
  for (const doc of documents) {
    let node: Node | undefined = doc;
    for (const part of path) {
      if (node === undefined) break;
      if (typeof part === 'number') {
        // A number also addresses a map key spelled as digits (dotted form is ambiguous).
        node =
          node.kind === 'seq'
            ? seqChildren(node)[part]
            : node.kind === 'map'
              ? getEntry(node, String(part))?.value
              : undefined;
      } else {
        node = node.kind === 'map' ? getEntry(node, part)?.value : undefined;
      }
    }
    if (node !== undefined) return node;
  }
  return undefined;
}

/**
 * Sets the value at `path` in `doc`, creating intermediate maps (and appending to a sequence
 * when the index equals its length), as `sops set` does. An existing scalar keeps its node
 * object (so its style and position survive); other nodes are replaced.
 * @throws TreePathError when the path crosses a scalar or indexes past a sequence's end.
 */
export function setAtPath(doc: MapNode, path: TreePath, value: Node): void {
  if (path.length === 0) throw new TreePathError('cannot replace the whole document');
  let node: Node = doc;
  for (let i = 0; i < path.length; i++) {
    const part = path[i]!;
    const last = i === path.length - 1;
    const nextIsIndex = typeof path[i + 1] === 'number';
    if (node.kind === 'map') {
      const key = String(part);
      let entry = getEntry(node, key);
      if (entry === undefined) {
        entry = {
          kind: 'entry',
          key,
          value: last ? value : nextIsIndex ? { kind: 'seq', items: [] } : { kind: 'map', items: [] },
        };
        node.items.push(entry);
      } else if (last) {
        replaceValue(entry, value);
      }
      node = entry.value;
    } else if (node.kind === 'seq' && typeof part === 'number') {
      const children = seqChildren(node);
      if (part > children.length)
        throw new TreePathError(`index ${part} is past the end of the list`, { path: path.slice(0, i + 1) });
      if (part === children.length) {
        const child: Node = last ? value : nextIsIndex ? { kind: 'seq', items: [] } : { kind: 'map', items: [] };
        node.items.push(child);
        node = child;
      } else {
        const existing = children[part]!;
        if (last) {
          if (existing.kind === 'scalar' && value.kind === 'scalar') existing.value = value.value;
          else node.items[node.items.indexOf(existing)] = value;
          return;
        }
        node = existing;
      }
    } else {
      throw new TreePathError('path goes through a value that is not a map or list', { path: path.slice(0, i + 1) });
    }
  }
}

function replaceValue(entry: { value: Node }, value: Node): void {
  if (entry.value.kind === 'scalar' && value.kind === 'scalar') entry.value.value = value.value;
  else entry.value = value;
}

/**
 * Removes the entry or list item at `path`.
 * @returns false when nothing was there.
 */
export function unsetAtPath(doc: MapNode, path: TreePath): boolean {
  if (path.length === 0) throw new TreePathError('cannot remove the whole document');
  const parent = path.length === 1 ? doc : getAtPath([doc], path.slice(0, -1));
  const last = path[path.length - 1]!;
  if (parent === undefined) return false;
  let index = -1;
  if (parent.kind === 'map') index = parent.items.findIndex((i) => i.kind === 'entry' && i.key === String(last));
  else if (parent.kind === 'seq' && typeof last === 'number') {
    const child = seqChildren(parent)[last];
    index = child === undefined ? -1 : parent.items.indexOf(child);
  }
  if (index === -1 || parent.kind === 'scalar') return false;
  // An inline comment (`key: v # note`) belongs to the removed item and goes with it.
  const next = parent.items[index + 1];
  const count = next !== undefined && next.kind === 'comment' && next.inline === true ? 2 : 1;
  parent.items.splice(index, count);
  return true;
}
