/**
 * When a load generator's messages are due at a fixed offered rate. Evenly
 * spaced is what a metronome sends; at random (a Poisson process) is what
 * many independent people posting when they will send. The two differ for
 * a server that groups what comes close together (a cluster's batch wait
 * on PostgreSQL): with several workers, each spacing its own messages
 * evenly, how close together the messages come depends on how the
 * workers' schedules happen to line up, which changes from run to run.
 * @module
 */

/** How the messages of a fixed rate are spaced in time. */
export type Arrivals = "even" | "random";

/** The arrival spacings `--arrivals` takes. */
export const ARRIVALS: readonly Arrivals[] = ["even", "random"];

/** Counts the messages due by each moment of a sending phase. */
export class ArrivalSchedule {
  readonly #arrivals: Arrivals;
  readonly #perMs: number;
  readonly #random: () => number;
  /** Random arrivals: messages due before `#nextMs`. */
  #due = 0;
  /** Random arrivals: when the next message is due, in ms since sending began. */
  #nextMs = 0;

  /**
   * A schedule of `ratePerSecond` messages a second (more than 0), spaced
   * as `arrivals` says; `random` (values in [0, 1)) draws the gaps.
   */
  constructor(arrivals: Arrivals, ratePerSecond: number, random: () => number = Math.random) {
    if (!(ratePerSecond > 0)) throw new RangeError(`a rate must be above 0, got ${ratePerSecond}`);
    this.#arrivals = arrivals;
    this.#perMs = ratePerSecond / 1000;
    this.#random = random;
    if (arrivals === "random") this.#nextMs = this.#gapMs();
  }

  /** Messages due from the start of sending until `elapsedMs` after it (never fewer than before). */
  dueBy(elapsedMs: number): number {
    if (this.#arrivals === "even") return Math.floor(elapsedMs * this.#perMs);
    while (this.#nextMs <= elapsedMs) {
      this.#due++;
      this.#nextMs += this.#gapMs();
    }
    return this.#due;
  }

  /** An exponentially distributed gap: what makes the arrivals a Poisson process. */
  #gapMs(): number {
    return -Math.log(1 - this.#random()) / this.#perMs;
  }
}
