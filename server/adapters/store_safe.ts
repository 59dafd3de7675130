/**
 * What a wire answers when the chat's work for a request fails: nothing
 * when the store has failed (the server is stopping and cannot tell what
 * is on disk), else `fallback` after a log line. For the adapters that
 * call the chat themselves, as the Claptrap dispatcher does for its own.
 * @module
 */

import { StoreFailedError } from "../../store/store.ts";

/** An answer that never comes. */
const NEVER: Promise<never> = new Promise(() => {});

/** `answer`, or `fallback` (after a log line) when it fails; never, when the store failed. */
export function storeSafe<T>(
  answer: Promise<T>,
  log: (line: string) => void,
  what: string,
  fallback: T,
): Promise<T> {
  return answer.catch((error) => {
    if (error instanceof StoreFailedError) return NEVER;
    log(`request-failed method=${what} error=${JSON.stringify(String(error))}`);
    return fallback;
  });
}
