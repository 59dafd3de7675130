/**
 * The Claptrap protocol over TCP: frames (`protocol/frame.ts`) holding
 * messages (`protocol/message.ts`), answered by the request table. A TCP
 * session speaks the original dialect until it says HELLO with major
 * version 2: then the original requests get the original server's bytes
 * (`original_answers.ts`), each held back until answered, as the original
 * client never sends the next request before.
 * @module
 */

import type { ChatEvent } from "../../../core/events.ts";
import { FrameDecoder } from "../../../protocol/frame.ts";
import { encodeMessage, type Message, parseMessage } from "../../../protocol/message.ts";
import { Response, Status } from "../../../protocol/methods.ts";
import { isOriginalRequest, type OriginalRequest } from "../../../protocol/original.ts";
import {
  Connection,
  type ConnectionLimits,
  type Link,
  type Wire,
} from "../../connection/connection.ts";
import { encodingOnce } from "../../connection/event_encoding.ts";
import type { Answered } from "../../connection/request_queue.ts";
import { placeBytes } from "../../connection/send_queue.ts";
import { closeQuietly, remoteAddress } from "../../connection/socket.ts";
import { ClaptrapWire } from "./claptrap_wire.ts";
import { badRequest, type ClaptrapContext, isBarrier } from "./dispatcher.ts";
import { closeMessage, encoding21, eventMessage, pingMessage } from "./event_messages.ts";
import { answerOriginal } from "./original_answers.ts";

/** An answer: a message, or the bytes of an original-dialect answer. */
export type TcpAnswer = Message | Uint8Array;

/** Each event object is encoded once, however many connections it goes to. */
const encodeEvent = encodingOnce((event: ChatEvent) =>
  placeBytes(encodeMessage(eventMessage(event)))
);

/** The same for 2.1 sessions, sharing the bytes of the events told to all alike. */
const encodeEvent21 = encodingOnce(
  encoding21(encodeEvent, (message) => placeBytes(encodeMessage(message))),
);

/** The Claptrap wire of one TCP connection. */
export class ClaptrapTcpWire extends ClaptrapWire<TcpAnswer> implements Wire<TcpAnswer> {
  readonly encodeEvent = encodeEvent;
  protected readonly encodeEvent21 = encodeEvent21;
  readonly #decoder: FrameDecoder;

  constructor(link: Link<TcpAnswer>, context: ClaptrapContext, maxFrameSize: number) {
    super(link, context, true);
    this.#decoder = new FrameDecoder({ maxFrameSize });
  }

  get partial(): boolean {
    return this.#decoder.buffered !== 0;
  }

  receive(chunk: Uint8Array): number {
    // once closing, input is read and dropped, so that the close is a FIN, not a reset
    if (!this.link.accepting) return 0;
    const payloads = this.#decoder.push(chunk);
    for (const payload of payloads) {
      let request: Message;
      try {
        request = parseMessage(payload);
      } catch (error) {
        if (!(error instanceof SyntaxError)) throw error;
        this.link.answer(badRequest(error.message));
        continue;
      }
      // the original client never pipelines; holding the rest back keeps a lagged answer in order
      this.link.request(() => this.#answer(request), this.original || isBarrier(request));
    }
    const error = this.#decoder.error;
    if (error) this.link.fail(badRequest(error.message), error.message);
    return payloads.length;
  }

  encodeAnswer(answer: TcpAnswer): Uint8Array {
    return answer instanceof Uint8Array ? answer : encodeMessage(answer);
  }

  encodePing(now: number): Uint8Array {
    return encodeMessage(pingMessage(now));
  }

  farewell(reason: string, push: boolean, now: number): readonly Uint8Array[] {
    return push ? [encodeMessage(closeMessage(reason, now))] : [];
  }

  /** Answers a request: in the original dialect when the session speaks it and the request is original. */
  #answer(request: Message): Answered<TcpAnswer> {
    const method = request.method;
    if (this.original && isOriginalRequest(method)) return this.#answerOriginal(method, request);
    return this.dispatch(request);
  }

  /** Its own method: the closure it makes would cost {@link ClaptrapTcpWire.#answer} a context. */
  #answerOriginal(method: OriginalRequest, request: Message): Promise<Uint8Array> | Uint8Array {
    return answerOriginal(method, {
      answer: () => this.dispatch(request),
      signal: this.link.closingSignal,
    });
  }
}

/** A Claptrap client's connection over TCP. */
export function claptrapTcpConnection(
  conn: Deno.Conn,
  context: ClaptrapContext,
  limits: ConnectionLimits,
): Connection<TcpAnswer> {
  return new Connection(conn, {
    chat: context.chat,
    limits,
    log: context.log,
    address: remoteAddress(conn),
    wire: (link) => new ClaptrapTcpWire(link, context, limits.maxFrameSize),
    endReason: "connection closed by client",
  });
}

/**
 * Turns a connection away before it is served: one ERROR frame with
 * TOO_MANY_CONNECTIONS and the reason (on plain TCP; a TLS connection has
 * not finished its handshake yet and is just closed), then close.
 */
export function refuseConnection(conn: Deno.Conn, reason: string, plain: boolean): void {
  const close = () => closeQuietly(conn);
  if (!plain) return close();
  const refusal = encodeMessage({
    method: Response.ERROR,
    params: { Status: Status.TOO_MANY_CONNECTIONS, Reason: reason },
  });
  conn.write(refusal).catch(() => {}).finally(close);
}
