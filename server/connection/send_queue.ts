/**
 * A per-connection send queue, bounded in bytes. Frames queued within one
 * turn of the event loop go out in one write; a slow reader never blocks
 * anyone else, it only fills its own queue.
 * @module
 */

import { sharesBuffer } from "../../protocol/byte_slab.ts";

/**
 * Chunks (frames, or runs of frames) held behind a pending write before
 * they are copied into one buffer of their own: small frames are views into
 * shared slabs, and a reader that does not read must not keep a slab alive
 * per frame it has not taken.
 */
const MAX_LOOSE_CHUNKS = 16;

/**
 * Bytes with where they lie in their buffer, read once. A typed array's
 * `buffer` and `byteOffset` are calls into the runtime (10–20 ns each,
 * measured), too dear to repeat for every member a shared frame goes to.
 */
export interface PlacedBytes {
  readonly bytes: Uint8Array;
  readonly buffer: ArrayBufferLike;
  /** `bytes.byteOffset`. */
  readonly start: number;
  /** Where the bytes end in `buffer`. */
  readonly end: number;
}

/** `bytes` with its place read out (see {@link PlacedBytes}). */
export function placeBytes(bytes: Uint8Array): PlacedBytes {
  const start = bytes.byteOffset;
  return { bytes, buffer: bytes.buffer, start, end: start + bytes.length };
}

/** Where a queue writes: anything with Deno.Conn's `write`. */
export interface ByteSink {
  /** Writes some of `bytes`; resolves to how many were written. */
  write(bytes: Uint8Array): Promise<number>;
}

/**
 * Writes one at a time, for clients that take each read as one message
 * (a wire without framing): each frame queued is written alone, in pieces
 * of at most `maxBytes` cut before a UTF-8 character, `ms` after the last.
 */
export interface WriteSpacing {
  readonly ms: number;
  readonly maxBytes: number;
}

/** A bounded FIFO of frames drained by one writer. */
export class SendQueue {
  readonly #sink: ByteSink;
  readonly #limit: number;
  readonly #spacing: WriteSpacing | undefined;
  readonly #onWriteError: (error: unknown) => void;
  // null while empty, as #drainWaiters: an idle connection keeps no array of its own
  #chunks: PlacedBytes[] | null = null;
  /**
   * The last frames queued while they lie back to back in one buffer (as a
   * room's frames encoded in a row do in a slab): kept as the first of them
   * and where the last ends, and queued as one chunk when the run breaks.
   */
  #run: PlacedBytes | null = null;
  #runEnd = 0;
  #bytes = 0;
  #flushing = false;
  /** A write is waiting for the socket. */
  #writing = false;
  /** Chunks at the end of #chunks queued while writing and not copied together yet. */
  #loose = 0;
  #stopped = false;
  #drainWaiters: (() => void)[] | null = null;
  /** Nothing is written before this time (ms since the epoch); 0 when writes are not held. */
  #heldUntil = 0;
  /** Ends the wait for a hold early (when the queue stops). */
  #endHold: (() => void) | null = null;
  /**
   * Made once: an arrow function written inside `push` would make V8
   * allocate a context for `this` on every call of `push`, one per frame
   * queued, not one per flush.
   */
  readonly #flushLater = () => this.#flush();

  /**
   * @param sink where the bytes go
   * @param options `limit`: most bytes queued (not yet written) at once;
   * `onWriteError`: called once when a write fails, after which the queue stops;
   * `spacing`: frames written one at a time (see {@link WriteSpacing}).
   */
  constructor(
    sink: ByteSink,
    options: { limit: number; onWriteError: (error: unknown) => void; spacing?: WriteSpacing },
  ) {
    this.#sink = sink;
    this.#limit = options.limit;
    this.#spacing = options.spacing;
    this.#onWriteError = options.onWriteError;
  }

  /** Bytes queued or being written. */
  get queuedBytes(): number {
    return this.#bytes;
  }

  /**
   * Queues a frame (an empty one is nothing to send). Returns false,
   * queueing nothing, when it would take the queue over its limit (unless
   * `force`) or the queue is stopped.
   */
  push(bytes: Uint8Array, force = false): boolean {
    return this.pushPlaced(placeBytes(bytes), force);
  }

  /** {@link SendQueue.push}, for a frame whose place was read once for all its queues. */
  pushPlaced(frame: PlacedBytes, force = false): boolean {
    if (this.#stopped) return false;
    const length = frame.end - frame.start;
    if (length === 0) return true;
    if (!force && this.#bytes + length > this.#limit) return false;
    this.#bytes += length;
    const run = this.#run;
    if (
      run !== null && frame.buffer === run.buffer && frame.start === this.#runEnd &&
      this.#spacing === undefined
    ) {
      this.#runEnd = frame.end;
    } else {
      this.#endRun();
      this.#run = frame;
      this.#runEnd = frame.end;
    }
    if (!this.#flushing) {
      this.#flushing = true;
      queueMicrotask(this.#flushLater);
    }
    return true;
  }

  /** Separate buffers waiting to be written: frames, runs of them, or copies of several. */
  get heldBuffers(): number {
    return (this.#chunks?.length ?? 0) + (this.#run === null ? 0 : 1);
  }

  /** Queues the current run as one chunk. */
  #endRun(): void {
    const run = this.#run;
    if (run === null) return;
    this.#run = null;
    const end = this.#runEnd;
    const chunk = end === run.end ? run : {
      bytes: new Uint8Array(run.buffer, run.start, end - run.start),
      buffer: run.buffer,
      start: run.start,
      end,
    };
    const chunks = this.#chunks ??= [];
    if (this.#spacing !== undefined) {
      // written one by one: a copy of a shared frame, not the slab it lies in, waits its turn
      chunks.push(sharesBuffer(chunk.bytes) ? placeBytes(chunk.bytes.slice()) : chunk);
      return;
    }
    chunks.push(chunk);
    if (this.#writing && sharesBuffer(chunk.bytes) && ++this.#loose >= MAX_LOOSE_CHUNKS) {
      chunks.push(placeBytes(concat(chunks.splice(-this.#loose))));
      this.#loose = 0;
    }
  }

  /** Resolves when everything queued so far is written (or the queue stopped). */
  drained(): Promise<void> {
    if (this.#bytes === 0 || this.#stopped) return Promise.resolve();
    return new Promise((resolve) => (this.#drainWaiters ??= []).push(resolve));
  }

  /**
   * Writes nothing for the next `ms` milliseconds: what is queued meanwhile
   * goes out after, in order, in one write. For clients that break when an
   * answer comes too soon after they sent (CS 544).
   */
  holdFor(ms: number): void {
    this.#heldUntil = Math.max(this.#heldUntil, Date.now() + ms);
  }

  /** Drops what is queued and writes nothing more. */
  stop(): void {
    this.#stopped = true;
    this.#endHold?.();
    this.#chunks = null;
    this.#run = null;
    this.#loose = 0;
    this.#bytes = 0;
    this.#wakeDrainWaiters();
  }

  async #flush(): Promise<void> {
    if (this.#spacing) return this.#flushSpaced(this.#spacing);
    try {
      while ((this.#chunks !== null || this.#run !== null) && !this.#stopped) {
        if (this.#heldUntil !== 0) {
          await this.#holdOver();
          if (this.#stopped) break;
        }
        this.#endRun();
        const bytes = concat(this.#chunks!);
        this.#chunks = null;
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

  /** Writes each frame alone, in pieces, each piece `spacing.ms` after the last. */
  async #flushSpaced(spacing: WriteSpacing): Promise<void> {
    try {
      while ((this.#chunks !== null || this.#run !== null) && !this.#stopped) {
        this.#endRun();
        const chunks = this.#chunks!;
        const frame = chunks.shift()!.bytes;
        if (chunks.length === 0) this.#chunks = null;
        for (let at = 0; at < frame.length && !this.#stopped;) {
          const end = pieceEnd(frame, at, spacing.maxBytes);
          this.#writing = true;
          for (let written = at; written < end;) {
            written += await this.#sink.write(frame.subarray(written, end));
          }
          this.#writing = false;
          if (!this.#stopped) this.#bytes -= end - at;
          at = end;
          await new Promise((resolve) => setTimeout(resolve, spacing.ms));
        }
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

  /** Resolves when the hold is over (or the queue stopped). */
  async #holdOver(): Promise<void> {
    let wait: number;
    while ((wait = this.#heldUntil - Date.now()) > 0 && !this.#stopped) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.#endHold = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#endHold = null;
    }
    this.#heldUntil = 0;
  }

  #wakeDrainWaiters(): void {
    if (this.#bytes !== 0 && !this.#stopped) return;
    const waiters = this.#drainWaiters;
    if (waiters === null) return;
    this.#drainWaiters = null;
    for (const wake of waiters) wake();
  }
}

/**
 * Where a piece of `bytes` from `start` of at most `maxBytes` ends: before
 * a UTF-8 continuation byte, so that no character is cut in two.
 */
export function pieceEnd(bytes: Uint8Array, start: number, maxBytes: number): number {
  let end = Math.min(bytes.length, start + maxBytes);
  if (end === bytes.length) return end;
  while (end > start + 1 && (bytes[end] & 0xc0) === 0x80) end--;
  return end;
}

/**
 * Recent concatenations, by the buffer and offset of their first chunk. The
 * members of a room are sent the same frames in the same turn (one encoding
 * each, shared), so most of their queues hold the same frames, in the same
 * order: those are copied into one buffer once, and the connections share it.
 */
const recentConcats = new WeakMap<ArrayBufferLike, Map<number, Concatenation[]>>();
/** Concatenations remembered per first chunk: the members, and a few senders among them. */
const CONCATS_PER_CHUNK = 4;

interface Concatenation {
  readonly chunks: readonly PlacedBytes[];
  readonly bytes: Uint8Array;
}

/** The chunks in one buffer; takes ownership of `chunks`. */
function concat(chunks: PlacedBytes[]): Uint8Array {
  if (chunks.length === 1) return chunks[0].bytes;
  const first = chunks[0];
  let byOffset = recentConcats.get(first.buffer);
  const known = byOffset?.get(first.start);
  const same = known?.find((entry) => sameFrames(entry.chunks, chunks));
  if (same) return same.bytes;
  let length = 0;
  for (const chunk of chunks) length += chunk.end - chunk.start;
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk.bytes, at);
    at += chunk.end - chunk.start;
  }
  if (known) {
    if (known.length === CONCATS_PER_CHUNK) known.shift();
    known.push({ chunks, bytes });
  } else {
    if (!byOffset) recentConcats.set(first.buffer, byOffset = new Map());
    byOffset.set(first.start, [{ chunks, bytes }]);
  }
  return bytes;
}

function sameFrames(a: readonly PlacedBytes[], b: readonly PlacedBytes[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameBytes(a[i], b[i])) return false;
  return true;
}

/** Whether two chunks are the same bytes of the same buffer. */
function sameBytes(a: PlacedBytes, b: PlacedBytes): boolean {
  return a.buffer === b.buffer && a.start === b.start && a.end === b.end;
}
