/** Assertion helpers shared by the test files. */
import assert from 'node:assert/strict';
import { SealantError } from '../../src/errors.js';
import { get, type Node, type ScalarNode } from '../../src/format/tree.js';

/** Runs `fn`, asserts it throws a SealantError, and returns that error for further checks. */
export function catchError(fn: () => unknown): SealantError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SealantError, `expected a SealantError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}

/** The scalar at `path` under `node` (asserts there is one). */
export function scalarAt(node: Node | undefined, ...path: (string | number)[]): ScalarNode {
  let cur = node;
  for (const p of path) {
    if (cur === undefined) break;
    if (typeof p === 'number') cur = cur.kind === 'seq' ? (cur.items[p] as Node | undefined) : undefined;
    else cur = cur.kind === 'map' ? get(cur, p) : undefined;
  }
  assert.ok(cur !== undefined && cur.kind === 'scalar', `no scalar at ${path.join('.')}`);
  return cur;
}

/** 1-based numbers of the lines that differ between two texts of equal line count. */
export function changedLines(a: string, b: string): number[] {
  const la = a.split('\n');
  const lb = b.split('\n');
  assert.equal(la.length, lb.length, 'line count changed');
  return la.flatMap((l, i) => (l === lb[i] ? [] : [i + 1]));
}
