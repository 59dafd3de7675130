/**
 * Per-connection ordering of requests and responses, for any transport.
 * Requests are handled one after the other as they arrive; a handler may
 * answer later (a promise), and responses still go out in request order.
 * A barrier request (LOGIN, REGISTER) holds back the requests after it
 * until it is answered, because they depend on what it changes.
 * @module
 */

import type { Message } from "../protocol/message.ts";

/** One request to handle: how to answer it, and whether later ones wait for it. */
export interface QueuedRequest {
  run(): Message | Promise<Message>;
  barrier: boolean;
}

/** Most answers a connection may have outstanding before it stops reading. */
export const MAX_OUTSTANDING = 4096;

/** The ordered request/response pipeline of one connection. */
export class RequestQueue {
  readonly #send: (response: Message) => void;
  #waiting: QueuedRequest[] = [];
  #blocked = false;
  /** Answers not sent yet, in request order; null until the answer is ready. */
  #outstanding: { response: Message | null }[] = [];
  #readyWaiters: (() => void)[] = [];

  /** @param send receives each response, in request order */
  constructor(send: (response: Message) => void) {
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
  push(request: QueuedRequest): void {
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
  #holdUntil(response: Promise<Message>): void {
    this.#blocked = true;
    response.finally(() => {
      this.#blocked = false;
      this.#pump();
      this.#wakeIfReady();
    });
  }

  /** Sends an answer given later once every answer before it is sent. */
  #later(response: Promise<Message>): void {
    const slot: { response: Message | null } = { response: null };
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
