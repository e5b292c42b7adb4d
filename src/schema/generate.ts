/**
 * What a JSON Schema says about one key path, for rotation: its `x-sealant-generate`, its
 * `type`, whether it is `x-sealant-secret`. Follows `properties`, `patternProperties`,
 * `additionalProperties`, `items`/`prefixItems`, local `$ref`s and the branches of
 * `allOf`/`anyOf`/`oneOf` (first hit wins).
 */
import { compileGoRegex } from '../format/selectors.js';
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
  for (const part of ref.slice(2).split('/'))
    cur = isSchema(cur) ? cur[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
  return isSchema(cur) ? deref(root, cur, depth + 1) : s;
}

/** A `patternProperties` key as validation reads it (RE2, see `ajv.ts`); one that does not compile names nothing. */
function patternMatches(pattern: string, key: string): boolean {
  try {
    return compileGoRegex(pattern).test(key);
  } catch {
    return false;
  }
}

function children(s: Schema, key: string | number): unknown[] {
  const out: unknown[] = [];
  if (typeof key === 'number') {
    const prefix = s.prefixItems;
    if (Array.isArray(prefix) && key < prefix.length) out.push(prefix[key]);
    out.push(s.items);
    return out;
  }
  if (isSchema(s.properties) && Object.hasOwn(s.properties, key)) out.push(s.properties[key]);
  if (isSchema(s.patternProperties))
    for (const [re, sub] of Object.entries(s.patternProperties)) if (patternMatches(re, key)) out.push(sub);
  // As in JSON Schema: additionalProperties is only for keys the two above do not name.
  if (out.length === 0) out.push(s.additionalProperties);
  return out;
}

/**
 * The first answer `pick` gives for a subschema on the way to `path`; `pick` sees each subschema
 * with the part of the path still ahead of it (empty at the key itself).
 */
function find<T>(
  root: Schema,
  node: unknown,
  path: TreePath,
  depth: number,
  pick: (s: Schema, rest: TreePath) => T | undefined,
): T | undefined {
  if (!isSchema(node) || depth > 64) return undefined;
  const s = deref(root, node, 0);
  const here = pick(s, path);
  if (here !== undefined) return here;
  if (path.length > 0) {
    for (const sub of children(s, path[0]!)) {
      const hit = find(root, sub, path.slice(1), depth + 1, pick);
      if (hit !== undefined) return hit;
    }
  }
  for (const k of ['allOf', 'anyOf', 'oneOf']) {
    const branches = s[k];
    if (!Array.isArray(branches)) continue;
    for (const b of branches) {
      const hit = find(root, b, path, depth + 1, pick);
      if (hit !== undefined) return hit;
    }
  }
  return undefined;
}

function lookup<T>(schema: unknown, path: TreePath, pick: (s: Schema, rest: TreePath) => T | undefined): T | undefined {
  return isSchema(schema) ? find(schema, schema, path, 0, pick) : undefined;
}

/** The `x-sealant-generate` annotation of the value at `path`, if the schema has one. Never throws. */
export function generatorFor(schema: unknown, path: TreePath): GenerateAnnotation | undefined {
  return lookup(schema, path, (s, rest) => {
    const g = s['x-sealant-generate'];
    return rest.length === 0 && isSchema(g) && typeof g.length === 'number'
      ? { length: g.length, alphabet: typeof g.alphabet === 'string' ? g.alphabet : 'alphanumeric' }
      : undefined;
  });
}

/** The JSON types (`integer`, `string`…) the schema's `type` allows at `path`, if it says. Never throws. */
export function schemaTypesFor(schema: unknown, path: TreePath): string[] | undefined {
  return lookup(schema, path, (s, rest) => {
    if (rest.length > 0) return undefined;
    if (typeof s.type === 'string') return [s.type];
    return Array.isArray(s.type) && s.type.every((t) => typeof t === 'string') ? (s.type as string[]) : undefined;
  });
}

/** Whether the value at `path` is `x-sealant-secret`: itself, or as a leaf under a marked key. Never throws. */
export function isSecretPath(schema: unknown, path: TreePath): boolean {
  return lookup(schema, path, (s) => (s['x-sealant-secret'] === true ? true : undefined)) === true;
}

/** Whether the schema marks anything `x-sealant-secret` (else it says nothing about which values are secrets). */
export function marksSecrets(schema: unknown, depth = 0): boolean {
  if (depth > 64 || typeof schema !== 'object' || schema === null) return false;
  if (!Array.isArray(schema) && (schema as Schema)['x-sealant-secret'] === true) return true;
  return Object.values(schema).some((v) => marksSecrets(v, depth + 1));
}
