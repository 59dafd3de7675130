/**
 * Flood control and the brute-force brake of one server: a message-rate
 * bucket and a room-change bucket per user, registration buckets per
 * address and in all, and growing delays after failed logins per account
 * and per address and after failed registrations per address. Pure: the
 * clock is passed in.
 * @module
 */

import { type FailurePolicy, FailureThrottle } from "./failure_throttle.ts";
import { type RateLimit, TokenBucket, TokenBuckets } from "./token_bucket.ts";

/** The limits, each with its default in {@link DEFAULT_FLOOD_LIMITS}. */
export interface FloodLimits {
  /** Messages (and other costly requests) per user. */
  messages: RateLimit;
  /** Room changes (JOIN_ROOM into another room) per user. */
  joins: RateLimit;
  /** Accounts created (REGISTER) per client address. */
  registrationsPerAddress: RateLimit;
  /** Accounts created (REGISTER) in the whole server. */
  registrations: RateLimit;
  /** Failed logins per account. */
  loginsPerAccount: FailurePolicy;
  /** Failed logins, registrations and guest logins per client address. */
  attemptsPerAddress: FailurePolicy;
}

const MINUTE = 60_000;

/** What a server enforces unless told otherwise. */
export const DEFAULT_FLOOD_LIMITS: FloodLimits = {
  messages: { perSecond: 10, burst: 50 },
  joins: { perSecond: 1, burst: 10 },
  registrationsPerAddress: { perSecond: 3 / 60, burst: 5 },
  registrations: { perSecond: 60 / 60, burst: 60 },
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
  joins: { perSecond: 0, burst: 0 },
  registrationsPerAddress: { perSecond: 0, burst: 0 },
  registrations: { perSecond: 0, burst: 0 },
  loginsPerAccount: { freeFailures: Infinity, firstDelayMs: 0, maxDelayMs: 0, forgetAfterMs: 0 },
  attemptsPerAddress: {
    freeFailures: Infinity,
    firstDelayMs: 0,
    maxDelayMs: 0,
    forgetAfterMs: 0,
  },
};

/** What {@link FloodControl.beginLogin} returns when the attempt must wait its address's turn. */
export const LOGIN_HELD = -1;

/** The per-user token buckets whose spending the servers of a cluster tell each other. */
export type SharedBucket = "messages" | "joins";

/** Tokens spent per user since they were last taken, by bucket. */
export type Spending = Record<SharedBucket, ReadonlyMap<string, number>>;

/** No tokens spent. */
const NONE: ReadonlyMap<string, number> = new Map();

function tally(spent: Map<string, number>, user: string): void {
  spent.set(user, (spent.get(user) ?? 0) + 1);
}

/** The flood-control state of one server. */
export class FloodControl {
  readonly #messages: TokenBuckets;
  readonly #joins: TokenBuckets;
  readonly #registrationsPerAddress: TokenBuckets;
  readonly #registrations: TokenBucket;
  readonly #accounts: FailureThrottle;
  readonly #addresses: FailureThrottle;
  /** Login attempts under way per address. */
  readonly #loginsUnderWay = new Map<string, number>();
  readonly #limits: FloodLimits;
  /** Message tokens spent here, counted only in a cluster (see {@link tallySpending}). */
  #spentMessages: Map<string, number> | null = null;
  /** Room-change tokens spent here, likewise. */
  #spentJoins: Map<string, number> | null = null;
  /** Told when tokens are spent and none were since the last {@link takeSpending}. */
  #spendingBegan: (() => void) | null = null;

  constructor(limits: FloodLimits = DEFAULT_FLOOD_LIMITS) {
    this.#limits = limits;
    this.#messages = new TokenBuckets(limits.messages);
    this.#joins = new TokenBuckets(limits.joins);
    this.#registrationsPerAddress = new TokenBuckets(limits.registrationsPerAddress);
    // full from the start: the first take refills it up to its burst
    this.#registrations = new TokenBucket(limits.registrations, 0);
    this.#accounts = new FailureThrottle(limits.loginsPerAccount);
    this.#addresses = new FailureThrottle(limits.attemptsPerAddress);
  }

  /** Spends one of `user`'s message tokens: 0, or the ms until one is back. */
  messageWait(user: string, now: number): number {
    const wait = this.#messages.take(user, now);
    if (wait === 0 && this.#spentMessages !== null) this.#tally(this.#spentMessages, user);
    return wait;
  }

  /** Spends one of `user`'s room-change tokens: 0, or the ms until one is back. */
  joinWait(user: string, now: number): number {
    const wait = this.#joins.take(user, now);
    if (wait === 0 && this.#spentJoins !== null) this.#tally(this.#spentJoins, user);
    return wait;
  }

  /**
   * From now on, counts the message and room-change tokens spent here (of
   * the buckets that are on), for {@link takeSpending} to hand to the other
   * servers of a cluster; `began` is told when some are spent and none were
   * since the last {@link takeSpending}, so that a server whose users spend
   * nothing need not look.
   */
  tallySpending(began?: () => void): void {
    if (this.#limits.messages.perSecond > 0) this.#spentMessages ??= new Map();
    if (this.#limits.joins.perSecond > 0) this.#spentJoins ??= new Map();
    this.#spendingBegan = began ?? null;
  }

  #tally(spent: Map<string, number>, user: string): void {
    const began = !this.#spentMessages?.size && !this.#spentJoins?.size;
    tally(spent, user);
    if (began) this.#spendingBegan?.();
  }

  /** The tokens spent here since the last call (none when no tally is kept). */
  takeSpending(): Spending {
    const spent = { messages: this.#spentMessages ?? NONE, joins: this.#spentJoins ?? NONE };
    if (this.#spentMessages?.size) this.#spentMessages = new Map();
    if (this.#spentJoins?.size) this.#spentJoins = new Map();
    return spent;
  }

  /** Takes `count` tokens of `user`'s bucket that were spent on another server. */
  spentElsewhere(bucket: SharedBucket, user: string, count: number, now: number): void {
    (bucket === "messages" ? this.#messages : this.#joins).debit(user, count, now);
  }

  /**
   * Spends a registration token of `address` and one of the server's:
   * 0, or the ms until there will be both (then nothing is spent, and
   * `perAddress` says which was missing). Give them back with
   * {@link registrationRefused} when no account was created.
   */
  registrationWait(address: string, now: number): { wait: number; perAddress: boolean } {
    const perAddress = this.#registrationsPerAddress.take(address, now);
    if (perAddress > 0) return { wait: perAddress, perAddress: true };
    const total = this.#registrations.take(now);
    if (total > 0) this.#registrationsPerAddress.giveBack(address, now);
    return { wait: total, perAddress: false };
  }

  /** The registration whose tokens `registrationWait` spent created no account. */
  registrationRefused(address: string, now: number): void {
    this.#registrationsPerAddress.giveBack(address, now);
    this.#registrations.giveBack(now);
  }

  /**
   * Starts a login attempt: 0 when it may go ahead, the ms to wait when its
   * account or address is throttled, or {@link LOGIN_HELD} when it may go
   * ahead only once an attempt of its address under way has ended (were
   * they all to fail, the address would be throttled). An attempt that goes
   * ahead counts as a failure of its account, and as under way for its
   * address, until it ends ({@link loginSucceeded}, {@link loginFailed},
   * {@link loginAbandoned}): so guesses in parallel cannot slip past either
   * count, while many users behind one address may still log in at once.
   */
  beginLogin(account: string, address: string, now: number): number {
    const wait = Math.max(
      this.#accounts.waitFor(account, now),
      this.#addresses.waitFor(address, now),
    );
    if (wait > 0) return wait;
    const underWay = this.#loginsUnderWay.get(address) ?? 0;
    if (underWay > 0 && this.#addresses.waitAfter(address, underWay, now) > 0) return LOGIN_HELD;
    this.#accounts.failed(account, now);
    this.#loginsUnderWay.set(address, underWay + 1);
    return 0;
  }

  /**
   * Whether `address` has no failed login on record and none under way: its
   * next login goes before the others when passwords wait to be checked.
   */
  isQuiet(address: string, now: number): boolean {
    return !this.#loginsUnderWay.has(address) && this.#addresses.count(address, now) === 0;
  }

  /** The login begun with {@link beginLogin} succeeded. */
  loginSucceeded(account: string, address: string): void {
    this.#accounts.succeeded(account);
    this.#ended(address);
  }

  /** The login begun with {@link beginLogin} failed. */
  loginFailed(address: string, now: number): void {
    this.#addresses.failed(address, now);
    this.#ended(address);
  }

  /** The login begun with {@link beginLogin} was not checked after all (the server was busy). */
  loginAbandoned(account: string, address: string): void {
    this.#accounts.forgive(account);
    this.#ended(address);
  }

  #ended(address: string): void {
    const underWay = this.#loginsUnderWay.get(address)! - 1;
    if (underWay > 0) this.#loginsUnderWay.set(address, underWay);
    else this.#loginsUnderWay.delete(address);
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

  /** 0 when `address` may try a guest login now, else the ms to wait. */
  guestWait(address: string, now: number): number {
    return this.#addresses.waitFor(address, now);
  }

  /** A guest login from `address` was refused (a name taken, or no valid name). */
  guestRefused(address: string, now: number): void {
    this.#addresses.failed(address, now);
  }
}
