/**
 * The Claptrap client library: one connection to a server, requests that
 * resolve to their responses (pipelined, answered in order) and an async
 * iterator of pushed events.
 * @module
 */

import { type MessageLine, parseMessageLines, parseRows, splitLines } from "../protocol/content.ts";
import { FrameDecoder } from "../protocol/frame.ts";
import { encodeMessage, type Message, parseMessage } from "../protocol/message.ts";
import { Event, isEventMethod, PROTOCOL_VERSION, Request, Status } from "../protocol/methods.ts";
import { parseRoomPage, readRoomPages, type RoomPage } from "../protocol/room_list.ts";

/** Largest frame the client accepts from a server by default (16 MiB). */
export const CLIENT_MAX_FRAME_SIZE = 16 * 1024 * 1024;

/**
 * Most LIST_ROOMS pages {@link ChatClient.rooms} reads (a page holds up to
 * 1,000 rooms): a bound, so that a server that always says `More: yes`
 * cannot keep the client asking.
 */
export const MAX_ROOM_PAGES = 1_000;

/** Where to connect. */
export interface ConnectOptions {
  /** Server host. Default `127.0.0.1`. */
  host?: string;
  /** Server port. Default 6666. */
  port?: number;
  /** Largest frame accepted from the server. Default 16 MiB. */
  maxFrameSize?: number;
  /** Connect over TLS. Default false, unless `caCerts` is given. */
  tls?: boolean;
  /**
   * Certificates (PEM) to trust besides the system's, e.g. a server's
   * self-signed one. Giving them implies `tls`.
   */
  caCerts?: string[];
}

/**
 * The TLS handshake with the server failed. The message says why in words
 * (e.g. that the server's certificate is not trusted); `cause` is Deno's error.
 */
export class TlsError extends Error {
  /** Always `TlsError`. */
  override name = "TlsError";
  /** rustls's name of the problem, e.g. `UnknownIssuer`, when it gave one. */
  readonly problem: string | null;

  /** Describes `error`, Deno's, from connecting over TLS to `host`. */
  constructor(error: Error, host: string) {
    // e.g. "invalid peer certificate: UnknownIssuer", or "...: Other(OtherError(CaUsedAsEndEntity))"
    const problem = error.message.match(/invalid peer certificate: (?:\w+\()*(\w+)/)?.[1] ?? null;
    super(describeTlsFailure(error.message, problem, host), { cause: error });
    this.problem = problem;
  }
}

/** One line on why a TLS handshake failed, from Deno's message and rustls's problem name. */
function describeTlsFailure(message: string, problem: string | null, host: string): string {
  switch (problem) {
    case null:
      return /corrupt message|InvalidContentType|close_notify|unexpected EOF/i.test(message)
        ? `the server does not speak TLS there (${message})`
        : `TLS handshake failed: ${message}`;
    case "UnknownIssuer":
      return "the server's certificate is not trusted: it is self-signed or from an unknown " +
        "certificate authority (UnknownIssuer)";
    case "BadSignature":
      return "the server's certificate is not trusted: it is not signed by the trusted " +
        "certificate of its issuer's name (BadSignature)";
    case "CaUsedAsEndEntity":
      return "the server's certificate is a CA certificate, which cannot be a server's own " +
        "(CaUsedAsEndEntity)";
    case "NotValidForName":
      return `the server's certificate is not valid for ${host} (NotValidForName)`;
    case "Expired":
      return "the server's certificate has expired (Expired)";
    case "NotValidYet":
      return "the server's certificate is not valid yet (NotValidYet)";
    default:
      return `the server's certificate is not accepted (${problem})`;
  }
}

/** A room as listed by the server. */
export interface RoomInfo {
  /** The room's name. */
  name: string;
  /** Users in it now. */
  members: number;
}

/** A message of a room's history. */
export interface HistoryMessage {
  /** The message's id, unique and increasing across the server. */
  id: number;
  /** The sender's user name. */
  from: string;
  /** When the server accepted it: ISO 8601 UTC. */
  time: string;
  /** The text. */
  content: string;
}

/** One page of a room's history, from {@link ChatClient.history}. */
export interface HistoryPage {
  /** The room it is from: the current one, or the direct conversation's. */
  room: string;
  /** Whether the room has older messages than these (newer ones, when paging with `after`). */
  more: boolean;
  /** The messages, oldest first. */
  messages: HistoryMessage[];
}

/** A message found by {@link ChatClient.search}. */
export interface SearchResult {
  /** The message's id. */
  id: number;
  /** The room it was posted in. */
  room: string;
  /** The sender's user name. */
  from: string;
  /** When the server accepted it: ISO 8601 UTC. */
  time: string;
  /** An excerpt of the text with each match between `[` and `]`. */
  snippet: string;
}

/** One page of results, from {@link ChatClient.search}. */
export interface SearchResultPage {
  /** The matches, newest first. */
  results: SearchResult[];
  /**
   * How many messages match: all of them below where the page started,
   * unless `partial`, when at least this many do.
   */
  total: number;
  /** Whether the server left older messages unsearched (it looks through so many per page). */
  partial: boolean;
  /** Where the next page starts: pass it as `before`; null when there is nothing older. */
  next: number | null;
}

/** What the server said to {@link ChatClient.hello}. */
export interface HelloResult {
  /** The protocol version the server speaks, `MAJOR.MINOR`. */
  version: string;
  /** What the server can do beyond the original protocol, e.g. `push`, `peer`, `poem`. */
  capabilities: string[];
  /** The server's name, e.g. `Claptrap`. */
  server: string;
}

/** The answer to {@link ChatClient.ping}. */
export interface Pong {
  /** The token the ping carried, echoed; absent when it carried none. */
  token?: string;
  /** The server's time: ISO 8601 UTC. */
  time: string;
}

/**
 * Whether a room event happened in a public room (`room`) or in a peer chat
 * (`group`).
 */
export type PlaceKind = "room" | "group";

/** Where a user is: a public room, a peer chat (`group`), or neither. */
export type Place = PlaceKind | "idle";

/** An online user, from {@link ChatClient.who}. */
export interface WhoEntry {
  /** The user's name. */
  user: string;
  /** Whether the user is in a public room, a peer chat or neither. */
  place: Place;
  /** The room's or peer chat's name; empty when idle. */
  name: string;
}

/** What {@link ChatClient.peerConnect} came to. */
export type PeerConnection =
  /** In the peer chat `room` now. */
  | { room: string; invited: false }
  /**
   * The peer is in the peer chat `room`, whose members were asked to let
   * this user in until `expires` (ISO 8601): a `peerAnswer` event tells
   * how it ended (with `accepted`, this user is in it).
   */
  | { room: string; invited: true; expires: string };

/** How a request to join a peer chat ended. */
export type PeerAnswer = "accepted" | "declined" | "expired" | "withdrawn";

/** A poem of the server's corpus, from {@link ChatClient.poem}. */
export interface Poem {
  /** Its number, from 1. */
  number: number;
  /** Its heading in the corpus, e.g. `II.`. */
  title: string;
  /** The poem's lines, separated by `\n`. */
  text: string;
}

/** Where a KICK, BAN or UNBAN applies, and why. */
export interface ModerationOptions {
  /** The room; default the moderator's current room. */
  room?: string;
  /** Why, told to the user and the room. */
  reason?: string;
}

/**
 * Something the server pushed.
 *
 * - `message`, `join`, `leave`: in the user's room or peer chat (`kind`
 *   says which; the client always sets it, `room` when the server did not
 *   say). A `leave` has a `reason` when the user did not leave by choice.
 * - `dm`: a direct message to this user.
 * - `kicked`: this user was removed from `room` (and `banned` from it).
 * - `groupEnd`: everyone else left the peer chat, so this user is out of it too.
 * - `peerInvite`: `from` asks to join this user's peer chat `room`, until
 *   `expires`; {@link ChatClient.peerAccept} or {@link ChatClient.peerDecline}
 *   answer.
 * - `peerAnswer`: how `from`'s request to join the peer chat `room` ended,
 *   and `by` whom when a member answered; to the one who asked (who is in
 *   `room` once `accepted`) and to the members (unless accepted).
 * - `notice`: a notice from the server's operator to everyone.
 * - `close`: the server is closing the connection, saying why.
 */
export type ChatEvent =
  | {
    type: "message";
    room: string;
    kind?: PlaceKind;
    from: string;
    time: string;
    id: number;
    content: string;
  }
  | { type: "join"; room: string; kind?: PlaceKind; user: string; time: string }
  | { type: "leave"; room: string; kind?: PlaceKind; user: string; time: string; reason?: string }
  | { type: "dm"; from: string; to: string; time: string; id: number; content: string }
  | { type: "kicked"; room: string; by: string; reason: string; banned: boolean; time: string }
  | { type: "groupEnd"; room: string; time: string }
  | { type: "peerInvite"; room: string; from: string; expires: string; time: string }
  | {
    type: "peerAnswer";
    room: string;
    from: string;
    answer: PeerAnswer;
    by?: string;
    time: string;
  }
  | { type: "notice"; time: string; content: string }
  | { type: "close"; reason: string };

/** A response whose status was not OK. */
export class ChatError extends Error {
  /** Always `ChatError`. */
  override name = "ChatError";
  /** The response's Status, e.g. `AUTH_FAILED`. */
  readonly status: string;
  /** The response's Reason, when it gave one. */
  readonly reason?: string;
  /** With RATE_LIMITED: the response's Retry-After-Ms, when trying again may succeed. */
  readonly retryAfterMs?: number;

  /** Describes the failed `method` from its `response`. */
  constructor(method: string, response: Message) {
    const { Status: status = "", Reason: reason, "Retry-After-Ms": retry } = response.params;
    super(`${method} failed: ${status}${reason ? ` (${reason})` : ""}`);
    this.status = status;
    this.reason = reason;
    if (retry !== undefined && /^\d{1,15}$/.test(retry)) this.retryAfterMs = Number(retry);
  }
}

interface Pending {
  resolve(response: Message): void;
  reject(error: Error): void;
}

/**
 * A connection to a Claptrap server.
 *
 * The server may push `EVT_PING` to a silent push connection; the client
 * answers it with a `PING` of its own (and swallows the `PONG`), so that an
 * idle but healthy connection is not closed by the server's idle timeout.
 *
 * @example Two users in a room: one sends, the other gets it pushed
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChatClient } from "./chat_client.ts";
 * import { startServer } from "../server/server.ts";
 * const server = await startServer({
 *   host: "127.0.0.1",
 *   port: 0,
 *   globals: { accounts: new Map([["ann", "pw1"], ["bob", "pw2"]]), rooms: ["lobby"] },
 *   log: () => {},
 * });
 * const ann = await ChatClient.connect({ port: server.addr.port });
 * const bob = await ChatClient.connect({ port: server.addr.port });
 * await ann.login("ann", "pw1");
 * await bob.login("bob", "pw2");
 * await ann.join("lobby");
 * await bob.join("lobby");
 * await ann.send("hello");
 * for await (const event of bob.events()) {
 *   if (event.type === "message") {
 *     assert.ok(event.from === "ann" && event.content === "hello");
 *     break;
 *   }
 * }
 * await ann.close();
 * await bob.close();
 * await server.close();
 * ```
 */
export class ChatClient {
  readonly #conn: Deno.Conn;
  readonly #tls: boolean;
  readonly #decoder: FrameDecoder;
  readonly #pending: Pending[] = [];
  readonly #events: ChatEvent[] = [];
  #eventWaiter: (() => void) | null = null;
  #closedReason: string | null = null;
  #serverCloseReason: string | null = null;
  #writing: Promise<void> = Promise.resolve();
  /** The answer to the HELLO sent on connecting. */
  readonly #greeting: Promise<Message>;
  /** Resolves with the reason once the connection has ended. */
  readonly closed: Promise<string>;

  /**
   * Says HELLO with this library's version at once, pipelined with what
   * follows: without it the server would speak the original dialect.
   */
  private constructor(conn: Deno.Conn, maxFrameSize: number, tls: boolean) {
    this.#conn = conn;
    this.#tls = tls;
    this.#decoder = new FrameDecoder({ maxFrameSize });
    this.closed = this.#readLoop();
    this.#greeting = this.request({
      method: Request.HELLO,
      params: { Version: PROTOCOL_VERSION },
    });
    this.#greeting.catch(() => {}); // a connection that ends is reported by the next request
  }

  /**
   * Connects to a server, over TLS when `tls` or `caCerts` is given; the TLS
   * handshake is complete when this resolves.
   * @throws {TlsError} when the TLS handshake fails, e.g. on an untrusted certificate.
   */
  static async connect(options: ConnectOptions = {}): Promise<ChatClient> {
    const hostname = options.host ?? "127.0.0.1";
    const port = options.port ?? 6666;
    const maxFrameSize = options.maxFrameSize ?? CLIENT_MAX_FRAME_SIZE;
    if (!options.tls && !options.caCerts) {
      const conn = await Deno.connect({ hostname, port });
      conn.setNoDelay(true);
      return new ChatClient(conn, maxFrameSize, false);
    }
    const conn = await Deno.connectTls({ hostname, port, caCerts: options.caCerts });
    try {
      // Deno runs the handshake lazily; run it now so that its failure is this call's
      await conn.handshake();
    } catch (error) {
      conn.close();
      throw new TlsError(error as Error, hostname);
    }
    return new ChatClient(conn, maxFrameSize, true);
  }

  /** Sends a request and resolves to its response, whatever its status. */
  request(message: Message): Promise<Message> {
    if (this.#closedReason !== null) {
      return Promise.reject(new Error(`connection closed: ${this.#closedReason}`));
    }
    const bytes = encodeMessage(message);
    const response = new Promise<Message>((resolve, reject) =>
      this.#pending.push({ resolve, reject })
    );
    this.#writing = this.#writing.then(() => this.#writeAll(bytes)).catch(() => {});
    return response;
  }

  /**
   * Logs in. With `push` (the default) the server pushes messages and
   * join/leave notices, read with {@link ChatClient.events}.
   * @throws {ChatError} AUTH_FAILED, SERVER_FULL, ALREADY_ONLINE, …
   */
  async login(username: string, password: string, options: { push?: boolean } = {}): Promise<void> {
    await this.#ok(Request.LOGIN, {
      Username: username,
      Password: password,
      Push: options.push === false ? "off" : "on",
    });
  }

  /**
   * Creates an account; log in with it afterwards. Allowed before logging in.
   * @throws {ChatError} NAME_TAKEN, INVALID_NAME or WEAK_PASSWORD (with a reason), …
   */
  async register(username: string, password: string): Promise<void> {
    await this.#ok(Request.REGISTER, { Username: username, Password: password });
  }

  /** Logs out (the connection stays open). */
  async logout(): Promise<void> {
    await this.#ok(Request.LOGOUT);
  }

  /**
   * Every room with its member count, in creation order, read page by page
   * (at most {@link MAX_ROOM_PAGES} pages).
   */
  async rooms(): Promise<RoomInfo[]> {
    const list = await readRoomPages(
      (after) => this.#ok(Request.LIST_ROOMS, after === undefined ? {} : { After: after }),
      MAX_ROOM_PAGES,
    );
    return list.rooms;
  }

  /**
   * One page of the room list: at most `limit` rooms (the server's default
   * and most: 1,000) after the room named `after`, or from the first.
   * @throws {ChatError} BAD_REQUEST when `after` names no room or `limit` is out of range.
   */
  async roomPage(options: { after?: string; limit?: number } = {}): Promise<RoomPage> {
    const params: Record<string, string> = {};
    if (options.after !== undefined) params.After = options.after;
    if (options.limit !== undefined) params.Limit = String(options.limit);
    return parseRoomPage(await this.#ok(Request.LIST_ROOMS, params));
  }

  /** The members of the current room. */
  async members(): Promise<string[]> {
    return splitLines((await this.#ok(Request.LIST_MEMBERS)).content ?? "");
  }

  /** Enters a room, leaving the current one. */
  async join(room: string): Promise<void> {
    await this.#ok(Request.JOIN_ROOM, { "Room-Name": room });
  }

  /** Leaves the current room or peer chat. */
  async leave(): Promise<void> {
    await this.#ok(Request.EXIT_ROOM);
  }

  /**
   * States the client's protocol version and capabilities, and learns the
   * server's. Without arguments, the answer to the HELLO the client sent
   * with its own version on connecting (nothing is sent again). Allowed
   * before logging in; servers of the original protocol do not know it.
   * @throws {ChatError} VERSION_MISMATCH when the server does not speak
   * that major version (the reason says what it speaks), BAD_REQUEST for a
   * malformed version.
   */
  async hello(version?: string, capabilities?: readonly string[]): Promise<HelloResult> {
    const params: Record<string, string> = { Version: version ?? PROTOCOL_VERSION };
    if (capabilities !== undefined) params.Capabilities = capabilities.join(",");
    const response = version === undefined && capabilities === undefined
      ? await this.#greeting
      : await this.request({ method: Request.HELLO, params });
    if (response.params.Status !== Status.OK) throw new ChatError(Request.HELLO, response);
    const listed = response.params.Capabilities ?? "";
    return {
      version: response.params.Version ?? "",
      capabilities: listed === "" ? [] : listed.split(","),
      server: response.params.Server ?? "",
    };
  }

  /** Checks that the server answers; `token`, if given, comes back. Allowed before logging in. */
  async ping(token?: string): Promise<Pong> {
    const response = await this.#ok(Request.PING, token === undefined ? {} : { Token: token });
    const pong: Pong = { time: response.params.Time ?? "" };
    if (response.params.Token !== undefined) pong.token = response.params.Token;
    return pong;
  }

  /** The server's time: ISO 8601 UTC. */
  async time(): Promise<string> {
    return (await this.#ok(Request.TIME)).params.Time ?? "";
  }

  /** Every online user and where each is. */
  async who(): Promise<WhoEntry[]> {
    const response = await this.#ok(Request.WHO);
    return parseRows(response.content ?? "", 3).map(([user, place, name]) => ({
      user,
      place: place as Place,
      name,
    }));
  }

  /**
   * Starts a private peer chat with an online user who is in no room
   * (leaving the current room or peer chat), or, when they are in a peer
   * chat, asks its members to let this user in.
   * @returns the peer chat's name (the `room` of its events), and whether
   * this user is in it now or asked to join it.
   * @throws {ChatError} BUSY (the peer is in a public room, or too many
   * wait to join their peer chat), PEER_IS_SELF, PEER_OFFLINE (unknown or
   * not online), …
   */
  async peerConnect(peer: string): Promise<PeerConnection> {
    const response = await this.request({
      method: Request.PEER_CONNECT,
      params: { Peer: peer },
    });
    const { Status: status, Room: room = "", Expires: expires = "" } = response.params;
    if (status === Status.INVITED) return { room, invited: true, expires };
    if (status !== Status.OK) throw new ChatError(Request.PEER_CONNECT, response);
    return { room, invited: false };
  }

  /**
   * Lets `user`, who asked to join (a `peerInvite` event), into this
   * user's peer chat.
   * @throws {ChatError} NO_INVITATION when their request is not waiting
   * (answered, expired or withdrawn), NOT_IN_GROUP, …
   */
  async peerAccept(user: string): Promise<void> {
    await this.#ok(Request.PEER_ACCEPT, { Peer: user });
  }

  /**
   * Turns down `user`, who asked to join this user's peer chat.
   * @throws {ChatError} NO_INVITATION, NOT_IN_GROUP, …
   */
  async peerDecline(user: string): Promise<void> {
    await this.#ok(Request.PEER_DECLINE, { Peer: user });
  }

  /**
   * Leaves the peer chat ("bye"); when one member is left, they get a
   * `groupEnd` event.
   * @throws {ChatError} NOT_IN_GROUP when not in a peer chat.
   */
  async peerBye(): Promise<void> {
    await this.#ok(Request.PEER_BYE);
  }

  /**
   * Sends a direct message to an online user, who gets it as a `dm` event.
   * @returns its id and server time.
   * @throws {ChatError} PEER_OFFLINE (unknown or not online), PEER_IS_SELF, …
   */
  async dm(to: string, text: string): Promise<{ id: number; time: string }> {
    const response = await this.#ok(Request.DM, { To: to }, text);
    return { id: Number(response.params.Id), time: response.params.Time };
  }

  /**
   * Poem number `n` (from 1) of the server's corpus.
   * @throws {ChatError} NO_SUCH_POEM for a number out of range, NO_POEMS
   * when the server has no corpus.
   */
  async poem(n: number): Promise<Poem> {
    const response = await this.#ok(Request.POEM, { Number: String(n) });
    return {
      number: Number(response.params.Number),
      title: response.params.Title ?? "",
      text: response.content ?? "",
    };
  }

  /**
   * Removes a user from a room (default: the current one); they and the
   * room are told, with the reason. Owners of the room and admins only.
   * @throws {ChatError} NOT_ALLOWED (also for oneself), NO_SUCH_USER (not in the room),
   * NOT_IN_ROOM, NO_SUCH_ROOM
   */
  async kick(user: string, options: ModerationOptions = {}): Promise<void> {
    await this.#ok(Request.KICK, moderationParams(user, options));
  }

  /**
   * Removes a user from a room (default: the current one) and keeps them
   * out until {@link ChatClient.unban}. Owners of the room and admins only.
   * @throws {ChatError} NOT_ALLOWED (also for oneself), NO_SUCH_USER (no such account),
   * NOT_IN_ROOM, NO_SUCH_ROOM
   */
  async ban(user: string, options: ModerationOptions = {}): Promise<void> {
    await this.#ok(Request.BAN, moderationParams(user, options));
  }

  /**
   * Lets a banned user back into a room (default: the current one).
   * Owners of the room and admins only.
   * @throws {ChatError} NOT_ALLOWED, NO_SUCH_USER (not banned), NOT_IN_ROOM, NO_SUCH_ROOM
   */
  async unban(user: string, options: { room?: string } = {}): Promise<void> {
    await this.#ok(Request.UNBAN, moderationParams(user, { room: options.room }));
  }

  /** Creates a room. */
  async create(room: string): Promise<void> {
    await this.#ok(Request.CREATE_ROOM, { "Room-Name": room });
  }

  /** Posts a message to the current room; resolves to its id and server time. */
  async send(text: string): Promise<{ id: number; time: string }> {
    const response = await this.#ok(Request.SEND_MSG, {}, text);
    return { id: Number(response.params.Id), time: response.params.Time };
  }

  /** Polls the messages posted in the room since the last poll (or the join). */
  async recv(): Promise<MessageLine[]> {
    const response = await this.request({ method: Request.RECV_MSG, params: {} });
    if (response.params.Status === Status.NO_NEW_MSG) return [];
    if (response.params.Status !== Status.OK) throw new ChatError(Request.RECV_MSG, response);
    return parseMessageLines(response.content ?? "");
  }

  /**
   * Stored messages of the current room, or with `with` of the direct
   * conversation with that user, oldest first: the newest `limit` (default
   * 50, at most 500) with ids below `before` (default: all), or with `after`
   * the oldest `limit` with ids above it. To page backwards, pass the
   * smallest id received as `before`; forwards, the largest as `after`.
   * @throws {ChatError} NOT_IN_ROOM, NO_SUCH_USER, BAD_REQUEST, …
   */
  async history(
    options: { before?: number; after?: number; limit?: number; with?: string } = {},
  ): Promise<HistoryPage> {
    const params: Record<string, string> = {};
    if (options.before !== undefined) params.Before = String(options.before);
    if (options.after !== undefined) params.After = String(options.after);
    if (options.limit !== undefined) params.Limit = String(options.limit);
    if (options.with !== undefined) params.With = options.with;
    const response = await this.#ok(Request.HISTORY, params);
    return {
      room: response.params.Room ?? "",
      more: response.params.More === "yes",
      messages: parseRows(response.content ?? "", 4).map(([id, from, time, content]) => ({
        id: Number(id),
        from,
        time,
        content,
      })),
    };
  }

  /**
   * Searches the messages of the rooms the user has been in for all of the
   * whitespace-separated words of `query` (case-insensitive, anywhere in a
   * message): up to `limit` results (default 20, at most 100), newest
   * first, with ids below `before` (default: the newest). To page, pass the
   * page's `next` as `before`.
   * @throws {ChatError} BAD_REQUEST for an empty query, RATE_LIMITED while
   * the user's previous search is under way, …
   */
  async search(
    query: string,
    options: { limit?: number; before?: number } = {},
  ): Promise<SearchResultPage> {
    const params: Record<string, string> = { Query: query };
    if (options.limit !== undefined) params.Limit = String(options.limit);
    if (options.before !== undefined) params.Before = String(options.before);
    const response = await this.#ok(Request.SEARCH, params);
    const { Total, Partial, More, Before } = response.params;
    const rows = parseRows(response.content ?? "", 5);
    return {
      results: rows.map(([id, room, from, time, snippet]) => ({
        id: Number(id),
        room,
        from,
        time,
        snippet,
      })),
      total: Total === undefined ? rows.length : parseInt(Total, 10),
      partial: Partial === "yes",
      next: More === "yes" && Before !== undefined ? Number(Before) : null,
    };
  }

  /**
   * Pushed events, in arrival order, until the connection ends. Events are
   * buffered until read; iterate from one place only.
   */
  async *events(): AsyncGenerator<ChatEvent> {
    while (true) {
      const event = this.#events.shift();
      if (event) {
        yield event;
        continue;
      }
      if (this.#closedReason !== null) return;
      await new Promise<void>((resolve) => this.#eventWaiter = resolve);
    }
  }

  /** Closes the connection. */
  close(): Promise<string> {
    if (this.#tls && this.#closedReason === null) {
      // close_notify: without it the server sees the end as an error (UnexpectedEof);
      // not awaited, so that a server that stopped reading cannot hold up the close
      this.#conn.closeWrite().catch(() => {});
    }
    this.#shutdown("closed by client");
    return this.closed;
  }

  async #ok(
    method: string,
    params: Record<string, string> = {},
    content?: string,
  ): Promise<Message> {
    const response = await this.request({ method, params, content });
    if (response.params.Status !== Status.OK) throw new ChatError(method, response);
    return response;
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) written += await this.#conn.write(bytes.subarray(written));
  }

  async #readLoop(): Promise<string> {
    const buffer = new Uint8Array(64 * 1024);
    let reason = "connection closed by server";
    try {
      while (this.#closedReason === null) {
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        for (const payload of this.#decoder.push(buffer.subarray(0, n))) {
          this.#handle(parseMessage(payload));
        }
        if (this.#decoder.error) throw this.#decoder.error;
      }
    } catch (error) {
      if (this.#closedReason === null) reason = `protocol error: ${(error as Error).message}`;
    }
    this.#shutdown(this.#serverCloseReason ?? reason);
    return this.#closedReason!;
  }

  #handle(message: Message): void {
    if (!isEventMethod(message.method)) {
      const pending = this.#pending.shift();
      if (!pending) throw new SyntaxError(`unexpected ${message.method} with no request pending`);
      pending.resolve(message);
      return;
    }
    const p = message.params;
    const kind: PlaceKind = p.Kind === "group" ? "group" : "room";
    switch (message.method) {
      case Event.EVT_MSG:
        this.#push({
          type: "message",
          room: p.Room,
          kind,
          from: p.From,
          time: p.Time,
          id: Number(p.Id),
          content: message.content ?? "",
        });
        break;
      case Event.EVT_JOIN:
        this.#push({ type: "join", room: p.Room, kind, user: p.User, time: p.Time });
        break;
      case Event.EVT_LEAVE:
        this.#push({
          type: "leave",
          room: p.Room,
          kind,
          user: p.User,
          time: p.Time,
          ...(p.Reason ? { reason: p.Reason } : {}),
        });
        break;
      case Event.EVT_DM:
        this.#push({
          type: "dm",
          from: p.From,
          to: p.To,
          time: p.Time,
          id: Number(p.Id),
          content: message.content ?? "",
        });
        break;
      case Event.EVT_KICKED:
        this.#push({
          type: "kicked",
          room: p.Room,
          by: p.By ?? "",
          reason: p.Reason ?? "",
          banned: p.Banned === "yes",
          time: p.Time,
        });
        break;
      case Event.EVT_GROUP_END:
        this.#push({ type: "groupEnd", room: p.Room, time: p.Time });
        break;
      case Event.EVT_NOTICE:
        this.#push({ type: "notice", time: p.Time, content: message.content ?? "" });
        break;
      case Event.EVT_PEER_INVITE:
        this.#push({
          type: "peerInvite",
          room: p.Room,
          from: p.From,
          expires: p.Expires ?? "",
          time: p.Time,
        });
        break;
      case Event.EVT_PEER_ANSWER:
        this.#push({
          type: "peerAnswer",
          room: p.Room,
          from: p.From,
          answer: p.Answer as PeerAnswer,
          ...(p.By ? { by: p.By } : {}),
          time: p.Time,
        });
        break;
      case Event.EVT_PING:
        this.#answerPing();
        break;
      case Event.EVT_CLOSE:
        this.#serverCloseReason = p.Reason ?? "closed by server";
        this.#push({ type: "close", reason: p.Reason ?? "" });
        break;
    }
  }

  /**
   * Answers EVT_PING with a PING. Responses come in request order, so the
   * PONG settles this request's place in the pending queue, and is dropped
   * there: no caller's request ever sees it.
   */
  #answerPing(): void {
    if (this.#closedReason !== null) return;
    this.request({ method: Request.PING, params: {} }).catch(() => {
      // the connection ended; #readLoop reports that
    });
  }

  #push(event: ChatEvent): void {
    this.#events.push(event);
    this.#eventWaiter?.();
    this.#eventWaiter = null;
  }

  #shutdown(reason: string): void {
    if (this.#closedReason !== null) return;
    this.#closedReason = reason;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    for (const pending of this.#pending.splice(0)) {
      pending.reject(new Error(`connection closed: ${reason}`));
    }
    this.#eventWaiter?.();
    this.#eventWaiter = null;
  }
}

/** The parameters of KICK, BAN and UNBAN. */
function moderationParams(user: string, options: ModerationOptions): Record<string, string> {
  const params: Record<string, string> = { User: user };
  if (options.room !== undefined) params["Room-Name"] = options.room;
  if (options.reason !== undefined) params.Reason = options.reason;
  return params;
}
