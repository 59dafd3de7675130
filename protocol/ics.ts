/**
 * The wire of the ICS chat (NYU Shanghai's "Original Chat System"): each
 * frame is 5 ASCII digits giving the number of characters of the JSON text
 * that follows, then that text in UTF-8. Its client sends and expects JSON
 * as Python writes it by default (`", "` and `": "` between items, every
 * non-ASCII character as `\uXXXX`), so that characters and bytes agree.
 * Pure: frames and requests to and from bytes and values.
 * @module
 */

/** Digits of the length in front of each frame. */
export const ICS_LENGTH_DIGITS = 5;

/** Most characters of JSON one frame can hold: what five digits can say. */
export const ICS_MAX_CHARS = 99_999;

/** A request of the ICS client. */
export type IcsRequest =
  | { readonly action: "login"; readonly name: string }
  | { readonly action: "time" }
  | { readonly action: "list" }
  | { readonly action: "connect"; readonly target: string }
  | { readonly action: "exchange"; readonly message: string }
  | { readonly action: "disconnect" }
  | { readonly action: "search"; readonly target: string }
  | { readonly action: "poem"; readonly target: string };

/** The actions a request may name. */
export type IcsAction = IcsRequest["action"];

/** The field each action needs besides `action`, if any. */
const REQUIRED: Readonly<Record<IcsAction, string | null>> = {
  login: "name",
  time: null,
  list: null,
  connect: "target",
  exchange: "message",
  disconnect: null,
  search: "target",
  poem: "target",
};

/** Whether `action` is one the ICS client sends. */
export function isIcsAction(action: string): action is IcsAction {
  return Object.hasOwn(REQUIRED, action);
}

/**
 * Reads one frame's JSON text as a request. Fields the request does not use
 * (such as an exchange's `from`, which the server does not believe) are
 * ignored.
 * @throws {SyntaxError} "Cannot parse request: …" when it is not JSON, not
 * an object, names no known action or lacks a text field the action needs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseIcsRequest } from "./ics.ts";
 * const request = parseIcsRequest('{"action": "connect", "target": "bob"}');
 * assert.deepEqual(request, { action: "connect", target: "bob" });
 * ```
 */
export function parseIcsRequest(text: string): IcsRequest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new SyntaxError("Cannot parse request: not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new SyntaxError("Cannot parse request: not a JSON object");
  }
  const fields = value as Record<string, unknown>;
  const action = fields.action;
  if (typeof action !== "string" || !isIcsAction(action)) {
    const named = typeof action === "string" ? ` ${JSON.stringify(action.slice(0, 40))}` : "";
    throw new SyntaxError(`Cannot parse request: unknown action${named}`);
  }
  const field = REQUIRED[action];
  if (field === null) return { action } as IcsRequest;
  if (typeof fields[field] !== "string") {
    throw new SyntaxError(`Cannot parse request: ${action} needs a text field "${field}"`);
  }
  return { action, [field]: fields[field] } as IcsRequest;
}

/** A string as a JSON string literal of ASCII only, as Python's `json.dumps` writes it. */
function asciiJsonString(text: string): string {
  return JSON.stringify(text).replace(/[\u0080-\uffff]/g, escapeUnit);
}

function escapeUnit(unit: string): string {
  return "\\u" + unit.charCodeAt(0).toString(16).padStart(4, "0");
}

/** The JSON text of an object of text fields, as Python's `json.dumps` writes it. */
export function icsJson(fields: Readonly<Record<string, string>>): string {
  let json = "{";
  for (const key in fields) {
    if (json.length > 1) json += ", ";
    json += asciiJsonString(key) + ": " + asciiJsonString(fields[key]);
  }
  return json + "}";
}

/** How many characters `unit` takes in {@link icsJson}'s output. */
function escapedLength(unit: number): number {
  if (unit >= 0x80) return 6;
  if (unit === 0x22 || unit === 0x5c) return 2;
  if (unit >= 0x20) return 1;
  return unit === 0x08 || unit === 0x09 || unit === 0x0a || unit === 0x0c || unit === 0x0d ? 2 : 6;
}

/**
 * The text cut at a character boundary so that it takes at most `budget`
 * characters in JSON, with `…` where it was cut.
 */
function cutToFit(text: string, budget: number): string {
  const ellipsis = 6; // "…" escaped
  let used = 0;
  let end = 0;
  while (end < text.length) {
    const unit = text.charCodeAt(end);
    const pair = unit >= 0xd800 && unit <= 0xdbff && end + 1 < text.length;
    const size = pair ? 12 : escapedLength(unit);
    if (used + size > budget - ellipsis) break;
    used += size;
    end += pair ? 2 : 1;
  }
  return text.slice(0, end) + "…";
}

/**
 * One frame: the 5-digit length and the JSON text of `fields`. When the text
 * would be longer than {@link ICS_MAX_CHARS}, the field named `shrink` is
 * cut short (at a character boundary, ending in `…`) so that it fits.
 * @throws {RangeError} when it does not fit and no field may be cut.
 *
 * @example The frame the client's login gets
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeIcsFrame } from "./ics.ts";
 * const frame = encodeIcsFrame({ action: "login", status: "ok" });
 * assert.equal(new TextDecoder().decode(frame), '00035{"action": "login", "status": "ok"}');
 * ```
 */
export function encodeIcsFrame(
  fields: Readonly<Record<string, string>>,
  shrink?: string,
): Uint8Array {
  let json = icsJson(fields);
  if (json.length > ICS_MAX_CHARS) {
    if (shrink === undefined || !(shrink in fields)) {
      throw new RangeError(
        `Cannot encode frame: ${json.length} characters exceeds ${ICS_MAX_CHARS}`,
      );
    }
    const others = json.length - asciiJsonString(fields[shrink]).length + 2;
    json = icsJson({ ...fields, [shrink]: cutToFit(fields[shrink], ICS_MAX_CHARS - others) });
  }
  const bytes = new Uint8Array(ICS_LENGTH_DIGITS + json.length);
  const length = String(json.length).padStart(ICS_LENGTH_DIGITS, "0");
  for (let i = 0; i < ICS_LENGTH_DIGITS; i++) bytes[i] = length.charCodeAt(i);
  for (let i = 0; i < json.length; i++) bytes[ICS_LENGTH_DIGITS + i] = json.charCodeAt(i);
  return bytes;
}

/**
 * A streaming decoder of ICS frames: feed it bytes as they arrive, split
 * anywhere, and it returns the JSON texts of the frames they complete. The
 * length counts characters, so a frame ends after that many whole UTF-8
 * characters, however many bytes they take.
 *
 * Framing errors are fatal, as the stream cannot be resynchronised: `push`
 * returns the texts before the error and records it in
 * {@link IcsDecoder.error}; later pushes return nothing. The error is a
 * `SyntaxError` when the length is not 5 digits or the text is not UTF-8,
 * a `RangeError` when the frame is longer than `maxBytes`.
 *
 * @example A frame split across reads, then another
 * ```ts
 * import assert from "node:assert/strict";
 * import { IcsDecoder } from "./ics.ts";
 * const decoder = new IcsDecoder(1024);
 * const bytes = new TextEncoder().encode('00018{"action": "time"}00024{"action": "disconnect"}');
 * assert.deepEqual(decoder.push(bytes.subarray(0, 9)), []);
 * assert.deepEqual(decoder.push(bytes.subarray(9)), [
 *   '{"action": "time"}',
 *   '{"action": "disconnect"}',
 * ]);
 * ```
 */
export class IcsDecoder {
  readonly #maxBytes: number;
  readonly #utf8 = new TextDecoder("utf-8", { fatal: true });
  /** The digits of the length read so far. */
  #digits = "";
  /** Characters the frame being read holds; -1 while reading its length. */
  #wanted = -1;
  /** Whole characters of the text read so far. */
  #chars = 0;
  /** Continuation bytes the character being read still lacks. */
  #continuation = 0;
  /** The text's bytes read so far. */
  #parts: Uint8Array[] = [];
  #bytes = 0;
  #error: SyntaxError | RangeError | null = null;

  /** @param maxBytes most bytes of one frame, its length included */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** The framing error that stopped this decoder, if any. */
  get error(): SyntaxError | RangeError | null {
    return this.#error;
  }

  /** Whether part of a frame is buffered, waiting for the rest. */
  get partial(): boolean {
    return this.#digits.length > 0 || this.#wanted >= 0;
  }

  /** Feeds bytes; returns the JSON texts of the frames they complete, in order. */
  push(chunk: Uint8Array): string[] {
    const texts: string[] = [];
    let offset = 0;
    try {
      while (offset < chunk.length && this.#error === null) {
        offset = this.#wanted < 0 ? this.#readLength(chunk, offset) : this.#readText(chunk, offset);
        if (this.#wanted >= 0 && this.#chars === this.#wanted && this.#continuation === 0) {
          texts.push(this.#finish());
        }
      }
    } catch (error) {
      if (!(error instanceof SyntaxError || error instanceof RangeError)) throw error;
      this.#error = error;
    }
    return texts;
  }

  #readLength(chunk: Uint8Array, offset: number): number {
    while (offset < chunk.length && this.#digits.length < ICS_LENGTH_DIGITS) {
      const byte = chunk[offset++];
      if (byte < 0x30 || byte > 0x39) {
        throw new SyntaxError(
          `Cannot parse frame: the length must be ${ICS_LENGTH_DIGITS} digits, got byte 0x${
            byte.toString(16).padStart(2, "0")
          }`,
        );
      }
      this.#digits += String.fromCharCode(byte);
    }
    if (this.#digits.length === ICS_LENGTH_DIGITS) {
      this.#wanted = Number(this.#digits);
      if (ICS_LENGTH_DIGITS + this.#wanted > this.#maxBytes) throw this.#tooLong();
    }
    return offset;
  }

  #readText(chunk: Uint8Array, offset: number): number {
    const start = offset;
    while (offset < chunk.length && (this.#chars < this.#wanted || this.#continuation > 0)) {
      const byte = chunk[offset++];
      if (this.#continuation > 0) {
        if ((byte & 0xc0) !== 0x80) throw notUtf8();
        if (--this.#continuation === 0) this.#chars++;
      } else if (byte < 0x80) {
        this.#chars++;
      } else {
        this.#continuation = byte >= 0xf0 && byte < 0xf8
          ? 3
          : byte >= 0xe0
          ? 2
          : byte >= 0xc2 && byte < 0xe0
          ? 1
          : -1;
        if (this.#continuation < 0 || byte >= 0xf8) throw notUtf8();
      }
    }
    this.#bytes += offset - start;
    if (ICS_LENGTH_DIGITS + this.#bytes > this.#maxBytes) throw this.#tooLong();
    this.#parts.push(chunk.slice(start, offset));
    return offset;
  }

  #finish(): string {
    const parts = this.#parts;
    const bytes = parts.length === 1 ? parts[0] : new Uint8Array(this.#bytes);
    if (parts.length !== 1) {
      let at = 0;
      for (const part of parts) {
        bytes.set(part, at);
        at += part.length;
      }
    }
    this.#digits = "";
    this.#wanted = -1;
    this.#chars = 0;
    this.#parts = [];
    this.#bytes = 0;
    try {
      return this.#utf8.decode(bytes);
    } catch {
      throw notUtf8();
    }
  }

  #tooLong(): RangeError {
    return new RangeError(`Cannot parse frame: longer than ${this.#maxBytes} bytes`);
  }
}

function notUtf8(): SyntaxError {
  return new SyntaxError("Cannot parse frame: the text is not UTF-8");
}

/**
 * A time as the ICS client shows it, `dd.mm.yy,HH:MM`, in the server's
 * local time zone, as the original server wrote it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatIcsTime } from "./ics.ts";
 * assert.match(formatIcsTime(Date.now()), /^\d\d\.\d\d\.\d\d,\d\d:\d\d$/);
 * ```
 */
export function formatIcsTime(ms: number): string {
  const date = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(date.getDate())}.${two(date.getMonth() + 1)}.${two(date.getFullYear() % 100)},${
    two(date.getHours())
  }:${two(date.getMinutes())}`;
}
