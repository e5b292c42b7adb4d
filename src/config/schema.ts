/**
 * `.sealant.yaml` against `schemas/config.schema.json` (JSON Schema 2020-12, ajv). ajv's own
 * messages name keywords ("must NOT be valid"); each failing keyword is turned into a sentence
 * here, or taken from the schema's `errorMessage` annotation next to the keyword, so the wording
 * lives with the rule it explains. Messages never contain the offending value.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';

/** One schema violation, located by its path in the plain data. */
export interface SchemaProblem {
  path: (string | number)[];
  message: string;
  hint?: string;
}

let compiled: ValidateFunction | undefined;

/** The schema's URL: `schemas/` sits next to `src/` and `dist/` alike. */
const SCHEMA_URL = new URL('../../schemas/config.schema.json', import.meta.url);

function validator(): ValidateFunction {
  if (compiled !== undefined) return compiled;
  // verbose: errors carry `parentSchema`, where the `errorMessage` for the keyword lives.
  const ajv = new Ajv2020({ allErrors: true, verbose: true });
  ajv.addVocabulary(['errorMessage']);
  compiled = ajv.compile(JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as object);
  return compiled;
}

/** Keywords whose failure is reported through the errors of their subschemas, or instead of them. */
const COMPOSITE = new Set(['anyOf', 'oneOf', 'allOf', 'not', 'propertyNames', 'if']);

const TYPE_WORDS: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
};

function customMessage(e: ErrorObject): string | undefined {
  const parent = e.parentSchema as { errorMessage?: unknown } | undefined;
  const messages = parent?.errorMessage;
  if (typeof messages !== 'object' || messages === null) return undefined;
  const m = (messages as Record<string, unknown>)[e.keyword];
  return typeof m === 'string' ? m : undefined;
}

function knownKeys(e: ErrorObject): string | undefined {
  const props = (e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
  return props === undefined ? undefined : `known keys here: ${Object.keys(props).join(', ')}`;
}

function defaultMessage(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `missing required key "${String(p.missingProperty)}"`;
    case 'type':
      return `must be ${TYPE_WORDS[String(p.type)] ?? String(p.type)}`;
    case 'minItems':
      return p.limit === 1 ? 'must not be an empty list' : `must have at least ${String(p.limit)} items`;
    case 'minProperties':
      return 'must not be empty';
    case 'minLength':
      return 'must not be an empty string';
    case 'minimum':
      return `must be at least ${String(p.limit)}`;
    case 'pattern':
      return 'is not in the expected format';
    default:
      return e.message ?? `fails the "${e.keyword}" rule`;
  }
}

/** JSON pointer -> path, with array indexes as numbers (they render as `[0]`). */
function pathOf(pointer: string, data: unknown): (string | number)[] {
  const out: (string | number)[] = [];
  let node = data;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const key = Array.isArray(node) ? Number(seg) : seg;
    out.push(key);
    node = node !== null && typeof node === 'object' ? (node as Record<string | number, unknown>)[key] : undefined;
  }
  return out;
}

function isChildOf(child: ErrorObject, parent: ErrorObject): boolean {
  return (
    child !== parent &&
    child.instancePath.startsWith(parent.instancePath) &&
    child.schemaPath.startsWith(`${parent.schemaPath}/`)
  );
}

/**
 * A composite keyword (anyOf, not…) with its own `errorMessage` speaks for its subschemas; one
 * without is dropped in favour of the subschema errors that say what is actually wrong.
 */
function relevant(errors: readonly ErrorObject[]): ErrorObject[] {
  const speaking = errors.filter((e) => COMPOSITE.has(e.keyword) && customMessage(e) !== undefined);
  return errors.filter((e) => {
    if (speaking.some((p) => isChildOf(e, p))) return false;
    return !(COMPOSITE.has(e.keyword) && customMessage(e) === undefined && errors.some((c) => isChildOf(c, e)));
  });
}

function toProblem(e: ErrorObject, data: unknown): SchemaProblem {
  const path = pathOf(e.instancePath, data);
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties') {
    const key = String(p.additionalProperty);
    const hint = knownKeys(e);
    return { path: [...path, key], message: `unknown key "${key}"`, ...(hint === undefined ? {} : { hint }) };
  }
  if (typeof e.propertyName === 'string') path.push(e.propertyName);
  return { path, message: customMessage(e) ?? defaultMessage(e) };
}

/**
 * Every violation of the config schema by `data` (the plain value of the YAML document), in the
 * order ajv found them; empty when valid.
 */
export function schemaProblems(data: unknown): SchemaProblem[] {
  const validate = validator();
  if (validate(data)) return [];
  return relevant(validate.errors ?? []).map((e) => toProblem(e, data));
}
