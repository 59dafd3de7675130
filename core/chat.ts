/**
 * The chat core's facade: the one object adapters talk to. It composes the
 * parts, each in a file of its own — accounts, presence, rooms,
 * memberships, messaging, peer chats and their invitations, direct
 * messages, moderation, search, the limits — and publishes what happens as
 * domain events (`events.ts`) on the fan-out bus (`fanout_bus.ts`). It
 * knows nothing about sockets, bytes, SQL or wire formats: adapters hand it
 * {@link Session}s, it keeps durable state through a {@link ChatStore}, and
 * answers with outcomes (`outcome.ts`).
 * @module
 */

import { DEFAULT_MAX_MESSAGE_CHARS } from "../protocol/message_text.ts";
import type { ChatStore, HistoryRange, StoredState } from "../store/store.ts";
import { Accounts } from "./accounts.ts";
import { DirectMessages, type DirectOutcome } from "./direct_messages.ts";
import { type LeaveCause, LEFT, LOGGED_OUT } from "./events.ts";
import {
  EVERYONE,
  type FanoutBus,
  InProcessBus,
  type LocalDelivery,
  type NodeChat,
  type SharedChange,
} from "./fanout_bus.ts";
import {
  DEFAULT_INVITATION_LIMITS,
  type InvitationLimits,
  Invitations,
  type PeerOutcome,
} from "./invitations.ts";
import { DEFAULT_FLOOD_LIMITS, FloodControl, type FloodLimits } from "./limits/flood_control.ts";
import { SessionDelivery } from "./local_delivery.ts";
import { MessageIds } from "./message_ids.ts";
import {
  DEFAULT_HISTORY_CONCURRENCY,
  DEFAULT_MAX_HISTORY_BYTES,
  type HistoryPage,
  Messaging,
  type PostOutcome,
  type Unread,
} from "./messaging.ts";
import { Memberships } from "./memberships.ts";
import { Moderation, type ModerationAction } from "./moderation.ts";
import { type ChatStatus, type Outcome, rateLimited } from "./outcome.ts";
import {
  DEFAULT_SCRYPT_CONCURRENCY,
  DEFAULT_SCRYPT_COST,
  type PasswordScheme,
  SCRYPT,
} from "./passwords.ts";
import { PeerChats } from "./peer_chats.ts";
import { type DuplicateLoginPolicy, Presence } from "./presence.ts";
import {
  type ClusterPresence,
  type ClusterRoster,
  type NodeSessions,
  REPLACED_ELSEWHERE,
} from "./presence_claims.ts";
import type { PollLogLimits } from "./room.ts";
import { DEFAULT_MAX_ROOMS, DEFAULT_MAX_ROOMS_PER_USER, type RoomCount, Rooms } from "./rooms.ts";
import { Search, type SearchAnswer, type SearchLimits, type SearchPageWanted } from "./search.ts";
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
  /** Longest message, in characters. Default {@link DEFAULT_MAX_MESSAGE_CHARS}. */
  maxMessageChars?: number;
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
  /** How many searches run at once, and how far each looks. Default `DEFAULT_SEARCH_LIMITS`. */
  searchLimits?: SearchLimits;
  /**
   * Makes the fan-out bus, given where it delivers on this server and what
   * a bus between servers may ask of this one. Default: an
   * {@link InProcessBus}.
   */
  bus?: (local: LocalDelivery, node: NodeChat) => FanoutBus;
  /**
   * Makes the presence this server shares with the others of a cluster,
   * given what it may ask of this server's sessions. Default none: the
   * server's own sessions are all there is.
   */
  presence?: (sessions: NodeSessions) => ClusterPresence;
  /** The clock, in milliseconds since the epoch (injected for tests). */
  now?: () => number;
  /** Receives one line per significant event. */
  log?: (line: string) => void;
}

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

/** The state of one chat server. */
export class Chat {
  readonly #now: () => number;
  readonly #log: (line: string) => void;
  readonly #flood: FloodControl;
  readonly #presence: Presence;
  readonly #rooms: Rooms;
  readonly #bus: FanoutBus;
  readonly #local: SessionDelivery;
  readonly #memberships: Memberships;
  readonly #accounts: Accounts;
  readonly #messaging: Messaging;
  readonly #peerChats: PeerChats;
  readonly #direct: DirectMessages;
  readonly #moderation: Moderation;
  readonly #search: Search;
  /** Who is online on the other servers of a cluster too; null for a server alone. */
  readonly #roster: ClusterRoster | null;

  constructor(options: ChatOptions) {
    const { store, state } = options;
    const now = this.#now = options.now ?? Date.now;
    const log = this.#log = options.log ?? (() => {});
    const admins = options.admins ?? new Set();
    const scryptCost = options.scryptCost ?? DEFAULT_SCRYPT_COST;
    const flood = this.#flood = new FloodControl(options.floodLimits ?? DEFAULT_FLOOD_LIMITS);
    const cluster = this.#roster = options.presence?.({
      close: (user, reason) => this.#closeHere(user, reason),
      closeAll: (reason) => {
        for (const session of [...this.#presence.sessions()]) this.#close(session, reason);
      },
    }) ?? null;
    const presence = this.#presence = new Presence({
      maxOnline: options.maxOnline,
      duplicateLogin: options.duplicateLogin ?? "refuse",
      replace: (earlier, reason) => this.#close(earlier, reason),
      log,
      claims: cluster ?? undefined,
    });
    const rooms = this.#rooms = new Rooms({
      store,
      stored: state.rooms,
      pollLog: options.pollLog,
      maxRooms: options.maxRooms ?? DEFAULT_MAX_ROOMS,
      maxRoomsPerUser: options.maxRoomsPerUser ?? DEFAULT_MAX_ROOMS_PER_USER,
      isAdmin: (user) => admins.has(user),
      share: (change) => this.#bus.share(change),
      now,
      log,
    });
    const local = this.#local = new SessionDelivery(rooms, presence);
    const ids = new MessageIds(state.lastMessageId);
    const node: NodeChat = {
      membersOf: (place) => rooms.at(place)?.size ?? 0,
      apply: (change) => this.#apply(change),
      sawMessage: (id) => ids.observe(id),
    };
    const bus = this.#bus = options.bus?.(local, node) ?? new InProcessBus(local);
    const invitations = new Invitations({
      bus,
      limits: options.invitationLimits ?? DEFAULT_INVITATION_LIMITS,
      now,
      log,
    });
    const memberships = this.#memberships = new Memberships({
      store,
      bus,
      invitations,
      ids,
      now,
    });
    this.#accounts = new Accounts({
      store,
      passwords: options.passwords ?? SCRYPT,
      scryptCost,
      scryptConcurrency: options.scryptConcurrency ?? DEFAULT_SCRYPT_CONCURRENCY,
      passwordCosts: state.passwordCosts,
      flood,
      now,
      log,
    });
    const messaging = this.#messaging = new Messaging({
      store,
      bus,
      ids,
      maxMessageChars: options.maxMessageChars ?? DEFAULT_MAX_MESSAGE_CHARS,
      maxHistoryBytes: options.maxHistoryBytes ?? DEFAULT_MAX_HISTORY_BYTES,
      historyConcurrency: options.historyConcurrency ?? DEFAULT_HISTORY_CONCURRENCY,
      now,
    });
    this.#peerChats = new PeerChats({
      store,
      presence,
      rooms,
      memberships,
      invitations,
      now,
      log,
    });
    this.#direct = new DirectMessages({ store, bus, presence, messaging, roster: cluster });
    this.#moderation = new Moderation({
      admins,
      bans: state.bans,
      store,
      bus,
      rooms,
      memberships,
      roster: cluster,
      now,
      log,
    });
    this.#search = new Search(store, options.searchLimits);
  }

  /** The current server time in milliseconds. */
  now(): number {
    return this.#now();
  }

  /** How many users are logged in. */
  get onlineCount(): number {
    return this.#presence.count;
  }

  /** Creates an account (see {@link Accounts.register}). */
  register(session: Session, username: string, password: string): Promise<Outcome> {
    return this.#accounts.register(session, username, password);
  }

  /**
   * Logs a session in (the user name is NFC-normalised first) once its
   * password is checked (see {@link Accounts.authenticate}), if the online
   * rules allow it (see {@link Presence.admit}).
   */
  async login(
    session: Session,
    username: string,
    password: string,
    push: boolean,
  ): Promise<Outcome> {
    if (session.user !== null) return { status: "ALREADY_LOGIN" };
    const user = await this.#accounts.authenticate(session, username, password);
    if (typeof user !== "string") return user;
    return { status: await this.#presence.admit(session, user, push) };
  }

  /**
   * Spends one of the user's message-rate tokens for a costly request
   * (posting, creating a room, searching); null when there was one, else
   * the RATE_LIMITED outcome.
   */
  takeMessageToken(session: Session): Outcome | null {
    const wait = this.#flood.messageWait(session.user!, this.#now());
    return wait === 0 ? null : rateLimited(wait, "too many messages; slow down");
  }

  /** Logs a session out (LOGOUT), leaving its room. */
  logout(session: Session): ChatStatus {
    return this.#logout(session, LOGGED_OUT);
  }

  /**
   * Forgets a session whose connection is gone (logs it out if needed, once
   * an event being delivered has reached everyone); a login of it still
   * being checked will not log it in.
   */
  disconnect(session: Session, reason: string): void {
    this.#presence.gone(session);
    if (session.user === null) return;
    this.#local.afterDelivery(() => this.#logout(session, { kind: "disconnected", reason }));
  }

  /** See {@link Rooms.page}. */
  roomPage(after: string | null, limit: number): { rooms: RoomCount[]; more: boolean } | null {
    return this.#rooms.page(after, limit);
  }

  /** See {@link Rooms.occupiedFirst}. */
  roomsOccupiedFirst(limit: number): RoomCount[] {
    return this.#rooms.occupiedFirst(limit);
  }

  /** Creates a room owned by the session's user (see {@link Rooms.create}). */
  createRoom(session: Session, name: string): Promise<Outcome> {
    return this.#rooms.create(session.user!, name);
  }

  /**
   * Moves a session into a public room, leaving the room or peer chat it was
   * in, for one of the user's room-change tokens; resolves once the
   * membership is recorded.
   */
  join(session: Session, name: string): Outcome | Promise<Outcome> {
    const room = this.#rooms.get(name);
    if (!room) {
      return { status: "NO_SUCH_ROOM", reason: "no such room; CREATE_ROOM makes one" };
    }
    const ban = this.#moderation.banOf(room.name, session.user!);
    if (ban) {
      return { status: "BANNED", reason: ban.reason || `banned by ${ban.bannedBy}` };
    }
    if (session.room === room) return { status: "OK" };
    const wait = this.#flood.joinWait(session.user!, this.#now());
    if (wait > 0) return rateLimited(wait, "too many room changes; slow down");
    return this.#memberships.moveTo(session, room).then(() => ({ status: "OK" }));
  }

  /** Takes a session out of its room or peer chat. */
  exitRoom(session: Session): ChatStatus {
    if (!session.current) return "NOT_IN_ROOM";
    this.#memberships.leave(session.current, LEFT);
    return "OK";
  }

  /**
   * The members of the session's room, or null when it is in none; in a
   * cluster, those of a public room on every server.
   */
  members(session: Session): string[] | null | Promise<string[]> {
    const room = session.room;
    if (this.#roster && room?.kind === "room") return this.#roster.membersOf(room.place);
    return room?.members.map((member) => member.session.user!) ?? null;
  }

  /** Every online user and where each is (in a cluster, on every server). */
  who(): Whereabouts[] | Promise<Whereabouts[]> {
    if (this.#roster) return this.#roster.who();
    return [...this.#presence.sessions()].map((session) => ({
      user: session.user!,
      place: session.room?.kind ?? "idle",
      name: session.room?.name ?? "",
      address: session.sink.address,
    }));
  }

  /** Posts a message to the session's room or peer chat (see {@link Messaging.post}). */
  post(session: Session, text: string): PostOutcome | Promise<PostOutcome> {
    return this.#messaging.post(session, text);
  }

  /** What a polling session has not read yet (see {@link Messaging.unread}). */
  receive(session: Session, maxChars: number): Promise<Unread> {
    return this.#messaging.unread(session, maxChars);
  }

  /** A page of stored messages (see {@link Messaging.history}). */
  history(session: Session, range: HistoryRange, withUser?: string): Promise<HistoryPage> {
    return this.#messaging.history(session, range, withUser);
  }

  /** The users the session's user has direct conversations with, the latest first. */
  directPartners(session: Session): Promise<string[]> {
    return this.#direct.partners(session);
  }

  /** One page of a search (see {@link Search.search}). */
  search(session: Session, query: string, page: SearchPageWanted): SearchAnswer {
    return this.#search.search(session, query, page);
  }

  /** Connects the session with an online peer in a peer chat (see {@link PeerChats.connect}). */
  peerConnect(session: Session, peerName: string): PeerOutcome | Promise<PeerOutcome> {
    return this.#peerChats.connect(session, peerName);
  }

  /** Lets a user who asked to join into the session's peer chat. */
  peerAccept(session: Session, userName: string): Outcome | Promise<Outcome> {
    return this.#peerChats.accept(session, userName);
  }

  /** Turns down a user who asked to join the session's peer chat. */
  peerDecline(session: Session, userName: string): Outcome {
    return this.#peerChats.decline(session, userName);
  }

  /** Leaves the session's peer chat ("bye"). */
  peerBye(session: Session): ChatStatus {
    return this.#peerChats.bye(session);
  }

  /** Sends a direct message to an online user (see {@link DirectMessages.send}). */
  direct(session: Session, toName: string, text: string): DirectOutcome | Promise<DirectOutcome> {
    return this.#direct.send(session, toName, text);
  }

  /** Kicks, bans or unbans a user (see {@link Moderation.moderate}). */
  moderate(
    session: Session,
    action: ModerationAction,
    targetName: string,
    options: { room?: string; reason?: string },
  ): Promise<Outcome> {
    return this.#moderation.moderate(session, action, targetName, options);
  }

  /**
   * Operator: disconnects an online user, telling them why, and has the
   * other servers of a cluster do so too. False when not online (in a
   * cluster: on no server).
   */
  kickFromServer(user: string, reason: string): boolean | Promise<boolean> {
    const name = user.normalize("NFC");
    if (this.#roster && !this.#presence.sessionOf(name)) {
      return this.#roster.isOnline(name).then((online) => {
        if (online) this.#bus.share({ type: "operator-kick", user: name, reason });
        return online;
      });
    }
    this.#bus.share({ type: "operator-kick", user: name, reason });
    return this.#kickHere(name, reason);
  }

  /** Disconnects the user's session on this server; false when there is none. */
  #kickHere(user: string, reason: string): boolean {
    if (!this.#closeHere(user, reason)) return false;
    this.#log(`kicked-by-operator user=${JSON.stringify(user)}`);
    return true;
  }

  /** Closes the user's session on this server, if any. */
  #closeHere(user: string, reason: string): boolean {
    const session = this.#presence.sessionOf(user);
    if (!session) return false;
    this.#close(session, reason);
    return true;
  }

  /** Takes over a change another server of the cluster made. */
  #apply(change: SharedChange): void {
    switch (change.type) {
      case "room-created":
        this.#rooms.adopt(change.room);
        break;
      case "banned":
        this.#moderation.adoptBan(change.ban);
        break;
      case "unbanned":
        this.#moderation.adoptUnban(change.room, change.user);
        break;
      case "kicked":
        this.#moderation.adoptKick(change.room, change.user, change.by, change.reason);
        break;
      case "replaced":
        this.#closeHere(change.user, REPLACED_ELSEWHERE);
        break;
      case "operator-kick":
        this.#kickHere(change.user, change.reason);
        break;
    }
  }

  /**
   * Operator: a notice to every push connection; returns how many got it
   * (in a cluster, on every server).
   */
  broadcast(text: string): number | Promise<number> {
    this.#bus.publish(EVERYONE, { type: "notice", time: this.#now(), text }, 0);
    if (this.#roster) {
      return this.#roster.pushed().then((reached) => {
        this.#log(`broadcast reached=${reached} cluster`);
        return reached;
      });
    }
    let reached = 0;
    for (const session of this.#presence.sessions()) if (session.push) reached++;
    this.#log(`broadcast reached=${reached}`);
    return reached;
  }

  /** Closes a session's connection for `reason`, and logs it out. */
  #close(session: Session, reason: string): void {
    session.sink.close(reason);
    this.#logout(session, { kind: "disconnected", reason });
  }

  #logout(session: Session, cause: LeaveCause): ChatStatus {
    if (session.user === null) return "NOT_LOGIN";
    this.#memberships.leaveAll(session, cause);
    this.#presence.remove(session);
    const reason = cause.kind === "disconnected" ? cause.reason : "";
    this.#log(
      `logout session=${session.id} user=${JSON.stringify(session.user)}` +
        (reason ? ` reason=${JSON.stringify(reason)}` : ""),
    );
    session.user = null;
    session.push = false;
    return "OK";
  }
}
