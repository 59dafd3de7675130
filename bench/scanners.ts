/**
 * Zero-copy splitters for the load generator's receive path: Claptrap
 * frames, WebSocket frames and IRC lines are reported as ranges of the
 * buffer they arrived in, so a delivery costs no allocation. Only the tail of a read that ends
 * inside a frame or line is copied. Pure: no I/O.
 * @module
 */

import { HEADER_SIZE, MAGIC } from "../protocol/frame.ts";

/** Receives one payload or line: `bytes[start..end)`, valid only during the call. */
export type RangeHandler = (bytes: Uint8Array, start: number, end: number) => void;

/** The bytes of an incomplete frame or line, kept from one read to the next. */
class Carry {
  /** The kept bytes are `bytes[0..length)`. */
  bytes: Uint8Array;
  length = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
  }

  /** Appends `more`, growing the buffer when needed. */
  keep(more: Uint8Array): void {
    const needed = this.length + more.length;
    if (needed > this.bytes.length) {
      const grown = new Uint8Array(Math.max(needed, this.bytes.length * 2));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    this.bytes.set(more, this.length);
    this.length = needed;
  }
}

/**
 * Splits a stream of length-prefixed frames into payloads; a subclass says
 * how long a frame is from its first bytes. Only the tail of a read that
 * ends inside a frame is copied.
 */
abstract class PrefixedFrameScanner {
  readonly #carry = new Carry(4096);
  /** Header bytes of the frame last measured: its payload starts there. */
  protected header = 0;

  /**
   * The whole length of the frame at `bytes[at]` (header included), with
   * {@link PrefixedFrameScanner.header} set; or, when the `available` bytes
   * cannot tell yet, minus the bytes it needs to tell.
   * @throws {SyntaxError|RangeError} on a frame the scanner cannot take
   */
  protected abstract measure(bytes: Uint8Array, at: number, available: number): number;

  /**
   * Feeds bytes; calls `onPayload` for each frame they complete, in order.
   * @throws {SyntaxError|RangeError} on a frame the scanner cannot take
   */
  push(chunk: Uint8Array, onPayload: RangeHandler): void {
    let offset = 0;
    if (this.#carry.length > 0) {
      offset = this.#completeCarried(chunk, onPayload);
      if (offset < 0) return;
    }
    const length = chunk.length;
    while (offset < length) {
      const frameLength = this.measure(chunk, offset, length - offset);
      if (frameLength <= 0 || length - offset < frameLength) break;
      onPayload(chunk, offset + this.header, offset + frameLength);
      offset += frameLength;
    }
    if (offset < length) this.#carry.keep(chunk.subarray(offset));
  }

  /** Bytes held for an incomplete frame. */
  get buffered(): number {
    return this.#carry.length;
  }

  /** Completes the carried frame from `chunk`; returns where the rest starts, or -1. */
  #completeCarried(chunk: Uint8Array, onPayload: RangeHandler): number {
    const carry = this.#carry;
    let offset = 0;
    let frameLength = this.measure(carry.bytes, 0, carry.length);
    while (frameLength <= 0) {
      const take = Math.min(-frameLength - carry.length, chunk.length - offset);
      carry.keep(chunk.subarray(offset, offset + take));
      offset += take;
      if (carry.length < -frameLength) return -1;
      frameLength = this.measure(carry.bytes, 0, carry.length);
    }
    const take = Math.min(frameLength - carry.length, chunk.length - offset);
    carry.keep(chunk.subarray(offset, offset + take));
    offset += take;
    if (carry.length < frameLength) return -1;
    carry.length = 0;
    onPayload(carry.bytes, this.header, frameLength);
    return offset;
  }
}

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
export class FrameScanner extends PrefixedFrameScanner {
  readonly #maxFrameSize: number;

  /** @param maxFrameSize largest Packet-Length accepted (default 16 MiB) */
  constructor(maxFrameSize = 16 << 20) {
    super();
    this.#maxFrameSize = maxFrameSize;
    this.header = HEADER_SIZE;
  }

  protected measure(bytes: Uint8Array, at: number, available: number): number {
    if (available < HEADER_SIZE) return -HEADER_SIZE;
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
}

/**
 * Splits a stream of WebSocket frames from a server (RFC 6455 §5: never
 * masked) into payloads; {@link WebSocketScanner.opcode} tells the kind of
 * the frame being reported. Fragmented messages are refused: the Claptrap
 * server sends every message in one frame.
 *
 * @example A text frame and a ping, split inside the ping's header
 * ```ts
 * import assert from "node:assert/strict";
 * import { WebSocketScanner } from "./scanners.ts";
 * const bytes = new Uint8Array([0x81, 2, 104, 105, 0x89, 1, 7]);
 * const got: [number, number[]][] = [];
 * const scanner = new WebSocketScanner();
 * const collect = (b: Uint8Array, s: number, e: number) => got.push([scanner.opcode, [...b.subarray(s, e)]]);
 * scanner.push(bytes.subarray(0, 5), collect);
 * scanner.push(bytes.subarray(5), collect);
 * assert.deepEqual(got, [[1, [104, 105]], [9, [7]]]);
 * ```
 */
export class WebSocketScanner extends PrefixedFrameScanner {
  readonly #maxPayload: number;
  #opcode = 0;

  /** @param maxPayload largest payload accepted (default 16 MiB) */
  constructor(maxPayload = 16 << 20) {
    super();
    this.#maxPayload = maxPayload;
  }

  /** The opcode of the frame whose payload is being reported (1 text, 8 close, 9 ping…). */
  get opcode(): number {
    return this.#opcode;
  }

  protected measure(bytes: Uint8Array, at: number, available: number): number {
    if (available < 2) return -2;
    const first = bytes[at];
    const second = bytes[at + 1];
    if ((first & 0x80) === 0 || (first & 0x0f) === 0) {
      throw new RangeError("Cannot parse WebSocket frame: fragmented message");
    }
    if ((first & 0x70) !== 0 || (second & 0x80) !== 0) {
      throw new SyntaxError(
        "Cannot parse WebSocket frame: reserved bits or a mask from the server",
      );
    }
    let length = second & 0x7f;
    let header = 2;
    if (length === 126) {
      if (available < 4) return -4;
      header = 4;
      length = (bytes[at + 2] << 8) | bytes[at + 3];
    } else if (length === 127) {
      if (available < 10) return -10;
      header = 10;
      length = (bytes[at + 2] | bytes[at + 3] | bytes[at + 4] | bytes[at + 5]) !== 0
        ? Infinity
        : bytes[at + 6] * 0x1000000 +
          ((bytes[at + 7] << 16) | (bytes[at + 8] << 8) | bytes[at + 9]);
    }
    if (length > this.#maxPayload) {
      throw new RangeError(`Cannot parse WebSocket frame: payload of ${length} bytes`);
    }
    this.#opcode = first & 0x0f;
    this.header = header;
    return header + length;
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
  readonly #carry = new Carry(1024);

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
    const carry = this.#carry;
    if (carry.length > 0) {
      const end = chunk.indexOf(LF);
      if (end === -1) {
        this.#keep(chunk);
        return;
      }
      this.#keep(chunk.subarray(0, end));
      const lineEnd = carry.length > 0 && carry.bytes[carry.length - 1] === CR
        ? carry.length - 1
        : carry.length;
      carry.length = 0;
      onLine(carry.bytes, 0, lineEnd);
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
    if (this.#carry.length + bytes.length > this.#maxLine) {
      throw new RangeError(`Cannot parse line: longer than ${this.#maxLine} bytes`);
    }
    this.#carry.keep(bytes);
  }
}
