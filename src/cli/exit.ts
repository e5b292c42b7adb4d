/**
 * How a sealant process ends: the one place commands set its exit status. A status is named by
 * an error code of the `ERRORS` table (`exitWith('VALIDATION_FAILED')`), or passed through as is
 * when it is not sealant's own to choose: an error envelope's `exitCode`, the status of the
 * command `exec` ran, oclif's `this.exit(n)`.
 */
import { exitCodeOf, type ErrorCode } from '../errors.js';

/** The run ends, once the command returns, with the exit status of `code`. */
export function exitWith(code: ErrorCode): void {
  exitWithStatus(exitCodeOf(code));
}

/** The run ends, once the command returns, with `status` as is. */
export function exitWithStatus(status: number): void {
  process.exitCode = status;
}

/** Stops the process now with `status`: only where there is nothing left to flush (stdout's reader left). */
export function exitNow(status: number): never {
  process.exit(status);
}
