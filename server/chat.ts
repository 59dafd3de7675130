/**
 * The chat core: accounts, online users, rooms, peer chats and direct
 * messages, and what happens when someone registers, logs in, joins, posts,
 * leaves, or is kicked. It knows nothing about sockets, bytes or SQL:
 * transports hand it {@link Session}s, it keeps durable state through a
 * {@link ChatStore}, answers with statuses and delivers events through each
 * session's {@link Peer}.
 * @module
 */

import type { Message } from "../protocol/message.ts";
import { Event, Status, type StatusCode } from "../protocol/methods.ts";
import { nameKey, nameProblem } from "../protocol/names.ts";
import type { MessageRecord, RoomKind, SearchPage } from "../store/records.ts";
import type { ChatStore, StoredState } from "../store/store.ts";
import { DEFAULT_FLOOD_LIMITS, FloodControl, type FloodLimits } from "./flood_control.ts";
import { Moderation } from "./moderation.ts";
import { decoyHash, DEFAULT_SCRYPT_COST, hashPassword, verifyPassword } from "./passwords.ts";
import { type PollLogLimits, type Posted, Room } from "./room.ts";
import { DEFAULT_SEARCH_LIMITS, type SearchLimits, SearchSlots } from "./search_slots.ts";
import type { Session } from "./session.ts";

/** What to do when a user logs in who is online on another connection. */
export type DuplicateLoginPolicy = "refuse" | "replace";

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
  /** Users who may kick and ban in every room. */
  admins?: ReadonlySet<string>;
  /** `refuse` (default): ALREADY_ONLINE; `replace`: the older connection is closed. */
  duplicateLogin?: DuplicateLoginPolicy;
  /** scrypt cost N for new password hashes. */
  scryptCost?: number;
  /** Message rate and failed-login limits. Default {@link DEFAULT_FLOOD_LIMITS}. */
  floodLimits?: FloodLimits;
  /** Most rooms one user may own (create); admins are not limited. Default 100. */
  maxRoomsPerUser?: number;
  /** How many searches run at once, and how far each looks. Default {@link DEFAULT_SEARCH_LIMITS}. */
  searchLimits?: SearchLimits;
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
  /** With RATE_LIMITED: how many milliseconds until trying again may succeed. */
  retryAfterMs?: number;
}

/** The outcome of a direct message: its id and time when it was sent. */
export type DirectOutcome = Outcome & { id?: number; time?: number };

/** The outcome of a search: with OK, a page of results. */
export type SearchOutcome = Outcome & { page?: SearchPage };

/** Where an online user is, for WHO. */
export interface Whereabouts {
  user: string;
  /** `room` or `group` (a peer chat), or `idle` when in neither. */
  place: "room" | "group" | "idle";
  /** The room or peer chat name; empty when idle. */
  name: string;
  /** The connection's address, for the operator. */
  address: string;
}

/** Most rooms a user may own unless told otherwise. */
export const DEFAULT_MAX_ROOMS_PER_USER = 100;

/**
 * What RATE_LIMITED says to retry after when a search may not wait for its
 * turn: about what a few searches take.
 */
export const SEARCH_RETRY_MS = 500;

/** Shortest password REGISTER accepts, in characters. */
export const MIN_PASSWORD_LENGTH = 8;
/** Longest password accepted, in characters. */
export const MAX_PASSWORD_LENGTH = 1024;

let lastFormatted = { ms: NaN, text: "" };

/** Formats a server time for the wire: ISO 8601 in UTC with milliseconds. */
export function formatTime(ms: number): string {
  // under load many messages share a millisecond; toISOString showed in profiles
  if (ms !== lastFormatted.ms) lastFormatted = { ms, text: new Date(ms).toISOString() };
  return lastFormatted.text;
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
  if ([...user].length >= 3 && password.toLowerCase().includes(user.toLowerCase())) {
    return "password contains the user name";
  }
  if (new Set(password).size < 3) return "password has fewer than 3 different characters";
  if (/\p{Cc}/u.test(password)) return "password contains a control character";
  return null;
}

/** Longest reason a moderator may give for a kick or ban, in characters. */
export const MAX_MODERATION_REASON = 200;

/** A settled promise's outcome, not wanted. */
function ignore(): void {}

/** Why a user is not reachable; never repeats an absurd name back at length. */
function offlineReason(user: string): string {
  return nameProblem(user) ? "no such user" : `${user} is not online`;
}

/** A user name for a log line: quoted, or a placeholder when it is no valid name. */
function loggedName(user: string): string {
  return nameProblem(user) ? '"(invalid name)"' : JSON.stringify(user);
}

/** The RATE_LIMITED outcome. */
function rateLimited(waitMs: number, reason: string): Outcome {
  return { status: Status.RATE_LIMITED, reason, retryAfterMs: waitMs };
}

/** The name of the direct conversation of two users: the same whoever writes first. */
export function directRoomName(a: string, b: string): string {
  return a < b ? `${a} ↔ ${b}` : `${b} ↔ ${a}`;
}

/** The state of one chat server. */
export class Chat {
  readonly #store: ChatStore;
  readonly #rooms = new Map<string, Room>();
  readonly #online = new Map<string, Session>();
  readonly #maxOnline: number;
  readonly #pollLog: PollLogLimits;
  readonly #duplicateLogin: DuplicateLoginPolicy;
  readonly #scryptCost: number;
  readonly #decoy: string;
  readonly #now: () => number;
  readonly #log: (line: string) => void;
  readonly #moderation: Moderation;
  readonly #flood: FloodControl;
  readonly #maxRoomsPerUser: number;
  readonly #searches: SearchSlots;
  readonly #scanLimit: number;
  #lastMessageId: number;
  #groupsCreated = 0;
  /** Settles once the latest post has reached its room (or failed). */
  #lastPost: Promise<unknown> = Promise.resolve();

  constructor(options: ChatOptions) {
    this.#store = options.store;
    this.#maxOnline = options.maxOnline;
    this.#pollLog = options.pollLog;
    this.#duplicateLogin = options.duplicateLogin ?? "refuse";
    this.#scryptCost = options.scryptCost ?? DEFAULT_SCRYPT_COST;
    this.#decoy = decoyHash(this.#scryptCost);
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? (() => {});
    this.#lastMessageId = options.state.lastMessageId;
    this.#moderation = new Moderation(options.admins ?? new Set(), options.state.bans);
    this.#flood = new FloodControl(options.floodLimits ?? DEFAULT_FLOOD_LIMITS);
    this.#maxRoomsPerUser = options.maxRoomsPerUser ?? DEFAULT_MAX_ROOMS_PER_USER;
    const searchLimits = options.searchLimits ?? DEFAULT_SEARCH_LIMITS;
    this.#searches = new SearchSlots(searchLimits);
    this.#scanLimit = searchLimits.scanLimit;
    for (const { name, createdBy } of options.state.rooms) {
      this.#rooms.set(name, new Room("room", name, createdBy, this.#pollLog));
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

  /**
   * Creates an account (the name is NFC-normalised first). Refused
   * registrations slow down further ones from the same address.
   */
  async register(session: Session, username: string, password: string): Promise<Outcome> {
    const wait = this.#flood.registerWait(session.ip, this.#now());
    if (wait > 0) return rateLimited(wait, "too many refused registrations from this address");
    const outcome = await this.#createAccount(username, password);
    if (outcome.status !== Status.OK) {
      this.#flood.registerFailed(session.ip, this.#now());
      this.#log(
        `register-refused session=${session.id} addr=${session.peer.address} status=${outcome.status}`,
      );
    }
    return outcome;
  }

  async #createAccount(username: string, password: string): Promise<Outcome> {
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
  ): Promise<Outcome> {
    if (session.user !== null) return { status: Status.ALREADY_LOGIN };
    const user = username.normalize("NFC");
    // an absurd name is no account: it must not become a megabyte-long key either
    const key = nameProblem(user) ? "(invalid name)" : nameKey(user);
    const wait = this.#flood.beginLogin(key, session.ip, this.#now());
    if (wait > 0) {
      this.#log(`login-throttled session=${session.id} addr=${session.peer.address}`);
      return rateLimited(wait, "too many failed logins; wait before trying again");
    }
    if (!(await this.#passwordMatches(user, password))) {
      this.#flood.loginFailed(session.ip, this.#now());
      const failures = this.#flood.loginFailures(key, this.#now());
      this.#log(
        `login-failed session=${session.id} addr=${session.peer.address} user=${
          loggedName(user)
        } failures=${failures}`,
      );
      return { status: Status.AUTH_FAILED };
    }
    this.#flood.loginSucceeded(key);
    return { status: this.#admit(session, user, push) };
  }

  /**
   * Whether `password` is the one of an enabled account `user`; as slow for
   * unknown users and absurd input as for wrong passwords.
   */
  async #passwordMatches(user: string, password: string): Promise<boolean> {
    const plausible = nameProblem(user) === null && password.length <= MAX_PASSWORD_LENGTH * 2;
    const account = plausible ? await this.#store.getAccount(user) : null;
    const hash = account?.passwordHash ?? this.#decoy;
    const matches = await verifyPassword(plausible ? password : "", hash);
    return account !== null && !account.disabled && matches;
  }

  /** Makes `user` the session's user, if the online rules allow it. */
  #admit(session: Session, user: string, push: boolean): StatusCode {
    if (session.user !== null) return Status.ALREADY_LOGIN;
    const earlier = this.#online.get(user);
    if (earlier && this.#duplicateLogin === "refuse") return Status.ALREADY_ONLINE;
    if (!earlier && this.#online.size >= this.#maxOnline) {
      this.#log(`login-refused session=${session.id} reason=server-full`);
      return Status.SERVER_FULL;
    }
    if (earlier) {
      earlier.peer.close("logged in from elsewhere");
      this.logout(earlier, "logged in from elsewhere");
    }
    session.user = user;
    session.push = push;
    this.#online.set(user, session);
    this.#log(`login session=${session.id} user=${JSON.stringify(user)} push=${push}`);
    return Status.OK;
  }

  /**
   * Spends one of the user's message-rate tokens for a costly request
   * (posting, creating a room, searching); null when there was one, else
   * the RATE_LIMITED outcome.
   */
  admit(session: Session): Outcome | null {
    const wait = this.#flood.messageWait(session.user!, this.#now());
    return wait === 0 ? null : rateLimited(wait, "too many messages; slow down");
  }

  /** Logs a session out, leaving its room. */
  logout(session: Session, reason?: string): StatusCode {
    if (session.user === null) return Status.NOT_LOGIN;
    this.#leave(session, reason);
    if (this.#online.get(session.user) === session) this.#online.delete(session.user);
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

  /** Every public room with its member count, in creation order. */
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
    const createdBy = session.user!;
    if (
      !this.#moderation.isAdmin(createdBy) && this.#roomsOwnedBy(createdBy) >= this.#maxRoomsPerUser
    ) {
      return {
        status: Status.NOT_ALLOWED,
        reason: `you own ${this.#maxRoomsPerUser} rooms, the most one user may`,
      };
    }
    // taken at once, so that a second CREATE_ROOM meanwhile sees it
    this.#rooms.set(normalised, new Room("room", normalised, createdBy, this.#pollLog));
    try {
      await this.#store.createRoom({
        kind: "room",
        name: normalised,
        createdBy,
        createdAt: this.#now(),
      });
    } catch (error) {
      this.#rooms.delete(normalised);
      throw error;
    }
    this.#log(`room-created room=${JSON.stringify(normalised)} by=${JSON.stringify(createdBy)}`);
    return { status: Status.OK };
  }

  /**
   * Moves a session into a public room, leaving the room or peer chat it was
   * in; resolves once the membership is recorded.
   */
  join(session: Session, name: string): Outcome | Promise<Outcome> {
    const room = this.#rooms.get(name.normalize("NFC"));
    if (!room) {
      return { status: Status.NO_SUCH_ROOM, reason: "no such room; CREATE_ROOM makes one" };
    }
    const ban = this.#moderation.banOf(room.name, session.user!);
    if (ban) return { status: Status.BANNED, reason: ban.reason || `banned by ${ban.bannedBy}` };
    if (session.room === room) return { status: Status.OK };
    return this.#enter(session, room).then(() => ({ status: Status.OK }));
  }

  /** Takes a session out of its room or peer chat. */
  exitRoom(session: Session): StatusCode {
    if (!session.room) return Status.NOT_IN_ROOM;
    this.#leave(session);
    return Status.OK;
  }

  /** The members of the session's room, or null when it is in none. */
  members(session: Session): string[] | null {
    if (!session.room) return null;
    return [...session.room.members].map((member) => member.user!);
  }

  /** Every online user and where each is. */
  who(): Whereabouts[] {
    return [...this.#online.values()].map((session) => ({
      user: session.user!,
      place: session.room?.kind ?? "idle",
      name: session.room?.name ?? "",
      address: session.peer.address,
    }));
  }

  /**
   * Posts a message to the session's room or peer chat. The message gets
   * its id at once; once the store has it on disk, it reaches the room
   * (pushed to the others, kept for pollers) and the result resolves. The
   * caller handles a rejection: the store failed, and nobody saw it.
   */
  post(session: Session, content: string): PostResult | Promise<PostResult> {
    const room = session.room;
    if (!room) return { status: Status.NOT_IN_ROOM };
    const record = this.#record(room.kind, room.name, session.user!, content);
    const done = this.#store.appendMessage(record).then(() => {
      const posted = room.post(record.id, record.sender, record.time, content);
      this.#broadcast(
        room,
        {
          method: Event.EVT_MSG,
          params: this.#placeParams(room, {
            From: posted.from,
            Time: formatTime(posted.time),
            Id: String(posted.id),
          }),
          content,
        },
        session,
        posted.id,
      );
      const result: PostResult = { status: Status.OK, posted };
      return result;
    });
    this.#lastPost = done;
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
    await this.#lastPost.then(ignore, ignore);
    const room = session.room;
    if (!room) return { status: Status.NOT_IN_ROOM, messages: [], missed: 0 };
    if (session.push) return { status: Status.NO_NEW_MSG, messages: [], missed: 0 };
    const { messages, missed } = room.unread(session.cursor, session.joinedAfter, maxChars);
    session.cursor = messages.length > 0 ? messages[messages.length - 1].seq + 1 : room.nextSeq;
    const status = messages.length > 0 ? Status.OK : Status.NO_NEW_MSG;
    return { status, messages, missed };
  }

  /** The latest messages of the session's room or peer chat before `beforeId`, oldest first. */
  async history(
    session: Session,
    beforeId: number | null,
    limit: number,
  ): Promise<{ status: StatusCode; room?: string; messages: MessageRecord[]; more: boolean }> {
    const room = session.room;
    if (!room) return { status: Status.NOT_IN_ROOM, messages: [], more: false };
    const page = await this.#store.history(room.kind, room.name, beforeId, limit + 1);
    const more = page.length > limit;
    return { status: Status.OK, room: room.name, messages: more ? page.slice(1) : page, more };
  }

  /**
   * One page of a search of the messages of the rooms, peer chats and
   * direct messages the user took part in, newest first, below `before`
   * (an id; null for the newest). RATE_LIMITED when the user has a search
   * under way already or too many searches are waiting (see {@link SearchSlots}).
   */
  search(
    session: Session,
    query: string,
    limit: number,
    before: number | null,
  ): SearchOutcome | Promise<SearchOutcome> {
    const user = session.user!;
    const turn = this.#searches.enter(user);
    if (typeof turn === "string") return rateLimited(SEARCH_RETRY_MS, turn);
    const options = { limit, before, scanLimit: this.#scanLimit };
    return turn.then(() => this.#store.search(user, query, options))
      .finally(() => this.#searches.leave(user))
      .then((page) => ({ status: Status.OK, page }));
  }

  /**
   * Connects the session with an online peer in a private peer chat: the
   * peer's chat if it is in one (joining everyone there), else a new one
   * that the peer is moved into. Resolves once the memberships are stored.
   */
  peerConnect(
    session: Session,
    peerName: string,
  ): (Outcome & { room?: string }) | Promise<Outcome & { room?: string }> {
    const peer = peerName.normalize("NFC");
    if (peer === session.user) return { status: Status.PEER_IS_SELF };
    const target = this.#online.get(peer);
    if (!target) return { status: Status.PEER_OFFLINE, reason: offlineReason(peer) };
    if (session.room && session.room === target.room) {
      return { status: Status.OK, room: session.room.name };
    }
    if (target.room?.kind === "group") {
      const group = target.room;
      return this.#enter(session, group).then(() => ({ status: Status.OK, room: group.name }));
    }
    const group = new Room("group", this.#groupName(), null, this.#pollLog);
    const created = this.#store.createRoom({
      kind: "group",
      name: group.name,
      createdBy: null,
      createdAt: this.#now(),
    });
    this.#log(`peer-chat room=${JSON.stringify(group.name)} by=${JSON.stringify(session.user)}`);
    const entered = [this.#enter(target, group, `peer chat with ${session.user}`)];
    entered.push(this.#enter(session, group));
    return Promise.all([created, ...entered]).then(() => ({ status: Status.OK, room: group.name }));
  }

  /** Leaves the session's peer chat ("bye"). */
  peerBye(session: Session): StatusCode {
    if (session.room?.kind !== "group") return Status.NOT_IN_GROUP;
    this.#leave(session);
    return Status.OK;
  }

  /**
   * Sends a direct message to an online user: stored in their direct
   * conversation, pushed to the recipient once on disk.
   */
  direct(
    session: Session,
    toName: string,
    content: string,
  ): DirectOutcome | Promise<DirectOutcome> {
    const to = toName.normalize("NFC");
    const from = session.user!;
    if (to === from) return { status: Status.PEER_IS_SELF };
    const recipient = this.#online.get(to);
    if (!recipient) return { status: Status.PEER_OFFLINE, reason: offlineReason(to) };
    const name = directRoomName(from, to);
    const record = this.#record("direct", name, from, content);
    const stored = Promise.all([
      this.#store.createRoom({ kind: "direct", name, createdBy: null, createdAt: record.time }),
      this.#store.addMembership("direct", name, from, record.time),
      this.#store.addMembership("direct", name, to, record.time),
      this.#store.appendMessage(record),
    ]);
    return stored.then(() => {
      if (recipient.push && recipient.user === to) {
        recipient.peer.deliver({
          method: Event.EVT_DM,
          params: { From: from, To: to, Time: formatTime(record.time), Id: String(record.id) },
          content,
        });
      }
      return { status: Status.OK, id: record.id, time: record.time };
    });
  }

  /**
   * Removes a user from a public room (the session's, or `roomName`);
   * with `ban`, also keeps them out. Owners of the room and admins only.
   */
  async moderate(
    session: Session,
    action: "kick" | "ban" | "unban",
    targetName: string,
    options: { room?: string; reason?: string },
  ): Promise<Outcome> {
    const room = options.room === undefined
      ? session.room
      : this.#rooms.get(options.room.normalize("NFC")) ?? null;
    if (!room) {
      return options.room === undefined
        ? { status: Status.NOT_IN_ROOM }
        : { status: Status.NO_SUCH_ROOM };
    }
    const by = session.user!;
    if (room.kind !== "room" || !this.#moderation.mayModerate(by, room.owner)) {
      return { status: Status.NOT_ALLOWED, reason: "only the room's owner and admins may" };
    }
    const target = targetName.normalize("NFC");
    const reason = options.reason ?? "";
    if ([...reason].length > MAX_MODERATION_REASON) {
      return {
        status: Status.BAD_REQUEST,
        reason: `Reason is longer than ${MAX_MODERATION_REASON} characters`,
      };
    }
    const inRoom = [...room.members].find((member) => member.user === target);
    if (action === "kick" && !inRoom) return { status: Status.NO_SUCH_USER };
    if (action === "unban") {
      if (!this.#moderation.banOf(room.name, target)) return { status: Status.NO_SUCH_USER };
      await this.#store.unban(room.name, target);
      this.#moderation.unban(room.name, target);
    }
    if (action === "ban") {
      const ban = { room: room.name, user: target, bannedBy: by, reason, time: this.#now() };
      await this.#store.ban(ban);
      this.#moderation.ban(ban);
    }
    if (action !== "unban" && inRoom && inRoom.room === room) {
      this.#removeFrom(inRoom, room, by, reason, action === "ban");
    }
    this.#log(
      `${action} room=${JSON.stringify(room.name)} user=${JSON.stringify(target)} by=${
        JSON.stringify(by)
      }`,
    );
    return { status: Status.OK };
  }

  /** Operator: disconnects an online user, telling them why. False when not online. */
  kickFromServer(user: string, reason: string): boolean {
    const session = this.#online.get(user.normalize("NFC"));
    if (!session) return false;
    session.peer.close(reason);
    this.logout(session, reason);
    this.#log(`kicked-by-operator user=${JSON.stringify(user)}`);
    return true;
  }

  /** Operator: a notice to every push connection; returns how many got it. */
  broadcast(text: string): number {
    const notice: Message = {
      method: Event.EVT_NOTICE,
      params: { Time: formatTime(this.#now()) },
      content: text,
    };
    let reached = 0;
    for (const session of this.#online.values()) {
      if (session.push) {
        session.peer.deliver(notice);
        reached++;
      }
    }
    this.#log(`broadcast reached=${reached}`);
    return reached;
  }

  #roomsOwnedBy(user: string): number {
    let owned = 0;
    for (const room of this.#rooms.values()) if (room.owner === user) owned++;
    return owned;
  }

  #record(kind: RoomKind, room: string, sender: string, content: string): MessageRecord {
    return { id: ++this.#lastMessageId, kind, room, sender, time: this.#now(), content };
  }

  #groupName(): string {
    return `peer chat ${this.#now().toString(36)}.${++this.#groupsCreated}`;
  }

  /** Room and, for a peer chat, Kind parameters of an event. */
  #placeParams(room: Room, params: Record<string, string>): Record<string, string> {
    return room.kind === "group"
      ? { Room: room.name, Kind: "group", ...params }
      : { Room: room.name, ...params };
  }

  /** Moves a session into a room; resolves once the membership is stored. */
  #enter(session: Session, room: Room, leaveReason?: string): Promise<void> {
    this.#leave(session, leaveReason);
    room.add(session);
    session.room = room;
    session.joinedAfter = this.#lastMessageId;
    this.#broadcast(room, {
      method: Event.EVT_JOIN,
      params: this.#placeParams(room, { User: session.user!, Time: formatTime(this.#now()) }),
    }, session);
    return this.#store.addMembership(room.kind, room.name, session.user!, this.#now());
  }

  /** Takes a session out of its place, telling the rest; a peer chat of one ends. */
  #leave(session: Session, reason?: string): void {
    const room = session.room;
    if (!room) return;
    room.remove(session);
    session.room = null;
    const params: Record<string, string> = { User: session.user!, Time: formatTime(this.#now()) };
    if (reason) params.Reason = reason;
    this.#broadcast(room, { method: Event.EVT_LEAVE, params: this.#placeParams(room, params) });
    if (room.kind === "group" && room.members.size === 1) {
      const [last] = room.members;
      room.remove(last);
      last.room = null;
      if (last.push) {
        last.peer.deliver({
          method: Event.EVT_GROUP_END,
          params: { Room: room.name, Time: formatTime(this.#now()) },
        });
      }
    }
  }

  #removeFrom(session: Session, room: Room, by: string, reason: string, banned: boolean): void {
    const why = `${banned ? "banned" : "kicked"} by ${by}${reason ? `: ${reason}` : ""}`;
    this.#leave(session, why);
    if (session.push) {
      session.peer.deliver({
        method: Event.EVT_KICKED,
        params: {
          Room: room.name,
          By: by,
          Reason: reason,
          Banned: banned ? "yes" : "no",
          Time: formatTime(this.#now()),
        },
      });
    }
  }

  /**
   * Delivers one event object to every pushing member but `except`; for a
   * message (`id`), only to members who joined before it was posted.
   */
  #broadcast(room: Room, event: Message, except?: Session, id = Infinity): void {
    for (const member of room.members) {
      if (member.push && member !== except && member.joinedAfter < id) member.peer.deliver(event);
    }
  }
}
