/**
 * Encoding an event once for all the connections it goes to.
 * @module
 */

/**
 * Wraps `encode` so that the same event object, delivered to one member of
 * a room after another, is encoded only once. It remembers the last event
 * only: a room's members get each event in a row, and a WeakMap of every
 * event cost its lookups and made more work for the garbage collector.
 */
export function encodingOnce<E extends object, T>(encode: (event: E) => T): (event: E) => T {
  let lastEvent: E | null = null;
  let lastEncoding: T;
  return (event) => {
    if (event !== lastEvent) {
      lastEncoding = encode(event);
      lastEvent = event;
    }
    return lastEncoding;
  };
}
