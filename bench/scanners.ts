/**
 * Zero-copy splitters for the load generator's receive path: Claptrap
 * frames and IRC lines are reported as ranges of the buffer they arrived
 * in, so a delivery costs no allocation. Only the tail of a read that ends
 * inside a frame or line is copied. Pure: no I/O.
 * @module
 */

import { HEADER_SIZE, MAGIC } from "../protocol/frame.ts";

/** Receives one payload or line: `bytes[start..end)`, valid only during the call. */
export type RangeHandler = (bytes: Uint8Array, start: number, end: number) => void;

/**
 * Splits a stream of Claptrap frames into payloads.
 *
 * @example Two frames, split inside the second header
 * ```ts
 * import assert from "node:assert/strict";
 * import { frame } from "../protocol/frame.ts";
 * import { FrameScanner } from "./scanners.ts";
 * const bytes = new Uint8Array([...frame(new Uint8Array([65])), ...frame(new Uint8Array([66, 67]))]);
 * const payloads: number[][] = [];
 * const scanner = new FrameScanner();
 * const collect = (b: Uint8Array, s: number, e: number) => payloads.push([...b.subarray(s, e)]);
 * scanner.push(bytes.subarray(0, 17), collect);
 * scanner.push(bytes.subarray(17), collect);
 * assert.deepEqual(payloads, [[65], [66, 67]]);
 * ```
 */
export class FrameScanner {
  readonly #maxFrameSize: number;
  #carry = new Uint8Array(4096);
  #carried = 0;

  /** @param maxFrameSize largest Packet-Length accepted (default 16 MiB) */
  constructor(maxFrameSize = 16 << 20) {
    this.#maxFrameSize = maxFrameSize;
  }

  /**
   * Feeds bytes; calls `onPayload` for each frame they complete, in order.
   * @throws {SyntaxError} on a wrong magic; {RangeError} on a bad length.
   */
  push(chunk: Uint8Array, onPayload: RangeHandler): void {
    let offset = 0;
    if (this.#carried > 0) {
      offset = this.#completeCarried(chunk, onPayload);
      if (offset < 0) return;
    }
    const length = chunk.length;
    while (length - offset >= HEADER_SIZE) {
      const frameLength = this.#check(chunk, offset);
      if (length - offset < frameLength) break;
      onPayload(chunk, offset + HEADER_SIZE, offset + frameLength);
      offset += frameLength;
    }
    if (offset < length) this.#keep(chunk.subarray(offset));
  }

  /** Bytes held for an incomplete frame. */
  get buffered(): number {
    return this.#carried;
  }

  /** Completes the carried frame from `chunk`; returns where the rest starts, or -1. */
  #completeCarried(chunk: Uint8Array, onPayload: RangeHandler): number {
    let offset = 0;
    if (this.#carried < HEADER_SIZE) {
      const take = Math.min(HEADER_SIZE - this.#carried, chunk.length);
      this.#keep(chunk.subarray(0, take));
      offset = take;
      if (this.#carried < HEADER_SIZE) return -1;
    }
    const frameLength = this.#check(this.#carry, 0);
    const take = Math.min(frameLength - this.#carried, chunk.length - offset);
    this.#keep(chunk.subarray(offset, offset + take));
    offset += take;
    if (this.#carried < frameLength) return -1;
    this.#carried = 0;
    onPayload(this.#carry, HEADER_SIZE, frameLength);
    return offset;
  }

  #check(bytes: Uint8Array, at: number): number {
    for (let i = 0; i < MAGIC.length; i++) {
      if (bytes[at + i] !== MAGIC[i]) throw new SyntaxError("Cannot parse frame: bad magic");
    }
    const frameLength = (bytes[at + 8] * 0x1000000) +
      ((bytes[at + 9] << 16) | (bytes[at + 10] << 8) | bytes[at + 11]);
    if (frameLength < HEADER_SIZE || frameLength > this.#maxFrameSize) {
      throw new RangeError(`Cannot parse frame: Packet-Length ${frameLength}`);
    }
    return frameLength;
  }

  #keep(bytes: Uint8Array): void {
    const needed = this.#carried + bytes.length;
    if (needed > this.#carry.length) {
      const grown = new Uint8Array(Math.max(needed, this.#carry.length * 2));
      grown.set(this.#carry.subarray(0, this.#carried));
      this.#carry = grown;
    }
    this.#carry.set(bytes, this.#carried);
    this.#carried = needed;
  }
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits a stream of IRC lines at LF, dropping the LF and a CR before it.
 *
 * @example A line split across two reads
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineScanner } from "./scanners.ts";
 * const lines: string[] = [];
 * const scanner = new LineScanner();
 * const collect = (b: Uint8Array, s: number, e: number) =>
 *   lines.push(new TextDecoder().decode(b.subarray(s, e)));
 * scanner.push(new TextEncoder().encode("PING :a\r\nPI"), collect);
 * scanner.push(new TextEncoder().encode("NG :b\r\n"), collect);
 * assert.deepEqual(lines, ["PING :a", "PING :b"]);
 * ```
 */
export class LineScanner {
  readonly #maxLine: number;
  #carry = new Uint8Array(1024);
  #carried = 0;

  /** @param maxLine longest line accepted, in bytes (default 64 KiB) */
  constructor(maxLine = 64 * 1024) {
    this.#maxLine = maxLine;
  }

  /**
   * Feeds bytes; calls `onLine` for each line they complete, in order.
   * @throws {RangeError} when a line grows beyond the maximum.
   */
  push(chunk: Uint8Array, onLine: RangeHandler): void {
    let offset = 0;
    if (this.#carried > 0) {
      const end = chunk.indexOf(LF);
      if (end === -1) {
        this.#keep(chunk);
        return;
      }
      this.#keep(chunk.subarray(0, end));
      const lineEnd = this.#carried > 0 && this.#carry[this.#carried - 1] === CR
        ? this.#carried - 1
        : this.#carried;
      this.#carried = 0;
      onLine(this.#carry, 0, lineEnd);
      offset = end + 1;
    }
    for (;;) {
      const end = chunk.indexOf(LF, offset);
      if (end === -1) break;
      onLine(chunk, offset, end > offset && chunk[end - 1] === CR ? end - 1 : end);
      offset = end + 1;
    }
    if (offset < chunk.length) this.#keep(chunk.subarray(offset));
  }

  #keep(bytes: Uint8Array): void {
    const needed = this.#carried + bytes.length;
    if (needed > this.#maxLine) {
      throw new RangeError(`Cannot parse line: longer than ${this.#maxLine} bytes`);
    }
    if (needed > this.#carry.length) {
      const grown = new Uint8Array(Math.max(needed, this.#carry.length * 2));
      grown.set(this.#carry.subarray(0, this.#carried));
      this.#carry = grown;
    }
    this.#carry.set(bytes, this.#carried);
    this.#carried = needed;
  }
}
