/**
 * The ICS chat over TCP (`protocol/ics.ts`): its client reads each answer
 * right after its request, and reads at most one frame between its turns,
 * so the wire holds events while a request is unanswered, and sends what
 * the client can show in the state it is in: a peer chat's messages,
 * arrivals and end while it chats, and while it is idle only the one frame
 * that starts a chat. Its client has no keep-alive: no pings, no idle
 * timeout.
 * @module
 */

import type { ChatEvent } from "../../../core/events.ts";
import type { Session } from "../../../core/session.ts";
import {
  encodeIcsFrame,
  IcsDecoder,
  type IcsRequest,
  parseIcsRequest,
} from "../../../protocol/ics.ts";
import {
  Connection,
  type ConnectionLimits,
  type Link,
  type Wire,
} from "../../connection/connection.ts";
import { encodingOnce } from "../../connection/event_encoding.ts";
import { placeBytes } from "../../connection/send_queue.ts";
import type { AdapterListener } from "../../listeners/adapter_listener.ts";
import {
  answerIcs,
  type IcsAnswer,
  type IcsClient,
  type IcsContext,
  icsError,
  icsNotice,
  NO_REPLY,
} from "./ics_requests.ts";
import { remoteAddress } from "../../connection/socket.ts";

/** What the client makes of a frame that starts or joins a chat. */
function connectRequest(from: string): Uint8Array {
  return encodeIcsFrame({ action: "connect", status: "request", from });
}

/** The frame that ends the client's chat. */
const DISCONNECT = encodeIcsFrame({ action: "disconnect" });

/** An event as the client shows it; events it has no frame for are screened out before. */
function eventFrame(event: ChatEvent): Uint8Array {
  switch (event.type) {
    case "message":
      return encodeIcsFrame(
        { action: "exchange", from: `[${event.from}]`, message: event.text },
        "message",
      );
    case "joined":
      return connectRequest(event.user);
    case "invitation-answered":
      // to the one who asked to join, once let in: the member who let them in
      return connectRequest(event.by ?? event.from);
    case "peer-chat-ended":
      return DISCONNECT;
    case "notice":
      return icsNotice(event.text);
    default:
      return NO_REPLY;
  }
}

/** Each event object is encoded once, however many connections it goes to. */
const encodeEvent = encodingOnce((event: ChatEvent) => placeBytes(eventFrame(event)));

/** The ICS wire of one TCP connection. */
export class IcsWire implements Wire<IcsAnswer>, IcsClient {
  readonly encodeEvent = encodeEvent;
  readonly holdsEvents = true;
  readonly session: Session;
  chatting = false;
  readonly #link: Link<IcsAnswer>;
  readonly #context: IcsContext;
  readonly #decoder: IcsDecoder;

  constructor(link: Link<IcsAnswer>, context: IcsContext, maxFrameSize: number) {
    this.#link = link;
    this.session = link.session;
    this.#context = context;
    this.#decoder = new IcsDecoder(maxFrameSize);
  }

  get partial(): boolean {
    return this.#decoder.partial;
  }

  receive(chunk: Uint8Array): number {
    // once closing, input is read and dropped, so that the close is a FIN, not a reset
    if (!this.#link.accepting) return 0;
    const texts = this.#decoder.push(chunk);
    for (const text of texts) {
      let request: IcsRequest;
      try {
        request = parseIcsRequest(text);
      } catch (error) {
        if (!(error instanceof SyntaxError)) throw error;
        this.#link.answer(icsError("bad-request", error.message));
        continue;
      }
      // the client never sends a request before the last is answered (exchange and disconnect
      // are not answered, and go in order): each waits for the one before
      this.#link.request(() => answerIcs(this.#context, this, request), true);
    }
    const error = this.#decoder.error;
    if (error) this.#link.fail(icsError("bad-request", error.message), error.message);
    return texts.length;
  }

  encodeAnswer(answer: IcsAnswer): Uint8Array {
    return answer;
  }

  encodePing(): Uint8Array {
    return NO_REPLY;
  }

  farewell(reason: string): readonly Uint8Array[] {
    return this.chatting ? [icsNotice(`connection closed: ${reason}`)] : [];
  }

  /**
   * Whether the client can show an event now: while chatting, its peer
   * chat's messages, arrivals, end and operator notices; while idle, only a
   * frame that starts a chat (someone connected with it, or let it in).
   */
  screen(event: ChatEvent): boolean {
    switch (event.type) {
      case "message":
      case "notice":
        return this.chatting;
      case "joined":
        if (event.place.kind !== "group") return false;
        this.chatting = true;
        return true;
      case "invitation-answered":
        if (this.chatting || event.answer !== "accepted" || event.from !== this.session.user) {
          return false;
        }
        this.chatting = true;
        return true;
      case "peer-chat-ended":
        if (!this.chatting) return false;
        this.chatting = false;
        return true;
      default:
        return false;
    }
  }
}

/** An ICS client's connection over TCP. */
export function icsConnection(
  conn: Deno.Conn,
  context: IcsContext,
  limits: ConnectionLimits,
): Connection<IcsAnswer> {
  return new Connection(conn, {
    chat: context.chat,
    limits,
    log: context.log,
    address: remoteAddress(conn),
    wire: (link) => new IcsWire(link, context, limits.maxFrameSize),
    via: " via=ics",
    endReason: "connection closed by client",
    // the client sends nothing unless its user types, and has no frame for a ping
    quiet: true,
  });
}

/**
 * The ICS chat's listener (`--ics-port`). A connection over a cap is just
 * closed: the protocol has no frame to refuse with.
 */
export const ICS_LISTENER: AdapterListener = {
  name: "ics",
  port: (options) => options.icsPort,
  connect: (conn, { chat, limits, log, options }) =>
    icsConnection(conn, { chat, log, poems: options.poems }, limits),
};
