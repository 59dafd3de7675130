/**
 * Growing delays after failed attempts — the brute-force brake on LOGIN
 * and REGISTER. Pure: the clock is passed in.
 * @module
 */

/** How patient the throttle is. */
export interface FailurePolicy {
  /** Failures allowed before any delay. */
  freeFailures: number;
  /** The delay after the first failure beyond the free ones, in ms; it doubles with each further one. */
  firstDelayMs: number;
  /** The longest delay, in ms. */
  maxDelayMs: number;
  /** A key with no failure for this long starts afresh, in ms. */
  forgetAfterMs: number;
}

interface Failures {
  count: number;
  last: number;
}

/** Failure counts per key (an account, an address). */
export class FailureThrottle {
  readonly #policy: FailurePolicy;
  readonly #failures = new Map<string, Failures>();
  #sweepAt = 1024;

  constructor(policy: FailurePolicy) {
    this.#policy = policy;
  }

  /**
   * How many ms `key` must still wait before its next attempt; 0 when it
   * may try now.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FailureThrottle } from "./failure_throttle.ts";
   * const throttle = new FailureThrottle({
   *   freeFailures: 2, firstDelayMs: 1000, maxDelayMs: 60_000, forgetAfterMs: 900_000,
   * });
   * throttle.failed("ann", 0);
   * throttle.failed("ann", 0);
   * assert.equal(throttle.waitFor("ann", 0), 0, "two failures are free");
   * throttle.failed("ann", 0);
   * assert.equal(throttle.waitFor("ann", 0), 1000);
   * throttle.failed("ann", 1000);
   * assert.equal(throttle.waitFor("ann", 1000), 2000, "the delay doubles");
   * ```
   */
  waitFor(key: string, now: number): number {
    const failures = this.#current(key, now);
    if (!failures) return 0;
    return Math.max(0, failures.last + this.#delayAfter(failures.count) - now);
  }

  /** Records a failed attempt of `key`. */
  failed(key: string, now: number): void {
    const failures = this.#current(key, now);
    if (failures) {
      failures.count++;
      failures.last = now;
      return;
    }
    if (this.#failures.size >= this.#sweepAt) this.#sweep(now);
    this.#failures.set(key, { count: 1, last: now });
  }

  /** Forgets the failures of `key` (after a successful attempt). */
  succeeded(key: string): void {
    this.#failures.delete(key);
  }

  /** Takes back one failure of `key`, recorded for an attempt that was never made. */
  forgive(key: string): void {
    const failures = this.#failures.get(key);
    if (failures && --failures.count <= 0) this.#failures.delete(key);
  }

  /** How many failures `key` has on record. */
  count(key: string, now: number): number {
    return this.#current(key, now)?.count ?? 0;
  }

  /** How long `key` would have to wait if `more` attempts failed now. */
  waitAfter(key: string, more: number, now: number): number {
    return this.#delayAfter(this.count(key, now) + more);
  }

  #delayAfter(count: number): number {
    const { freeFailures, firstDelayMs, maxDelayMs } = this.#policy;
    const beyond = count - freeFailures;
    if (beyond <= 0) return 0;
    return Math.min(maxDelayMs, firstDelayMs * 2 ** Math.min(beyond - 1, 30));
  }

  #current(key: string, now: number): Failures | undefined {
    const failures = this.#failures.get(key);
    if (failures && now - failures.last >= this.#policy.forgetAfterMs) {
      this.#failures.delete(key);
      return undefined;
    }
    return failures;
  }

  #sweep(now: number): void {
    for (const key of [...this.#failures.keys()]) this.#current(key, now);
    this.#sweepAt = Math.max(1024, this.#failures.size * 2);
  }
}
