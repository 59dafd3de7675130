/**
 * The bench messages: each one carries its send time, so every receiver can
 * measure send→receive latency. Claptrap frames, JSON over WebSocket or
 * IRC lines. A message of S bytes is `T`, ten digits of
 * microseconds since the run's epoch, then `x` up to S bytes. Messages are
 * sent from prebuilt templates whose stamp is overwritten in place, so a
 * send allocates nothing. Pure: no I/O.
 * @module
 */

import { encodeMessage } from "../protocol/message.ts";
import { maskAt, maskedFrame, maskedPayloadOffset, Opcode } from "./websocket.ts";

/** Bytes of the stamp: `T` and ten decimal digits. */
export const STAMP_BYTES = 11;
/** First byte of a stamped message (or of the last part of an IRC message). */
export const STAMP_MARK = 0x54; // 'T'
/** First byte of a part of an IRC message that is not the last part. */
export const PART_MARK = 0x50; // 'P'
/** Largest stamp value: ten digits of microseconds, about 2.7 hours. */
export const MAX_STAMP = 9_999_999_999;
/**
 * Largest text per IRC PRIVMSG line: the relayed line, with its
 * `:nick!~user@host PRIVMSG #room :` prefix and CR LF, must stay within
 * the 512 bytes of RFC 2812, which ngircd enforces.
 */
export const IRC_MAX_TEXT = 400;

const ZERO = 0x30;

/**
 * Writes `T` and `micros` as ten digits at `offset`, each byte XORed with
 * the byte of `mask` at the same place when there is one (a masked
 * WebSocket frame, see {@link SendTemplate.stampMask}).
 * @throws {RangeError} when `micros` is not within 0..{@link MAX_STAMP}.
 */
export function writeStamp(
  target: Uint8Array,
  offset: number,
  micros: number,
  mask: Uint8Array | null = null,
): void {
  if (!(micros >= 0 && micros <= MAX_STAMP)) {
    throw new RangeError(`Cannot write stamp: ${micros} is not within 0..${MAX_STAMP}`);
  }
  let v = Math.floor(micros);
  target[offset] = STAMP_MARK;
  for (let i = offset + STAMP_BYTES - 1; i > offset; i--) {
    const digit = v % 10;
    target[i] = ZERO + digit;
    v = (v - digit) / 10;
  }
  if (mask) { for (let i = 0; i < STAMP_BYTES; i++) target[offset + i] ^= mask[i]; }
}

/**
 * Reads a stamp written by {@link writeStamp} at `offset`; -1 when the bytes
 * there are not a stamp.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readStamp, writeStamp } from "./payload.ts";
 * const bytes = new Uint8Array(16);
 * writeStamp(bytes, 2, 1234567);
 * assert.equal(readStamp(bytes, 2), 1234567);
 * assert.equal(readStamp(bytes, 0), -1);
 * ```
 */
export function readStamp(source: Uint8Array, offset: number): number {
  if (offset < 0 || offset + STAMP_BYTES > source.length || source[offset] !== STAMP_MARK) {
    return -1;
  }
  let v = 0;
  for (let i = offset + 1; i < offset + STAMP_BYTES; i++) {
    const digit = source[i] - ZERO;
    if (digit < 0 || digit > 9) return -1;
    v = v * 10 + digit;
  }
  return v;
}

/** Bytes to send for one message, with where its stamp goes. */
export interface SendTemplate {
  /** The bytes of one message on the wire (frames or lines). */
  bytes: Uint8Array;
  /** Offset of the stamp within {@link SendTemplate.bytes}. */
  stampOffset: number;
  /** For a masked WebSocket frame: the mask bytes over the stamp, for {@link writeStamp}. */
  stampMask?: Uint8Array;
}

function checkSize(size: number): void {
  if (!Number.isInteger(size) || size < STAMP_BYTES) {
    throw new RangeError(`Cannot build message: size ${size} is below ${STAMP_BYTES} bytes`);
  }
}

/**
 * A Claptrap `SEND_MSG` frame whose content is `size` bytes: the stamp,
 * then padding.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { claptrapTemplate } from "./payload.ts";
 * const { bytes, stampOffset } = claptrapTemplate(64);
 * assert.equal(bytes.length - stampOffset, 64);
 * ```
 */
export function claptrapTemplate(size: number): SendTemplate {
  checkSize(size);
  const content = "T" + "0".repeat(STAMP_BYTES - 1) + "x".repeat(size - STAMP_BYTES);
  const bytes = encodeMessage({ method: "SEND_MSG", params: {}, content });
  return { bytes, stampOffset: bytes.length - size };
}

/**
 * A `SEND_MSG` request in the JSON mapping, `{"method":"SEND_MSG","content":…}`,
 * as a WebSocket text frame masked with `mask`; its content is `size`
 * bytes: the stamp, then padding. Write stamps with the template's
 * `stampMask`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { websocketTemplate, writeStamp } from "./payload.ts";
 * const mask = new Uint8Array([1, 2, 3, 4]);
 * const { bytes, stampOffset, stampMask } = websocketTemplate(16, mask);
 * writeStamp(bytes, stampOffset, 42, stampMask);
 * const payload = bytes.subarray(6).map((b, i) => b ^ mask[i & 3]);
 * assert.equal(new TextDecoder().decode(payload), '{"method":"SEND_MSG","content":"T0000000042xxxxx"}');
 * ```
 */
export function websocketTemplate(size: number, mask: Uint8Array): SendTemplate {
  checkSize(size);
  const before = '{"method":"SEND_MSG","content":"';
  const text = before + "T" + "0".repeat(STAMP_BYTES - 1) + "x".repeat(size - STAMP_BYTES) + '"}';
  const payload = new TextEncoder().encode(text);
  const bytes = maskedFrame(Opcode.TEXT, payload, mask);
  return {
    bytes,
    stampOffset: maskedPayloadOffset(payload.length) + before.length,
    stampMask: maskAt(mask, before.length, STAMP_BYTES),
  };
}

/**
 * The sizes of the PRIVMSG lines that carry a message of `size` bytes over
 * IRC, at most `maxText` each: IRC clients split long messages the same
 * way. Every part but the last starts with {@link PART_MARK}; the last one
 * holds the stamp, so it is the one a receiver times and counts.
 *
 * @example 1 KiB takes three lines
 * ```ts
 * import assert from "node:assert/strict";
 * import { ircPartSizes } from "./payload.ts";
 * assert.deepEqual(ircPartSizes(1024), [400, 400, 224]);
 * assert.deepEqual(ircPartSizes(64), [64]);
 * ```
 */
export function ircPartSizes(size: number, maxText = IRC_MAX_TEXT): number[] {
  checkSize(size);
  const parts: number[] = [];
  let left = size;
  while (left > maxText) {
    parts.push(maxText);
    left -= maxText;
  }
  if (left < STAMP_BYTES && parts.length > 0) {
    // keep the last part large enough for the stamp
    parts[parts.length - 1] -= STAMP_BYTES - left;
    left = STAMP_BYTES;
  }
  parts.push(left);
  return parts;
}

/**
 * The PRIVMSG lines that send a message of `size` bytes to `channel`; the
 * stamp is in the last line.
 */
export function ircTemplate(channel: string, size: number, maxText = IRC_MAX_TEXT): SendTemplate {
  const parts = ircPartSizes(size, maxText);
  const prefix = `PRIVMSG ${channel} :`;
  const text = parts.map((length, i) => {
    const mark = i === parts.length - 1 ? "T" + "0".repeat(STAMP_BYTES - 1) : "P";
    return prefix + mark + "x".repeat(length - mark.length) + "\r\n";
  }).join("");
  const bytes = new TextEncoder().encode(text);
  const last = parts[parts.length - 1];
  return { bytes, stampOffset: bytes.length - 2 - last };
}

/**
 * Copies a template `count` times into one buffer, so several messages go
 * out in one write; returns the buffer and the offset of each stamp.
 */
export function repeatTemplate(
  template: SendTemplate,
  count: number,
): { bytes: Uint8Array; stampOffsets: number[] } {
  // each copy is a whole frame with the same mask, so one stampMask serves them all
  const one = template.bytes.length;
  const bytes = new Uint8Array(one * count);
  const stampOffsets: number[] = [];
  for (let i = 0; i < count; i++) {
    bytes.set(template.bytes, i * one);
    stampOffsets.push(i * one + template.stampOffset);
  }
  return { bytes, stampOffsets };
}
