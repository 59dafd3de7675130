/**
 * How many searches are under way at once: each user's, and all users'
 * together, with a bounded queue of searches waiting for a turn. A search
 * looks through up to thousands of messages; without these bounds a few
 * users searching in a loop kept the store busy for everyone. No I/O.
 * @module
 */

/** Bounds of searching. */
export interface SearchLimits {
  /** Searches one user may have under way (running or waiting) at once. */
  perUser: number;
  /** Searches given to the store at once, server-wide. */
  running: number;
  /** Searches that may wait for a turn beyond those; more are refused. */
  waiting: number;
  /** Most messages one page of results looks through (see `SearchOptions.scanLimit`). */
  scanLimit: number;
}

/** The bounds unless told otherwise. */
export const DEFAULT_SEARCH_LIMITS: SearchLimits = {
  perUser: 1,
  running: 4,
  waiting: 64,
  scanLimit: 10_000,
};

/** Turns for searches: at most `running` at once, then first come, first served. */
export class SearchSlots {
  readonly #limits: SearchLimits;
  readonly #perUser = new Map<string, number>();
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limits: SearchLimits) {
    this.#limits = limits;
  }

  /**
   * Takes a turn for one of `user`'s searches: a promise that resolves when
   * it may run (call {@link SearchSlots.leave} once it has), or, when the
   * search may not even wait, the reason why.
   */
  enter(user: string): Promise<void> | string {
    const mine = this.#perUser.get(user) ?? 0;
    if (mine >= this.#limits.perUser) {
      return mine === 1
        ? "you have a search under way; wait for its answer"
        : `you have ${mine} searches under way; wait for their answers`;
    }
    const free = this.#running < this.#limits.running;
    if (!free && this.#waiting.length >= this.#limits.waiting) {
      return "the server is busy with other searches; try again shortly";
    }
    this.#perUser.set(user, mine + 1);
    if (free) {
      this.#running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Ends a search that had its turn; the next waiting one gets it. */
  leave(user: string): void {
    const mine = this.#perUser.get(user)! - 1;
    if (mine === 0) this.#perUser.delete(user);
    else this.#perUser.set(user, mine);
    const next = this.#waiting.shift();
    if (next) next();
    else this.#running--;
  }
}
