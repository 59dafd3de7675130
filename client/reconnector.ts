/**
 * Connecting again after a connection was lost, for every client: tries
 * one at a time, waiting longer between them. Browser-safe.
 * @module
 */

/** The delay before reconnection attempt `attempt` (0-based): 0.5 s doubling to 10 s, ±20 %. */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(10_000, 500 * 2 ** attempt);
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * What one try at connecting again came to: `connected`, or `retry` (say,
 * the server is not back yet), or `stop` (say, the password is refused).
 */
export type TryOutcome = "connected" | "retry" | "stop";

/** How a run of tries ended: connected, stopped (by a try or by {@link Reconnector.stop}), or out of tries. */
export type ReconnectOutcome = "connected" | "stopped" | "gave up";

/** Settings of a {@link Reconnector}. */
export interface ReconnectorOptions {
  /** How long to wait before try `attempt` (from 0), in ms. Default {@link reconnectDelay}. */
  delayMs?: (attempt: number) => number;
  /** Tries before giving up. Default: no end. */
  attempts?: number;
  /** Told before each wait, how long it is, in ms (to say so to the user). */
  waiting?: (ms: number) => void;
}

interface Run {
  /** Settles with how the run ended; rejects with what a try threw. */
  readonly done: PromiseWithResolvers<ReconnectOutcome>;
  stopped: boolean;
  /** Whether a try is under way. */
  trying: boolean;
  /** Whether what the try under way connected was lost meanwhile. */
  lostMeanwhile: boolean;
  /** Ends the wait before the next try now. */
  wake(): void;
}

/**
 * Runs tries at connecting again, one at a time: a wait, a try, a longer
 * wait, a try… until one connects.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Reconnector } from "./reconnector.ts";
 * const reconnector = new Reconnector({ delayMs: () => 1 });
 * let tries = 0;
 * const outcome = await reconnector.start(() => Promise.resolve(++tries < 3 ? "retry" : "connected"));
 * assert.ok(outcome === "connected" && tries === 3);
 * ```
 */
export class Reconnector {
  readonly #delayMs: (attempt: number) => number;
  readonly #attempts: number;
  readonly #waiting: (ms: number) => void;
  #run: Run | null = null;

  /** A reconnector that is not running. */
  constructor(options: ReconnectorOptions = {}) {
    this.#delayMs = options.delayMs ?? reconnectDelay;
    this.#attempts = options.attempts ?? Infinity;
    this.#waiting = options.waiting ?? (() => {});
  }

  /** Whether tries are under way (or waited for). */
  get running(): boolean {
    return this.#run !== null;
  }

  /**
   * Starts trying `connect` until a try connects or stops, or
   * `attempts` tries did not connect; resolves with how that ended, or
   * rejects with what a try threw.
   *
   * While tries are under way, it starts nothing and resolves with theirs:
   * there is one reconnection at a time. Called during a try, it says that
   * the connection that try makes was lost again, so a try follows even when
   * that one connected.
   */
  start(connect: () => Promise<TryOutcome>): Promise<ReconnectOutcome> {
    if (this.#run) {
      if (this.#run.trying) this.#run.lostMeanwhile = true;
      return this.#run.done.promise;
    }
    const run: Run = {
      done: Promise.withResolvers(),
      stopped: false,
      trying: false,
      lostMeanwhile: false,
      wake: () => {},
    };
    this.#run = run;
    this.#tries(run, connect).finally(() => {
      if (this.#run === run) this.#run = null;
    }).then(run.done.resolve, run.done.reject);
    return run.done.promise;
  }

  /** The wait before the next try ends now (e.g. the network is back); a try under way goes on. */
  wake(): void {
    this.#run?.wake();
  }

  /** No more tries: the wait ends, and the run with it (a try under way finishes first). */
  stop(): void {
    const run = this.#run;
    if (!run) return;
    run.stopped = true;
    run.wake();
  }

  async #tries(run: Run, connect: () => Promise<TryOutcome>): Promise<ReconnectOutcome> {
    for (let attempt = 0; attempt < this.#attempts; attempt++) {
      const ms = this.#delayMs(attempt);
      this.#waiting(ms);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        run.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      run.wake = () => {};
      if (run.stopped) return "stopped";
      run.trying = true;
      run.lostMeanwhile = false;
      let outcome: TryOutcome;
      try {
        outcome = await connect();
      } finally {
        run.trying = false;
      }
      if (outcome === "stop" || run.stopped) return "stopped";
      if (outcome === "connected" && !run.lostMeanwhile) return "connected";
    }
    return "gave up";
  }
}
