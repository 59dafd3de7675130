/**
 * One client connection over a byte stream, whatever its wire: the part
 * every adapter shares. It reads with a growing buffer, keeps the byte
 * {@link SendQueue} and its bound, answers requests in order through a
 * {@link RequestQueue} (barriers, store-read backpressure), pings and times
 * out silent, anonymous or stuck connections, closes after flushing within
 * a grace time, and keeps the session's place in the chat core from
 * connect to disconnect. What differs between wires is a {@link Wire},
 * which the adapter makes for each connection: it turns bytes into
 * requests, and answers, events, pings and farewells into bytes.
 * @module
 */

import type { Chat } from "../../core/chat.ts";
import type { ChatEvent } from "../../core/events.ts";
import { Session, type SessionSink } from "../../core/session.ts";
import { Liveness, type LivenessRules } from "./liveness.ts";
import { type Answered, RequestQueue } from "./request_queue.ts";
import { type PlacedBytes, SendQueue, type WriteSpacing } from "./send_queue.ts";
import { closeQuietly, closeWhenFlushed, readUntilEnd } from "./socket.ts";

/** Limits that apply to each connection, on every wire. */
export interface ConnectionLimits {
  /** Largest request frame (or message) accepted, in bytes. */
  maxFrameSize: number;
  /** Most bytes waiting to be written to one client before it is dropped. */
  sendQueueBytes: number;
  /** How long a closing connection may take to flush, in milliseconds. */
  closeGraceMs: number;
}

/**
 * What an adapter's wire format does for one connection. It hands what it
 * decodes to the connection's {@link Link}; everything else about the
 * connection is the same for every wire.
 */
export interface Wire<Answer> {
  /**
   * Decodes bytes read from the client and hands the requests they complete
   * to the link, in order.
   * @returns how many frames (or messages) the bytes completed
   */
  receive(chunk: Uint8Array): number;
  /** Whether part of a frame is buffered, waiting for the rest. */
  readonly partial: boolean;
  /**
   * The client has sent its last byte: a wire that holds input back (one
   * without framing, gathering a message) hands it on now.
   */
  inputEnded?(): void;
  /** The bytes of an answer to a request; none (empty) for a request that gets no reply. */
  encodeAnswer(answer: Answer): Uint8Array;
  /**
   * The bytes of an event: one function for every connection of the wire,
   * which encodes an event once however many connections it goes to; null
   * when the connection is not to be told of it.
   */
  readonly encodeEvent: (event: ChatEvent) => PlacedBytes | null;
  /** The bytes of a keep-alive ping at `now` (ms since the epoch). */
  encodePing(now: number): Uint8Array;
  /**
   * What to send last when the server closes the connection for `reason`
   * at `now`; `push` says whether the session takes events.
   */
  farewell(reason: string, push: boolean, now: number): readonly Uint8Array[];
  /**
   * Set by a wire whose client reads each answer right after its request
   * (ICS): events that come while a request of the client's is unanswered
   * wait, and follow the answer.
   */
  readonly holdsEvents?: boolean;
  /**
   * Whether to send an event now, asked as it is about to be queued (after
   * it has waited, if it did); for a wire whose client can show only some
   * events in some states. Without it, every event is sent.
   */
  screen?(event: ChatEvent): boolean;
}

/** What a {@link Wire} hands its requests to: its connection. */
export interface Link<Answer> {
  /** The connection's session in the chat core. */
  readonly session: Session;
  /** False once the connection is closing or its framing is lost: requests are then dropped. */
  readonly accepting: boolean;
  /** Aborted when the connection starts to close (e.g. to end a wait for an answer). */
  readonly closingSignal: AbortSignal;
  /** Answers a request in order; `barrier`: the requests after it wait for its answer. */
  request(answer: () => Answered<Answer>, barrier: boolean): void;
  /** Answers, in order, something that was no request (it could not be parsed). */
  answer(answer: Answer): void;
  /**
   * The framing is lost: `lastWords` is answered after everything before
   * it, `farewell` (if any) follows, then the connection closes with the
   * reason `reason`.
   */
  fail(lastWords: Answer, reason: string, farewell?: Uint8Array): void;
  /** Sends bytes now, ahead of answers not ready yet (a WebSocket pong). */
  send(bytes: Uint8Array): void;
  /** Encodes the events from now on with `encode` instead of the wire's `encodeEvent`. */
  encodeEventsWith(encode: (event: ChatEvent) => PlacedBytes): void;
  /**
   * The client has ended the conversation (a WebSocket close frame): `echo`
   * is sent unless closing has begun, and the connection closes once what is
   * queued is written, without waiting for the client any further.
   */
  clientClosed(echo: Uint8Array): void;
}

/** A connection as the server that runs it sees it. */
export interface ServedConnection {
  /** Reads and answers the client until the connection ends (see {@link Connection.run}). */
  run(preamble?: Uint8Array, early?: Uint8Array): Promise<void>;
  /** Pings or closes the connection when its liveness rules say so. */
  checkLiveness(now: number, rules: LivenessRules): void;
  /** Closes the connection after telling the client why. */
  close(reason: string): void;
}

/** How a connection starts and what it is called in the log. */
export interface ConnectionOptions<Answer> {
  chat: Chat;
  limits: ConnectionLimits;
  log: (line: string) => void;
  /** The client's address for logs, e.g. `127.0.0.1:50412`. */
  address: string;
  /** Makes the connection's wire. */
  wire: (link: Link<Answer>) => Wire<Answer>;
  /** Added to the `connect` log line, e.g. ` via=websocket`. */
  via?: string;
  /** The reason when the client goes away without a word. */
  endReason: string;
  /**
   * The client never pings and cannot answer a ping: it is neither pinged
   * nor closed for silence (the login and frame timeouts still apply).
   */
  quiet?: boolean;
  /** Writes one frame at a time, spaced (a wire whose client takes each read as a message). */
  spacing?: WriteSpacing;
  /** False when the client cannot show a peer chat: PEER_CONNECT to its user is BUSY. */
  peerChats?: false;
  /**
   * Milliseconds after bytes arrive from the client during which nothing is
   * written to it (answers and events wait, in order). Default 0. For
   * clients that break when an answer comes within microseconds (CS 544).
   */
  writeDelayMs?: number;
}

/** One client connection; the chat core reaches it as the session's sink. */
export class Connection<Answer> implements SessionSink, Link<Answer>, ServedConnection {
  readonly address: string;
  readonly session: Session;
  readonly #conn: Deno.Conn;
  readonly #chat: Chat;
  readonly #limits: ConnectionLimits;
  readonly #log: (line: string) => void;
  readonly #via: string;
  readonly #endReason: string;
  readonly #quiet: boolean;
  readonly #writeDelayMs: number;
  readonly #wire: Wire<Answer>;
  /** The wire's event encoder, read once (or as the wire changed it). */
  #encodeEvent: (event: ChatEvent) => PlacedBytes | null;
  readonly #queue: SendQueue;
  readonly #requests: RequestQueue<Answer>;
  readonly #liveness = new Liveness(Date.now());
  /** Whether the wire holds or screens events ({@link Wire.holdsEvents}, {@link Wire.screen}). */
  readonly #screened: boolean;
  /** Requests not answered yet, counted when the wire holds events. */
  #unanswered = 0;
  /** Events waiting for the answers, with their bytes; bytes counted against the send queue. */
  #held: { event: ChatEvent; bytes: PlacedBytes }[] | null = null;
  #heldBytes = 0;
  /** The answer to lost framing, after which the connection closes; and what follows it. */
  #lastWords: { answer: Answer; reason: string; farewell: Uint8Array | undefined } | null = null;
  #closeReason: string | null = null;
  /** Made when first asked for: most connections never need it. */
  #closing: AbortController | null = null;
  /** When the incomplete frame in the wire began to arrive; null when there is none. */
  #partialSince: number | null = null;
  /** Whether the client has ended the conversation (see {@link Link.clientClosed}). */
  #clientDone = false;
  /** Whether our side is shut for writing, waiting for the client to close its side. */
  #halfClosed = false;
  #socketClosed = false;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(conn: Deno.Conn, options: ConnectionOptions<Answer>) {
    this.#conn = conn;
    this.#chat = options.chat;
    this.#limits = options.limits;
    this.#log = options.log;
    this.#via = options.via ?? "";
    this.#endReason = options.endReason;
    this.#quiet = options.quiet ?? false;
    this.#writeDelayMs = options.writeDelayMs ?? 0;
    this.address = options.address;
    this.session = new Session(this);
    if (options.peerChats === false) this.session.peerChats = false;
    this.#queue = new SendQueue(conn, {
      limit: options.limits.sendQueueBytes,
      onWriteError: () => this.#abort("connection lost"),
      spacing: options.spacing,
    });
    this.#requests = new RequestQueue<Answer>((answer) => this.#respond(answer), {
      queue: this.#queue,
      limit: options.limits.sendQueueBytes,
    });
    this.#wire = options.wire(this);
    this.#encodeEvent = this.#wire.encodeEvent;
    this.#screened = this.#wire.holdsEvents === true || this.#wire.screen !== undefined;
  }

  /**
   * Reads and answers requests until the connection ends.
   * @param preamble bytes to send first (a WebSocket upgrade's answer)
   * @param early bytes the client sent before the connection was handed over
   */
  async run(preamble?: Uint8Array, early?: Uint8Array): Promise<void> {
    this.#log(`connect session=${this.session.id} addr=${this.address}${this.#via}`);
    if (preamble) this.#queue.push(preamble, true);
    if (early && early.length > 0) this.#receive(early);
    const error = await readUntilEnd(
      this.#conn,
      this.#requests,
      () => this.#socketClosed,
      (chunk) => {
        this.#liveness.heard(Date.now());
        if (this.#writeDelayMs > 0) this.#queue.holdFor(this.#writeDelayMs);
        this.#receive(chunk);
      },
    );
    this.#wire.inputEnded?.();
    const reason = this.#closeReason ?? error ?? this.#endReason;
    this.#closing?.abort();
    this.#chat.disconnect(this.session, reason);
    this.#closeSocket();
    this.#log(`disconnect session=${this.session.id} reason=${JSON.stringify(reason)}`);
  }

  deliver(event: ChatEvent): void {
    if (this.#closeReason !== null) return;
    if (this.#screened) return this.#deliverScreened(event);
    const bytes = this.#encodeEvent(event);
    if (bytes !== null && !this.#queue.pushPlaced(bytes)) this.#sendQueueExceeded();
  }

  /** Delivers an event for a wire that holds or screens events. */
  #deliverScreened(event: ChatEvent): void {
    if (this.#unanswered === 0) return this.#sendScreened(event, null);
    const bytes = this.#encodeEvent(event);
    if (bytes === null) return;
    this.#heldBytes += bytes.end - bytes.start;
    if (this.#heldBytes + this.#queue.queuedBytes > this.#limits.sendQueueBytes) {
      return this.#sendQueueExceeded();
    }
    (this.#held ??= []).push({ event, bytes });
  }

  /** Sends an event unless the wire's screen stops it; `bytes` when encoded already. */
  #sendScreened(event: ChatEvent, bytes: PlacedBytes | null): void {
    if (this.#wire.screen?.(event) === false) return;
    const placed = bytes ?? this.#encodeEvent(event);
    if (placed !== null && !this.#queue.pushPlaced(placed)) this.#sendQueueExceeded();
  }

  /** Counts a request to be answered, when the wire holds events meanwhile. */
  #asked(): void {
    if (this.#wire.holdsEvents) this.#unanswered++;
  }

  /** One more request is answered: the events held for the answers go once all are. */
  #answered(): void {
    if (!this.#wire.holdsEvents || --this.#unanswered > 0) return;
    const held = this.#held;
    if (held === null) return;
    this.#held = null;
    this.#heldBytes = 0;
    for (const { event, bytes } of held) {
      if (this.#closeReason !== null) return;
      this.#sendScreened(event, bytes);
    }
  }

  /**
   * Pings a push connection that has been silent for a while; closes one
   * silent, not logged in or stuck in a frame for too long (see {@link LivenessRules}).
   */
  checkLiveness(now: number, rules: LivenessRules): void {
    const due = this.#liveness.due(now, rules, {
      push: this.session.push,
      loggedIn: this.session.user !== null,
      partialSince: this.#partialSince,
      quiet: this.#quiet,
    });
    if (due && "close" in due) this.close(due.close);
    else if (due) this.send(this.#wire.encodePing(now));
  }

  /** Closes the connection after telling the client why (when it takes events). */
  close(reason: string): void {
    if (this.#closeReason !== null) return;
    for (const bytes of this.#wire.farewell(reason, this.session.push, this.#chat.now())) {
      this.#queue.push(bytes, true);
    }
    this.#closeAfterFlush(reason);
  }

  get accepting(): boolean {
    return this.#closeReason === null && this.#lastWords === null;
  }

  get closingSignal(): AbortSignal {
    this.#closing ??= new AbortController();
    if (this.#closeReason !== null) this.#closing.abort();
    return this.#closing.signal;
  }

  request(answer: () => Answered<Answer>, barrier: boolean): void {
    this.#asked();
    this.#requests.push({ run: answer, barrier });
  }

  answer(answer: Answer): void {
    this.#asked();
    this.#requests.push({ run: () => answer, barrier: false });
  }

  fail(lastWords: Answer, reason: string, farewell?: Uint8Array): void {
    if (!this.accepting) return;
    this.#lastWords = { answer: lastWords, reason, farewell };
    this.#asked();
    // answered after everything before it; #respond closes once it is queued
    this.#requests.push({ run: () => lastWords, barrier: true });
  }

  send(bytes: Uint8Array): void {
    if (this.#closeReason !== null) return;
    if (!this.#queue.push(bytes)) this.#sendQueueExceeded();
  }

  encodeEventsWith(encode: (event: ChatEvent) => PlacedBytes): void {
    this.#encodeEvent = encode;
  }

  clientClosed(echo: Uint8Array): void {
    this.#clientDone = true;
    if (this.#closeReason !== null) {
      if (this.#halfClosed) this.#closeSocket();
      return;
    }
    this.#queue.push(echo, true);
    this.#closeAfterFlush("connection closed by client");
  }

  #receive(chunk: Uint8Array): void {
    const completed = this.#wire.receive(chunk);
    // a frame left incomplete began in this chunk if any frame ended in it
    this.#partialSince = !this.#wire.partial
      ? null
      : completed > 0
      ? Date.now()
      : this.#partialSince ?? Date.now();
  }

  #respond(answer: Answer): void {
    if (this.#closeReason !== null) return;
    const bytes = this.#wire.encodeAnswer(answer);
    if (bytes.length !== 0 && !this.#queue.push(bytes)) {
      this.#sendQueueExceeded();
    } else if (answer === this.#lastWords?.answer) {
      const { reason, farewell } = this.#lastWords;
      if (farewell) this.#queue.push(farewell, true);
      this.#closeAfterFlush(reason);
    } else if (this.#screened) {
      this.#answered();
    }
  }

  #sendQueueExceeded(): void {
    this.#abort(`send queue exceeded ${this.#limits.sendQueueBytes} bytes`);
  }

  /**
   * Stops answering, flushes what is queued, then half-closes and waits for
   * the client to close its side — all within the grace time. A client that
   * has ended the conversation is not waited for.
   */
  #closeAfterFlush(reason: string): void {
    this.#closeReason = reason;
    this.#closing?.abort();
    // out of the chat now, not when the socket is finally closed (a client
    // that does not read may never let it close)
    this.#chat.disconnect(this.session, reason);
    this.#graceTimer = closeWhenFlushed(this.#conn, this.#queue, this.#limits.closeGraceMs, {
      closed: () => this.#socketClosed,
      close: () => this.#closeSocket(),
      halfClosing: () => {
        this.#halfClosed = !this.#clientDone;
        return this.#halfClosed;
      },
    });
  }

  /**
   * Closes at once, dropping what is queued, and logs the session out (so
   * that requests still queued are not worked on for nobody).
   */
  #abort(reason: string): void {
    if (this.#closeReason !== null) return;
    this.#closeReason = reason;
    this.#closing?.abort();
    this.#queue.stop();
    // out of the chat now, not when the socket is finally closed (a client
    // that does not read may never let it close)
    this.#chat.disconnect(this.session, reason);
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
