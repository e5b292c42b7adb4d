/**
 * The one ajv instance of a validation run: JSON Schema 2020-12, every error collected,
 * ajv-formats, and sealant's two vocabulary keywords:
 *
 * - `x-sealant-secret: true` — the value (or every leaf under it) must be encrypted in the file.
 *   Whether a leaf is encrypted is a fact about the file, not the value, so the keyword looks
 *   the leaf up in a {@link LeafIndex} registered for the instance being validated; that makes
 *   it work through `$ref`, combinators and `additionalProperties` alike.
 * - `x-sealant-generate: {length, alphabet}` — how a new value is generated (rotation reads it);
 *   only its shape is checked here, at compile time.
 *
 * Schemas are compiled once per run and cached by absolute path. Their regular expressions are
 * Go RE2, as the selectors' are (see {@link RE2_ENGINE}).
 */
import { readFile } from 'node:fs/promises';
import { Ajv2020, type ErrorObject, type SchemaObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { RegExpEngine } from 'ajv/dist/types/index.js';
import addFormatsModule from 'ajv-formats';
import { SealantError, type SealantErrorOptions } from '../errors.js';
import { compileGoRegex } from '../format/selectors.js';

/** Whether each leaf of an instance was encrypted in the file, by JSON pointer (`/db/password`). */
export type LeafIndex = ReadonlyMap<string, 'encrypted' | 'clear' | 'empty'>;

/** A schema file that is missing, not JSON, or does not compile. Exit 2: the run cannot start. */
export class SchemaConfigError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('SCHEMA_CONFIG', message, options);
  }
}

/** The alphabets `x-sealant-generate` names; any other string is itself the alphabet. */
export const GENERATE_ALPHABETS = ['alphanumeric', 'hex', 'base64url', 'ascii-printable'] as const;

const GENERATE_META = {
  type: 'object',
  additionalProperties: false,
  required: ['length'],
  properties: {
    length: { type: 'integer', minimum: 1, maximum: 4096 },
    alphabet: { type: 'string', minLength: 1 },
  },
} as const;

// Instances are root objects built by this run; a WeakMap lets them go when validation is done.
const leafIndexes = new WeakMap<object, LeafIndex>();

/** Registers which leaves of `instance` were encrypted, for `x-sealant-secret`. */
export function registerLeafIndex(instance: object, index: LeafIndex): void {
  leafIndexes.set(instance, index);
}

interface DataContext {
  instancePath: string;
  rootData: unknown;
}

/** Clear leaves at or under `pointer` (empty strings and nulls are never encrypted by SOPS). */
function clearLeavesUnder(index: LeafIndex, pointer: string): string[] {
  const out: string[] = [];
  for (const [p, state] of index) {
    if (state === 'clear' && (p === pointer || p.startsWith(`${pointer}/`))) out.push(p);
  }
  return out;
}

type SecretValidate = ((schema: unknown, data: unknown, parentSchema?: unknown, cxt?: DataContext) => boolean) & {
  errors?: Partial<ErrorObject>[];
};

const validateSecret: SecretValidate = (schema, _data, _parent, cxt) => {
  validateSecret.errors = [];
  if (schema !== true || cxt === undefined || typeof cxt.rootData !== 'object' || cxt.rootData === null) return true;
  const index = leafIndexes.get(cxt.rootData);
  if (index === undefined) return true;
  const clear = clearLeavesUnder(index, cxt.instancePath);
  validateSecret.errors = clear.map((instancePath) => ({
    keyword: 'x-sealant-secret',
    instancePath,
    params: {},
    message: 'secret is in clear text: it must be encrypted',
  }));
  return clear.length === 0;
};

/**
 * `pattern` and `patternProperties` are compiled by the selectors' RE2 engine, not JS `RegExp`:
 * a schema is as editable in a pull request as a file's `sops` block, and a backtracking
 * `^(a+)+$` would hang validate, guard, plan and apply on the first long value. `code` names
 * the engine in ajv's standalone output, which sealant does not use.
 */
const RE2_ENGINE: RegExpEngine = Object.assign((pattern: string) => compileGoRegex(pattern), {
  code: 're2js.RE2JS.compile',
});

/** A fresh ajv configured as described in the module comment. */
export function createAjv(): Ajv2020 {
  // strict off: real-world schemas carry annotations (`examples`, `x-*`) ajv's strict mode rejects.
  // verbose off: errors then never carry the instance value (`data`).
  const ajv = new Ajv2020({ allErrors: true, strict: false, verbose: false, code: { regExp: RE2_ENGINE } });
  const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  ajv.addKeyword({
    keyword: 'x-sealant-secret',
    schemaType: 'boolean',
    errors: true,
    validate: validateSecret as never,
  });
  ajv.addKeyword({ keyword: 'x-sealant-generate', metaSchema: GENERATE_META });
  return ajv;
}

/** Compiles schema files once per run. */
export class SchemaSet {
  private readonly ajv = createAjv();
  private readonly cache = new Map<string, Promise<ValidateFunction>>();

  /**
   * The compiled validator of the schema file at `absPath`.
   * @param shown - the path to name in errors (relative to the working directory).
   * @throws SchemaConfigError (exit 2) naming the file when it cannot be read, is not JSON, or
   * does not compile.
   */
  get(absPath: string, shown: string): Promise<ValidateFunction> {
    let v = this.cache.get(absPath);
    if (v === undefined) {
      v = this.compile(absPath, shown);
      this.cache.set(absPath, v);
    }
    return v;
  }

  private async compile(absPath: string, shown: string): Promise<ValidateFunction> {
    let text: string;
    try {
      text = await readFile(absPath, 'utf8');
    } catch {
      throw new SchemaConfigError('schema file not found or unreadable', { file: shown });
    }
    let schema: SchemaObject;
    try {
      schema = JSON.parse(text) as SchemaObject;
    } catch {
      throw new SchemaConfigError('schema file is not valid JSON', { file: shown });
    }
    try {
      return this.ajv.compile(schema);
    } catch (e) {
      const why = e instanceof Error ? (e.message.split('\n')[0] ?? '').slice(0, 200) : 'unknown error';
      throw new SchemaConfigError(`schema does not compile: ${why}`, {
        file: shown,
        hint: 'check it against JSON Schema draft 2020-12',
      });
    }
  }
}
