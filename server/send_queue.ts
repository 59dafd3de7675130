/**
 * A per-connection send queue, bounded in bytes. Frames queued within one
 * turn of the event loop go out in one write; a slow reader never blocks
 * anyone else, it only fills its own queue.
 * @module
 */

import { sharesBuffer } from "../protocol/byte_slab.ts";

/**
 * Frames held behind a pending write before they are copied into one buffer
 * of their own: small frames are views into shared slabs, and a reader that
 * does not read must not keep a slab alive per frame it has not taken.
 */
const MAX_LOOSE_FRAMES = 16;

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
  /** A write is waiting for the socket. */
  #writing = false;
  /** Frames at the end of #chunks queued while writing and not copied together yet. */
  #loose = 0;
  #stopped = false;
  #drainWaiters: (() => void)[] = [];
  /**
   * Made once: an arrow function written inside `push` would make V8
   * allocate a context for `this` on every call of `push`, one per frame
   * queued, not one per flush.
   */
  readonly #flushLater = () => this.#flush();

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
    if (this.#writing && sharesBuffer(bytes) && ++this.#loose >= MAX_LOOSE_FRAMES) {
      this.#chunks.push(concat(this.#chunks.splice(-this.#loose)));
      this.#loose = 0;
    }
    if (!this.#flushing) {
      this.#flushing = true;
      queueMicrotask(this.#flushLater);
    }
    return true;
  }

  /** Separate buffers waiting to be written (frames, or frames already copied together). */
  get heldBuffers(): number {
    return this.#chunks.length;
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
    this.#loose = 0;
    this.#bytes = 0;
    this.#wakeDrainWaiters();
  }

  async #flush(): Promise<void> {
    try {
      while (this.#chunks.length > 0 && !this.#stopped) {
        const bytes = concat(this.#chunks);
        this.#chunks = [];
        this.#loose = 0;
        this.#writing = true;
        let written = 0;
        while (written < bytes.length) {
          written += await this.#sink.write(written === 0 ? bytes : bytes.subarray(written));
        }
        this.#writing = false;
        if (!this.#stopped) this.#bytes -= bytes.length;
      }
    } catch (error) {
      if (!this.#stopped) {
        this.stop();
        this.#onWriteError(error);
      }
    } finally {
      this.#flushing = false;
      this.#writing = false;
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

/**
 * Recent concatenations, by their first frame. The members of a room are
 * sent the same frames in the same turn (one encoding each, shared), so
 * most of their queues hold the same frames, in the same order: those are
 * copied into one buffer once, and the connections share it.
 */
const recentConcats = new WeakMap<Uint8Array, Concatenation[]>();
/** Concatenations remembered per first frame: the members, and a few senders among them. */
const CONCATS_PER_FRAME = 4;

interface Concatenation {
  readonly chunks: readonly Uint8Array[];
  readonly bytes: Uint8Array;
}

/** The chunks in one buffer; takes ownership of `chunks`. */
function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const known = recentConcats.get(chunks[0]);
  const same = known?.find((entry) => sameFrames(entry.chunks, chunks));
  if (same) return same.bytes;
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  if (known) {
    if (known.length === CONCATS_PER_FRAME) known.shift();
    known.push({ chunks, bytes });
  } else {
    recentConcats.set(chunks[0], [{ chunks, bytes }]);
  }
  return bytes;
}

function sameFrames(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
