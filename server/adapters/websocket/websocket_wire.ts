/**
 * The Claptrap protocol in JSON over WebSocket, for the web page: each text
 * message is one request in the form of `protocol/json_mapping.ts`, and
 * answers and events go back the same way. The request table is the
 * Claptrap adapter's; the framing is `server/http/websocket_frames.ts`,
 * over the connection the HTTP server upgraded. A WebSocket session never
 * speaks the original dialect.
 * @module
 */

import type { ChatEvent } from "../../../core/events.ts";
import { messageToJson, parseJsonMessage } from "../../../protocol/json_mapping.ts";
import type { Message } from "../../../protocol/message.ts";
import {
  Connection,
  type ConnectionLimits,
  type Link,
  type Wire,
} from "../../connection/connection.ts";
import { encodingOnce } from "../../connection/event_encoding.ts";
import { placeBytes } from "../../connection/send_queue.ts";
import {
  CloseCode,
  encodeCloseFrame,
  encodeFrame,
  encodeTextFrame,
  Opcode,
  WebSocketDecoder,
  type WebSocketInput,
} from "../../http/websocket_frames.ts";
import { ClaptrapWire } from "../claptrap/claptrap_wire.ts";
import { badRequest, type ClaptrapContext, isBarrier } from "../claptrap/dispatcher.ts";
import { closeMessage, encoding21, eventMessage, pingMessage } from "../claptrap/event_messages.ts";

/** A JSON message as one text frame. */
function textFrame(message: Message): Uint8Array {
  return encodeTextFrame(messageToJson(message));
}

/** Each event object is encoded once, as a whole frame, however many connections it goes to. */
const encodeEvent = encodingOnce((event: ChatEvent) => placeBytes(textFrame(eventMessage(event))));

/** The same for 2.1 sessions, sharing the frames of the events told to all alike. */
const encodeEvent21 = encodingOnce(
  encoding21(encodeEvent, (message) => placeBytes(textFrame(message))),
);

/** The JSON-over-WebSocket wire of one connection. */
export class WebSocketWire extends ClaptrapWire<Message> implements Wire<Message> {
  readonly encodeEvent = encodeEvent;
  protected readonly encodeEvent21 = encodeEvent21;
  readonly encodeAnswer = textFrame;
  readonly #decoder: WebSocketDecoder;
  readonly #maxFrameSize: number;

  constructor(link: Link<Message>, context: ClaptrapContext, maxFrameSize: number) {
    super(link, context, false);
    this.#decoder = new WebSocketDecoder(maxFrameSize);
    this.#maxFrameSize = maxFrameSize;
  }

  get partial(): boolean {
    return this.#decoder.partial;
  }

  receive(chunk: Uint8Array): number {
    const inputs = this.#decoder.push(chunk);
    for (const input of inputs) this.#take(input);
    const fault = this.#decoder.fault;
    if (fault && this.link.accepting) {
      const reason = `Cannot parse message: ${
        fault.messageBytes === undefined
          ? fault.reason
          : `${fault.messageBytes} bytes exceeds ${this.#maxFrameSize}`
      }`;
      this.link.fail(badRequest(reason), reason, encodeCloseFrame(fault.code, reason));
    }
    return inputs.length;
  }

  encodePing(now: number): Uint8Array {
    return textFrame(pingMessage(now));
  }

  farewell(reason: string, push: boolean, now: number): readonly Uint8Array[] {
    const closeFrame = encodeCloseFrame(CloseCode.GOING_AWAY, reason);
    return push ? [textFrame(closeMessage(reason, now)), closeFrame] : [closeFrame];
  }

  #take(input: WebSocketInput): void {
    if (input.kind === "close") {
      // the client's close, or its answer to ours: the connection ends either way
      return this.link.clientClosed(encodeCloseFrame(input.code ?? CloseCode.NORMAL, ""));
    }
    // once closing, input is dropped, as on TCP
    if (!this.link.accepting) return;
    if (input.kind === "ping") {
      this.link.send(encodeFrame(Opcode.PONG, input.payload));
    } else if (input.kind === "binary") {
      this.link.answer(badRequest("Cannot parse message: binary messages are not accepted"));
    } else if (input.kind === "text") {
      this.#request(input.text);
    }
  }

  #request(text: string): void {
    let request: Message;
    try {
      request = parseJsonMessage(text);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      return this.link.answer(badRequest(error.message));
    }
    this.link.request(() => this.dispatch(request), isBarrier(request));
  }
}

/**
 * A web page's connection over WebSocket, once its upgrade request was
 * accepted; `run` it with the upgrade's answer and the bytes that came after
 * the request.
 * @param address the client's address, for logs
 */
export function webSocketConnection(
  conn: Deno.Conn,
  context: ClaptrapContext,
  limits: ConnectionLimits,
  address: string,
): Connection<Message> {
  return new Connection(conn, {
    chat: context.chat,
    limits,
    log: context.log,
    address,
    wire: (link) => new WebSocketWire(link, context, limits.maxFrameSize),
    via: " via=websocket",
    // a client that closes without a close frame is gone like a dropped one
    endReason: "connection lost",
  });
}
