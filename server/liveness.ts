/**
 * When to ping a silent connection and when to give up on it; the same
 * rules for every transport. Pure: the clock is passed in.
 * @module
 */

import { Event } from "../protocol/methods.ts";
import { formatTime } from "./chat.ts";
import type { Peer } from "./session.ts";

/** What a silent connection is due: a ping, or closing with a reason. */
export type LivenessAction = { ping: true } | { close: string } | null;

/** The silence of one connection. */
export class Liveness {
  #lastHeard: number;
  #pinged = false;

  /** Starts counting silence at `now` (ms). */
  constructor(now: number) {
    this.#lastHeard = now;
  }

  /** The client sent something at `now`. */
  heard(now: number): void {
    this.#lastHeard = now;
    this.#pinged = false;
  }

  /**
   * A push connection silent for `pingAfter` ms is due one ping; any
   * connection silent for `idleLimit` ms is due closing.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Liveness } from "./liveness.ts";
   * const liveness = new Liveness(0);
   * assert.deepEqual(liveness.due(30_000, 30_000, 120_000, true), { ping: true });
   * assert.equal(liveness.due(31_000, 30_000, 120_000, true), null, "pinged once");
   * assert.deepEqual(liveness.due(120_000, 30_000, 120_000, true), {
   *   close: "idle timeout: nothing received for 120 s",
   * });
   * ```
   */
  due(now: number, pingAfter: number, idleLimit: number, push: boolean): LivenessAction {
    const silent = now - this.#lastHeard;
    if (silent >= idleLimit) {
      return { close: `idle timeout: nothing received for ${Math.round(silent / 1000)} s` };
    }
    if (silent >= pingAfter && !this.#pinged && push) {
      this.#pinged = true;
      return { ping: true };
    }
    return null;
  }

  /** Does what {@link Liveness.due} says to `peer`: sends EVT_PING or closes it. */
  check(
    now: number,
    pingAfter: number,
    idleLimit: number,
    push: boolean,
    peer: Pick<Peer, "deliver" | "close">,
  ): void {
    const due = this.due(now, pingAfter, idleLimit, push);
    if (due && "close" in due) peer.close(due.close);
    else if (due) peer.deliver({ method: Event.EVT_PING, params: { Time: formatTime(now) } });
  }
}
