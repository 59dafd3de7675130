/**
 * Times on the wire: server times as ISO 8601 in UTC with milliseconds.
 * Pure.
 * @module
 */

let lastFormatted = { ms: NaN, text: "" };

/**
 * Formats a server time (milliseconds since the epoch) for the wire.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatTime } from "./time.ts";
 * assert.equal(formatTime(0), "1970-01-01T00:00:00.000Z");
 * ```
 */
export function formatTime(ms: number): string {
  // under load many messages share a millisecond; toISOString showed in profiles
  if (ms !== lastFormatted.ms) lastFormatted = { ms, text: new Date(ms).toISOString() };
  return lastFormatted.text;
}
