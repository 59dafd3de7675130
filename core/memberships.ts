/**
 * Coming into places and leaving them: what the others are told, what is
 * stored, and what ends with it — a peer chat left with one member ends,
 * and a session that moves withdraws its request to join a peer chat.
 * A session of protocol 2.0 (or the original) is in one place at a time:
 * coming into one leaves the others. A 2.1 session is in every place its
 * user belongs to, beside the user's other 2.1 sessions; which public rooms
 * a user belongs to is stored, and lasts from one session to the next
 * (presence, who is connected, stays apart: a 2.1 session coming and going
 * is told to nobody). No I/O but through the store.
 * @module
 */

import { nameKey } from "../protocol/names.ts";
import type { ChatStore } from "../store/store.ts";
import { ChangesMeanwhile, roomUserKey } from "./changes_meanwhile.ts";
import { type LeaveCause, LEFT, MOVED } from "./events.ts";
import type { FanoutBus } from "./fanout_bus.ts";
import type { Invitations } from "./invitations.ts";
import type { MessageIds } from "./message_ids.ts";
import type { Presence } from "./presence.ts";
import type { Room } from "./room.ts";
import type { Rooms } from "./rooms.ts";
import { Membership, type Session } from "./session.ts";

/** Settings of {@link Memberships}. */
export interface MembershipsOptions {
  store: ChatStore;
  bus: FanoutBus;
  invitations: Invitations;
  ids: MessageIds;
  presence: Presence;
  /** Forgets the peer chats nobody here is in any more. */
  rooms: Rooms;
  now: () => number;
}

const NO_ROOMS: ReadonlySet<Room> = new Set();

/** A settled promise's value, not wanted. */
function ignore(): void {}

/** Who is in which place. */
export class Memberships {
  readonly #options: MembershipsOptions;
  /** The public rooms each user belongs to (2.1), in the order they came to belong. */
  readonly #belongs = new Map<string, Set<Room>>();
  /** Belonging changed while a catch-up runs (see {@link Memberships.catchUpBelonging}). */
  readonly #meanwhile = new ChangesMeanwhile();

  constructor(options: MembershipsOptions) {
    this.#options = options;
  }

  /** Takes in that a user belongs to a public room, as stored. */
  restore(room: Room, user: string): void {
    this.#belong(room, user);
  }

  /**
   * Takes over whether a user belongs to a public room from another server
   * (which told everyone and stored it), so that mentions and member lists
   * here see it: the user's 2.1 sessions here come into the room (the
   * current place of one in none), or leave it, telling nobody (that server
   * tells the room and the user's sessions, after this).
   */
  adoptBelonging(room: Room, user: string, belongs: boolean): void {
    if (belongs) this.#belong(room, user);
    else if (!this.#unbelong(room, user)) return;
    const last = this.#options.ids.last;
    for (const session of this.#options.presence.sessionsOf(user)) {
      if (!session.v21) continue;
      const membership = session.memberships.get(room);
      if (!belongs && membership) this.#remove(membership);
      else if (belongs && !membership) {
        const added = this.#add(session, room, last);
        if (session.current === null) session.current = added;
      }
    }
  }

  /**
   * Ends a user's belonging to a public room without telling anyone, here
   * and on the other servers: for one who is banned from it (the ban and
   * their joining crossed between servers). Resolves once stored.
   */
  forget(room: Room, user: string): Promise<void> {
    if (!this.#unbelong(room, user)) return Promise.resolve();
    const { store, bus, now } = this.#options;
    bus.share({ type: "belonging", room: room.name, user, belongs: false });
    return store.setBelonging(room.name, user, false, now());
  }

  /**
   * Begins taking over who belongs to which public room as stored, after
   * the link between the servers was down (notes of belonging may be
   * lost): give the function returned the belongings the store holds, read
   * after this call, and how to find a room by name (or null when reading
   * failed). A belonging that changed here meanwhile is left as it is;
   * others are taken over as from another server (see {@link adoptBelonging}).
   */
  catchUpBelonging(): (
    stored: readonly { room: string; user: string }[] | null,
    roomNamed: (name: string) => Room | undefined,
  ) => { joined: number; left: number } {
    const end = this.#meanwhile.begin();
    return (stored, roomNamed) => {
      const changed = end();
      const counts = { joined: 0, left: 0 };
      if (stored === null) return counts;
      const meanwhile = (room: Room, user: string) => changed.has(roomUserKey(room.name, user));
      const kept = new Map<string, Set<Room>>();
      for (const { room: name, user } of stored) {
        const room = roomNamed(name);
        if (room === undefined) continue;
        const rooms = kept.get(user);
        if (rooms) rooms.add(room);
        else kept.set(user, new Set([room]));
        if (this.#belongs.get(user)?.has(room) || meanwhile(room, user)) continue;
        this.adoptBelonging(room, user, true);
        counts.joined++;
      }
      for (const [user, rooms] of [...this.#belongs]) {
        for (const room of [...rooms]) {
          if (kept.get(user)?.has(room) || meanwhile(room, user)) continue;
          this.adoptBelonging(room, user, false);
          counts.left++;
        }
      }
      return counts;
    };
  }

  /** The public rooms a user belongs to (2.1), in the order they came to belong. */
  roomsOf(user: string): ReadonlySet<Room> {
    return this.#belongs.get(user) ?? NO_ROOMS;
  }

  /**
   * The membership of a session that a request acts on: its current one,
   * or in a 2.1 session the one in the place named `name` (a public room
   * before a peer chat of the same name); null when it is in none.
   */
  find(session: Session, name?: string): Membership | null {
    if (name === undefined || !session.v21) return session.current;
    const wanted = name.normalize("NFC");
    let found: Membership | null = null;
    for (const membership of session.memberships.values()) {
      if (membership.room.name !== wanted) continue;
      if (membership.room.kind === "room") return membership;
      found = membership;
    }
    return found;
  }

  /**
   * Moves a session into a room or peer chat, leaving where it was; resolves
   * once the membership is stored (for a peer chat, with the last message id
   * before the coming in: the session reads only what comes after).
   */
  moveTo(session: Session, room: Room): Promise<void> {
    const { store, bus, ids, now } = this.#options;
    this.leaveAll(session, MOVED);
    const membership = this.#add(session, room, ids.last);
    session.current = membership;
    bus.publish(room.audience, {
      type: "joined",
      place: room.place,
      user: session.user!,
      time: now(),
    }, session.id);
    const joinedAfter = room.kind === "group" ? membership.joinedAfter : 0;
    return store.addMembership(room.kind, room.name, session.user!, now(), joinedAfter);
  }

  /**
   * A 2.1 session comes online: into every public room its user belongs
   * to, and every peer chat the user's other sessions are in, telling
   * nobody. The first of them becomes its current place.
   */
  arrive(session: Session): void {
    const user = session.user!;
    const last = this.#options.ids.last;
    for (const room of this.roomsOf(user)) this.#add(session, room, last);
    for (const other of this.#options.presence.sessionsOf(user)) {
      for (const { room, joinedAfter } of other.memberships.values()) {
        if (room.kind === "group" && !session.memberships.has(room)) {
          this.#add(session, room, joinedAfter);
        }
      }
    }
    session.current = session.memberships.values().next().value ?? null;
  }

  /**
   * 2.1: the user of `session` comes into a room or peer chat with every
   * one of their 2.1 sessions; it becomes the current place of `session`
   * when `current`, and of any session that had none. Its members, the user's other
   * sessions among them, are told. The user belongs to a public room from
   * now on, and has read what was said before. Resolves once stored.
   */
  join(session: Session, room: Room, current: boolean): Promise<void> {
    const { store, bus, ids, presence, now } = this.#options;
    const user = session.user!;
    const joinedAfter = ids.last;
    for (const device of presence.sessionsOf(user)) {
      if (device.memberships.has(room)) continue;
      const membership = this.#add(device, room, joinedAfter);
      if (device.current === null) device.current = membership;
    }
    if (current) session.current = session.memberships.get(room)!;
    const time = now();
    if (room.kind === "room") {
      this.#belong(room, user);
      // first, so that the user's sessions on other servers are in the room when it is told
      bus.share({ type: "belonging", room: room.name, user, belongs: true });
    }
    bus.publish(room.audience, { type: "joined", place: room.place, user, time }, session.id);
    const stored = room.kind === "room"
      ? store.setBelonging(room.name, user, true, time)
      : store.addMembership(room.kind, room.name, user, time, joinedAfter);
    const read = store.markRead(room.kind, room.name, user, joinedAfter);
    return Promise.all([stored, read]).then(ignore);
  }

  /**
   * Takes a user out of a place with all of their sessions (a 2.1 user
   * leaving, or anyone kicked or banned): its members are told once, and
   * when the user left on purpose their other sessions but `asking` too. A
   * user who belonged to a public room belongs no more. Resolves once
   * stored.
   */
  remove(user: string, room: Room, cause: LeaveCause, asking: Session | null): Promise<void> {
    const { store, bus, presence, now } = this.#options;
    const members = presence.sessionsOf(user).filter((session) => session.memberships.has(room));
    // a session of one room at a time leaves as it always has
    const single = members.length === 1 && !members[0].v21 ? members[0] : null;
    if (single) this.leave(single.memberships.get(room)!, cause);
    else for (const session of members) this.#remove(session.memberships.get(room)!);
    const belonged = room.kind === "room" && this.#unbelong(room, user);
    // first, so that the user's sessions on other servers are out of the room when it is told
    if (belonged) bus.share({ type: "belonging", room: room.name, user, belongs: false });
    if (!single && (members.length > 0 || belonged)) {
      const left = { type: "left", place: room.place, user, time: now(), cause } as const;
      bus.publish(room.audience, left, 0);
      if (cause.kind === "left") bus.publish({ kind: "user", user }, left, asking?.id ?? 0);
      this.endIfAlone(room);
    }
    if (!belonged) return Promise.resolve();
    return store.setBelonging(room.name, user, false, now());
  }

  /**
   * Takes the session out of every place, and withdraws its request to
   * join a peer chat. A 2.1 session goes silently, unless it is the last of
   * its user in a peer chat: then the user leaves it.
   */
  leaveAll(session: Session, cause: LeaveCause): void {
    this.#options.invitations.withdrawRequestOf(session);
    for (const membership of session.memberships.values()) {
      if (!session.v21 || (membership.room.kind === "group" && this.#lastOfUser(membership))) {
        this.#leave(membership, cause);
      } else {
        this.#remove(membership);
      }
    }
  }

  /** Takes a session out of one place, and withdraws its request to join a peer chat. */
  leave(membership: Membership, cause: LeaveCause): void {
    this.#options.invitations.withdrawRequestOf(membership.session);
    this.#leave(membership, cause);
  }

  /** Takes a member out, telling the rest; a peer chat of one ends. */
  #leave(membership: Membership, cause: LeaveCause): void {
    const { bus, now } = this.#options;
    const { session, room } = membership;
    this.#remove(membership);
    bus.publish(room.audience, {
      type: "left",
      place: room.place,
      user: session.user!,
      time: now(),
      cause,
    }, 0);
    this.endIfAlone(room);
  }

  /**
   * Ends a peer chat left with one member (here: its others on other
   * servers of a cluster have left too, as far as this server has heard),
   * telling them. Their leaving is published too: it reaches nobody unless
   * someone came in on another server meanwhile, whose peer chat then ends
   * as well.
   */
  endIfAlone(peerChat: Room): void {
    if (peerChat.kind !== "group" || peerChat.users !== 1 || peerChat.elsewhere.size > 0) return;
    const { bus, now } = this.#options;
    const members = peerChat.members;
    for (const member of members) this.#remove(member);
    this.#options.invitations.withdrawRequestsTo(peerChat);
    const user = members[0].session.user!;
    const time = now();
    bus.publish(
      peerChat.audience,
      { type: "left", place: peerChat.place, user, time, cause: LEFT },
      0,
    );
    bus.publish(
      { kind: "user", user },
      { type: "peer-chat-ended", place: peerChat.place, time },
      0,
    );
  }

  #add(session: Session, room: Room, joinedAfter: number): Membership {
    const membership = new Membership(session, room, joinedAfter);
    room.add(membership, this.#lastOfUser(membership));
    session.memberships.set(room, membership);
    return membership;
  }

  #remove(membership: Membership): void {
    const { session, room } = membership;
    room.remove(membership, this.#lastOfUser(membership));
    session.memberships.delete(room);
    if (session.current === membership) session.current = null;
    if (room.kind === "group" && room.size === 0 && !this.#options.invitations.awaits(room)) {
      this.#options.rooms.forget(room);
    }
  }

  /** Whether no other session of the member's user is in its place. */
  #lastOfUser({ session, room }: Membership): boolean {
    const sessions = this.#options.presence.sessionsOf(session.user!);
    if (sessions.length < 2) return true;
    return !sessions.some((other) => other !== session && other.memberships.has(room));
  }

  #belong(room: Room, user: string): void {
    this.#meanwhile.note(room.name, user);
    room.belonging.set(nameKey(user), user);
    const rooms = this.#belongs.get(user);
    if (rooms) rooms.add(room);
    else this.#belongs.set(user, new Set([room]));
  }

  /** Ends a user's belonging to a room; false when they did not belong. */
  #unbelong(room: Room, user: string): boolean {
    const rooms = this.#belongs.get(user);
    if (!rooms?.delete(room)) return false;
    this.#meanwhile.note(room.name, user);
    if (rooms.size === 0) this.#belongs.delete(user);
    const key = nameKey(user);
    if (room.belonging.get(key) === user) room.belonging.delete(key);
    return true;
  }
}
