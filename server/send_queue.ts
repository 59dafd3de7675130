/**
 * A per-connection send queue, bounded in bytes. Frames queued within one
 * turn of the event loop go out in one write; a slow reader never blocks
 * anyone else, it only fills its own queue.
 * @module
 */

/** Where a queue writes: anything with Deno.Conn's `write`. */
export interface ByteSink {
  /** Writes some of `bytes`; resolves to how many were written. */
  write(bytes: Uint8Array): Promise<number>;
}

/** A bounded FIFO of frames drained by one writer. */
export class SendQueue {
  readonly #sink: ByteSink;
  readonly #limit: number;
  readonly #onWriteError: (error: unknown) => void;
  #chunks: Uint8Array[] = [];
  #bytes = 0;
  #flushing = false;
  #stopped = false;
  #drainWaiters: (() => void)[] = [];

  /**
   * @param sink where the bytes go
   * @param options `limit`: most bytes queued (not yet written) at once;
   * `onWriteError`: called once when a write fails, after which the queue stops.
   */
  constructor(
    sink: ByteSink,
    options: { limit: number; onWriteError: (error: unknown) => void },
  ) {
    this.#sink = sink;
    this.#limit = options.limit;
    this.#onWriteError = options.onWriteError;
  }

  /** Bytes queued or being written. */
  get queuedBytes(): number {
    return this.#bytes;
  }

  /**
   * Queues a frame. Returns false, queueing nothing, when it would take the
   * queue over its limit (unless `force`) or the queue is stopped.
   */
  push(bytes: Uint8Array, force = false): boolean {
    if (this.#stopped) return false;
    if (!force && this.#bytes + bytes.length > this.#limit) return false;
    this.#chunks.push(bytes);
    this.#bytes += bytes.length;
    if (!this.#flushing) {
      this.#flushing = true;
      queueMicrotask(() => this.#flush());
    }
    return true;
  }

  /** Resolves when everything queued so far is written (or the queue stopped). */
  drained(): Promise<void> {
    if (this.#bytes === 0 || this.#stopped) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Drops what is queued and writes nothing more. */
  stop(): void {
    this.#stopped = true;
    this.#chunks = [];
    this.#bytes = 0;
    this.#wakeDrainWaiters();
  }

  async #flush(): Promise<void> {
    try {
      while (this.#chunks.length > 0 && !this.#stopped) {
        const bytes = concat(this.#chunks);
        this.#chunks = [];
        let written = 0;
        while (written < bytes.length) {
          written += await this.#sink.write(bytes.subarray(written));
        }
        if (!this.#stopped) this.#bytes -= bytes.length;
      }
    } catch (error) {
      if (!this.#stopped) {
        this.stop();
        this.#onWriteError(error);
      }
    } finally {
      this.#flushing = false;
    }
    this.#wakeDrainWaiters();
  }

  #wakeDrainWaiters(): void {
    if (this.#bytes !== 0 && !this.#stopped) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const wake of waiters) wake();
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}
