/**
 * Claptrap framing: an 8-byte `CLAPTRAP` magic, a 4-byte big-endian
 * Packet-Length that counts the whole frame (header included), then the
 * payload. Pure: no I/O, usable from browser code.
 * @module
 */

/** The 8 bytes every frame starts with: ASCII `CLAPTRAP`. */
export const MAGIC: Uint8Array = new Uint8Array([
  0x43,
  0x4c,
  0x41,
  0x50,
  0x54,
  0x52,
  0x41,
  0x50,
]);

/** Bytes before the payload: the magic and the 4-byte Packet-Length. */
export const HEADER_SIZE = 12;

/** Largest frame accepted by default (1 MiB), header included. */
export const DEFAULT_MAX_FRAME_SIZE = 1 << 20;

/** Options of a {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /** Largest Packet-Length accepted; checked before the body is buffered. */
  maxFrameSize?: number;
}

/**
 * Wraps a payload in a frame: magic, length, payload, in one new buffer.
 *
 * @example Framing a payload
 * ```ts
 * import assert from "node:assert/strict";
 * import { frame } from "./frame.ts";
 * const bytes = frame(new TextEncoder().encode("LOGOUT\n\n"));
 * assert.ok(bytes.length === 12 + 8);
 * ```
 */
export function frame(payload: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(HEADER_SIZE + payload.length);
  writeFrameHeader(bytes, bytes.length);
  bytes.set(payload, HEADER_SIZE);
  return bytes;
}

/** Writes the magic and the Packet-Length into the first 12 bytes of `target`. */
export function writeFrameHeader(target: Uint8Array, frameLength: number): void {
  for (let i = 0; i < MAGIC.length; i++) target[i] = MAGIC[i];
  target[8] = frameLength >>> 24;
  target[9] = (frameLength >>> 16) & 0xff;
  target[10] = (frameLength >>> 8) & 0xff;
  target[11] = frameLength & 0xff;
}

/**
 * A streaming frame decoder: feed it bytes as they arrive, split anywhere,
 * and it returns the payloads of the frames they complete.
 *
 * Framing errors are fatal: the stream cannot be resynchronised after one.
 * `push` returns the payloads completed before the error and records it in
 * {@link FrameDecoder.error}; later pushes return nothing. The error is
 * - a `SyntaxError` when the magic is wrong (seen at the first wrong byte);
 * - a `RangeError` when the Packet-Length is below 12 or above the limit
 *   (seen in the header, before any of the body is buffered).
 *
 * @example Two frames, the second split across reads
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameDecoder, frame } from "./frame.ts";
 * const bytes = new Uint8Array([...frame(new Uint8Array([65])), ...frame(new Uint8Array([66]))]);
 * const decoder = new FrameDecoder();
 * const first = decoder.push(bytes.subarray(0, 15));
 * const second = decoder.push(bytes.subarray(15));
 * assert.ok(first.length === 1 && second.length === 1);
 * ```
 */
export class FrameDecoder {
  readonly #maxFrameSize: number;
  readonly #header = new Uint8Array(HEADER_SIZE);
  #headerFill = 0;
  #body: Uint8Array | null = null;
  #bodyFill = 0;
  #error: SyntaxError | RangeError | null = null;

  /** Creates a decoder; the maximum frame size defaults to 1 MiB. */
  constructor(options: FrameDecoderOptions = {}) {
    this.#maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    if (!(this.#maxFrameSize >= HEADER_SIZE)) {
      throw new RangeError(
        `Cannot create decoder: maxFrameSize ${this.#maxFrameSize} is below ${HEADER_SIZE}`,
      );
    }
  }

  /** The framing error that stopped this decoder, if any. */
  get error(): SyntaxError | RangeError | null {
    return this.#error;
  }

  /**
   * Bytes received of a frame that is not complete yet, header included:
   * 0 exactly when the decoder is between frames.
   */
  get buffered(): number {
    return this.#body ? HEADER_SIZE + this.#bodyFill : this.#headerFill;
  }

  /**
   * Feeds bytes; returns the payloads of the frames they complete, in order,
   * up to a framing error (see {@link FrameDecoder.error}). A returned
   * payload may be a view into `chunk`: use it before `chunk` is reused.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    const payloads: Uint8Array[] = [];
    let offset = 0;
    try {
      while (offset < chunk.length && !this.#error) {
        offset = this.#body
          ? this.#fillBody(chunk, offset, payloads)
          : this.#readHeader(chunk, offset, payloads);
      }
    } catch (error) {
      if (!(error instanceof SyntaxError || error instanceof RangeError)) throw error;
      this.#error = error;
    }
    return payloads;
  }

  #readHeader(chunk: Uint8Array, offset: number, payloads: Uint8Array[]): number {
    if (this.#headerFill === 0 && chunk.length - offset >= HEADER_SIZE) {
      const length = this.#checkHeader(chunk, offset);
      const end = offset + length;
      if (end <= chunk.length) {
        payloads.push(chunk.subarray(offset + HEADER_SIZE, end));
        return end;
      }
      this.#startBody(length);
      return offset + HEADER_SIZE;
    }
    while (this.#headerFill < HEADER_SIZE && offset < chunk.length) {
      const byte = chunk[offset++];
      if (this.#headerFill < MAGIC.length && byte !== MAGIC[this.#headerFill]) {
        throw badMagic();
      }
      this.#header[this.#headerFill++] = byte;
    }
    if (this.#headerFill === HEADER_SIZE) {
      const length = this.#checkHeader(this.#header, 0);
      this.#headerFill = 0;
      if (length === HEADER_SIZE) payloads.push(new Uint8Array(0));
      else this.#startBody(length);
    }
    return offset;
  }

  #checkHeader(bytes: Uint8Array, offset: number): number {
    for (let i = 0; i < MAGIC.length; i++) {
      if (bytes[offset + i] !== MAGIC[i]) throw badMagic();
    }
    const at = offset + 8;
    // big-endian; the top byte multiplied, not shifted, so that the result stays unsigned
    const length = bytes[at] * 0x1000000 +
      (bytes[at + 1] << 16 | bytes[at + 2] << 8 | bytes[at + 3]);
    if (length < HEADER_SIZE) {
      throw new RangeError(
        `Cannot parse frame: Packet-Length ${length} is below ${HEADER_SIZE}`,
      );
    }
    if (length > this.#maxFrameSize) {
      throw new RangeError(
        `Cannot parse frame: Packet-Length ${length} exceeds ${this.#maxFrameSize}`,
      );
    }
    return length;
  }

  #startBody(frameLength: number): void {
    this.#body = new Uint8Array(frameLength - HEADER_SIZE);
    this.#bodyFill = 0;
  }

  #fillBody(chunk: Uint8Array, offset: number, payloads: Uint8Array[]): number {
    const body = this.#body!;
    const take = Math.min(body.length - this.#bodyFill, chunk.length - offset);
    body.set(chunk.subarray(offset, offset + take), this.#bodyFill);
    this.#bodyFill += take;
    if (this.#bodyFill === body.length) {
      payloads.push(body);
      this.#body = null;
      this.#bodyFill = 0;
    }
    return offset + take;
  }
}

function badMagic(): SyntaxError {
  return new SyntaxError("Cannot parse frame: bad magic, expected CLAPTRAP");
}
