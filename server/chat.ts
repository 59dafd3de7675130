/**
 * The chat core: accounts, online users, rooms and what happens when
 * someone registers, logs in, joins, posts or leaves. It knows nothing about
 * sockets, bytes or SQL: transports hand it {@link Session}s, it keeps
 * durable state through a {@link ChatStore}, answers with statuses and
 * delivers events through each session's {@link Peer}.
 * @module
 */

import type { Message } from "../protocol/message.ts";
import { Event, Status, type StatusCode } from "../protocol/methods.ts";
import { nameProblem } from "../protocol/names.ts";
import type { MessageRecord, SearchHit } from "../store/records.ts";
import type { ChatStore, StoredState } from "../store/store.ts";
import { decoyHash, DEFAULT_SCRYPT_COST, hashPassword, verifyPassword } from "./passwords.ts";
import { type PollLogLimits, type Posted, Room } from "./room.ts";
import type { Session } from "./session.ts";

/** Settings of a {@link Chat}. */
export interface ChatOptions {
  /** Where accounts, rooms and messages are kept. */
  store: ChatStore;
  /** What the store held at start-up. */
  state: StoredState;
  /** Most users logged in at once. */
  maxOnline: number;
  /** Bounds of each room's log for polling members. */
  pollLog: PollLogLimits;
  /** scrypt cost N for new password hashes. */
  scryptCost?: number;
  /** The clock, in milliseconds since the epoch (injected for tests). */
  now?: () => number;
  /** Receives one line per significant event. */
  log?: (line: string) => void;
}

/** The outcome of posting a message. */
export type PostResult =
  | { status: typeof Status.OK; posted: Posted }
  | { status: StatusCode };

/** A status with an optional explanation. */
export interface Outcome {
  status: StatusCode;
  reason?: string;
}

/** Shortest password REGISTER accepts, in characters. */
export const MIN_PASSWORD_LENGTH = 8;
/** Longest password accepted, in characters. */
export const MAX_PASSWORD_LENGTH = 1024;

/** Formats a server time for the wire: ISO 8601 in UTC with milliseconds. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** Returns why a password is too weak for REGISTER, or null. */
export function passwordProblem(password: string, user: string): string | null {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) {
    return `password is shorter than ${MIN_PASSWORD_LENGTH} characters`;
  }
  if (length > MAX_PASSWORD_LENGTH) {
    return `password is longer than ${MAX_PASSWORD_LENGTH} characters`;
  }
  if (password.toLowerCase().includes(user.toLowerCase())) return "password contains the user name";
  if (new Set(password).size < 3) return "password has fewer than 3 different characters";
  return null;
}

/** The state of one chat server. */
export class Chat {
  readonly #store: ChatStore;
  readonly #rooms = new Map<string, Room>();
  readonly #online = new Map<string, Session>();
  readonly #maxOnline: number;
  readonly #pollLog: PollLogLimits;
  readonly #scryptCost: number;
  readonly #decoy: string;
  readonly #now: () => number;
  readonly #log: (line: string) => void;
  #lastMessageId: number;
  /** Settles once the latest post has reached its room (or failed). */
  #lastPost: Promise<unknown> = Promise.resolve();

  constructor(options: ChatOptions) {
    this.#store = options.store;
    this.#maxOnline = options.maxOnline;
    this.#pollLog = options.pollLog;
    this.#scryptCost = options.scryptCost ?? DEFAULT_SCRYPT_COST;
    this.#decoy = decoyHash(this.#scryptCost);
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? (() => {});
    this.#lastMessageId = options.state.lastMessageId;
    for (const { name } of options.state.rooms) {
      this.#rooms.set(name, new Room(name, this.#pollLog));
    }
  }

  /** The current server time in milliseconds. */
  now(): number {
    return this.#now();
  }

  /** How many users are logged in. */
  get onlineCount(): number {
    return this.#online.size;
  }

  /** Creates an account (the name is NFC-normalised first). */
  async register(username: string, password: string): Promise<Outcome> {
    const user = username.normalize("NFC");
    const problem = nameProblem(user);
    if (problem) return { status: Status.INVALID_NAME, reason: problem };
    const weakness = passwordProblem(password, user);
    if (weakness) return { status: Status.WEAK_PASSWORD, reason: weakness };
    const passwordHash = await hashPassword(password, this.#scryptCost);
    const created = await this.#store.createAccount({
      name: user,
      passwordHash,
      source: "registered",
      disabled: false,
      createdAt: this.#now(),
    });
    if (!created) return { status: Status.NAME_TAKEN };
    this.#log(`registered user=${JSON.stringify(user)}`);
    return { status: Status.OK };
  }

  /**
   * Logs a session in (the user name is NFC-normalised first). Unknown users
   * cost as much time as wrong passwords, so the answer does not tell which.
   */
  async login(
    session: Session,
    username: string,
    password: string,
    push: boolean,
  ): Promise<StatusCode> {
    if (session.user !== null) return Status.ALREADY_LOGIN;
    const user = username.normalize("NFC");
    const account = await this.#store.getAccount(user);
    const matches = await verifyPassword(password, account?.passwordHash ?? this.#decoy);
    if (!account || account.disabled || !matches) {
      this.#log(`login-failed session=${session.id} addr=${session.peer.address}`);
      return Status.AUTH_FAILED;
    }
    if (session.user !== null) return Status.ALREADY_LOGIN;
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

  /** Creates a room owned by the session's user (the name is NFC-normalised first). */
  async createRoom(session: Session, name: string): Promise<Outcome> {
    const normalised = name.normalize("NFC");
    const problem = nameProblem(normalised);
    if (problem) return { status: Status.INVALID_NAME, reason: problem };
    if (this.#rooms.has(normalised)) return { status: Status.ROOM_EXISTS };
    // taken at once, so that a second CREATE_ROOM meanwhile sees it
    this.#rooms.set(normalised, new Room(normalised, this.#pollLog));
    const createdBy = session.user!;
    try {
      await this.#store.createRoom({ name: normalised, createdBy, createdAt: this.#now() });
    } catch (error) {
      this.#rooms.delete(normalised);
      throw error;
    }
    this.#log(`room-created room=${JSON.stringify(normalised)} by=${JSON.stringify(createdBy)}`);
    return { status: Status.OK };
  }

  /**
   * Moves a session into a room, leaving the one it was in; resolves once
   * the membership is recorded.
   */
  join(session: Session, name: string): StatusCode | Promise<StatusCode> {
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
    return this.#store.addMembership(room.name, session.user!, this.#now()).then(() => Status.OK);
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

  /**
   * Posts a message to the session's room. The message gets its id at once;
   * it reaches the room (pushed to the others, kept for pollers) and the
   * result resolves only once the store has it on disk.
   */
  post(session: Session, content: string): PostResult | Promise<PostResult> {
    const room = session.room;
    if (!room) return { status: Status.NOT_IN_ROOM };
    const record: MessageRecord = {
      id: ++this.#lastMessageId,
      room: room.name,
      sender: session.user!,
      time: this.#now(),
      content,
    };
    const done = this.#store.appendMessage(record).then(() => {
      const posted = room.post(record.id, record.sender, record.time, content);
      this.#broadcast(room, {
        method: Event.EVT_MSG,
        params: {
          Room: room.name,
          From: posted.from,
          Time: formatTime(posted.time),
          Id: String(posted.id),
        },
        content,
      }, session);
      const result: PostResult = { status: Status.OK, posted };
      return result;
    });
    this.#lastPost = done.catch(() => {});
    return done;
  }

  /**
   * What a polling session has not read yet; advances its cursor. Waits
   * for messages posted before the call to reach the room first.
   */
  async receive(
    session: Session,
    maxChars: number,
  ): Promise<{ status: StatusCode; messages: Posted[]; missed: number }> {
    if (!session.room) return { status: Status.NOT_IN_ROOM, messages: [], missed: 0 };
    await this.#lastPost;
    const room = session.room;
    if (!room) return { status: Status.NOT_IN_ROOM, messages: [], missed: 0 };
    if (session.push) return { status: Status.NO_NEW_MSG, messages: [], missed: 0 };
    const { messages, missed } = room.unread(session.cursor, maxChars);
    session.cursor = messages.length > 0 ? messages[messages.length - 1].seq + 1 : room.nextSeq;
    const status = messages.length > 0 ? Status.OK : Status.NO_NEW_MSG;
    return { status, messages, missed };
  }

  /** The latest messages of the session's room before `beforeId`, oldest first. */
  async history(
    session: Session,
    beforeId: number | null,
    limit: number,
  ): Promise<{ status: StatusCode; room?: string; messages: MessageRecord[]; more: boolean }> {
    const room = session.room;
    if (!room) return { status: Status.NOT_IN_ROOM, messages: [], more: false };
    const page = await this.#store.history(room.name, beforeId, limit + 1);
    const more = page.length > limit;
    return { status: Status.OK, room: room.name, messages: more ? page.slice(1) : page, more };
  }

  /** Searches the messages of the rooms the session's user has been in. */
  search(session: Session, query: string, limit: number): Promise<SearchHit[]> {
    return this.#store.search(session.user!, query, limit);
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
