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
  #outstanding = 0;
  #tail: Promise<void> = Promise.resolve();
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
    return this.#blocked || this.#outstanding >= MAX_OUTSTANDING;
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
        if (request.barrier) {
          this.#blocked = true;
          response.finally(() => {
            this.#blocked = false;
            this.#pump();
            this.#wakeIfReady();
          });
        }
      } else if (this.#outstanding === 0) {
        this.#send(response);
      } else {
        this.#later(Promise.resolve(response));
      }
    }
  }

  #later(response: Promise<Message>): void {
    this.#outstanding++;
    this.#tail = this.#tail.then(() => response).then((message) => {
      this.#outstanding--;
      this.#send(message);
      this.#wakeIfReady();
    });
  }

  #wakeIfReady(): void {
    if (this.busy) return;
    for (const wake of this.#readyWaiters.splice(0)) wake();
  }
}
