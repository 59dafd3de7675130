/**
 * Message ids handed out ahead of the disk. A room message reaches the
 * room before it is stored, so if the server crashed in between, its id
 * must not be given to another message after the restart. Ids are
 * therefore reserved on disk in blocks, well before they are needed, and
 * an id is used only once its block is reserved. A restart continues above
 * the last reservation: ids may skip, never repeat. No I/O: the store's
 * reservation call is passed in.
 * @module
 */

/** Ids reserved at a time; a new block is asked for when half of one is left. */
export const ID_BLOCK = 8192;

/** The next message id, and when it may be shown to anyone. */
export interface NextId {
  readonly id: number;
  /**
   * null when the id is reserved and nothing before it is waiting, else a
   * promise that resolves (in id order) once it may be used; it rejects
   * when the reservation could not be stored.
   */
  readonly ready: Promise<void> | null;
}

/** Hands out increasing message ids, reserving them on disk in blocks. */
export class MessageIds {
  readonly #reserve: (upTo: number) => Promise<void>;
  readonly #block: number;
  #last: number;
  /** Ids up to this are reserved on disk. */
  #reserved: number;
  /** Ids up to this are reserved or being reserved. */
  #requested: number;
  /** The latest reservation under way. */
  #pending: Promise<void> | null = null;
  /** Ids handed out that still wait for their reservation. */
  #waiting = 0;

  /**
   * @param last the highest id used or reserved so far (the store's `lastMessageId`)
   * @param reserve stores a reservation of every id up to its argument
   */
  constructor(last: number, reserve: (upTo: number) => Promise<void>, block = ID_BLOCK) {
    this.#last = last;
    this.#reserved = last;
    this.#requested = last;
    this.#reserve = reserve;
    this.#block = block;
  }

  /** The highest id handed out so far (or reserved before a restart). */
  get last(): number {
    return this.#last;
  }

  /** Hands out the next id. */
  next(): NextId {
    const id = ++this.#last;
    if (this.#requested - this.#last < this.#block / 2) this.#request();
    if (id <= this.#reserved && this.#waiting === 0) return { id, ready: null };
    this.#waiting++;
    const ready = this.#pending!.finally(() => this.#waiting--);
    return { id, ready };
  }

  #request(): void {
    const upTo = this.#last + this.#block;
    this.#requested = upTo;
    const reservation = this.#reserve(upTo).then(
      () => {
        this.#reserved = Math.max(this.#reserved, upTo);
      },
      (error) => {
        // the next id asks again
        this.#requested = this.#reserved;
        throw error;
      },
    );
    reservation.catch(() => {}); // its waiters see the error
    this.#pending = reservation;
  }
}
