/** Assertion helpers shared by the test files. */
import assert from 'node:assert/strict';
import { SealantError } from '../../src/errors.js';

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
