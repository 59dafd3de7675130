/**
 * The Claptrap client library: one connection to a server, requests that
 * resolve to their responses (pipelined, answered in order) and an async
 * iterator of pushed events. Transport-free and browser-safe: the messages
 * go over a {@link Transport}, Claptrap frames over TCP (`tcp`, Deno) or
 * JSON over a WebSocket (`webSocket`, browsers and Deno).
 * @module
 */

import { type MessageLine, parseMessageLines, parseRows, splitLines } from "../protocol/content.ts";
import type { Message } from "../protocol/message.ts";
import { Event, isEventMethod, Request, Status } from "../protocol/methods.ts";

/** The protocol version the client says it speaks, unless told to speak 2.1. */
const CLIENT_VERSION = "2.0";
import { parseRoomPage, readRoomPages, type RoomPage } from "../protocol/room_list.ts";
import { type ChatEvent, decodeEvent, type PlaceKind } from "./chat_event.ts";
import { ConnectionClosedError, type Transport } from "./transport.ts";

/**
 * Most LIST_ROOMS pages {@link ChatClient.rooms} reads (a page holds up to
 * 1,000 rooms): a bound, so that a server that always says `More: yes`
 * cannot keep the client asking.
 */
export const MAX_ROOM_PAGES = 1_000;

/** A room as listed by the server. */
export interface RoomInfo {
  /** The room's name. */
  name: string;
  /** Users in it now. */
  members: number;
}

/** A room as a 2.1 session lists it: whether one belongs to it, and what one has not read. */
export interface RoomState extends RoomInfo {
  /** Whether the user belongs to it (is in it on every device, from session to session). */
  joined: boolean;
  /** Messages after the user's read position (0 when not joined; stops at 9999). */
  unread: number;
  /** Those of them that mention the user. */
  mentions: number;
}

/** A direct conversation or peer chat, with what the user has not read in it (2.1). */
export interface ConversationState {
  /** The other user of a direct conversation, or the peer chat's name. */
  name: string;
  /** Users in a peer chat now; 2 for a direct conversation. */
  members: number;
  /** Messages after the user's read position (stops at 9999). */
  unread: number;
  /** Those of them that mention the user. */
  mentions: number;
}

/** How {@link ChatClient.connect} starts a session. */
export interface ChatClientOptions {
  /**
   * Speak protocol 2.1: several rooms at once that last from session to
   * session, unread and mention counts, devices side by side, sign-in
   * tokens. Default false (2.0).
   */
  v21?: boolean;
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
 * A connection to a Claptrap server, over a {@link Transport}.
 *
 * The server may push `EVT_PING` to a silent push connection; the client
 * answers it with a `PING` of its own (and swallows the `PONG`), so that an
 * idle but healthy connection is not closed by the server's idle timeout.
 *
 * @example Two users in a room: one sends, the other gets it pushed
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChatClient } from "./chat_client.ts";
 * import { tcp } from "./tcp_transport.ts";
 * import { startServer } from "../server/server.ts";
 * const server = await startServer({
 *   host: "127.0.0.1",
 *   port: 0,
 *   globals: { accounts: new Map([["ann", "pw1"], ["bob", "pw2"]]), rooms: ["lobby"] },
 *   log: () => {},
 * });
 * const ann = await ChatClient.connect(tcp({ port: server.addr.port }));
 * const bob = await ChatClient.connect(tcp({ port: server.addr.port }));
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
  readonly #transport: Transport;
  readonly #pending: Pending[] = [];
  readonly #events: ChatEvent[] = [];
  #eventWaiter: (() => void) | null = null;
  #closedReason: string | null = null;
  #serverCloseReason: string | null = null;
  /** The answer to the HELLO sent on connecting. */
  readonly #greeting: Promise<Message>;
  /** Resolves with the reason once the connection has ended. */
  readonly closed: Promise<string>;

  /**
   * Says HELLO with this library's version at once, pipelined with what
   * follows: without it a TCP server would speak the original dialect.
   */
  /** Whether the session speaks protocol 2.1 (see {@link ChatClientOptions.v21}). */
  readonly v21: boolean;

  private constructor(transport: Transport, options: ChatClientOptions) {
    this.v21 = options.v21 ?? false;
    this.#transport = transport;
    let ended!: (reason: string) => void;
    this.closed = new Promise((resolve) => ended = resolve);
    transport.start({
      message: (message) => this.#handle(message),
      ended: (reason) => {
        this.#shutdown(this.#serverCloseReason ?? reason);
        ended(this.#closedReason!);
      },
    });
    this.#greeting = this.request({
      method: Request.HELLO,
      params: { Version: this.v21 ? "2.1" : CLIENT_VERSION },
    });
    this.#greeting.catch(() => {}); // a connection that ends is reported by the next request
  }

  /**
   * Starts a session over a transport once it is open: `tcp(options)` for
   * Claptrap frames over TCP or TLS, `webSocket(url)` for JSON over a
   * WebSocket.
   * @throws what opening the transport throws, e.g. `TlsError` when a TLS
   * handshake fails.
   */
  static async connect(
    transport: Transport | Promise<Transport>,
    options: ChatClientOptions = {},
  ): Promise<ChatClient> {
    return new ChatClient(await transport, options);
  }

  /**
   * Sends a request and resolves to its response, whatever its status.
   * @throws {ConnectionClosedError} when the connection ends first.
   */
  request(message: Message): Promise<Message> {
    if (this.#closedReason !== null) {
      return Promise.reject(new ConnectionClosedError(this.#closedReason));
    }
    const response = new Promise<Message>((resolve, reject) =>
      this.#pending.push({ resolve, reject })
    );
    this.#transport.send(message);
    return response;
  }

  /**
   * Logs in. With `push` (the default) the server pushes messages and
   * join/leave notices, read with {@link ChatClient.events}.
   * @throws {ChatError} AUTH_FAILED, SERVER_FULL, ALREADY_ONLINE, …
   */
  async login(
    username: string,
    password: string,
    options: { push?: boolean } = {},
  ): Promise<string | undefined> {
    const response = await this.#ok(Request.LOGIN, {
      Username: username,
      Password: password,
      Push: options.push === false ? "off" : "on",
    });
    return response.params.Token;
  }

  /**
   * 2.1: logs in again with the sign-in token an earlier {@link ChatClient.login}
   * returned, instead of the password.
   * @throws {ChatError} AUTH_FAILED when the token is wrong, revoked or expired.
   */
  async resume(username: string, token: string, options: { push?: boolean } = {}): Promise<void> {
    await this.#ok(Request.LOGIN, {
      Username: username,
      Token: token,
      Push: options.push === false ? "off" : "on",
    });
  }

  /**
   * Changes the password; every sign-in token of the user stops working.
   * @returns the new token (2.1)
   * @throws {ChatError} AUTH_FAILED (wrong old password), WEAK_PASSWORD, NOT_ALLOWED, …
   */
  async changePassword(old: string, password: string): Promise<string | undefined> {
    const response = await this.#ok(Request.CHANGE_PASSWORD, { Old: old, New: password });
    return response.params.Token;
  }

  /**
   * Creates an account; log in with it afterwards. Allowed before logging in.
   * @throws {ChatError} NAME_TAKEN, INVALID_NAME or WEAK_PASSWORD (with a reason), …
   */
  async register(username: string, password: string): Promise<void> {
    await this.#ok(Request.REGISTER, { Username: username, Password: password });
  }

  /**
   * Logs out (the connection stays open); the session's sign-in token stops
   * working. `everywhere`: every token of the user does, and their other
   * sessions are closed.
   */
  async logout(options: { everywhere?: boolean } = {}): Promise<void> {
    await this.#ok(Request.LOGOUT, options.everywhere ? { Everywhere: "yes" } : {});
  }

  /**
   * 2.1: every room, whether the user belongs to it and what they have not
   * read there, read page by page: at most `maxPages` pages (default and
   * most {@link MAX_ROOM_PAGES}).
   */
  async roomStates(options: { maxPages?: number } = {}): Promise<RoomState[]> {
    const rooms: RoomState[] = [];
    let after: string | undefined;
    const most = Math.min(options.maxPages ?? MAX_ROOM_PAGES, MAX_ROOM_PAGES);
    for (let pages = 0; pages < most; pages++) {
      const response = await this.#ok(
        Request.LIST_ROOMS,
        after === undefined ? {} : { After: after },
      );
      for (
        const [name, members, joined, unread, mentions] of parseRows(response.content ?? "", 5)
      ) {
        rooms.push({
          name,
          members: Number(members),
          joined: joined === "joined",
          unread: Number(unread),
          mentions: Number(mentions),
        });
      }
      if (response.params.More !== "yes" || rooms.length === 0) break;
      after = rooms[rooms.length - 1].name;
    }
    return rooms;
  }

  /** 2.1: the direct conversations, the latest first, with what the user has not read. */
  async directStates(): Promise<ConversationState[]> {
    const response = await this.#ok(Request.LIST_DIRECT);
    return parseRows(response.content ?? "", 3).map(([name, unread, mentions]) => ({
      name,
      members: 2,
      unread: Number(unread),
      mentions: Number(mentions),
    }));
  }

  /** 2.1: the peer chats the session is in, with what the user has not read. */
  async peerChatStates(): Promise<ConversationState[]> {
    const response = await this.#ok(Request.LIST_GROUPS);
    return parseRows(response.content ?? "", 4).map(([name, members, unread, mentions]) => ({
      name,
      members: Number(members),
      unread: Number(unread),
      mentions: Number(mentions),
    }));
  }

  /**
   * 2.1: the user has read a room or peer chat (`room`, default the
   * current one), or the direct conversation `with` a user, up to the
   * message `id`; their other sessions get a `read` event.
   */
  async markRead(id: number, place: { room?: string; with?: string } = {}): Promise<void> {
    const params: Record<string, string> = { Id: String(id) };
    if (place.room !== undefined) params.Room = place.room;
    if (place.with !== undefined) params.With = place.with;
    await this.#ok(Request.MARK_READ, params);
  }

  /**
   * Every room with its member count, in creation order, read page by page:
   * at most `maxPages` pages (default and most {@link MAX_ROOM_PAGES}).
   */
  async rooms(options: { maxPages?: number } = {}): Promise<RoomInfo[]> {
    if (this.v21) {
      return (await this.roomStates(options)).map(({ name, members }) => ({ name, members }));
    }
    const list = await readRoomPages(
      (after) => this.#ok(Request.LIST_ROOMS, after === undefined ? {} : { After: after }),
      Math.min(options.maxPages ?? MAX_ROOM_PAGES, MAX_ROOM_PAGES),
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

  /** The members of the current room (2.1: or of `room`), each once. */
  async members(options: { room?: string } = {}): Promise<string[]> {
    const response = await this.#ok(Request.LIST_MEMBERS, roomParam(options.room));
    if (!this.v21) return splitLines(response.content ?? "");
    return parseRows(response.content ?? "", 2).map(([name]) => name);
  }

  /** 2.1: who belongs to the current room (or `room`), online or not. */
  async memberStates(
    options: { room?: string } = {},
  ): Promise<{ name: string; online: boolean }[]> {
    const response = await this.#ok(Request.LIST_MEMBERS, roomParam(options.room));
    return parseRows(response.content ?? "", 2).map(([name, state]) => ({
      name,
      online: state === "online",
    }));
  }

  /**
   * The users this user has a direct conversation with (see
   * {@link ChatClient.dm}), the one with the newest message first.
   */
  async directPartners(): Promise<string[]> {
    if (this.v21) return (await this.directStates()).map((state) => state.name);
    return splitLines((await this.#ok(Request.LIST_DIRECT)).content ?? "");
  }

  /**
   * Enters a room, leaving the current one; in 2.1, adds it beside the
   * others (or switches to it) and makes it the current one.
   */
  async join(room: string): Promise<void> {
    await this.#ok(Request.JOIN_ROOM, { "Room-Name": room });
  }

  /** Leaves the current room or peer chat (2.1: or `room`, on every device, for good). */
  async leave(room?: string): Promise<void> {
    await this.#ok(Request.EXIT_ROOM, roomParam(room));
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
    const params: Record<string, string> = { Version: version ?? CLIENT_VERSION };
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

  /**
   * Posts a message to the current room (2.1: or `room`); resolves to its
   * id and server time.
   */
  async send(text: string, options: { room?: string } = {}): Promise<{ id: number; time: string }> {
    const response = await this.#ok(Request.SEND_MSG, roomParam(options.room), text);
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
   * Stored messages of the current room (2.1: or of `room`), or with `with` of the direct
   * conversation with that user, oldest first: the newest `limit` (default
   * 50, at most 500) with ids below `before` (default: all), or with `after`
   * the oldest `limit` with ids above it. To page backwards, pass the
   * smallest id received as `before`; forwards, the largest as `after`.
   * @throws {ChatError} NOT_IN_ROOM, NO_SUCH_USER, BAD_REQUEST, …
   */
  async history(
    options: {
      before?: number;
      after?: number;
      limit?: number;
      with?: string;
      room?: string;
    } = {},
  ): Promise<HistoryPage> {
    const params: Record<string, string> = roomParam(options.room);
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

  /** Closes the connection; resolves once it is closed. */
  close(): Promise<string> {
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

  #handle(message: Message): void {
    if (this.#closedReason !== null) return;
    if (!isEventMethod(message.method)) {
      const pending = this.#pending.shift();
      if (pending) pending.resolve(message);
      else this.#shutdown(`protocol error: unexpected ${message.method} with no request pending`);
      return;
    }
    if (message.method === Event.EVT_PING) {
      this.#answerPing();
      return;
    }
    const event = decodeEvent(message);
    if (event === null) return; // unknown events are ignored, as the protocol asks
    if (event.type === "close") this.#serverCloseReason = event.reason || "closed by server";
    this.#push(event);
  }

  /**
   * Answers EVT_PING with a PING. Responses come in request order, so the
   * PONG settles this request's place in the pending queue, and is dropped
   * there: no caller's request ever sees it.
   */
  #answerPing(): void {
    if (this.#closedReason !== null) return;
    this.request({ method: Request.PING, params: {} }).catch(() => {
      // the connection ended; the transport reports that
    });
  }

  #push(event: ChatEvent): void {
    this.#events.push(event);
    this.#eventWaiter?.();
    this.#eventWaiter = null;
  }

  /** Ends the session: closes the transport, fails what is pending, ends the events. */
  #shutdown(reason: string): void {
    if (this.#closedReason !== null) return;
    this.#closedReason = reason;
    this.#transport.close();
    for (const pending of this.#pending.splice(0)) {
      pending.reject(new ConnectionClosedError(reason));
    }
    this.#eventWaiter?.();
    this.#eventWaiter = null;
  }
}

/** The `Room` parameter of a request, when a room is named. */
function roomParam(room: string | undefined): Record<string, string> {
  return room === undefined ? {} : { Room: room };
}

/** The parameters of KICK, BAN and UNBAN. */
function moderationParams(user: string, options: ModerationOptions): Record<string, string> {
  const params: Record<string, string> = { User: user };
  if (options.room !== undefined) params["Room-Name"] = options.room;
  if (options.reason !== undefined) params.Reason = options.reason;
  return params;
}
