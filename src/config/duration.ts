/**
 * Durations of rotation policies: a whole number and a unit, `h`, `d`, `w` or `y` (365 days).
 */
import { ConfigError } from '../errors.js';

const UNIT_MS: Record<string, number> = { h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000, y: 365 * 86_400_000 };

/**
 * Milliseconds in `text` (`90d`, `12w`).
 * @throws ConfigError when `text` is not such a duration.
 */
export function parseDuration(text: string): number {
  const m = /^([1-9][0-9]*)([hdwy])$/.exec(text);
  if (m === null) throw new ConfigError('not a duration (a number and h, d, w or y: 90d, 12w)');
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** A duration for people: whole days (`213d`), or hours under two days. */
export function formatDuration(ms: number): string {
  return ms < 2 * UNIT_MS.d! ? `${Math.floor(ms / UNIT_MS.h!)}h` : `${Math.floor(ms / UNIT_MS.d!)}d`;
}
