/**
 * The page's controller: signing in (and staying signed in with a token),
 * the rooms, peer chats and direct conversations one is in with their
 * unread and mention counts, members, messages, notifications, and
 * reconnecting after a dropped connection without losing or repeating a
 * message, all through the client library's ChatClient speaking protocol
 * 2.1 over a WebSocket. Every piece of user text goes into the page as text.
 * @module
 */

import { ChatClient, ChatError, type RoomState } from "../../client/chat_client.ts";
import type { ChatEvent } from "../../client/chat_event.ts";
import { mentionsUser } from "../../client/mention.ts";
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
/** How often the room list (member, unread and mention counts) is refreshed, in ms. */
const ROOMS_REFRESH_MS = 15_000;
/** Where the page keeps the signed-in user and their sign-in token (localStorage). */
const SESSION_KEY = "claptrap.session";
/** Where the page keeps whether to notify (localStorage): `on` or absent. */
const NOTIFY_KEY = "claptrap.notify";
/** Most LIST_ROOMS pages (of up to 1,000 rooms) the room list shows. */
const ROOM_PAGES = 10;

/** A refusal (ChatError) or the end of the connection, as expected while chatting; else rethrown. */
function expected(error: unknown): ChatError | ConnectionClosedError {
  if (error instanceof ChatError || error instanceof ConnectionClosedError) return error;
  throw error;
}

type ConnectionState = "signed-out" | "connecting" | "online" | "reconnecting";

/** Who is signed in, and the token that signs them in again (kept across reloads). */
interface SignedIn {
  user: string;
  token: string;
}

/** The saved sign-in, if any. */
function savedSession(): SignedIn | null {
  try {
    const saved = JSON.parse(localStorage.getItem(SESSION_KEY) ?? "null");
    return typeof saved?.user === "string" && typeof saved?.token === "string" ? saved : null;
  } catch {
    return null;
  }
}

/** The web client. */
export class App {
  #client: ChatClient | null = null;
  #credentials: SignedIn | null = null;
  #state: ConnectionState = "signed-out";
  #registering = false;
  /** One reconnection at a time, the backoff saying how long till the next try. */
  readonly #reconnector = new Reconnector({
    waiting: (ms) => this.#setState("reconnecting", `Reconnecting in ${Math.ceil(ms / 1000)} s…`),
  });
  #roomsTimer: ReturnType<typeof setInterval> | undefined;

  /** Every room (the directory), with whether the user is in it and what they have not read. */
  #rooms: RoomState[] = [];
  /** The room of the sidebar's list that the keyboard is on. */
  #activeRoom = 0;
  /** Public rooms and peer chats one is in, direct conversations one has. */
  #conversations = new Conversations();
  /** Who belongs to the room or peer chat shown, and whether each is online. */
  #members: { name: string; online: boolean }[] = [];
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
    logoutEverywhere: byId<HTMLButtonElement>("logout-everywhere"),
    leaveRoom: byId<HTMLButtonElement>("leave-room"),
    notifyToggle: byId<HTMLInputElement>("notify-toggle"),
    directory: byId<HTMLDetailsElement>("directory"),
    directoryList: byId<HTMLUListElement>("directory-list"),
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
    el.logoutEverywhere.addEventListener("click", () => this.#signOut({ everywhere: true }));
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
    const saved = savedSession();
    el.loginUser.value = saved?.user ?? localStorage.getItem("claptrap.user") ?? "";
    if (saved) this.#resume(saved);
    else this.#showLogin("");
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
    let token: string | undefined;
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
    await this.#begin(client, { user, token: token ?? "" });
  }

  /** Signs in again with the saved token (a reload); on a refusal, asks to sign in. */
  async #resume(saved: SignedIn): Promise<void> {
    this.#state = "connecting";
    this.#setState("connecting", "Signing in…");
    let client: ChatClient | null = null;
    try {
      client = await this.#open();
      await client.resume(saved.user, saved.token);
    } catch (error) {
      client?.close();
      this.#state = "signed-out";
      this.#setState("signed-out");
      if (error instanceof ChatError) localStorage.removeItem(SESSION_KEY);
      this.#showLogin(
        error instanceof ChatError && error.status === "AUTH_FAILED"
          ? "Your sign-in has expired or was revoked; sign in again."
          : failureText(error),
      );
      return;
    }
    await this.#begin(client, saved);
  }

  /** Signed in: keeps the token for the next visit and shows the rooms. */
  async #begin(client: ChatClient, session: SignedIn): Promise<void> {
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
    const room = last ? this.#conversations.find("room", last) : undefined;
    if (room) await this.#openConversation(room);
    else el.roomList.focus();
  }

  /**
   * Connects to the page's server; its events are shown until the page
   * signs out, and its end, while it is the page's connection, starts a
   * reconnection.
   */
  async #open(): Promise<ChatClient> {
    const client = await ChatClient.connect(webSocket(webSocketUrl(location)), { v21: true });
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

  /**
   * Signs out (`everywhere`: on every device, every saved sign-in revoked)
   * and forgets the saved token.
   */
  async #signOut(options: { everywhere?: boolean } = {}): Promise<void> {
    const client = this.#client;
    this.#client = null;
    this.#state = "signed-out";
    this.#reconnector.stop();
    clearInterval(this.#roomsTimer);
    localStorage.removeItem(SESSION_KEY);
    if (client) {
      await client.logout(options).catch(() => {});
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
   * One try at getting back: signs in again with the token (the rooms one
   * is in come back with it), and fetches what was posted while away in
   * the conversations that need it (the one shown, those with messages
   * whose sending is unsettled): history pages forwards from the newest
   * message held, merged by id, so nothing is lost, nothing appears twice
   * and the reader stays where they were. Then sends what was typed while
   * disconnected. Other conversations catch up when opened.
   */
  async #reconnect(): Promise<TryOutcome> {
    const credentials = this.#credentials;
    if (!credentials || this.#state !== "reconnecting") return "stop";
    this.#setState("reconnecting", "Reconnecting…");
    let client: ChatClient | null = null;
    try {
      client = await this.#open();
      await client.resume(credentials.user, credentials.token);
      if (this.#state !== "reconnecting") {
        client.close(); // signed out meanwhile
        return "stop";
      }
      this.#client = client;
      await this.#refreshStates();
      if (this.#shown && this.#shown.kind !== "direct") this.#refreshMembers();
      for (const conversation of this.#conversations.list()) {
        const shown = conversation === this.#shown;
        if (!shown && conversation.pending.length === 0) continue;
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
      this.#showLogin(
        "Signed out: your sign-in was revoked (signed out everywhere, or a new password).",
      );
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
  #settlePending(conversation: Conversation, refusal: string | null): void {
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
    const me = this.#credentials?.user;
    switch (event.type) {
      case "message": {
        const conversation = this.#conversations.find(event.kind ?? "room", event.room);
        if (conversation) this.#receive(conversation, event);
        else this.#refreshStates(); // a place joined on another device, told of next
        break;
      }
      case "dm": {
        const conversation = this.#conversations.get(
          "direct",
          event.from === me ? event.to : event.from,
        );
        this.#conversations.touch(conversation);
        this.#receive(conversation, event);
        break;
      }
      case "join": {
        const kind = event.kind ?? "room";
        let conversation = this.#conversations.find(kind, event.room);
        if (event.user === me) {
          // joined on another device
          if (!conversation) this.#placeJoined(kind, event.room);
          break;
        }
        if (!conversation && kind === "group") {
          // another user started a peer chat with us: it is one of our places now
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
        this.#loseRoom(
          conversation,
          `You were ${event.banned ? "banned" : "removed"} from ${event.room} by ${event.by}${
            event.reason ? `: ${event.reason}` : ""
          }`,
          event.time,
        );
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
        // read on another device
        const conversation = event.with !== undefined
          ? this.#conversations.find("direct", event.with)
          : this.#conversations.find(event.kind ?? "room", event.room ?? "");
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
        break; // asking to join peer chats is not offered by this page yet
    }
  }

  /**
   * A message that arrived live in a conversation: shown when it is open;
   * read at once when open in a visible page, else counted as unread (and
   * notified when it is a mention or a direct message). One's own message,
   * from another device, marks the conversation read (the server did).
   */
  #receive(conversation: Conversation, message: ChatMessage): void {
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
  #reading(conversation: Conversation): boolean {
    return conversation === this.#shown && document.visibilityState === "visible";
  }

  /**
   * Tells the server the user read a conversation up to `id` (default: its
   * newest message held), which their other devices hear of; clears its
   * badges.
   */
  #markRead(conversation: Conversation, id = conversation.timeline.newestId): void {
    this.#clearCounts(conversation);
    if (id <= conversation.markedRead) return;
    conversation.markedRead = id;
    const place = conversation.kind === "direct"
      ? { with: conversation.name }
      : { room: conversation.name };
    this.#ask((client) => client.markRead(id, place));
  }

  #clearCounts(conversation: Conversation): void {
    if (conversation.unread === 0 && conversation.mentions === 0) return;
    conversation.unread = 0;
    conversation.mentions = 0;
    this.#renderCounts();
  }

  /** The page became visible or hidden: what is open is read once it is seen. */
  #onVisible(): void {
    const shown = this.#shown;
    if (shown && this.#reading(shown) && shown.synced) this.#markRead(shown);
  }

  /** Turns desktop notifications on (asking the browser's permission) or off. */
  async #setNotify(on: boolean): Promise<void> {
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
  #notify(conversation: Conversation, message: ChatMessage): void {
    if (
      document.visibilityState !== "hidden" || localStorage.getItem(NOTIFY_KEY) !== "on" ||
      typeof Notification === "undefined" || Notification.permission !== "granted"
    ) return;
    const where = conversation.kind === "direct" ? "" : ` in ${conversationTitle(conversation)}`;
    const notification = new Notification(`${message.from}${where}`, {
      body: message.content.slice(0, 200),
      tag: `${conversation.kind}:${conversation.name}`,
    });
    notification.onclick = () => {
      globalThis.focus();
      this.#openConversation(conversation);
      notification.close();
    };
  }

  #showNotice(text: string): void {
    const notice = this.#el.notice;
    notice.textContent = text;
    notice.hidden = false;
    clearTimeout(Number(notice.dataset.timer));
    notice.dataset.timer = String(setTimeout(() => notice.hidden = true, 15_000));
  }

  // ---- rooms -----------------------------------------------------------

  /**
   * Asks the server for every room (with whether the user is in it) and
   * the peer chats and direct conversations the user has, with what they
   * have not read in each, and shows them.
   */
  async #refreshStates(): Promise<void> {
    const states = await this.#ask((client) =>
      Promise.all([
        client.roomStates({ maxPages: ROOM_PAGES }),
        client.peerChatStates(),
        client.directStates(),
      ])
    );
    if (states === null || states instanceof ChatError) return;
    const [rooms, groups, directs] = states;
    const active = this.#sidebarRooms()[this.#activeRoom]?.name;
    this.#rooms = rooms;
    const places = [
      ...rooms.filter((room) => room.joined).map((room) => ({ kind: "room" as const, ...room })),
      ...groups.map((group) => ({ kind: "group" as const, ...group })),
    ];
    for (const kind of ["room", "group"] as const) {
      for (const conversation of this.#conversations.list(kind)) {
        if (!places.some((place) => place.kind === kind && place.name === conversation.name)) {
          this.#loseRoom(conversation, `You are no longer in ${conversation.name}.`);
        }
      }
    }
    this.#conversations.append("direct", directs.map((direct) => direct.name));
    for (
      const { kind, name, unread, mentions } of [
        ...places,
        ...directs.map((d) => ({ kind: "direct" as const, ...d })),
      ]
    ) {
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
  #placeJoined(kind: "room" | "group", name: string): Conversation {
    const conversation = this.#conversations.get(kind, name);
    this.#renderRooms();
    this.#refreshStates();
    return conversation;
  }

  /** The sidebar's rooms: the public rooms one is in, in the directory's order, then peer chats. */
  #sidebarRooms(): Conversation[] {
    const order = new Map(this.#rooms.map((room, i) => [room.name, i]));
    const rooms = this.#conversations.list("room")
      .sort((a, b) => (order.get(a.name) ?? Infinity) - (order.get(b.name) ?? Infinity));
    return [...rooms, ...this.#conversations.list("group")];
  }

  /** Every badge: the sidebar's rooms, the direct conversations, the tab's title. */
  #renderCounts(): void {
    this.#renderRooms();
    this.#renderDirects();
    this.#renderHeader();
  }

  #renderRooms(): void {
    const list = this.#el.roomList;
    const rooms = this.#sidebarRooms();
    this.#activeRoom = Math.min(this.#activeRoom, Math.max(0, rooms.length - 1));
    list.replaceChildren(...rooms.map((room, i) => {
      const current = room === this.#shown;
      const item = h(
        "li",
        {
          id: `room-${i}`,
          role: "option",
          class: `room${current ? " current" : ""}${i === this.#activeRoom ? " active" : ""}${
            room.unread > 0 ? " unread" : ""
          }`,
          "aria-selected": i === this.#activeRoom ? "true" : "false",
          title: `${room.kind === "group" ? "Peer chat" : room.name}: click or press Enter to open`,
        },
        h("span", { class: "room-hash", "aria-hidden": "true" }, room.kind === "group" ? "⁂" : "#"),
        h("span", { class: "room-name" }, room.kind === "group" ? "Peer chat" : room.name),
        current ? h("span", { class: "visually-hidden" }, " (open)") : null,
        ...badges(room),
      );
      item.addEventListener("click", () => {
        this.#activeRoom = i;
        this.#openConversation(room);
      });
      return item;
    }));
    if (rooms.length > 0) {
      list.setAttribute("aria-activedescendant", `room-${this.#activeRoom}`);
      list.querySelector(".active")?.scrollIntoView({ block: "nearest" });
    } else {
      list.removeAttribute("aria-activedescendant");
    }
  }

  /** Every room, with how many are in it: where one finds rooms to join. */
  #renderDirectory(): void {
    const el = this.#el;
    el.directoryList.replaceChildren(...this.#rooms.map((room) => {
      const button = h(
        "button",
        {
          type: "button",
          class: `directory-room${room.joined ? " joined" : ""}`,
          title: room.joined ? `Open ${room.name}` : `Join ${room.name}`,
        },
        h("span", { class: "room-hash", "aria-hidden": "true" }, "#"),
        h("span", { class: "room-name" }, room.name),
        room.joined ? h("span", { class: "joined-mark" }, "✓", hidden(" (you are in it)")) : null,
        h(
          "span",
          { class: "room-count", title: `${room.members} online in ${room.name}` },
          String(room.members),
          hidden(room.members === 1 ? " member" : " members"),
        ),
      );
      button.addEventListener("click", () => this.#join(room.name));
      return h("li", {}, button);
    }));
    // someone new is in no room yet: the directory is where they start
    if (this.#conversations.list("room").length === 0 && this.#rooms.length > 0) {
      el.directory.open = true;
    }
  }

  #roomListKey(event: KeyboardEvent): void {
    const rooms = this.#sidebarRooms();
    const count = rooms.length;
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
      this.#openConversation(rooms[this.#activeRoom]);
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
      await this.#join(name.normalize("NFC"));
    }
  }

  /**
   * Opens a public room: joins it (JOIN_ROOM, beside the others) unless the
   * user is in it, and shows its newest messages, or with `at` the page
   * ending at that message.
   */
  async #join(name: string, at?: number): Promise<void> {
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
  async #leave(): Promise<void> {
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
  #loseRoom(conversation: Conversation, why: string, time?: string): void {
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
  async #openConversation(conversation: Conversation, at?: number): Promise<ChatError | null> {
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
    const refused = at !== undefined
      ? await this.#openAt(conversation, at)
      : conversation.synced
      ? null
      : await this.#catchUp(conversation, true);
    if (this.#reading(conversation) && conversation.timeline.size > 0) {
      this.#markRead(conversation);
    }
    return refused;
  }

  /** Makes a conversation the one shown, where the reader left it. */
  #show(conversation: Conversation | null): void {
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

  #renderHeader(): void {
    const el = this.#el;
    const open = this.#shown;
    el.roomTitle.textContent = open ? conversationTitle(open) : "No room";
    const online = this.#members.filter((member) => member.online).length;
    el.roomInfo.textContent = !open
      ? "Pick a room from the list"
      : open.kind === "direct"
      ? "Direct messages"
      : this.#canWriteIn(open)
      ? `${online} online`
      : "You are not in it";
    el.leaveRoom.hidden = !open || open.kind === "direct" || !this.#canWriteIn(open);
    const unread = this.#conversations.list()
      .reduce((sum, conversation) => sum + conversation.unread, 0);
    const title = open ? `${conversationTitle(open)} · Claptrap` : "Claptrap";
    document.title = unread > 0 ? `(${unread}) ${title}` : title;
  }

  // ---- members -----------------------------------------------------------

  async #refreshMembers(): Promise<void> {
    const open = this.#shown;
    if (!open || open.kind === "direct" || !this.#canWriteIn(open)) return;
    const members = await this.#ask((client) => client.memberStates({ room: open.name }));
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
  #renderMembers(): void {
    const me = this.#credentials?.user;
    const open = this.#shown;
    const direct = open?.kind === "direct";
    const members = direct
      ? [{ name: me ?? "", online: true }, { name: open.name, online: true }]
      : this.#members;
    const names = members.map((member) => member.name);
    const byName = (a: string, b: string) => a === me ? -1 : b === me ? 1 : a.localeCompare(b);
    const here = members.filter((m) => m.online).map((m) => m.name).sort(byName);
    const writers = open ? open.timeline.messages().map((m) => m.from) : [];
    const away = [
      ...members.filter((m) => !m.online).map((m) => m.name),
      ...new Set(writers.filter((name) => !names.includes(name))),
    ].sort(byName);
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
        presence === "person" ? null : hidden(presence === "here" ? ", online" : ", away"),
        ...this.#memberActions(name),
      );
    };
    const children: Node[] = here.map((name) => item(name, direct ? "person" : "here"));
    if (away.length > 0) {
      children.push(h("li", { class: "member-heading", role: "presentation" }, "Away"));
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
  #memberActions(_name: string): Node[] {
    return [];
  }

  // ---- direct conversations ----------------------------------------------

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
      if (this.#shown === conversation) this.#show(null);
      this.#renderDirects();
    }
  }

  #renderDirects(): void {
    this.#el.directList.replaceChildren(
      ...this.#conversations.list("direct").map((conversation) => {
        const open = conversation === this.#shown;
        const button = h(
          "button",
          {
            type: "button",
            class: `conversation${open ? " current" : ""}${
              conversation.unread > 0 ? " unread" : ""
            }`,
            "aria-current": open ? "true" : undefined,
          },
          h("span", { class: "room-hash", "aria-hidden": "true" }, "@"),
          h("span", { class: "room-name" }, conversation.name),
          ...badges(conversation),
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
    if (!this.#canWriteIn(conversation)) return null;
    const generation = conversation.generation;
    const fetched = await this.#ask((client) =>
      client.history({
        limit: page.limit ?? PAGE,
        before: page.before,
        after: page.after,
        ...direct ? { with: conversation.name } : { room: conversation.name },
      })
    );
    if (fetched === null || conversation.generation !== generation) return null;
    if (fetched instanceof ChatError) return direct ? fetched : null;
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
    if (result.added.some((m) => !this.#members.some((member) => member.name === m.from))) {
      this.#renderMembers();
    }
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
    const me = this.#credentials?.user ?? "";
    const mine = message.from === me;
    const mention = !mine && mentionsUser(message.content, me, message.mentions);
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
          mention ? " mention" : ""
        }${highlight ? " highlight" : ""}`,
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
    return this.#shown !== null && this.#canWriteIn(this.#shown);
  }

  /** Whether the user is in a conversation: a direct one, or a room or peer chat in the sidebar. */
  #canWriteIn(conversation: Conversation): boolean {
    return conversation.kind === "direct" ||
      this.#conversations.find(conversation.kind, conversation.name) === conversation;
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
        : client.send(pending.content, { room: conversation.name })
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

/** Text for screen readers only. */
function hidden(text: string): HTMLElement {
  return h("span", { class: "visually-hidden" }, text);
}

/** A conversation's badges: how many messages are unread, and how many of them mention the user. */
function badges(conversation: Conversation): Node[] {
  const nodes: Node[] = [];
  if (conversation.mentions > 0) {
    nodes.push(h(
      "span",
      { class: "mention-count", title: "Messages that mention you" },
      `@${conversation.mentions}`,
      hidden(conversation.mentions === 1 ? " mention" : " mentions"),
    ));
  }
  if (conversation.unread > 0) {
    nodes.push(h(
      "span",
      { class: "unread-count" },
      String(conversation.unread),
      hidden(" unread"),
    ));
  }
  return nodes;
}

/** What the sign-in form says when signing in failed. */
function failureText(error: unknown): string {
  return error instanceof ChatError
    ? describe(error)
    : error instanceof ConnectionClosedError
    ? `Cannot reach the server: ${error.reason}`
    : (error as Error).message;
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
