/**
 * A token bucket: a rate with a burst. Pure: the clock is passed in, so
 * tests can step time by hand.
 * @module
 */

/** How fast tokens come back and how many can be saved up. */
export interface RateLimit {
  /** Tokens added per second; 0 means no limit at all. */
  perSecond: number;
  /** Most tokens held at once: how many can be spent in a burst. */
  burst: number;
}

/** One bucket, starting full. */
export class TokenBucket {
  readonly #limit: RateLimit;
  #tokens: number;
  #updated: number;

  constructor(limit: RateLimit, now: number) {
    this.#limit = limit;
    this.#tokens = limit.burst;
    this.#updated = now;
  }

  /**
   * Spends one token if there is one and returns 0; otherwise spends
   * nothing and returns how many milliseconds until there will be one.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { TokenBucket } from "./token_bucket.ts";
   * const bucket = new TokenBucket({ perSecond: 2, burst: 2 }, 0);
   * assert.equal(bucket.take(0), 0);
   * assert.equal(bucket.take(0), 0);
   * assert.equal(bucket.take(0), 500, "empty: the next token comes in 500 ms");
   * assert.equal(bucket.take(500), 0);
   * ```
   */
  take(now: number): number {
    if (this.#limit.perSecond <= 0) return 0;
    this.#refill(now);
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.#tokens) / this.#limit.perSecond) * 1000);
  }

  /** Returns a token spent by {@link take} (never beyond the burst). */
  giveBack(now: number): void {
    if (this.#limit.perSecond <= 0) return;
    this.#refill(now);
    this.#tokens = Math.min(this.#limit.burst, this.#tokens + 1);
  }

  /**
   * Takes `count` tokens spent elsewhere (on another server of a cluster),
   * going below zero if need be: the next token then comes only once those
   * are paid back.
   */
  debit(count: number, now: number): void {
    this.#refill(now);
    this.#tokens -= count;
  }

  /** Whether the bucket is full at `now`: forgetting it would change nothing. */
  isFull(now: number): boolean {
    this.#refill(now);
    return this.#tokens >= this.#limit.burst;
  }

  #refill(now: number): void {
    const elapsed = Math.max(0, now - this.#updated) / 1000;
    this.#tokens = Math.min(this.#limit.burst, this.#tokens + elapsed * this.#limit.perSecond);
    this.#updated = now;
  }
}

/**
 * A bucket per key (a user name, an address), created on first use and
 * forgotten once full again, so memory follows the active keys only.
 */
export class TokenBuckets {
  readonly #limit: RateLimit;
  readonly #buckets = new Map<string, TokenBucket>();
  /** Size at which full buckets are swept out. */
  #sweepAt = 1024;

  constructor(limit: RateLimit) {
    this.#limit = limit;
  }

  /** {@link TokenBucket.take} on the bucket of `key`. */
  take(key: string, now: number): number {
    if (this.#limit.perSecond <= 0) return 0;
    return this.#bucket(key, now).take(now);
  }

  /** {@link TokenBucket.giveBack} on the bucket of `key`. */
  giveBack(key: string, now: number): void {
    this.#buckets.get(key)?.giveBack(now);
  }

  /** {@link TokenBucket.debit} on the bucket of `key`, made (full) if there was none. */
  debit(key: string, count: number, now: number): void {
    if (this.#limit.perSecond <= 0) return;
    this.#bucket(key, now).debit(count, now);
  }

  /** How many keys have a bucket. */
  get size(): number {
    return this.#buckets.size;
  }

  #bucket(key: string, now: number): TokenBucket {
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= this.#sweepAt) this.#sweep(now);
      bucket = new TokenBucket(this.#limit, now);
      this.#buckets.set(key, bucket);
    }
    return bucket;
  }

  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.isFull(now)) this.#buckets.delete(key);
    }
    this.#sweepAt = Math.max(1024, this.#buckets.size * 2);
  }
}
