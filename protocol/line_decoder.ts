/**
 * Lines of bytes, each ending in LF, as line-oriented wires (CS 544) send
 * them: a streaming splitter with a bound on the length of a line. Pure.
 * @module
 */

/** LF, the byte that ends a line. */
const LF = 0x0a;
/** CR, dropped when it comes just before the LF. */
const CR = 0x0d;

/**
 * Splits a byte stream into lines: feed it bytes as they arrive, split
 * anywhere, and it returns the lines they complete, without their LF (and
 * without a CR just before it).
 *
 * A line longer than the limit is fatal, as the rest of it cannot be told
 * from the lines after it without buffering it: `push` returns the lines
 * completed before it, and records a `RangeError` in
 * {@link LineDecoder.error}; later pushes return nothing. The limit is
 * checked as bytes arrive, so at most `maxLineBytes` are ever buffered.
 *
 * @example Two lines, the second split across reads
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineDecoder } from "./line_decoder.ts";
 * const decoder = new LineDecoder({ maxLineBytes: 100 });
 * const bytes = new TextEncoder().encode("one\r\ntwo\n");
 * const lines = [...decoder.push(bytes.subarray(0, 7)), ...decoder.push(bytes.subarray(7))];
 * assert.deepEqual(lines.map((line) => new TextDecoder().decode(line)), ["one", "two"]);
 * ```
 */
export class LineDecoder {
  readonly #max: number;
  /** The pieces of the line not finished yet. */
  #pieces: Uint8Array[] = [];
  #buffered = 0;
  #error: RangeError | null = null;

  /** @param options `maxLineBytes`: the longest line accepted, its LF not counted (a CR is) */
  constructor(options: { maxLineBytes: number }) {
    this.#max = options.maxLineBytes;
  }

  /** Bytes of an unfinished line held, waiting for its end. */
  get buffered(): number {
    return this.#buffered;
  }

  /** The error that stopped decoding, if any. */
  get error(): RangeError | null {
    return this.#error;
  }

  /**
   * Takes bytes read from the stream; returns the lines they complete. The
   * lines may share memory with `chunk`: use them before the next read.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    const lines: Uint8Array[] = [];
    if (this.#error) return lines;
    let start = 0;
    while (start < chunk.length) {
      const end = chunk.indexOf(LF, start);
      const piece = chunk.subarray(start, end < 0 ? chunk.length : end);
      if (this.#buffered + piece.length > this.#max) {
        this.#fail();
        return lines;
      }
      if (end < 0) {
        this.#keep(piece);
        break;
      }
      lines.push(this.#finish(piece));
      start = end + 1;
    }
    return lines;
  }

  /** Keeps a piece of an unfinished line (copied: the read buffer is reused). */
  #keep(piece: Uint8Array): void {
    this.#pieces.push(piece.slice());
    this.#buffered += piece.length;
  }

  /** The whole line that `last` ends, without a CR at its end. */
  #finish(last: Uint8Array): Uint8Array {
    let line = last;
    if (this.#pieces.length > 0) {
      line = new Uint8Array(this.#buffered + last.length);
      let at = 0;
      for (const piece of this.#pieces) {
        line.set(piece, at);
        at += piece.length;
      }
      line.set(last, at);
      this.#pieces = [];
      this.#buffered = 0;
    }
    return line.length > 0 && line[line.length - 1] === CR ? line.subarray(0, -1) : line;
  }

  #fail(): void {
    this.#error = new RangeError(`Cannot parse line: longer than ${this.#max} bytes`);
    this.#pieces = [];
    this.#buffered = 0;
  }
}
