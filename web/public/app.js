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

// web/src/app.ts
var PAGE = 50;
var GAP_PAGE = 200;
var ROOMS_REFRESH_MS = 15e3;
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
  /** The room the user is in, and whether it is a peer chat the server moved us into. */
  #room = null;
  #roomKind = "room";
  #timeline = new Timeline();
  #more = false;
  #loadingOlder = false;
  #members = [];
  #pending = [];
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
    roomTitle: byId("room-title"),
    roomInfo: byId("room-info"),
    messages: byId("messages"),
    loadOlder: byId("load-older"),
    historyStart: byId("history-start"),
    messageList: byId("message-list"),
    pendingList: byId("pending-list"),
    emptyRoom: byId("empty-room"),
    composer: byId("composer"),
    input: byId("message-input"),
    sendButton: byId("send-button"),
    composerError: byId("composer-error"),
    membersPanel: byId("members-panel"),
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
    });
    el.loadOlder.addEventListener("click", () => this.#loadOlder());
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
    await this.#refreshRooms();
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
    this.#leaveView();
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
    for (const pending of this.#pending) {
      if (pending.state === "sending") pending.state = "unconfirmed";
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
   * Signs in again, re-enters the room and fetches what was posted while
   * away: history pages back to the newest message already shown, merged by
   * id, so nothing is lost and nothing appears twice.
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
      if (this.#room !== null) await this.#resumeRoom(connection, this.#room);
      this.#setState("online");
    } catch (error) {
      if (!(error instanceof ConnectionLost)) throw error;
      if (connection === this.#connection) this.#connection = null;
      connection?.close();
      this.#reconnectSoon(reconnectDelay(this.#reconnectAttempt++));
    }
  }
  async #resumeRoom(connection, room) {
    if (this.#roomKind === "group") {
      this.#addNotice("The peer chat ended when the connection was lost.");
      this.#leaveView();
      return;
    }
    const joined = await connection.request("JOIN_ROOM", {
      "Room-Name": room
    });
    if (joined.params.Status !== "OK") {
      this.#addNotice(`Could not re-enter ${room}: ${describe(joined)}`);
      this.#leaveView();
      return;
    }
    await this.#fillGap(connection);
    this.#reconcilePending();
    await this.#refreshMembers();
  }
  /** Fetches history pages until they reach the newest message shown before the drop. */
  async #fillGap(connection) {
    const known = this.#timeline.newestId;
    let before = null;
    for (let page = 0; page < 50; page++) {
      const params = {
        Limit: String(known === 0 ? PAGE : GAP_PAGE)
      };
      if (before !== null) params.Before = String(before);
      const response = await connection.request("HISTORY", params);
      if (response.params.Status !== "OK") return;
      const messages = historyMessages(response);
      if (known === 0) this.#more = response.params.More === "yes";
      this.#addMessages(messages);
      if (known === 0 || response.params.More !== "yes" || messages.length === 0 || messages[0].id <= known) return;
      before = messages[0].id;
    }
  }
  /**
   * Sends that were not confirmed before the connection dropped: if the
   * server stored one, it came back with the gap; otherwise it was not sent.
   */
  #reconcilePending() {
    const mine = this.#timeline.messages().filter((m) => m.from === this.#credentials?.user);
    this.#pending = this.#pending.filter((pending) => {
      if (pending.state !== "unconfirmed") return true;
      const stored = mine.find((m) => m.id > pending.afterId && m.content === pending.content);
      if (stored) return false;
      pending.state = "failed";
      pending.error = "Not sent: the connection dropped.";
      return true;
    });
    this.#renderPending();
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
    this.#renderComposer();
  }
  // ---- events ----------------------------------------------------------
  #onEvent(event) {
    const p = event.params;
    switch (event.method) {
      case "EVT_MSG":
        if (p.Room === this.#room) {
          this.#addMessages([
            {
              id: Number(p.Id),
              from: p.From,
              time: p.Time,
              content: event.content ?? ""
            }
          ]);
        }
        break;
      case "EVT_JOIN":
        if (p.Room === this.#room) {
          if (!this.#members.includes(p.User)) this.#members.push(p.User);
          this.#addNotice(`${p.User} joined`, p.Time);
          this.#renderMembers();
        } else if (p.Kind === "group") {
          this.#enterView(p.Room, "group");
          this.#addNotice(`${p.User} started a peer chat with you`, p.Time);
          this.#loadHistory();
          this.#refreshMembers();
        }
        this.#bumpCount(p.Room, 1);
        break;
      case "EVT_LEAVE":
        if (p.Room === this.#room) {
          this.#members = this.#members.filter((member) => member !== p.User);
          this.#addNotice(`${p.User} left${p.Reason ? ` (${p.Reason})` : ""}`, p.Time);
          this.#renderMembers();
        }
        this.#bumpCount(p.Room, -1);
        break;
      case "EVT_KICKED":
        if (p.Room === this.#room) {
          this.#addNotice(`You were ${p.Banned === "yes" ? "banned" : "removed"} from ${p.Room} by ${p.By}${p.Reason ? `: ${p.Reason}` : ""}`, p.Time);
          this.#room = null;
          this.#members = [];
          this.#renderMembers();
          this.#renderHeader();
          this.#renderComposer();
          this.#refreshRooms();
        }
        break;
      case "EVT_GROUP_END":
        if (p.Room === this.#room) {
          this.#addNotice("Everyone else left the peer chat.", p.Time);
          this.#room = null;
          this.#members = [];
          this.#renderMembers();
          this.#renderHeader();
          this.#renderComposer();
        }
        break;
      case "EVT_NOTICE":
        this.#showNotice(`Server notice: ${event.content ?? ""}`);
        break;
      case "EVT_DM":
        this.#showNotice(`Direct message from ${p.From}: ${event.content ?? ""}`);
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
    const response = await connection.request("LIST_ROOMS").catch(() => null);
    if (!response || response.params.Status !== "OK") return;
    const names = splitLines(response.content ?? "");
    const counts = parseCounts(response.params["Member-Counts"]);
    const active = this.#rooms[this.#activeRoom]?.name;
    this.#rooms = names.map((name, i) => ({
      name,
      members: counts[i] ?? 0
    }));
    const keep = this.#rooms.findIndex((room) => room.name === (active ?? this.#room));
    this.#activeRoom = Math.max(0, keep);
    this.#renderRooms();
  }
  #renderRooms() {
    const list = this.#el.roomList;
    list.replaceChildren(...this.#rooms.map((room, i) => {
      const current = room.name === this.#room;
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
  async #join(name) {
    const connection = this.#connection;
    if (!connection) return;
    if (name === this.#room) {
      this.#toggleDrawer(null);
      this.#el.input.focus();
      return;
    }
    const response = await connection.request("JOIN_ROOM", {
      "Room-Name": name
    }).catch(() => null);
    if (!response) return;
    if (response.params.Status !== "OK") {
      this.#showNotice(`${name}: ${describe(response)}`);
      return;
    }
    const previous = this.#room;
    this.#enterView(name, "room");
    this.#bumpCount(previous ?? void 0, -1);
    this.#bumpCount(name, 1);
    if (this.#credentials) localStorage.setItem(`claptrap.room.${this.#credentials.user}`, name);
    this.#toggleDrawer(null);
    this.#el.input.focus();
    await Promise.all([
      this.#loadHistory(),
      this.#refreshMembers()
    ]);
  }
  /** Shows a room the session is now in, empty until its history arrives. */
  #enterView(name, kind) {
    this.#room = name;
    this.#roomKind = kind;
    this.#timeline = new Timeline();
    this.#more = false;
    this.#members = [];
    this.#pending = this.#pending.filter((pending) => pending.state === "sending");
    this.#renderHeader();
    this.#renderMessages();
    this.#renderPending();
    this.#renderMembers();
    this.#renderRooms();
    this.#renderComposer();
  }
  #leaveView() {
    this.#room = null;
    this.#timeline = new Timeline();
    this.#members = [];
    this.#pending = [];
    this.#more = false;
    this.#renderHeader();
    this.#renderMessages();
    this.#renderPending();
    this.#renderMembers();
    this.#renderComposer();
  }
  #renderHeader() {
    const el = this.#el;
    const title = this.#room === null ? "No room" : this.#roomKind === "group" ? "Peer chat" : `# ${this.#room}`;
    el.roomTitle.textContent = title;
    el.roomInfo.textContent = this.#room === null ? "Pick a room from the list" : `${this.#members.length} here now`;
    document.title = this.#room === null ? "Claptrap" : `${title} \xB7 Claptrap`;
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
   * is not here now. Actions on a member (direct message, kick, ban) belong
   * in {@link App.#memberActions}.
   */
  #renderMembers() {
    const me = this.#credentials?.user;
    const here = [
      ...this.#members
    ].sort((a, b) => a === me ? -1 : b === me ? 1 : a.localeCompare(b));
    const away = [
      ...new Set(this.#timeline.messages().map((m) => m.from))
    ].filter((name) => !this.#members.includes(name)).sort((a, b) => a.localeCompare(b));
    const item = (name, presence) => h("li", {
      class: `member ${presence}`
    }, h("span", {
      class: "presence",
      "aria-hidden": "true"
    }), h("span", {
      class: `member-name colour-${colourIndex(name)}`
    }, name), name === me ? h("span", {
      class: "you"
    }, " (you)") : null, h("span", {
      class: "visually-hidden"
    }, presence === "here" ? ", here" : ", not here"), ...this.#memberActions(name));
    const children = here.map((name) => item(name, "here"));
    if (away.length > 0) {
      children.push(h("li", {
        class: "member-heading",
        role: "presentation"
      }, "Not here now"));
      children.push(...away.map((name) => item(name, "away")));
    }
    this.#el.memberList.replaceChildren(...children);
    this.#el.memberCount.textContent = String(here.length);
    this.#renderHeader();
  }
  /**
   * Buttons for acting on a member. Direct messages, peer chats and
   * kick/ban (the server's issue 4 requests DM, PEER_CONNECT, KICK, BAN)
   * are not offered by this page yet; they go here.
   */
  #memberActions(_name) {
    return [];
  }
  // ---- messages ------------------------------------------------------------
  async #loadHistory() {
    const connection = this.#connection;
    const room = this.#room;
    if (!connection || room === null) return;
    const response = await connection.request("HISTORY", {
      Limit: String(PAGE)
    }).catch(() => null);
    if (!response || response.params.Status !== "OK" || room !== this.#room) return;
    this.#more = response.params.More === "yes";
    this.#addMessages(historyMessages(response));
    this.#scrollToBottom();
  }
  async #loadOlder() {
    const connection = this.#connection;
    const room = this.#room;
    const oldest = this.#timeline.oldestId;
    if (!connection || room === null || !this.#more || this.#loadingOlder || oldest === null) {
      return;
    }
    this.#loadingOlder = true;
    this.#el.loadOlder.textContent = "Loading\u2026";
    try {
      const response = await connection.request("HISTORY", {
        Limit: String(PAGE),
        Before: String(oldest)
      });
      if (response.params.Status !== "OK" || room !== this.#room) return;
      this.#more = response.params.More === "yes";
      const box = this.#el.messages;
      const fromBottom = box.scrollHeight - box.scrollTop;
      this.#addMessages(historyMessages(response));
      box.scrollTop = box.scrollHeight - fromBottom;
    } catch {
    } finally {
      this.#loadingOlder = false;
      this.#el.loadOlder.textContent = "Load older messages";
      this.#renderHistoryEdge();
    }
  }
  #addMessages(messages) {
    const stick = this.#nearBottom();
    const { added, appended } = this.#timeline.add(messages);
    if (added.length === 0) {
      this.#renderHistoryEdge();
      return;
    }
    if (appended) {
      for (const message of added) this.#appendMessage(message);
    } else {
      this.#renderMessages();
    }
    if (added.some((m) => !this.#members.includes(m.from))) this.#renderMembers();
    this.#renderHistoryEdge();
    if (stick && appended) this.#scrollToBottom();
  }
  #addNotice(text, time = (/* @__PURE__ */ new Date()).toISOString()) {
    const stick = this.#nearBottom();
    const notice = this.#timeline.addNotice(text, time);
    this.#el.messageList.append(this.#noticeNode(notice.text, notice.time));
    this.#el.emptyRoom.hidden = true;
    if (stick) this.#scrollToBottom();
  }
  #renderMessages() {
    this.#lastRendered = null;
    const nodes = [];
    let previous = null;
    for (const entry of this.#timeline.entries()) {
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
    const time = h("time", {
      datetime: message.time,
      title: fullTime(message.time)
    }, clockTime(message.time));
    nodes.push(h("li", {
      class: `message${continued ? " continued" : ""}${mine ? " mine" : ""}`,
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
    const inRoom = this.#room !== null;
    el.loadOlder.hidden = !inRoom || !this.#more;
    el.historyStart.hidden = !inRoom || this.#more || this.#timeline.size === 0;
    el.historyStart.textContent = this.#room === null ? "" : `This is the beginning of ${this.#roomKind === "group" ? "the peer chat" : `#${this.#room}`}.`;
    el.emptyRoom.hidden = !inRoom || this.#timeline.size > 0 || el.messageList.childElementCount > 0;
    el.emptyRoom.textContent = inRoom ? "No messages yet. Say hello!" : "";
  }
  #nearBottom() {
    const box = this.#el.messages;
    return box.scrollHeight - box.scrollTop - box.clientHeight < 120;
  }
  #scrollToBottom() {
    const box = this.#el.messages;
    box.scrollTop = box.scrollHeight;
  }
  // ---- sending -------------------------------------------------------------
  #renderComposer() {
    const el = this.#el;
    const ready = this.#room !== null;
    el.input.disabled = !ready;
    el.sendButton.disabled = !ready;
    el.input.placeholder = !ready ? "Join a room to write" : `Message ${this.#roomKind === "group" ? "the peer chat" : `#${this.#room}`} (Enter sends, Shift+Enter: new line)`;
  }
  #fitInput() {
    const input = this.#el.input;
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 200)}px`;
  }
  async #send() {
    const el = this.#el;
    const content = el.input.value;
    if (content.trim() === "" || this.#room === null) return;
    const connection = this.#connection;
    if (!connection) {
      el.composerError.textContent = "Not connected: your message is kept here until you are.";
      return;
    }
    el.composerError.textContent = "";
    el.input.value = "";
    this.#fitInput();
    const pending = {
      content,
      state: "sending",
      afterId: this.#timeline.newestId
    };
    this.#pending.push(pending);
    this.#renderPending();
    this.#scrollToBottom();
    const room = this.#room;
    let response;
    try {
      response = await connection.request("SEND_MSG", {}, content);
    } catch {
      return;
    }
    if (response.params.Status === "OK") {
      this.#pending = this.#pending.filter((p) => p !== pending);
      this.#renderPending();
      if (room === this.#room) {
        this.#addMessages([
          {
            id: Number(response.params.Id),
            from: this.#credentials.user,
            time: response.params.Time,
            content
          }
        ]);
      }
      this.#scrollToBottom();
    } else {
      pending.state = "failed";
      pending.error = describe(response);
      this.#renderPending();
    }
  }
  #renderPending() {
    this.#el.pendingList.replaceChildren(...this.#pending.map((pending) => {
      const label = pending.state === "sending" ? "Sending\u2026" : pending.state === "unconfirmed" ? "Waiting for the connection\u2026" : pending.error ?? "Not sent.";
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
          this.#pending = this.#pending.filter((p) => p !== pending);
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
    el.searchResults.replaceChildren(...rows.map(([, room, from, time, snippet]) => {
      const text = h("p", {
        class: "result-text"
      }, ...snippetParts(snippet).map((part) => part.match ? h("mark", {}, part.text) : document.createTextNode(part.text)));
      const meta = h("div", {
        class: "message-meta"
      }, h("span", {
        class: `sender colour-${colourIndex(from)}`
      }, from), h("span", {
        class: "result-room"
      }, publicRooms.has(room) ? `#${room}` : "private"), h("time", {
        datetime: time,
        title: fullTime(time)
      }, `${dayLabel(time)} ${clockTime(time)}`));
      const item = h("li", {
        class: "result"
      }, meta, text);
      if (publicRooms.has(room)) {
        const open = h("button", {
          type: "button",
          class: "link-button"
        }, `Open #${room}`);
        open.addEventListener("click", () => {
          el.searchDialog.close();
          this.#join(room);
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

// web/src/main.ts
new App().start();
