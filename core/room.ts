/**
 * A chat room: its members, the fan-out of its events, and the short log
 * that polling (RECV_MSG) members read from. No I/O.
 * @module
 */

import type { ChatEvent, Place } from "./events.ts";
import type { Audience } from "./fanout_bus.ts";
import type { Membership } from "./session.ts";

/** A message posted in a room, as kept for polling members. */
export interface Posted {
  /** Position in the room's sequence; increases by one per message. */
  readonly seq: number;
  /** The message's id, unique across the server. */
  readonly id: number;
  readonly from: string;
  /** Server time in milliseconds since the epoch. */
  readonly time: number;
  readonly content: string;
}

/** Bounds of a room's poll log. */
export interface PollLogLimits {
  /** Most messages kept for polling members. */
  readonly messages: number;
  /** Most UTF-16 code units of content kept for polling members. */
  readonly chars: number;
}

/**
 * A room: a public one, or a private peer chat (`group`). Messages are kept
 * only while a member polls (RECV_MSG), and then only within
 * {@link PollLogLimits}: a poller that falls further behind misses the
 * oldest messages and is told how many.
 */
export class Room {
  readonly kind: "room" | "group";
  readonly name: string;
  /** Who created it (may kick and ban), or null for a preset room or a peer chat. */
  readonly owner: string | null;
  /** Its kind and name, one object for every event that happens in it. */
  readonly place: Place;
  /** Its members, as the fan-out bus addresses them. */
  readonly audience: Audience;
  /** Sequence number the next posted message will get. */
  nextSeq = 0;
  /**
   * The users who belong to it (protocol 2.1; online or not), by the
   * nameKey of their names: whom its messages may mention.
   */
  readonly belonging = new Map<string, string>();
  /**
   * The users in a peer chat on other servers of a cluster (told by their
   * servers as they come and leave): with {@link Room.users}, everyone in it.
   */
  readonly elsewhere = new Set<string>();
  /** The users on other servers waiting to join a peer chat, as their servers told. */
  readonly asking = new Set<string>();
  /** The members in the order they came in; changed in place. */
  readonly #members: Membership[] = [];
  /** A copy of {@link Room.#members} that nothing changes, made when asked for after a change. */
  #snapshot: readonly Membership[] | null = null;
  #pollers = 0;
  /** How many users its members are: a 2.1 user may be in it with several sessions. */
  #users = 0;
  #log: Posted[] = [];
  #logChars = 0;
  readonly #limits: PollLogLimits;

  constructor(
    kind: "room" | "group",
    name: string,
    owner: string | null,
    limits: PollLogLimits,
  ) {
    this.kind = kind;
    this.name = name;
    this.owner = owner;
    this.place = { kind, name };
    this.audience = { kind: "place", place: this.place };
    this.#limits = limits;
  }

  /**
   * The members, in the order they came in: an array that is never changed,
   * so that a fan-out goes on over it while members come and go. It is
   * copied once after each change, not once per event.
   */
  get members(): readonly Membership[] {
    return this.#snapshot ??= this.#members.slice();
  }

  /** How many members (sessions) it has. */
  get size(): number {
    return this.#members.length;
  }

  /** How many users are in it. */
  get users(): number {
    return this.#users;
  }

  /**
   * The users in it, each once: those here in the order they came, then
   * (a peer chat of a cluster) those on other servers.
   */
  userNames(): string[] {
    const users = this.members.map((member) => member.session.user!);
    const here = this.size === this.#users ? users : [...new Set(users)];
    return this.elsewhere.size > 0 ? [...here, ...this.elsewhere] : here;
  }

  /**
   * Adds a member; a polling one starts reading at the next message.
   * `newUser`: no other session of its user is in the room.
   */
  add(membership: Membership, newUser = true): void {
    if (newUser) this.#users++;
    this.#members.push(membership);
    this.#snapshot = null;
    if (!membership.session.push) {
      this.#pollers++;
      membership.cursor = this.nextSeq;
    }
  }

  /** Removes a member; `lastOfUser`: no other session of its user stays. */
  remove(membership: Membership, lastOfUser = true): void {
    const at = this.#members.indexOf(membership);
    if (at < 0) return;
    if (lastOfUser) this.#users--;
    this.#members.splice(at, 1);
    this.#snapshot = null;
    if (!membership.session.push && --this.#pollers === 0) this.#clearLog();
  }

  /**
   * Delivers one event object to every pushing member but the session
   * `exceptSession` (an id; 0 for none); a posted message only to members
   * who came in before it was posted, and into the log for polling members.
   */
  deliver(event: ChatEvent, exceptSession: number): void {
    let id = Infinity;
    if (event.type === "message") {
      id = event.id;
      const seq = this.nextSeq++;
      if (this.#pollers > 0) {
        this.#append({ seq, id, from: event.from, time: event.time, content: event.text });
      }
    }
    for (const membership of this.members) {
      const session = membership.session;
      if (session.push && session.id !== exceptSession && membership.joinedAfter < id) {
        session.sink.deliver(event);
      }
    }
  }

  /**
   * The messages a polling member has not read, from its cursor on, at most
   * `maxChars` of content (but always at least one message), and how many
   * it missed because the log had dropped them.
   */
  unread(
    cursor: number,
    joinedAfter: number,
    maxChars: number,
  ): { messages: Posted[]; missed: number } {
    const firstKept = this.nextSeq - this.#log.length;
    const missed = Math.max(0, firstKept - cursor);
    const messages: Posted[] = [];
    let chars = 0;
    for (let i = Math.max(0, cursor - firstKept); i < this.#log.length; i++) {
      const posted = this.#log[i];
      if (posted.id <= joinedAfter) continue;
      chars += posted.content.length;
      if (messages.length > 0 && chars > maxChars) break;
      messages.push(posted);
    }
    return { messages, missed };
  }

  #append(posted: Posted): void {
    this.#log.push(posted);
    this.#logChars += posted.content.length;
    while (
      this.#log.length > this.#limits.messages ||
      (this.#logChars > this.#limits.chars && this.#log.length > 1)
    ) {
      this.#logChars -= this.#log.shift()!.content.length;
    }
  }

  #clearLog(): void {
    this.#log = [];
    this.#logChars = 0;
  }
}
