/**
 * The chat core: accounts, online users, rooms, peer chats and direct
 * messages, and what happens when someone registers, logs in, joins, posts,
 * leaves, or is kicked. It knows nothing about sockets, bytes or SQL:
 * transports hand it {@link Session}s, it keeps durable state through a
 * {@link ChatStore}, answers with statuses and delivers events through each
 * session's {@link Peer}.
 * @module
 */

import { codePointName } from "../protocol/message_text.ts";
import { Status, type StatusCode } from "../protocol/methods.ts";
import { directRoomName, directRoomUsers } from "../protocol/direct_room_name.ts";
import { nameFormProblem, nameKey, nameProblem, nameSkeleton } from "../protocol/names.ts";
import type { MessageRecord, RoomKind, SearchPage } from "../store/records.ts";
import type { ChatStore, HistoryRange, StoredState } from "../store/store.ts";
import {
  type ChatEvent,
  type InvitationAnswer,
  type LeaveCause,
  LEFT,
  LOGGED_OUT,
  MOVED,
} from "./events.ts";
import {
  DEFAULT_FLOOD_LIMITS,
  FloodControl,
  type FloodLimits,
  LOGIN_HELD,
} from "./limits/flood_control.ts";
import { Moderation } from "./moderation.ts";
import { Decoys } from "./decoys.ts";
import {
  DEFAULT_SCRYPT_CONCURRENCY,
  DEFAULT_SCRYPT_COST,
  type PasswordScheme,
  SCRYPT,
} from "./passwords.ts";
import { type PollLogLimits, type Posted, Room } from "./room.ts";
import { DEFAULT_SEARCH_LIMITS, type SearchLimits, SearchSlots } from "./limits/search_slots.ts";
import type { Session } from "./session.ts";
import { WorkQueue } from "./limits/work_queue.ts";

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
  /**
   * Password checks and hashes under way at once (scrypt keeps a core busy
   * each); 64 times as many may wait. Default {@link DEFAULT_SCRYPT_CONCURRENCY}.
   */
  scryptConcurrency?: number;
  /** How passwords are hashed and checked (injected for tests). Default {@link SCRYPT}. */
  passwords?: PasswordScheme;
  /** Message rate and failed-login limits. Default {@link DEFAULT_FLOOD_LIMITS}. */
  floodLimits?: FloodLimits;
  /** Most rooms one user may own (create); admins are not limited. Default 100. */
  maxRoomsPerUser?: number;
  /**
   * Most bytes of message content in one HISTORY page (the first message
   * comes whole). Default {@link DEFAULT_MAX_HISTORY_BYTES}.
   */
  maxHistoryBytes?: number;
  /**
   * Most HISTORY reads under way at once in the whole server; 64 times as
   * many may wait. Default {@link DEFAULT_HISTORY_CONCURRENCY}.
   */
  historyConcurrency?: number;
  /** Most public rooms on the server; CREATE_ROOM beyond it is refused. Default 10,000. */
  maxRooms?: number;
  /** How requests to join a peer chat are bounded. Default {@link DEFAULT_INVITATION_LIMITS}. */
  invitationLimits?: InvitationLimits;
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

/** The outcome of PEER_CONNECT. */
export interface PeerOutcome extends Outcome {
  /** With OK, the peer chat the requester is in; with INVITED, the one it asked to join. */
  room?: string;
  /**
   * With INVITED: when the request expires (ms since the epoch), and how it
   * ended, once it has (with `accepted`, the requester is in the peer chat).
   */
  invitation?: { expires: number; answer: Promise<InvitationAnswer> };
}

/** Bounds of requests to join peer chats. */
export interface InvitationLimits {
  /** How long a request waits for an answer, in ms. */
  readonly timeoutMs: number;
  /** Most requests waiting at once to join one peer chat. */
  readonly perChat: number;
}

/** A request to join a peer chat expires after 60 s; at most 5 wait per peer chat. */
export const DEFAULT_INVITATION_LIMITS: InvitationLimits = { timeoutMs: 60_000, perChat: 5 };

/** A request to join a peer chat, waiting for one of its members to answer. */
interface Invitation {
  /** Who asked; each session has at most one request waiting. */
  readonly requester: Session;
  /** The requester's user name. */
  readonly user: string;
  readonly group: Room;
  readonly expires: number;
  readonly answer: Promise<InvitationAnswer>;
  readonly settle: (answer: InvitationAnswer) => void;
  timer?: ReturnType<typeof setTimeout>;
}
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
/** Most public rooms a server holds unless told otherwise. */
export const DEFAULT_MAX_ROOMS = 10_000;

/** A public room and how many are in it now. */
export interface RoomCount {
  name: string;
  members: number;
}

/**
 * What RATE_LIMITED says to retry after when a search may not wait for its
 * turn: about what a few searches take.
 */
export const SEARCH_RETRY_MS = 500;

/** Most bytes of content in a HISTORY page unless told otherwise: 1 MiB. */
export const DEFAULT_MAX_HISTORY_BYTES = 1 << 20;

/** Most HISTORY reads under way at once unless told otherwise. */
export const DEFAULT_HISTORY_CONCURRENCY = 4;

/** Jobs that may wait in a work queue for each one under way. */
const WAITING_PER_RUNNING = 64;

/** When to try again after the server was too busy to take the work. */
const BUSY_RETRY_MS = 1000;

/** The reason of a LOGIN or REGISTER refused because too many passwords wait to be checked. */
const PASSWORDS_BUSY = "the server is busy checking passwords; try again";

/** Shortest password REGISTER accepts, in characters. */
export const MIN_PASSWORD_LENGTH = 8;
/** Longest password accepted, in characters. */
export const MAX_PASSWORD_LENGTH = 1024;

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

/** Why PEER_ACCEPT or PEER_DECLINE found nothing to answer. */
function noInvitationReason(user: string): string {
  return nameProblem(user)
    ? "no such request to join is waiting"
    : `${user} is not waiting to join this peer chat`;
}

/** A user name for a log line: quoted, or a placeholder when it is no valid name. */
function loggedName(user: string): string {
  return nameProblem(user) ? '"(invalid name)"' : JSON.stringify(user);
}

/** A work queue with `running` jobs under way at once, and its share of waiting ones. */
function workQueue(running: number): WorkQueue {
  return new WorkQueue({ running, waiting: running * WAITING_PER_RUNNING });
}

/** A room's name and member count, for listing. */
function countOf(room: Room): RoomCount {
  return { name: room.name, members: room.members.size };
}

/** The RATE_LIMITED outcome. */
function rateLimited(waitMs: number, reason: string): Outcome {
  return { status: Status.RATE_LIMITED, reason, retryAfterMs: waitMs };
}

export { directRoomName };
export type { InvitationAnswer };

/** The state of one chat server. */
export class Chat {
  readonly #store: ChatStore;
  readonly #rooms = new Map<string, Room>();
  /** The public rooms in the order they were created (stored), for listing page by page. */
  readonly #listed: Room[] = [];
  /** Where each public room is in {@link Chat.#listed}, by name. */
  readonly #listedAt = new Map<string, number>();
  /**
   * The public rooms by `k:` and their name's nameKey, and by `s:` and its
   * nameSkeleton: CREATE_ROOM refuses a look-alike of a room.
   */
  readonly #roomsByKey = new Map<string, Room>();
  /** Requests to join peer chats waiting for an answer, by who asked. */
  readonly #invitations = new Map<Session, Invitation>();
  readonly #invitationLimits: InvitationLimits;
  readonly #online = new Map<string, Session>();
  readonly #maxOnline: number;
  readonly #pollLog: PollLogLimits;
  readonly #duplicateLogin: DuplicateLoginPolicy;
  readonly #scryptCost: number;
  readonly #passwords: PasswordScheme;
  readonly #passwordWork: WorkQueue;
  readonly #decoys: Decoys;
  /** Sessions whose connection is gone. */
  readonly #gone = new WeakSet<Session>();
  /** Per address, logins waiting for one under way to end. */
  readonly #loginWaiters = new Map<string, (() => void)[]>();
  readonly #now: () => number;
  readonly #log: (line: string) => void;
  readonly #moderation: Moderation;
  readonly #flood: FloodControl;
  readonly #maxRoomsPerUser: number;
  readonly #historyBytes: number;
  readonly #historyReads: WorkQueue;
  readonly #maxRooms: number;
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
    this.#passwords = options.passwords ?? SCRYPT;
    this.#passwordWork = workQueue(options.scryptConcurrency ?? DEFAULT_SCRYPT_CONCURRENCY);
    this.#decoys = new Decoys(options.state.passwordCosts, this.#scryptCost);
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? (() => {});
    this.#lastMessageId = options.state.lastMessageId;
    this.#moderation = new Moderation(options.admins ?? new Set(), options.state.bans);
    this.#flood = new FloodControl(options.floodLimits ?? DEFAULT_FLOOD_LIMITS);
    this.#maxRoomsPerUser = options.maxRoomsPerUser ?? DEFAULT_MAX_ROOMS_PER_USER;
    this.#historyBytes = options.maxHistoryBytes ?? DEFAULT_MAX_HISTORY_BYTES;
    this.#historyReads = workQueue(options.historyConcurrency ?? DEFAULT_HISTORY_CONCURRENCY);
    this.#maxRooms = options.maxRooms ?? DEFAULT_MAX_ROOMS;
    this.#invitationLimits = options.invitationLimits ?? DEFAULT_INVITATION_LIMITS;
    const searchLimits = options.searchLimits ?? DEFAULT_SEARCH_LIMITS;
    this.#searches = new SearchSlots(searchLimits);
    this.#scanLimit = searchLimits.scanLimit;
    for (const { name, createdBy } of options.state.rooms) {
      const room = new Room("room", name, createdBy, this.#pollLog);
      this.#addRoom(room);
      this.#list(room);
    }
  }

  #addRoom(room: Room): void {
    this.#rooms.set(room.name, room);
    for (const key of roomKeys(room.name)) {
      if (!this.#roomsByKey.has(key)) this.#roomsByKey.set(key, room);
    }
  }

  #removeRoom(room: Room): void {
    this.#rooms.delete(room.name);
    for (const key of roomKeys(room.name)) {
      if (this.#roomsByKey.get(key) === room) this.#roomsByKey.delete(key);
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
   * registrations slow down further ones from the same address; accounts
   * created are limited per address and in all.
   */
  async register(session: Session, username: string, password: string): Promise<Outcome> {
    const wait = this.#flood.registerWait(session.ip, this.#now());
    if (wait > 0) return rateLimited(wait, "too many refused registrations from this address");
    const outcome = await this.#createAccount(session.ip, username, password);
    if (outcome.status !== Status.OK) {
      if (outcome.status !== Status.RATE_LIMITED) {
        this.#flood.registerFailed(session.ip, this.#now());
      }
      this.#log(
        `register-refused session=${session.id} addr=${session.sink.address} status=${outcome.status}`,
      );
    }
    return outcome;
  }

  async #createAccount(ip: string, username: string, password: string): Promise<Outcome> {
    const user = username.normalize("NFC");
    const problem = nameProblem(user);
    if (problem) return { status: Status.INVALID_NAME, reason: problem };
    const weakness = passwordProblem(password, user);
    if (weakness) return { status: Status.WEAK_PASSWORD, reason: weakness };
    const { wait, perAddress } = this.#flood.registrationWait(ip, this.#now());
    if (wait > 0) {
      return rateLimited(
        wait,
        `too many new accounts ${perAddress ? "from this address" : "on this server"}; try later`,
      );
    }
    const passwordHash = await this.#passwordWork.run(
      () => this.#passwords.hash(password, this.#scryptCost),
      this.#flood.isQuiet(ip, this.#now()),
    );
    if (passwordHash === null) {
      this.#flood.registrationRefused(ip, this.#now());
      return rateLimited(BUSY_RETRY_MS, PASSWORDS_BUSY);
    }
    const created = await this.#store.createAccount({
      name: user,
      passwordHash,
      source: "registered",
      disabled: false,
      createdAt: this.#now(),
    });
    if (!created) {
      this.#flood.registrationRefused(ip, this.#now());
      return { status: Status.NAME_TAKEN };
    }
    this.#log(`registered user=${JSON.stringify(user)}`);
    return { status: Status.OK };
  }

  /**
   * Logs a session in (the user name is NFC-normalised first). Unknown users
   * cost as much time as wrong passwords, so the answer does not tell which.
   * Passwords wait their turn to be checked, those from quiet addresses first.
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
    const key = nameFormProblem(user) ? "(invalid name)" : nameKey(user);
    const ip = session.ip;
    let urgent = this.#flood.isQuiet(ip, this.#now());
    let wait;
    while ((wait = this.#flood.beginLogin(key, ip, this.#now())) === LOGIN_HELD) {
      await this.#loginEnded(ip);
      urgent = false;
    }
    if (wait > 0) {
      this.#log(`login-throttled session=${session.id} addr=${session.sink.address}`);
      return rateLimited(wait, "too many failed logins; wait before trying again");
    }
    let matches: boolean | null = null;
    try {
      matches = await this.#passwordMatches(user, password, urgent);
    } finally {
      if (matches === null) this.#flood.loginAbandoned(key, ip);
      else if (matches) this.#flood.loginSucceeded(key, ip);
      else this.#flood.loginFailed(ip, this.#now());
      this.#wakeLogins(ip);
    }
    if (matches === null) return rateLimited(BUSY_RETRY_MS, PASSWORDS_BUSY);
    if (!matches) {
      const failures = this.#flood.loginFailures(key, this.#now());
      this.#log(
        `login-failed session=${session.id} addr=${session.sink.address} user=${
          loggedName(user)
        } failures=${failures}`,
      );
      return { status: Status.AUTH_FAILED };
    }
    return { status: this.#admit(session, user, push) };
  }

  /** Resolves when a login attempt from `ip` has ended. */
  #loginEnded(ip: string): Promise<void> {
    return new Promise((resolve) => {
      const waiting = this.#loginWaiters.get(ip);
      if (waiting) waiting.push(resolve);
      else this.#loginWaiters.set(ip, [resolve]);
    });
  }

  #wakeLogins(ip: string): void {
    const waiting = this.#loginWaiters.get(ip);
    if (!waiting) return;
    this.#loginWaiters.delete(ip);
    for (const wake of waiting) wake();
  }

  /**
   * Whether `password` is the one of an enabled account `user`, or null
   * when the server was too busy to check it; as slow for unknown users and
   * absurd input as for wrong passwords.
   */
  async #passwordMatches(user: string, password: string, urgent: boolean): Promise<boolean | null> {
    // accounts stored before the rules on invisible characters may break them, and still log in
    const plausible = nameFormProblem(user) === null &&
      password.length <= MAX_PASSWORD_LENGTH * 2;
    const account = plausible ? await this.#store.getAccount(user) : null;
    const hash = account?.passwordHash ?? this.#decoys.for(plausible ? user : "");
    const matches = await this.#passwordWork.run(
      () => this.#passwords.verify(plausible ? password : "", hash),
      urgent,
    );
    if (matches === null) return null;
    return account !== null && !account.disabled && matches;
  }

  /** Makes `user` the session's user, if the online rules allow it. */
  #admit(session: Session, user: string, push: boolean): StatusCode {
    if (session.user !== null) return Status.ALREADY_LOGIN;
    if (this.#gone.has(session)) return Status.AUTH_FAILED; // nobody hears it
    const earlier = this.#online.get(user);
    if (earlier && this.#duplicateLogin === "refuse") return Status.ALREADY_ONLINE;
    if (!earlier && this.#online.size >= this.#maxOnline) {
      this.#log(`login-refused session=${session.id} reason=server-full`);
      return Status.SERVER_FULL;
    }
    if (earlier) {
      const reason = "logged in from elsewhere";
      earlier.sink.close(reason);
      this.#logout(earlier, { kind: "disconnected", reason });
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

  /** Logs a session out (LOGOUT), leaving its room. */
  logout(session: Session): StatusCode {
    return this.#logout(session, LOGGED_OUT);
  }

  #logout(session: Session, cause: LeaveCause): StatusCode {
    if (session.user === null) return Status.NOT_LOGIN;
    this.#leave(session, cause);
    if (this.#online.get(session.user) === session) this.#online.delete(session.user);
    const reason = cause.kind === "disconnected" ? cause.reason : "";
    this.#log(
      `logout session=${session.id} user=${JSON.stringify(session.user)}` +
        (reason ? ` reason=${JSON.stringify(reason)}` : ""),
    );
    session.user = null;
    session.push = false;
    return Status.OK;
  }

  /**
   * Forgets a session whose connection is gone (logs it out if needed); a
   * login of it still being checked will not log it in.
   */
  disconnect(session: Session, reason: string): void {
    this.#gone.add(session);
    if (session.user !== null) this.#logout(session, { kind: "disconnected", reason });
  }

  /**
   * One page of the public rooms, in creation order, with their member
   * counts: at most `limit` rooms after the one named `after` (from the
   * first when null), and whether more follow. Null when `after` names no
   * room.
   */
  roomPage(after: string | null, limit: number): { rooms: RoomCount[]; more: boolean } | null {
    let start = 0;
    if (after !== null) {
      const at = this.#listedAt.get(after.normalize("NFC"));
      if (at === undefined) return null;
      start = at + 1;
    }
    const end = Math.min(start + limit, this.#listed.length);
    const rooms: RoomCount[] = [];
    for (let i = start; i < end; i++) rooms.push(countOf(this.#listed[i]));
    return { rooms, more: end < this.#listed.length };
  }

  /**
   * At most `limit` public rooms with their member counts: the rooms that
   * have members first, then empty ones, each in creation order.
   */
  roomsOccupiedFirst(limit: number): RoomCount[] {
    const occupied: RoomCount[] = [];
    const empty: RoomCount[] = [];
    for (const room of this.#listed) {
      if (room.members.size > 0) {
        occupied.push(countOf(room));
        if (occupied.length === limit) break;
      } else if (empty.length < limit) {
        empty.push(countOf(room));
      }
    }
    return occupied.concat(empty.slice(0, limit - occupied.length));
  }

  /** Creates a room owned by the session's user (the name is NFC-normalised first). */
  async createRoom(session: Session, name: string): Promise<Outcome> {
    const normalised = name.normalize("NFC");
    const problem = nameProblem(normalised);
    if (problem) return { status: Status.INVALID_NAME, reason: problem };
    if (this.#rooms.has(normalised)) return { status: Status.ROOM_EXISTS };
    const alike = roomKeys(normalised).map((key) => this.#roomsByKey.get(key)).find(Boolean);
    if (alike) {
      return {
        status: Status.ROOM_EXISTS,
        reason: `the room ${JSON.stringify(alike.name)} has a name that looks the same`,
      };
    }
    const createdBy = session.user!;
    if (
      !this.#moderation.isAdmin(createdBy) && this.#roomsOwnedBy(createdBy) >= this.#maxRoomsPerUser
    ) {
      return {
        status: Status.NOT_ALLOWED,
        reason: `you own ${this.#maxRoomsPerUser} rooms, the most one user may`,
      };
    }
    if (this.#rooms.size >= this.#maxRooms) {
      return {
        status: Status.NOT_ALLOWED,
        reason: `this server has ${this.#maxRooms} rooms, the most it holds`,
      };
    }
    // taken at once, so that a second CREATE_ROOM meanwhile sees it
    const room = new Room("room", normalised, createdBy, this.#pollLog);
    this.#addRoom(room);
    try {
      await this.#store.createRoom({
        kind: "room",
        name: normalised,
        createdBy,
        createdAt: this.#now(),
      });
    } catch (error) {
      this.#removeRoom(room);
      throw error;
    }
    this.#list(room);
    this.#log(`room-created room=${JSON.stringify(normalised)} by=${JSON.stringify(createdBy)}`);
    return { status: Status.OK };
  }

  /**
   * Moves a session into a public room, leaving the room or peer chat it was
   * in, for one of the user's room-change tokens; resolves once the
   * membership is recorded.
   */
  join(session: Session, name: string): Outcome | Promise<Outcome> {
    const room = this.#rooms.get(name.normalize("NFC"));
    if (!room) {
      return { status: Status.NO_SUCH_ROOM, reason: "no such room; CREATE_ROOM makes one" };
    }
    const ban = this.#moderation.banOf(room.name, session.user!);
    if (ban) return { status: Status.BANNED, reason: ban.reason || `banned by ${ban.bannedBy}` };
    if (session.room === room) return { status: Status.OK };
    const wait = this.#flood.joinWait(session.user!, this.#now());
    if (wait > 0) return rateLimited(wait, "too many room changes; slow down");
    return this.#enter(session, room).then(() => ({ status: Status.OK }));
  }

  /** Takes a session out of its room or peer chat. */
  exitRoom(session: Session): StatusCode {
    if (!session.room) return Status.NOT_IN_ROOM;
    this.#leave(session, LEFT);
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
      address: session.sink.address,
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
          type: "message",
          place: room.place,
          id: posted.id,
          from: posted.from,
          time: posted.time,
          text: content,
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

  /**
   * A page of stored messages, oldest first: of the session's room or peer
   * chat (only those posted since the session joined it), or with
   * `withUser` of the direct conversation with that user; at most
   * `maxHistoryBytes` of content. `more` says whether messages beyond the
   * page exist in the direction of paging: older ones, or with
   * `range.after` newer ones.
   */
  async history(
    session: Session,
    range: HistoryRange,
    withUser?: string,
  ): Promise<Outcome & { room?: string; messages: MessageRecord[]; more: boolean }> {
    let place: { kind: RoomKind; name: string };
    let floor = 0;
    if (withUser !== undefined) {
      const other = withUser.normalize("NFC");
      if (nameProblem(other) || other === session.user) {
        return { status: Status.NO_SUCH_USER, messages: [], more: false };
      }
      place = { kind: "direct", name: directRoomName(session.user!, other) };
    } else if (session.room) {
      place = session.room;
      // a newcomer to a peer chat reads only what was said after joining
      if (session.room.kind === "group") floor = session.joinedAfter;
    } else {
      return { status: Status.NOT_IN_ROOM, messages: [], more: false };
    }
    // the read may wait its turn: messages posted meanwhile are not part of the answer
    const before = Math.min(range.before ?? Infinity, this.#lastMessageId + 1);
    const page = await this.#historyReads.run(() =>
      this.#store.history(place.kind, place.name, {
        ...range,
        before,
        floor,
        maxBytes: this.#historyBytes,
      })
    );
    if (page === null) {
      return {
        ...rateLimited(BUSY_RETRY_MS, "the server is busy reading history; try again"),
        messages: [],
        more: false,
      };
    }
    return { status: Status.OK, room: place.name, ...page };
  }

  /** The users the session's user has direct conversations with, the latest first. */
  async directPartners(session: Session): Promise<string[]> {
    const me = session.user!;
    const partners: string[] = [];
    for (const room of await this.#store.directRooms(me)) {
      const users = directRoomUsers(room);
      if (users) partners.push(users[0] === me ? users[1] : users[0]);
    }
    return partners;
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
   * Connects the session with an online peer in a private peer chat. A
   * peer in no room is moved into a new peer chat of the two; a peer in a
   * public room is BUSY (nobody is taken out of a public room by someone
   * else); a peer in another peer chat gets the requester's request to join
   * it (INVITED), which its members answer with {@link Chat.peerAccept} or
   * {@link Chat.peerDecline}, or which expires. Resolves once the
   * memberships are stored.
   */
  peerConnect(session: Session, peerName: string): PeerOutcome | Promise<PeerOutcome> {
    const peer = peerName.normalize("NFC");
    if (peer === session.user) return { status: Status.PEER_IS_SELF };
    const target = this.#online.get(peer);
    if (!target) return { status: Status.PEER_OFFLINE, reason: offlineReason(peer) };
    const place = target.room;
    if (place?.kind === "room") {
      return { status: Status.BUSY, reason: `${peer} is in a public room; try again later` };
    }
    if (place && place === session.room) return { status: Status.OK, room: place.name };
    if (place) return this.#invite(session, place);
    const group = new Room("group", this.#groupName(), null, this.#pollLog);
    const created = this.#store.createRoom({
      kind: "group",
      name: group.name,
      createdBy: null,
      createdAt: this.#now(),
    });
    this.#log(`peer-chat room=${JSON.stringify(group.name)} by=${JSON.stringify(session.user)}`);
    const entered = [this.#enter(target, group), this.#enter(session, group)];
    return Promise.all([created, ...entered]).then(() => ({ status: Status.OK, room: group.name }));
  }

  /** Asks the members of a peer chat to let the session in (see {@link Chat.peerConnect}). */
  #invite(session: Session, group: Room): PeerOutcome {
    const earlier = this.#invitations.get(session);
    if (earlier?.group === group) return invitedOutcome(earlier);
    let waiting = 0;
    for (const invitation of this.#invitations.values()) if (invitation.group === group) waiting++;
    if (waiting >= this.#invitationLimits.perChat) {
      return {
        status: Status.BUSY,
        reason: `that peer chat has ${waiting} requests to join waiting; try again later`,
      };
    }
    if (earlier) this.#answerInvitation(earlier, "withdrawn");
    let settle: (answer: InvitationAnswer) => void = ignore;
    const answer = new Promise<InvitationAnswer>((resolve) => settle = resolve);
    const user = session.user!;
    const timeoutMs = this.#invitationLimits.timeoutMs;
    const invitation: Invitation = {
      requester: session,
      user,
      group,
      expires: this.#now() + timeoutMs,
      answer,
      settle,
    };
    invitation.timer = setTimeout(() => this.#answerInvitation(invitation, "expired"), timeoutMs);
    this.#invitations.set(session, invitation);
    this.#broadcast(group, {
      type: "invitation-asked",
      place: group.place,
      from: user,
      expires: invitation.expires,
      time: this.#now(),
    });
    this.#log(`peer-invite room=${JSON.stringify(group.name)} by=${JSON.stringify(user)}`);
    return invitedOutcome(invitation);
  }

  /**
   * Lets a user who asked to join (PEER_CONNECT) into the session's peer
   * chat: they leave where they are and enter it. Resolves once their
   * membership is stored.
   */
  peerAccept(session: Session, userName: string): Outcome | Promise<Outcome> {
    const invitation = this.#invitationTo(session, userName);
    if (!("group" in invitation)) return invitation;
    this.#answerInvitation(invitation, "accepted", session);
    return this.#enter(invitation.requester, invitation.group).then(() => ({ status: Status.OK }));
  }

  /** Turns down a user who asked to join the session's peer chat. */
  peerDecline(session: Session, userName: string): Outcome {
    const invitation = this.#invitationTo(session, userName);
    if (!("group" in invitation)) return invitation;
    this.#answerInvitation(invitation, "declined", session);
    return { status: Status.OK };
  }

  /** The waiting request of `userName` to join the session's peer chat, or why there is none. */
  #invitationTo(session: Session, userName: string): Invitation | Outcome {
    const group = session.room;
    if (group?.kind !== "group") return { status: Status.NOT_IN_GROUP };
    const user = userName.normalize("NFC");
    const requester = this.#online.get(user);
    const invitation = requester && this.#invitations.get(requester);
    if (invitation?.group !== group) {
      return { status: Status.NO_INVITATION, reason: noInvitationReason(user) };
    }
    return invitation;
  }

  /**
   * Ends a waiting request to join a peer chat, telling the requester and,
   * unless accepted (then EVT_JOIN tells them), the members but the one who
   * answered.
   */
  #answerInvitation(invitation: Invitation, answer: InvitationAnswer, by?: Session): void {
    const { requester, group } = invitation;
    if (this.#invitations.get(requester) !== invitation) return;
    this.#invitations.delete(requester);
    clearTimeout(invitation.timer);
    const event: ChatEvent = {
      type: "invitation-answered",
      place: group.place,
      from: invitation.user,
      answer,
      by: by ? by.user! : null,
      time: this.#now(),
    };
    if (requester.push && requester.user === invitation.user) requester.sink.deliver(event);
    if (answer !== "accepted") this.#broadcast(group, event, by);
    this.#log(
      `peer-answer room=${JSON.stringify(group.name)} from=${
        JSON.stringify(invitation.user)
      } answer=${answer}`,
    );
    invitation.settle(answer);
  }

  /** Withdraws the waiting requests to join a peer chat that ended. */
  #withdrawInvitationsTo(ended: Room): void {
    for (const invitation of this.#invitations.values()) {
      if (invitation.group === ended) this.#answerInvitation(invitation, "withdrawn");
    }
  }

  /** Leaves the session's peer chat ("bye"). */
  peerBye(session: Session): StatusCode {
    if (session.room?.kind !== "group") return Status.NOT_IN_GROUP;
    this.#leave(session, LEFT);
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
        recipient.sink.deliver({
          type: "direct",
          id: record.id,
          from,
          to,
          time: record.time,
          text: content,
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
    const control = /\p{Cc}/u.exec(reason);
    if (control) {
      return {
        status: Status.BAD_REQUEST,
        reason: `Reason contains the control character ${codePointName(control[0])}`,
      };
    }
    if (action !== "unban" && target === by) {
      return { status: Status.NOT_ALLOWED, reason: `you cannot ${action} yourself` };
    }
    const inRoom = [...room.members].find((member) => member.user === target);
    if (action === "kick" && !inRoom) return { status: Status.NO_SUCH_USER };
    if (action === "ban" && !inRoom && !(await this.#accountExists(target))) {
      return { status: Status.NO_SUCH_USER, reason: "no user has that name" };
    }
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

  /** Whether an account (enabled or not) has exactly this name; never looks up an absurd one. */
  async #accountExists(user: string): Promise<boolean> {
    return nameProblem(user) === null && await this.#store.getAccount(user) !== null;
  }

  /** Operator: disconnects an online user, telling them why. False when not online. */
  kickFromServer(user: string, reason: string): boolean {
    const session = this.#online.get(user.normalize("NFC"));
    if (!session) return false;
    session.sink.close(reason);
    this.#logout(session, { kind: "disconnected", reason });
    this.#log(`kicked-by-operator user=${JSON.stringify(user)}`);
    return true;
  }

  /** Operator: a notice to every push connection; returns how many got it. */
  broadcast(text: string): number {
    const notice: ChatEvent = { type: "notice", time: this.#now(), text };
    let reached = 0;
    for (const session of this.#online.values()) {
      if (session.push) {
        session.sink.deliver(notice);
        reached++;
      }
    }
    this.#log(`broadcast reached=${reached}`);
    return reached;
  }

  /** Adds a stored public room to the end of the listing. */
  #list(room: Room): void {
    this.#listedAt.set(room.name, this.#listed.length);
    this.#listed.push(room);
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

  /**
   * Moves a session into a room; resolves once the membership is stored
   * (for a peer chat, with the last message id before the joining: the
   * session reads only what came after).
   */
  #enter(session: Session, room: Room): Promise<void> {
    this.#leave(session, MOVED);
    room.add(session);
    session.room = room;
    session.joinedAfter = this.#lastMessageId;
    this.#broadcast(room, {
      type: "joined",
      place: room.place,
      user: session.user!,
      time: this.#now(),
    }, session);
    const joinedAfter = room.kind === "group" ? session.joinedAfter : 0;
    return this.#store.addMembership(room.kind, room.name, session.user!, this.#now(), joinedAfter);
  }

  /**
   * Takes a session out of its place, telling the rest; a peer chat of one
   * ends. Any request of the session's to join a peer chat is withdrawn.
   */
  #leave(session: Session, cause: LeaveCause): void {
    const room = session.room;
    const request = this.#invitations.size > 0 ? this.#invitations.get(session) : undefined;
    if (request) this.#answerInvitation(request, "withdrawn");
    if (!room) return;
    room.remove(session);
    session.room = null;
    this.#broadcast(room, {
      type: "left",
      place: room.place,
      user: session.user!,
      time: this.#now(),
      cause,
    });
    if (room.kind === "group" && room.members.size === 1) {
      const [last] = room.members;
      room.remove(last);
      last.room = null;
      if (this.#invitations.size > 0) this.#withdrawInvitationsTo(room);
      if (last.push) {
        last.sink.deliver({ type: "peer-chat-ended", place: room.place, time: this.#now() });
      }
    }
  }

  #removeFrom(session: Session, room: Room, by: string, reason: string, banned: boolean): void {
    this.#leave(session, { kind: banned ? "banned" : "kicked", by, reason });
    if (session.push) {
      session.sink.deliver({
        type: "removed",
        place: room.place,
        by,
        reason,
        banned,
        time: this.#now(),
      });
    }
  }

  /**
   * Delivers one event object to every pushing member but `except`; for a
   * message (`id`), only to members who joined before it was posted.
   */
  #broadcast(room: Room, event: ChatEvent, except?: Session, id = Infinity): void {
    for (const member of room.members) {
      if (member.push && member !== except && member.joinedAfter < id) member.sink.deliver(event);
    }
  }
}

/** The keys under which a room's name counts as taken by {@link Chat.createRoom}. */
function roomKeys(name: string): string[] {
  return [`k:${nameKey(name)}`, `s:${nameSkeleton(name)}`];
}

/** The INVITED outcome of a waiting request to join a peer chat. */
function invitedOutcome(invitation: Invitation): PeerOutcome {
  const { group, expires, answer } = invitation;
  return { status: Status.INVITED, room: group.name, invitation: { expires, answer } };
}
