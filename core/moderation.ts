/**
 * Who may moderate which room, and who is banned where. No I/O: the chat
 * core stores bans and keeps this in step.
 * @module
 */

import type { BanRecord } from "../store/records.ts";

/** Admins and bans. */
export class Moderation {
  readonly #admins: ReadonlySet<string>;
  readonly #bans = new Map<string, Map<string, BanRecord>>();

  /** Starts from the server's admins and the stored bans. */
  constructor(admins: ReadonlySet<string>, bans: readonly BanRecord[]) {
    this.#admins = admins;
    for (const ban of bans) this.ban(ban);
  }

  /** Whether `user` may kick and ban in a room owned by `owner`. */
  mayModerate(user: string, owner: string | null): boolean {
    return user === owner || this.#admins.has(user);
  }

  /** Whether `user` is a server admin. */
  isAdmin(user: string): boolean {
    return this.#admins.has(user);
  }

  /** The ban keeping `user` out of `room`, if any. */
  banOf(room: string, user: string): BanRecord | undefined {
    return this.#bans.get(room)?.get(user);
  }

  /** Records a ban. */
  ban(ban: BanRecord): void {
    let room = this.#bans.get(ban.room);
    if (!room) this.#bans.set(ban.room, room = new Map());
    room.set(ban.user, ban);
  }

  /** Lifts a ban. */
  unban(room: string, user: string): void {
    this.#bans.get(room)?.delete(user);
  }
}
