/**
 * Limits that the servers of a cluster hold together: the brake on failed
 * logins (per account and per address), refused registrations and guest
 * logins (per address), and accounts created (per address and in all). A
 * server alone has none of this (its {@link FloodControl} is all there
 * is); servers sharing a PostgreSQL database keep these counts there
 * (`server/cluster/postgres_limits.ts`), one round trip per login or
 * registration, on top of their own. Message and room-change rates cost no
 * round trip: each server keeps its own buckets and tells the others over
 * the bus what its users spent ({@link LimitsNode.shareSpent}), which they
 * take from theirs. No I/O.
 * @module
 */

import { FloodControl, type FloodLimits } from "./flood_control.ts";

/** How a login attempt begun with {@link SharedLimits.beginLogin} ended. */
export type LoginEnd = "succeeded" | "failed" | "abandoned";

/**
 * The counts every server of a cluster sees, with the meaning of the
 * {@link FloodControl} methods of the same names: a server asks them after
 * its own, which are a part of them.
 */
export interface SharedLimits {
  /**
   * Begins a login attempt: 0 when it may go ahead (it then counts as a
   * failure of `account` and as under way for `address` until
   * {@link loginEnded}), the ms to wait, or `LOGIN_HELD` when attempts of
   * the address under way (on any server) would, were they all to fail,
   * throttle it.
   */
  beginLogin(account: string, address: string, now: number): Promise<number>;
  /** Ends an attempt that {@link beginLogin} let go ahead. */
  loginEnded(account: string, address: string, end: LoginEnd, now: number): Promise<void>;
  /** 0 when `address` may try to register or log in as a guest now, else the ms to wait. */
  addressWait(address: string, now: number): Promise<number>;
  /** A registration or guest login from `address` was refused. */
  addressFailed(address: string, now: number): Promise<void>;
  /** Spends a registration token of `address` and one of the cluster's (see `FloodControl`). */
  registrationWait(address: string, now: number): Promise<{ wait: number; perAddress: boolean }>;
  /** The registration whose tokens {@link registrationWait} spent created no account. */
  registrationRefused(address: string, now: number): Promise<void>;
  /**
   * This server's users began to spend message or room-change tokens (none
   * were spent since the last {@link LimitsNode.shareSpent}): that is due
   * within {@link SPENDING_SHARE_MS}.
   */
  spendingBegan?(): void;
}

/** What shared limits may ask of this server's chat. */
export interface LimitsNode {
  /**
   * Tells the other servers, over the bus, of the message and room-change
   * tokens this server's users spent since the last call (nothing when
   * none were). Called {@link SPENDING_SHARE_MS} after
   * {@link SharedLimits.spendingBegan}, so not while nobody spends.
   */
  shareSpent(): void;
}

/** How soon after its users begin to spend a server of a cluster tells the others, in ms. */
export const SPENDING_SHARE_MS = 100;

/** Most users in one note of spent tokens, so that it fits a NOTIFY payload. */
export const SPENT_PER_NOTE = 20;

/** Shared limits kept in this process: for chats that share one process (tests). */
export class InProcessLimits implements SharedLimits {
  readonly #flood: FloodControl;

  constructor(limits: FloodLimits) {
    this.#flood = new FloodControl(limits);
  }

  beginLogin(account: string, address: string, now: number): Promise<number> {
    return Promise.resolve(this.#flood.beginLogin(account, address, now));
  }

  loginEnded(account: string, address: string, end: LoginEnd, now: number): Promise<void> {
    if (end === "succeeded") this.#flood.loginSucceeded(account, address);
    else if (end === "failed") this.#flood.loginFailed(address, now);
    else this.#flood.loginAbandoned(account, address);
    return Promise.resolve();
  }

  addressWait(address: string, now: number): Promise<number> {
    return Promise.resolve(this.#flood.registerWait(address, now));
  }

  addressFailed(address: string, now: number): Promise<void> {
    this.#flood.registerFailed(address, now);
    return Promise.resolve();
  }

  registrationWait(address: string, now: number): Promise<{ wait: number; perAddress: boolean }> {
    return Promise.resolve(this.#flood.registrationWait(address, now));
  }

  registrationRefused(address: string, now: number): Promise<void> {
    this.#flood.registrationRefused(address, now);
    return Promise.resolve();
  }
}
