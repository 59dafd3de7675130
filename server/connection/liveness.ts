/**
 * When to ping a silent connection and when to give up on one: silent too
 * long, never logged in, or stuck halfway through a frame. The same rules
 * for every transport. Pure: the clock is passed in.
 * @module
 */

/** What a connection is due: a ping, or closing with a reason. */
export type LivenessAction = { ping: true } | { close: string } | null;

/** The time limits, in milliseconds. */
export interface LivenessRules {
  /** A push connection silent this long is sent one EVT_PING. */
  pingAfter: number;
  /** Any connection silent this long is closed. */
  idleLimit: number;
  /** A connection not logged in for this long (since it connected or logged out) is closed. */
  loginTimeout: number;
  /** A connection that started a frame this long ago and has not finished it is closed. */
  frameTimeout: number;
}

/** The limits a server keeps unless told otherwise. */
export const DEFAULT_LIVENESS_RULES: LivenessRules = {
  pingAfter: 30_000,
  idleLimit: 120_000,
  loginTimeout: 60_000,
  frameTimeout: 30_000,
};

/** What the connection is doing now. */
export interface ConnectionState {
  push: boolean;
  loggedIn: boolean;
  /** When the incomplete frame now buffered began to arrive; null when none is. */
  partialSince: number | null;
  /**
   * The client never pings and cannot answer a ping (a wire without them):
   * it is neither pinged nor closed for silence.
   */
  quiet?: boolean;
}

/** The silence of one connection. */
export class Liveness {
  #lastHeard: number;
  #pinged = false;
  /** Since when the connection has not been logged in; null while it is. */
  #anonymousSince: number | null;

  /** Starts counting silence at `now` (ms), for a connection not logged in yet. */
  constructor(now: number) {
    this.#lastHeard = now;
    this.#anonymousSince = now;
  }

  /** The client sent something at `now`. */
  heard(now: number): void {
    this.#lastHeard = now;
    this.#pinged = false;
  }

  /**
   * What the connection is due at `now`, the most urgent first: closing
   * when a limit is over, else one ping for a silent push connection.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Liveness } from "./liveness.ts";
   * const rules = { pingAfter: 30_000, idleLimit: 120_000, loginTimeout: 60_000, frameTimeout: 30_000 };
   * const liveness = new Liveness(0);
   * const state = { push: true, loggedIn: true, partialSince: null };
   * assert.deepEqual(liveness.due(30_000, rules, state), { ping: true });
   * assert.equal(liveness.due(31_000, rules, state), null, "pinged once");
   * assert.deepEqual(liveness.due(120_000, rules, state), {
   *   close: "idle timeout: nothing received for 120 s",
   * });
   * ```
   */
  due(now: number, rules: LivenessRules, state: ConnectionState): LivenessAction {
    if (state.loggedIn) this.#anonymousSince = null;
    else this.#anonymousSince ??= now;
    const silent = state.quiet ? 0 : now - this.#lastHeard;
    if (silent >= rules.idleLimit) {
      return { close: `idle timeout: nothing received for ${seconds(silent)} s` };
    }
    if (this.#anonymousSince !== null && now - this.#anonymousSince >= rules.loginTimeout) {
      return { close: `login timeout: not logged in after ${seconds(rules.loginTimeout)} s` };
    }
    if (state.partialSince !== null && now - state.partialSince >= rules.frameTimeout) {
      return {
        close: `frame timeout: a frame was not complete after ${seconds(rules.frameTimeout)} s`,
      };
    }
    if (silent >= rules.pingAfter && !this.#pinged && state.push) {
      this.#pinged = true;
      return { ping: true };
    }
    return null;
  }
}

function seconds(ms: number): number {
  return Math.round(ms / 1000);
}
