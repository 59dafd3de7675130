/**
 * What changed here while a catch-up from the store was under way (after
 * the link between the servers was down): a catch-up leaves such changes
 * as they are, since the store may have been read before them. No I/O.
 * @module
 */

/** The changes made while catch-ups run, by room and user (see {@link roomUserKey}). */
export class ChangesMeanwhile {
  #running = 0;
  #changed: Set<string> | null = null;

  /** Notes a change to `user` in public room `room`; kept only while a catch-up runs. */
  note(room: string, user: string): void {
    this.#changed?.add(roomUserKey(room, user));
  }

  /** Begins a catch-up; the function returned ends it, giving the changes made since. */
  begin(): () => ReadonlySet<string> {
    this.#running++;
    const changed = this.#changed ??= new Set();
    return () => {
      if (--this.#running === 0) this.#changed = null;
      return changed;
    };
  }
}

/** The key of a user in a public room, named. */
export function roomUserKey(room: string, user: string): string {
  return `${room}\u0000${user}`;
}
