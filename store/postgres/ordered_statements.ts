/**
 * Statements sent on one connection without waiting for their answers,
 * run in the order they were made. The `postgres` package (3.4.10) does
 * not keep that order by itself: of the queries that wait for a connection
 * being made, it sends part once the connection is ready, then one made
 * meanwhile, then the rest (seen on a connection's first queries, and
 * again once it was lost and made anew).
 * @module
 */

/** Most statements waiting; more are refused at once (see {@link OrderedStatements.run}). */
const MAX_WAITING = 10_000;

/** Runs statements one at a time, in the order they were given. */
export class OrderedStatements {
  #tail: Promise<unknown> = Promise.resolve();
  #waiting = 0;

  /**
   * Makes and sends `statement` once those given before it were answered
   * (or failed); its answer. Rejects at once when {@link MAX_WAITING} wait
   * already (PostgreSQL is not answering).
   */
  run<T>(statement: () => PromiseLike<T>): Promise<T> {
    if (this.#waiting >= MAX_WAITING) {
      return Promise.reject(new Error(`${MAX_WAITING} statements wait for the database already`));
    }
    this.#waiting++;
    const answer = this.#tail.then(statement).finally(() => this.#waiting--);
    this.#tail = answer.catch(() => {});
    return answer;
  }
}
