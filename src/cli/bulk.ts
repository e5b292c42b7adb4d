/**
 * How bulk commands (many files) report: one line per file, failures included, and an exit
 * code that is non-zero when any file failed — without one failure hiding the others.
 */
import { Flags } from '@oclif/core';
import { toErrorEnvelope, type ErrorEnvelope } from './base.js';
import type { Outcome } from '../ops/bulk.js';
import { EXIT_SUCCESS, exitCodeOf, SealantError } from '../errors.js';

/** One file's entry in a bulk command's `--json` result. */
export type BulkEntry<T> = ({ ok: true } & T) | { ok: false; file: string; error: Omit<ErrorEnvelope, 'status'> };

export const concurrencyFlag = () =>
  Flags.integer({ summary: 'How many files to process at once.', default: 8, min: 1, helpGroup: 'GLOBAL' });

/** Turns outcomes into JSON entries, in input order. */
export function bulkEntries<T extends object>(
  files: readonly string[],
  outcomes: readonly Outcome<T>[],
): BulkEntry<T>[] {
  return outcomes.map((o, i) => {
    if (o.ok) return { ok: true, ...o.value };
    const { status: _status, ...error } = toErrorEnvelope(o.error);
    return { ok: false, file: files[i] ?? '', error };
  });
}

/** Exit code for a bulk run: 0 if all succeeded, else the failures' common exit code, else `MIXED_FAILURES`'s. */
export function bulkExitCode(outcomes: readonly Outcome<unknown>[]): number {
  const codes = new Set<number>();
  for (const o of outcomes)
    if (!o.ok) codes.add(o.error instanceof SealantError ? o.error.exitCode : exitCodeOf('INTERNAL'));
  if (codes.size === 0) return EXIT_SUCCESS;
  return codes.size === 1 ? [...codes][0]! : exitCodeOf('MIXED_FAILURES');
}

/** The human line for a failed file. */
export function failureLine(entry: { file: string; error: { message: string } }): string {
  return `${entry.file}: FAILED: ${entry.error.message}`;
}
