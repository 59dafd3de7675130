/**
 * The CS 544 Chat Service Protocol over TCP: one JSON request per line
 * (`protocol/cs544_pdu.ts`), answered by the request mapping
 * (`requests.ts`), one at a time; events as `event_pdus.ts` renders them.
 * Its client breaks when a line arrives within microseconds of its own
 * sending (it writes from one thread while another reads), so nothing is
 * written to a connection within {@link CS544_WRITE_DELAY_MS} of a read.
 * @module
 */

import type { Chat } from "../../../core/chat.ts";
import type { ChatEvent, MemberLeft } from "../../../core/events.ts";
import type { Session } from "../../../core/session.ts";
import {
  CS544_VERSION,
  Cs544Code,
  type Cs544Request,
  type Cs544Response,
  encodeCs544Response,
  encodeCs544Responses,
  parseCs544Request,
} from "../../../protocol/cs544_pdu.ts";
import { LineDecoder } from "../../../protocol/line_decoder.ts";
import {
  Connection,
  type ConnectionLimits,
  type Link,
  type Wire,
} from "../../connection/connection.ts";
import { encodingOnce } from "../../connection/event_encoding.ts";
import type { AdapterListener } from "../../listeners/adapter_listener.ts";
import { placeBytes, type PlacedBytes } from "../../connection/send_queue.ts";
import { closeQuietly, remoteAddress } from "../../connection/socket.ts";
import { eventPdu, noticePdu, removedPdu } from "./event_pdus.ts";
import { answerRequest, type Cs544Answer, type Cs544Client, VERSION_MISMATCH } from "./requests.ts";

/**
 * How long nothing is written to a client after bytes arrive from it, in
 * ms: a relay adding 20 ms each way made the original client work every
 * time, where a direct loopback connection broke it every time.
 */
export const CS544_WRITE_DELAY_MS = 20;

/** Events the same for every CS 544 connection, encoded once however many it goes to. */
const encodeShared = encodingOnce((event: ChatEvent): PlacedBytes | null => {
  const pdu = eventPdu(event);
  return pdu === null ? null : placeBytes(encodeCs544Response(pdu));
});

const NOTHING = new Uint8Array(0);

/** The CS 544 wire of one connection. */
export class Cs544Wire implements Wire<Cs544Answer>, Cs544Client {
  readonly session: Session;
  spelling: string | null = null;
  readonly #link: Link<Cs544Answer>;
  readonly #chat: Chat;
  readonly #lines: LineDecoder;

  constructor(link: Link<Cs544Answer>, chat: Chat, maxLineBytes: number) {
    this.#link = link;
    this.session = link.session;
    this.#chat = chat;
    this.#lines = new LineDecoder({ maxLineBytes });
  }

  /**
   * Shared encodings, but for the two events about this client: its own
   * removal names it as it spells itself, and a removal it made is told by
   * its answer (the kicker gets exactly one `191` or `192`).
   */
  readonly encodeEvent = (event: ChatEvent): PlacedBytes | null => {
    if (event.type === "removed") {
      const pdu = removedPdu(event, this.spelling ?? this.session.user ?? "");
      return placeBytes(encodeCs544Response(pdu));
    }
    if (event.type === "left" && this.#removedByMe(event)) return null;
    return encodeShared(event);
  };

  get partial(): boolean {
    return this.#lines.buffered !== 0;
  }

  receive(chunk: Uint8Array): number {
    // once closing, input is read and dropped, so that the close is a FIN, not a reset
    if (!this.#link.accepting) return 0;
    const lines = this.#lines.push(chunk);
    for (const line of lines) this.#take(line);
    const error = this.#lines.error;
    if (error) this.#link.fail([closingPdu(error.message)], error.message);
    return lines.length;
  }

  encodeAnswer(answer: Cs544Answer): Uint8Array {
    return encodeCs544Responses(answer);
  }

  /** Never called: the protocol has no keep-alive, so CS 544 connections are not pinged. */
  encodePing(): Uint8Array {
    return NOTHING;
  }

  farewell(reason: string): readonly Uint8Array[] {
    return [encodeCs544Response(closingPdu(`Connection closed by the server: ${reason}`))];
  }

  #take(line: Uint8Array): void {
    let request: Cs544Request;
    try {
      request = parseCs544Request(line);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      return this.#link.answer([noticePdu(error.message)]);
    }
    if (request.version !== CS544_VERSION) {
      return this.#link.fail([VERSION_MISMATCH], "protocol version mismatch");
    }
    // its client never sends before it is answered: one at a time keeps each on the state before it
    this.#link.request(() => answerRequest(this.#chat, this, request), true);
  }

  #removedByMe(event: MemberLeft): boolean {
    const cause = event.cause;
    return (cause.kind === "kicked" || cause.kind === "banned") &&
      cause.by === this.session.user;
  }
}

/** `330`: the one code after which the client disconnects, printing the payload. */
function closingPdu(text: string): Cs544Response {
  return { code: Cs544Code.VERSION_MISMATCH, channel: "", parameters: {}, payload: text };
}

/** A CS 544 client's connection. */
export function cs544Connection(
  conn: Deno.Conn,
  context: { chat: Chat; log: (line: string) => void },
  limits: ConnectionLimits,
): Connection<Cs544Answer> {
  return new Connection(conn, {
    chat: context.chat,
    limits,
    log: context.log,
    address: remoteAddress(conn),
    wire: (link) => new Cs544Wire(link, context.chat, limits.maxFrameSize),
    via: " via=cs544",
    endReason: "connection closed by client",
    writeDelayMs: CS544_WRITE_DELAY_MS,
    // its client has no keep-alive: a logged-in one is never pinged or closed for silence
    peerChats: false,
    quiet: true,
  });
}

/**
 * Turns a connection away before it is served, over a connection cap: a
 * `330` saying why (its client prints it and disconnects), then close.
 */
export function refuseCs544(conn: Deno.Conn, reason: string): Promise<void> {
  const refusal = encodeCs544Response(closingPdu(`Connection refused: ${reason}`));
  return conn.write(refusal).then(() => {}, () => {}).finally(() => closeQuietly(conn));
}

/** The CS 544 listener (`--cs544-port`). */
export const CS544_LISTENER: AdapterListener = {
  name: "cs544",
  port: (options) => options.cs544Port,
  connect: (conn, context) => cs544Connection(conn, context, context.limits),
  refuse: refuseCs544,
};
