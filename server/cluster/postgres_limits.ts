/**
 * The limits the servers of a cluster hold together, in the PostgreSQL
 * database they share (the unlogged tables and functions of the schema's
 * migration 5): failed logins per account and per address, login attempts
 * under way per address and server, and the registration buckets. A login
 * costs a round trip to begin and one to end; a failure is written before
 * its client hears of it. A write that fails is logged, not answered: the
 * attempt it counts was made. {@link SPENDING_SHARE_MS} after the chat's
 * users begin to spend, it has the chat tell the other servers what they
 * spent (see `core/limits/shared_limits.ts`); nothing while nobody does.
 * Imports the `postgres` package: loaded only for a cluster (see
 * open_cluster.ts).
 * @module
 */

import type { FailurePolicy } from "../../core/limits/failure_throttle.ts";
import { type FloodLimits, LOGIN_HELD } from "../../core/limits/flood_control.ts";
import {
  type LimitsNode,
  type LoginEnd,
  type SharedLimits,
  SPENDING_SHARE_MS,
} from "../../core/limits/shared_limits.ts";
import type { RateLimit } from "../../core/limits/token_bucket.ts";
import { connect, type Sql } from "../../store/postgres/connection.ts";

/** How often stale failures and full buckets are swept out, in ms. */
const SWEEP_MS = 60_000;

/** The bucket of accounts created in the whole cluster. */
const ALL_REGISTRATIONS = "registrations";

/** Settings of {@link PostgresLimits}. */
export interface PostgresLimitsOptions {
  /** This server's name in the cluster (its login attempts under way go with its lease). */
  node: string;
  log: (line: string) => void;
}

/** A policy's numbers as the database functions take them (no infinity). */
function policy(p: FailurePolicy): [number, number, number, number] {
  return [Math.min(p.freeFailures, 2 ** 31 - 1), p.firstDelayMs, p.maxDelayMs, p.forgetAfterMs];
}

/** Whether a policy ever makes anyone wait (`--no-login-throttle` turns them off). */
function throttles(p: FailurePolicy): boolean {
  return Number.isFinite(p.freeFailures);
}

/** Shared limits in PostgreSQL. */
export class PostgresLimits implements SharedLimits {
  readonly #sql: Sql;
  readonly #options: PostgresLimitsOptions;
  #limits: FloodLimits | null = null;
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  /** The chat to tell to share what was spent; null before `attach` and once closed. */
  #node: LimitsNode | null = null;
  /** Until the chat shares what was spent (see {@link spendingBegan}). */
  #shareTimer: ReturnType<typeof setTimeout> | null = null;

  /** Limits in the database at `url`, on a connection of their own (made when first needed). */
  constructor(url: string, options: PostgresLimitsOptions) {
    this.#sql = connect(url, 1);
    this.#options = options;
  }

  /** Takes the chat's flood limits, and has it share what its users spend, from now on. */
  attach(limits: FloodLimits, node: LimitsNode): this {
    this.#limits = limits;
    this.#node = node;
    this.#timers.push(setInterval(() => this.#sweep(), SWEEP_MS));
    return this;
  }

  spendingBegan(): void {
    if (this.#shareTimer !== null || this.#node === null) return;
    this.#shareTimer = setTimeout(() => {
      this.#shareTimer = null;
      this.#node?.shareSpent();
    }, SPENDING_SHARE_MS);
  }

  async beginLogin(account: string, address: string, now: number): Promise<number> {
    const { loginsPerAccount, attemptsPerAddress } = this.#limits!;
    if (!throttles(loginsPerAccount) && !throttles(attemptsPerAddress)) return 0;
    const [a, i] = [policy(loginsPerAccount), policy(attemptsPerAddress)];
    const [{ wait }] = await this.#sql<{ wait: number }[]>`
      SELECT claptrap_login_begin(${accountKey(account)}, ${addressKey(address)},
        ${this.#options.node}, ${now}, ${a[0]}, ${a[1]}, ${a[2]}, ${a[3]},
        ${i[0]}, ${i[1]}, ${i[2]}, ${i[3]}) AS wait`;
    return wait < 0 ? LOGIN_HELD : wait;
  }

  loginEnded(account: string, address: string, end: LoginEnd, now: number): Promise<void> {
    const { loginsPerAccount, attemptsPerAddress } = this.#limits!;
    if (!throttles(loginsPerAccount) && !throttles(attemptsPerAddress)) return Promise.resolve();
    return this.#write(this.#sql`
      SELECT claptrap_login_end(${accountKey(account)}, ${addressKey(address)},
        ${this.#options.node}, ${end}, ${now}, ${this.#limits!.attemptsPerAddress.forgetAfterMs})`);
  }

  async addressWait(address: string, now: number): Promise<number> {
    if (!throttles(this.#limits!.attemptsPerAddress)) return 0;
    const [free, first, max, forget] = policy(this.#limits!.attemptsPerAddress);
    const [{ wait }] = await this.#sql<{ wait: number }[]>`
      SELECT claptrap_failure_wait(${addressKey(address)}, ${now}, ${free}, ${first}, ${max},
        ${forget}) AS wait`;
    return wait;
  }

  addressFailed(address: string, now: number): Promise<void> {
    if (!throttles(this.#limits!.attemptsPerAddress)) return Promise.resolve();
    return this.#write(this.#sql`
      SELECT claptrap_failed(${addressKey(address)}, ${now},
        ${this.#limits!.attemptsPerAddress.forgetAfterMs})`);
  }

  async registrationWait(
    address: string,
    now: number,
  ): Promise<{ wait: number; perAddress: boolean }> {
    const { registrationsPerAddress, registrations } = this.#limits!;
    const perAddress = await this.#take(addressKey(address), registrationsPerAddress, now, 1);
    if (perAddress > 0) return { wait: perAddress, perAddress: true };
    const total = await this.#take(ALL_REGISTRATIONS, registrations, now, 1);
    if (total > 0) {
      await this.#write(this.#take(addressKey(address), registrationsPerAddress, now, -1));
    }
    return { wait: total, perAddress: false };
  }

  async registrationRefused(address: string, now: number): Promise<void> {
    const { registrationsPerAddress, registrations } = this.#limits!;
    await this.#write(this.#take(addressKey(address), registrationsPerAddress, now, -1));
    await this.#write(this.#take(ALL_REGISTRATIONS, registrations, now, -1));
  }

  /** Stops sharing and sweeping, and disconnects. */
  async close(): Promise<void> {
    this.#node = null;
    for (const timer of this.#timers) clearInterval(timer);
    if (this.#shareTimer !== null) clearTimeout(this.#shareTimer);
    await this.#sql.end({ timeout: 1 });
  }

  /** Takes `count` tokens of the bucket `key` (gives them back when negative): 0, or the wait. */
  async #take(key: string, limit: RateLimit, now: number, count: number): Promise<number> {
    if (limit.perSecond <= 0) return 0;
    const [{ wait }] = await this.#sql<{ wait: number }[]>`
      SELECT claptrap_take(${key}, ${limit.perSecond}, ${limit.burst}, ${now}, ${count}) AS wait`;
    return wait;
  }

  /** Forgets failures older than either policy keeps them, and buckets that are full again. */
  #sweep(): void {
    const { loginsPerAccount, attemptsPerAddress } = this.#limits!;
    const forget = Math.max(loginsPerAccount.forgetAfterMs, attemptsPerAddress.forgetAfterMs);
    const now = Date.now();
    void this.#write(this.#sql`DELETE FROM claptrap_failures WHERE last < ${now - forget}`);
    void this.#write(this.#sql`DELETE FROM claptrap_buckets WHERE full_at < ${now}`);
  }

  /** Runs a write whose failure only needs logging. */
  async #write(query: Promise<unknown>): Promise<void> {
    try {
      await query;
    } catch (error) {
      this.#options.log(`cluster-limits write-failed ${(error as Error).message}`);
    }
  }
}

function accountKey(account: string): string {
  return `account ${account}`;
}

function addressKey(address: string): string {
  return `address ${address}`;
}
