/**
 * The terminal client's user interface, apart from the screen: what a typed
 * line does, how messages, notices and errors are shown, and the key
 * handling of the password prompt. Output goes through a line writer, input
 * comes in as strings or bytes, so all of it runs in tests without a TTY.
 * @module
 */

import { codePointName } from "../../protocol/message_text.ts";
import { Status } from "../../protocol/methods.ts";
import { splitSnippet } from "../../protocol/search_text.ts";
import { Reconnector } from "../reconnector.ts";
import {
  type ChatClient,
  ChatError,
  type HistoryMessage,
  type RoomInfo,
  type RoomState,
  type WhoEntry,
} from "../chat_client.ts";
import type { ChatEvent } from "../chat_event.ts";
import { mentionsUser } from "../mention.ts";
import {
  type CommandName,
  helpLines,
  parseInput,
  splitName,
  type Whereabouts,
} from "./commands.ts";

/** Receives one line of output, without its line break. */
export type LineWriter = (line: string) => void;

/** Settings of a {@link ChatTerminal}. */
export interface TerminalOptions {
  /** The logged-in user: messages from this name are one's own. */
  user: string;
  /** Whether to colour the output with ANSI escapes. Default false. */
  color?: boolean;
  /**
   * Poll the room for messages every this many milliseconds; for a client
   * logged in with push off. Default 0: no polling.
   */
  pollMs?: number;
  /**
   * How to connect again when the connection is lost (say, the server
   * restarts). Default none: the session ends with the connection.
   */
  reconnect?: Reconnection;
  /** Ring the terminal bell (BEL) when a message mentions the user. Default false. */
  bell?: boolean;
}

/**
 * Connecting again after the connection was lost. The terminal keeps the
 * room (joins it again and shows what was said meanwhile) and the direct
 * conversation; lines typed meanwhile wait and are sent once connected.
 */
export interface Reconnection {
  /**
   * Opens a new connection (which says HELLO for itself) and logs in again.
   * Throwing ChatError AUTH_FAILED or VERSION_MISMATCH ends the session;
   * any other failure (the server is not back yet) is tried again.
   */
  open(): Promise<ChatClient>;
  /** How long to wait before attempt `attempt` (from 0), in ms. */
  delayMs(attempt: number): number;
  /** Attempts before giving up. Default: no end. */
  attempts?: number;
}

/** Reasons for the end of a connection that connecting again would fight. */
const FINAL_CLOSE = /^(kicked by the operator|logged in from elsewhere)/;

/** Messages of a room's history shown on joining it. */
const JOIN_CONTEXT = 10;
/** Messages `/history` shows when given no number. */
const HISTORY_PAGE = 20;
/** Most messages one `/history` may ask for (the server's maximum). */
const HISTORY_MAX = 500;
/** Messages per page, and most pages, of what a room said while the connection was down. */
const CATCH_UP = { page: 100, pages: 50 };
/** Most times one message is sent while the server answers RATE_LIMITED. */
const SEND_ATTEMPTS = 10;
/** Longest Retry-After-Ms worth waiting for before sending a message again. */
const MAX_RETRY_WAIT_MS = 30_000;
/** Most unread messages shown on switching to a room (2.1); /history shows older ones. */
const UNREAD_SHOWN = 50;

const SGR = {
  bold: "1",
  dim: "2",
  red: "31",
  green: "32",
  yellow: "33",
  cyan: "36",
  highlight: "1;33",
} as const;

type Tone = keyof typeof SGR;

/**
 * Formats a server time (ISO 8601) as local `HH:MM:SS`; an unparsable time
 * gives `--:--:--`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatClock } from "./terminal.ts";
 * assert.ok(/^\d\d:\d\d:\d\d$/.test(formatClock("2026-11-23T09:10:32.123Z")));
 * assert.ok(formatClock("yesterday") === "--:--:--");
 * ```
 */
export function formatClock(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "--:--:--";
  return [date.getHours(), date.getMinutes(), date.getSeconds()]
    .map((n) => String(n).padStart(2, "0"))
    .join(":");
}

/**
 * Formats a server time (ISO 8601) as local `YYYY-MM-DD HH:MM:SS`; an
 * unparsable time gives `--:--:--`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDateTime } from "./terminal.ts";
 * assert.match(formatDateTime("2026-11-23T09:10:32.123Z"), /^2026-11-2\d \d\d:\d\d:32$/);
 * ```
 */
export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "--:--:--";
  const day = [date.getFullYear(), date.getMonth() + 1, date.getDate()]
    .map((n) => String(n).padStart(2, "0"))
    .join("-");
  return `${day} ${formatClock(iso)}`;
}

/**
 * Formats a server time (ISO 8601) as local `HH:MM:SS` when it is on the
 * same day as `now`, else as `YYYY-MM-DD HH:MM:SS`; for messages that may
 * be old (history, search results).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatStamp } from "./terminal.ts";
 * const time = "2026-11-23T09:10:32.123Z";
 * assert.ok(/^\d\d:\d\d:\d\d$/.test(formatStamp(time, new Date(time))));
 * assert.ok(/^2026-11-2\d \d\d:\d\d:\d\d$/.test(formatStamp(time, new Date("2027-01-01"))));
 * ```
 */
export function formatStamp(iso: string, now: Date = new Date()): string {
  const date = new Date(iso);
  const day = (d: Date) =>
    [d.getFullYear(), d.getMonth() + 1, d.getDate()].map((n) => String(n).padStart(2, "0"))
      .join("-");
  if (Number.isNaN(date.getTime()) || day(date) === day(now)) return formatClock(iso);
  return `${day(date)} ${formatClock(iso)}`;
}

/**
 * Makes names, reasons and other text from the network safe to print:
 * control characters (which could move the cursor or recolour the screen)
 * become `^X` or U+FFFD, and bidirectional controls and invisible
 * characters become visible as `<U+202E>`, so that a name shows what it
 * is. Tabs are kept; line breaks must have been split off before.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sanitize } from "./terminal.ts";
 * assert.equal(sanitize("\x1b[2Jbob\x07"), "^[[2Jbob^G");
 * assert.equal(sanitize("\u202egnp.exe"), "<U+202E>gnp.exe");
 * assert.equal(sanitize("b\u200bob"), "b<U+200B>ob");
 * ```
 */
export function sanitize(text: string): string {
  return text.replace(UNPRINTABLE, (c) => printable(c, false));
}

/**
 * {@link sanitize} for message text: the same, but zero-width joiners and
 * variation selectors stay, as emoji (👨‍👩‍👧) and some scripts need them.
 */
export function sanitizeText(text: string): string {
  return text.replace(UNPRINTABLE, (c) => printable(c, true));
}

/**
 * Control characters (but tab), the line and paragraph separators, and
 * characters that reorder the text around them (bidirectional controls) or
 * show nothing (default-ignorable code points: zero-width characters,
 * fillers, tags, …).
 */
const UNPRINTABLE =
  // deno-lint-ignore no-control-regex
  /[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\p{Bidi_Control}\p{Default_Ignorable_Code_Point}]/gu;

/** Of those, what message text keeps: joiners and variation selectors. */
const SHAPING = /^[\u200c\u200d\p{Variation_Selector}]$/u;

/** How an unprintable character is shown. */
function printable(c: string, text: boolean): string {
  const code = c.charCodeAt(0);
  if (code === 0x7f) return "^?";
  if (code < 0x20) return `^${String.fromCharCode(code + 0x40)}`;
  if (code < 0xa0) return "\uFFFD";
  return text && SHAPING.test(c) ? c : `<${codePointName(c)}>`;
}

/**
 * Splits message content into display lines: any line break (`\n`, `\r\n`,
 * `\r`) starts a new line; trailing line breaks are dropped; each line is
 * made safe with {@link sanitizeText}.
 */
export function displayLines(content: string): string[] {
  return content.replace(/[\r\n]+$/, "").split(/\r\n|\r|\n/).map(sanitizeText);
}

/** Text made safe to print on one line: line breaks become ` ↵ `. */
function oneLine(text: string, clean: (text: string) => string = sanitize): string {
  return clean(text.replace(/\r\n|\r|\n/g, " ↵ "));
}

/** `3 messages`, `1 message`. */
function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** What identifies a message that comes without an id (polled with RECV_MSG). */
function messageKey(message: { from: string; time: string; content: string }): string {
  return `${message.from}\t${message.time}\t${message.content}`;
}

/** What the user has not read in a room (2.1). */
interface Unread {
  unread: number;
  mentions: number;
}

/** `2 members`, `1 member`, `empty`. */
function memberCount(n: number): string {
  if (n === 0) return "empty";
  return n === 1 ? "1 member" : `${n} members`;
}

/**
 * One user's chat session as seen in a terminal: runs typed lines (messages
 * and slash commands) against a logged-in {@link ChatClient} and shows the
 * results and the pushed events through a {@link LineWriter}.
 *
 * It never touches stdin or stdout, so the same class serves a TTY, a
 * script on a pipe and the tests.
 *
 * @example
 * ```ts ignore
 * const terminal = new ChatTerminal(client, console.log, { user: "ann" });
 * await terminal.start();
 * await terminal.handleLine("/join lobby");
 * await terminal.handleLine("hello");
 * await terminal.quit();
 * ```
 */
export class ChatTerminal {
  #client: ChatClient;
  readonly #reconnect: Reconnection | undefined;
  readonly #write: LineWriter;
  readonly #user: string;
  readonly #color: boolean;
  readonly #pollMs: number;
  readonly #bell: boolean;
  /**
   * 2.1: the public rooms the user belongs to (in order of the room list),
   * with what they have not read in each: messages of a room that is not
   * the current one are shown with its name, and count as unread until the
   * user switches to it.
   */
  readonly #joined = new Map<string, Unread>();
  /** The room or peer chat the user is in (2.1: the current one, where typed lines go), or null. */
  #room: string | null = null;
  /** Whether #room is a peer chat rather than a public room. */
  #inGroup = false;
  #quitting = false;
  /** Whether the current connection has ended. */
  #closed = false;
  /** Whether the session is over: the user quit or the connection ended for good. */
  #finished = false;
  /**
   * While the connection is down and a new one is sought: settles with
   * whether one was made. Lines typed meanwhile wait for it.
   */
  #down: { back: Promise<boolean>; settle: (back: boolean) => void } | null = null;
  /** Tries at connecting again, when the options say how. */
  readonly #reconnector: Reconnector | undefined;
  /**
   * The newest message of the current room shown (its id and time), from
   * which what was said while the connection was down is shown.
   */
  #roomNewest = { id: 0, time: "" };
  /** Messages finally not delivered. */
  #undelivered = 0;
  #polling = false;
  #pollLoop: Promise<void> = Promise.resolve();
  #pollTimer: ReturnType<typeof setTimeout> | undefined;
  #wakePoll: (() => void) | null = null;
  /** The poll request under way, if any. */
  #pollRequest: Promise<void> = Promise.resolve();
  /**
   * Where `/history` goes on in the current room: below id `before` (null:
   * from the latest), or nowhere when the start of the room was shown.
   */
  #older: Scrollback = { before: null, atStart: false };
  /**
   * The user of the direct conversation the typed lines go to (`/dm USER`),
   * or null: they go to the room or peer chat.
   */
  #conversation: string | null = null;
  /** Where `/history` goes on in the direct conversation. */
  #conversationOlder: Scrollback = { before: null, atStart: false };
  /** The newest id shown on opening the conversation: pushed copies up to it are skipped. */
  #conversationNewest = 0;
  /** Senders of direct messages who were followed by how to answer them. */
  readonly #toldHowToAnswer = new Set<string>();
  /** The last search, and where `/more` goes on with it (null: nowhere). */
  #lastSearch: { query: string; next: number | null } | null = null;
  /**
   * The newest message id shown from the history on joining: messages of
   * the room pushed with an id up to it are in the history shown or older
   * (posted before the join, stored after it) and are skipped.
   */
  #contextNewest = 0;
  /**
   * Messages shown from the history on joining, and the newest of them, for
   * skipping polled copies (polled messages have no id).
   */
  readonly #contextKeys = new Set<string>();
  #contextNewestKey: string | null = null;
  /** Events held back while joining, shown once the room's latest messages are; or null. */
  #held: ChatEvent[] | null = null;
  readonly #commands: Record<CommandName, (arg: string) => Promise<void> | void> = {
    help: () => this.#help(),
    rooms: () => this.#rooms(),
    list: () => this.#rooms(),
    join: (room) => this.#join(room),
    switch: (room) => this.#switch(room),
    room: (room) => this.#switch(room),
    create: (room) => this.#create(room),
    leave: (room) => this.#leave(room),
    members: () => this.#members(),
    history: (n) => this.#history(n),
    search: (words) => this.#search(words),
    more: () => this.#searchMore(),
    time: () => this.#time(),
    who: () => this.#who(),
    connect: (peer) => this.#connect(peer),
    bye: () => this.#bye(),
    accept: (user) => this.#answer("accept", user),
    decline: (user) => this.#answer("decline", user),
    dm: (arg) => this.#dm(arg),
    close: () => this.#close(),
    poem: (n) => this.#poem(n),
    kick: (arg) => this.#moderate("kick", arg),
    ban: (arg) => this.#moderate("ban", arg),
    unban: (arg) => this.#moderate("unban", arg),
    quit: () => this.quit(),
  };

  /**
   * Resolves once the session is over and every event is shown: with the
   * reason when the connection was lost for good (after showing
   * `connection closed: REASON`), with `null` when the user quit.
   */
  readonly ended: Promise<string | null>;

  /** Starts showing the client's pushed events at once. */
  constructor(client: ChatClient, write: LineWriter, options: TerminalOptions) {
    this.#client = client;
    this.#write = write;
    this.#user = options.user.normalize("NFC");
    this.#color = options.color ?? false;
    this.#pollMs = options.pollMs ?? 0;
    this.#bell = options.bell ?? false;
    this.#reconnect = options.reconnect;
    this.#reconnector = options.reconnect && new Reconnector(options.reconnect);
    this.#watch(client);
    this.ended = this.#run();
  }

  /** The room or peer chat the user is in, or null. */
  get room(): string | null {
    return this.#room;
  }

  /** Whether {@link ChatTerminal.room} is a peer chat rather than a public room. */
  get inPeerChat(): boolean {
    return this.#inGroup;
  }

  /**
   * 2.1: the rooms the user is in besides the current one that have unread
   * messages, e.g. `random 3 (1 @), dev 1`; empty when there are none.
   */
  get othersUnread(): string {
    const others: string[] = [];
    for (const [room, { unread, mentions }] of this.#joined) {
      if (room === this.#room || unread === 0) continue;
      others.push(`${sanitize(room)} ${unread}${mentions > 0 ? ` (${mentions} @)` : ""}`);
    }
    return others.join(", ");
  }

  /** Whether the connection is down and a new one is being sought. */
  get reconnecting(): boolean {
    return this.#down !== null && !this.#finished;
  }

  /** The user whose direct conversation the typed lines go to, or null. */
  get conversation(): string | null {
    return this.#conversation;
  }

  /**
   * How many typed messages were finally not delivered (refused, not in a
   * room, or still RATE_LIMITED after waiting); each was shown as an error.
   */
  get undelivered(): number {
    return this.#undelivered;
  }

  /**
   * Whether {@link ChatTerminal.handleLine} would send `line` as a message
   * (rather than run it as a command), where the user is now.
   */
  sends(line: string): boolean {
    return parseInput(line, this.#where).type === "message";
  }

  /**
   * Greets the user and lists the rooms; in 2.1, then opens the first room
   * the user belongs to.
   */
  async start(): Promise<void> {
    this.#write(`logged in as ${sanitize(this.#user)}; /help lists the commands`);
    await this.#rooms();
    const first = this.#joined.keys().next();
    if (!first.done) await this.#open(first.value, false);
  }

  /**
   * Runs one typed line: a message for the current room or peer chat, a
   * slash command, or (outside public rooms) a command of the ICS menu; see
   * {@link parseInput}. Failures are shown, never thrown. Give it one line
   * at a time: await each call before the next.
   * While the connection is down and a new one is sought, it waits.
   * @returns false once the session is over (the user quit or the
   * connection ended for good), true to go on reading lines.
   */
  async handleLine(line: string): Promise<boolean> {
    if (this.#quitting || this.#finished) return false;
    if (this.#down && !await this.#down.back) return false;
    const input = parseInput(line, this.#where);
    switch (input.type) {
      case "empty":
        break;
      case "message":
        await this.#send(input.text);
        break;
      case "command":
        await this.#commands[input.name](input.arg);
        break;
      case "unknown":
        this.#error(`unknown command ${sanitize(`/${input.name}`)}`);
        this.#help();
        break;
      case "usage":
        this.#error(sanitize(input.message));
        break;
    }
    return !(this.#quitting || this.#finished);
  }

  /** Logs out (when still connected) and closes the connection; stops connecting again. */
  async quit(): Promise<void> {
    if (this.#quitting) return;
    this.#quitting = true;
    this.#reconnector?.stop();
    this.#down?.settle(false);
    this.#stopPolling();
    await this.#pollLoop;
    if (!this.#closed) {
      try {
        await this.#client.logout();
        this.#notice("logged out");
      } catch {
        // the connection is going anyway
      }
    }
    await this.#client.close();
  }

  get #over(): boolean {
    return this.#quitting || this.#closed;
  }

  get #where(): Whereabouts {
    // in a direct conversation, as in a room, every plain line is a message
    if (this.#conversation !== null) return "room";
    if (this.#room === null) return "idle";
    return this.#inGroup ? "group" : "room";
  }

  /**
   * Makes `name` the current room or peer chat, forgetting what was shown of
   * the last one; the lines typed go there, not to a direct conversation.
   */
  #enter(name: string, group: boolean): void {
    this.#conversation = null;
    this.#room = name;
    this.#inGroup = group;
    this.#older = { before: null, atStart: false };
    this.#roomNewest = { id: 0, time: "" };
    this.#contextNewest = 0;
    this.#contextNewestKey = null;
    this.#contextKeys.clear();
  }

  /** Forgets the current room or peer chat. */
  #exit(): void {
    this.#room = null;
    this.#inGroup = false;
  }

  /** Notes the end of `client`'s connection as soon as it ends. */
  #watch(client: ChatClient): void {
    client.closed.then(() => {
      if (client !== this.#client) return;
      this.#closed = true;
      this.#stopPolling();
      if (!this.#down) {
        let settle!: (back: boolean) => void;
        const back = new Promise<boolean>((resolve) => settle = resolve);
        this.#down = { back, settle };
      }
    });
  }

  /**
   * Shows each connection's events until it ends, then connects again when
   * it may; resolves {@link ChatTerminal.ended}.
   */
  async #run(): Promise<string | null> {
    while (true) {
      for await (const event of this.#client.events()) {
        if (this.#held) this.#held.push(event);
        else this.#showEvent(event);
      }
      this.#release();
      const reason = await this.#client.closed;
      if (this.#quitting) return this.#finish(null);
      const text = reason.startsWith("connection closed") ? reason : `connection closed: ${reason}`;
      const again = this.#reconnect !== undefined && !FINAL_CLOSE.test(reason);
      this.#error(sanitize(again ? `${text}; connecting again…` : text));
      if (!again || !await this.#connectAgain(this.#reconnect!)) {
        return this.#finish(this.#quitting ? null : reason);
      }
    }
  }

  #finish<T>(result: T): T {
    this.#finished = true;
    this.#down?.settle(false);
    return result;
  }

  /**
   * Tries to connect and log in again, waiting longer between attempts;
   * once in, joins the room again and shows what was said meanwhile.
   * @returns whether it got back in.
   */
  async #connectAgain(reconnect: Reconnection): Promise<boolean> {
    const outcome = await this.#reconnector!.start(async () => {
      let client: ChatClient;
      try {
        client = await reconnect.open();
      } catch (error) {
        const refused = error instanceof ChatError &&
          (error.status === Status.AUTH_FAILED || error.status === Status.VERSION_MISMATCH);
        if (!refused) return "retry";
        const why = error.reason ? ` (${sanitize(error.reason)})` : "";
        this.#error(`cannot log in again: ${error.status}${why}`);
        return "stop";
      }
      if (this.#quitting) {
        await client.close();
        return "stop";
      }
      this.#client = client;
      this.#closed = false;
      this.#watch(client);
      await this.#rejoin();
      // lost again meanwhile: #run goes on from there, and the lines typed keep waiting
      if (this.#closed) return "connected";
      this.#down?.settle(true);
      this.#down = null;
      this.#startPolling();
      return "connected";
    });
    if (outcome === "gave up") {
      this.#error(`gave up connecting again after ${plural(reconnect.attempts!, "attempt")}`);
    }
    return outcome === "connected";
  }

  /**
   * Back in after the connection was lost: joins the room again and shows
   * what was said there meanwhile (a peer chat ends with the connection).
   * Pushed events wait meanwhile: #run reads them afterwards.
   */
  async #rejoin(): Promise<void> {
    const room = this.#room;
    if (room === null) {
      this.#notice("connected again");
      return;
    }
    if (this.#inGroup) {
      this.#exit();
      this.#notice("connected again; the peer chat ended when the connection was lost");
      return;
    }
    if (this.#client.v21) {
      // the rooms one is in last; one may have been left, or been kicked, meanwhile
      const states = await this.#attempt("cannot list the rooms", () => this.#client.roomStates());
      this.#joined.clear();
      for (const state of states?.value ?? []) {
        if (state.joined) this.#joined.set(state.name, state);
      }
      if (states && !this.#joined.has(room)) {
        this.#exit();
        this.#notice(`connected again; you are no longer in ${sanitize(room)}`);
        return;
      }
    }
    const joined = await this.#attempt(
      `connected again, but cannot join ${quote(room)}`,
      () => this.#client.join(room),
    );
    if (!joined) {
      this.#exit();
      return;
    }
    this.#notice(`connected again; back in ${sanitize(room)}`);
    const since = this.#roomNewest;
    const missed: HistoryMessage[] = [];
    for (let page = 0, after = since.id; page < CATCH_UP.pages; page++) {
      const result = await this.#attempt(
        "cannot show what was said meanwhile",
        () => this.#client.history({ after, limit: CATCH_UP.page, room: this.#roomParam() }),
      );
      if (!result) break;
      missed.push(...result.value.messages);
      after = missed.at(-1)?.id ?? after;
      if (!result.value.more) break;
    }
    // polled messages carry no id: those up to the newest one shown are skipped by time
    const unseen = missed.filter((message) => this.#pollMs <= 0 || message.time > since.time);
    if (unseen.length > 0) {
      this.#marker(`${plural(unseen.length, "message")} in ${sanitize(room)} while you were away`);
    }
    for (const message of unseen) {
      this.#showStored(message);
    }
    this.#rememberShown(missed);
    const newest = missed.at(-1);
    if (this.#client.v21 && newest) this.#markRead(room, newest.id);
  }

  #showEvent(event: ChatEvent): void {
    switch (event.type) {
      case "message": {
        const mention = event.from !== this.#user &&
          mentionsUser(event.content, this.#user, event.mentions);
        if (event.room !== this.#room) {
          this.#countUnread(event.room, event.from, mention);
          const where = this.#client.v21
            ? `${
              this.#paint("dim", `${sanitize(event.kind === "group" ? "peer chat" : event.room)} ·`)
            } `
            : "";
          const from = this.#paint(
            event.from === this.#user ? "green" : "cyan",
            sanitize(event.from),
          );
          this.#showMessage(
            event.time,
            event.from,
            event.content,
            formatClock,
            where + from,
            mention,
          );
        } else if (event.id > this.#contextNewest) {
          this.#sawInRoom(event.id, event.time);
          this.#showMessage(event.time, event.from, event.content, formatClock, undefined, mention);
          if (this.#client.v21 && event.from !== this.#user) this.#markRead(event.room, event.id);
        }
        break;
      }
      case "read":
        if (event.room !== undefined && this.#joined.has(event.room)) {
          this.#joined.set(event.room, { unread: 0, mentions: 0 });
        }
        break;
      case "join":
        if (event.kind !== "group" && event.user === this.#user && this.#client.v21) {
          // joined on another device
          if (!this.#joined.has(event.room)) {
            this.#joined.set(event.room, { unread: 0, mentions: 0 });
          }
          this.#timedNotice(event.time, `you joined ${sanitize(event.room)} on another device`);
        } else if (event.kind !== "group") {
          this.#timedNotice(event.time, `${sanitize(event.user)} joined ${sanitize(event.room)}`);
        } else if (event.room === this.#room) {
          this.#timedNotice(event.time, `${sanitize(event.user)} joined the peer chat`);
        } else {
          // someone connected with this user, who is now in their peer chat (2.1: besides the rooms)
          const left = this.#room !== null && !this.#inGroup && !this.#client.v21
            ? this.#room
            : null;
          this.#enter(event.room, true);
          const was = left === null ? "" : ` (you left ${sanitize(left)})`;
          this.#timedNotice(
            event.time,
            `${sanitize(event.user)} connected with you in a peer chat${was}; ` +
              "type to chat, bye to leave",
          );
        }
        break;
      case "leave": {
        if (event.user === this.#user && this.#client.v21 && event.kind !== "group") {
          // left on another device
          this.#joined.delete(event.room);
          if (event.room === this.#room) this.#exit();
          this.#timedNotice(event.time, `you left ${sanitize(event.room)} on another device`);
          break;
        }
        const why = event.reason ? ` (${event.reason})` : "";
        const where = event.kind === "group" ? "the peer chat" : event.room;
        this.#timedNotice(event.time, `${sanitize(event.user)} left ${sanitize(where + why)}`);
        break;
      }
      case "dm": {
        const from = event.from;
        if (event.id <= this.#conversationNewest && from === this.#conversation) break; // shown
        this.#showDirect(event, event.to, formatClock, event.mentions !== undefined);
        if (
          from !== this.#conversation && from !== this.#user && !this.#toldHowToAnswer.has(from)
        ) {
          this.#toldHowToAnswer.add(from);
          const name = sanitize(from.includes(" ") ? `"${from}"` : from);
          this.#notice(`/dm ${name} opens your conversation with ${sanitize(from)}`);
        }
        break;
      }
      case "kicked": {
        this.#joined.delete(event.room);
        if (event.room === this.#room && !this.#inGroup) this.#exit();
        const what = event.banned ? "banned" : "kicked";
        const why = event.reason ? `: ${event.reason}` : "";
        this.#timedNotice(
          event.time,
          sanitize(`you were ${what} from ${event.room} by ${event.by}${why}`),
        );
        break;
      }
      case "groupEnd":
        if (event.room === this.#room) this.#exit();
        this.#timedNotice(event.time, "everyone else left the peer chat; you are on your own");
        break;
      case "peerInvite": {
        const user = sanitize(event.from);
        this.#timedNotice(
          event.time,
          `${user} asks to join the peer chat: /accept ${user} or /decline ${user}` +
            ` (until ${formatClock(event.expires)})`,
        );
        break;
      }
      case "peerAnswer":
        if (event.from === this.#user) this.#answered(event);
        else this.#timedNotice(event.time, theirAnswer(event));
        break;
      case "notice": {
        const [first, ...rest] = displayLines(event.content);
        const stamp = `[${formatClock(event.time)}]`;
        this.#write(
          `${this.#paint("dim", stamp)} ${this.#paint("bold", `! server notice: ${first}`)}`,
        );
        const indent = " ".repeat(stamp.length + 1);
        for (const line of rest) this.#write(indent + this.#paint("bold", line));
        break;
      }
      case "close":
        // shown once the connection has ended, by #showEvents
        break;
    }
  }

  /**
   * Shows the held events that `which` selects, keeping the others held;
   * without `which`, shows them all and stops holding.
   */
  #release(which?: (event: ChatEvent) => boolean): void {
    const held = this.#held ?? [];
    this.#held = which ? held.filter((event) => !which(event)) : null;
    for (const event of held) if (!which || which(event)) this.#showEvent(event);
  }

  #help(): void {
    for (const line of helpLines()) this.#write(line);
  }

  async #rooms(): Promise<void> {
    if (!this.#client.v21) {
      const result = await this.#attempt("cannot list the rooms", () => this.#client.rooms());
      if (result) this.#showRooms(result.value);
      return;
    }
    const result = await this.#attempt("cannot list the rooms", () => this.#client.roomStates());
    if (!result) return;
    this.#joined.clear();
    for (const room of result.value) {
      if (room.joined) {
        this.#joined.set(room.name, { unread: room.unread, mentions: room.mentions });
      }
    }
    this.#showRooms(result.value);
  }

  /** The room list; in 2.1 with the rooms one is in and what one has not read there. */
  #showRooms(rooms: (RoomInfo | RoomState)[]): void {
    if (rooms.length === 0) {
      this.#write("no rooms yet; /create ROOM makes one");
      return;
    }
    this.#write(`rooms (${rooms.length}):`);
    for (const room of rooms) {
      const notes = [memberCount(room.members)];
      if (room.name === this.#room && !this.#inGroup) notes.push("you are here");
      else if ("joined" in room && room.joined) notes.push("you are in it");
      if ("unread" in room && room.unread > 0) notes.push(`${room.unread} unread`);
      const mentions = "mentions" in room ? room.mentions : 0;
      const mark = mentions > 0 ? ` ${this.#paint("highlight", `${mentions} @ you`)}` : "";
      this.#write(`  ${sanitize(room.name)} ${this.#paint("dim", `(${notes.join(", ")})`)}${mark}`);
    }
  }

  /** 2.1: counts a message of a room that is not the current one as unread (one's own: all read). */
  #countUnread(room: string, from: string, mention: boolean): void {
    const counts = this.#joined.get(room);
    if (!counts) return;
    if (from === this.#user) this.#joined.set(room, { unread: 0, mentions: 0 });
    else {this.#joined.set(room, {
        unread: counts.unread + 1,
        mentions: counts.mentions + +mention,
      });}
  }

  /** 2.1: tells the server (and so the user's other devices) that the room is read up to `id`. */
  #markRead(room: string, id: number): void {
    this.#client.markRead(id, { room }).catch(() => {
      // the next message read, or the next session, tells it again
    });
  }

  /**
   * `/switch ROOM` (2.1): makes a room the user is in the current one and
   * shows what they have not read there. In 2.0, the same as /join.
   */
  async #switch(name: string): Promise<void> {
    const room = name.normalize("NFC");
    if (!this.#client.v21) return await this.#join(room);
    if (room === this.#room && !this.#inGroup) {
      this.#notice(`the lines you type go to ${sanitize(room)} already`);
      return;
    }
    if (!this.#joined.has(room)) {
      this.#error(`you are not in ${quote(room)}: /join ${sanitize(room)} joins it`);
      return;
    }
    await this.#open(room, false);
  }

  /**
   * Joins a room and shows its latest messages. Pushed events are held back
   * meanwhile (and polling waits), so that what happens after the join is
   * shown below those messages, and once. A message posted just before the
   * join may still be pushed after it, even when older than the messages
   * shown: the id tells.
   */
  async #join(name: string): Promise<void> {
    const room = name.normalize("NFC");
    await this.#open(room, !this.#joined.has(room));
  }

  /**
   * Joins a room (`joining`), or in 2.1 makes one the user is in the
   * current one, and shows its latest messages (in 2.1, at least those
   * unread), marking them read.
   */
  async #open(room: string, joining: boolean): Promise<void> {
    this.#held ??= [];
    await this.#pollRequest;
    try {
      const result = await this.#attempt(
        `cannot join ${quote(room)}`,
        () => this.#client.join(room),
        (error) =>
          error.status === Status.NO_SUCH_ROOM
            ? `no room has that name; /create ${room} makes it, /rooms lists the rooms`
            : undefined,
      );
      // what came about other rooms (the one left) happened before the join
      this.#release((event) => !("room" in event) || event.room !== room);
      if (!result) return;
      const unread = this.#joined.get(room)?.unread ?? 0;
      this.#enter(room, false);
      if (this.#client.v21) this.#joined.set(room, { unread: 0, mentions: 0 });
      if (joining) this.#notice(`you joined ${sanitize(room)}`);
      const others = [...this.#joined.keys()].filter((other) => other !== room);
      if (this.#client.v21 && (!joining || others.length > 0)) {
        const also = others.length === 0
          ? ""
          : ` (you are in ${others.map(sanitize).join(", ")} too`;
        this.#notice(
          `the lines you type go to ${sanitize(room)}${also}${
            also ? "; /switch ROOM changes)" : ""
          }`,
        );
      }
      const shown =
        await this.#showOlder(Math.min(Math.max(unread, JOIN_CONTEXT), UNREAD_SHOWN), true) ?? [];
      this.#rememberShown(shown);
      const newest = shown.at(-1);
      if (this.#client.v21 && newest) this.#markRead(room, newest.id);
    } finally {
      this.#release();
    }
    this.#startPolling();
  }

  /**
   * Notes the messages just shown of the room (the latest, on joining or
   * connecting again), so that pushed or polled copies of them are skipped.
   */
  #rememberShown(shown: readonly HistoryMessage[]): void {
    this.#contextKeys.clear();
    for (const message of shown) this.#contextKeys.add(messageKey(message));
    const newest = shown.at(-1);
    this.#contextNewest = Math.max(this.#contextNewest, newest?.id ?? 0);
    this.#contextNewestKey = newest ? messageKey(newest) : null;
    if (newest) this.#sawInRoom(newest.id, newest.time);
  }

  /** Notes a message of the current room as shown. */
  #sawInRoom(id: number, time: string): void {
    if (id > this.#roomNewest.id) this.#roomNewest.id = id;
    if (time > this.#roomNewest.time) this.#roomNewest.time = time;
  }

  async #history(arg: string): Promise<void> {
    const limit = arg === "" ? HISTORY_PAGE : /^\d{1,6}$/.test(arg) ? Number(arg) : 0;
    if (limit < 1 || limit > HISTORY_MAX) {
      this.#error(`usage: /history [N] (N must be a whole number from 1 to ${HISTORY_MAX})`);
      return;
    }
    if (this.#room === null && this.#conversation === null) {
      this.#error(NOT_IN_A_ROOM);
      return;
    }
    await this.#showOlder(limit, false);
  }

  /**
   * Shows up to `limit` messages of the room, or of the direct conversation
   * the lines go to, older than those shown so far (the latest when none
   * were), headed by a marker line; returns them, or null when they could
   * not be read (the error is shown).
   */
  async #showOlder(limit: number, joining: boolean): Promise<HistoryMessage[] | null> {
    const peer = this.#conversation;
    const scroll = peer === null ? this.#older : this.#conversationOlder;
    const place = peer === null
      ? sanitize(this.#room ?? "")
      : `your direct messages with ${sanitize(peer)}`;
    if (scroll.atStart) {
      this.#marker(`start of ${place}`);
      return [];
    }
    const { before } = scroll;
    const result = await this.#attempt(
      "cannot show earlier messages",
      () =>
        this.#client.history({
          limit,
          ...before === null ? {} : { before },
          with: peer ?? undefined,
          room: peer === null ? this.#roomParam() : undefined,
        }),
    );
    if (!result) return null;
    const { messages, more } = result.value;
    scroll.before = messages[0]?.id ?? before;
    scroll.atStart = !more;
    if (joining && messages.length === 0) return [];
    if (!more) this.#marker(`start of ${place}`);
    if (messages.length > 0) {
      const count = plural(messages.length, joining ? "message" : "earlier message");
      this.#marker(`${joining ? "last " : ""}${count} in ${place}`);
    }
    for (const message of messages) {
      if (peer === null) {
        this.#showStored(message);
      } else {
        this.#showDirect(message, message.from === this.#user ? peer : this.#user, formatStamp);
      }
    }
    return messages;
  }

  async #search(query: string): Promise<void> {
    this.#lastSearch = null;
    await this.#showSearch(query, null);
  }

  /** `/more`: the next page of the last search. */
  async #searchMore(): Promise<void> {
    const last = this.#lastSearch;
    if (last === null) {
      this.#error("no search to go on with; /search WORDS first");
      return;
    }
    if (last.next === null) {
      this.#marker(`no older messages match "${oneLine(last.query)}"`);
      return;
    }
    await this.#showSearch(last.query, last.next);
  }

  /**
   * Shows a page of search results, newest first, under a line that says
   * how many match, and remembers where `/more` goes on.
   */
  async #showSearch(query: string, before: number | null): Promise<void> {
    const result = await this.#attempt(
      "cannot search",
      () => this.#client.search(query, before === null ? {} : { before }),
    );
    if (!result) return;
    const { results, total, partial, next } = result.value;
    this.#lastSearch = { query, next };
    const what = `"${oneLine(query)}"`;
    const older = before === null ? "" : "older ";
    if (total === 0 && !partial) {
      this.#marker(
        before === null
          ? `no messages match ${what} in the rooms you have been in`
          : `no older messages match ${what}`,
      );
      return;
    }
    const count = total === 0
      ? `no ${older}messages match`
      : total === 1
      ? `1 ${older}message matches`
      : `${total} ${older}messages match`;
    const searched = partial ? " in the messages searched so far" : "";
    const page = results.length < total
      ? `; the ${before === null ? "newest" : "next"} ${results.length}`
      : "";
    this.#marker(`${count} ${what}${searched}${page}`);
    for (const hit of results) {
      const snippet = splitSnippet(hit.snippet, query).map(({ text, match }) => {
        const shown = oneLine(text, sanitizeText);
        if (!match) return shown;
        return this.#color ? this.#paint("highlight", shown) : `[${shown}]`;
      }).join("");
      const from = this.#paint(hit.from === this.#user ? "green" : "cyan", oneLine(hit.from));
      const stamp = this.#paint("dim", `[${formatStamp(hit.time)}]`);
      this.#write(`${stamp} ${oneLine(hit.room)} · ${from}: ${snippet}`);
    }
    if (next !== null) this.#marker("/more for older matches");
  }

  /**
   * `/leave [ROOM]`: closes the direct conversation, or leaves the current
   * room or peer chat, or in 2.1 any room the user is in, for good.
   */
  async #leave(arg: string): Promise<void> {
    if (this.#conversation !== null && arg === "") {
      this.#close();
      return;
    }
    const named = arg === "" ? null : arg.normalize("NFC");
    if (named !== null && named !== this.#room && !this.#client.v21) {
      this.#error(`you are not in ${quote(named)}: /leave leaves the room you are in`);
      return;
    }
    const room = named ?? this.#room;
    const result = await this.#attempt(
      "cannot leave",
      () => this.#client.leave(this.#client.v21 ? room ?? undefined : undefined),
    );
    if (!result) return;
    const current = room === this.#room;
    const group = current && this.#inGroup;
    if (room !== null) this.#joined.delete(room);
    if (current) this.#exit();
    const left = group
      ? "you left the peer chat"
      : room === null
      ? "you left the room"
      : `you left ${sanitize(room)}`;
    this.#notice(left);
    const next = this.#joined.keys().next();
    if (current && !next.done) await this.#open(next.value, false);
  }

  /** The `room` of a request in 2.1: the current room or peer chat, named. */
  #roomParam(): string | undefined {
    return this.#client.v21 && this.#room !== null ? this.#room : undefined;
  }

  async #members(): Promise<void> {
    const result = await this.#attempt("cannot list the members", async () => {
      if (!this.#client.v21) return (await this.#client.members()).map(sanitize);
      const states = await this.#client.memberStates({ room: this.#roomParam() });
      return states.map(({ name, online }) => `${sanitize(name)}${online ? "" : " (away)"}`);
    });
    if (!result) return;
    const names = result.value;
    const where = this.#room === null
      ? ""
      : this.#inGroup
      ? " of the peer chat"
      : ` of ${sanitize(this.#room)}`;
    this.#write(`members${where} (${names.length}): ${names.join(", ")}`);
  }

  async #time(): Promise<void> {
    const result = await this.#attempt("cannot get the time", () => this.#client.time());
    if (result) this.#write(`server time: ${formatDateTime(result.value)}`);
  }

  async #who(): Promise<void> {
    const result = await this.#attempt("cannot list the users", () => this.#client.who());
    if (!result) return;
    const users = result.value;
    const width = Math.max(...users.map((entry) => sanitize(entry.user).length));
    this.#write(`online (${users.length}):`);
    for (const entry of users) {
      const name = this.#paint(entry.user === this.#user ? "green" : "cyan", sanitize(entry.user));
      const pad = " ".repeat(width - sanitize(entry.user).length);
      this.#write(`  ${name}${pad}  ${this.#whereIs(entry, users)}`);
    }
  }

  /** `in lobby`, `in a peer chat with bob, carol`, `idle`. */
  #whereIs(entry: WhoEntry, everyone: WhoEntry[]): string {
    switch (entry.place) {
      case "room":
        return `in ${sanitize(entry.name)}`;
      case "group": {
        const others = everyone
          .filter((other) =>
            other.place === "group" && other.name === entry.name && other.user !== entry.user
          )
          .map((other) => sanitize(other.user));
        return others.length === 0 ? "in a peer chat" : `in a peer chat with ${others.join(", ")}`;
      }
      default:
        return "idle";
    }
  }

  /**
   * Connects with a peer in a peer chat (ICS "c PEER"). Events are held
   * back meanwhile, as while joining a room.
   */
  async #connect(name: string): Promise<void> {
    const peer = name.normalize("NFC");
    this.#held ??= [];
    await this.#pollRequest;
    try {
      const result = await this.#attempt(
        `cannot connect to ${quote(peer)}`,
        () => this.#client.peerConnect(peer),
      );
      if (!result) return;
      if (result.value.invited) {
        this.#notice(
          `${sanitize(peer)} is in a peer chat: you asked its members to let you in ` +
            `(until ${formatClock(result.value.expires)}); you stay where you are meanwhile`,
        );
        return;
      }
      if (this.#room !== null && !this.#inGroup) this.#notice(`you left ${sanitize(this.#room)}`);
      this.#enter(result.value.room, true);
      const members = await this.#attempt(
        "cannot list the members",
        () => this.#client.members(),
      );
      const others = members?.value.filter((member) => member !== this.#user) ?? [peer];
      this.#notice(
        `you are connected with ${others.map(sanitize).join(", ")} in a peer chat; ` +
          "type to chat, bye to leave",
      );
    } finally {
      this.#release();
    }
    this.#startPolling();
  }

  /** Shows how this user's request to join a peer chat ended; entering it when accepted. */
  #answered(event: Extract<ChatEvent, { type: "peerAnswer" }>): void {
    const by = sanitize(event.by ?? "");
    if (event.answer !== "accepted") {
      const why = {
        declined: `${by} declined your request to join the peer chat`,
        expired: "nobody answered your request to join the peer chat in time",
        withdrawn: "your request to join the peer chat was withdrawn (you moved, or it ended)",
      }[event.answer];
      this.#timedNotice(event.time, why);
      return;
    }
    const left = this.#room !== null && !this.#inGroup ? this.#room : null;
    this.#enter(event.room, true);
    const was = left === null ? "" : ` (you left ${sanitize(left)})`;
    this.#timedNotice(
      event.time,
      `${by} let you into the peer chat${was}; type to chat, bye to leave`,
    );
    this.#startPolling();
  }

  /** Lets in or turns down a user who asked to join the peer chat. */
  async #answer(action: "accept" | "decline", name: string): Promise<void> {
    const user = name.normalize("NFC");
    const result = await this.#attempt(
      `cannot ${action} ${quote(user)}`,
      () => action === "accept" ? this.#client.peerAccept(user) : this.#client.peerDecline(user),
      (error) =>
        error.status === Status.NOT_IN_GROUP
          ? "you are not in a peer chat"
          : error.status === Status.NO_INVITATION
          ? `${user} is not waiting to join (answered, expired or withdrawn)`
          : undefined,
    );
    if (!result) return;
    this.#notice(
      action === "accept"
        ? `you let ${sanitize(user)} into the peer chat`
        : `you declined ${sanitize(user)}'s request to join`,
    );
  }

  async #bye(): Promise<void> {
    const result = await this.#attempt(
      "cannot leave the peer chat",
      () => this.#client.peerBye(),
      (error) => error.status === Status.NOT_IN_GROUP ? "you are not in a peer chat" : undefined,
    );
    if (!result) return;
    this.#exit();
    this.#notice("you left the peer chat");
  }

  /**
   * `/dm USER TEXT` sends one direct message; `/dm USER` opens the direct
   * conversation with USER (or goes back to it): its last messages are
   * shown, and the lines typed go to USER until /close, /leave or /join.
   */
  async #dm(arg: string): Promise<void> {
    const [name, text] = splitName(arg);
    const peer = name.normalize("NFC");
    if (peer === this.#user) {
      this.#error("you cannot send direct messages to yourself");
      return;
    }
    if (text !== "") {
      await this.#sendDirect(peer, text);
      return;
    }
    if (peer === this.#conversation) {
      this.#notice(`the lines you type go to ${sanitize(peer)} already; /close ends that`);
      return;
    }
    const previous = { peer: this.#conversation, older: this.#conversationOlder };
    this.#conversation = peer;
    this.#conversationOlder = { before: null, atStart: false };
    // as while joining: what arrives meanwhile is shown below the history, and once
    this.#held ??= [];
    try {
      const shown = await this.#showOlder(JOIN_CONTEXT, true);
      if (shown === null) {
        this.#conversation = previous.peer;
        this.#conversationOlder = previous.older;
        return;
      }
      this.#conversationNewest = shown.at(-1)?.id ?? 0;
      const back = this.#room === null
        ? ""
        : `, /close to go back to ${this.#inGroup ? "the peer chat" : sanitize(this.#room)}`;
      this.#notice(`the lines you type now go to ${sanitize(peer)} alone${back}`);
    } finally {
      this.#release();
    }
  }

  /** `/close`: the lines typed go to the room or peer chat again. */
  #close(): void {
    const peer = this.#conversation;
    if (peer === null) {
      this.#error("you are in no direct conversation (/dm USER opens one)");
      return;
    }
    this.#conversation = null;
    const where = this.#room === null
      ? "you are in no room (/join ROOM)"
      : `the lines you type go to ${this.#inGroup ? "the peer chat" : sanitize(this.#room)} again`;
    this.#notice(`closed the conversation with ${sanitize(peer)}; ${where}`);
  }

  async #sendDirect(to: string, text: string): Promise<void> {
    const result = await this.#deliver(
      `cannot send to ${quote(to)}`,
      () => this.#client.dm(to, text),
    );
    if (result) this.#showDirect({ from: this.#user, time: result.value.time, content: text }, to);
  }

  /** Shows a direct message: `[time] ✉ bob → you: text`, or `✉ you → bob`. */
  #showDirect(
    message: { from: string; time: string; content: string },
    to: string,
    clock = formatClock,
    mention = false,
  ): void {
    const label = message.from === this.#user
      ? `✉ you → ${this.#paint("cyan", sanitize(to))}`
      : `✉ ${this.#paint("cyan", sanitize(message.from))} → you`;
    this.#showMessage(message.time, message.from, message.content, clock, label, mention);
  }

  async #poem(arg: string): Promise<void> {
    if (!/^\d{1,9}$/.test(arg)) {
      this.#error("usage: /poem N (N must be a whole number, e.g. 2)");
      return;
    }
    const result = await this.#attempt(
      `cannot show sonnet ${arg}`,
      () => this.#client.poem(Number(arg)),
    );
    if (!result) return;
    this.#write(this.#paint("bold", sanitize(result.value.title)));
    for (const line of displayLines(result.value.text)) this.#write(line);
  }

  async #moderate(action: "kick" | "ban" | "unban", arg: string): Promise<void> {
    const [user, reason] = splitName(arg);
    if (action === "unban" && reason !== "") {
      this.#error('usage: /unban USER (quote a name with spaces: /unban "mary ann")');
      return;
    }
    if (this.#room === null || this.#inGroup) {
      this.#error(`you are not in a room: /${action} works in the room you are in`);
      return;
    }
    const room = this.#room;
    const options = { room: this.#roomParam(), ...reason === "" ? {} : { reason } };
    const result = await this.#attempt(
      `cannot ${action} ${quote(user)}`,
      () =>
        action === "kick"
          ? this.#client.kick(user, options)
          : action === "ban"
          ? this.#client.ban(user, options)
          : this.#client.unban(user, { room: options.room }),
      (error) =>
        error.status !== Status.NO_SUCH_USER
          ? undefined
          : action === "unban"
          ? `${user} is not banned from ${room}`
          : action === "kick"
          ? `${user} is not in ${room}`
          : undefined,
    );
    if (!result) return;
    const done = { kick: "kicked", ban: "banned", unban: "unbanned" }[action];
    const after = action === "unban" ? ` (they may join ${room} again)` : ` from ${room}`;
    this.#notice(sanitize(`${done} ${user}${after}`));
  }

  async #create(name: string): Promise<void> {
    const room = name.normalize("NFC");
    const result = await this.#attempt(
      `cannot create ${quote(room)}`,
      () => this.#client.create(room),
    );
    if (result) this.#notice(`created ${sanitize(room)}; /join ${sanitize(room)} to enter it`);
  }

  async #send(text: string): Promise<void> {
    if (this.#conversation !== null) {
      await this.#sendDirect(this.#conversation, text);
      return;
    }
    if (this.#room === null) {
      this.#undelivered++;
      this.#error(NOT_IN_A_ROOM);
      return;
    }
    const result = await this.#deliver(
      "cannot send",
      () => this.#client.send(text, { room: this.#roomParam() }),
    );
    if (!result) return;
    this.#sawInRoom(result.value.id, result.value.time);
    this.#showMessage(result.value.time, this.#user, text);
  }

  /**
   * Sends a message like {@link ChatTerminal.#attempt} runs a request, but
   * while the server answers RATE_LIMITED waits its Retry-After-Ms and sends
   * again (up to SEND_ATTEMPTS times); a message finally not delivered counts.
   */
  async #deliver<T>(what: string, send: () => Promise<T>): Promise<{ value: T } | null> {
    for (let attempt = 1;; attempt++) {
      try {
        return { value: await send() };
      } catch (error) {
        const wait = error instanceof ChatError && error.status === Status.RATE_LIMITED
          ? error.retryAfterMs ?? 1_000
          : Infinity;
        if (attempt < SEND_ATTEMPTS && wait <= MAX_RETRY_WAIT_MS && !this.#over) {
          await new Promise((resolve) => setTimeout(resolve, wait));
          continue;
        }
        this.#undelivered++;
        if (error instanceof ChatError) await this.#report(what, error);
        else {
          // shown even though the connection ended: the message may be lost
          const why = "the connection ended before the server answered; it may not have arrived";
          this.#error(`${what}: ${why}`);
        }
        return null;
      }
    }
  }

  /**
   * Runs a request; on failure shows `! WHAT: STATUS (REASON)` and returns
   * null. `explain` may put a reason fit for this client in place of the
   * server's. Failures because the connection ended are not shown here: the
   * end of the connection is reported once, by #showEvents.
   */
  async #attempt<T>(
    what: string,
    request: () => Promise<T>,
    explain?: (error: ChatError) => string | undefined,
  ): Promise<{ value: T } | null> {
    try {
      return { value: await request() };
    } catch (error) {
      await this.#report(what, error, explain);
      return null;
    }
  }

  async #report(
    what: string,
    error: unknown,
    explain?: (error: ChatError) => string | undefined,
  ): Promise<void> {
    if (error instanceof ChatError) {
      const explained = explain?.(error);
      const reason = explained ?? error.reason;
      const tail = reason ? ` (${sanitize(reason)})` : "";
      this.#error(`${what}: ${error.status}${tail}${explained ? "" : hint(error.status)}`);
      return;
    }
    // A request that failed because the connection ended is rejected just
    // before `closed` resolves; one macrotask later #closed tells them apart.
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (!this.#closed) this.#error(`${what}: ${sanitize((error as Error).message)}`);
  }

  #startPolling(): void {
    if (this.#pollMs <= 0 || this.#polling || this.#over) return;
    this.#polling = true;
    this.#pollLoop = this.#pollWhileInRoom();
  }

  async #pollWhileInRoom(): Promise<void> {
    while (this.#room !== null && !this.#over) {
      await new Promise<void>((resolve) => {
        this.#wakePoll = resolve;
        this.#pollTimer = setTimeout(resolve, this.#pollMs);
      });
      if (this.#room === null || this.#over) break;
      this.#pollRequest = this.#pollOnce();
      await this.#pollRequest;
    }
    this.#polling = false;
  }

  async #pollOnce(): Promise<void> {
    if (this.#held) return; // a join is under way
    try {
      let messages = await this.#client.recv();
      // They come in the order they were posted: up to the newest message
      // shown on joining, they are among those shown or older.
      const newest = messages.findLastIndex((m) => messageKey(m) === this.#contextNewestKey);
      if (newest >= 0) {
        messages = messages.slice(newest + 1);
        this.#contextKeys.clear();
        this.#contextNewestKey = null;
      }
      for (const message of messages) {
        if (message.from !== this.#user && !this.#contextKeys.has(messageKey(message))) {
          this.#sawInRoom(0, message.time);
          this.#showMessage(message.time, message.from, message.content);
        }
      }
    } catch (error) {
      if (error instanceof ChatError && error.status === Status.NOT_IN_ROOM) return;
      await this.#report("cannot fetch messages", error);
    }
  }

  #stopPolling(): void {
    clearTimeout(this.#pollTimer);
    this.#wakePoll?.();
    this.#wakePoll = null;
  }

  /**
   * Shows a stored message of the room, from the history, marked when it
   * mentions the user (pushed ones say so themselves).
   */
  #showStored(message: HistoryMessage): void {
    const mention = message.from !== this.#user && mentionsUser(message.content, this.#user);
    this.#showMessage(message.time, message.from, message.content, formatStamp, undefined, mention);
  }

  /**
   * Shows a message: `[time] from: first line`, further lines indented.
   * `label` replaces the painted sender (a direct message's `✉ a → b`). A
   * message that mentions the user is highlighted, or without colour marked
   * `(@ you)`, and rings the bell when the options say so.
   */
  #showMessage(
    time: string,
    from: string,
    content: string,
    clock = formatClock,
    label?: string,
    mention = false,
  ): void {
    const [first, ...rest] = displayLines(content);
    const name = label ?? this.#paint(from === this.#user ? "green" : "cyan", sanitize(from));
    const stamp = `[${clock(time)}]`;
    const text = !mention
      ? first
      : this.#color
      ? this.#paint("highlight", first)
      : `${first} (@ you)`;
    this.#write(
      `${this.#paint("dim", stamp)} ${name}: ${text}${mention && this.#bell ? "\x07" : ""}`,
    );
    const indent = " ".repeat(stamp.length + 1);
    for (const line of rest) this.#write(indent + line);
  }

  #timedNotice(time: string, text: string): void {
    this.#write(
      `${this.#paint("dim", `[${formatClock(time)}]`)} ${this.#paint("yellow", `* ${text}`)}`,
    );
  }

  /** A line that marks a place in the scrollback: `— start of lobby —`. */
  #marker(text: string): void {
    this.#write(this.#paint("dim", `— ${text} —`));
  }

  #notice(text: string): void {
    this.#write(this.#paint("yellow", `* ${text}`));
  }

  #error(text: string): void {
    this.#write(this.#paint("red", `! ${text}`));
  }

  #paint(tone: Tone, text: string): string {
    return this.#color ? `\x1b[${SGR[tone]}m${text}\x1b[0m` : text;
  }
}

/** How far back a room's or a conversation's history has been shown. */
interface Scrollback {
  /** Older messages are those below this id; null: none shown yet. */
  before: number | null;
  /** Whether the first message has been shown. */
  atStart: boolean;
}

/** What to do when a message or a room command needs a room and there is none. */
const NOT_IN_A_ROOM =
  "you are not in a room: /join ROOM first (/rooms lists them), or c PEER for a peer chat";

/** How someone else's request to join the peer chat ended, for its members. */
function theirAnswer(event: Extract<ChatEvent, { type: "peerAnswer" }>): string {
  const user = sanitize(event.from);
  switch (event.answer) {
    case "declined":
      return `${sanitize(event.by ?? "")} declined ${user}'s request to join`;
    case "expired":
      return `${user}'s request to join expired`;
    case "withdrawn":
      return `${user}'s request to join was withdrawn`;
    default:
      return `${user}'s request to join was accepted`;
  }
}

/** A room name in quotes, made safe to print. */
function quote(name: string): string {
  return `"${sanitize(name)}"`;
}

/** What to do about a status, for the error line. */
function hint(status: string): string {
  switch (status) {
    case Status.NO_SUCH_ROOM:
      return "; /rooms lists the rooms";
    case Status.PEER_IS_SELF:
      return "; you cannot connect with yourself";
    case Status.PEER_OFFLINE:
      return "; /who lists the users online";
    case Status.BUSY:
      return "; /dm them, or try again later";
    case Status.BANNED:
      return "; the room's owner or an admin can /unban you";
    default:
      return "";
  }
}

/** What a {@link SecretInput} wants after a chunk of key presses. */
export type SecretState = "more" | "done" | "interrupt" | "eof";

/**
 * The keys of a password prompt in raw mode, without echo: collects the
 * typed bytes until Enter; Backspace erases the last character (a whole
 * UTF-8 sequence), Ctrl+U the whole line; Ctrl+C interrupts; Ctrl+D on an
 * empty line is the end of input; other control keys and escape sequences
 * (arrow keys) are ignored.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SecretInput } from "./terminal.ts";
 * const input = new SecretInput();
 * const keys = new TextEncoder().encode("pw\x7fass\r");
 * assert.ok(input.push(keys) === "done" && input.value === "pass");
 * ```
 */
export class SecretInput {
  #bytes: number[] = [];

  /** Feeds the bytes of some key presses; bytes after Enter are ignored. */
  push(chunk: Uint8Array): SecretState {
    for (const byte of chunk) {
      if (byte === 0x0d || byte === 0x0a) return "done";
      if (byte === 0x03) return "interrupt";
      if (byte === 0x04 && this.#bytes.length === 0) return "eof";
      if (byte === 0x1b) break; // an escape sequence fills the rest of its chunk
      if (byte === 0x7f || byte === 0x08) this.#erase();
      else if (byte === 0x15) this.#bytes = [];
      else if (byte >= 0x20) this.#bytes.push(byte);
    }
    return "more";
  }

  /** What was typed so far. */
  get value(): string {
    return new TextDecoder().decode(new Uint8Array(this.#bytes));
  }

  #erase(): void {
    while (this.#bytes.length > 0 && (this.#bytes[this.#bytes.length - 1] & 0xc0) === 0x80) {
      this.#bytes.pop();
    }
    this.#bytes.pop();
  }
}

/**
 * The lines of a byte stream (UTF-8), without their `\n` or `\r\n`; a last
 * line without a line break is included.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readLines } from "./terminal.ts";
 * const bytes = ReadableStream.from([new TextEncoder().encode("a\r\nb\nc")]);
 * assert.ok((await Array.fromAsync(readLines(bytes))).join() === "a,b,c");
 * ```
 */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    const lines = (rest + text).split("\n");
    rest = lines.pop()!;
    for (const line of lines) yield line.endsWith("\r") ? line.slice(0, -1) : line;
  }
  if (rest !== "") yield rest.endsWith("\r") ? rest.slice(0, -1) : rest;
}
