/**
 * A chat room: its members and the short log that polling (RECV_MSG)
 * members read from. No I/O.
 * @module
 */

import type { Place } from "./events.ts";
import type { Session } from "./session.ts";

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
  /** Who created it (may kick and ban), or null for a preset room or a group. */
  readonly owner: string | null;
  /** Its kind and name, one object for every event that happens in it. */
  readonly place: Place;
  readonly members: Set<Session> = new Set();
  /** Sequence number the next posted message will get. */
  nextSeq = 0;
  #pollers = 0;
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
    this.#limits = limits;
  }

  /** Adds a member; a polling one starts reading at the next message. */
  add(session: Session): void {
    this.members.add(session);
    if (!session.push) {
      this.#pollers++;
      session.cursor = this.nextSeq;
    }
  }

  /** Removes a member. */
  remove(session: Session): void {
    if (!this.members.delete(session)) return;
    if (!session.push && --this.#pollers === 0) this.#clearLog();
  }

  /** Records a posted message; returns it with its sequence number. */
  post(id: number, from: string, time: number, content: string): Posted {
    const posted = { seq: this.nextSeq++, id, from, time, content };
    if (this.#pollers > 0) this.#append(posted);
    return posted;
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
