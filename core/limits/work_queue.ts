/**
 * A bounded queue for costly work shared by all connections (password
 * hashing, large store reads): at most so many jobs under way at once, at
 * most so many waiting, and urgent jobs before the others. Work beyond the
 * bound is refused at once instead of piling up.
 * @module
 */

/** Jobs that may wait for each one under way, unless told otherwise. */
export const WAITING_PER_RUNNING = 64;

/** How much work a {@link WorkQueue} takes. */
export interface WorkLimits {
  /** Jobs under way at once. */
  running: number;
  /** Jobs waiting for a turn; more are refused. */
  waiting: number;
}

interface Waiting {
  start(): void;
  refuse(): void;
}

/** Jobs under way and waiting, urgent ones first. */
export class WorkQueue {
  readonly #limits: WorkLimits;
  #running = 0;
  readonly #urgent: Waiting[] = [];
  readonly #ordinary: Waiting[] = [];

  constructor(limits: WorkLimits) {
    this.#limits = limits;
  }

  /** Jobs under way. */
  get running(): number {
    return this.#running;
  }

  /** Jobs waiting for a turn. */
  get waiting(): number {
    return this.#urgent.length + this.#ordinary.length;
  }

  /**
   * Runs `work` when its turn comes: at once while fewer than `running`
   * jobs are under way, else after the urgent jobs waiting and, unless it
   * is urgent itself, after the ordinary ones waiting before it. Resolves
   * to null without running it when `waiting` jobs wait already; an urgent
   * job then takes the place of the ordinary one that came last, which is
   * refused instead.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { WorkQueue } from "./work_queue.ts";
   * const queue = new WorkQueue({ running: 1, waiting: 1 });
   * const order: string[] = [];
   * const job = (name: string) => () => Promise.resolve(order.push(name));
   * const first = queue.run(job("first"));
   * const second = queue.run(job("second"));
   * const urgent = queue.run(job("urgent"), true);
   * assert.equal(await second, null, "refused: the urgent job took its place");
   * await Promise.all([first, urgent]);
   * assert.deepEqual(order, ["first", "urgent"]);
   * ```
   */
  run<T>(work: () => Promise<T>, urgent = false): Promise<T | null> {
    if (this.#running < this.#limits.running) return this.#start(work);
    if (this.waiting >= this.#limits.waiting) {
      if (!urgent || this.#ordinary.length === 0) return Promise.resolve(null);
      this.#ordinary.pop()!.refuse();
    }
    return new Promise<T | null>((resolve, reject) => {
      (urgent ? this.#urgent : this.#ordinary).push({
        start: () => this.#start(work).then(resolve, reject),
        refuse: () => resolve(null),
      });
    });
  }

  async #start<T>(work: () => Promise<T>): Promise<T> {
    this.#running++;
    try {
      return await work();
    } finally {
      this.#running--;
      (this.#urgent.shift() ?? this.#ordinary.shift())?.start();
    }
  }
}
