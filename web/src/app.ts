/**
 * The page's controller: signing in, rooms, direct conversations, members,
 * messages, and reconnecting after a dropped connection without losing or
 * repeating a message, all through the client library's ChatClient over a
 * WebSocket. Every piece of user text goes into the page as text.
 * @module
 */

import { ChatClient, ChatError, type RoomInfo } from "../../client/chat_client.ts";
import type { ChatEvent } from "../../client/chat_event.ts";
import { Reconnector, type TryOutcome } from "../../client/reconnector.ts";
import { ConnectionClosedError } from "../../client/transport.ts";
import { webSocket, webSocketUrl } from "../../client/websocket_transport.ts";
import { type Conversation, Conversations, type PendingSend } from "./conversation.ts";
import { byId, h } from "./dom.ts";
import { clockTime, colourIndex, dayKey, dayLabel, fullTime, sameGroup } from "./format.ts";
import { describe, STATUS_TEXT } from "./refusal_text.ts";
import { type Anchor, anchorAt, atEnd, type Placed, scrollTopFor } from "./scroll_place.ts";
import { SearchDialog } from "./search_dialog.ts";
import type { AddResult, ChatMessage, Entry } from "./timeline.ts";

/** Messages per HISTORY page when opening a conversation and scrolling back or forwards. */
const PAGE = 50;
/** Messages per HISTORY page when catching up after a reconnection. */
const GAP_PAGE = 200;
/** At most this many pages are fetched to catch up; the reader scrolls on from there. */
const GAP_PAGES = 50;
/** Results per SEARCH page. */
const SEARCH_PAGE = 50;
/** How often the room list (member counts) is refreshed, in ms. */
const ROOMS_REFRESH_MS = 15_000;
/** Most LIST_ROOMS pages (of up to 1,000 rooms) the room list shows. */
const ROOM_PAGES = 10;

/** A refusal (ChatError) or the end of the connection, as expected while chatting; else rethrown. */
function expected(error: unknown): ChatError | ConnectionClosedError {
  if (error instanceof ChatError || error instanceof ConnectionClosedError) return error;
  throw error;
}

type ConnectionState = "signed-out" | "connecting" | "online" | "reconnecting";

/** The web client. */
export class App {
  #client: ChatClient | null = null;
  #credentials: { user: string; password: string } | null = null;
  #state: ConnectionState = "signed-out";
  #registering = false;
  /** One reconnection at a time, the backoff saying how long till the next try. */
  readonly #reconnector = new Reconnector({
    waiting: (ms) => this.#setState("reconnecting", `Reconnecting in ${Math.ceil(ms / 1000)} s…`),
  });
  #roomsTimer: ReturnType<typeof setInterval> | undefined;

  #rooms: RoomInfo[] = [];
  #activeRoom = 0;
  #conversations = new Conversations();
  /** The room or peer chat the session is in (on the server), as a conversation. */
  #here: Conversation | null = null;
  /** The members of {@link App.#here}. */
  #members: string[] = [];
  /** The conversation shown. */
  #shown: Conversation | null = null;
  #loadingOlder = false;
  #loadingNewer = false;
  /** Whether the reader was at the newest message when the connection dropped. */
  #atEndWhenLost = false;
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
    directList: byId<HTMLUListElement>("direct-list"),
    directForm: byId<HTMLFormElement>("new-direct-form"),
    newDirect: byId<HTMLInputElement>("new-direct"),
    directError: byId("new-direct-error"),
    roomTitle: byId("room-title"),
    roomInfo: byId("room-info"),
    messages: byId("messages"),
    loadOlder: byId<HTMLButtonElement>("load-older"),
    historyStart: byId("history-start"),
    messageList: byId<HTMLOListElement>("message-list"),
    pendingList: byId<HTMLOListElement>("pending-list"),
    emptyRoom: byId("empty-room"),
    jumpNewest: byId<HTMLButtonElement>("jump-newest"),
    composer: byId<HTMLFormElement>("composer"),
    input: byId<HTMLTextAreaElement>("message-input"),
    sendButton: byId<HTMLButtonElement>("send-button"),
    composerError: byId("composer-error"),
    membersPanel: byId("members-panel"),
    membersTitle: byId("members-title"),
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
    notice: byId("notice"),
  };

  /** The name of the room or peer chat the session is in. */
  get #room(): string | null {
    return this.#here?.name ?? null;
  }

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
      // Enter and Ctrl+Enter send; Shift+Enter is a new line
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
      search: (query, before) =>
        this.#ask((client) => client.search(query, { limit: SEARCH_PAGE, before })),
      publicRooms: () => new Set(this.#rooms.map((room) => room.name)),
      me: () => this.#credentials?.user ?? "",
      open: (at, id) => "room" in at ? this.#join(at.room, id) : this.#openDirect(at.partner, id),
    });
    el.toggleRooms.addEventListener("click", () => this.#toggleDrawer("rooms"));
    el.toggleMembers.addEventListener("click", () => this.#toggleDrawer("members"));
    el.scrim.addEventListener("click", () => this.#toggleDrawer(null));
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.#toggleDrawer(null);
    });
    // the network is back: the wait before the next try ends (a try under way goes on alone)
    globalThis.addEventListener("online", () => this.#reconnector.wake());
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
    let client: ChatClient | null = null;
    try {
      client = await this.#open();
      if (this.#registering) await client.register(user, password);
      await client.login(user, password);
    } catch (error) {
      client?.close();
      this.#state = "signed-out";
      this.#showLogin(
        error instanceof ChatError
          ? describe(error)
          : error instanceof ConnectionClosedError
          ? `Cannot reach the server: ${error.reason}`
          : (error as Error).message,
      );
      return;
    }
    this.#client = client;
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
    await Promise.all([this.#refreshRooms(), this.#loadDirects()]);
    const last = localStorage.getItem(`claptrap.room.${user}`);
    if (last && this.#rooms.some((room) => room.name === last)) await this.#join(last);
    else el.roomList.focus();
  }

  /**
   * Connects to the page's server; its events are shown until the page
   * signs out, and its end, while it is the page's connection, starts a
   * reconnection.
   */
  async #open(): Promise<ChatClient> {
    const client = await ChatClient.connect(webSocket(webSocketUrl(location)));
    (async () => {
      for await (const event of client.events()) {
        if (this.#state === "signed-out") continue;
        try {
          this.#onEvent(event);
        } catch (error) {
          reportError(error); // as an uncaught error, and the next events are shown still
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
  async #ask<T>(request: (client: ChatClient) => Promise<T>): Promise<T | ChatError | null> {
    const client = this.#client;
    if (!client) return null;
    try {
      return await request(client);
    } catch (error) {
      const failure = expected(error);
      return failure instanceof ChatError ? failure : null;
    }
  }

  async #signOut(): Promise<void> {
    const client = this.#client;
    this.#client = null;
    this.#state = "signed-out";
    this.#reconnector.stop();
    clearInterval(this.#roomsTimer);
    if (client) {
      await client.logout().catch(() => {});
      client.close();
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

  #onConnectionLost(): void {
    this.#client = null;
    if (this.#state === "signed-out") return;
    const shown = this.#shown;
    // (a drop while catching up keeps what the reader had before)
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
   * One try at getting back: signs in again, re-enters the room, and
   * fetches what was posted while away in the conversations that need it
   * (the one shown, the room, those with messages whose sending is
   * unsettled): history pages forwards from the newest message held, merged
   * by id, so nothing is lost, nothing appears twice and the reader stays
   * where they were. Then sends what was typed while disconnected. Other
   * conversations catch up when opened.
   */
  async #reconnect(): Promise<TryOutcome> {
    const credentials = this.#credentials;
    if (!credentials || this.#state !== "reconnecting") return "stop";
    this.#setState("reconnecting", "Reconnecting…");
    let client: ChatClient | null = null;
    try {
      client = await this.#open();
      await client.login(credentials.user, credentials.password);
      if (this.#state !== "reconnecting") {
        client.close(); // signed out meanwhile
        return "stop";
      }
      this.#client = client;
      await this.#refreshRooms();
      await this.#resumeRoom(client);
      for (const conversation of this.#conversations.list()) {
        const shown = conversation === this.#shown;
        if (!shown && conversation !== this.#here && conversation.pending.length === 0) continue;
        const failed = await this.#catchUp(conversation, shown && this.#atEndWhenLost);
        if (this.#client !== client) return "retry"; // dropped again
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
      this.#showLogin("Signed out: the server no longer accepts your password.");
      return "stop";
    }
  }

  /** Re-enters the room the session was in; a peer chat ended with the connection. */
  async #resumeRoom(client: ChatClient): Promise<void> {
    const here = this.#here;
    if (!here) return;
    if (here.kind === "group") {
      this.#loseRoom("The peer chat ended when the connection was lost.");
      return;
    }
    try {
      await client.join(here.name);
    } catch (error) {
      const failure = expected(error);
      if (failure instanceof ConnectionClosedError) throw failure;
      this.#loseRoom(`Could not re-enter ${here.name}: ${describe(failure)}`);
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
  #settlePending(conversation: Conversation, refusal: string | null): void {
    const me = this.#credentials?.user;
    const mine = conversation.timeline.messages().filter((m) => m.from === me);
    const closed = refusal ??
      (conversation.kind !== "direct" && conversation !== this.#here ? "you left the room" : null);
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
    if (state === "online") this.#el.composerError.textContent = "";
    this.#renderComposer();
  }

  // ---- events ----------------------------------------------------------

  #onEvent(event: ChatEvent): void {
    const here = this.#here;
    const inHere = here !== null && "room" in event && event.room === here.name;
    switch (event.type) {
      case "message":
        if (inHere) this.#receive(here, event);
        break;
      case "dm": {
        const conversation = this.#conversations.get("direct", event.from);
        this.#conversations.touch(conversation);
        this.#receive(conversation, event);
        this.#renderDirects();
        break;
      }
      case "join":
        if (inHere) {
          if (!this.#members.includes(event.user)) this.#members.push(event.user);
          this.#addNotice(here, `${event.user} joined`, event.time);
          this.#renderMembers();
        } else if (event.kind === "group") {
          // another user started a peer chat with us: the server moved us into it
          this.#enterRoom("group", event.room);
          this.#addNotice(this.#here!, `${event.user} started a peer chat with you`, event.time);
          this.#show(this.#here);
          this.#catchUp(this.#here!, true);
          this.#refreshMembers();
        }
        this.#bumpCount(event.room, +1);
        break;
      case "leave":
        if (inHere) {
          this.#members = this.#members.filter((member) => member !== event.user);
          const why = event.reason ? ` (${event.reason})` : "";
          this.#addNotice(here, `${event.user} left${why}`, event.time);
          this.#renderMembers();
        }
        this.#bumpCount(event.room, -1);
        break;
      case "kicked":
        if (inHere) {
          this.#loseRoom(
            `You were ${event.banned ? "banned" : "removed"} from ${event.room} by ${event.by}${
              event.reason ? `: ${event.reason}` : ""
            }`,
            event.time,
          );
          this.#refreshRooms();
        }
        break;
      case "groupEnd":
        if (inHere) this.#loseRoom("Everyone else left the peer chat.", event.time);
        break;
      case "notice":
        this.#showNotice(`Server notice: ${event.content}`);
        break;
      case "close":
        this.#setState("reconnecting", `Server closing: ${event.reason}`);
        break;
      case "peerInvite":
      case "peerAnswer":
        break; // peer chats are not offered by this page yet
    }
  }

  /**
   * A message that arrived live in a conversation: shown when it is open,
   * else counted as unread.
   */
  #receive(conversation: Conversation, message: ChatMessage): void {
    this.#apply(conversation, () => conversation.receive(message));
    if (conversation !== this.#shown && message.from !== this.#credentials?.user) {
      conversation.unread++;
    }
  }

  #bumpCount(room: string | null, by: number): void {
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
    const rooms = await this.#ask((client) => client.rooms({ maxPages: ROOM_PAGES }));
    if (rooms === null || rooms instanceof ChatError) return;
    const active = this.#rooms[this.#activeRoom]?.name;
    this.#rooms = rooms;
    const keep = this.#rooms.findIndex((room) => room.name === (active ?? this.#room));
    this.#activeRoom = Math.max(0, keep);
    this.#renderRooms();
  }

  #renderRooms(): void {
    const list = this.#el.roomList;
    list.replaceChildren(...this.#rooms.map((room, i) => {
      const current = this.#shown !== null && this.#shown === this.#here &&
        room.name === this.#room;
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
    if (!name || !this.#client) return;
    el.createError.textContent = "";
    const refused = await this.#ask((client) => client.create(name));
    if (refused === null) {
      el.createError.textContent = "Not connected.";
    } else if (refused instanceof ChatError) {
      el.createError.textContent = describe(refused);
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
  async #join(name: string, at?: number): Promise<void> {
    if (!this.#client) return;
    if (this.#here?.kind !== "room" || this.#here.name !== name) {
      const refused = await this.#ask((client) => client.join(name));
      if (refused === null) return;
      if (refused instanceof ChatError) {
        this.#showNotice(`${name}: ${describe(refused)}`);
        return;
      }
      const previous = this.#room;
      this.#enterRoom("room", name);
      this.#bumpCount(previous, -1);
      this.#bumpCount(name, +1);
      if (this.#credentials) localStorage.setItem(`claptrap.room.${this.#credentials.user}`, name);
      this.#refreshMembers();
    }
    await this.#openConversation(this.#here!, at);
  }

  /** The session is now in this room or peer chat; nothing of it is fetched yet. */
  #enterRoom(kind: "room" | "group", name: string): void {
    if (this.#here) this.#conversations.remove(this.#here);
    this.#here = this.#conversations.get(kind, name);
    this.#members = [];
  }

  /**
   * The session is no longer in its room or peer chat: says why in it, and
   * leaves it shown, read-only, if it is.
   */
  #loseRoom(why: string, time?: string): void {
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
  async #openConversation(conversation: Conversation, at?: number): Promise<ChatError | null> {
    if (conversation !== this.#shown) this.#show(conversation);
    this.#toggleDrawer(null);
    this.#el.input.focus();
    if (at !== undefined) return await this.#openAt(conversation, at);
    if (!conversation.synced) return await this.#catchUp(conversation, true);
    return null;
  }

  /** Makes a conversation the one shown, where the reader left it. */
  #show(conversation: Conversation | null): void {
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

  #renderHeader(): void {
    const el = this.#el;
    const open = this.#shown;
    el.roomTitle.textContent = open ? conversationTitle(open) : "No room";
    el.roomInfo.textContent = !open
      ? "Pick a room from the list"
      : open.kind === "direct"
      ? "Direct messages"
      : open === this.#here
      ? `${this.#members.length} here now`
      : "You are not in it";
    document.title = open ? `${conversationTitle(open)} · Claptrap` : "Claptrap";
  }

  // ---- members -----------------------------------------------------------

  async #refreshMembers(): Promise<void> {
    const room = this.#room;
    if (room === null) return;
    const members = await this.#ask((client) => client.members());
    if (members === null || members instanceof ChatError || room !== this.#room) return;
    this.#members = members;
    this.#renderMembers();
  }

  /**
   * Who is here (online, in the room) and who wrote in what is shown but
   * is not here now; in a direct conversation, its two people. A name
   * other than one's own opens the direct conversation with that user.
   * Other actions on a member (kick, ban) belong in
   * {@link App.#memberActions}.
   */
  #renderMembers(): void {
    const me = this.#credentials?.user;
    const open = this.#shown;
    const direct = open?.kind === "direct";
    const members = direct ? [me ?? "", open.name] : open === this.#here ? this.#members : [];
    const here = [...members].sort((a, b) => a === me ? -1 : b === me ? 1 : a.localeCompare(b));
    const writers = open ? open.timeline.messages().map((m) => m.from) : [];
    const away = [...new Set(writers)]
      .filter((name) => !members.includes(name))
      .sort((a, b) => a.localeCompare(b));
    const item = (name: string, presence: "here" | "away" | "person") => {
      const colour = `member-name colour-${colourIndex(name)}`;
      let label: HTMLElement = h("span", { class: colour }, name);
      if (name !== me) {
        label = h("button", {
          type: "button",
          class: `${colour} link-name`,
          title: `Message ${name}`,
        }, name);
        label.addEventListener("click", () => this.#openDirect(name));
      }
      return h(
        "li",
        { class: `member ${presence}` },
        h("span", { class: "presence", "aria-hidden": "true" }),
        label,
        name === me ? h("span", { class: "you" }, " (you)") : null,
        presence === "person"
          ? null
          : h("span", { class: "visually-hidden" }, presence === "here" ? ", here" : ", not here"),
        ...this.#memberActions(name),
      );
    };
    const children: Node[] = here.map((name) => item(name, direct ? "person" : "here"));
    if (away.length > 0) {
      children.push(h("li", { class: "member-heading", role: "presentation" }, "Not here now"));
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
  #memberActions(_name: string): Node[] {
    return [];
  }

  // ---- direct conversations ----------------------------------------------

  /** The users one has direct conversations with, as the server lists them. */
  async #loadDirects(): Promise<void> {
    const partners = await this.#ask((client) => client.directPartners());
    if (partners === null || partners instanceof ChatError) return;
    this.#conversations.append("direct", partners);
    this.#renderDirects();
  }

  /** Opens the direct conversation with a user, new or not. */
  #openDirect(user: string, at?: number): Promise<ChatError | null> {
    const conversation = this.#conversations.get("direct", user);
    return this.#openConversation(conversation, at);
  }

  /** The "new message" form: opens the conversation with the user named, if there is one. */
  async #startDirect(): Promise<void> {
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
      if (this.#shown === conversation) this.#show(this.#here);
      this.#renderDirects();
    }
  }

  #renderDirects(): void {
    this.#el.directList.replaceChildren(
      ...this.#conversations.list("direct").map((conversation) => {
        const open = conversation === this.#shown;
        const unread = conversation.unread;
        const button = h(
          "button",
          {
            type: "button",
            class: `conversation${open ? " current" : ""}${unread > 0 ? " unread" : ""}`,
            "aria-current": open ? "true" : undefined,
          },
          h("span", { class: "room-hash", "aria-hidden": "true" }, "@"),
          h("span", { class: "room-name" }, conversation.name),
          unread > 0
            ? h(
              "span",
              { class: "unread-count" },
              String(unread),
              h("span", { class: "visually-hidden" }, " unread"),
            )
            : null,
        );
        button.addEventListener("click", () => this.#openConversation(conversation));
        return h("li", {}, button);
      }),
    );
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
  async #fetchPage(
    conversation: Conversation,
    page: { before?: number; after?: number; limit?: number },
  ): Promise<"added" | ChatError | null> {
    const direct = conversation.kind === "direct";
    if (!direct && conversation !== this.#here) return null;
    const generation = conversation.generation;
    const fetched = await this.#ask((client) =>
      client.history({
        limit: page.limit ?? PAGE,
        before: page.before,
        after: page.after,
        with: direct ? conversation.name : undefined,
      })
    );
    if (fetched === null || conversation.generation !== generation) return null;
    if (fetched instanceof ChatError) return direct ? fetched : null;
    // a room's page answers for the room the session was in when it was asked
    if (!direct && fetched.room !== conversation.name) return null;
    const edges = page.after !== undefined
      ? { newer: fetched.more }
      : page.before !== undefined
      ? { older: fetched.more }
      : { older: fetched.more, newer: false };
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
  async #catchUp(conversation: Conversation, toEnd: boolean): Promise<ChatError | null> {
    const stay = conversation.reading && conversation.timeline.size > 0 &&
      !conversation.pending.some((pending) => pending.state === "unconfirmed");
    conversation.hold();
    if (stay) return null;
    for (let page = 0; conversation.behind && page < GAP_PAGES; page++) {
      const fetched = await this.#fetchPage(
        conversation,
        conversation.timeline.size === 0
          ? {}
          : { after: conversation.timeline.newestId, limit: GAP_PAGE },
      );
      if (fetched !== "added") return fetched;
    }
    if (conversation.behind) conversation.reading = true; // too far behind: read on from here
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
  async #openAt(conversation: Conversation, id: number): Promise<ChatError | null> {
    conversation.restart();
    conversation.reading = true;
    conversation.highlight = id;
    this.#renderMessages();
    const fetched = await this.#fetchPage(conversation, { before: id + 1 });
    if (fetched !== "added") return fetched;
    if (conversation !== this.#shown) return null;
    this.#el.messageList.querySelector(`[data-id="${id}"]`)?.scrollIntoView({ block: "center" });
    this.#loadNewerAtEnd();
    return null;
  }

  /**
   * When the reader reached the end of what is shown of a conversation they
   * read from a past message, its next page.
   */
  async #loadNewerAtEnd(): Promise<void> {
    const conversation = this.#shown;
    if (
      !conversation?.reading || !conversation.synced || conversation.timeline.size === 0 ||
      this.#loadingNewer || !this.#atEnd()
    ) return;
    this.#loadingNewer = true;
    const fetched = await this.#fetchPage(conversation, { after: conversation.timeline.newestId });
    this.#loadingNewer = false;
    this.#renderHistoryEdge();
    if (fetched === "added") this.#loadNewerAtEnd();
  }

  /** Leaves the past: the conversation's newest messages, live. */
  #jumpToNewest(): void {
    const conversation = this.#shown;
    if (!conversation) return;
    conversation.restart();
    conversation.reading = false;
    conversation.highlight = null;
    this.#renderMessages();
    this.#catchUp(conversation, true);
  }

  async #loadOlder(): Promise<void> {
    const conversation = this.#shown;
    const oldest = conversation?.timeline.oldestId;
    if (!conversation?.synced || !conversation.older || this.#loadingOlder || oldest == null) {
      return;
    }
    this.#loadingOlder = true;
    this.#el.loadOlder.textContent = "Loading…";
    await this.#fetchPage(conversation, { before: oldest });
    this.#loadingOlder = false;
    this.#el.loadOlder.textContent = "Load older messages";
    this.#renderHistoryEdge();
  }

  /**
   * Changes a conversation's timeline and shows the change if it is open:
   * newer messages appended (followed when the reader was at the newest
   * message), anything else re-rendered with the reader kept in place.
   */
  #apply(conversation: Conversation, change: () => AddResult | null): void {
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

  #addNotice(conversation: Conversation, text: string, time = new Date().toISOString()): void {
    const notice = conversation.timeline.addNotice(text, time);
    if (conversation !== this.#shown) return;
    const follow = conversation.live && this.#atEnd();
    this.#el.messageList.append(this.#noticeNode(notice.text, notice.time));
    this.#el.emptyRoom.hidden = true;
    if (follow) this.#scrollToBottom();
  }

  #renderMessages(): void {
    this.#lastRendered = null;
    const nodes: Node[] = [];
    let previous: Entry | null = null;
    for (const entry of this.#shown?.timeline.entries() ?? []) {
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
    const highlight = message.id === this.#shown?.highlight;
    const time = h(
      "time",
      { datetime: message.time, title: fullTime(message.time) },
      clockTime(message.time),
    );
    nodes.push(h(
      "li",
      {
        class: `message${continued ? " continued" : ""}${mine ? " mine" : ""}${
          highlight ? " highlight" : ""
        }`,
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
    const open = this.#shown;
    const size = open?.timeline.size ?? 0;
    el.loadOlder.hidden = !open?.older;
    el.historyStart.hidden = !open || open.older || size === 0;
    el.historyStart.textContent = !open
      ? ""
      : open.kind === "direct"
      ? `This is the beginning of your conversation with ${open.name}.`
      : `This is the beginning of ${open.kind === "group" ? "the peer chat" : `#${open.name}`}.`;
    el.emptyRoom.hidden = !open || size > 0 || el.messageList.childElementCount > 0;
    el.emptyRoom.textContent = open ? "No messages yet. Say hello!" : "";
    el.jumpNewest.hidden = !open?.reading;
  }

  /** Whether the view shows the end of what is loaded. */
  #atEnd(): boolean {
    return atEnd(this.#el.messages);
  }

  #scrollToBottom(): void {
    const box = this.#el.messages;
    box.scrollTop = box.scrollHeight;
  }

  /** Where the reader is: at the newest message, or at a message of the list. */
  #readerPlace(): Anchor | "end" | null {
    return this.#shown?.live && this.#atEnd() ? "end" : this.#anchor();
  }

  /** The first message the reader sees, and where. */
  #anchor(): Anchor | null {
    const items: Placed[] = [];
    for (const node of this.#el.messageList.querySelectorAll<HTMLElement>(".message")) {
      items.push({
        id: Number(node.dataset.id),
        top: node.offsetTop,
        bottom: node.offsetTop + node.offsetHeight,
      });
    }
    return anchorAt(items, this.#el.messages.scrollTop);
  }

  /** Scrolls back to where an anchor was. */
  #restorePlace(place: Anchor): void {
    const node = this.#el.messageList.querySelector<HTMLElement>(`[data-id="${place.id}"]`);
    const top = scrollTopFor(place, node?.offsetTop);
    if (top !== null) this.#el.messages.scrollTop = top;
  }

  // ---- sending -------------------------------------------------------------

  /** Whether messages can be written in the conversation shown. */
  #canWrite(): boolean {
    const open = this.#shown;
    return open !== null && (open.kind === "direct" || open === this.#here);
  }

  #renderComposer(): void {
    const el = this.#el;
    const open = this.#shown;
    const ready = this.#canWrite();
    el.input.disabled = !ready;
    el.sendButton.disabled = !ready;
    el.input.placeholder = !ready || !open
      ? "Join a room to write"
      : `Message ${
        open.kind === "direct"
          ? open.name
          : open.kind === "group"
          ? "the peer chat"
          : `#${open.name}`
      } (Enter sends, Shift+Enter: new line)`;
  }

  #fitInput(): void {
    const input = this.#el.input;
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 200)}px`;
  }

  /** Sends what is typed; while disconnected, queues it to be sent when the connection is back. */
  #send(): void {
    const el = this.#el;
    const content = el.input.value;
    const conversation = this.#shown;
    if (content.trim() === "" || !conversation || !this.#canWrite()) return;
    el.input.value = "";
    this.#fitInput();
    const pending: PendingSend = { content, state: "queued", afterId: 0 };
    conversation.pending.push(pending);
    if (this.#client) {
      el.composerError.textContent = "";
      this.#deliver(conversation, pending);
    } else {
      el.composerError.textContent =
        "Not connected: your message will be sent when the connection is back.";
      this.#renderPending();
      this.#scrollToBottom();
    }
  }

  /** Sends each message that was typed while disconnected, once. */
  #sendQueued(): void {
    for (const conversation of this.#conversations.list()) {
      for (const pending of conversation.pending) {
        if (pending.state === "queued") this.#deliver(conversation, pending);
      }
    }
  }

  /** Sends a message to its conversation: a room's SEND_MSG, or a DM to the other user. */
  async #deliver(conversation: Conversation, pending: PendingSend): Promise<void> {
    if (!this.#client) return;
    pending.state = "sending";
    pending.afterId = conversation.timeline.newestId;
    if (conversation === this.#shown) {
      if (conversation.reading) this.#jumpToNewest(); // writing goes back to the newest messages
      this.#renderPending();
      this.#scrollToBottom();
    }
    const sent = await this.#ask((client) =>
      conversation.kind === "direct"
        ? client.dm(conversation.name, pending.content)
        : client.send(pending.content)
    );
    if (sent === null) return; // unconfirmed: settled after the reconnection
    if (sent instanceof ChatError) {
      pending.state = "failed";
      pending.error = describe(sent);
    } else {
      conversation.pending = conversation.pending.filter((p) => p !== pending);
      if (conversation.kind === "direct") this.#conversations.touch(conversation);
      this.#apply(conversation, () =>
        conversation.receive({
          id: sent.id,
          from: this.#credentials!.user,
          time: sent.time,
          content: pending.content,
        }));
      this.#renderDirects();
    }
    if (conversation === this.#shown) {
      this.#renderPending();
      if (!(sent instanceof ChatError)) this.#scrollToBottom();
    }
  }

  #renderPending(): void {
    const conversation = this.#shown;
    this.#el.pendingList.replaceChildren(...(conversation?.pending ?? []).map((pending) => {
      const label = pending.state === "sending"
        ? "Sending…"
        : pending.state === "queued"
        ? "Will be sent when the connection is back"
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
          conversation!.pending = conversation!.pending.filter((p) => p !== pending);
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

/** `# lobby`, `@ bob` or `Peer chat`: what a conversation is called in titles. */
function conversationTitle(conversation: Conversation): string {
  return conversation.kind === "direct"
    ? `@ ${conversation.name}`
    : conversation.kind === "group"
    ? "Peer chat"
    : `# ${conversation.name}`;
}
