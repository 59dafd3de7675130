/**
 * The page's controller: signing in, rooms, members, messages, search, and
 * reconnecting after a dropped connection without losing or repeating a
 * message. Every piece of user text goes into the page as text.
 * @module
 */

import { parseCounts, parseRows, splitLines } from "../../protocol/content.ts";
import type { Message } from "../../protocol/message.ts";
import { Connection, ConnectionLost, webSocketUrl } from "./connection.ts";
import { byId, h } from "./dom.ts";
import {
  clockTime,
  colourIndex,
  dayKey,
  dayLabel,
  fullTime,
  reconnectDelay,
  sameGroup,
  snippetParts,
} from "./format.ts";
import { type ChatMessage, type Entry, Timeline } from "./timeline.ts";

/** Messages per HISTORY page when joining and scrolling back. */
const PAGE = 50;
/** Messages per HISTORY page when filling the gap after a reconnection. */
const GAP_PAGE = 200;
/** How often the room list (member counts) is refreshed, in ms. */
const ROOMS_REFRESH_MS = 15_000;

const STATUS_TEXT: Record<string, string> = {
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
  BAD_REQUEST: "The server refused the request",
};

/** A human sentence for a failed response. */
function describe(response: Message): string {
  const { Status: status, Reason: reason } = response.params;
  const text = STATUS_TEXT[status] ?? `Failed (${status})`;
  return reason ? `${text.replace(/\.$/, "")}: ${reason}.` : text;
}

interface RoomInfo {
  name: string;
  members: number;
}

/** A message typed here and not yet confirmed by the server. */
interface PendingSend {
  content: string;
  state: "sending" | "unconfirmed" | "failed";
  error?: string;
  /** The newest message id known when it was sent. */
  afterId: number;
}

type ConnectionState = "signed-out" | "connecting" | "online" | "reconnecting";

/** The web client. */
export class App {
  #connection: Connection | null = null;
  #credentials: { user: string; password: string } | null = null;
  #state: ConnectionState = "signed-out";
  #registering = false;
  #reconnectAttempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #roomsTimer: ReturnType<typeof setInterval> | undefined;

  #rooms: RoomInfo[] = [];
  #activeRoom = 0;
  /** The room the user is in, and whether it is a peer chat the server moved us into. */
  #room: string | null = null;
  #roomKind: "room" | "group" = "room";
  #timeline = new Timeline();
  #more = false;
  #loadingOlder = false;
  #members: string[] = [];
  #pending: PendingSend[] = [];
  /** The last message rendered, for grouping appended messages. */
  #lastRendered: ChatMessage | null = null;

  readonly #el = {
    app: byId("app"),
    status: byId("status"),
    me: byId("me"),
    logout: byId<HTMLButtonElement>("logout"),
    toggleRooms: byId<HTMLButtonElement>("toggle-rooms"),
    toggleMembers: byId<HTMLButtonElement>("toggle-members"),
    scrim: byId("scrim"),
    roomsPanel: byId("rooms-panel"),
    roomList: byId<HTMLUListElement>("room-list"),
    createForm: byId<HTMLFormElement>("create-room-form"),
    newRoom: byId<HTMLInputElement>("new-room"),
    createError: byId("create-room-error"),
    roomTitle: byId("room-title"),
    roomInfo: byId("room-info"),
    messages: byId("messages"),
    loadOlder: byId<HTMLButtonElement>("load-older"),
    historyStart: byId("history-start"),
    messageList: byId<HTMLOListElement>("message-list"),
    pendingList: byId<HTMLOListElement>("pending-list"),
    emptyRoom: byId("empty-room"),
    composer: byId<HTMLFormElement>("composer"),
    input: byId<HTMLTextAreaElement>("message-input"),
    sendButton: byId<HTMLButtonElement>("send-button"),
    composerError: byId("composer-error"),
    membersPanel: byId("members-panel"),
    memberList: byId<HTMLUListElement>("member-list"),
    memberCount: byId("member-count"),
    loginDialog: byId<HTMLDialogElement>("login-dialog"),
    loginForm: byId<HTMLFormElement>("login-form"),
    loginTitle: byId("login-title"),
    loginUser: byId<HTMLInputElement>("login-user"),
    loginPassword: byId<HTMLInputElement>("login-password"),
    loginPassword2: byId<HTMLInputElement>("login-password2"),
    loginRepeat: byId("login-repeat"),
    loginError: byId("login-error"),
    loginSubmit: byId<HTMLButtonElement>("login-submit"),
    loginMode: byId<HTMLButtonElement>("login-mode"),
    searchForm: byId<HTMLFormElement>("search-form"),
    searchInput: byId<HTMLInputElement>("search-input"),
    searchDialog: byId<HTMLDialogElement>("search-dialog"),
    searchTitle: byId("search-title"),
    searchResults: byId<HTMLOListElement>("search-results"),
    searchClose: byId<HTMLButtonElement>("search-close"),
    notice: byId("notice"),
  };

  /** Wires the page up and asks the user to sign in. */
  start(): void {
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
      // Enter and Ctrl+Enter send; Shift+Enter is a new line
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

  #setRegistering(registering: boolean): void {
    const el = this.#el;
    this.#registering = registering;
    el.loginTitle.textContent = registering ? "Create a Claptrap account" : "Sign in to Claptrap";
    el.loginSubmit.textContent = registering ? "Create account and sign in" : "Sign in";
    el.loginMode.textContent = registering
      ? "I have an account: sign in"
      : "New here? Create an account";
    el.loginRepeat.hidden = !registering;
    el.loginPassword2.required = registering;
    el.loginPassword.autocomplete = registering ? "new-password" : "current-password";
    el.loginError.textContent = "";
  }

  #showLogin(error: string): void {
    const el = this.#el;
    el.app.inert = true;
    el.loginError.textContent = error;
    el.loginSubmit.disabled = false;
    if (!el.loginDialog.open) el.loginDialog.showModal();
    (el.loginUser.value ? el.loginPassword : el.loginUser).focus();
  }

  async #signIn(): Promise<void> {
    const el = this.#el;
    const user = el.loginUser.value.trim();
    const password = el.loginPassword.value;
    if (this.#registering && password !== el.loginPassword2.value) {
      el.loginError.textContent = "The passwords differ.";
      return;
    }
    el.loginSubmit.disabled = true;
    el.loginError.textContent = this.#registering ? "Creating the account…" : "Signing in…";
    this.#state = "connecting";
    let connection: Connection | null = null;
    try {
      connection = await this.#open();
      if (this.#registering) {
        const registered = await connection.request("REGISTER", {
          Username: user,
          Password: password,
        });
        if (registered.params.Status !== "OK") throw new Error(describe(registered));
      }
      const login = await this.#login(connection, user, password);
      if (login.params.Status !== "OK") throw new Error(describe(login));
    } catch (error) {
      connection?.close();
      this.#state = "signed-out";
      this.#showLogin(
        error instanceof ConnectionLost ? `Cannot reach the server: ${error.message}` : (
          error as Error
        ).message,
      );
      return;
    }
    this.#connection = connection;
    this.#credentials = { user, password };
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

  #open(): Promise<Connection> {
    let connection: Connection | null = null;
    return Connection.open(webSocketUrl(location), {
      onEvent: (event) => this.#onEvent(event),
      onClose: (info) => {
        if (connection && connection === this.#connection) this.#onConnectionLost(info.reason);
      },
    }).then((opened) => connection = opened);
  }

  #login(connection: Connection, user: string, password: string): Promise<Message> {
    return connection.request("LOGIN", { Username: user, Password: password, Push: "on" });
  }

  async #signOut(): Promise<void> {
    const connection = this.#connection;
    this.#connection = null;
    this.#state = "signed-out";
    clearTimeout(this.#reconnectTimer);
    clearInterval(this.#roomsTimer);
    if (connection) {
      await connection.request("LOGOUT").catch(() => {});
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

  #onConnectionLost(reason: string): void {
    this.#connection = null;
    if (this.#state === "signed-out") return;
    for (const pending of this.#pending) {
      if (pending.state === "sending") pending.state = "unconfirmed";
    }
    this.#renderPending();
    this.#setState("reconnecting", reason ? `Connection lost (${reason})` : "Connection lost");
    this.#reconnectSoon(reconnectDelay(this.#reconnectAttempt++));
  }

  #reconnectSoon(delay: number): void {
    clearTimeout(this.#reconnectTimer);
    this.#setState("reconnecting", `Reconnecting in ${Math.ceil(delay / 1000)} s…`);
    this.#reconnectTimer = setTimeout(() => this.#reconnect(), delay);
  }

  /**
   * Signs in again, re-enters the room and fetches what was posted while
   * away: history pages back to the newest message already shown, merged by
   * id, so nothing is lost and nothing appears twice.
   */
  async #reconnect(): Promise<void> {
    const credentials = this.#credentials;
    if (!credentials || this.#state !== "reconnecting") return;
    this.#setState("reconnecting", "Reconnecting…");
    let connection: Connection | null = null;
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

  async #resumeRoom(connection: Connection, room: string): Promise<void> {
    if (this.#roomKind === "group") {
      this.#addNotice("The peer chat ended when the connection was lost.");
      this.#leaveView();
      return;
    }
    const joined = await connection.request("JOIN_ROOM", { "Room-Name": room });
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
  async #fillGap(connection: Connection): Promise<void> {
    const known = this.#timeline.newestId;
    let before: number | null = null;
    for (let page = 0; page < 50; page++) {
      const params: Record<string, string> = { Limit: String(known === 0 ? PAGE : GAP_PAGE) };
      if (before !== null) params.Before = String(before);
      const response = await connection.request("HISTORY", params);
      if (response.params.Status !== "OK") return;
      const messages = historyMessages(response);
      if (known === 0) this.#more = response.params.More === "yes";
      this.#addMessages(messages);
      if (
        known === 0 || response.params.More !== "yes" || messages.length === 0 ||
        messages[0].id <= known
      ) return;
      before = messages[0].id;
    }
  }

  /**
   * Sends that were not confirmed before the connection dropped: if the
   * server stored one, it came back with the gap; otherwise it was not sent.
   */
  #reconcilePending(): void {
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

  #setState(state: ConnectionState, text?: string): void {
    this.#state = state;
    const labels: Record<ConnectionState, string> = {
      "signed-out": "Signed out",
      connecting: "Connecting…",
      online: "Connected",
      reconnecting: "Reconnecting…",
    };
    this.#el.status.dataset.state = state;
    this.#el.status.textContent = text ?? labels[state];
    this.#el.app.dataset.connection = state;
    this.#renderComposer();
  }

  // ---- events ----------------------------------------------------------

  #onEvent(event: Message): void {
    const p = event.params;
    switch (event.method) {
      case "EVT_MSG":
        if (p.Room === this.#room) {
          this.#addMessages([{
            id: Number(p.Id),
            from: p.From,
            time: p.Time,
            content: event.content ?? "",
          }]);
        }
        break;
      case "EVT_JOIN":
        if (p.Room === this.#room) {
          if (!this.#members.includes(p.User)) this.#members.push(p.User);
          this.#addNotice(`${p.User} joined`, p.Time);
          this.#renderMembers();
        } else if (p.Kind === "group") {
          // another user started a peer chat with us: the server moved us into it
          this.#enterView(p.Room, "group");
          this.#addNotice(`${p.User} started a peer chat with you`, p.Time);
          this.#loadHistory();
          this.#refreshMembers();
        }
        this.#bumpCount(p.Room, +1);
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
          this.#addNotice(
            `You were ${p.Banned === "yes" ? "banned" : "removed"} from ${p.Room} by ${p.By}${
              p.Reason ? `: ${p.Reason}` : ""
            }`,
            p.Time,
          );
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
        // Direct messages have no pane of their own yet (see README, "Web client");
        // they are shown, not lost, but cannot be answered from this page.
        this.#showNotice(`Direct message from ${p.From}: ${event.content ?? ""}`);
        break;
      case "EVT_PING":
        this.#connection?.request("PING").catch(() => {});
        break;
      case "EVT_CLOSE":
        this.#setState("reconnecting", `Server closing: ${p.Reason ?? ""}`);
        break;
        // unknown events are ignored, as the protocol asks
    }
  }

  #bumpCount(room: string | undefined, by: number): void {
    const info = this.#rooms.find((r) => r.name === room);
    if (!info) return;
    info.members = Math.max(0, info.members + by);
    this.#renderRooms();
  }

  #showNotice(text: string): void {
    const notice = this.#el.notice;
    notice.textContent = text;
    notice.hidden = false;
    clearTimeout(Number(notice.dataset.timer));
    notice.dataset.timer = String(setTimeout(() => notice.hidden = true, 15_000));
  }

  // ---- rooms -----------------------------------------------------------

  async #refreshRooms(): Promise<void> {
    const connection = this.#connection;
    if (!connection) return;
    const response = await connection.request("LIST_ROOMS").catch(() => null);
    if (!response || response.params.Status !== "OK") return;
    const names = splitLines(response.content ?? "");
    const counts = parseCounts(response.params["Member-Counts"]);
    const active = this.#rooms[this.#activeRoom]?.name;
    this.#rooms = names.map((name, i) => ({ name, members: counts[i] ?? 0 }));
    const keep = this.#rooms.findIndex((room) => room.name === (active ?? this.#room));
    this.#activeRoom = Math.max(0, keep);
    this.#renderRooms();
  }

  #renderRooms(): void {
    const list = this.#el.roomList;
    list.replaceChildren(...this.#rooms.map((room, i) => {
      const current = room.name === this.#room;
      const item = h(
        "li",
        {
          id: `room-${i}`,
          role: "option",
          class: `room${current ? " current" : ""}${i === this.#activeRoom ? " active" : ""}`,
          "aria-selected": i === this.#activeRoom ? "true" : "false",
          title: `${room.name}: click or press Enter to join`,
        },
        h("span", { class: "room-hash", "aria-hidden": "true" }, "#"),
        h("span", { class: "room-name" }, room.name),
        current ? h("span", { class: "visually-hidden" }, " (current room)") : null,
        h(
          "span",
          { class: "room-count", title: `${room.members} online in ${room.name}` },
          String(room.members),
          h("span", { class: "visually-hidden" }, room.members === 1 ? " member" : " members"),
        ),
      );
      item.addEventListener("click", () => {
        this.#activeRoom = i;
        this.#join(room.name);
      });
      return item;
    }));
    if (this.#rooms.length > 0) {
      list.setAttribute("aria-activedescendant", `room-${this.#activeRoom}`);
      list.querySelector(".active")?.scrollIntoView({ block: "nearest" });
    } else {
      list.removeAttribute("aria-activedescendant");
    }
  }

  #roomListKey(event: KeyboardEvent): void {
    const count = this.#rooms.length;
    if (count === 0) return;
    const moves: Record<string, number> = {
      ArrowDown: this.#activeRoom + 1,
      ArrowUp: this.#activeRoom - 1,
      Home: 0,
      End: count - 1,
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

  async #createRoom(): Promise<void> {
    const el = this.#el;
    const name = el.newRoom.value.trim();
    const connection = this.#connection;
    if (!name || !connection) return;
    el.createError.textContent = "";
    const response = await connection.request("CREATE_ROOM", { "Room-Name": name }).catch(
      () => null,
    );
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

  async #join(name: string): Promise<void> {
    const connection = this.#connection;
    if (!connection) return;
    if (name === this.#room) {
      this.#toggleDrawer(null);
      this.#el.input.focus();
      return;
    }
    const response = await connection.request("JOIN_ROOM", { "Room-Name": name }).catch(() => null);
    if (!response) return;
    if (response.params.Status !== "OK") {
      this.#showNotice(`${name}: ${describe(response)}`);
      return;
    }
    const previous = this.#room;
    this.#enterView(name, "room");
    this.#bumpCount(previous ?? undefined, -1);
    this.#bumpCount(name, +1);
    if (this.#credentials) localStorage.setItem(`claptrap.room.${this.#credentials.user}`, name);
    this.#toggleDrawer(null);
    this.#el.input.focus();
    await Promise.all([this.#loadHistory(), this.#refreshMembers()]);
  }

  /** Shows a room the session is now in, empty until its history arrives. */
  #enterView(name: string, kind: "room" | "group"): void {
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

  #leaveView(): void {
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

  #renderHeader(): void {
    const el = this.#el;
    const title = this.#room === null
      ? "No room"
      : this.#roomKind === "group"
      ? "Peer chat"
      : `# ${this.#room}`;
    el.roomTitle.textContent = title;
    el.roomInfo.textContent = this.#room === null
      ? "Pick a room from the list"
      : `${this.#members.length} here now`;
    document.title = this.#room === null ? "Claptrap" : `${title} · Claptrap`;
  }

  // ---- members -----------------------------------------------------------

  async #refreshMembers(): Promise<void> {
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
  #renderMembers(): void {
    const me = this.#credentials?.user;
    const here = [...this.#members].sort((a, b) =>
      a === me ? -1 : b === me ? 1 : a.localeCompare(b)
    );
    const away = [...new Set(this.#timeline.messages().map((m) => m.from))]
      .filter((name) => !this.#members.includes(name))
      .sort((a, b) => a.localeCompare(b));
    const item = (name: string, presence: "here" | "away") =>
      h(
        "li",
        { class: `member ${presence}` },
        h("span", { class: "presence", "aria-hidden": "true" }),
        h("span", { class: `member-name colour-${colourIndex(name)}` }, name),
        name === me ? h("span", { class: "you" }, " (you)") : null,
        h("span", { class: "visually-hidden" }, presence === "here" ? ", here" : ", not here"),
        ...this.#memberActions(name),
      );
    const children: Node[] = here.map((name) => item(name, "here"));
    if (away.length > 0) {
      children.push(h("li", { class: "member-heading", role: "presentation" }, "Not here now"));
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
  #memberActions(_name: string): Node[] {
    return [];
  }

  // ---- messages ------------------------------------------------------------

  async #loadHistory(): Promise<void> {
    const connection = this.#connection;
    const room = this.#room;
    if (!connection || room === null) return;
    const response = await connection.request("HISTORY", { Limit: String(PAGE) }).catch(() => null);
    if (!response || response.params.Status !== "OK" || room !== this.#room) return;
    this.#more = response.params.More === "yes";
    this.#addMessages(historyMessages(response));
    this.#scrollToBottom();
  }

  async #loadOlder(): Promise<void> {
    const connection = this.#connection;
    const room = this.#room;
    const oldest = this.#timeline.oldestId;
    if (!connection || room === null || !this.#more || this.#loadingOlder || oldest === null) {
      return;
    }
    this.#loadingOlder = true;
    this.#el.loadOlder.textContent = "Loading…";
    try {
      const response = await connection.request("HISTORY", {
        Limit: String(PAGE),
        Before: String(oldest),
      });
      if (response.params.Status !== "OK" || room !== this.#room) return;
      this.#more = response.params.More === "yes";
      const box = this.#el.messages;
      const fromBottom = box.scrollHeight - box.scrollTop;
      this.#addMessages(historyMessages(response));
      box.scrollTop = box.scrollHeight - fromBottom;
    } catch {
      // the connection dropped; reconnecting will fill in
    } finally {
      this.#loadingOlder = false;
      this.#el.loadOlder.textContent = "Load older messages";
      this.#renderHistoryEdge();
    }
  }

  #addMessages(messages: ChatMessage[]): void {
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

  #addNotice(text: string, time = new Date().toISOString()): void {
    const stick = this.#nearBottom();
    const notice = this.#timeline.addNotice(text, time);
    this.#el.messageList.append(this.#noticeNode(notice.text, notice.time));
    this.#el.emptyRoom.hidden = true;
    if (stick) this.#scrollToBottom();
  }

  #renderMessages(): void {
    this.#lastRendered = null;
    const nodes: Node[] = [];
    let previous: Entry | null = null;
    for (const entry of this.#timeline.entries()) {
      if (entry.kind === "notice") {
        nodes.push(this.#noticeNode(entry.notice.text, entry.notice.time));
      } else {
        nodes.push(
          ...this.#messageNodes(entry.message, this.#lastRendered, previous?.kind === "message"),
        );
        this.#lastRendered = entry.message;
      }
      previous = entry;
    }
    this.#el.messageList.replaceChildren(...nodes);
    this.#renderHistoryEdge();
  }

  #appendMessage(message: ChatMessage): void {
    const afterNotice = this.#el.messageList.lastElementChild?.classList.contains("notice");
    this.#el.messageList.append(
      ...this.#messageNodes(message, this.#lastRendered, !afterNotice),
    );
    this.#lastRendered = message;
  }

  /**
   * A message's nodes: a day separator when the day changed, then the
   * message, whose name and time are left out when it continues `before`'s
   * (same sender, a few minutes later, nothing in between).
   */
  #messageNodes(message: ChatMessage, before: ChatMessage | null, adjacent: boolean): Node[] {
    const nodes: Node[] = [];
    const newDay = !before || dayKey(before.time) !== dayKey(message.time);
    if (newDay) nodes.push(h("li", { class: "day", role: "separator" }, dayLabel(message.time)));
    const continued = adjacent && !newDay && before?.from === message.from &&
      sameGroup(before.time, message.time);
    const mine = message.from === this.#credentials?.user;
    const time = h(
      "time",
      { datetime: message.time, title: fullTime(message.time) },
      clockTime(message.time),
    );
    nodes.push(h(
      "li",
      {
        class: `message${continued ? " continued" : ""}${mine ? " mine" : ""}`,
        "data-id": message.id,
      },
      continued ? null : avatar(message.from),
      h(
        "div",
        { class: "message-meta" },
        h("span", { class: `sender colour-${colourIndex(message.from)}` }, message.from),
        time,
      ),
      h("p", { class: "message-text" }, message.content),
    ));
    return nodes;
  }

  #noticeNode(text: string, time: string): Node {
    return h(
      "li",
      { class: "notice" },
      h("span", { class: "notice-text" }, text),
      " ",
      h("time", { datetime: time, title: fullTime(time) }, clockTime(time)),
    );
  }

  #renderHistoryEdge(): void {
    const el = this.#el;
    const inRoom = this.#room !== null;
    el.loadOlder.hidden = !inRoom || !this.#more;
    el.historyStart.hidden = !inRoom || this.#more || this.#timeline.size === 0;
    el.historyStart.textContent = this.#room === null
      ? ""
      : `This is the beginning of ${
        this.#roomKind === "group" ? "the peer chat" : `#${this.#room}`
      }.`;
    el.emptyRoom.hidden = !inRoom || this.#timeline.size > 0 ||
      el.messageList.childElementCount > 0;
    el.emptyRoom.textContent = inRoom ? "No messages yet. Say hello!" : "";
  }

  #nearBottom(): boolean {
    const box = this.#el.messages;
    return box.scrollHeight - box.scrollTop - box.clientHeight < 120;
  }

  #scrollToBottom(): void {
    const box = this.#el.messages;
    box.scrollTop = box.scrollHeight;
  }

  // ---- sending -------------------------------------------------------------

  #renderComposer(): void {
    const el = this.#el;
    const ready = this.#room !== null;
    el.input.disabled = !ready;
    el.sendButton.disabled = !ready;
    el.input.placeholder = !ready
      ? "Join a room to write"
      : `Message ${
        this.#roomKind === "group" ? "the peer chat" : `#${this.#room}`
      } (Enter sends, Shift+Enter: new line)`;
  }

  #fitInput(): void {
    const input = this.#el.input;
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 200)}px`;
  }

  async #send(): Promise<void> {
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
    const pending: PendingSend = {
      content,
      state: "sending",
      afterId: this.#timeline.newestId,
    };
    this.#pending.push(pending);
    this.#renderPending();
    this.#scrollToBottom();
    const room = this.#room;
    let response: Message;
    try {
      response = await connection.request("SEND_MSG", {}, content);
    } catch {
      return; // unconfirmed: settled after the reconnection
    }
    if (response.params.Status === "OK") {
      this.#pending = this.#pending.filter((p) => p !== pending);
      this.#renderPending();
      if (room === this.#room) {
        this.#addMessages([{
          id: Number(response.params.Id),
          from: this.#credentials!.user,
          time: response.params.Time,
          content,
        }]);
      }
      this.#scrollToBottom();
    } else {
      pending.state = "failed";
      pending.error = describe(response);
      this.#renderPending();
    }
  }

  #renderPending(): void {
    this.#el.pendingList.replaceChildren(...this.#pending.map((pending) => {
      const label = pending.state === "sending"
        ? "Sending…"
        : pending.state === "unconfirmed"
        ? "Waiting for the connection…"
        : pending.error ?? "Not sent.";
      const item = h(
        "li",
        { class: `message mine pending ${pending.state}` },
        avatar(this.#credentials?.user ?? ""),
        h(
          "div",
          { class: "message-meta" },
          h("span", { class: "sender" }, this.#credentials?.user ?? ""),
          h("span", { class: "pending-state" }, label),
        ),
        h("p", { class: "message-text" }, pending.content),
      );
      if (pending.state === "failed") {
        const retry = h("button", { type: "button", class: "link-button" }, "Edit and resend");
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

  async #search(): Promise<void> {
    const el = this.#el;
    const query = el.searchInput.value.trim();
    if (!query) return;
    const connection = this.#connection;
    el.searchTitle.textContent = `Results for “${query}”`;
    el.searchResults.replaceChildren(h("li", { class: "search-note" }, "Searching…"));
    if (!el.searchDialog.open) el.searchDialog.showModal();
    const response = connection
      ? await connection.request("SEARCH", { Query: query, Limit: "50" }).catch(() => null)
      : null;
    if (!response) {
      el.searchResults.replaceChildren(h("li", { class: "search-note" }, "Not connected."));
      return;
    }
    if (response.params.Status !== "OK") {
      el.searchResults.replaceChildren(h("li", { class: "search-note" }, describe(response)));
      return;
    }
    const rows = parseRows(response.content ?? "", 5);
    if (rows.length === 0) {
      el.searchResults.replaceChildren(h("li", { class: "search-note" }, "Nothing found."));
      return;
    }
    const publicRooms = new Set(this.#rooms.map((room) => room.name));
    el.searchResults.replaceChildren(...rows.map(([, room, from, time, snippet]) => {
      const text = h(
        "p",
        { class: "result-text" },
        ...snippetParts(snippet).map((part) =>
          part.match ? h("mark", {}, part.text) : document.createTextNode(part.text)
        ),
      );
      const meta = h(
        "div",
        { class: "message-meta" },
        h("span", { class: `sender colour-${colourIndex(from)}` }, from),
        h("span", { class: "result-room" }, publicRooms.has(room) ? `#${room}` : "private"),
        h(
          "time",
          { datetime: time, title: fullTime(time) },
          `${dayLabel(time)} ${clockTime(time)}`,
        ),
      );
      const item = h("li", { class: "result" }, meta, text);
      if (publicRooms.has(room)) {
        const open = h("button", { type: "button", class: "link-button" }, `Open #${room}`);
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

  #toggleDrawer(which: "rooms" | "members" | null): void {
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
}

/** A round badge with the first letter of a user name, in the user's colour. */
function avatar(name: string): HTMLElement {
  const initial = [...name][0]?.toLocaleUpperCase() ?? "?";
  return h(
    "span",
    { class: `avatar colour-${colourIndex(name)}`, "aria-hidden": "true" },
    h("span", {}, initial),
  );
}

/** The messages of a RESP_HISTORY, oldest first. */
function historyMessages(response: Message): ChatMessage[] {
  return parseRows(response.content ?? "", 4).map(([id, from, time, content]) => ({
    id: Number(id),
    from,
    time,
    content,
  }));
}
