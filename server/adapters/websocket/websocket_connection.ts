/**
 * The WebSocket transport for one connection: each text message is one
 * request in the JSON form of `protocol/json_mapping.ts`; responses and
 * events go back the same way. A second adapter around the same core as
 * `TcpConnection`: the same dispatcher, request ordering, limits and byte
 * send queue (each event is encoded once as a whole WebSocket frame and
 * shared by its recipients), so a browser is just another client. The
 * framing is `websocket_frames.ts`, over the connection the HTTP server
 * upgraded.
 * @module
 */

import { messageToJson, parseJsonMessage } from "../../../protocol/json_mapping.ts";
import { type Message, utf8Length } from "../../../protocol/message.ts";
import type { Chat } from "../../../core/chat.ts";
import { closeMessage, eventMessage, pingMessage } from "../claptrap/event_messages.ts";
import { badRequest, dispatch, type DispatchOptions, isBarrier } from "../claptrap/dispatcher.ts";
import { encodingOnce } from "../../connection/event_encoding.ts";
import { Liveness } from "../../connection/liveness.ts";
import { RequestQueue } from "../../connection/request_queue.ts";
import { placeBytes, SendQueue } from "../../connection/send_queue.ts";
import { Session, type SessionSink } from "../../../core/session.ts";
import type { ChatEvent } from "../../../core/events.ts";
import {
  closeQuietly,
  closeWhenFlushed,
  type ConnectionLimits,
  dispatchOptionsOf,
  livenessRulesOf,
  readUntilEnd,
} from "../claptrap/tcp_connection.ts";
import {
  CloseCode,
  encodeCloseFrame,
  encodeFrame,
  encodeTextFrame,
  Opcode,
  WebSocketDecoder,
  type WebSocketInput,
} from "../../http/websocket_frames.ts";

/** A JSON message as one text frame. */
function textFrame(message: Message): Uint8Array {
  const text = messageToJson(message);
  return encodeTextFrame(text, utf8Length(text));
}

/** Each event object is encoded once, however many connections it goes to. */
const encodeEvent = encodingOnce((event: ChatEvent) => placeBytes(textFrame(eventMessage(event))));

/** One client connected over WebSocket. */
export class WebSocketConnection implements SessionSink {
  readonly address: string;
  readonly #conn: Deno.Conn;
  readonly #chat: Chat;
  readonly #limits: ConnectionLimits;
  readonly #log: (line: string) => void;
  readonly #session: Session;
  readonly #decoder: WebSocketDecoder;
  readonly #queue: SendQueue;
  readonly #requests: RequestQueue;
  readonly #dispatchOptions: DispatchOptions;
  /** The ERROR answer to a broken frame or message, after which the connection closes. */
  #lastWords: Message | null = null;
  #closeReason: string | null = null;
  /** Whether our close frame is queued. */
  #closeSent = false;
  /** Whether the client sent its close frame. */
  #clientClosed = false;
  /** Whether our side is shut for writing, waiting for the client to close. */
  #halfClosed = false;
  readonly #liveness = new Liveness(Date.now());
  /** When the incomplete frame or message began to arrive; null when there is none. */
  #partialSince: number | null = null;
  #socketClosed = false;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Takes over a connection whose upgrade request was accepted.
   * @param address the client's address, for logs
   */
  constructor(
    conn: Deno.Conn,
    chat: Chat,
    limits: ConnectionLimits,
    log: (line: string) => void,
    address: string,
  ) {
    this.#conn = conn;
    this.#chat = chat;
    this.#limits = limits;
    this.#log = log;
    this.address = address;
    this.#session = new Session(this);
    this.#decoder = new WebSocketDecoder(limits.maxFrameSize);
    this.#queue = new SendQueue(conn, {
      limit: limits.sendQueueBytes,
      onWriteError: () => this.#abort("connection lost"),
    });
    this.#requests = new RequestQueue((response) => this.#respond(response), {
      queue: this.#queue,
      limit: limits.sendQueueBytes,
    });
    this.#dispatchOptions = dispatchOptionsOf(limits, log);
  }

  /**
   * Sends the upgrade's answer, then reads and answers messages until the
   * connection ends.
   * @param handshake the `101 Switching Protocols` answer
   * @param early bytes the client sent after its upgrade request
   */
  async run(handshake: Uint8Array, early: Uint8Array): Promise<void> {
    this.#log(`connect session=${this.#session.id} addr=${this.address} via=websocket`);
    this.#queue.push(handshake, true);
    if (early.length > 0) this.#receive(early);
    const error = await readUntilEnd(
      this.#conn,
      this.#requests,
      () => this.#socketClosed,
      (chunk) => {
        this.#liveness.heard(Date.now());
        this.#receive(chunk);
      },
    );
    // a client that closes without a close frame is gone like a dropped one
    const reason = this.#closeReason ?? error ?? "connection lost";
    this.#chat.disconnect(this.#session, reason);
    this.#closeSocket();
    this.#log(`disconnect session=${this.#session.id} reason=${JSON.stringify(reason)}`);
  }

  deliver(event: ChatEvent): void {
    if (this.#closeReason !== null) return;
    if (!this.#queue.pushPlaced(encodeEvent(event))) this.#sendQueueExceeded();
  }

  /**
   * Pings a push connection that has been silent for `pingAfter` ms; closes
   * one silent for `idleLimit` ms, not logged in or stuck in a frame for
   * too long (the rules of TCP).
   */
  checkLiveness(now: number, pingAfter: number, idleLimit: number): void {
    this.#liveness.check(now, livenessRulesOf(this.#limits, pingAfter, idleLimit), {
      push: this.#session.push,
      loggedIn: this.#session.user !== null,
      partialSince: this.#partialSince,
    }, this);
  }

  /** Sends EVT_PING (see {@link WebSocketConnection.checkLiveness}). */
  ping(now: number): void {
    if (this.#closeReason !== null) return;
    if (!this.#queue.push(textFrame(pingMessage(now)))) this.#sendQueueExceeded();
  }

  close(reason: string): void {
    if (this.#closeReason !== null) return;
    if (this.#session.push) {
      this.#queue.push(
        textFrame(closeMessage(reason, this.#chat.now())),
        true,
      );
    }
    this.#closeAfterFlush(CloseCode.GOING_AWAY, reason);
  }

  #receive(chunk: Uint8Array): void {
    const inputs = this.#decoder.push(chunk);
    this.#partialSince = !this.#decoder.partial
      ? null
      : inputs.length > 0
      ? Date.now()
      : this.#partialSince ?? Date.now();
    for (const input of inputs) this.#take(input);
    const fault = this.#decoder.fault;
    if (fault && this.#closeReason === null && !this.#lastWords) {
      const reason = fault.messageBytes === undefined
        ? fault.reason
        : `${fault.messageBytes} bytes exceeds ${this.#limits.maxFrameSize}`;
      // answered after everything before it; #respond closes once it is queued
      const lastWords = badRequest(`Cannot parse message: ${reason}`);
      this.#lastWords = lastWords;
      this.#requests.push({ run: () => lastWords, barrier: true });
    }
  }

  #take(input: WebSocketInput): void {
    if (input.kind === "close") {
      // the client's close, or its answer to ours: the connection ends either way
      this.#closeAfterFlush(input.code ?? CloseCode.NORMAL, "connection closed by client", true);
      return;
    }
    // once closing, input is dropped, as on TCP
    if (this.#closeReason !== null || this.#lastWords) return;
    if (input.kind === "ping") {
      if (!this.#queue.push(encodeFrame(Opcode.PONG, input.payload))) this.#sendQueueExceeded();
    } else if (input.kind === "binary") {
      this.#answer(badRequest("Cannot parse message: binary messages are not accepted"));
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
      this.#answer(badRequest(error.message));
      return;
    }
    this.#requests.push({
      run: () => dispatch(this.#chat, this.#session, request, this.#dispatchOptions),
      barrier: isBarrier(request),
    });
  }

  #answer(response: Message): void {
    this.#requests.push({ run: () => response, barrier: false });
  }

  #respond(response: Message): void {
    if (this.#closeReason !== null) return;
    if (!this.#queue.push(textFrame(response))) {
      this.#sendQueueExceeded();
    } else if (response === this.#lastWords) {
      const fault = this.#decoder.fault!;
      this.#closeAfterFlush(fault.code, response.params.Reason);
    }
  }

  #sendQueueExceeded(): void {
    this.#abort(`send queue exceeded ${this.#limits.sendQueueBytes} bytes`);
  }

  /**
   * Queues the close frame, stops answering, and once what is queued is
   * written half-closes and waits for the client to close its side — all
   * within the grace time. Once the client has sent its close frame too,
   * the connection is closed as soon as ours is written.
   */
  #closeAfterFlush(code: number, reason: string, clientClosed = false): void {
    if (!this.#closeSent) {
      this.#closeSent = true;
      this.#queue.push(encodeCloseFrame(code, clientClosed ? "" : reason), true);
    }
    if (clientClosed) {
      this.#clientClosed = true;
      if (this.#halfClosed) this.#closeSocket();
    }
    if (this.#closeReason !== null) return;
    this.#closeReason = reason;
    this.#leaveChatSoon(reason);
    this.#graceTimer = closeWhenFlushed(this.#conn, this.#queue, this.#limits.closeGraceMs, {
      closed: () => this.#socketClosed,
      close: () => this.#closeSocket(),
      // a client that sent its close frame is not waited for
      halfClosing: () => {
        this.#halfClosed = !this.#clientClosed;
        return this.#halfClosed;
      },
    });
  }

  /** Drops what is queued, logs the session out and closes at once. */
  #abort(reason: string): void {
    if (this.#closeReason !== null) return;
    this.#closeReason = reason;
    this.#queue.stop();
    this.#leaveChatSoon(reason);
    this.#closeSocket();
  }

  /**
   * Logs the session out now rather than when the socket is finally closed
   * (a client that does not read may never complete the close handshake);
   * deferred so that a broadcast under way is not changed beneath it.
   */
  #leaveChatSoon(reason: string): void {
    queueMicrotask(() => this.#chat.disconnect(this.#session, reason));
  }

  #closeSocket(): void {
    if (this.#socketClosed) return;
    this.#socketClosed = true;
    clearTimeout(this.#graceTimer);
    this.#queue.stop();
    closeQuietly(this.#conn);
  }
}
