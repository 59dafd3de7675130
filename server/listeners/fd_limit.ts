/**
 * The process's limit on open descriptors (`RLIMIT_NOFILE`). Deno raises the
 * soft limit to the hard one at start-up; the server reads it to log it and
 * to warn when it is too low for the connection cap.
 * @module
 */

/** The soft and hard limits on open descriptors; `Infinity` for unlimited. */
export interface DescriptorLimits {
  soft: number;
  hard: number;
}

/** Descriptors kept for what is not a connection: listeners, the database, standard streams. */
export const RESERVED_DESCRIPTORS = 64;

/**
 * The open-files line of a Linux `/proc/PID/limits` text, or null when it
 * has none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDescriptorLimits } from "./fd_limit.ts";
 * const text = "Limit                     Soft Limit           Hard Limit           Units\n" +
 *   "Max open files            1024                 524288               files\n";
 * assert.deepEqual(parseDescriptorLimits(text), { soft: 1024, hard: 524288 });
 * ```
 */
export function parseDescriptorLimits(text: string): DescriptorLimits | null {
  const match = text.match(/^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m);
  if (!match) return null;
  const value = (field: string) => field === "unlimited" ? Infinity : Number(field);
  return { soft: value(match[1]), hard: value(match[2]) };
}

/**
 * This process's descriptor limits, or null where they cannot be read: not
 * Linux, or without `--allow-all` (Deno reads /proc only with it).
 */
export function readDescriptorLimits(): DescriptorLimits | null {
  try {
    return parseDescriptorLimits(Deno.readTextFileSync("/proc/self/limits"));
  } catch {
    return null;
  }
}

/**
 * Logs the descriptor limits, and a warning when the soft limit is below
 * what `maxConnections` connections need (0: no cap, nothing to compare).
 */
export function logDescriptorLimits(
  limits: DescriptorLimits | null,
  maxConnections: number,
  log: (line: string) => void,
): void {
  if (limits === null) return;
  log(`fd-limit soft=${limits.soft} hard=${limits.hard}`);
  const needed = maxConnections + RESERVED_DESCRIPTORS;
  if (maxConnections > 0 && limits.soft < needed) {
    log(
      `fd-limit-low soft=${limits.soft} needed=${needed} ` +
        `advice="raise the hard limit (ulimit -Hn) or lower --max-connections"`,
    );
  }
}
