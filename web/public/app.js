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

// web/src/connection.ts
var ConnectionLost = class extends Error {
  name = "ConnectionLost";
};
function webSocketUrl(location2) {
  const scheme = location2.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location2.host}/ws`;
}
var Connection = class _Connection {
  #socket;
  #pending = [];
  #deliberate = false;
  #closed = false;
  constructor(socket, handlers) {
    this.#socket = socket;
    socket.onmessage = (event) => {
      let message;
      try {
        message = parseJsonMessage(String(event.data));
      } catch (error) {
        console.error("claptrap: unreadable message from the server", error);
        return;
      }
      if (message.method.startsWith("EVT_")) handlers.onEvent(message);
      else this.#pending.shift()?.resolve(message);
    };
    socket.onclose = (event) => {
      this.#closed = true;
      for (const pending of this.#pending.splice(0)) {
        pending.reject(new ConnectionLost(event.reason || "connection lost"));
      }
      handlers.onClose({
        code: event.code,
        reason: event.reason,
        deliberate: this.#deliberate
      });
    };
  }
  /**
   * Opens a connection.
   * @throws {ConnectionLost} when it cannot be opened within `timeoutMs`.
   */
  static open(url, handlers, timeoutMs = 1e4) {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      const timer = setTimeout(() => {
        socket.close();
        reject(new ConnectionLost("the server did not answer"));
      }, timeoutMs);
      socket.onopen = () => {
        clearTimeout(timer);
        resolve(new _Connection(socket, handlers));
      };
      socket.onclose = () => {
        clearTimeout(timer);
        reject(new ConnectionLost("cannot reach the server"));
      };
    });
  }
  /** Whether the connection has ended. */
  get closed() {
    return this.#closed;
  }
  /**
   * Sends a request; resolves with its response, whatever its status.
   * @throws {ConnectionLost} when the connection ends first.
   */
  request(method, params = {}, content) {
    if (this.#closed) return Promise.reject(new ConnectionLost("not connected"));
    return new Promise((resolve, reject) => {
      this.#pending.push({
        resolve,
        reject
      });
      this.#socket.send(messageToJson({
        method,
        params,
        content
      }));
    });
  }
  /** Closes the connection on purpose (logging out). */
  close() {
    this.#deliberate = true;
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
  /** Messages that arrived while it was not open. */
  unread = 0;
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
function snippetParts(snippet) {
  const parts = [];
  const pattern = /\[([^\]]*)\]/g;
  let at = 0;
  for (const found of snippet.matchAll(pattern)) {
    if (found.index > at) parts.push({
      text: snippet.slice(at, found.index),
      match: false
    });
    parts.push({
      text: found[1],
      match: true
    });
    at = found.index + found[0].length;
  }
  if (at < snippet.length) parts.push({
    text: snippet.slice(at),
    match: false
  });
  return parts;
}
function reconnectDelay(attempt, random = Math.random) {
  const base = Math.min(1e4, 500 * 2 ** attempt);
  return Math.round(base * (0.8 + 0.4 * random()));
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

// web/src/app.ts
var PAGE = 50;
var GAP_PAGE = 200;
var GAP_PAGES = 50;
var ROOMS_REFRESH_MS = 15e3;
var ROOM_PAGES = 10;
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
function describe(response) {
  const { Status: status, Reason: reason } = response.params;
  const text = STATUS_TEXT[status] ?? `Failed (${status})`;
  return reason ? `${text.replace(/\.$/, "")}: ${reason}.` : text;
}
var App = class {
  #connection = null;
  #credentials = null;
  #state = "signed-out";
  #registering = false;
  #reconnectAttempt = 0;
  #reconnectTimer;
  #roomsTimer;
  #rooms = [];
  #activeRoom = 0;
  #conversations = new Conversations();
  /** The room or peer chat the session is in (on the server), as a conversation. */
  #here = null;
  /** The members of {@link App.#here}. */
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
    searchForm: byId("search-form"),
    searchInput: byId("search-input"),
    searchDialog: byId("search-dialog"),
    searchTitle: byId("search-title"),
    searchResults: byId("search-results"),
    searchClose: byId("search-close"),
    notice: byId("notice")
  };
  /** The name of the room or peer chat the session is in. */
  get #room() {
    return this.#here?.name ?? null;
  }
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
    el.searchForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#search();
    });
    el.searchClose.addEventListener("click", () => el.searchDialog.close());
    el.toggleRooms.addEventListener("click", () => this.#toggleDrawer("rooms"));
    el.toggleMembers.addEventListener("click", () => this.#toggleDrawer("members"));
    el.scrim.addEventListener("click", () => this.#toggleDrawer(null));
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.#toggleDrawer(null);
    });
    globalThis.addEventListener("online", () => {
      if (this.#state === "reconnecting") this.#reconnectSoon(0);
    });
    el.loginUser.value = localStorage.getItem("claptrap.user") ?? "";
    this.#showLogin("");
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
    let connection = null;
    try {
      connection = await this.#open();
      if (this.#registering) {
        const registered = await connection.request("REGISTER", {
          Username: user,
          Password: password
        });
        if (registered.params.Status !== "OK") throw new Error(describe(registered));
      }
      const login = await this.#login(connection, user, password);
      if (login.params.Status !== "OK") throw new Error(describe(login));
    } catch (error) {
      connection?.close();
      this.#state = "signed-out";
      this.#showLogin(error instanceof ConnectionLost ? `Cannot reach the server: ${error.message}` : error.message);
      return;
    }
    this.#connection = connection;
    this.#credentials = {
      user,
      password
    };
    localStorage.setItem("claptrap.user", user);
    el.loginPassword.value = "";
    el.loginPassword2.value = "";
    this.#setRegistering(false);
    el.loginDialog.close();
    el.app.inert = false;
    el.me.textContent = user;
    this.#setState("online");
    this.#roomsTimer = setInterval(() => this.#refreshRooms(), ROOMS_REFRESH_MS);
    await Promise.all([
      this.#refreshRooms(),
      this.#loadDirects()
    ]);
    const last = localStorage.getItem(`claptrap.room.${user}`);
    if (last && this.#rooms.some((room) => room.name === last)) await this.#join(last);
    else el.roomList.focus();
  }
  #open() {
    let connection = null;
    return Connection.open(webSocketUrl(location), {
      onEvent: (event) => this.#onEvent(event),
      onClose: (info) => {
        if (connection && connection === this.#connection) this.#onConnectionLost(info.reason);
      }
    }).then((opened) => connection = opened);
  }
  #login(connection, user, password) {
    return connection.request("LOGIN", {
      Username: user,
      Password: password,
      Push: "on"
    });
  }
  async #signOut() {
    const connection = this.#connection;
    this.#connection = null;
    this.#state = "signed-out";
    clearTimeout(this.#reconnectTimer);
    clearInterval(this.#roomsTimer);
    if (connection) {
      await connection.request("LOGOUT").catch(() => {
      });
      connection.close();
    }
    this.#credentials = null;
    this.#here = null;
    this.#members = [];
    this.#conversations.clear();
    this.#show(null);
    this.#rooms = [];
    this.#renderRooms();
    this.#el.me.textContent = "";
    this.#setState("signed-out");
    this.#showLogin("");
  }
  // ---- reconnecting --------------------------------------------------------
  #onConnectionLost(reason) {
    this.#connection = null;
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
    this.#setState("reconnecting", reason ? `Connection lost (${reason})` : "Connection lost");
    this.#reconnectSoon(reconnectDelay(this.#reconnectAttempt++));
  }
  #reconnectSoon(delay) {
    clearTimeout(this.#reconnectTimer);
    this.#setState("reconnecting", `Reconnecting in ${Math.ceil(delay / 1e3)} s\u2026`);
    this.#reconnectTimer = setTimeout(() => this.#reconnect(), delay);
  }
  /**
   * Signs in again, re-enters the room, and fetches what was posted while
   * away in the conversations that need it (the one shown, the room, those
   * with messages whose sending is unsettled): history pages forwards from
   * the newest message held, merged by id, so nothing is lost, nothing
   * appears twice and the reader stays where they were. Then sends what was
   * typed while disconnected. Other conversations catch up when opened.
   */
  async #reconnect() {
    const credentials = this.#credentials;
    if (!credentials || this.#state !== "reconnecting") return;
    this.#setState("reconnecting", "Reconnecting\u2026");
    let connection = null;
    try {
      connection = await this.#open();
      const login = await this.#login(connection, credentials.user, credentials.password);
      const status = login.params.Status;
      if (status === "AUTH_FAILED") {
        connection.close();
        await this.#signOut();
        this.#showLogin("Signed out: the server no longer accepts your password.");
        return;
      }
      if (status !== "OK") throw new ConnectionLost(describe(login));
      this.#connection = connection;
      this.#reconnectAttempt = 0;
      await this.#refreshRooms();
      await this.#resumeRoom(connection);
      for (const conversation of this.#conversations.list()) {
        const shown = conversation === this.#shown;
        if (!shown && conversation !== this.#here && conversation.pending.length === 0) continue;
        const failed = await this.#catchUp(conversation, shown && this.#atEndWhenLost);
        if (this.#connection !== connection) return;
        this.#settlePending(conversation, failed ? describe(failed) : null);
      }
      this.#setState("online");
      this.#sendQueued();
    } catch (error) {
      if (!(error instanceof ConnectionLost)) throw error;
      if (connection === this.#connection) this.#connection = null;
      connection?.close();
      this.#reconnectSoon(reconnectDelay(this.#reconnectAttempt++));
    }
  }
  /** Re-enters the room the session was in; a peer chat ended with the connection. */
  async #resumeRoom(connection) {
    const here = this.#here;
    if (!here) return;
    if (here.kind === "group") {
      this.#loseRoom("The peer chat ended when the connection was lost.");
      return;
    }
    const joined = await connection.request("JOIN_ROOM", {
      "Room-Name": here.name
    });
    if (joined.params.Status !== "OK") {
      this.#loseRoom(`Could not re-enter ${here.name}: ${describe(joined)}`);
      return;
    }
    await this.#refreshMembers();
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
    const closed = refusal ?? (conversation.kind !== "direct" && conversation !== this.#here ? "you left the room" : null);
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
    const p = event.params;
    const here = this.#here;
    const inHere = here !== null && p.Room === here.name;
    switch (event.method) {
      case "EVT_MSG":
        if (inHere) this.#receive(here, eventMessage(event));
        break;
      case "EVT_DM": {
        const conversation = this.#conversations.get("direct", p.From);
        this.#conversations.touch(conversation);
        this.#receive(conversation, eventMessage(event));
        this.#renderDirects();
        break;
      }
      case "EVT_JOIN":
        if (inHere) {
          if (!this.#members.includes(p.User)) this.#members.push(p.User);
          this.#addNotice(here, `${p.User} joined`, p.Time);
          this.#renderMembers();
        } else if (p.Kind === "group") {
          this.#enterRoom("group", p.Room);
          this.#addNotice(this.#here, `${p.User} started a peer chat with you`, p.Time);
          this.#show(this.#here);
          this.#catchUp(this.#here, true);
          this.#refreshMembers();
        }
        this.#bumpCount(p.Room, 1);
        break;
      case "EVT_LEAVE":
        if (inHere) {
          this.#members = this.#members.filter((member) => member !== p.User);
          this.#addNotice(here, `${p.User} left${p.Reason ? ` (${p.Reason})` : ""}`, p.Time);
          this.#renderMembers();
        }
        this.#bumpCount(p.Room, -1);
        break;
      case "EVT_KICKED":
        if (inHere) {
          this.#loseRoom(`You were ${p.Banned === "yes" ? "banned" : "removed"} from ${p.Room} by ${p.By}${p.Reason ? `: ${p.Reason}` : ""}`, p.Time);
          this.#refreshRooms();
        }
        break;
      case "EVT_GROUP_END":
        if (inHere) this.#loseRoom("Everyone else left the peer chat.", p.Time);
        break;
      case "EVT_NOTICE":
        this.#showNotice(`Server notice: ${event.content ?? ""}`);
        break;
      case "EVT_PING":
        this.#connection?.request("PING").catch(() => {
        });
        break;
      case "EVT_CLOSE":
        this.#setState("reconnecting", `Server closing: ${p.Reason ?? ""}`);
        break;
    }
  }
  /**
   * A message that arrived live in a conversation: shown when it is open,
   * else counted as unread.
   */
  #receive(conversation, message) {
    this.#apply(conversation, () => conversation.receive(message));
    if (conversation !== this.#shown && message.from !== this.#credentials?.user) {
      conversation.unread++;
    }
  }
  #bumpCount(room, by) {
    const info = this.#rooms.find((r) => r.name === room);
    if (!info) return;
    info.members = Math.max(0, info.members + by);
    this.#renderRooms();
  }
  #showNotice(text) {
    const notice = this.#el.notice;
    notice.textContent = text;
    notice.hidden = false;
    clearTimeout(Number(notice.dataset.timer));
    notice.dataset.timer = String(setTimeout(() => notice.hidden = true, 15e3));
  }
  // ---- rooms -----------------------------------------------------------
  async #refreshRooms() {
    const connection = this.#connection;
    if (!connection) return;
    const list = await readRoomPages(async (after) => {
      const response = await connection.request("LIST_ROOMS", after === void 0 ? {} : {
        After: after
      });
      if (response.params.Status !== "OK") throw new Error(describe(response));
      return response;
    }, ROOM_PAGES).catch(() => null);
    if (!list) return;
    const active = this.#rooms[this.#activeRoom]?.name;
    this.#rooms = list.rooms;
    const keep = this.#rooms.findIndex((room) => room.name === (active ?? this.#room));
    this.#activeRoom = Math.max(0, keep);
    this.#renderRooms();
  }
  #renderRooms() {
    const list = this.#el.roomList;
    list.replaceChildren(...this.#rooms.map((room, i) => {
      const current = this.#shown !== null && this.#shown === this.#here && room.name === this.#room;
      const item = h("li", {
        id: `room-${i}`,
        role: "option",
        class: `room${current ? " current" : ""}${i === this.#activeRoom ? " active" : ""}`,
        "aria-selected": i === this.#activeRoom ? "true" : "false",
        title: `${room.name}: click or press Enter to join`
      }, h("span", {
        class: "room-hash",
        "aria-hidden": "true"
      }, "#"), h("span", {
        class: "room-name"
      }, room.name), current ? h("span", {
        class: "visually-hidden"
      }, " (current room)") : null, h("span", {
        class: "room-count",
        title: `${room.members} online in ${room.name}`
      }, String(room.members), h("span", {
        class: "visually-hidden"
      }, room.members === 1 ? " member" : " members")));
      item.addEventListener("click", () => {
        this.#activeRoom = i;
        this.#join(room.name);
      });
      return item;
    }));
    if (this.#rooms.length > 0) {
      list.setAttribute("aria-activedescendant", `room-${this.#activeRoom}`);
      list.querySelector(".active")?.scrollIntoView({
        block: "nearest"
      });
    } else {
      list.removeAttribute("aria-activedescendant");
    }
  }
  #roomListKey(event) {
    const count = this.#rooms.length;
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
      this.#join(this.#rooms[this.#activeRoom].name);
    }
  }
  async #createRoom() {
    const el = this.#el;
    const name = el.newRoom.value.trim();
    const connection = this.#connection;
    if (!name || !connection) return;
    el.createError.textContent = "";
    const response = await connection.request("CREATE_ROOM", {
      "Room-Name": name
    }).catch(() => null);
    if (!response) {
      el.createError.textContent = "Not connected.";
    } else if (response.params.Status !== "OK") {
      el.createError.textContent = describe(response);
    } else {
      el.newRoom.value = "";
      await this.#refreshRooms();
      await this.#join(name.normalize("NFC"));
    }
  }
  /**
   * Opens a public room: enters it (JOIN_ROOM) unless the session is in it,
   * and shows its newest messages, or with `at` the page ending at that
   * message.
   */
  async #join(name, at) {
    const connection = this.#connection;
    if (!connection) return;
    if (this.#here?.kind !== "room" || this.#here.name !== name) {
      const response = await connection.request("JOIN_ROOM", {
        "Room-Name": name
      }).catch(() => null);
      if (!response) return;
      if (response.params.Status !== "OK") {
        this.#showNotice(`${name}: ${describe(response)}`);
        return;
      }
      const previous = this.#room;
      this.#enterRoom("room", name);
      this.#bumpCount(previous ?? void 0, -1);
      this.#bumpCount(name, 1);
      if (this.#credentials) localStorage.setItem(`claptrap.room.${this.#credentials.user}`, name);
      this.#refreshMembers();
    }
    await this.#openConversation(this.#here, at);
  }
  /** The session is now in this room or peer chat; nothing of it is fetched yet. */
  #enterRoom(kind, name) {
    if (this.#here) this.#conversations.remove(this.#here);
    this.#here = this.#conversations.get(kind, name);
    this.#members = [];
  }
  /**
   * The session is no longer in its room or peer chat: says why in it, and
   * leaves it shown, read-only, if it is.
   */
  #loseRoom(why, time) {
    const here = this.#here;
    if (!here) return;
    this.#addNotice(here, why, time);
    if (here !== this.#shown) this.#showNotice(why);
    this.#conversations.remove(here);
    this.#here = null;
    this.#members = [];
    this.#renderMembers();
    this.#renderComposer();
    this.#renderRooms();
  }
  /**
   * Shows a conversation and fetches what it lacks: the newest messages
   * when it was not fetched since the page (re)connected, or with `at` the
   * page ending at that message, pointed out. Resolves with the server's
   * refusal, if any.
   */
  async #openConversation(conversation, at) {
    if (conversation !== this.#shown) this.#show(conversation);
    this.#toggleDrawer(null);
    this.#el.input.focus();
    if (at !== void 0) return await this.#openAt(conversation, at);
    if (!conversation.synced) return await this.#catchUp(conversation, true);
    return null;
  }
  /** Makes a conversation the one shown, where the reader left it. */
  #show(conversation) {
    const previous = this.#shown;
    if (previous && previous !== conversation) previous.place = this.#readerPlace();
    this.#shown = conversation;
    if (conversation) conversation.unread = 0;
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
    el.roomInfo.textContent = !open ? "Pick a room from the list" : open.kind === "direct" ? "Direct messages" : open === this.#here ? `${this.#members.length} here now` : "You are not in it";
    document.title = open ? `${conversationTitle(open)} \xB7 Claptrap` : "Claptrap";
  }
  // ---- members -----------------------------------------------------------
  async #refreshMembers() {
    const connection = this.#connection;
    const room = this.#room;
    if (!connection || room === null) return;
    const response = await connection.request("LIST_MEMBERS").catch(() => null);
    if (!response || response.params.Status !== "OK" || room !== this.#room) return;
    this.#members = splitLines(response.content ?? "");
    this.#renderMembers();
  }
  /**
   * Who is here (online, in the room) and who wrote in what is shown but
   * is not here now; in a direct conversation, its two people. A name
   * other than one's own opens the direct conversation with that user.
   * Other actions on a member (kick, ban) belong in
   * {@link App.#memberActions}.
   */
  #renderMembers() {
    const me = this.#credentials?.user;
    const open = this.#shown;
    const direct = open?.kind === "direct";
    const members = direct ? [
      me ?? "",
      open.name
    ] : open === this.#here ? this.#members : [];
    const here = [
      ...members
    ].sort((a, b) => a === me ? -1 : b === me ? 1 : a.localeCompare(b));
    const writers = open ? open.timeline.messages().map((m) => m.from) : [];
    const away = [
      ...new Set(writers)
    ].filter((name) => !members.includes(name)).sort((a, b) => a.localeCompare(b));
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
      }, " (you)") : null, presence === "person" ? null : h("span", {
        class: "visually-hidden"
      }, presence === "here" ? ", here" : ", not here"), ...this.#memberActions(name));
    };
    const children = here.map((name) => item(name, direct ? "person" : "here"));
    if (away.length > 0) {
      children.push(h("li", {
        class: "member-heading",
        role: "presentation"
      }, "Not here now"));
      children.push(...away.map((name) => item(name, "away")));
    }
    this.#el.memberList.replaceChildren(...children);
    this.#el.membersTitle.textContent = direct ? "People" : "Here";
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
  /** The users one has direct conversations with, as the server lists them. */
  async #loadDirects() {
    const response = await this.#connection?.request("LIST_DIRECT").catch(() => null);
    if (!response || response.params.Status !== "OK") return;
    this.#conversations.append("direct", splitLines(response.content ?? ""));
    this.#renderDirects();
  }
  /** Opens the direct conversation with a user, new or not. */
  #openDirect(user, at) {
    const conversation = this.#conversations.get("direct", user);
    return this.#openConversation(conversation, at);
  }
  /** The "new message" form: opens the conversation with the user named, if there is one. */
  async #startDirect() {
    const el = this.#el;
    const user = el.newDirect.value.trim().normalize("NFC");
    if (!user || !this.#connection) return;
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
      if (this.#shown === conversation) this.#show(this.#here);
      this.#renderDirects();
    }
  }
  #renderDirects() {
    this.#el.directList.replaceChildren(...this.#conversations.list("direct").map((conversation) => {
      const open = conversation === this.#shown;
      const unread = conversation.unread;
      const button = h("button", {
        type: "button",
        class: `conversation${open ? " current" : ""}${unread > 0 ? " unread" : ""}`,
        "aria-current": open ? "true" : void 0
      }, h("span", {
        class: "room-hash",
        "aria-hidden": "true"
      }, "@"), h("span", {
        class: "room-name"
      }, conversation.name), unread > 0 ? h("span", {
        class: "unread-count"
      }, String(unread), h("span", {
        class: "visually-hidden"
      }, " unread")) : null);
      button.addEventListener("click", () => this.#openConversation(conversation));
      return h("li", {}, button);
    }));
  }
  // ---- messages ------------------------------------------------------------
  /**
   * Fetches a page of the conversation's history (HISTORY, `With` for a
   * direct one) and adds it: the newest messages, or those `before` or
   * `after` an id. Resolves with the response, or null when the connection
   * dropped, the session is no longer in the conversation's room, or the
   * conversation restarted meanwhile (the page is then left out).
   */
  async #fetchPage(conversation, page) {
    const connection = this.#connection;
    const direct = conversation.kind === "direct";
    if (!connection || !direct && conversation !== this.#here) return null;
    const params = {
      Limit: String(page.limit ?? PAGE)
    };
    if (page.before !== void 0) params.Before = String(page.before);
    if (page.after !== void 0) params.After = String(page.after);
    if (direct) params.With = conversation.name;
    const generation = conversation.generation;
    const response = await connection.request("HISTORY", params).catch(() => null);
    if (!response || conversation.generation !== generation) return null;
    if (!direct && response.params.Room !== conversation.name) return null;
    if (response.params.Status !== "OK") return response;
    const more = response.params.More === "yes";
    const edges = page.after !== void 0 ? {
      newer: more
    } : page.before !== void 0 ? {
      older: more
    } : {
      older: more,
      newer: false
    };
    this.#apply(conversation, () => conversation.addPage(historyMessages(response), edges));
    return response;
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
      const response = await this.#fetchPage(conversation, conversation.timeline.size === 0 ? {} : {
        after: conversation.timeline.newestId,
        limit: GAP_PAGE
      });
      if (!response) return null;
      if (response.params.Status !== "OK") return response;
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
    const response = await this.#fetchPage(conversation, {
      before: id + 1
    });
    if (response?.params.Status !== "OK" || conversation !== this.#shown) return response;
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
    const response = await this.#fetchPage(conversation, {
      after: conversation.timeline.newestId
    });
    this.#loadingNewer = false;
    this.#renderHistoryEdge();
    if (response?.params.Status === "OK") this.#loadNewerAtEnd();
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
    if (result.added.some((m) => !this.#members.includes(m.from))) this.#renderMembers();
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
    const mine = message.from === this.#credentials?.user;
    const highlight = message.id === this.#shown?.highlight;
    const time = h("time", {
      datetime: message.time,
      title: fullTime(message.time)
    }, clockTime(message.time));
    nodes.push(h("li", {
      class: `message${continued ? " continued" : ""}${mine ? " mine" : ""}${highlight ? " highlight" : ""}`,
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
    const open = this.#shown;
    return open !== null && (open.kind === "direct" || open === this.#here);
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
    if (this.#connection) {
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
    const connection = this.#connection;
    if (!connection) return;
    pending.state = "sending";
    pending.afterId = conversation.timeline.newestId;
    if (conversation === this.#shown) {
      if (conversation.reading) this.#jumpToNewest();
      this.#renderPending();
      this.#scrollToBottom();
    }
    const request = conversation.kind === "direct" ? connection.request("DM", {
      To: conversation.name
    }, pending.content) : connection.request("SEND_MSG", {}, pending.content);
    let response;
    try {
      response = await request;
    } catch {
      return;
    }
    if (response.params.Status === "OK") {
      conversation.pending = conversation.pending.filter((p) => p !== pending);
      if (conversation.kind === "direct") this.#conversations.touch(conversation);
      this.#apply(conversation, () => conversation.receive({
        id: Number(response.params.Id),
        from: this.#credentials.user,
        time: response.params.Time,
        content: pending.content
      }));
      this.#renderDirects();
    } else {
      pending.state = "failed";
      pending.error = describe(response);
    }
    if (conversation === this.#shown) {
      this.#renderPending();
      if (response.params.Status === "OK") this.#scrollToBottom();
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
  // ---- search --------------------------------------------------------------
  async #search() {
    const el = this.#el;
    const query = el.searchInput.value.trim();
    if (!query) return;
    const connection = this.#connection;
    el.searchTitle.textContent = `Results for \u201C${query}\u201D`;
    el.searchResults.replaceChildren(h("li", {
      class: "search-note"
    }, "Searching\u2026"));
    if (!el.searchDialog.open) el.searchDialog.showModal();
    const response = connection ? await connection.request("SEARCH", {
      Query: query,
      Limit: "50"
    }).catch(() => null) : null;
    if (!response) {
      el.searchResults.replaceChildren(h("li", {
        class: "search-note"
      }, "Not connected."));
      return;
    }
    if (response.params.Status !== "OK") {
      el.searchResults.replaceChildren(h("li", {
        class: "search-note"
      }, describe(response)));
      return;
    }
    const rows = parseRows(response.content ?? "", 5);
    if (rows.length === 0) {
      el.searchResults.replaceChildren(h("li", {
        class: "search-note"
      }, "Nothing found."));
      return;
    }
    const publicRooms = new Set(this.#rooms.map((room) => room.name));
    const me = this.#credentials?.user ?? "";
    el.searchResults.replaceChildren(...rows.map(([id, room, from, time, snippet]) => {
      const partner = publicRooms.has(room) ? null : directPartner(room, me);
      const text = h("p", {
        class: "result-text"
      }, ...snippetParts(snippet).map((part) => part.match ? h("mark", {}, part.text) : document.createTextNode(part.text)));
      const meta = h("div", {
        class: "message-meta"
      }, h("span", {
        class: `sender colour-${colourIndex(from)}`
      }, from), h("span", {
        class: "result-room"
      }, publicRooms.has(room) ? `#${room}` : partner !== null ? `@${partner}` : "private"), h("time", {
        datetime: time,
        title: fullTime(time)
      }, `${dayLabel(time)} ${clockTime(time)}`));
      const item = h("li", {
        class: "result"
      }, meta, text);
      if (publicRooms.has(room) || partner !== null) {
        const open = h("button", {
          type: "button",
          class: "link-button"
        }, partner === null ? `Open #${room} at this message` : `Open the conversation with ${partner} at this message`);
        open.addEventListener("click", () => {
          el.searchDialog.close();
          if (partner === null) this.#join(room, Number(id));
          else this.#openDirect(partner, Number(id));
        });
        item.append(open);
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
function avatar(name) {
  const initial = [
    ...name
  ][0]?.toLocaleUpperCase() ?? "?";
  return h("span", {
    class: `avatar colour-${colourIndex(name)}`,
    "aria-hidden": "true"
  }, h("span", {}, initial));
}
function historyMessages(response) {
  return parseRows(response.content ?? "", 4).map(([id, from, time, content]) => ({
    id: Number(id),
    from,
    time,
    content
  }));
}
function eventMessage(event) {
  const p = event.params;
  return {
    id: Number(p.Id),
    from: p.From,
    time: p.Time,
    content: event.content ?? ""
  };
}
function conversationTitle(conversation) {
  return conversation.kind === "direct" ? `@ ${conversation.name}` : conversation.kind === "group" ? "Peer chat" : `# ${conversation.name}`;
}

// web/src/main.ts
new App().start();
