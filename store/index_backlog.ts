/**
 * Which stored messages the full-text index has not taken yet, kept in
 * memory so that choosing the next indexing step costs nothing. Asking
 * SQLite instead (a window query over the pending rows) cost 2 µs per
 * message plus 60 µs per step, measured — as much as inserting them.
 * @module
 */

/** One indexing step: the messages after the index's position, up to `upTo`. */
export interface IndexStep {
  /** The newest message id the step takes. */
  readonly upTo: number;
  /** How many messages it takes. */
  readonly count: number;
}

/**
 * Ids and lengths of committed messages newer than the index's position,
 * oldest first. It can only be trusted while {@link IndexBacklog.known}:
 * after opening a database with messages left unindexed, or after a
 * rollback, the database has to be asked until the index has caught up.
 */
export class IndexBacklog {
  #ids: number[] = [];
  #chars: number[] = [];
  #head = 0;
  #indexedUpTo = 0;
  #known = false;

  /** Whether the backlog matches the database (see the class). */
  get known(): boolean {
    return this.#known;
  }

  /** Messages waiting for the index. */
  get length(): number {
    return this.#ids.length - this.#head;
  }

  /** The id up to which messages are indexed (only while known). */
  get indexedUpTo(): number {
    return this.#indexedUpTo;
  }

  /** The database says every message up to `id` is indexed and none after it is waiting. */
  caughtUp(id: number): void {
    this.#ids = [];
    this.#chars = [];
    this.#head = 0;
    this.#indexedUpTo = id;
    this.#known = true;
  }

  /** Forgets everything until the database is asked again (after a rollback). */
  forget(): void {
    this.#ids = [];
    this.#chars = [];
    this.#head = 0;
    this.#known = false;
  }

  /** A message was stored; `chars` is the length of its content. */
  add(id: number, chars: number): void {
    if (!this.#known) return;
    const last = this.length > 0 ? this.#ids[this.#ids.length - 1] : this.#indexedUpTo;
    if (id <= last) {
      this.forget(); // ids must grow; otherwise trust only the database
      return;
    }
    this.#ids.push(id);
    this.#chars.push(chars);
  }

  /**
   * The oldest waiting messages within `maxChars` characters and `maxRows`
   * messages, but at least one; all of them when `maxChars` is negative.
   * Null when none is waiting.
   */
  nextStep(maxChars: number, maxRows: number): IndexStep | null {
    const end = this.#ids.length;
    if (this.#head === end) return null;
    if (maxChars < 0) return { upTo: this.#ids[end - 1], count: end - this.#head };
    let at = this.#head;
    let chars = this.#chars[at++];
    while (at < end && at - this.#head < maxRows && chars + this.#chars[at] <= maxChars) {
      chars += this.#chars[at++];
    }
    return { upTo: this.#ids[at - 1], count: at - this.#head };
  }

  /** The index has taken every message up to `id`. */
  indexed(id: number): void {
    this.#indexedUpTo = id;
    while (this.#head < this.#ids.length && this.#ids[this.#head] <= id) this.#head++;
    if (this.#head === this.#ids.length) {
      this.#ids = [];
      this.#chars = [];
      this.#head = 0;
    } else if (this.#head > 4096 && this.#head * 2 > this.#ids.length) {
      this.#ids = this.#ids.slice(this.#head);
      this.#chars = this.#chars.slice(this.#head);
      this.#head = 0;
    }
  }
}
