/**
 * ajv errors turned into findings: the key path they are about and a message that never holds
 * an instance value. ajv (with `verbose: false`) does not put data in its messages, but the
 * wording is built here from the keyword and the schema's own parameters anyway, so a future
 * ajv message or a custom keyword cannot leak one; an unknown keyword gets a fixed sentence.
 */
import type { ErrorObject } from 'ajv/dist/2020.js';
import { escapePointer } from './instance.js';

/** One problem, before it is located in the file's text. */
export interface Finding {
  /** Index of the YAML document (0 for every other format). */
  doc: number;
  /** JSON pointer of what the finding is about (may name a key that is missing). */
  pointer: string;
  /** JSON pointer of the nearest node that exists in the file, for its line. */
  at: string;
  keyword: string;
  severity: 'error' | 'warning' | 'note';
  message: string;
}

/** Keywords whose ajv message quotes only the schema (pattern, limits, format name). */
const SCHEMA_ONLY_MESSAGES = new Set([
  'pattern',
  'format',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'uniqueItems',
  'contains',
  'anyOf',
  'oneOf',
  'not',
  'if',
  'false schema',
  'dependentRequired',
]);

function schemaValue(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

/** The message for an ajv error; never an instance value. */
export function messageOf(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return 'required key is missing';
    case 'additionalProperties':
    case 'unevaluatedProperties':
      return 'key is not allowed by the schema';
    case 'propertyNames':
      return 'key name is not allowed by the schema';
    case 'type':
      return `must be ${String(p.type).replaceAll(',', ' or ')}`;
    case 'enum':
      return `must be one of ${(Array.isArray(p.allowedValues) ? p.allowedValues : []).map(schemaValue).join(', ')}`;
    case 'const':
      return `must be ${schemaValue(p.allowedValue)}`;
    case 'x-sealant-secret':
      return 'secret is in clear text: it must be encrypted';
    default:
      return SCHEMA_ONLY_MESSAGES.has(e.keyword) && e.message !== undefined
        ? e.message
        : `does not satisfy "${e.keyword}"`;
  }
}

/** The pointer an error is about: a missing or extra key is named, not its parent. */
export function subjectPointer(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  const key = p.missingProperty ?? p.additionalProperty ?? p.unevaluatedProperty ?? p.propertyName;
  return typeof key === 'string' ? `${e.instancePath}/${escapePointer(key)}` : e.instancePath;
}

/** The pointer of the node that exists in the file (a missing key points at its parent). */
export function presentPointer(e: ErrorObject): string {
  return e.keyword === 'required' || e.keyword === 'dependentRequired' ? e.instancePath : subjectPointer(e);
}

/** An ajv error as an error-severity finding. */
export function errorFinding(e: ErrorObject, doc: number): Finding {
  return {
    doc,
    pointer: subjectPointer(e),
    at: presentPointer(e),
    keyword: e.keyword,
    severity: 'error',
    message: messageOf(e),
  };
}
