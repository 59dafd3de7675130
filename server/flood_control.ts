/**
 * Flood control and the brute-force brake of one server: a message-rate
 * bucket per user, and growing delays after failed logins per account and
 * per address and after failed registrations per address. Pure: the clock
 * is passed in.
 * @module
 */

import { type FailurePolicy, FailureThrottle } from "./failure_throttle.ts";
import { type RateLimit, TokenBuckets } from "./token_bucket.ts";

/** The limits, each with its default in {@link DEFAULT_FLOOD_LIMITS}. */
export interface FloodLimits {
  /** Messages (and other costly requests) per user. */
  messages: RateLimit;
  /** Failed logins per account. */
  loginsPerAccount: FailurePolicy;
  /** Failed logins and registrations per client address. */
  attemptsPerAddress: FailurePolicy;
}

const MINUTE = 60_000;

/** What a server enforces unless told otherwise. */
export const DEFAULT_FLOOD_LIMITS: FloodLimits = {
  messages: { perSecond: 10, burst: 50 },
  loginsPerAccount: {
    freeFailures: 5,
    firstDelayMs: 1_000,
    maxDelayMs: 5 * MINUTE,
    forgetAfterMs: 15 * MINUTE,
  },
  attemptsPerAddress: {
    freeFailures: 20,
    firstDelayMs: 1_000,
    maxDelayMs: 5 * MINUTE,
    forgetAfterMs: 15 * MINUTE,
  },
};

/** No limits at all: for benchmarks and tests that flood on purpose. */
export const NO_FLOOD_LIMITS: FloodLimits = {
  messages: { perSecond: 0, burst: 0 },
  loginsPerAccount: { freeFailures: Infinity, firstDelayMs: 0, maxDelayMs: 0, forgetAfterMs: 0 },
  attemptsPerAddress: {
    freeFailures: Infinity,
    firstDelayMs: 0,
    maxDelayMs: 0,
    forgetAfterMs: 0,
  },
};

/** The flood-control state of one server. */
export class FloodControl {
  readonly #messages: TokenBuckets;
  readonly #accounts: FailureThrottle;
  readonly #addresses: FailureThrottle;

  constructor(limits: FloodLimits = DEFAULT_FLOOD_LIMITS) {
    this.#messages = new TokenBuckets(limits.messages);
    this.#accounts = new FailureThrottle(limits.loginsPerAccount);
    this.#addresses = new FailureThrottle(limits.attemptsPerAddress);
  }

  /** Spends one of `user`'s message tokens: 0, or the ms until one is back. */
  messageWait(user: string, now: number): number {
    return this.#messages.take(user, now);
  }

  /**
   * Starts a login attempt: 0 when it may go ahead, or the ms to wait. An
   * attempt that goes ahead counts as a failure of its account until
   * {@link loginSucceeded} says otherwise, so that guesses in parallel
   * cannot slip past the count. For the address only real failures count:
   * many users behind one address may well log in at the same moment.
   */
  beginLogin(account: string, address: string, now: number): number {
    const wait = Math.max(
      this.#accounts.waitFor(account, now),
      this.#addresses.waitFor(address, now),
    );
    if (wait === 0) this.#accounts.failed(account, now);
    return wait;
  }

  /** The login begun with {@link beginLogin} succeeded. */
  loginSucceeded(account: string): void {
    this.#accounts.succeeded(account);
  }

  /** The login begun with {@link beginLogin} failed. */
  loginFailed(address: string, now: number): void {
    this.#addresses.failed(address, now);
  }

  /** Failed logins of `account` on record. */
  loginFailures(account: string, now: number): number {
    return this.#accounts.count(account, now);
  }

  /** 0 when `address` may try to register now, else the ms to wait. */
  registerWait(address: string, now: number): number {
    return this.#addresses.waitFor(address, now);
  }

  /** A registration from `address` was refused. */
  registerFailed(address: string, now: number): void {
    this.#addresses.failed(address, now);
  }
}
