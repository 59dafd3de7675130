/**
 * WebSocket framing (RFC 6455 §5) as the server speaks it: a decoder of
 * client frames that enforces the message limit while fragments arrive,
 * and encoders of server frames. No I/O.
 * @module
 */

import { createHash } from "node:crypto";
import {
  MAX_SLAB_ALLOCATION,
  slabFreeFrom,
  slabToWrite,
  takeWritten,
} from "../../protocol/byte_slab.ts";

/** Frame opcodes (RFC 6455 §5.2). */
export const Opcode = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

/** The WebSocket close codes the server uses (RFC 6455 §7.4.1). */
export const CloseCode = {
  /** A normal close, e.g. the answer to the client's close. */
  NORMAL: 1000,
  /** The server is shutting down. */
  GOING_AWAY: 1001,
  /** The client broke the framing rules: an unmasked frame, a bad opcode or length. */
  PROTOCOL_ERROR: 1002,
  /** A text message (or close reason) is not valid UTF-8. */
  INVALID_DATA: 1007,
  /** A message grew past the message size limit. */
  MESSAGE_TOO_BIG: 1009,
} as const;

/** Longest payload of a control frame (close, ping, pong). */
const MAX_CONTROL_PAYLOAD = 125;
/** Longest close reason a close frame can carry, in UTF-8 bytes. */
const MAX_CLOSE_REASON_BYTES = MAX_CONTROL_PAYLOAD - 2;
/** The GUID of RFC 6455 §1.3, appended to the client's key. */
const HANDSHAKE_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** What a run of client bytes holds, frame by frame. */
export type WebSocketInput =
  | { kind: "text"; text: string }
  | { kind: "binary" }
  | { kind: "ping"; payload: Uint8Array }
  | { kind: "pong" }
  | { kind: "close"; code: number | null; reason: string };

/** Why the decoder stopped: the close code to send and its reason. */
export interface WebSocketFault {
  code: number;
  reason: string;
  /** For a message over the limit: its size as known when it was stopped. */
  messageBytes?: number;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/**
 * Decodes client frames. A message whose fragments add up to more than
 * `maxMessageBytes` is refused from the header of the frame that passes
 * the limit, before its payload is buffered; after a fault the decoder
 * takes nothing more.
 */
export class WebSocketDecoder {
  readonly #maxMessageBytes: number;
  /** Bytes received and not decoded yet: at most one frame's header and payload. */
  #buffer = new Uint8Array(0);
  #fill = 0;
  /** The fragments of the data message under way, or null between messages. */
  #fragments: Uint8Array[] | null = null;
  #fragmentsText = false;
  #messageBytes = 0;
  #fault: WebSocketFault | null = null;

  /** @param maxMessageBytes the most payload bytes of one message, all fragments together */
  constructor(maxMessageBytes: number) {
    this.#maxMessageBytes = maxMessageBytes;
  }

  /** Why the decoder stopped, or null. */
  get fault(): WebSocketFault | null {
    return this.#fault;
  }

  /** Whether a frame or a fragmented message has begun and is not complete. */
  get partial(): boolean {
    return this.#fill > 0 || this.#fragments !== null;
  }

  /**
   * Feeds bytes; returns what the frames they complete hold, in order, up
   * to a fault (see {@link WebSocketDecoder.fault}).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { WebSocketDecoder } from "./websocket_frames.ts";
   * const decoder = new WebSocketDecoder(1024);
   * // a masked text frame "hi" with the mask 0 0 0 0
   * assert.deepEqual(decoder.push(new Uint8Array([0x81, 0x82, 0, 0, 0, 0, 104, 105])), [
   *   { kind: "text", text: "hi" },
   * ]);
   * decoder.push(new Uint8Array([0x81, 0x02, 104, 105]));
   * assert.equal(decoder.fault?.code, 1002, "client frames must be masked");
   * ```
   */
  push(chunk: Uint8Array): WebSocketInput[] {
    const inputs: WebSocketInput[] = [];
    if (this.#fault) return inputs;
    let bytes = chunk;
    if (this.#fill > 0) {
      this.#append(chunk);
      bytes = this.#buffer.subarray(0, this.#fill);
    }
    let offset = 0;
    while (!this.#fault) {
      const used = this.#frame(bytes, offset, inputs);
      if (used === 0) break;
      offset += used;
    }
    const rest = bytes.length - offset;
    if (this.#fault || rest === 0) {
      this.#fill = 0;
    } else if (bytes === chunk) {
      this.#fill = 0;
      this.#append(chunk.subarray(offset));
    } else {
      this.#buffer.copyWithin(0, offset, this.#fill);
      this.#fill = rest;
    }
    if (this.#buffer.length > 4096 && this.#fill === 0) this.#buffer = new Uint8Array(0);
    return inputs;
  }

  #append(bytes: Uint8Array): void {
    const needed = this.#fill + bytes.length;
    if (needed > this.#buffer.length) {
      const grown = new Uint8Array(Math.max(needed, this.#buffer.length * 2, 256));
      grown.set(this.#buffer.subarray(0, this.#fill));
      this.#buffer = grown;
    }
    this.#buffer.set(bytes, this.#fill);
    this.#fill = needed;
  }

  /**
   * Decodes the frame at `offset` if it is complete; returns the bytes it
   * took, or 0 when more are needed (or on a fault). A header announcing
   * more than the limit allows is a fault at once.
   */
  #frame(bytes: Uint8Array, offset: number, inputs: WebSocketInput[]): number {
    const available = bytes.length - offset;
    if (available < 2) return 0;
    const first = bytes[offset];
    const second = bytes[offset + 1];
    const fin = (first & 0x80) !== 0;
    const opcode = first & 0x0f;
    if ((first & 0x70) !== 0) return this.#fail(CloseCode.PROTOCOL_ERROR, "reserved bits set");
    if ((second & 0x80) === 0) {
      return this.#fail(CloseCode.PROTOCOL_ERROR, "client frames must be masked");
    }
    let length = second & 0x7f;
    let headerLength = 6;
    if (length === 126) {
      headerLength = 8;
      if (available < 4) return 0;
      length = (bytes[offset + 2] << 8) | bytes[offset + 3];
    } else if (length === 127) {
      headerLength = 14;
      if (available < 10) return 0;
      const high = new DataView(bytes.buffer, bytes.byteOffset + offset + 2, 8).getUint32(0);
      if (high !== 0) return this.#tooBig(this.#messageBytes + high * 2 ** 32);
      length = new DataView(bytes.buffer, bytes.byteOffset + offset + 6, 4).getUint32(0);
    }
    const control = (opcode & 0x8) !== 0;
    if (control) {
      if (opcode > Opcode.PONG) return this.#fail(CloseCode.PROTOCOL_ERROR, "unknown opcode");
      if (!fin) return this.#fail(CloseCode.PROTOCOL_ERROR, "fragmented control frame");
      if (length > MAX_CONTROL_PAYLOAD) {
        return this.#fail(CloseCode.PROTOCOL_ERROR, "control frame longer than 125 bytes");
      }
    } else {
      if (opcode > Opcode.BINARY) return this.#fail(CloseCode.PROTOCOL_ERROR, "unknown opcode");
      if ((opcode === Opcode.CONTINUATION) !== (this.#fragments !== null)) {
        return this.#fail(
          CloseCode.PROTOCOL_ERROR,
          opcode === Opcode.CONTINUATION
            ? "continuation frame without a message"
            : "new message before the last one ended",
        );
      }
      if (this.#messageBytes + length > this.#maxMessageBytes) {
        return this.#tooBig(this.#messageBytes + length);
      }
    }
    if (available < headerLength + length) return 0;
    const maskAt = offset + headerLength - 4;
    const payload = bytes.slice(offset + headerLength, offset + headerLength + length);
    for (let i = 0; i < length; i++) payload[i] ^= bytes[maskAt + (i & 3)];
    if (control) this.#control(opcode, payload, inputs);
    else this.#data(opcode, fin, payload, inputs);
    return this.#fault ? 0 : headerLength + length;
  }

  #control(opcode: number, payload: Uint8Array, inputs: WebSocketInput[]): void {
    if (opcode === Opcode.PING) inputs.push({ kind: "ping", payload });
    else if (opcode === Opcode.PONG) inputs.push({ kind: "pong" });
    else if (payload.length === 0) inputs.push({ kind: "close", code: null, reason: "" });
    else if (payload.length === 1) this.#fail(CloseCode.PROTOCOL_ERROR, "close frame of 1 byte");
    else {
      const code = (payload[0] << 8) | payload[1];
      if (!validCloseCode(code)) {
        this.#fail(CloseCode.PROTOCOL_ERROR, `close code ${code} is not allowed`);
        return;
      }
      const reason = this.#decodeText(payload.subarray(2));
      if (reason !== null) inputs.push({ kind: "close", code, reason });
    }
  }

  #data(opcode: number, fin: boolean, payload: Uint8Array, inputs: WebSocketInput[]): void {
    if (opcode !== Opcode.CONTINUATION) this.#fragmentsText = opcode === Opcode.TEXT;
    this.#messageBytes += payload.length;
    let message = payload;
    if (!fin || this.#fragments !== null) {
      (this.#fragments ??= []).push(payload);
      if (!fin) return;
      message = concat(this.#fragments);
    }
    this.#fragments = null;
    this.#messageBytes = 0;
    if (!this.#fragmentsText) {
      inputs.push({ kind: "binary" });
      return;
    }
    const text = this.#decodeText(message);
    if (text !== null) inputs.push({ kind: "text", text });
  }

  #decodeText(bytes: Uint8Array): string | null {
    try {
      return utf8.decode(bytes);
    } catch {
      this.#fail(CloseCode.INVALID_DATA, "text is not valid UTF-8");
      return null;
    }
  }

  #tooBig(messageBytes: number): 0 {
    this.#fail(CloseCode.MESSAGE_TOO_BIG, `message exceeds ${this.#maxMessageBytes} bytes`);
    this.#fault!.messageBytes = messageBytes;
    return 0;
  }

  #fail(code: number, reason: string): 0 {
    this.#fault = { code, reason };
    this.#fragments = null;
    return 0;
  }
}

/** Whether a client may send this close code (RFC 6455 §7.4). */
function validCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999);
}

function concat(parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

/** The length of a server frame's header for a payload of `length` bytes. */
/** The longest header of a frame small enough for the byte slab. */
const SLAB_HEADER = 4;

function headerLength(length: number): number {
  return length < 126 ? 2 : length < 65536 ? 4 : 10;
}

/** Writes a server frame's header (final, unmasked) into `target` at `at`. */
function writeHeader(target: Uint8Array, at: number, opcode: number, length: number): void {
  target[at] = 0x80 | opcode;
  if (length < 126) {
    target[at + 1] = length;
  } else if (length < 65536) {
    target[at + 1] = 126;
    target[at + 2] = length >> 8;
    target[at + 3] = length & 0xff;
  } else {
    target[at + 1] = 127;
    new DataView(target.buffer, target.byteOffset + at + 2, 8).setBigUint64(0, BigInt(length));
  }
}

/**
 * A final, unmasked server frame around `payload`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeFrame, Opcode } from "./websocket_frames.ts";
 * assert.deepEqual(encodeFrame(Opcode.PONG, new Uint8Array([7])), new Uint8Array([0x8a, 1, 7]));
 * ```
 */
export function encodeFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const header = headerLength(payload.length);
  const frame = new Uint8Array(header + payload.length);
  writeHeader(frame, 0, opcode, payload.length);
  frame.set(payload, header);
  return frame;
}

/**
 * A text frame holding `text`, encoded straight into the frame's bytes.
 * A frame that surely fits is written into the shared byte slab, right
 * after the frame before it, so that the frames a connection queues in a
 * row go out as one run without being copied together again.
 */
export function encodeTextFrame(text: string): Uint8Array {
  const most = SLAB_HEADER + text.length * 3;
  if (most > MAX_SLAB_ALLOCATION) return encodeFrame(Opcode.TEXT, encoder.encode(text));
  const slab = slabToWrite(most);
  const start = slabFreeFrom();
  const { written } = encoder.encodeInto(text, slab.subarray(start + SLAB_HEADER, start + most));
  const header = headerLength(written);
  // the payload was written after room for the longest header a slab frame can need
  if (header < SLAB_HEADER) {
    slab.copyWithin(start + header, start + SLAB_HEADER, start + SLAB_HEADER + written);
  }
  writeHeader(slab, start, Opcode.TEXT, written);
  return takeWritten(start + header + written);
}

/** A close frame with `code` and `reason`, the reason cut to what a close frame can carry. */
export function encodeCloseFrame(code: number, reason: string): Uint8Array {
  let text = encoder.encode(reason);
  if (text.length > MAX_CLOSE_REASON_BYTES) {
    let end = MAX_CLOSE_REASON_BYTES;
    while ((text[end] & 0xc0) === 0x80) end--; // not inside a character
    text = text.subarray(0, end);
  }
  const payload = new Uint8Array(2 + text.length);
  payload[0] = code >> 8;
  payload[1] = code & 0xff;
  payload.set(text, 2);
  return encodeFrame(Opcode.CLOSE, payload);
}

/**
 * The `Sec-WebSocket-Accept` value for a client's `Sec-WebSocket-Key`
 * (RFC 6455 §4.2.2).
 *
 * @example The example of RFC 6455 §1.3
 * ```ts
 * import assert from "node:assert/strict";
 * import { acceptKey } from "./websocket_frames.ts";
 * assert.equal(acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
 * ```
 */
export function acceptKey(key: string): string {
  return createHash("sha1").update(key + HANDSHAKE_GUID).digest("base64");
}
