/**
 * Decoy hashes for LOGIN with a name that is no account, so that its
 * failure takes as long as a wrong password would for an account. Stored
 * hashes keep the scrypt cost they were made with, so after a change of
 * `--scrypt-cost` the accounts have several costs: one decoy at the current
 * cost would make unknown names the fast (or slow) ones. Instead each name
 * gets the decoy of one stored cost, drawn with the weights of the stored
 * costs (how many accounts have each), by a keyed hash of the name: the
 * same name always gets the same cost, so asking again tells nothing, and
 * whether a name's cost is common or rare says nothing of whether it
 * exists. The key is new each time the server starts, and the weights are
 * those at start-up.
 * @module
 */

import { createHmac, randomBytes } from "node:crypto";
import { decoyHash } from "./passwords.ts";

/** The decoy hashes of one server. */
export class Decoys {
  readonly #key = randomBytes(32);
  /** Each decoy with the end of its share of [0, 1), in ascending order of cost. */
  readonly #shares: { upTo: number; hash: string }[] = [];

  /**
   * @param costs how many accounts have each scrypt cost N
   * @param fallback the cost of the only decoy while there are no accounts
   */
  constructor(costs: ReadonlyMap<number, number>, fallback: number) {
    let total = 0;
    for (const accounts of costs.values()) total += accounts;
    let sum = 0;
    for (const cost of [...costs.keys()].sort((a, b) => a - b)) {
      sum += costs.get(cost)!;
      this.#shares.push({ upTo: sum / total, hash: decoyHash(cost) });
    }
    if (this.#shares.length === 0) this.#shares.push({ upTo: 1, hash: decoyHash(fallback) });
    this.#shares[this.#shares.length - 1].upTo = Infinity;
  }

  /**
   * The decoy hash for `name`: always the same for the same name.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Decoys } from "./decoys.ts";
   * const decoys = new Decoys(new Map([[1024, 3], [16384, 1]]), 16384);
   * assert.equal(decoys.for("nobody"), decoys.for("nobody"));
   * assert.match(decoys.for("nobody"), /^scrypt\$(1024|16384)\$/);
   * ```
   */
  for(name: string): string {
    if (this.#shares.length === 1) return this.#shares[0].hash;
    const digest = createHmac("sha256", this.#key).update(name).digest();
    const point = digest.readUInt32BE(0) / 2 ** 32;
    return this.#shares.find((share) => point < share.upTo)!.hash;
  }
}
