/**
 * Claptrap messages: the payload of a frame is a method line, `Key: Value`
 * parameter lines, a blank line and the content. Pure: no I/O.
 * @module
 */

import { MAX_SLAB_ALLOCATION, slabFreeFrom, slabToWrite, takeWritten } from "./byte_slab.ts";
import { HEADER_SIZE, writeFrameHeader } from "./frame.ts";

/** One request, response or event, as carried in a frame's payload. */
export interface Message {
  /** The method line, e.g. `LOGIN` or `RESP_LOGIN`. */
  method: string;
  /**
   * Parameters in order of appearance, except that names which are array
   * indices (`0`, `1`...) come first, as in any object; names are
   * case-sensitive.
   */
  params: Record<string, string>;
  /**
   * The content field. When it is a string (even empty) the encoder writes
   * a `Content-Length` parameter for it; when it is absent, neither is sent.
   */
  content?: string;
}

const NEWLINE = 0x0a;
const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
/**
 * The strict decoder costs three times as much; text without U+FFFD from
 * this one is valid, only the rest is checked again strictly.
 */
const lenientDecoder = new TextDecoder("utf-8", { ignoreBOM: true });
const DATA = { enumerable: true, writable: true, configurable: true };

/**
 * Encodes a message as a complete frame (header included). A frame of up
 * to 1 KiB is written in one pass into a shared slab and is a view into it
 * (see {@link slabToWrite}): copy it before keeping it for long. A larger
 * one is measured first, then written into a buffer of its own.
 * `Content-Length` is computed from the content, overriding any value given
 * in `params`.
 *
 * @throws {TypeError} when a method, name or value contains a newline or a
 * name contains `": "`, which would break the framing.
 *
 * @example Encoding a login request
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeMessage } from "./message.ts";
 * const bytes = encodeMessage({ method: "LOGIN", params: { Username: "ann", Password: "pw" } });
 * assert.ok(new TextDecoder().decode(bytes.subarray(12)) === "LOGIN\nUsername: ann\nPassword: pw\n\n");
 * ```
 */
export function encodeMessage(message: Message): Uint8Array {
  const bound = sizeBound(message);
  if (bound <= MAX_SLAB_ALLOCATION) {
    const slab = slabToWrite(bound);
    const start = slabFreeFrom();
    try {
      return framed(takeWritten(writeMessage(slab, start, message)));
    } catch (error) {
      slab.fill(0, start, start + bound); // the slab's free part stays zero
      throw error;
    }
  }
  const bytes = new Uint8Array(exactSize(message));
  writeMessage(bytes, 0, message);
  return framed(bytes);
}

function framed(bytes: Uint8Array): Uint8Array {
  writeFrameHeader(bytes, bytes.length);
  return bytes;
}

/** "Content-Length: " and its longest value. */
const CONTENT_LENGTH_LINE_MAX = 16 + 10;

/** At least the frame's size: three bytes per UTF-16 unit. Cheap: lengths only. */
function sizeBound({ method, params, content }: Message): number {
  let units = method.length;
  let fixed = HEADER_SIZE + 2;
  for (const name in params) {
    if (name === "Content-Length") continue;
    units += name.length + params[name].length;
    fixed += 3;
  }
  if (content !== undefined) {
    units += content.length;
    fixed += 1 + CONTENT_LENGTH_LINE_MAX;
  }
  return fixed + 3 * units;
}

/** The frame's size, counted in UTF-8 (for frames too large for a slab). */
function exactSize({ method, params, content }: Message): number {
  let size = HEADER_SIZE + utf8Length(method) + 2;
  for (const name in params) {
    if (name === "Content-Length") continue;
    size += utf8Length(name) + utf8Length(params[name]) + 3;
  }
  if (content !== undefined) {
    const contentBytes = utf8Length(content);
    size += 1 + "Content-Length: ".length + String(contentBytes).length + contentBytes;
  }
  return size;
}

/**
 * Writes the frame from `start` (header left for later); returns where it
 * ends. One pass: the Content-Length digits are written for the content's
 * UTF-16 length, which is its UTF-8 length when it is ASCII, and moved
 * along with the content in the rare case that needs more digits.
 * @throws {TypeError} when a line contains a newline.
 */
function writeMessage(target: Uint8Array, start: number, message: Message): number {
  const { method, params, content } = message;
  let at = writeLine(target, start + HEADER_SIZE, method, "method");
  for (const name in params) {
    if (name === "Content-Length") continue;
    checkName(name);
    target[at++] = NEWLINE;
    at = writeLine(target, at, name, "parameter name");
    target[at++] = 0x3a; // ':'
    target[at++] = 0x20; // ' '
    at = writeLine(target, at, params[name], "value of", name);
  }
  if (content === undefined) {
    target[at++] = NEWLINE;
    target[at++] = NEWLINE;
    return at;
  }
  target[at++] = NEWLINE;
  at = write(target, at, "Content-Length: ");
  const digitsAt = at;
  let digits = decimalDigits(content.length);
  at += digits;
  target[at++] = NEWLINE;
  target[at++] = NEWLINE;
  const contentAt = at;
  at = write(target, at, content);
  const contentBytes = at - contentAt;
  const shift = decimalDigits(contentBytes) - digits;
  if (shift > 0) {
    target.copyWithin(contentAt - 2 + shift, contentAt - 2, at);
    at += shift;
    digits += shift;
  }
  for (
    let i = digitsAt + digits - 1, n = contentBytes;
    i >= digitsAt;
    i--, n = Math.floor(n / 10)
  ) {
    target[i] = 0x30 + n % 10;
  }
  return at;
}

function decimalDigits(n: number): number {
  let digits = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    digits++;
  }
  return digits;
}

/**
 * Most parameter lines a message may have. Requests need a handful; a cap
 * keeps a frame of a million tiny parameters from costing the server more
 * than its bytes.
 */
export const MAX_PARAMETERS = 64;

/**
 * Parses a frame's payload into a message. Accepts what the original
 * Python client sends byte for byte, including a payload with no content
 * and no trailing newline after the blank line.
 *
 * @throws {SyntaxError} for an empty payload, invalid UTF-8, an empty method,
 * a parameter line without `": "`, a repeated parameter, content without
 * `Content-Length`, or a `Content-Length` that does not match the content.
 *
 * @example Parsing what the original client sends
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseMessage } from "./message.ts";
 * const payload = new TextEncoder().encode("SEND_MSG\nContent-Length: 2\n\nhi");
 * const message = parseMessage(payload);
 * assert.ok(message.method === "SEND_MSG" && message.content === "hi");
 * ```
 */
export function parseMessage(payload: Uint8Array): Message {
  if (payload.length === 0) {
    throw new SyntaxError("Cannot parse message: empty payload");
  }
  const blank = indexOfBlankLine(payload);
  const headEnd = blank === -1
    ? (payload[payload.length - 1] === NEWLINE ? payload.length - 1 : payload.length)
    : blank;
  const contentStart = blank === -1 ? payload.length : blank + 2;
  const head = decode(payload.subarray(0, headEnd));
  // lines are taken one at a time, so that a bad line stops the work at once
  let lineEnd = head.indexOf("\n");
  const method = lineEnd === -1 ? head : head.slice(0, lineEnd);
  if (method === "") throw new SyntaxError("Cannot parse message: empty method line");
  const params: Record<string, string> = {};
  let count = 0;
  while (lineEnd !== -1) {
    if (++count > MAX_PARAMETERS) {
      throw new SyntaxError(`Cannot parse message: more than ${MAX_PARAMETERS} parameters`);
    }
    const start = lineEnd + 1;
    lineEnd = head.indexOf("\n", start);
    const [name, value] = splitParam(
      lineEnd === -1 ? head.slice(start) : head.slice(start, lineEnd),
    );
    if (Object.hasOwn(params, name)) {
      throw new SyntaxError(`Cannot parse message: repeated parameter ${shorten(name)}`);
    }
    // an assignment to __proto__ would set the prototype, not keep the value
    if (name === "__proto__") Object.defineProperty(params, name, { ...DATA, value });
    else params[name] = value;
  }
  const contentBytes = payload.length - contentStart;
  const declared = params["Content-Length"];
  if (declared === undefined) {
    if (contentBytes > 0) {
      throw new SyntaxError(
        `Cannot parse message: ${contentBytes} bytes of content without Content-Length`,
      );
    }
    return { method, params };
  }
  if (!/^\d{1,10}$/.test(declared) || Number(declared) !== contentBytes) {
    throw new SyntaxError(
      `Cannot parse message: Content-Length ${
        quoteShort(declared)
      } does not match ${contentBytes} bytes of content`,
    );
  }
  return { method, params, content: decode(payload.subarray(contentStart)) };
}

/** The number of bytes `text` takes in UTF-8 (lone surrogates count as U+FFFD). */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (
      code >= 0xd800 && code <= 0xdbff && i + 1 < text.length &&
      (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      bytes += 2;
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/**
 * Strings up to this long are copied byte by byte when they are ASCII:
 * cheaper than a call into the runtime's encoder, which costs about as much
 * as copying a hundred characters here.
 */
const SHORT_TEXT = 256;

function write(target: Uint8Array, at: number, text: string): number {
  const copied = copyShortAscii(target, at, text, -1);
  if (copied === text.length) return at + copied;
  return at + encoder.encodeInto(text, target.subarray(at)).written;
}

/** {@link write}, for text that must not contain a newline (checked as it is copied). */
function writeLine(
  target: Uint8Array,
  at: number,
  text: string,
  what: string,
  name?: string,
): number {
  const copied = copyShortAscii(target, at, text, NEWLINE);
  if (copied === text.length) return at + copied;
  if (text.includes("\n")) {
    throw new TypeError(
      `Cannot encode message: ${name === undefined ? what : `${what} ${name}`} contains a newline`,
    );
  }
  return at + encoder.encodeInto(text, target.subarray(at)).written;
}

/**
 * Copies a text of up to {@link SHORT_TEXT} characters byte by byte while
 * it is ASCII and not `stop`; returns how many characters it copied (0 for
 * a longer text).
 */
function copyShortAscii(target: Uint8Array, at: number, text: string, stop: number): number {
  const length = text.length;
  if (length > SHORT_TEXT) return 0;
  let i = 0;
  for (; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80 || code === stop) break;
    target[at + i] = code;
  }
  return i;
}

function checkName(name: string): void {
  if (name === "" || name.includes(": ")) {
    throw new TypeError(`Cannot encode message: bad parameter name ${JSON.stringify(name)}`);
  }
}

function splitParam(line: string): [string, string] {
  const colon = line.indexOf(": ");
  if (colon <= 0) {
    throw new SyntaxError(
      `Cannot parse message: parameter line ${quoteShort(line)} is not "Name: Value"`,
    );
  }
  return [line.slice(0, colon), line.slice(colon + 2)];
}

/** Where the first `LF LF` starts, or -1; looks at every other byte, then at its neighbours. */
function indexOfBlankLine(bytes: Uint8Array): number {
  // one indexOf call per LF was slow for a payload of many short lines
  for (let i = 1; i < bytes.length; i += 2) {
    if (bytes[i] === NEWLINE) {
      if (bytes[i - 1] === NEWLINE) return i - 1;
      if (bytes[i + 1] === NEWLINE) return i;
    }
  }
  return -1;
}

function decode(bytes: Uint8Array): string {
  if (bytes.length <= 16 && isAscii(bytes)) {
    return String.fromCharCode.apply(null, bytes as unknown as number[]);
  }
  const text = lenientDecoder.decode(bytes);
  if (!text.includes("\uFFFD")) return text;
  try {
    return strictDecoder.decode(bytes);
  } catch {
    throw new SyntaxError("Cannot parse message: invalid UTF-8");
  }
}

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] >= 0x80) return false;
  return true;
}

/**
 * At most 40 characters of untrusted text, for an error message: the
 * server sends it back as a Reason, which must stay short however long
 * the input was.
 */
function shorten(text: string): string {
  if (text.length <= 40) return text;
  // never end on half of a surrogate pair
  const end = (text.charCodeAt(39) & 0xfc00) === 0xd800 ? 39 : 40;
  return text.slice(0, end) + "…";
}

/** {@link shorten}, quoted with JSON escapes. */
function quoteShort(text: string): string {
  return JSON.stringify(shorten(text));
}
