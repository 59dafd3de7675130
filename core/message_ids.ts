/**
 * The ids of messages: unique and increasing across the server, given out
 * when a message is posted, before it is stored. No I/O.
 * @module
 */

/** The message ids of one server. */
export class MessageIds {
  #last: number;

  /** @param last the highest id used so far (stored) */
  constructor(last: number) {
    this.#last = last;
  }

  /** The last id given out. */
  get last(): number {
    return this.#last;
  }

  /** Takes note of an id given out elsewhere (by a store shared with other servers). */
  observe(id: number): void {
    if (id > this.#last) this.#last = id;
  }

  /** Gives out the next id. */
  next(): number {
    return ++this.#last;
  }
}
