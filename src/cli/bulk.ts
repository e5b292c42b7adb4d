/**
 * How bulk commands (many files) report: one line per file, failures included, and an exit
 * code that is non-zero when any file failed — without one failure hiding the others.
 */
import { Flags } from '@oclif/core';
import { toErrorEnvelope, type ErrorEnvelope } from './base.js';
import type { Outcome } from '../ops/bulk.js';
import { SealantError } from '../errors.js';

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

/** Exit code for a bulk run: 0 if all succeeded, else the failures' common code, else 1. */
export function bulkExitCode(outcomes: readonly Outcome<unknown>[]): number {
  const codes = new Set(
    outcomes.filter((o) => !o.ok).map((o) => (o.ok ? 0 : o.error instanceof SealantError ? o.error.exitCode : 1)),
  );
  if (codes.size === 0) return 0;
  return codes.size === 1 ? [...codes][0]! : 1;
}

/** The human line for a failed file. */
export function failureLine(entry: { file: string; error: { message: string } }): string {
  return `${entry.file}: FAILED: ${entry.error.message}`;
}
