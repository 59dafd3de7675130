/**
 * The cap on simultaneous connections from one address, over every
 * transport, so that one host cannot take all of the server's sockets.
 * @module
 */

/** Open connections per address, refusing beyond a maximum. */
export class ConnectionsPerAddress {
  readonly #max: number;
  readonly #open = new Map<string, number>();

  /** `max` 0 means no cap. */
  constructor(max: number) {
    this.#max = max;
  }

  /**
   * Counts a new connection from `address`; false (and not counted) when
   * that address already has the maximum.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ConnectionsPerAddress } from "./address_limit.ts";
   * const limit = new ConnectionsPerAddress(1);
   * assert.equal(limit.open("10.0.0.1"), true);
   * assert.equal(limit.open("10.0.0.1"), false);
   * limit.closed("10.0.0.1");
   * assert.equal(limit.open("10.0.0.1"), true);
   * ```
   */
  open(address: string): boolean {
    const count = this.#open.get(address) ?? 0;
    if (this.#max > 0 && count >= this.#max) return false;
    this.#open.set(address, count + 1);
    return true;
  }

  /** A connection counted by {@link open} has ended. */
  closed(address: string): void {
    const count = (this.#open.get(address) ?? 0) - 1;
    if (count > 0) this.#open.set(address, count);
    else this.#open.delete(address);
  }

  /** The refusal's reason, for the client and the log. */
  reason(address: string): string {
    return `too many connections from ${address} (at most ${this.#max})`;
  }
}
