/**
 * The Multi-Client Chatroom's wire (`delvison/Muilti-Client-Chatroom`): raw
 * UTF-8 text without framing, one message per read. The first read is a
 * name, logged in as a guest and put in the listener's one room: `OK`,
 * then, in a write of its own, `&Host&` and the room's members joined by
 * `&`; or `NOT_UNIQUE` and the connection closes (the only refusal its
 * client knows). Every later read is a message to the room. Others' messages
 * come as `[HH:MM:SS] name > text` (server local time), comings and goings
 * as `[HH:MM:SS] [*] name entered.` / `exited.`, and anything the server
 * itself says as `[HH:MM:SS] Host > text`. Writes go one at a time, spaced,
 * as its client takes each read as one message. See docs/chatroom.md.
 * @module
 */

import type { Chat } from "../../../core/chat.ts";
import type { Outcome } from "../../../core/outcome.ts";
import type { ChatEvent } from "../../../core/events.ts";
import { Connection, type Link, type Wire } from "../../connection/connection.ts";
import { encodingOnce } from "../../connection/event_encoding.ts";
import { placeBytes, type WriteSpacing } from "../../connection/send_queue.ts";
import {
  type AdapterListener,
  type ListenerContext,
  ListenError,
} from "../../listeners/adapter_listener.ts";
import { serverDefault } from "../../options.ts";
import { storeSafe } from "../store_safe.ts";
import { remoteAddress } from "../../connection/socket.ts";

/** The name the server speaks as, first in every user list; no guest may take it. */
export const HOST = "Host";

/**
 * One message per write, 50 ms apart (the client's two reads of `OK` and the
 * user list were never merged with that pause, and often without it), each
 * write within one TCP segment, cut between characters.
 */
export const CHATROOM_SPACING: WriteSpacing = { ms: 50, maxBytes: 1400 };

/**
 * One send of the client may reach us in several reads (a long message, a
 * busy machine): bytes that come within this many ms of the last are one
 * message. People type slower.
 */
export const GATHER_MS = 20;
/** Most characters gathered into one message; more is cut off as a message of its own. */
const GATHER_LIMIT = 64 * 1024;

const OK = new TextEncoder().encode("OK");
const NOT_UNIQUE = new TextEncoder().encode("NOT_UNIQUE");
const NOTHING = new Uint8Array(0);

/** A server time as the client shows it: `[HH:MM:SS]`, local time, 24-hour. */
export function clock(ms: number): string {
  const date = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `[${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}]`;
}

/** A line from the server itself. */
function hostLine(text: string, now: number): Uint8Array {
  return new TextEncoder().encode(`${clock(now)} ${HOST} > ${text}`);
}

/** What the client shows of an event; empty for those it has no place for. */
function eventText(event: ChatEvent): string {
  switch (event.type) {
    case "message":
      return `${clock(event.time)} ${event.from} > ${event.text.trimEnd()}`;
    case "joined":
      return `${clock(event.time)} [*] ${event.user} entered.`;
    case "left":
      return `${clock(event.time)} [*] ${event.user} exited.`;
    case "removed":
      return `${clock(event.time)} ${HOST} > ${
        event.banned ? "banned" : "removed"
      } from ${event.place.name} by ${event.by}${
        event.reason ? `: ${event.reason}` : ""
      }; reconnect to come back`;
    case "notice":
      return `${clock(event.time)} ${HOST} > ${event.text}`;
    default:
      // peer chats, their invitations and direct messages do not reach a guest in one room
      return "";
  }
}

/** Each event object is encoded once, however many connections it goes to. */
const encodeEvent = encodingOnce((event: ChatEvent) =>
  placeBytes(new TextEncoder().encode(eventText(event)))
);

/** Why a name cannot be a Chatroom user's, or null; the name rules come after. */
function chatroomNameProblem(name: string): string | null {
  if (name === HOST) return `${HOST} is the server's name`;
  // the client reads names out of `[*] name entered.` as the second-to-last word
  if (/\s/.test(name)) return "name contains white space";
  return null;
}

/** The Multi-Client Chatroom wire of one connection. */
export class ChatroomWire implements Wire<Uint8Array> {
  readonly encodeEvent = encodeEvent;
  /** A message being gathered is sent after {@link GATHER_MS}, never held as a frame. */
  readonly partial = false;
  readonly #link: Link<Uint8Array>;
  readonly #chat: Chat;
  readonly #room: string;
  readonly #log: (line: string) => void;
  /** Keeps a character split between two reads whole. */
  readonly #decoder = new TextDecoder();
  #named = false;
  /** The text of the reads gathered into the next message. */
  #gathered = "";
  #gathering: ReturnType<typeof setTimeout> | undefined;
  readonly #takeLater = () => this.#take();

  constructor(link: Link<Uint8Array>, chat: Chat, room: string, log: (line: string) => void) {
    this.#link = link;
    this.#chat = chat;
    this.#room = room;
    this.#log = log;
  }

  receive(chunk: Uint8Array): number {
    // once closing, input is read and dropped, so that the close is a FIN, not a reset
    if (!this.#link.accepting) return 0;
    this.#gathered += this.#decoder.decode(chunk, { stream: true });
    clearTimeout(this.#gathering);
    if (this.#gathered.length >= GATHER_LIMIT) this.#take();
    else this.#gathering = setTimeout(this.#takeLater, GATHER_MS);
    return 0;
  }

  inputEnded(): void {
    if (this.#gathered !== "") this.#take();
  }

  /** Takes what was gathered: the name, then messages. */
  #take(): void {
    clearTimeout(this.#gathering);
    const text = this.#gathered.trimEnd();
    this.#gathered = "";
    if (!this.#link.accepting) return;
    if (!this.#named) {
      this.#named = true;
      this.#link.request(() => this.#admit(text), true);
      // a write of its own, after OK: the client reads the two separately
      this.#link.request(() => this.#userList(), false);
    } else if (text !== "") {
      this.#link.request(() => this.#post(text), false);
    }
  }

  encodeAnswer(answer: Uint8Array): Uint8Array {
    return answer;
  }

  encodePing(): Uint8Array {
    return NOTHING; // never asked for: the connection is quiet
  }

  farewell(reason: string, push: boolean, now: number): readonly Uint8Array[] {
    return push ? [hostLine(reason, now)] : [];
  }

  async #admit(name: string): Promise<Uint8Array> {
    const { session } = this.#link;
    const problem = chatroomNameProblem(name);
    let refusal = problem;
    if (!problem) {
      const login = await storeSafe<Outcome>(
        this.#chat.loginGuest(session, name, true),
        this.#log,
        "chatroom-login",
        { status: "BUSY", reason: "the server could not log you in" },
      );
      if (login.status !== "OK") refusal = login.reason ?? login.status;
    }
    if (!refusal) {
      const joined = await storeSafe<Outcome>(
        Promise.resolve(this.#chat.join(session, this.#room)),
        this.#log,
        "chatroom-join",
        { status: "BUSY", reason: "the server could not store this" },
      );
      if (joined.status !== "OK") {
        refusal = `cannot join ${this.#room}: ${joined.reason ?? joined.status}`;
        this.#chat.logout(session);
      }
    }
    if (!refusal) return OK;
    this.#link.fail(NOT_UNIQUE, `name refused: ${refusal}`);
    return NOTHING;
  }

  async #userList(): Promise<Uint8Array> {
    const members = await this.#chat.members(this.#link.session);
    if (members === null) return NOTHING; // refused
    return new TextEncoder().encode(`&${HOST}&${members.join("&")}`);
  }

  async #post(text: string): Promise<Uint8Array> {
    const { session } = this.#link;
    if (session.user === null) return NOTHING; // its login was refused: the connection is closing
    const limited = this.#chat.takeMessageToken(session);
    if (limited) return hostLine(`not sent: ${limited.reason}`, this.#chat.now());
    const posted = await storeSafe<Outcome>(
      Promise.resolve(this.#chat.post(session, text)),
      this.#log,
      "chatroom-message",
      { status: "BUSY", reason: "the server could not store this" },
    );
    if (posted.status === "OK") return NOTHING;
    const reason = posted.status === "NOT_IN_ROOM"
      ? `you are not in ${this.#room} any more; reconnect to come back`
      : posted.reason ?? posted.status;
    return hostLine(`not sent: ${reason}`, this.#chat.now());
  }
}

/** A Multi-Client Chatroom client's connection. */
function chatroomConnection(conn: Deno.Conn, context: ListenerContext): Connection<Uint8Array> {
  const room = context.options.chatroomRoom ?? serverDefault("chatroomRoom");
  return new Connection(conn, {
    chat: context.chat,
    limits: context.limits,
    log: context.log,
    address: remoteAddress(conn),
    wire: (link) => new ChatroomWire(link, context.chat, room, context.log),
    via: " via=chatroom",
    endReason: "connection closed by client",
    peerChats: false,
    quiet: true,
    spacing: CHATROOM_SPACING,
  });
}

/** The Multi-Client Chatroom listener: `--chatroom-port`, its room `--chatroom-room`. */
export const CHATROOM_LISTENER: AdapterListener = {
  name: "chatroom",
  port: (options) => options.chatroomPort,
  async prepare(chat, options) {
    const room = options.chatroomRoom ?? serverDefault("chatroomRoom");
    const made = await chat.ensureRoom(room);
    if (made.status !== "OK") {
      throw new ListenError(
        `cannot make the chatroom room ${JSON.stringify(room)}: ${made.reason}`,
      );
    }
  },
  connect: chatroomConnection,
};
