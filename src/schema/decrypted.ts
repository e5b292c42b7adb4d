/**
 * Schema validation of decrypted values: every rule is checked for real. The document must have
 * been decrypted in place; `index` (built before decryption) still says which leaves were
 * encrypted in the file, for `x-sealant-secret`.
 */
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { toPlain, type MapNode } from '../format/tree.js';
import { registerLeafIndex, type LeafIndex } from './ajv.js';
import { errorFinding, type Finding } from './messages.js';

/**
 * Validates one decrypted document.
 * @returns error findings (messages never contain a value).
 */
export function validateDecrypted(
  validate: ValidateFunction,
  document: MapNode,
  doc: number,
  index: LeafIndex,
): Finding[] {
  const instance = toPlain(document) as Record<string, unknown>;
  registerLeafIndex(instance, index);
  validate(instance);
  // anyOf/oneOf branch errors are noise next to the combinator's own error.
  const errors = validate.errors ?? [];
  const combinators = errors
    .filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf')
    .map((e) => `${e.schemaPath}/`);
  return errors
    .filter((e) => !combinators.some((p) => e.schemaPath.startsWith(p)) && e.keyword !== 'if')
    .map((e) => errorFinding(e, doc));
}
