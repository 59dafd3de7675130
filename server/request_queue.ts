/**
 * Per-connection ordering of requests and responses, for any transport.
 * Requests are handled one after the other as they arrive; a handler may
 * answer later (a promise), and responses still go out in request order.
 * A barrier request (LOGIN, REGISTER) holds back the requests after it
 * until it is answered, because they depend on what it changes.
 * @module
 */

import type { Message } from "../protocol/message.ts";

/**
 * One request to handle: how to answer it, and whether later ones wait for
 * it. The answer is a message, or whatever the transport queues (e.g.
 * bytes already encoded).
 */
export interface QueuedRequest<Answer = Message> {
  run(): Answer | Promise<Answer>;
  barrier: boolean;
}

/** Most answers a connection may have outstanding before it stops reading. */
export const MAX_OUTSTANDING = 4096;

/** The ordered request/response pipeline of one connection. */
export class RequestQueue<Answer = Message> {
  readonly #send: (response: Answer) => void;
  #waiting: QueuedRequest<Answer>[] = [];
  #blocked = false;
  /** Answers not sent yet, in request order; null until the answer is ready. */
  #outstanding: { response: Answer | null }[] = [];
  #readyWaiters: (() => void)[] = [];

  /** @param send receives each response, in request order */
  constructor(send: (response: Answer) => void) {
    this.#send = send;
  }

  /**
   * Whether the transport should stop reading for now: a barrier is being
   * answered, or too many answers are outstanding.
   */
  get busy(): boolean {
    return this.#blocked || this.#outstanding.length >= MAX_OUTSTANDING;
  }

  /** Resolves when {@link RequestQueue.busy} is false. */
  ready(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.#readyWaiters.push(resolve));
  }

  /** Adds a request; it is handled at once unless a barrier holds it back. */
  push(request: QueuedRequest<Answer>): void {
    this.#waiting.push(request);
    this.#pump();
  }

  #pump(): void {
    while (!this.#blocked && this.#waiting.length > 0) {
      const request = this.#waiting.shift()!;
      const response = request.run();
      if (response instanceof Promise) {
        this.#later(response);
        if (request.barrier) this.#holdUntil(response);
      } else if (this.#outstanding.length === 0) {
        this.#send(response);
      } else {
        this.#outstanding.push({ response });
      }
    }
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
  #later(response: Promise<Answer>): void {
    const slot: { response: Answer | null } = { response: null };
    this.#outstanding.push(slot);
    response.then((message) => {
      slot.response = message;
      this.#sendReady();
    });
  }

  #sendReady(): void {
    const outstanding = this.#outstanding;
    let sent = 0;
    while (sent < outstanding.length && outstanding[sent].response !== null) {
      this.#send(outstanding[sent++].response!);
    }
    if (sent === 0) return;
    outstanding.splice(0, sent);
    this.#wakeIfReady();
  }

  #wakeIfReady(): void {
    if (this.busy) return;
    for (const wake of this.#readyWaiters.splice(0)) wake();
  }
}
