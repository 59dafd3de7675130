/**
 * The WebSocket transport for one connection: each text message is one
 * request in the JSON form of `protocol/json_mapping.ts`; responses and
 * events go back the same way. A second adapter around the same core as
 * `TcpConnection`: the same dispatcher, request ordering, limits and
 * send-queue bound, so a browser is just another client.
 * @module
 */

import { messageToJson, parseJsonMessage } from "../protocol/json_mapping.ts";
import { type Message, utf8Length } from "../protocol/message.ts";
import { Event } from "../protocol/methods.ts";
import { type Chat, formatTime } from "./chat.ts";
import { badRequest, dispatch, type DispatchOptions, isBarrier } from "./dispatcher.ts";
import { encodingOnce } from "./event_encoding.ts";
import { Liveness } from "./liveness.ts";
import { MAX_OUTSTANDING, type QueuedRequest, RequestQueue } from "./request_queue.ts";
import { type Peer, Session } from "./session.ts";
import { type ConnectionLimits, dispatchOptionsOf, livenessRulesOf } from "./tcp_connection.ts";
import { WebSocketSendQueue } from "./websocket_send_queue.ts";

/** The WebSocket close codes the server uses (RFC 6455 §7.4.1). */
export const CloseCode = {
  /** The server is shutting down. */
  GOING_AWAY: 1001,
  /** The client broke a limit: send queue full, too many unanswered requests. */
  POLICY_VIOLATION: 1008,
} as const;

/** Longest close reason a WebSocket close frame can carry, in UTF-8 bytes. */
const MAX_CLOSE_REASON_BYTES = 123;

/** Each event object is encoded once, however many connections it goes to. */
const encodeEvent = encodingOnce((event) => {
  const text = messageToJson(event);
  return { text, bytes: utf8Length(text) };
});

/** One client connected over WebSocket. */
export class WebSocketConnection implements Peer {
  readonly address: string;
  /** Resolves once the connection has ended and its session is gone. */
  readonly finished: Promise<void>;
  readonly #socket: WebSocket;
  readonly #chat: Chat;
  readonly #limits: ConnectionLimits;
  readonly #log: (line: string) => void;
  readonly #session: Session;
  readonly #queue: WebSocketSendQueue;
  readonly #requests: RequestQueue;
  readonly #dispatchOptions: DispatchOptions;
  /** Requests received and not yet answered. */
  #unanswered = 0;
  #closeReason: string | null = null;
  readonly #liveness = new Liveness(Date.now());
  #socketClosing = false;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  #resolveFinished!: () => void;

  /**
   * Takes over a socket from `Deno.upgradeWebSocket`.
   * @param address the client's address, for logs
   */
  constructor(
    socket: WebSocket,
    chat: Chat,
    limits: ConnectionLimits,
    log: (line: string) => void,
    address: string,
  ) {
    this.#socket = socket;
    this.#chat = chat;
    this.#limits = limits;
    this.#log = log;
    this.address = address;
    this.#session = new Session(this);
    this.#queue = new WebSocketSendQueue({
      get bufferedAmount() {
        return socket.bufferedAmount;
      },
      send(text) {
        try {
          socket.send(text);
        } catch {
          // closed meanwhile: the close event ends the connection
        }
      },
    }, { limit: limits.sendQueueBytes });
    this.#requests = new RequestQueue((response) => this.#respond(response), {
      queue: this.#queue,
      limit: limits.sendQueueBytes,
    });
    this.#dispatchOptions = dispatchOptionsOf(limits, log);
    this.finished = new Promise((resolve) => this.#resolveFinished = resolve);
    socket.onopen = () => {
      this.#log(`connect session=${this.#session.id} addr=${this.address} via=websocket`);
    };
    socket.onmessage = (event) => this.#receive(event.data);
    socket.onclose = (event) => this.#finish(event.code);
  }

  deliver(event: Message): void {
    if (this.#closeReason !== null) return;
    const { text, bytes } = encodeEvent(event);
    if (!this.#queue.push(text, bytes)) this.#sendQueueExceeded();
  }

  /**
   * Pings a push connection that has been silent for `pingAfter` ms, and
   * closes any connection silent for `idleLimit` ms (the rules of TCP).
   */
  checkLiveness(now: number, pingAfter: number, idleLimit: number): void {
    this.#liveness.check(now, livenessRulesOf(this.#limits, pingAfter, idleLimit), {
      push: this.#session.push,
      loggedIn: this.#session.user !== null,
      partialSince: null, // WebSocket messages arrive whole
    }, this);
  }

  close(reason: string): void {
    if (this.#closeReason !== null) return;
    if (this.#session.push) {
      const text = messageToJson({
        method: Event.EVT_CLOSE,
        params: { Reason: reason, Time: formatTime(this.#chat.now()) },
      });
      this.#queue.push(text, utf8Length(text), true);
    }
    this.#closeReason = reason;
    this.#leaveChatSoon(reason);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const graceOver = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#limits.closeGraceMs);
    });
    this.#graceTimer = timer;
    Promise.race([this.#queue.drained(), graceOver]).then(() => {
      this.#closeSocket(CloseCode.GOING_AWAY, reason);
    });
  }

  #receive(data: unknown): void {
    this.#liveness.heard(Date.now());
    // once closing, input is dropped, as on TCP
    if (this.#closeReason !== null) return;
    if (typeof data !== "string") {
      this.#answer(badRequest("Cannot parse message: binary messages are not accepted"));
      return;
    }
    // a UTF-16 code unit takes at most 3 bytes of UTF-8: most messages need no count
    const max = this.#limits.maxFrameSize;
    const bytes = data.length * 3 > max ? utf8Length(data) : 0;
    if (bytes > max) {
      this.#answer(badRequest(`Cannot parse message: ${bytes} bytes exceeds ${max}`));
      return;
    }
    let request: Message;
    try {
      request = parseJsonMessage(data);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      this.#answer(badRequest(error.message));
      return;
    }
    this.#enqueue({
      run: () => dispatch(this.#chat, this.#session, request, this.#dispatchOptions),
      barrier: isBarrier(request),
    });
  }

  #answer(response: Message): void {
    this.#enqueue({ run: () => response, barrier: false });
  }

  /**
   * TCP stops reading while too many answers are outstanding; a WebSocket
   * cannot, so a client that keeps sending regardless is dropped instead.
   */
  #enqueue(request: QueuedRequest): void {
    if (++this.#unanswered > MAX_OUTSTANDING) {
      this.#abort(`more than ${MAX_OUTSTANDING} requests awaiting answers`);
      return;
    }
    this.#requests.push(request);
  }

  #respond(response: Message): void {
    this.#unanswered--;
    if (this.#closeReason !== null) return;
    const text = messageToJson(response);
    if (!this.#queue.push(text, utf8Length(text))) this.#sendQueueExceeded();
  }

  #sendQueueExceeded(): void {
    this.#abort(`send queue exceeded ${this.#limits.sendQueueBytes} bytes`);
  }

  /** Drops what is queued, logs the session out and closes at once. */
  #abort(reason: string): void {
    if (this.#closeReason !== null) return;
    this.#closeReason = reason;
    this.#queue.stop();
    this.#leaveChatSoon(reason);
    this.#closeSocket(CloseCode.POLICY_VIOLATION, reason);
  }

  /**
   * Logs the session out now rather than when the socket is finally closed
   * (a client that does not read may never complete the close handshake);
   * deferred so that a broadcast under way is not changed beneath it.
   */
  #leaveChatSoon(reason: string): void {
    queueMicrotask(() => this.#chat.disconnect(this.#session, reason));
  }

  #closeSocket(code: number, reason: string): void {
    if (this.#socketClosing) return;
    this.#socketClosing = true;
    try {
      this.#socket.close(code, shortReason(reason));
    } catch {
      // closed already
    }
  }

  #finish(code: number): void {
    clearTimeout(this.#graceTimer);
    this.#queue.stop();
    const reason = this.#closeReason ??
      (code === 1006 ? "connection lost" : "connection closed by client");
    this.#closeReason = reason;
    this.#chat.disconnect(this.#session, reason);
    this.#log(`disconnect session=${this.#session.id} reason=${JSON.stringify(reason)}`);
    this.#resolveFinished();
  }
}

/** Cuts a reason to what a close frame can carry. */
function shortReason(reason: string): string {
  let short = reason;
  while (utf8Length(short) > MAX_CLOSE_REASON_BYTES) short = [...short].slice(0, -1).join("");
  return short;
}
