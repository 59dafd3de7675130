/**
 * The CS168 Chat wire (UC Berkeley, fall 2017): every message each way is
 * exactly 200 bytes, the text padded with spaces. The first is a name,
 * logged in as a guest (no reply; a refusal is one frame saying why, then
 * the connection closes). Then each is a control message — `/create X`,
 * `/join X`, `/list` — or a message to the user's channel, which is a room.
 * Others in the channel get `[name] text`, `name has joined`, `name has
 * left`; the acting user gets nothing back but errors, in the staff's
 * words where the staff wrote some. See docs/cs168.md.
 * @module
 */

import type { Chat } from "../../../core/chat.ts";
import type { ChatEvent } from "../../../core/events.ts";
import type { Outcome } from "../../../core/outcome.ts";
import { Connection, type Link, type Wire } from "../../connection/connection.ts";
import { encodingOnce } from "../../connection/event_encoding.ts";
import { pieceEnd, placeBytes } from "../../connection/send_queue.ts";
import { closeQuietly, remoteAddress } from "../../connection/socket.ts";
import type { AdapterListener, ListenerContext } from "../../listeners/adapter_listener.ts";
import { storeSafe } from "../store_safe.ts";

/** Bytes in every message, each way. */
export const FRAME_BYTES = 200;
const SPACE = 0x20;
/** Most channels `/list` names; a line then says there are more. */
export const LIST_LIMIT = 1_000;

/** The staff's strings (`utils.py`), word for word. */
export const STAFF = {
  notInChannel: "Not currently in any channel. Must join a channel before sending messages.",
  noSuchChannel: (name: string) => `No channel named ${name} exists. Try '/create ${name}'?`,
  joinNeedsName: "/join command must be followed by the name of a channel to join.",
  createNeedsName: "/create command must be followed by the name of a channel to create",
  channelExists: (name: string) => `Room ${name} already exists, so cannot be created.`,
  invalidControl: (line: string) =>
    `${line} is not a valid control message. Valid messages are /create, /list, and /join.`,
  joined: (name: string) => `${name} has joined`,
  left: (name: string) => `${name} has left`,
} as const;

const NOTHING = new Uint8Array(0);

/**
 * Text as 200-byte frames: pieces of at most 200 bytes, cut between
 * characters, each padded with spaces. Nothing for empty text.
 */
export function toFrames(text: string): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  const ends: number[] = [];
  for (let at = 0; at < bytes.length; at = ends.at(-1)!) {
    ends.push(pieceEnd(bytes, at, FRAME_BYTES));
  }
  const frames = new Uint8Array(ends.length * FRAME_BYTES).fill(SPACE);
  let start = 0;
  ends.forEach((end, i) => {
    frames.set(bytes.subarray(start, end), i * FRAME_BYTES);
    start = end;
  });
  return frames;
}

/** What the client shows of an event; empty for those it has no place for. */
function eventText(event: ChatEvent): string {
  switch (event.type) {
    case "message":
      return `[${event.from}] ${event.text.trimEnd()}`;
    case "joined":
      return STAFF.joined(event.user);
    case "left":
      return STAFF.left(event.user);
    case "removed":
      return `You were ${
        event.banned ? "banned" : "removed"
      } from ${event.place.name} by ${event.by}${
        event.reason ? `: ${event.reason}` : ""
      }. You are in no channel now.`;
    case "notice":
      return event.text;
    default:
      // peer chats, their invitations and direct messages do not reach a CS168 guest
      return "";
  }
}

/** Each event object is encoded once, however many connections it goes to. */
const encodeEvent = encodingOnce((event: ChatEvent) => placeBytes(toFrames(eventText(event))));

/** The channel names for `/list`, each followed by `\n`, packed into as few frames as they fit. */
function listFrames(names: readonly string[], more: boolean): Uint8Array {
  if (names.length === 0) return toFrames("No channels exist yet. Try '/create NAME'.");
  const lines = names.map((name) => `${name}\n`);
  if (more) lines.push(`(more than ${names.length} channels; only these are listed)\n`);
  const frames: Uint8Array[] = [];
  let text = "";
  let size = 0;
  for (const line of lines) {
    const bytes = new TextEncoder().encode(line).length;
    if (size + bytes > FRAME_BYTES && text !== "") {
      frames.push(toFrames(text));
      text = "";
      size = 0;
    }
    text += line;
    size += bytes;
  }
  frames.push(toFrames(text));
  const all = new Uint8Array(frames.reduce((sum, frame) => sum + frame.length, 0));
  frames.reduce((at, frame) => (all.set(frame, at), at + frame.length), 0);
  return all;
}

/** The CS168 wire of one connection. */
export class Cs168Wire implements Wire<Uint8Array> {
  readonly encodeEvent = encodeEvent;
  readonly #link: Link<Uint8Array>;
  readonly #chat: Chat;
  readonly #log: (line: string) => void;
  readonly #frame = new Uint8Array(FRAME_BYTES);
  #filled = 0;
  #named = false;

  constructor(link: Link<Uint8Array>, chat: Chat, log: (line: string) => void) {
    this.#link = link;
    this.#chat = chat;
    this.#log = log;
  }

  get partial(): boolean {
    return this.#filled > 0;
  }

  receive(chunk: Uint8Array): number {
    let frames = 0;
    for (let at = 0; at < chunk.length && this.#link.accepting;) {
      const taken = Math.min(FRAME_BYTES - this.#filled, chunk.length - at);
      this.#frame.set(chunk.subarray(at, at + taken), this.#filled);
      this.#filled += taken;
      at += taken;
      if (this.#filled < FRAME_BYTES) break;
      this.#filled = 0;
      frames++;
      // the receiver strips trailing white space: spaces, and the line's own LF
      this.#take(new TextDecoder().decode(this.#frame).trimEnd());
    }
    return frames;
  }

  encodeAnswer(answer: Uint8Array): Uint8Array {
    return answer;
  }

  encodePing(): Uint8Array {
    return NOTHING; // never asked for: the connection is quiet
  }

  farewell(reason: string, push: boolean): readonly Uint8Array[] {
    return push ? [toFrames(`Disconnected by the server: ${reason}`)] : [];
  }

  #take(text: string): void {
    const link = this.#link;
    if (!this.#named) {
      this.#named = true;
      return link.request(() => this.#login(text), true);
    }
    if (text === "") return; // the client's end of input, or an empty line
    if (!text.startsWith("/")) return link.request(() => this.#post(text), false);
    const words = text.split(" ");
    switch (words[0]) {
      case "/list":
        return link.request(() => this.#list(), false);
      case "/join":
      case "/create": {
        const create = words[0] === "/create";
        if (words.length !== 2 || words[1] === "") {
          return link.answer(toFrames(create ? STAFF.createNeedsName : STAFF.joinNeedsName));
        }
        return link.request(() => create ? this.#create(words[1]) : this.#join(words[1]), true);
      }
      default:
        return link.answer(toFrames(STAFF.invalidControl(text)));
    }
  }

  async #login(name: string): Promise<Uint8Array> {
    const login = await this.#safely(
      this.#chat.loginGuest(this.#link.session, name, true),
      "cs168-login",
    );
    if (login.status === "OK") return NOTHING;
    const reason = login.reason ?? login.status;
    this.#link.fail(toFrames(`Cannot chat as ${name}: ${reason}`), `name refused: ${reason}`);
    return NOTHING;
  }

  async #post(text: string): Promise<Uint8Array> {
    const session = this.#link.session;
    if (session.user === null) return NOTHING; // its login was refused: the connection is closing
    if (!session.room) return toFrames(STAFF.notInChannel);
    const limited = this.#chat.takeMessageToken(session);
    if (limited) return toFrames(`Message not sent: ${limited.reason}`);
    const posted = await this.#safely(Promise.resolve(this.#chat.post(session, text)), "cs168-msg");
    if (posted.status === "OK") return NOTHING;
    if (posted.status === "NOT_IN_ROOM") return toFrames(STAFF.notInChannel);
    return toFrames(`Message not sent: ${posted.reason ?? posted.status}`);
  }

  #list(): Uint8Array {
    if (this.#link.session.user === null) return NOTHING;
    const page = this.#chat.roomPage(null, LIST_LIMIT)!;
    return listFrames(page.rooms.map((room) => room.name), page.more);
  }

  async #create(name: string): Promise<Uint8Array> {
    const session = this.#link.session;
    if (session.user === null) return NOTHING;
    const limited = this.#chat.takeMessageToken(session);
    if (limited) return toFrames(`Cannot create ${name}: ${limited.reason}`);
    const created = await this.#safely(this.#chat.createRoom(session, name), "cs168-create");
    if (created.status === "ROOM_EXISTS") return toFrames(STAFF.channelExists(name));
    if (created.status !== "OK") {
      return toFrames(`Cannot create ${name}: ${created.reason ?? created.status}`);
    }
    return await this.#join(name);
  }

  async #join(name: string): Promise<Uint8Array> {
    const session = this.#link.session;
    if (session.user === null) return NOTHING;
    const joined = await this.#safely(
      Promise.resolve(this.#chat.join(session, name)),
      "cs168-join",
    );
    switch (joined.status) {
      case "OK":
        return NOTHING;
      case "NO_SUCH_ROOM":
        return toFrames(STAFF.noSuchChannel(name));
      case "BANNED":
        return toFrames(`You are banned from ${name}: ${joined.reason}`);
      default:
        return toFrames(`Cannot join ${name}: ${joined.reason ?? joined.status}`);
    }
  }

  #safely(outcome: Promise<Outcome>, what: string): Promise<Outcome> {
    return storeSafe(outcome, this.#log, what, {
      status: "BUSY",
      reason: "the server could not store this",
    });
  }
}

/** A CS168 client's connection. */
function cs168Connection(conn: Deno.Conn, context: ListenerContext): Connection<Uint8Array> {
  return new Connection(conn, {
    chat: context.chat,
    limits: context.limits,
    log: context.log,
    address: remoteAddress(conn),
    wire: (link) => new Cs168Wire(link, context.chat, context.log),
    via: " via=cs168",
    endReason: "connection closed by client",
    peerChats: false,
    quiet: true,
  });
}

/** The CS168 Chat listener: `--cs168-port`. */
export const CS168_LISTENER: AdapterListener = {
  name: "cs168",
  port: (options) => options.cs168Port,
  connect: cs168Connection,
  refuse(conn, reason) {
    return conn.write(toFrames(`Cannot connect: ${reason}`)).then(() => {}, () => {}).finally(
      () => closeQuietly(conn),
    );
  },
};
