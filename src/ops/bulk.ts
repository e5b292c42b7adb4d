/**
 * Work over many files: a bounded pool, results in input order, and one failing file never
 * hides the results of the others.
 */

/** The outcome for one item. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Default concurrency: key unwraps are mostly network (KMS) or CPU-light (age), so a few more than cores. */
export const DEFAULT_CONCURRENCY = 8;

/**
 * Runs `fn` over `items` with at most `limit` in flight.
 * @returns one outcome per item, in the order of `items`.
 */
export async function mapBounded<I, T>(
  items: readonly I[],
  limit: number,
  fn: (item: I, index: number) => Promise<T>,
): Promise<Outcome<T>[]> {
  const results: Outcome<T>[] = new Array<Outcome<T>>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next;
      next += 1;
      if (i >= items.length) return;
      try {
        results[i] = { ok: true, value: await fn(items[i]!, i) };
      } catch (error) {
        results[i] = { ok: false, error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
