/**
 * The bounded queue for costly work shared by all connections (password
 * hashing, history reads, searches): at most so many jobs under way at
 * once, at most so many waiting, and urgent jobs before the others. Work
 * beyond the bound is refused at once instead of piling up. Jobs may count
 * for a key (a user), so that a caller can bound each key's share.
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

/** How a job is queued. */
export interface JobOptions {
  /** Whether it goes before the ordinary jobs waiting (and may take the place of one). */
  urgent?: boolean;
  /** Whom it counts for, under way or waiting (see {@link WorkQueue.jobsOf}). */
  key?: string;
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
  /** Jobs under way or waiting, per key. */
  readonly #jobsOf = new Map<string, number>();

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

  /** Whether an ordinary job would be refused now: as many under way and waiting as may be. */
  get full(): boolean {
    return this.#running >= this.#limits.running && this.waiting >= this.#limits.waiting;
  }

  /** The jobs of `key` under way or waiting. */
  jobsOf(key: string): number {
    return this.#jobsOf.get(key) ?? 0;
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
   * const urgent = queue.run(job("urgent"), { urgent: true });
   * assert.equal(await second, null, "refused: the urgent job took its place");
   * await Promise.all([first, urgent]);
   * assert.deepEqual(order, ["first", "urgent"]);
   * ```
   */
  run<T>(work: () => Promise<T>, options: JobOptions = {}): Promise<T | null> {
    const { urgent = false, key } = options;
    if (this.#running < this.#limits.running) return this.#start(work, key);
    if (this.waiting >= this.#limits.waiting) {
      if (!urgent || this.#ordinary.length === 0) return Promise.resolve(null);
      this.#ordinary.pop()!.refuse();
    }
    this.#count(key, 1);
    return new Promise<T | null>((resolve, reject) => {
      (urgent ? this.#urgent : this.#ordinary).push({
        start: () => {
          this.#count(key, -1);
          this.#start(work, key).then(resolve, reject);
        },
        refuse: () => {
          this.#count(key, -1);
          resolve(null);
        },
      });
    });
  }

  async #start<T>(work: () => Promise<T>, key: string | undefined): Promise<T> {
    this.#running++;
    this.#count(key, 1);
    try {
      return await work();
    } finally {
      this.#running--;
      this.#count(key, -1);
      (this.#urgent.shift() ?? this.#ordinary.shift())?.start();
    }
  }

  #count(key: string | undefined, change: number): void {
    if (key === undefined) return;
    const jobs = this.jobsOf(key) + change;
    if (jobs === 0) this.#jobsOf.delete(key);
    else this.#jobsOf.set(key, jobs);
  }
}
