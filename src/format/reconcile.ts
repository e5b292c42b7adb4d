/**
 * Carries the content of an edited tree over onto the tree a store loaded, keeping every node
 * object whose content did not change. Stores write unchanged nodes with their original bytes,
 * so after `edit` the file differs from before only where the user changed something.
 */
import { sameScalar, type CommentNode, type MapEntry, type MapNode, type Node } from './tree.js';

/**
 * Makes `target` hold the content of `source`, reusing `target`'s nodes where the same key
 * (map) or position (list) exists. Returns the node to use in `target`'s place (itself, or
 * `source` when the kinds differ).
 */
export function reconcile(target: Node, source: Node): Node {
  if (target.kind === 'scalar' && source.kind === 'scalar') {
    if (!sameScalar(target.value, source.value)) target.value = source.value;
    return target;
  }
  if (target.kind === 'map' && source.kind === 'map') {
    reconcileMap(target, source);
    return target;
  }
  if (target.kind === 'seq' && source.kind === 'seq') {
    const oldNodes = target.items.filter((i): i is Node => i.kind !== 'comment');
    const oldComments = target.items.filter((i): i is CommentNode => i.kind === 'comment');
    let n = 0;
    let c = 0;
    const items = source.items.map((item) => {
      if (item.kind === 'comment') return reuseComment(oldComments[c++], item);
      const old = oldNodes[n++];
      return old === undefined ? item : reconcile(old, item);
    });
    if (!sameItems(target.items, items)) target.items = items;
    return target;
  }
  return source;
}

function reuseComment(old: CommentNode | undefined, item: CommentNode): CommentNode {
  if (old === undefined || old.inline !== item.inline) return item;
  if (old.text !== item.text) old.text = item.text;
  return old;
}

function reconcileMap(target: MapNode, source: MapNode): void {
  const byKey = new Map<string, MapEntry>();
  for (const i of target.items) if (i.kind === 'entry') byKey.set(i.key, i);
  const oldComments = target.items.filter((i): i is CommentNode => i.kind === 'comment');
  let c = 0;
  const items = source.items.map((item) => {
    if (item.kind === 'comment') return reuseComment(oldComments[c++], item);
    const old = byKey.get(item.key);
    if (old === undefined) return item;
    byKey.delete(item.key);
    old.value = reconcile(old.value, item.value);
    return old;
  });
  if (!sameItems(target.items, items)) target.items = items;
}

function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * {@link reconcile} for whole files: document i of `source` is carried onto document i of
 * `target` (in place); extra source documents are appended, missing ones dropped.
 */
export function reconcileDocuments(target: MapNode[], source: readonly MapNode[]): void {
  const docs = source.map((d, i) => {
    const old = target[i];
    return old === undefined ? d : (reconcile(old, d) as MapNode);
  });
  target.splice(0, target.length, ...docs);
}
