/**
 * A session: one client connection as the chat core sees it, whatever the
 * wire, and its memberships: the places it is in. No I/O.
 * @module
 */

import type { ChatEvent } from "./events.ts";
import type { Room } from "./room.ts";

/** What an adapter gives the core to reach one connection: where the session's events go. */
export interface SessionSink {
  /** A printable address for logs, e.g. `127.0.0.1:50412`. */
  readonly address: string;
  /** Queues an event for the connection, in its wire format; never blocks. */
  deliver(event: ChatEvent): void;
  /** Closes the connection after telling the client why. */
  close(reason: string): void;
}

/** A session's place in a room or peer chat, and what it has read there. */
export class Membership {
  readonly session: Session;
  readonly room: Room;
  /**
   * The last message id given out before the session came in: messages up
   * to it were posted before, so it never gets them, even when they reach
   * the room (on disk) after it came in.
   */
  readonly joinedAfter: number;
  /** For a polling session: the sequence number of the next message to read. */
  cursor = 0;

  constructor(session: Session, room: Room, joinedAfter: number) {
    this.session = session;
    this.room = room;
    this.joinedAfter = joinedAfter;
  }
}

/**
 * A session's memberships by place, in the order it came into them. Most
 * sessions are in one place; their one membership is kept without a Map
 * (a Map costs about 250 bytes per idle connection).
 */
export class SessionMemberships {
  #only: Membership | null = null;
  #many: Map<Room, Membership> | null = null;

  get size(): number {
    return this.#many?.size ?? (this.#only === null ? 0 : 1);
  }

  has(room: Room): boolean {
    return this.#many?.has(room) ?? this.#only?.room === room;
  }

  get(room: Room): Membership | undefined {
    if (this.#many !== null) return this.#many.get(room);
    return this.#only?.room === room ? this.#only : undefined;
  }

  set(room: Room, membership: Membership): void {
    if (this.#many !== null) this.#many.set(room, membership);
    else if (this.#only === null || this.#only.room === room) this.#only = membership;
    else {
      this.#many = new Map([[this.#only.room, this.#only], [room, membership]]);
      this.#only = null;
    }
  }

  delete(room: Room): void {
    if (this.#many !== null) this.#many.delete(room);
    else if (this.#only?.room === room) this.#only = null;
  }

  values(): IterableIterator<Membership> {
    return this.#many?.values() ?? (this.#only === null ? [] : [this.#only]).values();
  }

  keys(): IterableIterator<Room> {
    return this.#many?.keys() ?? (this.#only === null ? [] : [this.#only.room]).values();
  }
}

let lastId = 0;

/** One connection's chat state. */
export class Session {
  /** Unique per process, never 0: for logs, and to leave a session out of a fan-out. */
  readonly id: number = ++lastId;
  readonly sink: SessionSink;
  /** The logged-in user, or null before LOGIN and after LOGOUT. */
  user: string | null = null;
  /** When the session logged in (the chat's clock, ms since the epoch); 0 before. */
  loggedInAt = 0;
  /** Whether events are pushed to this connection (`Push: on` at LOGIN). */
  push = false;
  /** Whether the user is a guest: logged in by name alone, the name theirs while connected. */
  guest = false;
  /** Whether the session's client can be in a peer chat (the seeds' room-only clients cannot). */
  peerChats = true;
  /**
   * Whether the session speaks protocol 2.1 (`HELLO` with `Version: 2.1`
   * before LOGIN): it is in every place its user belongs to at once, beside
   * the user's other 2.1 sessions (devices), and signs in with tokens.
   */
  v21 = false;
  /** The hash of the sign-in token the session was given or signed in with (2.1), or null. */
  tokenHash: string | null = null;
  /**
   * The places the session is in: at most one, unless it speaks 2.1 (then
   * coming into a place leaves no other).
   */
  readonly memberships = new SessionMemberships();
  /** The membership requests act on when they name no place: the one entered last. */
  current: Membership | null = null;

  constructor(sink: SessionSink) {
    this.sink = sink;
  }

  /** The room or peer chat requests act on, if any. */
  get room(): Room | null {
    return this.current?.room ?? null;
  }

  /** The client's IP address: the sink's address without its port. */
  get ip(): string {
    const address = this.sink.address;
    const colon = address.lastIndexOf(":");
    return colon < 0 ? address : address.slice(0, colon);
  }
}
