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

import { directRoomName } from "../protocol/direct_room_name.ts";
import { DEFAULT_MAX_MESSAGE_CHARS } from "../protocol/message_text.ts";
import { nameProblem } from "../protocol/names.ts";
import type { ChatStore, HistoryRange, StoredState } from "../store/store.ts";
import { Accounts } from "./accounts.ts";
import { ClusterAsks, DEFAULT_CLUSTER_ANSWER_MS } from "./cluster_asks.ts";
import { DirectMessages, type DirectOutcome } from "./direct_messages.ts";
import { type ChatEvent, type LeaveCause, LEFT, LOGGED_OUT } from "./events.ts";
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
import {
  DEFAULT_FLOOD_LIMITS,
  FloodControl,
  type FloodLimits,
  type SharedBucket,
} from "./limits/flood_control.ts";
import { type LimitsNode, type SharedLimits, SPENT_PER_NOTE } from "./limits/shared_limits.ts";
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
import { DEFAULT_MAX_DEVICES, type DuplicateLoginPolicy, Presence } from "./presence.ts";
import { type ClusterPresence, type NodeSessions, REPLACED_ELSEWHERE } from "./presence_claims.ts";
import type { PollLogLimits, Room } from "./room.ts";
import { DEFAULT_MAX_ROOMS, DEFAULT_MAX_ROOMS_PER_USER, type RoomCount, Rooms } from "./rooms.ts";
import { Search, type SearchAnswer, type SearchLimits, type SearchPageWanted } from "./search.ts";
import type { Session } from "./session.ts";
import { newToken, tokenHash, TOKENS_PER_USER } from "./tokens.ts";

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
  /** Most 2.1 sessions (devices) of one user at once. Default {@link DEFAULT_MAX_DEVICES}. */
  maxDevices?: number;
  /** Most public rooms one user belongs to (2.1). Default {@link DEFAULT_MAX_JOINED_ROOMS}. */
  maxJoinedRooms?: number;
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
  /**
   * Makes the limits this server holds together with the others of a
   * cluster, given the flood limits and what they may ask of this server.
   * Default none: the server's own limits are all there are.
   */
  sharedLimits?: (limits: FloodLimits, node: LimitsNode) => SharedLimits;
  /**
   * How long this server waits for another server of its cluster to answer
   * (PEER_CONNECT to a user there). Default {@link DEFAULT_CLUSTER_ANSWER_MS}.
   */
  clusterAnswerMs?: number;
  /** The clock, in milliseconds since the epoch (injected for tests). */
  now?: () => number;
  /** Receives one line per significant event. */
  log?: (line: string) => void;
}

/** Most public rooms one user belongs to at once (2.1), unless told otherwise. */
export const DEFAULT_MAX_JOINED_ROOMS = 100;

/** The outcome of a login or a password change: in a 2.1 session, a new sign-in token. */
export type LoginOutcome = Outcome & { token?: string };

/** A public room on a page of the list, as a 2.1 session sees it. */
export interface RoomRow extends RoomCount {
  /** Whether the session's user belongs to it. */
  joined: boolean;
  /** Messages after the user's read position (0 unless joined). */
  unread: number;
  /** Those that mention the user. */
  mentions: number;
}

/** A conversation (direct or peer chat) and what the session's user has not read in it. */
export interface ConversationRow {
  /** The other user of a direct conversation, or the name of a peer chat. */
  name: string;
  /** A peer chat's users present; 2 for a direct conversation. */
  members: number;
  unread: number;
  mentions: number;
}

/** A member of a place (2.1): who belongs, or is in it, and whether they are online. */
export interface MemberRow {
  name: string;
  online: boolean;
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
  readonly #store: ChatStore;
  readonly #log: (line: string) => void;
  readonly #flood: FloodControl;
  /** The limits held with the other servers of a cluster; null for a server alone. */
  readonly #shared: SharedLimits | null;
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
  readonly #ids: MessageIds;
  readonly #maxJoinedRooms: number;
  /** Who is online on the other servers of a cluster too; null for a server alone. */
  readonly #roster: ClusterPresence | null;
  /** Questions to the other servers of a cluster; null for a server alone. */
  readonly #asks: ClusterAsks | null;

  constructor(options: ChatOptions) {
    const { store, state } = options;
    this.#store = store;
    this.#maxJoinedRooms = options.maxJoinedRooms ?? DEFAULT_MAX_JOINED_ROOMS;
    const now = this.#now = options.now ?? Date.now;
    const log = this.#log = options.log ?? (() => {});
    const admins = options.admins ?? new Set();
    const scryptCost = options.scryptCost ?? DEFAULT_SCRYPT_COST;
    const floodLimits = options.floodLimits ?? DEFAULT_FLOOD_LIMITS;
    const flood = this.#flood = new FloodControl(floodLimits);
    const shared = this.#shared = options.sharedLimits?.(floodLimits, {
      shareSpent: () => this.#shareSpent(),
    }) ?? null;
    if (shared) flood.tallySpending(() => shared.spendingBegan?.());
    const cluster = this.#roster = options.presence?.({
      close: (user, reason) => this.#closeHere(user, reason),
      closeAll: (reason) => {
        for (const session of [...this.#presence.sessions()]) this.#close(session, reason);
      },
      renewed: () => {
        this.#peerChats.sweep().catch((error) => this.#log(`peer-chat-sweep-failed ${error}`));
      },
    }) ?? null;
    const presence = this.#presence = new Presence({
      maxOnline: options.maxOnline,
      duplicateLogin: options.duplicateLogin ?? "refuse",
      maxDevices: options.maxDevices ?? DEFAULT_MAX_DEVICES,
      replace: (earlier, reason) => this.#close(earlier, reason),
      log,
      claims: cluster ?? undefined,
      now: () => this.#now(),
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
    const ids = this.#ids = new MessageIds(state.lastMessageId);
    const node: NodeChat = {
      membersOf: (place) => rooms.at(place)?.size ?? 0,
      isHere: (user) => presence.sessionOf(user) !== undefined,
      // a user's 2.1 devices are never beside a session of another version
      hasDevicesHere: (user) => presence.sessionOf(user)?.v21 ?? false,
      apply: (change) => this.#apply(change),
      sawMessage: (id) => ids.observe(id),
      heard: (event) => this.#peerChats.heard(event),
      relinked: () => this.#catchUp(),
    };
    const bus = this.#bus = options.bus?.(local, node) ?? new InProcessBus(local);
    const invitations = new Invitations({
      bus,
      limits: options.invitationLimits ?? DEFAULT_INVITATION_LIMITS,
      forget: (peerChat) => rooms.forget(peerChat),
      now,
      log,
    });
    const memberships = this.#memberships = new Memberships({
      store,
      bus,
      invitations,
      ids,
      presence,
      rooms,
      now,
    });
    for (const { room, user } of state.belongings) {
      const stored = rooms.get(room);
      if (stored) memberships.restore(stored, user);
    }
    this.#accounts = new Accounts({
      store,
      passwords: options.passwords ?? SCRYPT,
      scryptCost,
      scryptConcurrency: options.scryptConcurrency ?? DEFAULT_SCRYPT_CONCURRENCY,
      passwordCosts: state.passwordCosts,
      flood,
      shared,
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
    const asks = this.#asks = cluster
      ? new ClusterAsks(
        (id, question) => bus.share({ type: "peer-ask", id, question }),
        (question, answer) => this.#peerChats.late(question, answer),
        options.clusterAnswerMs ?? DEFAULT_CLUSTER_ANSWER_MS,
      )
      : null;
    this.#peerChats = new PeerChats({
      store,
      presence,
      rooms,
      memberships,
      invitations,
      bus,
      local,
      cluster: cluster && asks && { roster: cluster, asks },
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

  /**
   * Creates an account (see {@link Accounts.register}), unless a guest
   * online goes by the name or a look-alike.
   */
  register(session: Session, username: string, password: string): Promise<Outcome> {
    const user = username.normalize("NFC");
    if (nameProblem(user) === null && this.#presence.isHeld(user)) {
      return Promise.resolve({ status: "NAME_TAKEN", reason: "someone online goes by that name" });
    }
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
  ): Promise<LoginOutcome> {
    if (session.user !== null) return { status: "ALREADY_LOGIN" };
    const user = await this.#accounts.authenticate(session, username, password);
    if (typeof user !== "string") return user;
    if (!session.v21) return { status: await this.#presence.admit(session, user, push) };
    const admitted = await this.#admit(session, user, push);
    return admitted.status === "OK" ? this.#withNewToken(session, admitted) : admitted;
  }

  /**
   * Logs a 2.1 session in with a sign-in token instead of a password (see
   * {@link Accounts.authenticateToken}); it keeps that token.
   */
  async resume(session: Session, username: string, token: string, push: boolean): Promise<Outcome> {
    if (session.user !== null) return { status: "ALREADY_LOGIN" };
    const user = await this.#accounts.authenticateToken(session, username, token);
    if (typeof user !== "string") return user;
    const admitted = await this.#admit(session, user, push);
    if (admitted.status === "OK") session.tokenHash = tokenHash(token);
    return admitted;
  }

  /**
   * Changes the password of the session's user (see
   * {@link Accounts.changePassword}); every token of theirs is dropped, and
   * a 2.1 session gets a new one.
   */
  async changePassword(session: Session, old: string, password: string): Promise<LoginOutcome> {
    const outcome = await this.#accounts.changePassword(session, old, password);
    if (outcome.status !== "OK" || !session.v21 || session.user === null) return outcome;
    return this.#withNewToken(session, outcome);
  }

  /**
   * The public rooms a user belongs to but is banned from (a ban that
   * crossed their joining between servers) are theirs no more.
   */
  #forgetBannedRooms(user: string): void {
    for (const room of [...this.#memberships.roomsOf(user)]) {
      if (!this.#moderation.banOf(room.name, user)) continue;
      this.#memberships.forget(room, user).catch((error) =>
        this.#log(`forget-banned-room-failed room=${JSON.stringify(room.name)} ${error}`)
      );
    }
  }

  /** A 2.1 session comes online, into every place its user belongs to. */
  async #admit(session: Session, user: string, push: boolean): Promise<Outcome> {
    const status = await this.#presence.admit(session, user, push);
    const here = this.#presence.sessionsOf(user);
    if (status === "ALREADY_ONLINE" && here.every((s) => s.v21)) {
      // none here: the cluster refused, and does not say why
      const reason = here.length > 0
        ? "signed in on as many devices as one user may be"
        : "online elsewhere without 2.1, or on as many devices as one user may be";
      return { status, reason };
    }
    if (status === "OK") {
      this.#forgetBannedRooms(user);
      this.#memberships.arrive(session);
      this.#roster?.arrived(user, [...session.memberships.keys()].map((room) => room.place));
    }
    return { status };
  }

  /** The outcome with a new sign-in token of the session's user, which it keeps. */
  async #withNewToken(session: Session, outcome: Outcome): Promise<LoginOutcome> {
    const token = newToken();
    const hash = tokenHash(token);
    const user = session.user!;
    await this.#store.saveToken({ hash, user, createdAt: this.#now() }, TOKENS_PER_USER);
    session.tokenHash = hash;
    return { ...outcome, token };
  }

  /**
   * Logs a session in as a guest: by name alone (NFC-normalised first),
   * under the rules of names. The name is the guest's only while connected:
   * it may not be, or look like, the name of an account (NAME_TAKEN) or of
   * anyone online (ALREADY_ONLINE); INVALID_NAME says what is wrong with it.
   * Refusals slow down further attempts from the address, as failed logins
   * do. A guest's rooms are owned by nobody (see {@link Chat.createRoom}),
   * and guests have no direct messages (see {@link Chat.direct}).
   */
  async loginGuest(session: Session, name: string, push: boolean): Promise<Outcome> {
    if (session.user !== null) return { status: "ALREADY_LOGIN" };
    let wait = this.#flood.guestWait(session.ip, this.#now());
    if (wait === 0 && this.#shared) wait = await this.#shared.addressWait(session.ip, this.#now());
    if (wait > 0) return rateLimited(wait, "too many refused logins; wait before trying again");
    const outcome = await this.#admitGuest(session, name.normalize("NFC"), push);
    if (outcome.status !== "OK") {
      this.#flood.guestRefused(session.ip, this.#now());
      if (this.#shared) await this.#shared.addressFailed(session.ip, this.#now());
      this.#log(`guest-refused session=${session.id} status=${outcome.status}`);
    }
    return outcome;
  }

  async #admitGuest(session: Session, user: string, push: boolean): Promise<Outcome> {
    const problem = nameProblem(user);
    if (problem) return { status: "INVALID_NAME", reason: problem };
    if (this.#presence.isHeld(user)) return guestOnline(user);
    // held while the store looks, so that no REGISTER or other guest takes it meanwhile
    this.#presence.hold(user);
    let account: string | null;
    try {
      account = await this.#store.accountLike(user);
    } finally {
      this.#presence.release(user);
    }
    if (account !== null) {
      // the look-alike of a user online is refused as such (only guests are held in presence)
      if (this.#presence.sessionsOf(account).length > 0) return guestOnline(user);
      return {
        status: "NAME_TAKEN",
        reason: account === user
          ? "that name is an account's; log in with its password"
          : "that name looks like an account's",
      };
    }
    const status = await this.#presence.admit(session, user, push, true);
    return status === "ALREADY_ONLINE" ? guestOnline(user) : { status };
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

  /**
   * Logs a session out (LOGOUT), leaving its room; the token it signed in
   * with (2.1) is dropped. `everywhere`: every token of the user is, and
   * their other sessions are closed.
   */
  logout(session: Session, everywhere = false): ChatStatus | Promise<ChatStatus> {
    const { user, tokenHash } = session;
    if (user === null) return "NOT_LOGIN";
    if (everywhere) {
      for (const other of this.#presence.sessionsOf(user)) {
        if (other !== session) this.#close(other, SIGNED_OUT);
      }
      this.#bus.share({ type: "signed-out", user });
    }
    const status = this.#logout(session, LOGGED_OUT);
    if (!everywhere && tokenHash === null) return status;
    return this.#store.dropTokens(user, everywhere ? undefined : tokenHash!).then(() => status);
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

  /**
   * A page of the public rooms as a 2.1 session lists them: whether its
   * user belongs to each, and what they have not read there. Null when
   * `after` names no room.
   */
  async roomRows(
    session: Session,
    after: string | null,
    limit: number,
  ): Promise<{ rooms: RoomRow[]; more: boolean } | null> {
    const page = this.#rooms.page(after, limit);
    if (!page) return null;
    const user = session.user!;
    const belongs = this.#memberships.roomsOf(user);
    const joined = page.rooms.map(({ name }) => belongs.has(this.#rooms.get(name)!));
    const names = page.rooms.filter((_, i) => joined[i]).map((room) => room.name);
    const counts = await this.#store.readCounts("room", names, user);
    let next = 0;
    const rooms = page.rooms.map((room, i) => {
      const { unread, mentions } = joined[i] ? counts[next++] : { unread: 0, mentions: 0 };
      return { ...room, joined: joined[i], unread, mentions };
    });
    return { rooms, more: page.more };
  }

  /** The direct conversations of the session's user, the latest first, with what they have not read. */
  async directRows(session: Session): Promise<ConversationRow[]> {
    const user = session.user!;
    const partners = await this.#direct.partners(session);
    const names = partners.map((partner) => directRoomName(user, partner));
    const counts = await this.#store.readCounts("direct", names, user);
    return partners.map((name, i) => ({ name, members: 2, ...counts[i] }));
  }

  /** The peer chats the session is in, with what its user has not read there. */
  async peerChatRows(session: Session): Promise<ConversationRow[]> {
    const peerChats = [...session.memberships.keys()].filter((room) => room.kind === "group");
    const names = peerChats.map((room) => room.name);
    const counts = await this.#store.readCounts("group", names, session.user!);
    return peerChats.map((room, i) => ({
      name: room.name,
      members: room.users + room.elsewhere.size,
      ...counts[i],
    }));
  }

  /**
   * Moves the read position of the session's user in a place up to the
   * message `id`: a room or peer chat the session is in, or with `withUser`
   * their direct conversation. Their other sessions are told.
   */
  async markRead(
    session: Session,
    place: { room?: string; withUser?: string },
    id: number,
  ): Promise<Outcome> {
    const user = session.user!;
    if (id > this.#ids.last) return { status: "BAD_REQUEST", reason: "Id names no message yet" };
    let event: ChatEvent;
    if (place.withUser !== undefined) {
      const other = place.withUser.normalize("NFC");
      if (nameProblem(other) || other === user) return { status: "NO_SUCH_USER" };
      await this.#store.markRead("direct", directRoomName(user, other), user, id);
      event = { type: "read", place: null, with: other, id, time: this.#now() };
    } else {
      const room = this.#memberships.find(session, place.room)?.room;
      if (!room) return { status: "NOT_IN_ROOM" };
      await this.#store.markRead(room.kind, room.name, user, id);
      event = { type: "read", place: room.place, with: null, id, time: this.#now() };
    }
    this.#bus.publish({ kind: "user", user }, event, session.id);
    return { status: "OK" };
  }

  /** See {@link Rooms.occupiedFirst}. */
  roomsOccupiedFirst(limit: number): RoomCount[] {
    return this.#rooms.occupiedFirst(limit);
  }

  /**
   * Creates a room owned by the session's user (see {@link Rooms.create}).
   * A guest's room is owned by nobody: a guest's name may belong to someone
   * else once they leave, and with it the right to kick and ban there.
   */
  createRoom(session: Session, name: string): Promise<Outcome> {
    return this.#rooms.create(session.user!, name, session.guest ? session.ip : undefined);
  }

  /** Makes a public room owned by nobody unless it exists (a listener's own room). */
  async ensureRoom(name: string): Promise<Outcome> {
    if (this.#rooms.get(name)) return { status: "OK" };
    return await this.#rooms.create(null, name);
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
    // a 2.1 session switches to a room its user belongs to
    const membership = session.memberships.get(room);
    if (membership) {
      session.current = membership;
      return { status: "OK" };
    }
    if (session.v21 && this.#memberships.roomsOf(session.user!).size >= this.#maxJoinedRooms) {
      return {
        status: "NOT_ALLOWED",
        reason: `you are in ${this.#maxJoinedRooms} rooms, the most one user may; leave one first`,
      };
    }
    const wait = this.#flood.joinWait(session.user!, this.#now());
    if (wait > 0) return rateLimited(wait, "too many room changes; slow down");
    const joined = session.v21
      ? this.#memberships.join(session, room, true)
      : this.#memberships.moveTo(session, room);
    return joined.then(() => ({ status: "OK" }));
  }

  /**
   * Takes a session out of its room or peer chat; a 2.1 session's user out
   * of the one named `room` (by default the current one), with every
   * session, and no longer belonging to it.
   */
  exitRoom(session: Session, room?: string): ChatStatus | Promise<ChatStatus> {
    const membership = this.#memberships.find(session, room);
    if (!membership) return "NOT_IN_ROOM";
    if (!session.v21) {
      this.#memberships.leave(membership, LEFT);
      return "OK";
    }
    return this.#memberships.remove(session.user!, membership.room, LEFT, session)
      .then(() => "OK");
  }

  /**
   * The users in the session's room (or, 2.1, the one named), each once,
   * in the order they came; null when it is in none. In a cluster, those of
   * a public room on every server.
   */
  members(session: Session, room?: string): string[] | null | Promise<string[]> {
    const place = this.#memberships.find(session, room)?.room;
    if (!place) return null;
    if (this.#roster && place.kind === "room") return this.#roster.membersOf(place.place);
    return place.userNames();
  }

  /**
   * The members of a place as a 2.1 session lists them: those who belong
   * to a public room, online or not, then those in it who do not; null
   * when the session is in no such place.
   */
  memberRows(session: Session, room?: string): MemberRow[] | null | Promise<MemberRow[]> {
    const place = this.#memberships.find(session, room)?.room;
    if (!place) return null;
    const belonging = [...place.belonging.values()];
    const here = (name: string) => this.#presence.sessionsOf(name).length > 0;
    if (!this.#roster || place.kind !== "room") {
      return memberRowsOf(belonging, here, place.userNames());
    }
    // in a cluster, online or in the room on any server (this one's sessions count at once)
    const asked = [this.#roster.onlineOf(belonging), this.#roster.membersOf(place.place)] as const;
    return Promise.all(asked).then(([online, inRoom]) =>
      memberRowsOf(
        belonging,
        (name) => online.has(name) || here(name),
        [...new Set([...inRoom, ...place.userNames()])],
      )
    );
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

  /**
   * Posts a message to the session's room or peer chat, or (2.1) the one
   * named `room` (see {@link Messaging.post}).
   */
  post(session: Session, text: string, room?: string): PostOutcome | Promise<PostOutcome> {
    return this.#messaging.post(session, text, this.#memberships.find(session, room)?.room ?? null);
  }

  /** What a polling session has not read yet (see {@link Messaging.unread}). */
  receive(session: Session, maxChars: number, room?: string): Promise<Unread> {
    return this.#messaging.unread(session, maxChars, () => this.#memberships.find(session, room));
  }

  /** A page of stored messages (see {@link Messaging.history}). */
  history(
    session: Session,
    range: HistoryRange,
    withUser?: string,
    room?: string,
  ): Promise<HistoryPage> {
    const membership = this.#memberships.find(session, room);
    return this.#messaging.history(session, range, withUser, membership);
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
  peerDecline(session: Session, userName: string): Outcome | Promise<Outcome> {
    return this.#peerChats.decline(session, userName);
  }

  /** Leaves the session's peer chat, or (2.1) the one named `room` ("bye"). */
  peerBye(session: Session, room?: string): ChatStatus {
    return this.#peerChats.bye(session, this.#memberships.find(session, room));
  }

  /**
   * Sends a direct message to an online user (see {@link DirectMessages.send}).
   * Guests neither send nor get them: direct conversations are kept by name,
   * and a guest's name may be someone else's later.
   */
  direct(session: Session, toName: string, text: string): DirectOutcome | Promise<DirectOutcome> {
    if (session.guest || this.#presence.sessionOf(toName.normalize("NFC"))?.guest) {
      return { status: "NOT_ALLOWED", reason: "guests have no direct messages" };
    }
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
        if (online) this.#bus.share({ type: "operator-kick", user: name, reason, at: this.#now() });
        return online;
      });
    }
    this.#bus.share({ type: "operator-kick", user: name, reason, at: this.#now() });
    return this.#kickHere(name, reason);
  }

  /**
   * Disconnects the user's sessions on this server (those logged in by
   * `before`, when given); false when there is none.
   */
  #kickHere(user: string, reason: string, before = Infinity): boolean {
    if (!this.#closeHere(user, reason, before)) return false;
    this.#log(`kicked-by-operator user=${JSON.stringify(user)}`);
    return true;
  }

  /** Closes the user's sessions on this server (logged in by `before`), if any. */
  #closeHere(user: string, reason: string, before = Infinity): boolean {
    const sessions = this.#presence.sessionsOf(user).filter((s) => s.loggedInAt <= before);
    if (sessions.length === 0) return false;
    for (const session of sessions) this.#close(session, reason);
    return true;
  }

  /** Takes over a change another server of the cluster made. */
  #apply(change: SharedChange): void {
    switch (change.type) {
      case "room-created":
        this.#rooms.adopt(change.room);
        break;
      case "banned": {
        const room = this.#rooms.get(change.ban.room);
        if (room) this.#leaveRemoved(room, change.ban.user, change.told, change.teller);
        this.#moderation.adoptBan(change.ban);
        break;
      }
      case "unbanned":
        this.#moderation.adoptUnban(change.room, change.user);
        break;
      case "kicked": {
        const room = this.#rooms.get(change.room);
        if (room) this.#leaveRemoved(room, change.user, change.told, change.teller);
        this.#moderation.adoptKick(change.room, change.user, change.by, change.reason);
        break;
      }
      case "replaced": {
        if (change.node === undefined) this.#closeHere(change.user, REPLACED_ELSEWHERE);
        else if (change.node === this.#roster?.node) {
          // one device too many, and the oldest is here
          const oldest = this.#presence.sessionOf(change.user);
          if (oldest) this.#close(oldest, REPLACED_ELSEWHERE);
        }
        break;
      }
      case "signed-out":
        this.#closeHere(change.user, SIGNED_OUT);
        break;
      case "operator-kick":
        this.#kickHere(change.user, change.reason, change.at);
        break;
      case "belonging": {
        const room = this.#rooms.get(change.room);
        if (room) this.#memberships.adoptBelonging(room, change.user, change.belongs);
        break;
      }
      case "peer-ask":
        this.#peerChats.answer(change.question).then((answer) => {
          if (answer) this.#bus.share({ type: "peer-answer", id: change.id, answer });
        }, (error) => this.#log(`peer-ask-failed ${error}`));
        break;
      case "peer-answer":
        this.#asks?.answered(change.id, change.answer);
        break;
      case "spent":
        for (const [user, count] of change.spent) {
          this.#flood.spentElsewhere(change.bucket, user, count, this.#now());
        }
        break;
    }
  }

  /**
   * A user removed from a room on another server no longer belongs to it
   * here, and their sessions here leave it silently, when that server told
   * the room. When it did not (it did not know them to be in it: a 2.0
   * session elsewhere, or a 2.1 user whose joining had not reached it),
   * the `teller` it chose of the servers where the user is takes them out
   * as a removal there would, telling the room once (the moderation's
   * adopt… after this); with none chosen, each server holding the user's
   * sessions in the room does.
   */
  #leaveRemoved(room: Room, user: string, told: boolean, teller: string | undefined): void {
    const tells = !told &&
      (teller === undefined
        ? this.#presence.sessionsOf(user).some((session) => session.memberships.has(room))
        : teller === this.#roster?.node);
    if (!tells) this.#memberships.adoptBelonging(room, user, false);
  }

  /**
   * After the link between the servers was down: the public rooms made,
   * the bans made or lifted and who came to belong or left on other servers
   * meanwhile, from the store (their notes may be lost).
   */
  #catchUp(): void {
    const catchUpBans = this.#moderation.catchUpBans();
    const catchUpBelonging = this.#memberships.catchUpBelonging();
    this.#store.load().then((state) => {
      const rooms = state.rooms.filter((room) => this.#rooms.adopt(room)).length;
      const bans = catchUpBans(state.bans);
      const belonging = catchUpBelonging(state.belongings, (name) => this.#rooms.get(name));
      this.#log(
        `cluster-catch-up rooms=${rooms} bans=${bans.made} unbans=${bans.lifted} ` +
          `joined=${belonging.joined} left=${belonging.left}`,
      );
    }, (error) => {
      catchUpBans(null);
      catchUpBelonging(null, () => undefined);
      this.#log(`cluster-catch-up-failed ${JSON.stringify(String(error))}`);
    });
  }

  /** Tells the other servers of a cluster what this one's users spent (see `LimitsNode`). */
  #shareSpent(): void {
    const spending = this.#flood.takeSpending();
    for (const bucket of ["messages", "joins"] as SharedBucket[]) {
      const spent = [...spending[bucket]];
      for (let i = 0; i < spent.length; i += SPENT_PER_NOTE) {
        this.#bus.share({ type: "spent", bucket, spent: spent.slice(i, i + SPENT_PER_NOTE) });
      }
    }
  }

  /**
   * In a cluster: whether the link between the servers is down, so that
   * what this server tells the others now (an operator's KICK or
   * BROADCAST) reaches them only from the database, where it is kept for a
   * minute, or once the link is back (held for a minute at most).
   */
  get busDown(): boolean {
    return this.#bus.linkUp?.() === false;
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
    session.guest = false;
    this.#log(
      `logout session=${session.id} user=${JSON.stringify(session.user)}` +
        (reason ? ` reason=${JSON.stringify(reason)}` : ""),
    );
    session.user = null;
    session.push = false;
    return "OK";
  }
}

/**
 * The rows of a 2.1 member list: the names in `belonging` (online or not),
 * then the others `present` in the place, online.
 */
function memberRowsOf(
  belonging: readonly string[],
  online: (name: string) => boolean,
  present: readonly string[],
): MemberRow[] {
  const rows = belonging.map((name) => ({ name, online: online(name) }));
  const listed = new Set(belonging);
  for (const name of present) if (!listed.has(name)) rows.push({ name, online: true });
  return rows;
}

/** The reason the other sessions of a user who signs out everywhere are closed for. */
const SIGNED_OUT = "signed out everywhere";

/** A guest login refused because someone online goes by the name or a look-alike. */
function guestOnline(user: string): Outcome {
  return { status: "ALREADY_ONLINE", reason: `${user} or a look-alike name is online` };
}
