/**
 * Finding `x-sealant-generate` for a key path in a JSON Schema: follows `properties`,
 * `patternProperties`, `additionalProperties`, `items`/`prefixItems`, local `$ref`s and the
 * branches of `allOf`/`anyOf`/`oneOf` (first hit wins).
 */
import type { TreePath } from '../format/tree.js';

/** A generator as the schema states it. */
export interface GenerateAnnotation {
  length: number;
  alphabet: string;
}

type Schema = Record<string, unknown>;

const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

function deref(root: Schema, s: Schema, depth: number): Schema {
  const ref = s.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/') || depth > 32) return s;
  let cur: unknown = root;
  for (const part of ref.slice(2).split('/')) cur = isSchema(cur) ? cur[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
  return isSchema(cur) ? deref(root, cur, depth + 1) : s;
}

function children(s: Schema, key: string | number): unknown[] {
  const out: unknown[] = [];
  if (typeof key === 'number') {
    const prefix = s.prefixItems;
    if (Array.isArray(prefix) && key < prefix.length) out.push(prefix[key]);
    out.push(s.items);
    return out;
  }
  if (isSchema(s.properties) && key in s.properties) out.push(s.properties[key]);
  if (isSchema(s.patternProperties)) for (const [re, sub] of Object.entries(s.patternProperties)) if (new RegExp(re, 'u').test(key)) out.push(sub);
  out.push(s.additionalProperties);
  return out;
}

function find(root: Schema, node: unknown, path: TreePath, depth: number): GenerateAnnotation | undefined {
  if (!isSchema(node) || depth > 64) return undefined;
  const s = deref(root, node, 0);
  if (path.length === 0) {
    const g = s['x-sealant-generate'];
    if (isSchema(g) && typeof g.length === 'number') return { length: g.length, alphabet: typeof g.alphabet === 'string' ? g.alphabet : 'alphanumeric' };
  } else {
    for (const sub of children(s, path[0]!)) {
      const hit = find(root, sub, path.slice(1), depth + 1);
      if (hit !== undefined) return hit;
    }
  }
  for (const k of ['allOf', 'anyOf', 'oneOf']) {
    const branches = s[k];
    if (!Array.isArray(branches)) continue;
    for (const b of branches) {
      const hit = find(root, b, path, depth + 1);
      if (hit !== undefined) return hit;
    }
  }
  return undefined;
}

/** The `x-sealant-generate` annotation of the value at `path`, if the schema has one. Never throws. */
export function generatorFor(schema: unknown, path: TreePath): GenerateAnnotation | undefined {
  return isSchema(schema) ? find(schema, schema, path, 0) : undefined;
}
