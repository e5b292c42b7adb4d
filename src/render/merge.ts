/**
 * Merging the decrypted files of one environment into one tree. Precedence: files in the order
 * given (render sorts them by path), later files win; maps merge key by key, anything else
 * (scalars, lists) is replaced whole. A key set to different values by two files is a conflict:
 * reported, and an error under `--strict`.
 */
import { formatPath } from '../errors.js';
import { cloneNode, sameScalar, type MapEntry, type MapNode, type Node, type TreePath } from '../format/tree.js';

export interface MergeSource {
  file: string;
  /** Decrypted documents of the file (YAML may hold several; they merge in order). */
  documents: MapNode[];
}

export interface Conflict {
  /** Dotted key path (`db.password`). Never the values. */
  path: string;
  /** Files that set it, in precedence order (the last one wins). */
  files: string[];
}

export interface Merged {
  tree: MapNode;
  conflicts: Conflict[];
}

function sameNode(a: Node, b: Node): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'scalar' || b.kind === 'scalar')
    return a.kind === 'scalar' && b.kind === 'scalar' && sameScalar(a.value, b.value);
  const ai = (a.items as (MapEntry | Node | { kind: 'comment' })[]).filter((i) => i.kind !== 'comment');
  const bi = (b.items as (MapEntry | Node | { kind: 'comment' })[]).filter((i) => i.kind !== 'comment');
  if (ai.length !== bi.length) return false;
  return ai.every((x, i) => {
    const y = bi[i]!;
    if (x.kind === 'entry') return y.kind === 'entry' && x.key === y.key && sameNode(x.value, y.value);
    return y.kind !== 'entry' && sameNode(x as Node, y as Node);
  });
}

/** Comments never reach rendered output. */
function stripComments<T extends Node>(node: T): T {
  if (node.kind === 'scalar') return cloneNode(node);
  if (node.kind === 'map')
    return {
      kind: 'map',
      items: node.items
        .filter((i): i is MapEntry => i.kind === 'entry')
        .map((e) => ({ kind: 'entry', key: e.key, value: stripComments(e.value) })),
    } as T;
  return { kind: 'seq', items: node.items.filter((i): i is Node => i.kind !== 'comment').map(stripComments) } as T;
}

/** Merges the sources in order (later wins), recording conflicting keys. */
export function mergeSources(sources: readonly MergeSource[]): Merged {
  const tree: MapNode = { kind: 'map', items: [] };
  const setBy = new Map<string, string[]>();
  const conflicts = new Map<string, Conflict>();
  const mergeInto = (target: MapNode, source: MapNode, path: TreePath, file: string): void => {
    for (const item of source.items) {
      if (item.kind !== 'entry') continue;
      const p = [...path, item.key];
      const existing = target.items.find((i): i is MapEntry => i.kind === 'entry' && i.key === item.key);
      if (existing !== undefined && existing.value.kind === 'map' && item.value.kind === 'map') {
        mergeInto(existing.value, item.value, p, file);
        continue;
      }
      const key = formatPath(p);
      const value = stripComments(item.value);
      if (existing === undefined) target.items.push({ kind: 'entry', key: item.key, value });
      else {
        if (!sameNode(existing.value, value)) {
          const files = [...(setBy.get(key) ?? []), file];
          conflicts.set(key, { path: key, files: [...new Set(files)] });
        }
        existing.value = value;
      }
      setBy.set(key, [...(setBy.get(key) ?? []), file]);
    }
  };
  for (const s of sources) for (const doc of s.documents) mergeInto(tree, doc, [], s.file);
  return { tree, conflicts: [...conflicts.values()] };
}
