/**
 * The caps on simultaneous connections, over every listener: per address, so
 * that one host cannot take all of the server's sockets, and in total, so
 * that the server never runs out of descriptors.
 * @module
 */

/** Open connections per address and in total, refusing beyond the maxima. */
export class ConnectionsPerAddress {
  readonly #max: number;
  readonly #maxTotal: number;
  readonly #open = new Map<string, number>();
  #total = 0;

  /** `max` (per address) and `maxTotal` 0 mean no cap. */
  constructor(max: number, maxTotal = 0) {
    this.#max = max;
    this.#maxTotal = maxTotal;
  }

  /** Connections open now, over every address. */
  get total(): number {
    return this.#total;
  }

  /**
   * Counts a new connection from `address`; false (and not counted) when
   * that address already has the maximum, or the server has its total.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ConnectionsPerAddress } from "./address_limit.ts";
   * const limit = new ConnectionsPerAddress(1, 2);
   * assert.equal(limit.open("10.0.0.1"), true);
   * assert.equal(limit.open("10.0.0.1"), false);
   * assert.equal(limit.open("10.0.0.2"), true);
   * assert.equal(limit.open("10.0.0.3"), false, "two in total");
   * assert.match(limit.reason("10.0.0.3"), /^too many connections to the server/);
   * limit.closed("10.0.0.1");
   * assert.equal(limit.open("10.0.0.1"), true);
   * ```
   */
  open(address: string): boolean {
    if (this.#maxTotal > 0 && this.#total >= this.#maxTotal) return false;
    const count = this.#open.get(address) ?? 0;
    if (this.#max > 0 && count >= this.#max) return false;
    this.#open.set(address, count + 1);
    this.#total++;
    return true;
  }

  /** A connection counted by {@link open} has ended. */
  closed(address: string): void {
    this.#total--;
    const count = (this.#open.get(address) ?? 0) - 1;
    if (count > 0) this.#open.set(address, count);
    else this.#open.delete(address);
  }

  /** Whether the server has its total of connections (a refusal now is for that). */
  full(): boolean {
    return this.#maxTotal > 0 && this.#total >= this.#maxTotal;
  }

  /** The refusal's reason, for the client and the log. */
  reason(address: string): string {
    return this.full()
      ? `too many connections to the server (at most ${this.#maxTotal})`
      : `too many connections from ${address} (at most ${this.#max})`;
  }
}
