/**
 * Schema validation without keys. The document's structure, its clear values and the types of
 * its encrypted values are known; the encrypted values themselves are not. ajv runs over the
 * `low` and `high` placeholder instances (see `instance.ts`); then:
 *
 * - an error from a value rule (pattern, format, lengths, limits, enum, const, multipleOf) at
 *   an encrypted leaf becomes a "needs keys" note;
 * - an error from a rule whose outcome depends on values anywhere below it (anyOf, oneOf, not,
 *   if/then/else, uniqueItems, contains, unevaluated*) becomes a note when an encrypted leaf
 *   lies below it; the branch errors of anyOf/oneOf (and of a value-dependent `if`) are folded
 *   into that one finding;
 * - every other error is an error: structure and types do not depend on the hidden values.
 */
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import type { MapNode } from '../format/tree.js';
import { registerLeafIndex } from './ajv.js';
import { buildInstance, isUnder, type BuiltInstance } from './instance.js';
import { errorFinding, type Finding } from './messages.js';

const VALUE_KEYWORDS = new Set([
  'pattern',
  'format',
  'minLength',
  'maxLength',
  'enum',
  'const',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
]);
const DEPENDENT_KEYWORDS = new Set([
  'anyOf',
  'oneOf',
  'not',
  'if',
  'uniqueItems',
  'contains',
  'unevaluatedProperties',
  'unevaluatedItems',
]);

/** Where an `if`/anyOf/oneOf error's branch errors live, to fold them into it. */
interface Fold {
  schemaPrefixes: string[];
  instancePath: string;
}

function encryptedUnder(built: BuiltInstance, pointer: string): boolean {
  for (const [p, state] of built.index) if (state === 'encrypted' && isUnder(p, pointer)) return true;
  return false;
}

/** Whether error `e` would go away or appear with other values of the encrypted leaves. */
function dependsOnValues(e: ErrorObject, built: BuiltInstance): boolean {
  if (VALUE_KEYWORDS.has(e.keyword)) return built.index.get(e.instancePath) === 'encrypted';
  if (DEPENDENT_KEYWORDS.has(e.keyword)) return encryptedUnder(built, e.instancePath);
  if (e.keyword === 'type') {
    // A float-tagged value may still be whole (`3.0`), which JSON Schema's integer accepts.
    const types = String((e.params as { type?: unknown }).type).split(',');
    return built.encTypes.get(e.instancePath) === 'float' && types.includes('integer');
  }
  return false;
}

function foldsOf(errors: readonly ErrorObject[], built: BuiltInstance): Fold[] {
  const folds: Fold[] = [];
  for (const e of errors) {
    if (e.keyword === 'anyOf' || e.keyword === 'oneOf')
      folds.push({ schemaPrefixes: [`${e.schemaPath}/`], instancePath: e.instancePath });
    else if (e.keyword === 'if' && dependsOnValues(e, built)) {
      const base = e.schemaPath.slice(0, -'if'.length);
      folds.push({ schemaPrefixes: [`${base}then/`, `${base}else/`], instancePath: e.instancePath });
    }
  }
  return folds;
}

function folded(e: ErrorObject, folds: readonly Fold[]): boolean {
  return folds.some(
    (f) => isUnder(e.instancePath, f.instancePath) && f.schemaPrefixes.some((p) => e.schemaPath.startsWith(p)),
  );
}

/** Runs `validate` over one instance; the errors that survive folding. */
function run(validate: ValidateFunction, instance: object, built: BuiltInstance): ErrorObject[] {
  registerLeafIndex(instance, built.index);
  validate(instance);
  const errors = validate.errors ?? [];
  const folds = foldsOf(errors, built);
  // A structural `if` failure is already said by its `then`/`else` errors.
  return errors.filter((e) => !folded(e, folds) && !(e.keyword === 'if' && !dependsOnValues(e, built)));
}

function asNote(e: ErrorObject, doc: number): Finding {
  const f = errorFinding(e, doc);
  return { ...f, severity: 'note', message: `needs keys: ${f.message}` };
}

/**
 * Validates one encrypted document without keys.
 * @param doc - index of the document in the file (YAML multi-document files), for locating.
 * @returns errors, and notes for rules that need the decrypted values; deduplicated.
 */
export function validateKeyless(
  validate: ValidateFunction,
  document: MapNode,
  doc: number,
  built: BuiltInstance = buildInstance(document),
): Finding[] {
  const out = new Map<string, Finding>();
  const add = (f: Finding, schemaPath: string) => {
    const id = `${f.severity}\u0000${f.pointer}\u0000${f.keyword}\u0000${schemaPath}`;
    if (!out.has(id)) out.set(id, f);
  };
  for (const e of run(validate, built.low, built))
    add(dependsOnValues(e, built) ? asNote(e, doc) : errorFinding(e, doc), e.schemaPath);
  for (const e of run(validate, built.high, built)) if (dependsOnValues(e, built)) add(asNote(e, doc), e.schemaPath);
  return mergeNotes([...out.values()]);
}

/** One note per key path: "needs keys: must match …; must be >= 1". */
function mergeNotes(findings: readonly Finding[]): Finding[] {
  const notes = new Map<string, Finding>();
  const out: Finding[] = [];
  for (const f of findings) {
    if (f.severity !== 'note') {
      out.push(f);
      continue;
    }
    const prev = notes.get(f.pointer);
    if (prev === undefined) notes.set(f.pointer, { ...f });
    else {
      prev.message += `; ${f.message.slice('needs keys: '.length)}`;
      prev.keyword += `,${f.keyword}`;
    }
  }
  return [...out, ...notes.values()];
}
