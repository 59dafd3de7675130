/**
 * Per-connection ordering of requests and responses, for any transport.
 * Requests are handled one after the other as they arrive; a handler may
 * answer later (a promise), and responses still go out in request order.
 * A barrier request (LOGIN, REGISTER) holds back the requests after it
 * until it is answered, because they depend on what it changes. A large
 * store read ({@link StoreRead}) waits, and holds back the requests after
 * it, until the connection's previous one has been sent and its send queue
 * is short: a client that asks for much and reads slowly is slowed down,
 * never dropped for it, and costs one answer's memory at a time.
 * @module
 */

import type { Message } from "../../protocol/message.ts";

/**
 * An answer that reads much from the store (HISTORY): `start` is called
 * when the connection may have it.
 */
export class StoreRead<Answer = Message> {
  /** @param start reads and answers */
  constructor(readonly start: () => Promise<Answer>) {}
}

/** An answer now, an answer later, or a large store read to start when its turn comes. */
export type Answered<Answer = Message> = Answer | Promise<Answer> | StoreRead<Answer>;

/**
 * One request to handle: how to answer it, and whether later ones wait for
 * it. The answer is a message, or whatever the transport queues (e.g.
 * bytes already encoded).
 */
export interface QueuedRequest<Answer = Message> {
  run(): Answered<Answer>;
  barrier: boolean;
}

/** The connection's send queue, as far as store reads wait for it. */
export interface SendBacklog {
  /** Bytes queued and not yet written. */
  readonly queuedBytes: number;
  /** Resolves when everything queued is written (or the connection is gone). */
  drained(): Promise<void>;
}

/** A slot for an answer in request order; null until the answer is ready. */
interface Slot<Answer> {
  response: Answer | null;
  /** Whether it answers a {@link StoreRead}. */
  read: boolean;
}

/** Most answers a connection may have outstanding before it stops reading. */
export const MAX_OUTSTANDING = 4096;

/** The ordered request/response pipeline of one connection. */
export class RequestQueue<Answer = Message> {
  readonly #send: (response: Answer) => void;
  readonly #backlog: { queue: SendBacklog; watermark: number } | undefined;
  // the lists are null while empty: an idle connection keeps no array of its own
  #waiting: QueuedRequest<Answer>[] | null = null;
  #blocked = false;
  /** Answers not sent yet, in request order. */
  #outstanding: Slot<Answer>[] | null = null;
  #readyWaiters: (() => void)[] | null = null;
  /** A store read has started and its answer is not sent yet. */
  #reading = false;
  /** The store read waiting for its turn, holding back the requests after it. */
  #held: StoreRead<Answer> | null = null;
  /** Waiting for the send queue to drain before the held read may start. */
  #drainAwaited = false;

  /**
   * @param send receives each response, in request order
   * @param backlog the connection's send queue and its limit in bytes: a
   * store read starts only while the queue holds at most a quarter of it,
   * so that its answer fits beside what is queued
   */
  constructor(
    send: (response: Answer) => void,
    backlog?: { queue: SendBacklog; limit: number },
  ) {
    this.#send = send;
    this.#backlog = backlog && { queue: backlog.queue, watermark: backlog.limit / 4 };
  }

  /**
   * Whether the transport should stop reading for now: a barrier is being
   * answered, a store read waits for its turn, or too many answers are
   * outstanding.
   */
  get busy(): boolean {
    return this.#blocked || this.#held !== null ||
      (this.#outstanding?.length ?? 0) >= MAX_OUTSTANDING;
  }

  /** Resolves when {@link RequestQueue.busy} is false. */
  ready(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => (this.#readyWaiters ??= []).push(resolve));
  }

  /** Adds a request; it is handled at once unless a barrier holds it back. */
  push(request: QueuedRequest<Answer>): void {
    if (this.#waiting === null && !this.#blocked && this.#held === null) {
      this.#handle(request);
      return;
    }
    (this.#waiting ??= []).push(request);
    this.#pump();
  }

  #pump(): void {
    while (!this.#blocked && this.#held === null && this.#waiting !== null) {
      const request = this.#waiting.shift()!;
      if (this.#waiting.length === 0) this.#waiting = null;
      if (!this.#handle(request)) return;
    }
  }

  /** Runs a request and sends or keeps its answer; false when it is a read that must wait. */
  #handle(request: QueuedRequest<Answer>): boolean {
    const response = request.run();
    if (response instanceof StoreRead) {
      this.#held = response;
      return this.#startHeldRead();
    }
    if (response instanceof Promise) {
      this.#later(response, false);
      if (request.barrier) this.#holdUntil(response);
    } else if (this.#outstanding === null) {
      this.#send(response);
    } else {
      this.#outstanding.push({ response, read: false });
    }
    return true;
  }

  /**
   * Starts the held store read if the connection may have it now; else
   * leaves it held, to be tried again when the previous read's answer is
   * sent or the send queue has drained. True when it started.
   */
  #startHeldRead(): boolean {
    const read = this.#held;
    if (read === null || this.#reading) return false;
    const backlog = this.#backlog;
    if (backlog && backlog.queue.queuedBytes > backlog.watermark) {
      if (!this.#drainAwaited) {
        this.#drainAwaited = true;
        backlog.queue.drained().then(() => {
          this.#drainAwaited = false;
          this.#resumeHeldRead();
        });
      }
      return false;
    }
    this.#held = null;
    this.#reading = true;
    this.#later(read.start(), true);
    return true;
  }

  /** Starts the held store read if it may start now, and the requests after it. */
  #resumeHeldRead(): void {
    if (!this.#startHeldRead()) return;
    this.#pump();
    this.#wakeIfReady();
  }

  /**
   * Holds back later requests until a barrier is answered. Its own method:
   * the closure inside would cost `#pump` a context on every call.
   */
  #holdUntil(response: Promise<Answer>): void {
    this.#blocked = true;
    response.finally(() => {
      this.#blocked = false;
      this.#pump();
      this.#wakeIfReady();
    });
  }

  /** Sends an answer given later once every answer before it is sent. */
  #later(response: Promise<Answer>, read: boolean): void {
    const slot: Slot<Answer> = { response: null, read };
    (this.#outstanding ??= []).push(slot);
    response.then((message) => {
      slot.response = message;
      this.#sendReady();
    });
  }

  #sendReady(): void {
    const outstanding = this.#outstanding;
    if (outstanding === null) return;
    let sent = 0;
    let readSent = false;
    while (sent < outstanding.length && outstanding[sent].response !== null) {
      const slot = outstanding[sent++];
      this.#send(slot.response!);
      readSent ||= slot.read;
    }
    if (sent === 0) return;
    if (sent === outstanding.length) this.#outstanding = null;
    else outstanding.splice(0, sent);
    if (readSent) {
      this.#reading = false;
      this.#resumeHeldRead();
    }
    this.#wakeIfReady();
  }

  #wakeIfReady(): void {
    const waiters = this.#readyWaiters;
    if (this.busy || waiters === null) return;
    this.#readyWaiters = null;
    for (const wake of waiters) wake();
  }
}
