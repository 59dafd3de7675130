/**
 * Mapping over many items with an async function, a few at a time.
 * @module
 */

/**
 * Like `Promise.all(items.map(work))`, but with at most `limit` calls of
 * `work` under way at once; results keep the items' order. Rejects with
 * the first error (calls already started still finish; no new ones start).
 */
export async function mapWithLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await work(items[i]);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const lanes = Math.max(1, Math.min(limit, items.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  return results;
}
