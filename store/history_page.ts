/**
 * How much of a page of history fits its bounds: shared by every store.
 * Pure.
 * @module
 */

/**
 * How many of the first messages of `sizes` (their content sizes in UTF-8
 * bytes, in the order of paging) a page takes: at most `limit`, and no
 * more than `maxBytes` of content in all, except that the first message
 * comes whole whatever its size.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { messagesWithin } from "./history_page.ts";
 * const sizes = [{ size: 10 }, { size: 10 }, { size: 10 }];
 * assert.equal(messagesWithin(sizes, 2), 2);
 * assert.equal(messagesWithin(sizes, 5, 25), 2);
 * assert.equal(messagesWithin(sizes, 5, 1), 1);
 * ```
 */
export function messagesWithin(
  sizes: readonly { size: number }[],
  limit: number,
  maxBytes = Infinity,
): number {
  let taken = 0;
  let bytes = 0;
  while (taken < Math.min(sizes.length, limit)) {
    bytes += sizes[taken].size;
    if (bytes > maxBytes && taken > 0) break;
    taken++;
  }
  return taken;
}
