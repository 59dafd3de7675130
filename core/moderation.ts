/**
 * Moderation: who may moderate which room, who is banned where, and
 * kicking, banning and unbanning. The owner of a public room and the
 * server's admins may; bans are stored, and kept here in step. No I/O but
 * through the store.
 * @module
 */

import { codePointName } from "../protocol/message_text.ts";
import { nameKey, nameProblem } from "../protocol/names.ts";
import type { BanRecord } from "../store/records.ts";
import type { ChatStore } from "../store/store.ts";
import { ChangesMeanwhile, roomUserKey } from "./changes_meanwhile.ts";
import type { FanoutBus } from "./fanout_bus.ts";
import type { Memberships } from "./memberships.ts";
import type { Outcome } from "./outcome.ts";
import type { ClusterPresence } from "./presence_claims.ts";
import type { Room } from "./room.ts";
import type { Rooms } from "./rooms.ts";
import type { Session } from "./session.ts";

/** Longest reason a moderator may give for a kick or ban, in characters. */
export const MAX_MODERATION_REASON = 200;

/** What a moderator does to a user. */
export type ModerationAction = "kick" | "ban" | "unban";

/** Settings of {@link Moderation}. */
export interface ModerationOptions {
  /** Users who may kick and ban in every room. */
  admins: ReadonlySet<string>;
  /** The bans stored. */
  bans: readonly BanRecord[];
  store: ChatStore;
  bus: FanoutBus;
  rooms: Rooms;
  memberships: Memberships;
  /** Who is where on the other servers of a cluster, if any. */
  roster?: ClusterPresence | null;
  now: () => number;
  log: (line: string) => void;
}

/** Admins, bans, and moderators' actions. */
export class Moderation {
  readonly #options: ModerationOptions;
  readonly #bans = new Map<string, Map<string, BanRecord>>();
  /** Bans made or lifted while a catch-up runs (see {@link Moderation.catchUpBans}). */
  readonly #meanwhile = new ChangesMeanwhile();

  constructor(options: ModerationOptions) {
    this.#options = options;
    for (const ban of options.bans) this.#ban(ban);
  }

  /** Whether `user` may kick and ban in a room owned by `owner`. */
  mayModerate(user: string, owner: string | null): boolean {
    return user === owner || this.#options.admins.has(user);
  }

  /** The ban keeping `user` out of `room`, if any. */
  banOf(room: string, user: string): BanRecord | undefined {
    return this.#bans.get(room)?.get(user);
  }

  /**
   * Removes a user from a public room (the session's, or `options.room`);
   * with `ban`, also keeps them out; `unban` lets them in again. Owners of
   * the room and admins only.
   */
  async moderate(
    session: Session,
    action: ModerationAction,
    targetName: string,
    options: { room?: string; reason?: string },
  ): Promise<Outcome> {
    const { store, bus, rooms, now, log } = this.#options;
    const room = options.room === undefined ? session.room : rooms.get(options.room) ?? null;
    if (!room) {
      return options.room === undefined ? { status: "NOT_IN_ROOM" } : { status: "NO_SUCH_ROOM" };
    }
    const by = session.user!;
    if (room.kind !== "room" || !this.mayModerate(by, room.owner)) {
      return { status: "NOT_ALLOWED", reason: "only the room's owner and admins may" };
    }
    const target = targetName.normalize("NFC");
    const reason = options.reason ?? "";
    const problem = reasonProblem(reason);
    if (problem) return { status: "BAD_REQUEST", reason: problem };
    if (action !== "unban" && target === by) {
      return { status: "NOT_ALLOWED", reason: `you cannot ${action} yourself` };
    }
    const here = this.#inRoom(room, target);
    const roster = this.#options.roster;
    // or in the room on other servers of a cluster (one of which takes them out and tells it)
    const servers = here || action === "unban" || !roster
      ? []
      : await roster.serversIn(target, room.place);
    const teller = servers.find((node) => node !== roster?.node);
    const inRoom = here || servers.length > 0;
    if (action === "kick" && !inRoom) return { status: "NO_SUCH_USER" };
    if (action === "kick") {
      const told = this.#inRoom(room, target); // taken out below, at once
      bus.share({ type: "kicked", room: room.name, user: target, by, reason, told, teller });
    }
    if (action === "ban" && !inRoom && !(await this.#accountExists(target))) {
      return { status: "NO_SUCH_USER", reason: "no user has that name" };
    }
    if (action === "unban") {
      if (!this.banOf(room.name, target)) return { status: "NO_SUCH_USER" };
      await store.unban(room.name, target);
      this.#lift(room.name, target);
      bus.share({ type: "unbanned", room: room.name, user: target });
    }
    if (action === "ban") {
      const ban = { room: room.name, user: target, bannedBy: by, reason, time: now() };
      await store.ban(ban);
      this.#ban(ban);
      bus.share({ type: "banned", ban, told: this.#inRoom(room, target), teller });
    }
    // in the room still (or again) once the ban is stored
    if (action !== "unban" && this.#inRoom(room, target)) {
      await this.#remove(target, room, by, reason, action === "ban");
    }
    log(
      `${action} room=${JSON.stringify(room.name)} user=${JSON.stringify(target)} by=${
        JSON.stringify(by)
      }`,
    );
    return { status: "OK" };
  }

  /**
   * Takes over a ban another server made: records it, and takes the user
   * out of the room if they are in it here.
   */
  adoptBan(ban: BanRecord): void {
    this.#ban(ban);
    this.#removeHere(ban.room, ban.user, ban.bannedBy, ban.reason, true);
  }

  /**
   * Begins taking over the bans stored, after the link between the servers
   * was down (notes of bans and unbans may be lost): give the function
   * returned the bans the store holds, read after this call (or null when
   * reading failed). A ban made or lifted here meanwhile is left as it is
   * (the store may have been read before it); others are made (see
   * {@link adoptBan}) or lifted to agree with the store. A ban is in the
   * store before it is here (and out of it before it leaves here), so none
   * known at the call is missing from the store unless it was lifted.
   */
  catchUpBans(): (stored: readonly BanRecord[] | null) => { made: number; lifted: number } {
    const end = this.#meanwhile.begin();
    return (stored) => {
      const changed = end();
      const counts = { made: 0, lifted: 0 };
      if (stored === null) return counts;
      const kept = new Set<string>();
      for (const ban of stored) {
        const key = roomUserKey(ban.room, ban.user);
        kept.add(key);
        if (changed.has(key) || this.#bans.get(ban.room)?.has(ban.user)) continue;
        this.adoptBan(ban);
        counts.made++;
      }
      for (const [room, bans] of this.#bans) {
        for (const user of bans.keys()) {
          const key = roomUserKey(room, user);
          if (kept.has(key) || changed.has(key)) continue;
          bans.delete(user);
          counts.lifted++;
        }
      }
      return counts;
    };
  }

  /** Takes over a kick on another server: takes the user out of the room if they are in it here. */
  adoptKick(room: string, user: string, by: string, reason: string): void {
    this.#removeHere(room, user, by, reason, false);
  }

  /** Takes a user out of a room of this server if they are in it. */
  #removeHere(name: string, user: string, by: string, reason: string, banned: boolean): void {
    const room = this.#options.rooms.get(name);
    if (room && this.#inRoom(room, user)) {
      this.#remove(user, room, by, reason, banned).catch((error) =>
        this.#options.log(`removal-adopt-failed room=${JSON.stringify(name)} ${error}`)
      );
    }
  }

  /** Takes over the lifting of a ban on another server. */
  adoptUnban(room: string, user: string): void {
    this.#lift(room, user);
  }

  #lift(room: string, user: string): void {
    this.#bans.get(room)?.delete(user);
    this.#meanwhile.note(room, user);
  }

  /** Records a ban. */
  #ban(ban: BanRecord): void {
    this.#meanwhile.note(ban.room, ban.user);
    let room = this.#bans.get(ban.room);
    if (!room) this.#bans.set(ban.room, room = new Map());
    room.set(ban.user, ban);
  }

  /** Whether `user` is in a room, or (2.1) belongs to it. */
  #inRoom(room: Room, user: string): boolean {
    return room.belonging.get(nameKey(user)) === user ||
      room.members.some((member) => member.session.user === user);
  }

  /**
   * Takes a member out of a room (a 2.1 user with every session, and no
   * longer belonging), telling the room why and them that they were.
   */
  #remove(user: string, room: Room, by: string, reason: string, banned: boolean): Promise<void> {
    const { memberships, bus, now } = this.#options;
    const left = memberships.remove(
      user,
      room,
      { kind: banned ? "banned" : "kicked", by, reason },
      null,
    );
    bus.publish(
      { kind: "user", user },
      { type: "removed", place: room.place, by, reason, banned, time: now() },
      0,
    );
    return left;
  }

  /** Whether an account (enabled or not) has exactly this name; never looks up an absurd one. */
  async #accountExists(user: string): Promise<boolean> {
    return nameProblem(user) === null && await this.#options.store.getAccount(user) !== null;
  }
}

/** Why a moderator's reason is refused, or null. */
function reasonProblem(reason: string): string | null {
  if ([...reason].length > MAX_MODERATION_REASON) {
    return `Reason is longer than ${MAX_MODERATION_REASON} characters`;
  }
  const control = /\p{Cc}/u.exec(reason);
  return control ? `Reason contains the control character ${codePointName(control[0])}` : null;
}
