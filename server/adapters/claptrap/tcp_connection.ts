/**
 * The TCP transport for one connection: reads frames, hands requests to the
 * dispatcher, queues responses and events. The only place where the chat
 * meets a socket.
 * @module
 */

import { FrameDecoder } from "../../../protocol/frame.ts";
import { encodeMessage, type Message, parseMessage } from "../../../protocol/message.ts";
import { Response, Status } from "../../../protocol/methods.ts";
import { isOriginalRequest, type OriginalRequest } from "../../../protocol/original.ts";
import type { Chat } from "../../../core/chat.ts";
import { closeMessage, eventMessage, pingMessage } from "./event_messages.ts";
import { badRequest, dispatch, type DispatchOptions, isBarrier, type Reply } from "./dispatcher.ts";
import { encodingOnce } from "../../connection/event_encoding.ts";
import type { Poems } from "../../poems.ts";
import { DEFAULT_LIVENESS_RULES, Liveness, type LivenessRules } from "../../connection/liveness.ts";
import { answerOriginal } from "./original_answers.ts";
import { RequestQueue } from "../../connection/request_queue.ts";
import { placeBytes, SendQueue } from "../../connection/send_queue.ts";
import { Session, type SessionSink } from "../../../core/session.ts";
import type { ChatEvent } from "../../../core/events.ts";

/** Limits that apply to each TCP connection. */
export interface ConnectionLimits {
  /** Largest request frame accepted, in bytes. */
  maxFrameSize: number;
  /** Most bytes waiting to be written to one client before it is dropped. */
  sendQueueBytes: number;
  /** How long a closing connection may take to flush, in milliseconds. */
  closeGraceMs: number;
  /** The poem corpus for POEM, if any. */
  poems: Poems | null;
  /** Longest message content, in characters. Default 16,384. */
  maxMessageChars?: number;
  /** Closes connections not logged in for this long, in ms. Default 60,000. */
  loginTimeoutMs?: number;
  /** Closes connections that leave a frame unfinished for this long, in ms. Default 30,000. */
  frameTimeoutMs?: number;
}

/**
 * Reads start with a small buffer, so that an idle connection costs little
 * memory, and double up to the large one while reads keep filling it.
 */
const FIRST_READ_BUFFER = 256;
const LARGEST_READ_BUFFER = 64 * 1024;

/** What the dispatcher needs from a transport's limits: the same for TCP and WebSocket. */
export function dispatchOptionsOf(
  limits: ConnectionLimits,
  log: (line: string) => void,
): DispatchOptions {
  return {
    maxReplyChars: limits.maxFrameSize / 8,
    log,
    poems: limits.poems,
    maxMessageChars: limits.maxMessageChars,
  };
}

/** The liveness rules of a transport's connections. */
export function livenessRulesOf(
  limits: ConnectionLimits,
  pingAfter: number,
  idleLimit: number,
): LivenessRules {
  return {
    pingAfter,
    idleLimit,
    loginTimeout: limits.loginTimeoutMs ?? DEFAULT_LIVENESS_RULES.loginTimeout,
    frameTimeout: limits.frameTimeoutMs ?? DEFAULT_LIVENESS_RULES.frameTimeout,
  };
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

/**
 * Reads `conn` until it ends (or `stopped()` says so), handing each chunk to
 * `receive`, and not reading while `requests` is busy. Reads start with a
 * small buffer and double up to the large one while they fill it.
 * @returns null when the peer closed, or the error that ended the connection
 */
export async function readUntilEnd(
  conn: Deno.Conn,
  requests: Pick<RequestQueue<unknown>, "busy" | "ready">,
  stopped: () => boolean,
  receive: (chunk: Uint8Array) => void,
): Promise<string | null> {
  let buffer = new Uint8Array(FIRST_READ_BUFFER);
  while (!stopped()) {
    let n: number | null;
    try {
      n = await conn.read(buffer);
    } catch (error) {
      // a TLS peer that just drops the socket ends like a TCP one
      if (error instanceof Deno.errors.UnexpectedEof) return null;
      return `connection error: ${(error as Error).name}`;
    }
    if (n === null) return null;
    receive(buffer.subarray(0, n));
    if (n === buffer.length && buffer.length < LARGEST_READ_BUFFER) {
      buffer = new Uint8Array(buffer.length * 2);
    }
    if (requests.busy) await requests.ready();
  }
  return null;
}

/** How {@link closeWhenFlushed} sees and closes a connection's socket. */
export interface ClosingSocket {
  /** Whether the socket is closed already. */
  closed(): boolean;
  /** Closes the socket (again is harmless). */
  close(): void;
  /** Called before half-closing; false to close at once instead. Default: half-close. */
  halfClosing?(): boolean;
}

/**
 * Once what `queue` holds is written, or `graceMs` pass, half-closes `conn`
 * and waits out the rest of the grace time for the client to close its
 * side, then closes the socket.
 * @returns the grace timer, to clear when the socket closes sooner
 */
export function closeWhenFlushed(
  conn: Deno.Conn,
  queue: SendQueue,
  graceMs: number,
  socket: ClosingSocket,
): ReturnType<typeof setTimeout> {
  let timer!: ReturnType<typeof setTimeout>;
  const graceOver = new Promise<void>((resolve) => timer = setTimeout(resolve, graceMs));
  Promise.race([queue.drained(), graceOver]).then(async () => {
    if (socket.closed()) return;
    if (socket.halfClosing && !socket.halfClosing()) return socket.close();
    try {
      await conn.closeWrite();
    } catch {
      socket.close();
    }
    await graceOver;
    socket.close();
  });
  return timer;
}

/** Closes a connection that may be closed already. */
export function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // closed already, by the peer or by us
  }
}

/** Each event object is encoded once, however many connections it goes to. */
const encodeEvent = encodingOnce((event: ChatEvent) =>
  placeBytes(encodeMessage(eventMessage(event)))
);

/** One client connected over TCP. */
export class TcpConnection implements SessionSink {
  readonly address: string;
  readonly #conn: Deno.Conn;
  readonly #chat: Chat;
  readonly #limits: ConnectionLimits;
  readonly #log: (line: string) => void;
  readonly #session: Session;
  readonly #decoder: FrameDecoder;
  readonly #queue: SendQueue;
  /** Answers are messages, or the bytes of an original-dialect answer. */
  readonly #requests: RequestQueue<Message | Uint8Array>;
  readonly #dispatchOptions: DispatchOptions;
  /** The ERROR response to lost framing, after which the connection closes. */
  #lastWords: Message | null = null;
  #closeReason: string | null = null;
  readonly #liveness = new Liveness(Date.now());
  /** When the incomplete frame in the decoder began to arrive; null when there is none. */
  #partialSince: number | null = null;
  #socketClosed = false;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  /** Aborted when the connection starts to close: ends the fake lag of original answers. */
  readonly #closing = new AbortController();

  constructor(conn: Deno.Conn, chat: Chat, limits: ConnectionLimits, log: (line: string) => void) {
    this.#conn = conn;
    this.#chat = chat;
    this.#limits = limits;
    this.#log = log;
    const remote = conn.remoteAddr as Deno.NetAddr;
    this.address = `${remote.hostname}:${remote.port}`;
    this.#session = new Session(this, { original: true });
    this.#decoder = new FrameDecoder({ maxFrameSize: limits.maxFrameSize });
    this.#queue = new SendQueue(conn, {
      limit: limits.sendQueueBytes,
      onWriteError: () => this.#abort("connection lost"),
    });
    this.#requests = new RequestQueue<Message | Uint8Array>((response) => this.#respond(response), {
      queue: this.#queue,
      limit: limits.sendQueueBytes,
    });
    this.#dispatchOptions = dispatchOptionsOf(limits, log);
  }

  /** Reads and answers requests until the connection ends. */
  async run(): Promise<void> {
    this.#log(`connect session=${this.#session.id} addr=${this.address}`);
    const error = await readUntilEnd(
      this.#conn,
      this.#requests,
      () => this.#socketClosed,
      (chunk) => {
        this.#liveness.heard(Date.now());
        // once closing, input is read and dropped so the close is a FIN, not a reset
        if (this.#closeReason === null) this.#receive(chunk);
      },
    );
    const reason = this.#closeReason ?? error ?? "connection closed by client";
    this.#closing.abort();
    this.#chat.disconnect(this.#session, reason);
    this.#closeSocket();
    this.#log(`disconnect session=${this.#session.id} reason=${JSON.stringify(reason)}`);
  }

  deliver(event: ChatEvent): void {
    if (this.#closeReason !== null) return;
    if (!this.#queue.pushPlaced(encodeEvent(event))) {
      this.#abort(`send queue exceeded ${this.#limits.sendQueueBytes} bytes`);
    }
  }

  /**
   * Pings a push connection that has been silent for `pingAfter` ms; closes
   * one silent for `idleLimit` ms, not logged in or stuck in a frame for
   * too long (see {@link LivenessRules}).
   */
  checkLiveness(now: number, pingAfter: number, idleLimit: number): void {
    this.#liveness.check(now, livenessRulesOf(this.#limits, pingAfter, idleLimit), {
      push: this.#session.push,
      loggedIn: this.#session.user !== null,
      partialSince: this.#partialSince,
    }, this);
  }

  /** Sends EVT_PING (see {@link TcpConnection.checkLiveness}). */
  ping(now: number): void {
    if (this.#closeReason !== null) return;
    if (!this.#queue.push(encodeMessage(pingMessage(now)))) {
      this.#abort(`send queue exceeded ${this.#limits.sendQueueBytes} bytes`);
    }
  }

  close(reason: string): void {
    if (this.#closeReason !== null) return;
    if (this.#session.push) {
      this.#queue.push(
        encodeMessage(closeMessage(reason, this.#chat.now())),
        true,
      );
    }
    this.#closeAfterFlush(reason);
  }

  #receive(chunk: Uint8Array): void {
    const payloads = this.#decoder.push(chunk);
    // a frame left incomplete began in this chunk if any frame ended in it
    this.#partialSince = this.#decoder.buffered === 0
      ? null
      : payloads.length > 0
      ? Date.now()
      : this.#partialSince ?? Date.now();
    for (const payload of payloads) {
      let request: Message;
      try {
        request = parseMessage(payload);
      } catch (error) {
        if (!(error instanceof SyntaxError)) throw error;
        const response = badRequest(error.message);
        this.#requests.push({ run: () => response, barrier: false });
        continue;
      }
      this.#requests.push({
        run: () => this.#answer(request),
        // the original client never pipelines; holding the rest back keeps a lagged answer in order
        barrier: this.#session.original || isBarrier(request),
      });
    }
    const error = this.#decoder.error;
    if (error && !this.#lastWords) {
      // answered after everything before it; #respond closes once it is queued
      const lastWords = badRequest(error.message);
      this.#lastWords = lastWords;
      this.#requests.push({ run: () => lastWords, barrier: true });
    }
  }

  /** Answers a request: in the original dialect when the session speaks it and the request is original. */
  #answer(request: Message): Reply | Uint8Array | Promise<Uint8Array> {
    const method = request.method;
    if (this.#session.original && isOriginalRequest(method)) {
      return this.#answerOriginal(method, request);
    }
    return dispatch(this.#chat, this.#session, request, this.#dispatchOptions);
  }

  /** Its own method: the closure it makes would cost {@link TcpConnection.#answer} a context. */
  #answerOriginal(method: OriginalRequest, request: Message): Promise<Uint8Array> | Uint8Array {
    return answerOriginal(method, {
      answer: () => dispatch(this.#chat, this.#session, request, this.#dispatchOptions),
      signal: this.#closing.signal,
    });
  }

  #respond(response: Message | Uint8Array): void {
    if (this.#closeReason !== null) return;
    const bytes = response instanceof Uint8Array ? response : encodeMessage(response);
    if (!this.#queue.push(bytes)) {
      this.#abort(`send queue exceeded ${this.#limits.sendQueueBytes} bytes`);
    } else if (response === this.#lastWords) {
      this.#closeAfterFlush(response.params.Reason);
    }
  }

  /**
   * Stops answering, flushes what is queued, then half-closes and waits for
   * the client to close its side — all within the grace time.
   */
  #closeAfterFlush(reason: string): void {
    this.#closeReason = reason;
    this.#closing.abort();
    // leave rooms now rather than when the socket is finally closed; deferred
    // so that a broadcast under way is not changed beneath it
    queueMicrotask(() => this.#chat.disconnect(this.#session, reason));
    this.#graceTimer = closeWhenFlushed(this.#conn, this.#queue, this.#limits.closeGraceMs, {
      closed: () => this.#socketClosed,
      close: () => this.#closeSocket(),
    });
  }

  /**
   * Closes at once, dropping what is queued, and logs the session out (so
   * that requests still queued are not worked on for nobody).
   */
  #abort(reason: string): void {
    if (this.#closeReason !== null) return;
    this.#closeReason = reason;
    this.#closing.abort();
    this.#queue.stop();
    queueMicrotask(() => this.#chat.disconnect(this.#session, reason));
    this.#closeSocket();
  }

  #closeSocket(): void {
    if (this.#socketClosed) return;
    this.#socketClosed = true;
    clearTimeout(this.#graceTimer);
    this.#queue.stop();
    closeQuietly(this.#conn);
  }
}
