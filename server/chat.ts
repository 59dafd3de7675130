/**
 * The chat core: accounts, online users, rooms and what happens when
 * someone logs in, joins, posts or leaves. It knows nothing about sockets,
 * bytes or storage: transports hand it {@link Session}s and it answers with
 * statuses and delivers events through each session's {@link Peer}.
 * @module
 */

import type { Message } from "../protocol/message.ts";
import { Event, Status, type StatusCode } from "../protocol/methods.ts";
import { nameProblem } from "../protocol/names.ts";
import { type PollLogLimits, type Posted, Room } from "./room.ts";
import type { Session } from "./session.ts";

/** Settings of a {@link Chat}. */
export interface ChatOptions {
  /** Accounts: user name → password. */
  accounts: ReadonlyMap<string, string>;
  /** Rooms that exist from the start. */
  rooms: readonly string[];
  /** Most users logged in at once. */
  maxOnline: number;
  /** Bounds of each room's log for polling members. */
  pollLog: PollLogLimits;
  /** The clock, in milliseconds since the epoch (injected for tests). */
  now?: () => number;
  /** Receives one line per significant event. */
  log?: (line: string) => void;
}

/** The outcome of posting a message. */
export type PostResult =
  | { status: typeof Status.OK; posted: Posted }
  | { status: StatusCode };

/** Formats a server time for the wire: ISO 8601 in UTC with milliseconds. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** The state of one chat server. */
export class Chat {
  readonly #accounts: ReadonlyMap<string, string>;
  readonly #rooms = new Map<string, Room>();
  readonly #online = new Map<string, Session>();
  readonly #maxOnline: number;
  readonly #pollLog: PollLogLimits;
  readonly #now: () => number;
  readonly #log: (line: string) => void;

  constructor(options: ChatOptions) {
    this.#accounts = options.accounts;
    this.#maxOnline = options.maxOnline;
    this.#pollLog = options.pollLog;
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? (() => {});
    for (const name of options.rooms) this.#rooms.set(name, new Room(name, this.#pollLog));
  }

  /** The current server time in milliseconds. */
  now(): number {
    return this.#now();
  }

  /** How many users are logged in. */
  get onlineCount(): number {
    return this.#online.size;
  }

  /** Logs a session in (user names are NFC-normalised first). */
  login(session: Session, username: string, password: string, push: boolean): StatusCode {
    if (session.user !== null) return Status.ALREADY_LOGIN;
    const user = username.normalize("NFC");
    const expected = this.#accounts.get(user);
    if (expected === undefined || !sameSecret(expected, password)) {
      this.#log(`login-failed session=${session.id} addr=${session.peer.address}`);
      return Status.AUTH_FAILED;
    }
    if (this.#online.has(user)) return Status.ALREADY_ONLINE;
    if (this.#online.size >= this.#maxOnline) {
      this.#log(`login-refused session=${session.id} reason=server-full`);
      return Status.SERVER_FULL;
    }
    session.user = user;
    session.push = push;
    this.#online.set(user, session);
    this.#log(`login session=${session.id} user=${JSON.stringify(user)} push=${push}`);
    return Status.OK;
  }

  /** Logs a session out, leaving its room. */
  logout(session: Session, reason?: string): StatusCode {
    if (session.user === null) return Status.NOT_LOGIN;
    this.#leaveRoom(session, reason);
    this.#online.delete(session.user);
    this.#log(
      `logout session=${session.id} user=${JSON.stringify(session.user)}` +
        (reason ? ` reason=${JSON.stringify(reason)}` : ""),
    );
    session.user = null;
    session.push = false;
    return Status.OK;
  }

  /** Forgets a session whose connection is gone (logs it out if needed). */
  disconnect(session: Session, reason: string): void {
    if (session.user !== null) this.logout(session, reason);
  }

  /** Every room with its member count, in creation order. */
  rooms(): { name: string; members: number }[] {
    return [...this.#rooms.values()].map((room) => ({
      name: room.name,
      members: room.members.size,
    }));
  }

  /** Creates a room (the name is NFC-normalised first). */
  createRoom(session: Session, name: string): { status: StatusCode; reason?: string } {
    const normalised = name.normalize("NFC");
    const problem = nameProblem(normalised);
    if (problem) return { status: Status.INVALID_NAME, reason: problem };
    if (this.#rooms.has(normalised)) return { status: Status.ROOM_EXISTS };
    this.#rooms.set(normalised, new Room(normalised, this.#pollLog));
    this.#log(`room-created room=${JSON.stringify(normalised)} by=${JSON.stringify(session.user)}`);
    return { status: Status.OK };
  }

  /** Moves a session into a room, leaving the one it was in. */
  join(session: Session, name: string): StatusCode {
    const room = this.#rooms.get(name.normalize("NFC"));
    if (!room) return Status.NO_SUCH_ROOM;
    if (session.room === room) return Status.OK;
    this.#leaveRoom(session);
    room.add(session);
    session.room = room;
    this.#broadcast(room, {
      method: Event.EVT_JOIN,
      params: { Room: room.name, User: session.user!, Time: formatTime(this.#now()) },
    }, session);
    return Status.OK;
  }

  /** Takes a session out of its room. */
  exitRoom(session: Session): StatusCode {
    if (!session.room) return Status.NOT_IN_ROOM;
    this.#leaveRoom(session);
    return Status.OK;
  }

  /** The members of the session's room, or null when it is in none. */
  members(session: Session): string[] | null {
    if (!session.room) return null;
    return [...session.room.members].map((member) => member.user!);
  }

  /** Posts a message to the session's room and pushes it to the others. */
  post(session: Session, content: string): PostResult {
    const room = session.room;
    if (!room) return { status: Status.NOT_IN_ROOM };
    const posted = room.post(session.user!, this.#now(), content);
    this.#broadcast(room, {
      method: Event.EVT_MSG,
      params: {
        Room: room.name,
        From: posted.from,
        Time: formatTime(posted.time),
        Id: String(posted.seq),
      },
      content,
    }, session);
    return { status: Status.OK, posted };
  }

  /** What a polling session has not read yet; advances its cursor. */
  receive(
    session: Session,
    maxChars: number,
  ): { status: StatusCode; messages: Posted[]; missed: number } {
    const room = session.room;
    if (!room) return { status: Status.NOT_IN_ROOM, messages: [], missed: 0 };
    if (session.push) return { status: Status.NO_NEW_MSG, messages: [], missed: 0 };
    const { messages, missed } = room.unread(session.cursor, maxChars);
    session.cursor = messages.length > 0 ? messages[messages.length - 1].seq + 1 : room.nextSeq;
    const status = messages.length > 0 ? Status.OK : Status.NO_NEW_MSG;
    return { status, messages, missed };
  }

  #leaveRoom(session: Session, reason?: string): void {
    const room = session.room;
    if (!room) return;
    room.remove(session);
    session.room = null;
    const params: Record<string, string> = {
      Room: room.name,
      User: session.user!,
      Time: formatTime(this.#now()),
    };
    if (reason) params.Reason = reason;
    this.#broadcast(room, { method: Event.EVT_LEAVE, params });
  }

  /** Delivers one event object to every pushing member but `except`. */
  #broadcast(room: Room, event: Message, except?: Session): void {
    for (const member of room.members) {
      if (member.push && member !== except) member.peer.deliver(event);
    }
  }
}

/** Compares two secrets in time that depends only on their lengths. */
function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
