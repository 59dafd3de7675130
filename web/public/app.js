// protocol/content.ts
var UNESCAPES = {
  "\\": "\\",
  n: "\n",
  t: "	",
  r: "\r"
};
function unescapeField(text) {
  return text.includes("\\") ? text.replace(/\\(.)/gs, (_, c) => UNESCAPES[c] ?? c) : text;
}
function parseRows(text, fields) {
  return splitLines(text).map((line) => {
    const row = line.split("	");
    if (row.length !== fields) {
      throw new SyntaxError(`Cannot parse line: expected ${fields} tab-separated fields, got ${row.length}`);
    }
    return row.map(unescapeField);
  });
}
function parseMessageLines(text) {
  return parseRows(text, 3).map(([from, time, content]) => ({
    from,
    time,
    content
  }));
}
function splitLines(text) {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}
function parseCounts(value) {
  if (!value) return [];
  return value.split(",").map((n) => {
    if (!/^\d+$/.test(n)) throw new SyntaxError(`Cannot parse Member-Counts: ${JSON.stringify(n)}`);
    return Number(n);
  });
}

// protocol/methods.ts
var Request = {
  LOGIN: "LOGIN",
  LOGOUT: "LOGOUT",
  LIST_ROOMS: "LIST_ROOMS",
  LIST_MEMBERS: "LIST_MEMBERS",
  JOIN_ROOM: "JOIN_ROOM",
  EXIT_ROOM: "EXIT_ROOM",
  SEND_MSG: "SEND_MSG",
  RECV_MSG: "RECV_MSG",
  CREATE_ROOM: "CREATE_ROOM",
  /** Creates an account. */
  REGISTER: "REGISTER",
  /** Older messages of the current room, page by page. */
  HISTORY: "HISTORY",
  /** Full-text search over the rooms one has been in. */
  SEARCH: "SEARCH",
  /** States the client's protocol version and capabilities. */
  HELLO: "HELLO",
  /** Asks for a PONG: a liveness check, or the answer to EVT_PING. */
  PING: "PING",
  /** The server's time. */
  TIME: "TIME",
  /** Online users and where each is. */
  WHO: "WHO",
  /** Leaves the current room (the same as EXIT_ROOM). */
  LEAVE: "LEAVE",
  /** Starts a private peer chat with an online user, or asks to join theirs. */
  PEER_CONNECT: "PEER_CONNECT",
  /** Leaves the peer chat ("bye"). */
  PEER_BYE: "PEER_BYE",
  /** Lets a user who asked to join (EVT_PEER_INVITE) into one's peer chat. */
  PEER_ACCEPT: "PEER_ACCEPT",
  /** Turns down a user who asked to join one's peer chat. */
  PEER_DECLINE: "PEER_DECLINE",
  /** A direct message to one user. */
  DM: "DM",
  /** The users one has direct conversations with. */
  LIST_DIRECT: "LIST_DIRECT",
  /** A sonnet by number. */
  POEM: "POEM",
  /** Removes a user from a room (owners and admins). */
  KICK: "KICK",
  /** Removes a user from a room and keeps them out (owners and admins). */
  BAN: "BAN",
  /** Lets a banned user back into a room (owners and admins). */
  UNBAN: "UNBAN",
  /** 2.1: moves one's read position in a room, peer chat or direct conversation. */
  MARK_READ: "MARK_READ",
  /** 2.1: the peer chats one is in, with what one has not read there. */
  LIST_GROUPS: "LIST_GROUPS",
  /** Changes one's password; every sign-in token of the user is dropped. */
  CHANGE_PASSWORD: "CHANGE_PASSWORD"
};
var Event = {
  /**
   * A message posted in the room: Room, From, Time, Id, and in a 2.1
   * session Mentions when it mentions anyone; content is the text.
   */
  EVT_MSG: "EVT_MSG",
  /** A user entered the room: Room, User, Time. */
  EVT_JOIN: "EVT_JOIN",
  /** A user left the room: Room, User, Time, and Reason when not by choice. */
  EVT_LEAVE: "EVT_LEAVE",
  /** The server is closing this connection: Reason, Time. */
  EVT_CLOSE: "EVT_CLOSE",
  /** A direct message to this user: From, To, Time, Id; content is the text. */
  EVT_DM: "EVT_DM",
  /** This user was removed from a room: Room, By, Reason, Time, Banned (yes/no). */
  EVT_KICKED: "EVT_KICKED",
  /** Everyone else left the peer chat; this user is out of it too: Room, Time. */
  EVT_GROUP_END: "EVT_GROUP_END",
  /** A notice from the server operator to everyone: Time; content is the text. */
  EVT_NOTICE: "EVT_NOTICE",
  /** The server asks for any request (PING, say) to show the connection is alive: Time. */
  EVT_PING: "EVT_PING",
  /**
   * To the members of a peer chat: `From` asks to join it (PEER_ACCEPT or
   * PEER_DECLINE answer): Room, Kind, From, Expires, Time.
   */
  EVT_PEER_INVITE: "EVT_PEER_INVITE",
  /**
   * How a request to join a peer chat ended: Room, Kind, From (who asked),
   * Answer (accepted, declined, expired, withdrawn), By (who answered),
   * Time. To the one who asked, and unless accepted to the members (but
   * the one who answered).
   */
  EVT_PEER_ANSWER: "EVT_PEER_ANSWER",
  /**
   * 2.1: the user read a place up to a message on another of their
   * sessions: Room (and Kind) or With, Id, Time.
   */
  EVT_READ: "EVT_READ"
};
var Status = {
  OK: "OK",
  AUTH_FAILED: "AUTH_FAILED",
  NOT_LOGIN: "NOT_LOGIN",
  NOT_IN_ROOM: "NOT_IN_ROOM",
  NO_SUCH_ROOM: "NO_SUCH_ROOM",
  NO_NEW_MSG: "NO_NEW_MSG",
  /** Malformed frame or message, unknown method, missing parameter; see `Reason`. */
  BAD_REQUEST: "BAD_REQUEST",
  /** LOGIN refused: MAX_ONLINE users are logged in already. */
  SERVER_FULL: "SERVER_FULL",
  /** LOGIN on a connection that is logged in already. */
  ALREADY_LOGIN: "ALREADY_LOGIN",
  /** LOGIN as a user who is online on another connection. */
  ALREADY_ONLINE: "ALREADY_ONLINE",
  /** CREATE_ROOM of a name that exists. */
  ROOM_EXISTS: "ROOM_EXISTS",
  /** A name that is empty, too long, has control characters or surrounding white space. */
  INVALID_NAME: "INVALID_NAME",
  /** REGISTER of a name that exists, or a look-alike of one (case, width). */
  NAME_TAKEN: "NAME_TAKEN",
  /** REGISTER with a password that is too short, too long or too guessable. */
  WEAK_PASSWORD: "WEAK_PASSWORD",
  /** The server could not complete the request (storage failed); nothing was changed. */
  SERVER_ERROR: "SERVER_ERROR",
  /** HELLO from a client of another major protocol version; `Version` says the server's. */
  VERSION_MISMATCH: "VERSION_MISMATCH",
  /** PEER_CONNECT to oneself. */
  PEER_IS_SELF: "PEER_IS_SELF",
  /** PEER_CONNECT or DM to a user who does not exist or is not online. */
  PEER_OFFLINE: "PEER_OFFLINE",
  /** PEER_BYE, PEER_ACCEPT or PEER_DECLINE when not in a peer chat. */
  NOT_IN_GROUP: "NOT_IN_GROUP",
  /**
   * PEER_CONNECT to a user in a public room, or to a peer chat with too
   * many requests to join waiting; see `Reason`.
   */
  BUSY: "BUSY",
  /**
   * PEER_CONNECT to a user in a peer chat: its members were asked to let
   * the requester in; `Room` and `Expires` say where and until when, and
   * EVT_PEER_ANSWER tells how it ended.
   */
  INVITED: "INVITED",
  /** PEER_ACCEPT or PEER_DECLINE of a user whose request to join is not waiting. */
  NO_INVITATION: "NO_INVITATION",
  /** POEM with a number outside the corpus. */
  NO_SUCH_POEM: "NO_SUCH_POEM",
  /** POEM on a server started without a poem corpus. */
  NO_POEMS: "NO_POEMS",
  /** KICK, BAN or UNBAN by someone who neither owns the room nor is an admin. */
  NOT_ALLOWED: "NOT_ALLOWED",
  /** JOIN_ROOM of a room one is banned from. */
  BANNED: "BANNED",
  /** KICK of a user who is not in the room; UNBAN of one who is not banned. */
  NO_SUCH_USER: "NO_SUCH_USER",
  /**
   * Too many requests of this kind (messages too fast, too many failed
   * logins); `Retry-After-Ms` says when to try again.
   */
  RATE_LIMITED: "RATE_LIMITED",
  /** The connection was refused: too many from the same address. Then the server closes. */
  TOO_MANY_CONNECTIONS: "TOO_MANY_CONNECTIONS"
};
function isEventMethod(method) {
  return method.startsWith("EVT_");
}

// protocol/room_list.ts
function parseRoomPage(response) {
  const counts = parseCounts(response.params["Member-Counts"]);
  const rooms = splitLines(response.content ?? "").map((name, i) => ({
    name,
    members: counts[i] ?? 0
  }));
  return {
    rooms,
    more: response.params.More === "yes"
  };
}
async function readRoomPages(fetchPage, maxPages) {
  const rooms = [];
  let after;
  for (let pages = 0; pages < maxPages; pages++) {
    const page = parseRoomPage(await fetchPage(after));
    rooms.push(...page.rooms);
    if (!page.more) return {
      rooms,
      complete: true
    };
    if (page.rooms.length === 0) break;
    after = page.rooms[page.rooms.length - 1].name;
  }
  return {
    rooms,
    complete: false
  };
}

// client/chat_event.ts
function decodeEvent(message) {
  const p = message.params;
  const kind = p.Kind === "group" ? "group" : "room";
  switch (message.method) {
    case Event.EVT_MSG:
      return {
        type: "message",
        room: p.Room,
        kind,
        from: p.From,
        time: p.Time,
        id: Number(p.Id),
        content: message.content ?? "",
        ...mentionsOf(p.Mentions)
      };
    case Event.EVT_JOIN:
      return {
        type: "join",
        room: p.Room,
        kind,
        user: p.User,
        time: p.Time
      };
    case Event.EVT_LEAVE:
      return {
        type: "leave",
        room: p.Room,
        kind,
        user: p.User,
        time: p.Time,
        ...p.Reason ? {
          reason: p.Reason
        } : {}
      };
    case Event.EVT_DM:
      return {
        type: "dm",
        from: p.From,
        to: p.To,
        time: p.Time,
        id: Number(p.Id),
        content: message.content ?? "",
        ...mentionsOf(p.Mentions)
      };
    case Event.EVT_READ:
      return {
        type: "read",
        ...p.With === void 0 ? {
          room: p.Room,
          kind
        } : {
          with: p.With
        },
        id: Number(p.Id),
        time: p.Time
      };
    case Event.EVT_KICKED:
      return {
        type: "kicked",
        room: p.Room,
        by: p.By ?? "",
        reason: p.Reason ?? "",
        banned: p.Banned === "yes",
        time: p.Time
      };
    case Event.EVT_GROUP_END:
      return {
        type: "groupEnd",
        room: p.Room,
        time: p.Time
      };
    case Event.EVT_NOTICE:
      return {
        type: "notice",
        time: p.Time,
        content: message.content ?? ""
      };
    case Event.EVT_PEER_INVITE:
      return {
        type: "peerInvite",
        room: p.Room,
        from: p.From,
        expires: p.Expires ?? "",
        time: p.Time
      };
    case Event.EVT_PEER_ANSWER:
      return {
        type: "peerAnswer",
        room: p.Room,
        from: p.From,
        answer: p.Answer,
        ...p.By ? {
          by: p.By
        } : {},
        time: p.Time
      };
    case Event.EVT_CLOSE:
      return {
        type: "close",
        reason: p.Reason ?? ""
      };
    default:
      return null;
  }
}
function mentionsOf(value) {
  return value ? {
    mentions: value.split("	")
  } : {};
}

// client/transport.ts
var ConnectionClosedError = class extends Error {
  /** Always `ConnectionClosedError`. */
  name = "ConnectionClosedError";
  /** Why it ended, e.g. `server shutting down` or `closed by client`. */
  reason;
  /** The connection ended for `reason`. */
  constructor(reason) {
    super(`connection closed: ${reason}`);
    this.reason = reason;
  }
};

// client/chat_client.ts
var CLIENT_VERSION = "2.0";
var MAX_ROOM_PAGES = 1e3;
var ChatError = class extends Error {
  /** Always `ChatError`. */
  name = "ChatError";
  /** The response's Status, e.g. `AUTH_FAILED`. */
  status;
  /** The response's Reason, when it gave one. */
  reason;
  /** With RATE_LIMITED: the response's Retry-After-Ms, when trying again may succeed. */
  retryAfterMs;
  /** Describes the failed `method` from its `response`. */
  constructor(method, response) {
    const { Status: status2 = "", Reason: reason, "Retry-After-Ms": retry } = response.params;
    super(`${method} failed: ${status2}${reason ? ` (${reason})` : ""}`);
    this.status = status2;
    this.reason = reason;
    if (retry !== void 0 && /^\d{1,15}$/.test(retry)) this.retryAfterMs = Number(retry);
  }
};
var ChatClient = class _ChatClient {
  #transport;
  #pending = [];
  #events = [];
  #eventWaiter = null;
  #closedReason = null;
  #serverCloseReason = null;
  /** The answer to the HELLO sent on connecting. */
  #greeting;
  /** Resolves with the reason once the connection has ended. */
  closed;
  /**
   * Says HELLO with this library's version at once, pipelined with what
   * follows: without it a TCP server would speak the original dialect.
   */
  /** Whether the session speaks protocol 2.1 (see {@link ChatClientOptions.v21}). */
  v21;
  constructor(transport, options) {
    this.v21 = options.v21 ?? false;
    this.#transport = transport;
    let ended;
    this.closed = new Promise((resolve) => ended = resolve);
    transport.start({
      message: (message) => this.#handle(message),
      ended: (reason) => {
        this.#shutdown(this.#serverCloseReason ?? reason);
        ended(this.#closedReason);
      }
    });
    this.#greeting = this.request({
      method: Request.HELLO,
      params: {
        Version: this.v21 ? "2.1" : CLIENT_VERSION
      }
    });
    this.#greeting.catch(() => {
    });
  }
  /**
   * Starts a session over a transport once it is open: `tcp(options)` for
   * Claptrap frames over TCP or TLS, `webSocket(url)` for JSON over a
   * WebSocket.
   * @throws what opening the transport throws, e.g. `TlsError` when a TLS
   * handshake fails.
   */
  static async connect(transport, options = {}) {
    return new _ChatClient(await transport, options);
  }
  /**
   * Sends a request and resolves to its response, whatever its status.
   * @throws {ConnectionClosedError} when the connection ends first.
   */
  request(message) {
    if (this.#closedReason !== null) {
      return Promise.reject(new ConnectionClosedError(this.#closedReason));
    }
    const response = new Promise((resolve, reject) => this.#pending.push({
      resolve,
      reject
    }));
    this.#transport.send(message);
    return response;
  }
  /**
   * Logs in. With `push` (the default) the server pushes messages and
   * join/leave notices, read with {@link ChatClient.events}.
   * @throws {ChatError} AUTH_FAILED, SERVER_FULL, ALREADY_ONLINE, …
   */
  async login(username, password, options = {}) {
    const response = await this.#ok(Request.LOGIN, {
      Username: username,
      Password: password,
      Push: options.push === false ? "off" : "on"
    });
    return response.params.Token;
  }
  /**
   * 2.1: logs in again with the sign-in token an earlier {@link ChatClient.login}
   * returned, instead of the password.
   * @throws {ChatError} AUTH_FAILED when the token is wrong, revoked or expired.
   */
  async resume(username, token, options = {}) {
    await this.#ok(Request.LOGIN, {
      Username: username,
      Token: token,
      Push: options.push === false ? "off" : "on"
    });
  }
  /**
   * Changes the password; every sign-in token of the user stops working.
   * @returns the new token (2.1)
   * @throws {ChatError} AUTH_FAILED (wrong old password), WEAK_PASSWORD, NOT_ALLOWED, …
   */
  async changePassword(old, password) {
    const response = await this.#ok(Request.CHANGE_PASSWORD, {
      Old: old,
      New: password
    });
    return response.params.Token;
  }
  /**
   * Creates an account; log in with it afterwards. Allowed before logging in.
   * @throws {ChatError} NAME_TAKEN, INVALID_NAME or WEAK_PASSWORD (with a reason), …
   */
  async register(username, password) {
    await this.#ok(Request.REGISTER, {
      Username: username,
      Password: password
    });
  }
  /**
   * Logs out (the connection stays open); the session's sign-in token stops
   * working. `everywhere`: every token of the user does, and their other
   * sessions are closed.
   */
  async logout(options = {}) {
    await this.#ok(Request.LOGOUT, options.everywhere ? {
      Everywhere: "yes"
    } : {});
  }
  /**
   * 2.1: every room, whether the user belongs to it and what they have not
   * read there, read page by page: at most `maxPages` pages (default and
   * most {@link MAX_ROOM_PAGES}).
   */
  async roomStates(options = {}) {
    const rooms = [];
    let after;
    const most = Math.min(options.maxPages ?? MAX_ROOM_PAGES, MAX_ROOM_PAGES);
    for (let pages = 0; pages < most; pages++) {
      const response = await this.#ok(Request.LIST_ROOMS, after === void 0 ? {} : {
        After: after
      });
      for (const [name, members, joined, unread, mentions] of parseRows(response.content ?? "", 5)) {
        rooms.push({
          name,
          members: Number(members),
          joined: joined === "joined",
          unread: Number(unread),
          mentions: Number(mentions)
        });
      }
      if (response.params.More !== "yes" || rooms.length === 0) break;
      after = rooms[rooms.length - 1].name;
    }
    return rooms;
  }
  /** 2.1: the direct conversations, the latest first, with what the user has not read. */
  async directStates() {
    const response = await this.#ok(Request.LIST_DIRECT);
    return parseRows(response.content ?? "", 3).map(([name, unread, mentions]) => ({
      name,
      members: 2,
      unread: Number(unread),
      mentions: Number(mentions)
    }));
  }
  /** 2.1: the peer chats the session is in, with what the user has not read. */
  async peerChatStates() {
    const response = await this.#ok(Request.LIST_GROUPS);
    return parseRows(response.content ?? "", 4).map(([name, members, unread, mentions]) => ({
      name,
      members: Number(members),
      unread: Number(unread),
      mentions: Number(mentions)
    }));
  }
  /**
   * 2.1: the user has read a room or peer chat (`room`, default the
   * current one), or the direct conversation `with` a user, up to the
   * message `id`; their other sessions get a `read` event.
   */
  async markRead(id, place = {}) {
    const params = {
      Id: String(id)
    };
    if (place.room !== void 0) params.Room = place.room;
    if (place.with !== void 0) params.With = place.with;
    await this.#ok(Request.MARK_READ, params);
  }
  /**
   * Every room with its member count, in creation order, read page by page:
   * at most `maxPages` pages (default and most {@link MAX_ROOM_PAGES}).
   */
  async rooms(options = {}) {
    if (this.v21) {
      return (await this.roomStates(options)).map(({ name, members }) => ({
        name,
        members
      }));
    }
    const list = await readRoomPages((after) => this.#ok(Request.LIST_ROOMS, after === void 0 ? {} : {
      After: after
    }), Math.min(options.maxPages ?? MAX_ROOM_PAGES, MAX_ROOM_PAGES));
    return list.rooms;
  }
  /**
   * One page of the room list: at most `limit` rooms (the server's default
   * and most: 1,000) after the room named `after`, or from the first.
   * @throws {ChatError} BAD_REQUEST when `after` names no room or `limit` is out of range.
   */
  async roomPage(options = {}) {
    const params = {};
    if (options.after !== void 0) params.After = options.after;
    if (options.limit !== void 0) params.Limit = String(options.limit);
    return parseRoomPage(await this.#ok(Request.LIST_ROOMS, params));
  }
  /** The members of the current room (2.1: or of `room`), each once. */
  async members(options = {}) {
    const response = await this.#ok(Request.LIST_MEMBERS, roomParam(options.room));
    if (!this.v21) return splitLines(response.content ?? "");
    return parseRows(response.content ?? "", 2).map(([name]) => name);
  }
  /** 2.1: who belongs to the current room (or `room`), online or not. */
  async memberStates(options = {}) {
    const response = await this.#ok(Request.LIST_MEMBERS, roomParam(options.room));
    return parseRows(response.content ?? "", 2).map(([name, state]) => ({
      name,
      online: state === "online"
    }));
  }
  /**
   * The users this user has a direct conversation with (see
   * {@link ChatClient.dm}), the one with the newest message first.
   */
  async directPartners() {
    if (this.v21) return (await this.directStates()).map((state) => state.name);
    return splitLines((await this.#ok(Request.LIST_DIRECT)).content ?? "");
  }
  /**
   * Enters a room, leaving the current one; in 2.1, adds it beside the
   * others (or switches to it) and makes it the current one.
   */
  async join(room) {
    await this.#ok(Request.JOIN_ROOM, {
      "Room-Name": room
    });
  }
  /** Leaves the current room or peer chat (2.1: or `room`, on every device, for good). */
  async leave(room) {
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
  async hello(version, capabilities) {
    const params = {
      Version: version ?? CLIENT_VERSION
    };
    if (capabilities !== void 0) params.Capabilities = capabilities.join(",");
    const response = version === void 0 && capabilities === void 0 ? await this.#greeting : await this.request({
      method: Request.HELLO,
      params
    });
    if (response.params.Status !== Status.OK) throw new ChatError(Request.HELLO, response);
    const listed = response.params.Capabilities ?? "";
    return {
      version: response.params.Version ?? "",
      capabilities: listed === "" ? [] : listed.split(","),
      server: response.params.Server ?? ""
    };
  }
  /** Checks that the server answers; `token`, if given, comes back. Allowed before logging in. */
  async ping(token) {
    const response = await this.#ok(Request.PING, token === void 0 ? {} : {
      Token: token
    });
    const pong = {
      time: response.params.Time ?? ""
    };
    if (response.params.Token !== void 0) pong.token = response.params.Token;
    return pong;
  }
  /** The server's time: ISO 8601 UTC. */
  async time() {
    return (await this.#ok(Request.TIME)).params.Time ?? "";
  }
  /** Every online user and where each is. */
  async who() {
    const response = await this.#ok(Request.WHO);
    return parseRows(response.content ?? "", 3).map(([user, place, name]) => ({
      user,
      place,
      name
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
  async peerConnect(peer) {
    const response = await this.request({
      method: Request.PEER_CONNECT,
      params: {
        Peer: peer
      }
    });
    const { Status: status2, Room: room = "", Expires: expires = "" } = response.params;
    if (status2 === Status.INVITED) return {
      room,
      invited: true,
      expires
    };
    if (status2 !== Status.OK) throw new ChatError(Request.PEER_CONNECT, response);
    return {
      room,
      invited: false
    };
  }
  /**
   * Lets `user`, who asked to join (a `peerInvite` event), into this
   * user's peer chat.
   * @throws {ChatError} NO_INVITATION when their request is not waiting
   * (answered, expired or withdrawn), NOT_IN_GROUP, …
   */
  async peerAccept(user) {
    await this.#ok(Request.PEER_ACCEPT, {
      Peer: user
    });
  }
  /**
   * Turns down `user`, who asked to join this user's peer chat.
   * @throws {ChatError} NO_INVITATION, NOT_IN_GROUP, …
   */
  async peerDecline(user) {
    await this.#ok(Request.PEER_DECLINE, {
      Peer: user
    });
  }
  /**
   * Leaves the peer chat ("bye"); when one member is left, they get a
   * `groupEnd` event.
   * @throws {ChatError} NOT_IN_GROUP when not in a peer chat.
   */
  async peerBye() {
    await this.#ok(Request.PEER_BYE);
  }
  /**
   * Sends a direct message to an online user, who gets it as a `dm` event.
   * @returns its id and server time.
   * @throws {ChatError} PEER_OFFLINE (unknown or not online), PEER_IS_SELF, …
   */
  async dm(to, text) {
    const response = await this.#ok(Request.DM, {
      To: to
    }, text);
    return {
      id: Number(response.params.Id),
      time: response.params.Time
    };
  }
  /**
   * Poem number `n` (from 1) of the server's corpus.
   * @throws {ChatError} NO_SUCH_POEM for a number out of range, NO_POEMS
   * when the server has no corpus.
   */
  async poem(n) {
    const response = await this.#ok(Request.POEM, {
      Number: String(n)
    });
    return {
      number: Number(response.params.Number),
      title: response.params.Title ?? "",
      text: response.content ?? ""
    };
  }
  /**
   * Removes a user from a room (default: the current one); they and the
   * room are told, with the reason. Owners of the room and admins only.
   * @throws {ChatError} NOT_ALLOWED (also for oneself), NO_SUCH_USER (not in the room),
   * NOT_IN_ROOM, NO_SUCH_ROOM
   */
  async kick(user, options = {}) {
    await this.#ok(Request.KICK, moderationParams(user, options));
  }
  /**
   * Removes a user from a room (default: the current one) and keeps them
   * out until {@link ChatClient.unban}. Owners of the room and admins only.
   * @throws {ChatError} NOT_ALLOWED (also for oneself), NO_SUCH_USER (no such account),
   * NOT_IN_ROOM, NO_SUCH_ROOM
   */
  async ban(user, options = {}) {
    await this.#ok(Request.BAN, moderationParams(user, options));
  }
  /**
   * Lets a banned user back into a room (default: the current one).
   * Owners of the room and admins only.
   * @throws {ChatError} NOT_ALLOWED, NO_SUCH_USER (not banned), NOT_IN_ROOM, NO_SUCH_ROOM
   */
  async unban(user, options = {}) {
    await this.#ok(Request.UNBAN, moderationParams(user, {
      room: options.room
    }));
  }
  /** Creates a room. */
  async create(room) {
    await this.#ok(Request.CREATE_ROOM, {
      "Room-Name": room
    });
  }
  /**
   * Posts a message to the current room (2.1: or `room`); resolves to its
   * id and server time.
   */
  async send(text, options = {}) {
    const response = await this.#ok(Request.SEND_MSG, roomParam(options.room), text);
    return {
      id: Number(response.params.Id),
      time: response.params.Time
    };
  }
  /** Polls the messages posted in the room since the last poll (or the join). */
  async recv() {
    const response = await this.request({
      method: Request.RECV_MSG,
      params: {}
    });
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
  async history(options = {}) {
    const params = roomParam(options.room);
    if (options.before !== void 0) params.Before = String(options.before);
    if (options.after !== void 0) params.After = String(options.after);
    if (options.limit !== void 0) params.Limit = String(options.limit);
    if (options.with !== void 0) params.With = options.with;
    const response = await this.#ok(Request.HISTORY, params);
    return {
      room: response.params.Room ?? "",
      more: response.params.More === "yes",
      messages: parseRows(response.content ?? "", 4).map(([id, from, time, content]) => ({
        id: Number(id),
        from,
        time,
        content
      }))
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
  async search(query, options = {}) {
    const params = {
      Query: query
    };
    if (options.limit !== void 0) params.Limit = String(options.limit);
    if (options.before !== void 0) params.Before = String(options.before);
    const response = await this.#ok(Request.SEARCH, params);
    const { Total, Partial, More, Before } = response.params;
    const rows = parseRows(response.content ?? "", 5);
    return {
      results: rows.map(([id, room, from, time, snippet]) => ({
        id: Number(id),
        room,
        from,
        time,
        snippet
      })),
      total: Total === void 0 ? rows.length : parseInt(Total, 10),
      partial: Partial === "yes",
      next: More === "yes" && Before !== void 0 ? Number(Before) : null
    };
  }
  /**
   * Pushed events, in arrival order, until the connection ends. Events are
   * buffered until read; iterate from one place only.
   */
  async *events() {
    while (true) {
      const event = this.#events.shift();
      if (event) {
        yield event;
        continue;
      }
      if (this.#closedReason !== null) return;
      await new Promise((resolve) => this.#eventWaiter = resolve);
    }
  }
  /** Closes the connection; resolves once it is closed. */
  close() {
    this.#shutdown("closed by client");
    return this.closed;
  }
  async #ok(method, params = {}, content) {
    const response = await this.request({
      method,
      params,
      content
    });
    if (response.params.Status !== Status.OK) throw new ChatError(method, response);
    return response;
  }
  #handle(message) {
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
    if (event === null) return;
    if (event.type === "close") this.#serverCloseReason = event.reason || "closed by server";
    this.#push(event);
  }
  /**
   * Answers EVT_PING with a PING. Responses come in request order, so the
   * PONG settles this request's place in the pending queue, and is dropped
   * there: no caller's request ever sees it.
   */
  #answerPing() {
    if (this.#closedReason !== null) return;
    this.request({
      method: Request.PING,
      params: {}
    }).catch(() => {
    });
  }
  #push(event) {
    this.#events.push(event);
    this.#eventWaiter?.();
    this.#eventWaiter = null;
  }
  /** Ends the session: closes the transport, fails what is pending, ends the events. */
  #shutdown(reason) {
    if (this.#closedReason !== null) return;
    this.#closedReason = reason;
    this.#transport.close();
    for (const pending of this.#pending.splice(0)) {
      pending.reject(new ConnectionClosedError(reason));
    }
    this.#eventWaiter?.();
    this.#eventWaiter = null;
  }
};
function roomParam(room) {
  return room === void 0 ? {} : {
    Room: room
  };
}
function moderationParams(user, options) {
  const params = {
    User: user
  };
  if (options.room !== void 0) params["Room-Name"] = options.room;
  if (options.reason !== void 0) params.Reason = options.reason;
  return params;
}

// client/mention.ts
var WORD_CHAR = /[\p{L}\p{N}\p{M}]/u;
function fold(text) {
  return text.normalize("NFKC").toLowerCase();
}
function mentionsUser(text, user, mentions) {
  const name = fold(user);
  if (mentions?.some((mentioned) => fold(mentioned) === name)) return true;
  const folded = fold(text);
  for (let at = folded.indexOf("@"); at >= 0; at = folded.indexOf("@", at + 1)) {
    if (at > 0 && WORD_CHAR.test(folded[at - 1])) continue;
    if (!folded.startsWith(name, at + 1)) continue;
    const next = folded[at + 1 + name.length];
    if (next === void 0 || !WORD_CHAR.test(next)) return true;
  }
  return false;
}

// client/reconnector.ts
function reconnectDelay(attempt, random = Math.random) {
  const base = Math.min(1e4, 500 * 2 ** attempt);
  return Math.round(base * (0.8 + 0.4 * random()));
}
var Reconnector = class {
  #delayMs;
  #attempts;
  #waiting;
  #run = null;
  /** A reconnector that is not running. */
  constructor(options = {}) {
    this.#delayMs = options.delayMs ?? reconnectDelay;
    this.#attempts = options.attempts ?? Infinity;
    this.#waiting = options.waiting ?? (() => {
    });
  }
  /** Whether tries are under way (or waited for). */
  get running() {
    return this.#run !== null;
  }
  /**
   * Starts trying `connect` until a try connects or stops, or
   * `attempts` tries did not connect; resolves with how that ended, or
   * rejects with what a try threw.
   *
   * While tries are under way, it starts nothing and resolves with theirs:
   * there is one reconnection at a time. Called during a try, it says that
   * the connection that try makes was lost again, so a try follows even when
   * that one connected.
   */
  start(connect) {
    if (this.#run) {
      if (this.#run.trying) this.#run.lostMeanwhile = true;
      return this.#run.done.promise;
    }
    const run = {
      done: Promise.withResolvers(),
      stopped: false,
      trying: false,
      lostMeanwhile: false,
      wake: () => {
      }
    };
    this.#run = run;
    this.#tries(run, connect).finally(() => {
      if (this.#run === run) this.#run = null;
    }).then(run.done.resolve, run.done.reject);
    return run.done.promise;
  }
  /** The wait before the next try ends now (e.g. the network is back); a try under way goes on. */
  wake() {
    this.#run?.wake();
  }
  /** No more tries: the wait ends, and the run with it (a try under way finishes first). */
  stop() {
    const run = this.#run;
    if (!run) return;
    run.stopped = true;
    run.wake();
  }
  async #tries(run, connect) {
    for (let attempt = 0; attempt < this.#attempts; attempt++) {
      const ms = this.#delayMs(attempt);
      this.#waiting(ms);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, ms);
        run.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      run.wake = () => {
      };
      if (run.stopped) return "stopped";
      run.trying = true;
      run.lostMeanwhile = false;
      let outcome;
      try {
        outcome = await connect();
      } finally {
        run.trying = false;
      }
      if (outcome === "stop" || run.stopped) return "stopped";
      if (outcome === "connected" && !run.lostMeanwhile) return "connected";
    }
    return "gave up";
  }
};

// protocol/byte_slab.ts
var SLAB_SIZE = 8192;
var slab = new ArrayBuffer(SLAB_SIZE);
var slabBytes = new Uint8Array(slab);

// protocol/frame.ts
var MAGIC = new Uint8Array([
  67,
  76,
  65,
  80,
  84,
  82,
  65,
  80
]);
var DEFAULT_MAX_FRAME_SIZE = 1 << 20;

// protocol/message.ts
var encoder = new TextEncoder();
var strictDecoder = new TextDecoder("utf-8", {
  fatal: true,
  ignoreBOM: true
});
var lenientDecoder = new TextDecoder("utf-8", {
  ignoreBOM: true
});
var CONTENT_LENGTH_LINE_MAX = 16 + 10;
var MAX_PARAMETERS = 64;
function utf8Length(text) {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 128) continue;
    if (code < 2048) bytes += 1;
    else if (code >= 55296 && code <= 56319 && i + 1 < text.length && (text.charCodeAt(i + 1) & 64512) === 56320) {
      bytes += 2;
      i++;
    } else bytes += 2;
  }
  return bytes;
}

// protocol/json_mapping.ts
var FIELDS = /* @__PURE__ */ new Set([
  "method",
  "params",
  "content"
]);
function messageToJson(message) {
  const method = message.method.toWellFormed();
  checkLine(method, "method", TypeError, "encode");
  const params = {};
  for (const name in message.params) {
    if (name === "Content-Length") continue;
    const value = message.params[name].toWellFormed();
    checkName(name, TypeError, "encode");
    checkLine(value, `value of ${name}`, TypeError, "encode");
    setParam(params, name.toWellFormed(), value);
  }
  const json = {
    method,
    params
  };
  if (message.content !== void 0) json.content = message.content.toWellFormed();
  return JSON.stringify(json);
}
function parseJsonMessage(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    throw new SyntaxError("Cannot parse message: not valid JSON");
  }
  if (!isObject(value)) throw new SyntaxError("Cannot parse message: not a JSON object");
  for (const field of Object.keys(value)) {
    if (!FIELDS.has(field)) {
      throw new SyntaxError(`Cannot parse message: unknown field ${quoteShort(field)}`);
    }
  }
  const { method, params: rawParams, content } = value;
  if (typeof method !== "string") {
    throw new SyntaxError("Cannot parse message: method must be a string");
  }
  if (method === "") throw new SyntaxError("Cannot parse message: empty method line");
  checkText(method);
  checkLine(method, "method", SyntaxError, "parse");
  const params = {};
  if (rawParams !== void 0) {
    if (!isObject(rawParams)) {
      throw new SyntaxError("Cannot parse message: params must be an object");
    }
    if (Object.keys(rawParams).length > MAX_PARAMETERS) {
      throw new SyntaxError(`Cannot parse message: more than ${MAX_PARAMETERS} parameters`);
    }
    for (const name of Object.keys(rawParams)) {
      const paramValue = rawParams[name];
      if (typeof paramValue !== "string") {
        throw new SyntaxError(`Cannot parse message: value of ${quoteShort(name)} is not a string`);
      }
      checkText(name);
      checkText(paramValue);
      checkName(name, SyntaxError, "parse");
      checkLine(paramValue, `value of ${quoteShort(name)}`, SyntaxError, "parse");
      if (name === "Content-Length") {
        throw new SyntaxError("Cannot parse message: Content-Length is not sent in JSON; it follows from content");
      }
      setParam(params, name, paramValue);
    }
  }
  if (content === void 0) return {
    method,
    params
  };
  if (typeof content !== "string") {
    throw new SyntaxError("Cannot parse message: content must be a string");
  }
  checkText(content);
  params["Content-Length"] = String(utf8Length(content));
  return {
    method,
    params,
    content
  };
}
function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
function setParam(params, name, value) {
  if (name !== "__proto__") {
    params[name] = value;
    return;
  }
  Object.defineProperty(params, name, {
    value,
    enumerable: true,
    writable: true,
    configurable: true
  });
}
function checkText(text) {
  if (!text.isWellFormed()) {
    throw new SyntaxError("Cannot parse message: lone surrogate in a string (not valid UTF-8)");
  }
}
function checkLine(text, what, error, verb) {
  if (text.includes("\n")) throw new error(`Cannot ${verb} message: ${what} contains a newline`);
}
function checkName(name, error, verb) {
  if (name === "" || name.includes(": ")) {
    throw new error(`Cannot ${verb} message: bad parameter name ${quoteShort(name)}`);
  }
  checkLine(name, "parameter name", error, verb);
}
function quoteShort(text) {
  return JSON.stringify(text.length > 40 ? text.slice(0, 40) + "\u2026" : text);
}

// client/websocket_transport.ts
var WEBSOCKET_OPEN_TIMEOUT_MS = 1e4;
function webSocketUrl(location2) {
  const scheme = location2.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location2.host}/ws`;
}
function webSocket(url, options = {}) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const timer = setTimeout(() => {
      socket.close();
      reject(new ConnectionClosedError("the server did not answer"));
    }, options.timeoutMs ?? WEBSOCKET_OPEN_TIMEOUT_MS);
    socket.onopen = () => {
      clearTimeout(timer);
      resolve(new WebSocketTransport(socket));
    };
    socket.onclose = () => {
      clearTimeout(timer);
      reject(new ConnectionClosedError("cannot reach the server"));
    };
  });
}
var WebSocketTransport = class {
  #socket;
  #closing = false;
  constructor(socket) {
    this.#socket = socket;
  }
  start(receiver) {
    const socket = this.#socket;
    let unreadable = null;
    socket.onmessage = (event) => {
      if (unreadable !== null) return;
      let message;
      try {
        message = parseJsonMessage(String(event.data));
      } catch (error) {
        unreadable = `protocol error: ${error.message}`;
        this.close();
        return;
      }
      receiver.message(message);
    };
    socket.onclose = (event) => {
      receiver.ended(unreadable ?? (this.#closing ? "closed by client" : event.reason || "connection lost"));
    };
  }
  send(message) {
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.send(messageToJson(message));
  }
  close() {
    if (this.#closing) return;
    this.#closing = true;
    this.#socket.close(1e3, "bye");
  }
};

// protocol/direct_room_name.ts
function directRoomUsers(room) {
  const users = [];
  let current = "";
  for (let i = 0; i < room.length; i++) {
    const char = room[i];
    if (char === "\\") {
      if (i + 1 === room.length) return null;
      current += room[++i];
    } else if (char === "\u2194") {
      if (!current.endsWith(" ") || room[i + 1] !== " ") return null;
      users.push(current.slice(0, -1));
      current = "";
      i++;
    } else {
      current += char;
    }
  }
  users.push(current);
  return users.length === 2 && users[0] !== "" && users[1] !== "" ? [
    users[0],
    users[1]
  ] : null;
}

// web/src/timeline.ts
var Timeline = class {
  #messages = [];
  #ids = /* @__PURE__ */ new Set();
  #notices = [];
  #seq = 0;
  /** How many messages it holds. */
  get size() {
    return this.#messages.length;
  }
  /** The smallest message id, or null when empty. */
  get oldestId() {
    return this.#messages.length > 0 ? this.#messages[0].id : null;
  }
  /** The largest message id, or 0 when empty. */
  get newestId() {
    return this.#messages.length > 0 ? this.#messages[this.#messages.length - 1].id : 0;
  }
  /** Whether a message with this id is present. */
  has(id) {
    return this.#ids.has(id);
  }
  /** The messages, in id order. */
  messages() {
    return this.#messages;
  }
  /**
   * Adds messages in any order; those whose id is present already are
   * ignored, so the same message never shows twice.
   */
  add(messages) {
    const fresh = [];
    for (const message of messages) {
      if (this.#ids.has(message.id)) continue;
      this.#ids.add(message.id);
      fresh.push(message);
    }
    fresh.sort((a, b) => a.id - b.id);
    if (fresh.length === 0) return {
      added: fresh,
      appended: true
    };
    const appended = fresh[0].id > this.newestId;
    if (appended) {
      this.#messages.push(...fresh);
    } else {
      this.#messages = [
        ...this.#messages,
        ...fresh
      ].sort((a, b) => a.id - b.id);
    }
    return {
      added: fresh,
      appended
    };
  }
  /** Adds a notice after the newest message known now. */
  addNotice(text, time) {
    const notice = {
      text,
      time,
      afterId: this.newestId,
      seq: this.#seq++
    };
    this.#notices.push(notice);
    return notice;
  }
  /** Every entry in display order: messages by id, each notice after the message it followed. */
  entries() {
    const entries = [];
    let n = 0;
    for (const message of this.#messages) {
      while (n < this.#notices.length && this.#notices[n].afterId < message.id) {
        entries.push({
          kind: "notice",
          notice: this.#notices[n++]
        });
      }
      entries.push({
        kind: "message",
        message
      });
    }
    while (n < this.#notices.length) entries.push({
      kind: "notice",
      notice: this.#notices[n++]
    });
    return entries;
  }
};

// web/src/conversation.ts
var HELD_MAX = 1e3;
var Conversation = class {
  /** What it is. */
  kind;
  /** The room's or peer chat's name, or for a direct conversation the other user's name. */
  name;
  /** The messages held, a contiguous run of the conversation's messages. */
  timeline = new Timeline();
  /** Whether older messages than the oldest held exist. */
  older = false;
  /**
   * Whether the reader chose to read from a past message (a search result):
   * the timeline stays where it is until they reach the newest message.
   */
  reading = false;
  /** Messages after the user's read position (the server's count, kept up live). */
  unread = 0;
  /** Those of them that mention the user. */
  mentions = 0;
  /** The id up to which the page said the user read it (MARK_READ). */
  markedRead = 0;
  /** The id of a message to point out (a search result). */
  highlight = null;
  /** Messages typed in it and not yet confirmed. */
  pending = [];
  /** Where the reader was when it was last shown: an anchor, or the newest message. */
  place = null;
  #generation = 0;
  #synced = false;
  #behind = false;
  #held = [];
  #heldLost = false;
  /** A conversation the page has fetched nothing of yet. */
  constructor(kind, name) {
    this.kind = kind;
    this.name = name;
  }
  /**
   * Whether live messages reach it: it has been fetched since the page last
   * (re)connected. When not, fetching ({@link hold} and pages) brings it up
   * to date.
   */
  get synced() {
    return this.#synced;
  }
  /** Counts the restarts: a page asked for before one does not belong to the new timeline. */
  get generation() {
    return this.#generation;
  }
  /** Whether newer messages than the newest held exist; live messages are held back meanwhile. */
  get behind() {
    return this.#behind;
  }
  /** Whether live messages go straight into the timeline. */
  get live() {
    return this.#synced && !this.#behind;
  }
  /** The connection dropped: live messages no longer reach it until it is fetched again. */
  unsync() {
    this.#synced = false;
    this.#held = [];
  }
  /**
   * Starts fetching: live messages are held back from now on, until a page
   * reaches the newest message ({@link addPage} with `newer: false`).
   */
  hold() {
    this.#synced = true;
    this.#behind = true;
    this.#held = [];
    this.#heldLost = false;
  }
  /** Forgets the timeline, to fetch it again from another message; see {@link hold}. */
  restart() {
    this.#generation++;
    this.timeline = new Timeline();
    this.older = false;
    this.hold();
  }
  /**
   * A message that arrived live (pushed, or the answer to one's own send).
   * Returns what it added to the timeline, or null when it added nothing:
   * held back while behind, or left to the next fetch when not synced.
   */
  receive(message) {
    if (!this.#synced) return null;
    if (!this.#behind) return this.timeline.add([
      message
    ]);
    if (this.#held.length < HELD_MAX) this.#held.push(message);
    else {
      this.#held = [];
      this.#heldLost = true;
    }
    return null;
  }
  /**
   * Adds a page of history, oldest first. `older` and `newer` say whether
   * messages exist beyond the page on either side, where the request tells
   * (a page before an id tells only about older ones, a page after an id
   * only about newer ones). A page that reaches the newest message brings
   * the held live messages in, and the conversation is live again; unless
   * some were dropped (more than {@link HELD_MAX}), then one more page
   * after the newest is needed.
   */
  addPage(messages, edges) {
    if (edges.older !== void 0) this.older = edges.older;
    if (edges.newer !== false || !this.#synced) return this.timeline.add(messages);
    if (this.#heldLost) {
      this.#held = [];
      this.#heldLost = false;
      return this.timeline.add(messages);
    }
    const result = this.timeline.add([
      ...messages,
      ...this.#held
    ]);
    this.#held = [];
    this.#behind = false;
    this.reading = false;
    return result;
  }
};
var Conversations = class {
  #list = [];
  /** The conversation of this kind and name, if known. */
  find(kind, name) {
    return this.#list.find((c) => c.kind === kind && c.name === name);
  }
  /** The conversation of this kind and name; a new one goes first. */
  get(kind, name) {
    let conversation = this.find(kind, name);
    if (!conversation) {
      conversation = new Conversation(kind, name);
      this.#list.unshift(conversation);
    }
    return conversation;
  }
  /** Moves a conversation first: something happened in it. */
  touch(conversation) {
    const at = this.#list.indexOf(conversation);
    if (at > 0) this.#list.unshift(...this.#list.splice(at, 1));
  }
  /** Adds conversations after those known (each name once), in the order given. */
  append(kind, names) {
    for (const name of names) {
      if (!this.find(kind, name)) this.#list.push(new Conversation(kind, name));
    }
  }
  /** Forgets a conversation. */
  remove(conversation) {
    this.#list = this.#list.filter((c) => c !== conversation);
  }
  /** The conversations, of one kind when given, most recently active first. */
  list(kind) {
    return kind === void 0 ? [
      ...this.#list
    ] : this.#list.filter((c) => c.kind === kind);
  }
  /** Forgets them all (signing out). */
  clear() {
    this.#list = [];
  }
};
function directPartner(room, me) {
  const users = directRoomUsers(room);
  if (!users || !users.includes(me)) return null;
  return users[0] === me ? users[1] : users[0];
}

// web/src/dom.ts
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === void 0 || value === false) continue;
    element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === void 0 || child === false) continue;
    element.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return element;
}
function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`page element #${id} is missing`);
  return element;
}

// web/src/format.ts
function clockTime(iso, locale) {
  return new Date(iso).toLocaleTimeString(locale, {
    hour: "2-digit",
    minute: "2-digit"
  });
}
function fullTime(iso, locale) {
  return new Date(iso).toLocaleString(locale, {
    weekday: "long",
    year: "numeric",
    month: "long",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit"
  });
}
function dayKey(iso) {
  const date = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}
function dayLabel(iso, now = /* @__PURE__ */ new Date(), locale) {
  const key = dayKey(iso);
  if (key === dayKey(now.toISOString())) return "Today";
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (key === dayKey(yesterday.toISOString())) return "Yesterday";
  return new Date(iso).toLocaleDateString(locale, {
    weekday: "long",
    year: "numeric",
    month: "long",
    day: "numeric"
  });
}
function sameGroup(earlier, later) {
  return Date.parse(later) - Date.parse(earlier) < 5 * 6e4 && dayKey(earlier) === dayKey(later);
}
function colourIndex(name) {
  let hash = 0;
  for (const char of name) hash = hash * 31 + char.codePointAt(0) >>> 0;
  return hash % 8;
}

// web/src/refusal_text.ts
var STATUS_TEXT = {
  AUTH_FAILED: "Wrong user name or password.",
  ALREADY_ONLINE: "This user is signed in elsewhere.",
  ALREADY_LOGIN: "Already signed in.",
  SERVER_FULL: "The server is full; try again later.",
  NAME_TAKEN: "That user name is taken.",
  WEAK_PASSWORD: "That password is too weak",
  INVALID_NAME: "That name is not allowed",
  ROOM_EXISTS: "A room of that name exists already.",
  NO_SUCH_ROOM: "There is no such room.",
  BANNED: "You are banned from that room.",
  NOT_IN_ROOM: "Join a room first.",
  NOT_LOGIN: "Not signed in.",
  PEER_OFFLINE: "Not delivered",
  PEER_IS_SELF: "That is you.",
  NO_SUCH_USER: "There is no such user.",
  RATE_LIMITED: "Too fast: wait a moment",
  SERVER_ERROR: "The server could not store this; try again.",
  BAD_REQUEST: "The server refused the request"
};
function describe(refusal) {
  const text = STATUS_TEXT[refusal.status] ?? `Failed (${refusal.status})`;
  return refusal.reason ? `${text.replace(/\.$/, "")}: ${refusal.reason}.` : text;
}

// web/src/scroll_place.ts
var END_SLACK = 120;
function atEnd(view) {
  return view.scrollHeight - view.scrollTop - view.clientHeight < END_SLACK;
}
function anchorAt(items, scrollTop) {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const middle = low + high >> 1;
    if (items[middle].bottom > scrollTop) high = middle;
    else low = middle + 1;
  }
  const item = items[low];
  return item ? {
    id: item.id,
    offset: item.top - scrollTop
  } : null;
}
function scrollTopFor(anchor, top) {
  return top === void 0 ? null : Math.max(0, top - anchor.offset);
}

// protocol/search_text.ts
function searchTerms(query) {
  return query.normalize("NFC").split(/[\s\p{Cc}]+/u).filter((word) => word !== "");
}
function splitSnippet(snippet, query) {
  const terms = searchTerms(query).map((term) => term.toLowerCase()).sort((a, b) => b.length - a.length);
  const parts = [];
  let plain = "";
  let i = 0;
  while (i < snippet.length) {
    const term = snippet[i] !== "[" ? void 0 : terms.find((t) => snippet[i + 1 + t.length] === "]" && snippet.slice(i + 1, i + 1 + t.length).toLowerCase() === t);
    if (term === void 0) {
      plain += snippet[i++];
      continue;
    }
    if (plain !== "") parts.push({
      text: plain,
      match: false
    });
    plain = "";
    parts.push({
      text: snippet.slice(i + 1, i + 1 + term.length),
      match: true
    });
    i += term.length + 2;
  }
  if (plain !== "") parts.push({
    text: plain,
    match: false
  });
  return parts;
}

// web/src/search_dialog.ts
var SearchDialog = class {
  #host;
  #el = {
    form: byId("search-form"),
    input: byId("search-input"),
    dialog: byId("search-dialog"),
    title: byId("search-title"),
    results: byId("search-results"),
    close: byId("search-close")
  };
  /** Searches begun: a page of an earlier search than the latest is left out. */
  #searches = 0;
  /** Wires the search box and the dialog up. */
  constructor(host) {
    this.#host = host;
    const el = this.#el;
    el.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#search();
    });
    el.close.addEventListener("click", () => el.dialog.close());
  }
  #search() {
    const el = this.#el;
    const query = el.input.value.trim();
    if (!query) return;
    el.title.textContent = `Results for \u201C${query}\u201D`;
    el.results.replaceChildren(status("Searching\u2026"));
    if (!el.dialog.open) el.dialog.showModal();
    this.#showPage(query, ++this.#searches);
  }
  /**
   * Adds a page of a search's results: the newest matches, or those below
   * `before`. The server looks through so many messages per page, so a
   * page that found nothing need not be the last: the reader may search on.
   */
  async #showPage(query, search, before) {
    const found = await this.#host.search(query, before);
    if (search !== this.#searches) return;
    const list = this.#el.results;
    list.querySelector(".search-status")?.remove();
    if (found === null || found instanceof ChatError) {
      list.append(status(found === null ? "Not connected." : describe(found)));
      return;
    }
    const rooms = this.#host.publicRooms();
    list.append(...found.results.map((hit) => this.#result(hit, query, rooms)));
    const next = found.next;
    const newest = before === void 0;
    if (next === null) {
      if (found.results.length === 0) {
        list.append(status(newest ? "Nothing found." : "No older matches."));
      }
      return;
    }
    const searchOn = h("button", {
      type: "button",
      class: "link-button"
    }, "Search older messages");
    searchOn.addEventListener("click", () => {
      searchOn.replaceWith("Searching\u2026");
      this.#showPage(query, search, next);
    });
    const nothing = found.results.length > 0 ? null : `No matches among the ${newest ? "newest" : "older"} messages searched. `;
    list.append(status(nothing, searchOn));
  }
  /** One result: who wrote it where and when, the snippet, and a way to open it there. */
  #result(hit, query, publicRooms) {
    const { id, room, from, time, snippet } = hit;
    const inRoom = publicRooms.has(room);
    const partner = inRoom ? null : directPartner(room, this.#host.me());
    const text = h("p", {
      class: "result-text"
    }, ...splitSnippet(snippet, query).map((part) => part.match ? h("mark", {}, part.text) : document.createTextNode(part.text)));
    const meta = h("div", {
      class: "message-meta"
    }, h("span", {
      class: `sender colour-${colourIndex(from)}`
    }, from), h("span", {
      class: "result-room"
    }, inRoom ? `#${room}` : partner !== null ? `@${partner}` : "private"), h("time", {
      datetime: time,
      title: fullTime(time)
    }, `${dayLabel(time)} ${clockTime(time)}`));
    const item = h("li", {
      class: "result"
    }, meta, text);
    if (inRoom || partner !== null) {
      const open = h("button", {
        type: "button",
        class: "link-button"
      }, partner === null ? `Open #${room} at this message` : `Open the conversation with ${partner} at this message`);
      open.addEventListener("click", () => {
        this.#el.dialog.close();
        this.#host.open(partner === null ? {
          room
        } : {
          partner
        }, id);
      });
      item.append(open);
    }
    return item;
  }
};
function status(...children) {
  return h("li", {
    class: "search-note search-status"
  }, ...children);
}

// web/src/app.ts
var PAGE = 50;
var GAP_PAGE = 200;
var GAP_PAGES = 50;
var SEARCH_PAGE = 50;
var ROOMS_REFRESH_MS = 15e3;
var SESSION_KEY = "claptrap.session";
var NOTIFY_KEY = "claptrap.notify";
var ROOM_PAGES = 10;
function expected(error) {
  if (error instanceof ChatError || error instanceof ConnectionClosedError) return error;
  throw error;
}
function savedSession() {
  try {
    const saved = JSON.parse(localStorage.getItem(SESSION_KEY) ?? "null");
    return typeof saved?.user === "string" && typeof saved?.token === "string" ? saved : null;
  } catch {
    return null;
  }
}
var App = class {
  #client = null;
  #credentials = null;
  #state = "signed-out";
  #registering = false;
  /** One reconnection at a time, the backoff saying how long till the next try. */
  #reconnector = new Reconnector({
    waiting: (ms) => this.#setState("reconnecting", `Reconnecting in ${Math.ceil(ms / 1e3)} s\u2026`)
  });
  #roomsTimer;
  /** Every room (the directory), with whether the user is in it and what they have not read. */
  #rooms = [];
  /** The room of the sidebar's list that the keyboard is on. */
  #activeRoom = 0;
  /** Public rooms and peer chats one is in, direct conversations one has. */
  #conversations = new Conversations();
  /** Who belongs to the room or peer chat shown, and whether each is online. */
  #members = [];
  /** The conversation shown. */
  #shown = null;
  #loadingOlder = false;
  #loadingNewer = false;
  /** Whether the reader was at the newest message when the connection dropped. */
  #atEndWhenLost = false;
  /** The last message rendered, for grouping appended messages. */
  #lastRendered = null;
  #el = {
    app: byId("app"),
    status: byId("status"),
    me: byId("me"),
    logout: byId("logout"),
    logoutEverywhere: byId("logout-everywhere"),
    leaveRoom: byId("leave-room"),
    notifyToggle: byId("notify-toggle"),
    directory: byId("directory"),
    directoryList: byId("directory-list"),
    toggleRooms: byId("toggle-rooms"),
    toggleMembers: byId("toggle-members"),
    scrim: byId("scrim"),
    roomsPanel: byId("rooms-panel"),
    roomList: byId("room-list"),
    createForm: byId("create-room-form"),
    newRoom: byId("new-room"),
    createError: byId("create-room-error"),
    directList: byId("direct-list"),
    directForm: byId("new-direct-form"),
    newDirect: byId("new-direct"),
    directError: byId("new-direct-error"),
    roomTitle: byId("room-title"),
    roomInfo: byId("room-info"),
    messages: byId("messages"),
    loadOlder: byId("load-older"),
    historyStart: byId("history-start"),
    messageList: byId("message-list"),
    pendingList: byId("pending-list"),
    emptyRoom: byId("empty-room"),
    jumpNewest: byId("jump-newest"),
    composer: byId("composer"),
    input: byId("message-input"),
    sendButton: byId("send-button"),
    composerError: byId("composer-error"),
    membersPanel: byId("members-panel"),
    membersTitle: byId("members-title"),
    memberList: byId("member-list"),
    memberCount: byId("member-count"),
    loginDialog: byId("login-dialog"),
    loginForm: byId("login-form"),
    loginTitle: byId("login-title"),
    loginUser: byId("login-user"),
    loginPassword: byId("login-password"),
    loginPassword2: byId("login-password2"),
    loginRepeat: byId("login-repeat"),
    loginError: byId("login-error"),
    loginSubmit: byId("login-submit"),
    loginMode: byId("login-mode"),
    notice: byId("notice")
  };
  /** Wires the page up and asks the user to sign in. */
  start() {
    const el = this.#el;
    el.loginForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#signIn();
    });
    el.loginMode.addEventListener("click", () => this.#setRegistering(!this.#registering));
    el.loginDialog.addEventListener("cancel", (event) => event.preventDefault());
    el.logout.addEventListener("click", () => this.#signOut());
    el.logoutEverywhere.addEventListener("click", () => this.#signOut({
      everywhere: true
    }));
    el.leaveRoom.addEventListener("click", () => this.#leave());
    el.notifyToggle.checked = localStorage.getItem(NOTIFY_KEY) === "on";
    el.notifyToggle.addEventListener("change", () => this.#setNotify(el.notifyToggle.checked));
    document.addEventListener("visibilitychange", () => this.#onVisible());
    el.createForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#createRoom();
    });
    el.directForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#startDirect();
    });
    el.roomList.addEventListener("keydown", (event) => this.#roomListKey(event));
    el.composer.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#send();
    });
    el.input.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.isComposing || event.keyCode === 229) return;
      if (event.shiftKey && !event.ctrlKey) return;
      event.preventDefault();
      this.#send();
    });
    el.input.addEventListener("input", () => this.#fitInput());
    el.messages.addEventListener("scroll", () => {
      if (el.messages.scrollTop < 120) this.#loadOlder();
      this.#loadNewerAtEnd();
    });
    el.loadOlder.addEventListener("click", () => this.#loadOlder());
    el.jumpNewest.addEventListener("click", () => this.#jumpToNewest());
    new SearchDialog({
      search: (query, before) => this.#ask((client) => client.search(query, {
        limit: SEARCH_PAGE,
        before
      })),
      publicRooms: () => new Set(this.#rooms.map((room) => room.name)),
      me: () => this.#credentials?.user ?? "",
      open: (at, id) => "room" in at ? this.#join(at.room, id) : this.#openDirect(at.partner, id)
    });
    el.toggleRooms.addEventListener("click", () => this.#toggleDrawer("rooms"));
    el.toggleMembers.addEventListener("click", () => this.#toggleDrawer("members"));
    el.scrim.addEventListener("click", () => this.#toggleDrawer(null));
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.#toggleDrawer(null);
    });
    globalThis.addEventListener("online", () => this.#reconnector.wake());
    const saved = savedSession();
    el.loginUser.value = saved?.user ?? localStorage.getItem("claptrap.user") ?? "";
    if (saved) this.#resume(saved);
    else this.#showLogin("");
  }
  // ---- signing in and out ------------------------------------------------
  #setRegistering(registering) {
    const el = this.#el;
    this.#registering = registering;
    el.loginTitle.textContent = registering ? "Create a Claptrap account" : "Sign in to Claptrap";
    el.loginSubmit.textContent = registering ? "Create account and sign in" : "Sign in";
    el.loginMode.textContent = registering ? "I have an account: sign in" : "New here? Create an account";
    el.loginRepeat.hidden = !registering;
    el.loginPassword2.required = registering;
    el.loginPassword.autocomplete = registering ? "new-password" : "current-password";
    el.loginError.textContent = "";
  }
  #showLogin(error) {
    const el = this.#el;
    el.app.inert = true;
    el.loginError.textContent = error;
    el.loginSubmit.disabled = false;
    if (!el.loginDialog.open) el.loginDialog.showModal();
    (el.loginUser.value ? el.loginPassword : el.loginUser).focus();
  }
  async #signIn() {
    const el = this.#el;
    const user = el.loginUser.value.trim();
    const password = el.loginPassword.value;
    if (this.#registering && password !== el.loginPassword2.value) {
      el.loginError.textContent = "The passwords differ.";
      return;
    }
    el.loginSubmit.disabled = true;
    el.loginError.textContent = this.#registering ? "Creating the account\u2026" : "Signing in\u2026";
    this.#state = "connecting";
    let client = null;
    let token;
    try {
      client = await this.#open();
      if (this.#registering) await client.register(user, password);
      token = await client.login(user, password);
    } catch (error) {
      client?.close();
      this.#state = "signed-out";
      this.#showLogin(failureText(error));
      return;
    }
    el.loginPassword.value = "";
    el.loginPassword2.value = "";
    this.#setRegistering(false);
    await this.#begin(client, {
      user,
      token: token ?? ""
    });
  }
  /** Signs in again with the saved token (a reload); on a refusal, asks to sign in. */
  async #resume(saved) {
    this.#state = "connecting";
    this.#setState("connecting", "Signing in\u2026");
    let client = null;
    try {
      client = await this.#open();
      await client.resume(saved.user, saved.token);
    } catch (error) {
      client?.close();
      this.#state = "signed-out";
      this.#setState("signed-out");
      if (error instanceof ChatError) localStorage.removeItem(SESSION_KEY);
      this.#showLogin(error instanceof ChatError && error.status === "AUTH_FAILED" ? "Your sign-in has expired or was revoked; sign in again." : failureText(error));
      return;
    }
    await this.#begin(client, saved);
  }
  /** Signed in: keeps the token for the next visit and shows the rooms. */
  async #begin(client, session) {
    const el = this.#el;
    const { user } = session;
    this.#client = client;
    this.#credentials = session;
    localStorage.setItem("claptrap.user", user);
    localStorage.setItem(SESSION_KEY, JSON.stringify(session));
    if (el.loginDialog.open) el.loginDialog.close();
    el.app.inert = false;
    el.me.textContent = user;
    this.#setState("online");
    this.#roomsTimer = setInterval(() => this.#refreshStates(), ROOMS_REFRESH_MS);
    await this.#refreshStates();
    const last = localStorage.getItem(`claptrap.room.${user}`);
    const room = last ? this.#conversations.find("room", last) : void 0;
    if (room) await this.#openConversation(room);
    else el.roomList.focus();
  }
  /**
   * Connects to the page's server; its events are shown until the page
   * signs out, and its end, while it is the page's connection, starts a
   * reconnection.
   */
  async #open() {
    const client = await ChatClient.connect(webSocket(webSocketUrl(location)), {
      v21: true
    });
    (async () => {
      for await (const event of client.events()) {
        if (this.#state === "signed-out") continue;
        try {
          this.#onEvent(event);
        } catch (error) {
          reportError(error);
        }
      }
    })();
    client.closed.then(() => {
      if (client === this.#client) this.#onConnectionLost();
    });
    return client;
  }
  /**
   * Runs a request on the connection: resolves with its result, or its
   * refusal, or null when there is no connection or it ended first.
   */
  async #ask(request) {
    const client = this.#client;
    if (!client) return null;
    try {
      return await request(client);
    } catch (error) {
      const failure = expected(error);
      return failure instanceof ChatError ? failure : null;
    }
  }
  /**
   * Signs out (`everywhere`: on every device, every saved sign-in revoked)
   * and forgets the saved token.
   */
  async #signOut(options = {}) {
    const client = this.#client;
    this.#client = null;
    this.#state = "signed-out";
    this.#reconnector.stop();
    clearInterval(this.#roomsTimer);
    localStorage.removeItem(SESSION_KEY);
    if (client) {
      await client.logout(options).catch(() => {
      });
      client.close();
    }
    this.#credentials = null;
    this.#members = [];
    this.#conversations.clear();
    this.#show(null);
    this.#rooms = [];
    this.#renderRooms();
    this.#renderDirectory();
    this.#el.me.textContent = "";
    this.#setState("signed-out");
    this.#showLogin("");
  }
  // ---- reconnecting --------------------------------------------------------
  #onConnectionLost() {
    this.#client = null;
    if (this.#state === "signed-out") return;
    const shown = this.#shown;
    if (shown && (!shown.behind || shown.reading)) {
      this.#atEndWhenLost = shown.live && this.#atEnd();
    }
    for (const conversation of this.#conversations.list()) {
      conversation.unsync();
      for (const pending of conversation.pending) {
        if (pending.state === "sending") pending.state = "unconfirmed";
      }
    }
    this.#renderPending();
    this.#setState("reconnecting", "Connection lost");
    this.#reconnector.start(() => this.#reconnect());
  }
  /**
   * One try at getting back: signs in again with the token (the rooms one
   * is in come back with it), and fetches what was posted while away in
   * the conversations that need it (the one shown, those with messages
   * whose sending is unsettled): history pages forwards from the newest
   * message held, merged by id, so nothing is lost, nothing appears twice
   * and the reader stays where they were. Then sends what was typed while
   * disconnected. Other conversations catch up when opened.
   */
  async #reconnect() {
    const credentials = this.#credentials;
    if (!credentials || this.#state !== "reconnecting") return "stop";
    this.#setState("reconnecting", "Reconnecting\u2026");
    let client = null;
    try {
      client = await this.#open();
      await client.resume(credentials.user, credentials.token);
      if (this.#state !== "reconnecting") {
        client.close();
        return "stop";
      }
      this.#client = client;
      await this.#refreshStates();
      if (this.#shown && this.#shown.kind !== "direct") this.#refreshMembers();
      for (const conversation of this.#conversations.list()) {
        const shown = conversation === this.#shown;
        if (!shown && conversation.pending.length === 0) continue;
        const failed = await this.#catchUp(conversation, shown && this.#atEndWhenLost);
        if (this.#client !== client) return "retry";
        this.#settlePending(conversation, failed ? describe(failed) : null);
      }
      this.#setState("online");
      this.#sendQueued();
      return "connected";
    } catch (error) {
      const failure = expected(error);
      if (client === this.#client) this.#client = null;
      client?.close();
      if (!(failure instanceof ChatError) || failure.status !== "AUTH_FAILED") return "retry";
      await this.#signOut();
      this.#showLogin("Signed out: your sign-in was revoked (signed out everywhere, or a new password).");
      return "stop";
    }
  }
  /**
   * Sends whose fate is open once the conversation caught up: one not
   * confirmed before the connection dropped was stored if it came back
   * with the history, else it was not sent; one typed while disconnected
   * waits to be sent, unless the conversation cannot take it (`refusal`,
   * or a room the session is no longer in).
   */
  #settlePending(conversation, refusal) {
    const me = this.#credentials?.user;
    const mine = conversation.timeline.messages().filter((m) => m.from === me);
    const closed = refusal ?? (this.#canWriteIn(conversation) ? null : "you left the room");
    conversation.pending = conversation.pending.filter((pending) => {
      if (pending.state === "unconfirmed") {
        if (mine.some((m) => m.id > pending.afterId && m.content === pending.content)) return false;
        pending.state = "failed";
        pending.error = "Not sent: the connection dropped.";
      } else if (pending.state === "queued" && closed) {
        pending.state = "failed";
        pending.error = `Not sent: ${closed}.`;
      }
      return true;
    });
    if (conversation === this.#shown) this.#renderPending();
  }
  #setState(state, text) {
    this.#state = state;
    const labels = {
      "signed-out": "Signed out",
      connecting: "Connecting\u2026",
      online: "Connected",
      reconnecting: "Reconnecting\u2026"
    };
    this.#el.status.dataset.state = state;
    this.#el.status.textContent = text ?? labels[state];
    this.#el.app.dataset.connection = state;
    if (state === "online") this.#el.composerError.textContent = "";
    this.#renderComposer();
  }
  // ---- events ----------------------------------------------------------
  #onEvent(event) {
    const me = this.#credentials?.user;
    switch (event.type) {
      case "message": {
        const conversation = this.#conversations.find(event.kind ?? "room", event.room);
        if (conversation) this.#receive(conversation, event);
        else this.#refreshStates();
        break;
      }
      case "dm": {
        const conversation = this.#conversations.get("direct", event.from === me ? event.to : event.from);
        this.#conversations.touch(conversation);
        this.#receive(conversation, event);
        break;
      }
      case "join": {
        const kind = event.kind ?? "room";
        let conversation = this.#conversations.find(kind, event.room);
        if (event.user === me) {
          if (!conversation) this.#placeJoined(kind, event.room);
          break;
        }
        if (!conversation && kind === "group") {
          conversation = this.#placeJoined("group", event.room);
          this.#addNotice(conversation, `${event.user} started a peer chat with you`, event.time);
          this.#showNotice(`${event.user} started a peer chat with you.`);
        } else if (conversation) {
          this.#addNotice(conversation, `${event.user} joined`, event.time);
        }
        if (conversation && conversation === this.#shown) this.#refreshMembers();
        break;
      }
      case "leave": {
        const conversation = this.#conversations.find(event.kind ?? "room", event.room);
        if (!conversation) break;
        if (event.user === me) {
          this.#loseRoom(conversation, `You left ${event.room} on another device.`, event.time);
          break;
        }
        const why = event.reason ? ` (${event.reason})` : "";
        this.#addNotice(conversation, `${event.user} left${why}`, event.time);
        if (conversation === this.#shown) this.#refreshMembers();
        break;
      }
      case "kicked": {
        const conversation = this.#conversations.find("room", event.room);
        if (!conversation) break;
        this.#loseRoom(conversation, `You were ${event.banned ? "banned" : "removed"} from ${event.room} by ${event.by}${event.reason ? `: ${event.reason}` : ""}`, event.time);
        this.#refreshStates();
        break;
      }
      case "groupEnd": {
        const conversation = this.#conversations.find("group", event.room);
        if (conversation) {
          this.#loseRoom(conversation, "Everyone else left the peer chat.", event.time);
        }
        break;
      }
      case "read": {
        const conversation = event.with !== void 0 ? this.#conversations.find("direct", event.with) : this.#conversations.find(event.kind ?? "room", event.room ?? "");
        if (!conversation) break;
        conversation.markedRead = Math.max(conversation.markedRead, event.id);
        if (event.id >= conversation.timeline.newestId) this.#clearCounts(conversation);
        else this.#refreshStates();
        break;
      }
      case "notice":
        this.#showNotice(`Server notice: ${event.content}`);
        break;
      case "close":
        this.#setState("reconnecting", `Server closing: ${event.reason}`);
        break;
      case "peerInvite":
      case "peerAnswer":
        break;
    }
  }
  /**
   * A message that arrived live in a conversation: shown when it is open;
   * read at once when open in a visible page, else counted as unread (and
   * notified when it is a mention or a direct message). One's own message,
   * from another device, marks the conversation read (the server did).
   */
  #receive(conversation, message) {
    this.#apply(conversation, () => conversation.receive(message));
    const me = this.#credentials?.user ?? "";
    if (message.from === me) {
      conversation.markedRead = Math.max(conversation.markedRead, message.id);
      this.#clearCounts(conversation);
      return;
    }
    if (this.#reading(conversation)) {
      this.#markRead(conversation, message.id);
      return;
    }
    const mention = mentionsUser(message.content, me, message.mentions);
    conversation.unread++;
    if (mention) conversation.mentions++;
    this.#renderCounts();
    if (mention || conversation.kind === "direct") this.#notify(conversation, message);
  }
  /** Whether the user sees a conversation now: it is open and the page visible. */
  #reading(conversation) {
    return conversation === this.#shown && document.visibilityState === "visible";
  }
  /**
   * Tells the server the user read a conversation up to `id` (default: its
   * newest message held), which their other devices hear of; clears its
   * badges.
   */
  #markRead(conversation, id = conversation.timeline.newestId) {
    this.#clearCounts(conversation);
    if (id <= conversation.markedRead) return;
    conversation.markedRead = id;
    const place = conversation.kind === "direct" ? {
      with: conversation.name
    } : {
      room: conversation.name
    };
    this.#ask((client) => client.markRead(id, place));
  }
  #clearCounts(conversation) {
    if (conversation.unread === 0 && conversation.mentions === 0) return;
    conversation.unread = 0;
    conversation.mentions = 0;
    this.#renderCounts();
  }
  /** The page became visible or hidden: what is open is read once it is seen. */
  #onVisible() {
    const shown = this.#shown;
    if (shown && this.#reading(shown) && shown.synced) this.#markRead(shown);
  }
  /** Turns desktop notifications on (asking the browser's permission) or off. */
  async #setNotify(on) {
    const toggle = this.#el.notifyToggle;
    if (on && typeof Notification !== "undefined" && Notification.permission !== "granted") {
      const permission = await Notification.requestPermission();
      if (permission !== "granted") {
        toggle.checked = false;
        this.#showNotice("The browser does not allow this page to show notifications.");
        return;
      }
    }
    if (on) localStorage.setItem(NOTIFY_KEY, "on");
    else localStorage.removeItem(NOTIFY_KEY);
  }
  /** A desktop notification of a mention or a direct message, while the page is hidden. */
  #notify(conversation, message) {
    if (document.visibilityState !== "hidden" || localStorage.getItem(NOTIFY_KEY) !== "on" || typeof Notification === "undefined" || Notification.permission !== "granted") return;
    const where = conversation.kind === "direct" ? "" : ` in ${conversationTitle(conversation)}`;
    const notification = new Notification(`${message.from}${where}`, {
      body: message.content.slice(0, 200),
      tag: `${conversation.kind}:${conversation.name}`
    });
    notification.onclick = () => {
      globalThis.focus();
      this.#openConversation(conversation);
      notification.close();
    };
  }
  #showNotice(text) {
    const notice = this.#el.notice;
    notice.textContent = text;
    notice.hidden = false;
    clearTimeout(Number(notice.dataset.timer));
    notice.dataset.timer = String(setTimeout(() => notice.hidden = true, 15e3));
  }
  // ---- rooms -----------------------------------------------------------
  /**
   * Asks the server for every room (with whether the user is in it) and
   * the peer chats and direct conversations the user has, with what they
   * have not read in each, and shows them.
   */
  async #refreshStates() {
    const states = await this.#ask((client) => Promise.all([
      client.roomStates({
        maxPages: ROOM_PAGES
      }),
      client.peerChatStates(),
      client.directStates()
    ]));
    if (states === null || states instanceof ChatError) return;
    const [rooms, groups, directs] = states;
    const active = this.#sidebarRooms()[this.#activeRoom]?.name;
    this.#rooms = rooms;
    const places = [
      ...rooms.filter((room) => room.joined).map((room) => ({
        kind: "room",
        ...room
      })),
      ...groups.map((group) => ({
        kind: "group",
        ...group
      }))
    ];
    for (const kind of [
      "room",
      "group"
    ]) {
      for (const conversation of this.#conversations.list(kind)) {
        if (!places.some((place) => place.kind === kind && place.name === conversation.name)) {
          this.#loseRoom(conversation, `You are no longer in ${conversation.name}.`);
        }
      }
    }
    this.#conversations.append("direct", directs.map((direct) => direct.name));
    for (const { kind, name, unread, mentions } of [
      ...places,
      ...directs.map((d) => ({
        kind: "direct",
        ...d
      }))
    ]) {
      const conversation = this.#conversations.get(kind, name);
      if (this.#reading(conversation)) {
        if (unread > 0) this.#markRead(conversation);
        continue;
      }
      conversation.unread = unread;
      conversation.mentions = mentions;
    }
    const keep = this.#sidebarRooms().findIndex((room) => room.name === active);
    this.#activeRoom = Math.max(0, keep);
    this.#renderCounts();
    this.#renderDirectory();
  }
  /** A room or peer chat joined (here or on another device): in the sidebar from now on. */
  #placeJoined(kind, name) {
    const conversation = this.#conversations.get(kind, name);
    this.#renderRooms();
    this.#refreshStates();
    return conversation;
  }
  /** The sidebar's rooms: the public rooms one is in, in the directory's order, then peer chats. */
  #sidebarRooms() {
    const order = new Map(this.#rooms.map((room, i) => [
      room.name,
      i
    ]));
    const rooms = this.#conversations.list("room").sort((a, b) => (order.get(a.name) ?? Infinity) - (order.get(b.name) ?? Infinity));
    return [
      ...rooms,
      ...this.#conversations.list("group")
    ];
  }
  /** Every badge: the sidebar's rooms, the direct conversations, the tab's title. */
  #renderCounts() {
    this.#renderRooms();
    this.#renderDirects();
    this.#renderHeader();
  }
  #renderRooms() {
    const list = this.#el.roomList;
    const rooms = this.#sidebarRooms();
    this.#activeRoom = Math.min(this.#activeRoom, Math.max(0, rooms.length - 1));
    list.replaceChildren(...rooms.map((room, i) => {
      const current = room === this.#shown;
      const item = h("li", {
        id: `room-${i}`,
        role: "option",
        class: `room${current ? " current" : ""}${i === this.#activeRoom ? " active" : ""}${room.unread > 0 ? " unread" : ""}`,
        "aria-selected": i === this.#activeRoom ? "true" : "false",
        title: `${room.kind === "group" ? "Peer chat" : room.name}: click or press Enter to open`
      }, h("span", {
        class: "room-hash",
        "aria-hidden": "true"
      }, room.kind === "group" ? "\u2042" : "#"), h("span", {
        class: "room-name"
      }, room.kind === "group" ? "Peer chat" : room.name), current ? h("span", {
        class: "visually-hidden"
      }, " (open)") : null, ...badges(room));
      item.addEventListener("click", () => {
        this.#activeRoom = i;
        this.#openConversation(room);
      });
      return item;
    }));
    if (rooms.length > 0) {
      list.setAttribute("aria-activedescendant", `room-${this.#activeRoom}`);
      list.querySelector(".active")?.scrollIntoView({
        block: "nearest"
      });
    } else {
      list.removeAttribute("aria-activedescendant");
    }
  }
  /** Every room, with how many are in it: where one finds rooms to join. */
  #renderDirectory() {
    const el = this.#el;
    el.directoryList.replaceChildren(...this.#rooms.map((room) => {
      const button = h("button", {
        type: "button",
        class: `directory-room${room.joined ? " joined" : ""}`,
        title: room.joined ? `Open ${room.name}` : `Join ${room.name}`
      }, h("span", {
        class: "room-hash",
        "aria-hidden": "true"
      }, "#"), h("span", {
        class: "room-name"
      }, room.name), room.joined ? h("span", {
        class: "joined-mark"
      }, "\u2713", hidden(" (you are in it)")) : null, h("span", {
        class: "room-count",
        title: `${room.members} online in ${room.name}`
      }, String(room.members), hidden(room.members === 1 ? " member" : " members")));
      button.addEventListener("click", () => this.#join(room.name));
      return h("li", {}, button);
    }));
    if (this.#conversations.list("room").length === 0 && this.#rooms.length > 0) {
      el.directory.open = true;
    }
  }
  #roomListKey(event) {
    const rooms = this.#sidebarRooms();
    const count = rooms.length;
    if (count === 0) return;
    const moves = {
      ArrowDown: this.#activeRoom + 1,
      ArrowUp: this.#activeRoom - 1,
      Home: 0,
      End: count - 1
    };
    if (event.key in moves) {
      event.preventDefault();
      this.#activeRoom = Math.min(count - 1, Math.max(0, moves[event.key]));
      this.#renderRooms();
    } else if (event.key === "Enter") {
      event.preventDefault();
      this.#openConversation(rooms[this.#activeRoom]);
    }
  }
  async #createRoom() {
    const el = this.#el;
    const name = el.newRoom.value.trim();
    if (!name || !this.#client) return;
    el.createError.textContent = "";
    const refused = await this.#ask((client) => client.create(name));
    if (refused === null) {
      el.createError.textContent = "Not connected.";
    } else if (refused instanceof ChatError) {
      el.createError.textContent = describe(refused);
    } else {
      el.newRoom.value = "";
      await this.#join(name.normalize("NFC"));
    }
  }
  /**
   * Opens a public room: joins it (JOIN_ROOM, beside the others) unless the
   * user is in it, and shows its newest messages, or with `at` the page
   * ending at that message.
   */
  async #join(name, at) {
    if (!this.#client) return;
    let room = this.#conversations.find("room", name);
    if (!room) {
      const refused = await this.#ask((client) => client.join(name));
      if (refused === null) return;
      if (refused instanceof ChatError) {
        this.#showNotice(`${name}: ${describe(refused)}`);
        return;
      }
      room = this.#placeJoined("room", name);
    }
    await this.#openConversation(room, at);
  }
  /** Leaves the room or peer chat shown, for good (on every device). */
  async #leave() {
    const open = this.#shown;
    if (!open || open.kind === "direct" || !this.#canWriteIn(open)) return;
    const refused = await this.#ask((client) => client.leave(open.name));
    if (refused === null) return;
    if (refused instanceof ChatError) {
      this.#showNotice(`${open.name}: ${describe(refused)}`);
      return;
    }
    this.#loseRoom(open, `You left ${open.kind === "group" ? "the peer chat" : open.name}.`);
    this.#refreshStates();
  }
  /**
   * The user is no longer in a room or peer chat: says why in it, and
   * leaves it shown, read-only, if it is; it goes from the sidebar.
   */
  #loseRoom(conversation, why, time) {
    this.#addNotice(conversation, why, time);
    if (conversation !== this.#shown) this.#showNotice(why);
    this.#conversations.remove(conversation);
    if (conversation === this.#shown) {
      this.#members = [];
      this.#renderMembers();
      this.#renderComposer();
    }
    this.#renderCounts();
  }
  /**
   * Shows a conversation and fetches what it lacks: the newest messages
   * when it was not fetched since the page (re)connected, or with `at` the
   * page ending at that message, pointed out. Marks it read. Resolves with
   * the server's refusal, if any.
   */
  async #openConversation(conversation, at) {
    if (conversation !== this.#shown) {
      this.#show(conversation);
      if (conversation.kind !== "direct") {
        this.#refreshMembers();
        if (conversation.kind === "room" && this.#credentials) {
          localStorage.setItem(`claptrap.room.${this.#credentials.user}`, conversation.name);
        }
      }
    }
    this.#toggleDrawer(null);
    this.#el.input.focus();
    const refused = at !== void 0 ? await this.#openAt(conversation, at) : conversation.synced ? null : await this.#catchUp(conversation, true);
    if (this.#reading(conversation) && conversation.timeline.size > 0) {
      this.#markRead(conversation);
    }
    return refused;
  }
  /** Makes a conversation the one shown, where the reader left it. */
  #show(conversation) {
    const previous = this.#shown;
    if (previous && previous !== conversation) previous.place = this.#readerPlace();
    this.#shown = conversation;
    this.#members = [];
    this.#renderHeader();
    this.#renderMessages();
    this.#renderPending();
    this.#renderMembers();
    this.#renderRooms();
    this.#renderDirects();
    this.#renderComposer();
    const place = conversation?.place;
    if (place && place !== "end") this.#restorePlace(place);
    else this.#scrollToBottom();
  }
  #renderHeader() {
    const el = this.#el;
    const open = this.#shown;
    el.roomTitle.textContent = open ? conversationTitle(open) : "No room";
    const online = this.#members.filter((member) => member.online).length;
    el.roomInfo.textContent = !open ? "Pick a room from the list" : open.kind === "direct" ? "Direct messages" : this.#canWriteIn(open) ? `${online} online` : "You are not in it";
    el.leaveRoom.hidden = !open || open.kind === "direct" || !this.#canWriteIn(open);
    const unread = this.#conversations.list().reduce((sum, conversation) => sum + conversation.unread, 0);
    const title = open ? `${conversationTitle(open)} \xB7 Claptrap` : "Claptrap";
    document.title = unread > 0 ? `(${unread}) ${title}` : title;
  }
  // ---- members -----------------------------------------------------------
  async #refreshMembers() {
    const open = this.#shown;
    if (!open || open.kind === "direct" || !this.#canWriteIn(open)) return;
    const members = await this.#ask((client) => client.memberStates({
      room: open.name
    }));
    if (members === null || members instanceof ChatError || open !== this.#shown) return;
    this.#members = members;
    this.#renderMembers();
  }
  /**
   * Who belongs to the room shown, online first, then away, then who wrote
   * in what is shown but does not belong to it now; in a direct
   * conversation, its two people. A name other than one's own opens the
   * direct conversation with that user. Other actions on a member (kick,
   * ban) belong in {@link App.#memberActions}.
   */
  #renderMembers() {
    const me = this.#credentials?.user;
    const open = this.#shown;
    const direct = open?.kind === "direct";
    const members = direct ? [
      {
        name: me ?? "",
        online: true
      },
      {
        name: open.name,
        online: true
      }
    ] : this.#members;
    const names = members.map((member) => member.name);
    const byName = (a, b) => a === me ? -1 : b === me ? 1 : a.localeCompare(b);
    const here = members.filter((m) => m.online).map((m) => m.name).sort(byName);
    const writers = open ? open.timeline.messages().map((m) => m.from) : [];
    const away = [
      ...members.filter((m) => !m.online).map((m) => m.name),
      ...new Set(writers.filter((name) => !names.includes(name)))
    ].sort(byName);
    const item = (name, presence) => {
      const colour = `member-name colour-${colourIndex(name)}`;
      let label = h("span", {
        class: colour
      }, name);
      if (name !== me) {
        label = h("button", {
          type: "button",
          class: `${colour} link-name`,
          title: `Message ${name}`
        }, name);
        label.addEventListener("click", () => this.#openDirect(name));
      }
      return h("li", {
        class: `member ${presence}`
      }, h("span", {
        class: "presence",
        "aria-hidden": "true"
      }), label, name === me ? h("span", {
        class: "you"
      }, " (you)") : null, presence === "person" ? null : hidden(presence === "here" ? ", online" : ", away"), ...this.#memberActions(name));
    };
    const children = here.map((name) => item(name, direct ? "person" : "here"));
    if (away.length > 0) {
      children.push(h("li", {
        class: "member-heading",
        role: "presentation"
      }, "Away"));
      children.push(...away.map((name) => item(name, "away")));
    }
    this.#el.memberList.replaceChildren(...children);
    this.#el.membersTitle.textContent = direct ? "People" : "Online";
    this.#el.memberCount.textContent = String(here.length);
    this.#renderHeader();
  }
  /**
   * Buttons for acting on a member. Peer chats and kick/ban (the server's
   * PEER_CONNECT, KICK, BAN) are not offered by this page yet; they go here.
   */
  #memberActions(_name) {
    return [];
  }
  // ---- direct conversations ----------------------------------------------
  /** Opens the direct conversation with a user, new or not. */
  #openDirect(user, at) {
    const conversation = this.#conversations.get("direct", user);
    return this.#openConversation(conversation, at);
  }
  /** The "new message" form: opens the conversation with the user named, if there is one. */
  async #startDirect() {
    const el = this.#el;
    const user = el.newDirect.value.trim().normalize("NFC");
    if (!user || !this.#client) return;
    el.directError.textContent = user === this.#credentials?.user ? STATUS_TEXT.PEER_IS_SELF : "";
    if (user === this.#credentials?.user) return;
    const known = this.#conversations.find("direct", user);
    const refused = await this.#openDirect(user);
    if (!refused) {
      el.newDirect.value = "";
      return;
    }
    el.directError.textContent = describe(refused);
    const conversation = this.#conversations.find("direct", user);
    if (!known && conversation) {
      this.#conversations.remove(conversation);
      if (this.#shown === conversation) this.#show(null);
      this.#renderDirects();
    }
  }
  #renderDirects() {
    this.#el.directList.replaceChildren(...this.#conversations.list("direct").map((conversation) => {
      const open = conversation === this.#shown;
      const button = h("button", {
        type: "button",
        class: `conversation${open ? " current" : ""}${conversation.unread > 0 ? " unread" : ""}`,
        "aria-current": open ? "true" : void 0
      }, h("span", {
        class: "room-hash",
        "aria-hidden": "true"
      }, "@"), h("span", {
        class: "room-name"
      }, conversation.name), ...badges(conversation));
      button.addEventListener("click", () => this.#openConversation(conversation));
      return h("li", {}, button);
    }));
  }
  // ---- messages ------------------------------------------------------------
  /**
   * Fetches a page of the conversation's history (HISTORY, `With` for a
   * direct one) and adds it: the newest messages, or those `before` or
   * `after` an id. Resolves with `added`, or a direct conversation's
   * refusal, or null when the connection dropped, the session is no longer
   * in the conversation's room, or the conversation restarted meanwhile
   * (the page is then left out).
   */
  async #fetchPage(conversation, page) {
    const direct = conversation.kind === "direct";
    if (!this.#canWriteIn(conversation)) return null;
    const generation = conversation.generation;
    const fetched = await this.#ask((client) => client.history({
      limit: page.limit ?? PAGE,
      before: page.before,
      after: page.after,
      ...direct ? {
        with: conversation.name
      } : {
        room: conversation.name
      }
    }));
    if (fetched === null || conversation.generation !== generation) return null;
    if (fetched instanceof ChatError) return direct ? fetched : null;
    if (!direct && fetched.room !== conversation.name) return null;
    const edges = page.after !== void 0 ? {
      newer: fetched.more
    } : page.before !== void 0 ? {
      older: fetched.more
    } : {
      older: fetched.more,
      newer: false
    };
    this.#apply(conversation, () => conversation.addPage(fetched.messages, edges));
    return "added";
  }
  /**
   * Brings a conversation up to its newest message: its newest page when
   * it holds none, else pages forwards from the newest it holds; live
   * messages that arrive meanwhile are held and merged by id. With `toEnd`,
   * the view then shows the newest message. A conversation the reader
   * opened at a past message stays there. Resolves with the server's
   * refusal, if any.
   */
  async #catchUp(conversation, toEnd) {
    const stay = conversation.reading && conversation.timeline.size > 0 && !conversation.pending.some((pending) => pending.state === "unconfirmed");
    conversation.hold();
    if (stay) return null;
    for (let page = 0; conversation.behind && page < GAP_PAGES; page++) {
      const fetched = await this.#fetchPage(conversation, conversation.timeline.size === 0 ? {} : {
        after: conversation.timeline.newestId,
        limit: GAP_PAGE
      });
      if (fetched !== "added") return fetched;
    }
    if (conversation.behind) conversation.reading = true;
    if (conversation === this.#shown) {
      this.#renderHistoryEdge();
      if (toEnd && conversation.live) this.#scrollToBottom();
    }
    return null;
  }
  /**
   * Shows the page of a conversation that ends at message `id`, pointed
   * out; the reader goes on towards the newest from there.
   */
  async #openAt(conversation, id) {
    conversation.restart();
    conversation.reading = true;
    conversation.highlight = id;
    this.#renderMessages();
    const fetched = await this.#fetchPage(conversation, {
      before: id + 1
    });
    if (fetched !== "added") return fetched;
    if (conversation !== this.#shown) return null;
    this.#el.messageList.querySelector(`[data-id="${id}"]`)?.scrollIntoView({
      block: "center"
    });
    this.#loadNewerAtEnd();
    return null;
  }
  /**
   * When the reader reached the end of what is shown of a conversation they
   * read from a past message, its next page.
   */
  async #loadNewerAtEnd() {
    const conversation = this.#shown;
    if (!conversation?.reading || !conversation.synced || conversation.timeline.size === 0 || this.#loadingNewer || !this.#atEnd()) return;
    this.#loadingNewer = true;
    const fetched = await this.#fetchPage(conversation, {
      after: conversation.timeline.newestId
    });
    this.#loadingNewer = false;
    this.#renderHistoryEdge();
    if (fetched === "added") this.#loadNewerAtEnd();
  }
  /** Leaves the past: the conversation's newest messages, live. */
  #jumpToNewest() {
    const conversation = this.#shown;
    if (!conversation) return;
    conversation.restart();
    conversation.reading = false;
    conversation.highlight = null;
    this.#renderMessages();
    this.#catchUp(conversation, true);
  }
  async #loadOlder() {
    const conversation = this.#shown;
    const oldest = conversation?.timeline.oldestId;
    if (!conversation?.synced || !conversation.older || this.#loadingOlder || oldest == null) {
      return;
    }
    this.#loadingOlder = true;
    this.#el.loadOlder.textContent = "Loading\u2026";
    await this.#fetchPage(conversation, {
      before: oldest
    });
    this.#loadingOlder = false;
    this.#el.loadOlder.textContent = "Load older messages";
    this.#renderHistoryEdge();
  }
  /**
   * Changes a conversation's timeline and shows the change if it is open:
   * newer messages appended (followed when the reader was at the newest
   * message), anything else re-rendered with the reader kept in place.
   */
  #apply(conversation, change) {
    const open = conversation === this.#shown;
    const follow = open && conversation.live && this.#atEnd();
    const result = change();
    if (!open || !result) return;
    if (result.added.length === 0) {
      this.#renderHistoryEdge();
      return;
    }
    if (result.appended) {
      for (const message of result.added) this.#appendMessage(message);
    } else {
      const anchor = this.#anchor();
      this.#renderMessages();
      if (anchor) this.#restorePlace(anchor);
    }
    if (result.added.some((m) => !this.#members.some((member) => member.name === m.from))) {
      this.#renderMembers();
    }
    this.#renderHistoryEdge();
    if (follow) this.#scrollToBottom();
  }
  #addNotice(conversation, text, time = (/* @__PURE__ */ new Date()).toISOString()) {
    const notice = conversation.timeline.addNotice(text, time);
    if (conversation !== this.#shown) return;
    const follow = conversation.live && this.#atEnd();
    this.#el.messageList.append(this.#noticeNode(notice.text, notice.time));
    this.#el.emptyRoom.hidden = true;
    if (follow) this.#scrollToBottom();
  }
  #renderMessages() {
    this.#lastRendered = null;
    const nodes = [];
    let previous = null;
    for (const entry of this.#shown?.timeline.entries() ?? []) {
      if (entry.kind === "notice") {
        nodes.push(this.#noticeNode(entry.notice.text, entry.notice.time));
      } else {
        nodes.push(...this.#messageNodes(entry.message, this.#lastRendered, previous?.kind === "message"));
        this.#lastRendered = entry.message;
      }
      previous = entry;
    }
    this.#el.messageList.replaceChildren(...nodes);
    this.#renderHistoryEdge();
  }
  #appendMessage(message) {
    const afterNotice = this.#el.messageList.lastElementChild?.classList.contains("notice");
    this.#el.messageList.append(...this.#messageNodes(message, this.#lastRendered, !afterNotice));
    this.#lastRendered = message;
  }
  /**
   * A message's nodes: a day separator when the day changed, then the
   * message, whose name and time are left out when it continues `before`'s
   * (same sender, a few minutes later, nothing in between).
   */
  #messageNodes(message, before, adjacent) {
    const nodes = [];
    const newDay = !before || dayKey(before.time) !== dayKey(message.time);
    if (newDay) nodes.push(h("li", {
      class: "day",
      role: "separator"
    }, dayLabel(message.time)));
    const continued = adjacent && !newDay && before?.from === message.from && sameGroup(before.time, message.time);
    const me = this.#credentials?.user ?? "";
    const mine = message.from === me;
    const mention = !mine && mentionsUser(message.content, me, message.mentions);
    const highlight = message.id === this.#shown?.highlight;
    const time = h("time", {
      datetime: message.time,
      title: fullTime(message.time)
    }, clockTime(message.time));
    nodes.push(h("li", {
      class: `message${continued ? " continued" : ""}${mine ? " mine" : ""}${mention ? " mention" : ""}${highlight ? " highlight" : ""}`,
      "data-id": message.id
    }, continued ? null : avatar(message.from), h("div", {
      class: "message-meta"
    }, h("span", {
      class: `sender colour-${colourIndex(message.from)}`
    }, message.from), time), h("p", {
      class: "message-text"
    }, message.content)));
    return nodes;
  }
  #noticeNode(text, time) {
    return h("li", {
      class: "notice"
    }, h("span", {
      class: "notice-text"
    }, text), " ", h("time", {
      datetime: time,
      title: fullTime(time)
    }, clockTime(time)));
  }
  #renderHistoryEdge() {
    const el = this.#el;
    const open = this.#shown;
    const size = open?.timeline.size ?? 0;
    el.loadOlder.hidden = !open?.older;
    el.historyStart.hidden = !open || open.older || size === 0;
    el.historyStart.textContent = !open ? "" : open.kind === "direct" ? `This is the beginning of your conversation with ${open.name}.` : `This is the beginning of ${open.kind === "group" ? "the peer chat" : `#${open.name}`}.`;
    el.emptyRoom.hidden = !open || size > 0 || el.messageList.childElementCount > 0;
    el.emptyRoom.textContent = open ? "No messages yet. Say hello!" : "";
    el.jumpNewest.hidden = !open?.reading;
  }
  /** Whether the view shows the end of what is loaded. */
  #atEnd() {
    return atEnd(this.#el.messages);
  }
  #scrollToBottom() {
    const box = this.#el.messages;
    box.scrollTop = box.scrollHeight;
  }
  /** Where the reader is: at the newest message, or at a message of the list. */
  #readerPlace() {
    return this.#shown?.live && this.#atEnd() ? "end" : this.#anchor();
  }
  /** The first message the reader sees, and where. */
  #anchor() {
    const items = [];
    for (const node of this.#el.messageList.querySelectorAll(".message")) {
      items.push({
        id: Number(node.dataset.id),
        top: node.offsetTop,
        bottom: node.offsetTop + node.offsetHeight
      });
    }
    return anchorAt(items, this.#el.messages.scrollTop);
  }
  /** Scrolls back to where an anchor was. */
  #restorePlace(place) {
    const node = this.#el.messageList.querySelector(`[data-id="${place.id}"]`);
    const top = scrollTopFor(place, node?.offsetTop);
    if (top !== null) this.#el.messages.scrollTop = top;
  }
  // ---- sending -------------------------------------------------------------
  /** Whether messages can be written in the conversation shown. */
  #canWrite() {
    return this.#shown !== null && this.#canWriteIn(this.#shown);
  }
  /** Whether the user is in a conversation: a direct one, or a room or peer chat in the sidebar. */
  #canWriteIn(conversation) {
    return conversation.kind === "direct" || this.#conversations.find(conversation.kind, conversation.name) === conversation;
  }
  #renderComposer() {
    const el = this.#el;
    const open = this.#shown;
    const ready = this.#canWrite();
    el.input.disabled = !ready;
    el.sendButton.disabled = !ready;
    el.input.placeholder = !ready || !open ? "Join a room to write" : `Message ${open.kind === "direct" ? open.name : open.kind === "group" ? "the peer chat" : `#${open.name}`} (Enter sends, Shift+Enter: new line)`;
  }
  #fitInput() {
    const input = this.#el.input;
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 200)}px`;
  }
  /** Sends what is typed; while disconnected, queues it to be sent when the connection is back. */
  #send() {
    const el = this.#el;
    const content = el.input.value;
    const conversation = this.#shown;
    if (content.trim() === "" || !conversation || !this.#canWrite()) return;
    el.input.value = "";
    this.#fitInput();
    const pending = {
      content,
      state: "queued",
      afterId: 0
    };
    conversation.pending.push(pending);
    if (this.#client) {
      el.composerError.textContent = "";
      this.#deliver(conversation, pending);
    } else {
      el.composerError.textContent = "Not connected: your message will be sent when the connection is back.";
      this.#renderPending();
      this.#scrollToBottom();
    }
  }
  /** Sends each message that was typed while disconnected, once. */
  #sendQueued() {
    for (const conversation of this.#conversations.list()) {
      for (const pending of conversation.pending) {
        if (pending.state === "queued") this.#deliver(conversation, pending);
      }
    }
  }
  /** Sends a message to its conversation: a room's SEND_MSG, or a DM to the other user. */
  async #deliver(conversation, pending) {
    if (!this.#client) return;
    pending.state = "sending";
    pending.afterId = conversation.timeline.newestId;
    if (conversation === this.#shown) {
      if (conversation.reading) this.#jumpToNewest();
      this.#renderPending();
      this.#scrollToBottom();
    }
    const sent = await this.#ask((client) => conversation.kind === "direct" ? client.dm(conversation.name, pending.content) : client.send(pending.content, {
      room: conversation.name
    }));
    if (sent === null) return;
    if (sent instanceof ChatError) {
      pending.state = "failed";
      pending.error = describe(sent);
    } else {
      conversation.pending = conversation.pending.filter((p) => p !== pending);
      if (conversation.kind === "direct") this.#conversations.touch(conversation);
      this.#apply(conversation, () => conversation.receive({
        id: sent.id,
        from: this.#credentials.user,
        time: sent.time,
        content: pending.content
      }));
      this.#renderDirects();
    }
    if (conversation === this.#shown) {
      this.#renderPending();
      if (!(sent instanceof ChatError)) this.#scrollToBottom();
    }
  }
  #renderPending() {
    const conversation = this.#shown;
    this.#el.pendingList.replaceChildren(...(conversation?.pending ?? []).map((pending) => {
      const label = pending.state === "sending" ? "Sending\u2026" : pending.state === "queued" ? "Will be sent when the connection is back" : pending.state === "unconfirmed" ? "Waiting for the connection\u2026" : pending.error ?? "Not sent.";
      const item = h("li", {
        class: `message mine pending ${pending.state}`
      }, avatar(this.#credentials?.user ?? ""), h("div", {
        class: "message-meta"
      }, h("span", {
        class: "sender"
      }, this.#credentials?.user ?? ""), h("span", {
        class: "pending-state"
      }, label)), h("p", {
        class: "message-text"
      }, pending.content));
      if (pending.state === "failed") {
        const retry = h("button", {
          type: "button",
          class: "link-button"
        }, "Edit and resend");
        retry.addEventListener("click", () => {
          conversation.pending = conversation.pending.filter((p) => p !== pending);
          this.#el.input.value = pending.content;
          this.#fitInput();
          this.#renderPending();
          this.#el.input.focus();
        });
        item.append(retry);
      }
      return item;
    }));
  }
  // ---- narrow screens --------------------------------------------------------
  #toggleDrawer(which) {
    const el = this.#el;
    const roomsOpen = which === "rooms" && !el.roomsPanel.classList.contains("open");
    const membersOpen = which === "members" && !el.membersPanel.classList.contains("open");
    el.roomsPanel.classList.toggle("open", roomsOpen);
    el.membersPanel.classList.toggle("open", membersOpen);
    el.toggleRooms.setAttribute("aria-expanded", String(roomsOpen));
    el.toggleMembers.setAttribute("aria-expanded", String(membersOpen));
    el.scrim.hidden = !roomsOpen && !membersOpen;
    if (roomsOpen) el.roomList.focus();
  }
};
function hidden(text) {
  return h("span", {
    class: "visually-hidden"
  }, text);
}
function badges(conversation) {
  const nodes = [];
  if (conversation.mentions > 0) {
    nodes.push(h("span", {
      class: "mention-count",
      title: "Messages that mention you"
    }, `@${conversation.mentions}`, hidden(conversation.mentions === 1 ? " mention" : " mentions")));
  }
  if (conversation.unread > 0) {
    nodes.push(h("span", {
      class: "unread-count"
    }, String(conversation.unread), hidden(" unread")));
  }
  return nodes;
}
function failureText(error) {
  return error instanceof ChatError ? describe(error) : error instanceof ConnectionClosedError ? `Cannot reach the server: ${error.reason}` : error.message;
}
function avatar(name) {
  const initial = [
    ...name
  ][0]?.toLocaleUpperCase() ?? "?";
  return h("span", {
    class: `avatar colour-${colourIndex(name)}`,
    "aria-hidden": "true"
  }, h("span", {}, initial));
}
function conversationTitle(conversation) {
  return conversation.kind === "direct" ? `@ ${conversation.name}` : conversation.kind === "group" ? "Peer chat" : `# ${conversation.name}`;
}

// web/src/main.ts
new App().start();
