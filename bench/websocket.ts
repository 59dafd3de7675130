/**
 * The client side of WebSocket (RFC 6455) that the load generator needs:
 * the upgrade request and the check of its answer, and masked client
 * frames. Server frames are split by `WebSocketScanner` (scanners.ts).
 * Pure: no I/O.
 * @module
 */

import { createHash } from "node:crypto";

/** The path of the Claptrap server's WebSocket endpoint. */
export const WEBSOCKET_PATH = "/ws";

/** Frame opcodes (RFC 6455 §5.2) the load generator sends or reads. */
export const Opcode = { TEXT: 0x1, CLOSE: 0x8, PING: 0x9, PONG: 0xa } as const;

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const CRLF_CRLF = new Uint8Array([13, 10, 13, 10]);

/** A fresh `Sec-WebSocket-Key`: 16 random bytes in base64. */
export function newKey(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
}

/** A fresh masking key of 4 random bytes, none of them zero. */
export function newMask(): Uint8Array {
  const mask = crypto.getRandomValues(new Uint8Array(4));
  for (let i = 0; i < 4; i++) mask[i] ||= 0x5a;
  return mask;
}

/** The upgrade request to `/ws` on `host` (`127.0.0.1:PORT`), as a page-less client sends it. */
export function upgradeRequest(host: string, key: string): string {
  return `GET ${WEBSOCKET_PATH} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\n` +
    `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
}

/** Where the answer's head ends in `bytes` (just after its blank line), or -1. */
export function headEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 4 <= bytes.length; i++) {
    if (
      bytes[i] === CRLF_CRLF[0] && bytes[i + 1] === CRLF_CRLF[1] &&
      bytes[i + 2] === CRLF_CRLF[2] && bytes[i + 3] === CRLF_CRLF[3]
    ) return i + 4;
  }
  return -1;
}

/**
 * Checks the server's answer to an upgrade request with `key`: status 101
 * and the right `Sec-WebSocket-Accept`.
 * @throws {Error} naming what is wrong (the status line when it is not 101)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkUpgradeAnswer } from "./websocket.ts";
 * // the key and answer of RFC 6455 §1.3
 * const key = "dGhlIHNhbXBsZSBub25jZQ==";
 * checkUpgradeAnswer(
 *   "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
 *     "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
 *   key,
 * );
 * assert.throws(() => checkUpgradeAnswer("HTTP/1.1 403 Forbidden\r\n\r\n", key), /403/);
 * ```
 */
export function checkUpgradeAnswer(head: string, key: string): void {
  const [status, ...fields] = head.split("\r\n");
  if (!/^HTTP\/1\.1 101\b/.test(status)) {
    throw new Error(`WebSocket upgrade refused: ${status.slice(0, 80)}`);
  }
  const expected = createHash("sha1").update(key + GUID).digest("base64");
  const accept = fields.find((field) => /^sec-websocket-accept:/i.test(field));
  if (accept?.slice(accept.indexOf(":") + 1).trim() !== expected) {
    throw new Error("WebSocket upgrade answered with a wrong Sec-WebSocket-Accept");
  }
}

/** Header bytes of a masked client frame with a payload of `length` bytes. */
function maskedHeaderLength(length: number): number {
  return (length < 126 ? 2 : length < 65536 ? 4 : 10) + 4;
}

/**
 * A final client frame: `payload` masked with `mask` (4 bytes), as RFC
 * 6455 §5.3 wants every client frame.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maskedFrame, Opcode } from "./websocket.ts";
 * const frame = maskedFrame(Opcode.TEXT, new Uint8Array([104, 105]), new Uint8Array([1, 2, 3, 4]));
 * assert.deepEqual(frame, new Uint8Array([0x81, 0x82, 1, 2, 3, 4, 104 ^ 1, 105 ^ 2]));
 * ```
 */
export function maskedFrame(opcode: number, payload: Uint8Array, mask: Uint8Array): Uint8Array {
  const length = payload.length;
  const header = maskedHeaderLength(length);
  const frame = new Uint8Array(header + length);
  frame[0] = 0x80 | opcode;
  if (length < 126) {
    frame[1] = 0x80 | length;
  } else if (length < 65536) {
    frame[1] = 0x80 | 126;
    frame[2] = length >> 8;
    frame[3] = length & 0xff;
  } else {
    frame[1] = 0x80 | 127;
    new DataView(frame.buffer).setBigUint64(2, BigInt(length));
  }
  frame.set(mask, header - 4);
  for (let i = 0; i < length; i++) frame[header + i] = payload[i] ^ mask[i & 3];
  return frame;
}

/**
 * The mask bytes that apply to `count` payload bytes starting at payload
 * offset `from`: XOR bytes written there later with these to mask them
 * in place (how a prebuilt frame gets a fresh stamp).
 */
export function maskAt(mask: Uint8Array, from: number, count: number): Uint8Array {
  return Uint8Array.from({ length: count }, (_, i) => mask[(from + i) & 3]);
}

/** Where the payload of a masked client frame of `length` payload bytes starts. */
export function maskedPayloadOffset(length: number): number {
  return maskedHeaderLength(length);
}
