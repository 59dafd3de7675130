/**
 * A per-connection send queue for a WebSocket, bounded in bytes of the
 * JSON text not yet written. A WebSocket's `send` never blocks and never
 * refuses, so the queue hands the socket only a little at a time (while its
 * `bufferedAmount` is below a high-water mark) and keeps the rest itself;
 * a client that stops reading thus fills its own queue, not the server's
 * memory, and is dropped when the queue is full.
 * @module
 */

/** What the queue needs of a WebSocket. */
export interface TextSocket {
  /** Bytes handed to `send` and not yet written to the network. */
  readonly bufferedAmount: number;
  /** Queues one text message. */
  send(text: string): void;
}

/** Settings of a {@link WebSocketSendQueue}. */
export interface WebSocketSendQueueOptions {
  /** Most bytes queued or buffered by the socket at once. */
  limit: number;
  /** Bytes the socket may buffer before the queue holds back. Default 64 KiB. */
  highWater?: number;
  /** How often a queue with a backlog looks at `bufferedAmount`, in ms. Default 10. */
  pollMs?: number;
}

/** A bounded FIFO of text messages for one WebSocket. */
export class WebSocketSendQueue {
  readonly #socket: TextSocket;
  readonly #limit: number;
  readonly #highWater: number;
  readonly #pollMs: number;
  #texts: string[] = [];
  #sizes: number[] = [];
  #head = 0;
  #bytes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #drainWaiters: (() => void)[] = [];

  /** @param socket where the messages go */
  constructor(socket: TextSocket, options: WebSocketSendQueueOptions) {
    this.#socket = socket;
    this.#limit = options.limit;
    this.#highWater = options.highWater ?? 64 * 1024;
    this.#pollMs = options.pollMs ?? 10;
  }

  /** Bytes waiting here plus those the socket has not written yet. */
  get queuedBytes(): number {
    return this.#bytes + this.#socket.bufferedAmount;
  }

  /**
   * Queues a text message of `bytes` UTF-8 bytes. Returns false, queueing
   * nothing, when it would take the queue over its limit (unless `force`)
   * or the queue is stopped.
   */
  push(text: string, bytes: number, force = false): boolean {
    if (this.#stopped) return false;
    if (!force && this.queuedBytes + bytes > this.#limit) return false;
    if (this.#bytes === 0 && this.#socket.bufferedAmount < this.#highWater) {
      this.#socket.send(text);
      return true;
    }
    this.#texts.push(text);
    this.#sizes.push(bytes);
    this.#bytes += bytes;
    this.#timer ??= setTimeout(() => this.#pump(), this.#pollMs);
    return true;
  }

  /** Resolves when everything queued has been handed to the socket (or the queue stopped). */
  drained(): Promise<void> {
    if (this.#bytes === 0 || this.#stopped) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Drops what is queued and sends nothing more. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#texts = [];
    this.#sizes = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#wakeDrainWaiters();
  }

  #pump(): void {
    this.#timer = undefined;
    if (this.#stopped) return;
    while (this.#head < this.#texts.length && this.#socket.bufferedAmount < this.#highWater) {
      const text = this.#texts[this.#head];
      this.#bytes -= this.#sizes[this.#head];
      this.#head++;
      this.#socket.send(text);
    }
    if (this.#head === this.#texts.length) {
      this.#texts = [];
      this.#sizes = [];
      this.#head = 0;
      this.#wakeDrainWaiters();
    } else {
      if (this.#head > 1024) {
        this.#texts = this.#texts.slice(this.#head);
        this.#sizes = this.#sizes.slice(this.#head);
        this.#head = 0;
      }
      this.#timer = setTimeout(() => this.#pump(), this.#pollMs);
    }
  }

  #wakeDrainWaiters(): void {
    for (const wake of this.#drainWaiters.splice(0)) wake();
  }
}
