/**
 * A seeded generator of fuzz frames for the Claptrap decoder and server:
 * valid requests built from the request table with the real encoder, then
 * mutated, broken and stretched in every way the hardening issue lists.
 * Pure and deterministic: the same seed gives the same bytes, whatever the
 * runtime or the order in which streams are drawn.
 *
 * For each frame it also says what a correct server does with it: which
 * responses it owes, in order, and how the stream ends (open for the next
 * frame, a framing error, or waiting for bytes that never come). That
 * reference ({@link scanFrames}) is written from protocol/README.md §2,
 * independently of `FrameDecoder`.
 * @module
 */

import { frame, HEADER_SIZE, MAGIC } from "../protocol/frame.ts";
import { encodeMessage, type Message, parseMessage } from "../protocol/message.ts";
import {
  Event,
  isRequestMethod,
  type RequestMethod,
  REQUESTS,
  Response,
} from "../protocol/methods.ts";

// ---------------------------------------------------------------------------
// The random number generator

/**
 * A small deterministic PRNG (mulberry32): 32 bits of state, period 2^32,
 * good enough to drive a fuzzer and identical on every platform.
 *
 * @example Two generators with one seed agree
 * ```ts
 * import assert from "node:assert/strict";
 * import { Rng } from "./fuzz_frames.ts";
 * const a = new Rng(42), b = new Rng(42);
 * assert.deepEqual([a.uint32(), a.int(10)], [b.uint32(), b.int(10)]);
 * ```
 */
export class Rng {
  #state: number;

  /** @param seed any number; only its low 32 bits matter */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** The next unsigned 32-bit integer. */
  uint32(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.uint32() / 0x1_0000_0000;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** An integer in [low, high], both included. */
  range(low: number, high: number): number {
    return low + this.int(high - low + 1);
  }

  /** An integer in [low, high], spread evenly over orders of magnitude. */
  logRange(low: number, high: number): number {
    const value = Math.exp(Math.log(low) + this.float() * (Math.log(high) - Math.log(low)));
    return Math.min(high, Math.max(low, Math.round(value)));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** One of `items`, each equally likely. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** One of the keys of `weights`, in proportion to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const keys = Object.keys(weights) as K[];
    let total = 0;
    for (const key of keys) total += weights[key];
    let at = this.float() * total;
    for (const key of keys) {
      at -= weights[key];
      if (at < 0) return key;
    }
    return keys[keys.length - 1];
  }
}

/**
 * Derives the seed of an independent stream (one connection, one round)
 * from a run's seed and a tag, so that each stream is reproducible alone.
 */
export function deriveSeed(seed: number, tag: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(tag + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

// ---------------------------------------------------------------------------
// What the server owes for some bytes

/** A response the server owes: which methods may answer, and how an ERROR's Reason starts. */
export interface Expectation {
  /** Response methods that may answer (RECV_MSG has two). */
  readonly methods: readonly string[];
  /** When the answer must be an ERROR: the start of its Reason. */
  readonly reason?: string;
}

/** How a stream stands after some bytes: ready for a frame, broken for good, or mid-frame. */
export type Ending = "open" | "framing-error" | "incomplete";

/** The reference reading of a byte stream: the payloads it completes and how it ends. */
export interface Scan {
  /** Payloads of the complete frames before any error. */
  readonly payloads: Uint8Array[];
  /** How the stream stands after the bytes. */
  readonly ending: Ending;
  /** With a framing error: the index of the byte that shows it (a wrong magic byte, or the header's last). */
  readonly errorAt?: number;
  /** With a framing error: whether the magic or the Packet-Length is wrong. */
  readonly error?: "magic" | "length";
}

/**
 * Reads a stream as protocol/README.md §2 says: a frame is the magic, a
 * Packet-Length counting the header, then the payload; a wrong magic byte,
 * a length below 12 or above `maxFrameSize` is a framing error as soon as
 * that byte is seen. Written apart from `FrameDecoder`, as its oracle.
 */
export function scanFrames(bytes: Uint8Array, maxFrameSize: number): Scan {
  const payloads: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    for (let i = 0; i < MAGIC.length; i++) {
      if (at + i >= bytes.length) return { payloads, ending: "incomplete" };
      if (bytes[at + i] !== MAGIC[i]) {
        return { payloads, ending: "framing-error", errorAt: at + i, error: "magic" };
      }
    }
    if (at + HEADER_SIZE > bytes.length) return { payloads, ending: "incomplete" };
    const length = bytes[at + 8] * 0x100_0000 + bytes[at + 9] * 0x1_0000 +
      bytes[at + 10] * 0x100 + bytes[at + 11];
    if (length < HEADER_SIZE || length > maxFrameSize) {
      return { payloads, ending: "framing-error", errorAt: at + HEADER_SIZE - 1, error: "length" };
    }
    if (at + length > bytes.length) return { payloads, ending: "incomplete" };
    payloads.push(bytes.subarray(at + HEADER_SIZE, at + length));
    at += length;
  }
  return { payloads, ending: "open" };
}

/** The ERROR that ends a connection after a framing error. */
export const FRAMING_ERROR: Expectation = {
  methods: [Response.ERROR],
  reason: "Cannot parse frame: ",
};

/**
 * The response the server owes for one payload (protocol/README.md §4,
 * "Order of checks"): an ERROR when it does not parse or names no request,
 * else the request's own response method, whatever its status.
 */
export function expectationFor(payload: Uint8Array): Expectation {
  let request: Message;
  try {
    request = parseMessage(payload);
  } catch {
    return { methods: [Response.ERROR], reason: "Cannot parse message: " };
  }
  if (!isRequestMethod(request.method)) {
    return { methods: [Response.ERROR], reason: "unknown method " };
  }
  const response = REQUESTS[request.method].response;
  return {
    methods: request.method === "RECV_MSG" ? [Response.NEW_MSG, response] : [response],
  };
}

// ---------------------------------------------------------------------------
// Names, values and text

/** Accounts the fuzzer logs in as (name → password); the fuzz server must have them. */
export const FUZZ_ACCOUNTS: ReadonlyMap<string, string> = new Map([
  ["fz0", "fz0-secret"],
  ["fz1", "fz1-secret"],
  ["fz2", "fz2-secret"],
  ["fz3", "fz3-secret"],
  ["fz4", "fz4-secret"],
  ["fz5", "fz5-secret"],
  ["fz6", "fz6-secret"],
  ["fz7", "fz7-secret"],
  ["Zoë", "zoë-pässwörd"],
  ["江主席", "excited"],
]);

/** Rooms the fuzz server starts with. */
export const FUZZ_ROOMS: readonly string[] = ["lobby", "random", "香港记者招待会"];

/** The names REGISTER may create: a bounded pool, so a long run creates few accounts. */
const REGISTER_NAMES = Array.from({ length: 24 }, (_, i) => `fzr${i}`);
/** The names CREATE_ROOM may create, for the same reason. */
const ROOM_NAMES = Array.from({ length: 12 }, (_, i) => `fz-room-${i}`);

const USER_NAMES = [
  ...FUZZ_ACCOUNTS.keys(),
  ...REGISTER_NAMES.slice(0, 4),
  "nobody",
  "FZ0",
  "fz0 ",
  " fz0",
  "Zoe\u0308", // Zoë, not NFC: the same account after normalisation
  "",
  "__proto__",
  "constructor",
  "a".repeat(65),
  "ann\u0000",
];

const BAD_ROOM_NAMES = [
  "",
  " lobby",
  "lobby ",
  "LOBBY",
  "x".repeat(65),
  "tab\there",
  "nul\u0000",
  "\u2028",
  "\ufeff",
  "__proto__",
  "hasOwnProperty",
];

/** Pieces of text that tend to upset parsers, escapers and databases. */
const AWKWARD = [
  "\t",
  "\r",
  "\\",
  "\\n",
  ": ",
  ":",
  "\u0000",
  "\u001b[2J",
  "\u007f",
  "\u0085",
  "\u00a0",
  "\u200b",
  "\u2028",
  "\u2029",
  "\u202e",
  "\ufeff",
  "\ufffd",
  "\uffff",
  "😀",
  "👩‍👩‍👧",
  "e\u0301",
  "記者",
  "Ω",
  "'; DROP TABLE messages; --",
  '"quoted"',
  "%s%n",
  "NEAR",
  "*",
  "AND OR NOT",
  "Content-Length: 5",
  "CLAPTRAP",
  "\u0000\u0000\u0000\u000c",
];

/** Random text of about `maxLength` UTF-16 code units at most; with `lines`, LF too. */
function randomText(rng: Rng, maxLength: number, lines = false): string {
  const length = rng.chance(0.1) ? 0 : rng.logRange(1, Math.max(1, maxLength));
  let text = "";
  while (text.length < length) {
    const kind = rng.int(10);
    if (kind < 5) text += String.fromCharCode(rng.range(0x20, 0x7e));
    else if (kind < 7) text += rng.pick(AWKWARD);
    else if (kind < 8) text += String.fromCodePoint(rng.range(0xa0, 0xd7ff));
    else if (kind < 9) text += String.fromCodePoint(rng.range(0x10000, 0x10ffff));
    else text += lines && rng.chance(0.5) ? "\n" : " ";
  }
  return text.length > length ? [...text].slice(0, Math.max(1, length)).join("") : text;
}

/** `count` distinct short words, separated by spaces (a search with many terms). */
function words(rng: Rng, count: number): string {
  const list: string[] = [];
  for (let i = 0; i < count; i++) {
    list.push(
      i.toString(36 - rng.int(10)) +
        (rng.chance(0.5) ? "" : String.fromCharCode(rng.range(0x61, 0x7a))),
    );
  }
  return list.join(" ");
}

/** A value of parameter `name`, usually plausible. */
function paramValue(rng: Rng, name: string): string {
  const junk = rng.chance(0.1);
  switch (name) {
    case "Username":
    case "Peer":
    case "To":
    case "User":
      return junk ? randomText(rng, 70) : rng.pick(USER_NAMES);
    case "Password":
      return junk ? randomText(rng, 40) : rng.pick([...FUZZ_ACCOUNTS.values(), "wrong", ""]);
    case "Push":
      return junk ? randomText(rng, 5) : rng.pick(["on", "off", "on", "off", "ON", "", "yes"]);
    case "Room-Name":
    case "After":
      return junk
        ? randomText(rng, 70)
        : rng.chance(0.7)
        ? rng.pick([...FUZZ_ROOMS, ...ROOM_NAMES])
        : rng.pick(BAD_ROOM_NAMES);
    case "Limit":
    case "Before":
      return junk ? randomText(rng, 12) : rng.pick([
        "1",
        "2",
        "50",
        "100",
        "500",
        "501",
        "0",
        "-1",
        "+5",
        "1e3",
        " 5",
        "007",
        "999999999999999",
        "9999999999999999999999",
        "",
      ]);
    case "Query":
      return junk
        ? randomText(rng, 200)
        : rng.chance(0.1)
        ? words(rng, rng.logRange(10, 3_000))
        : rng.pick(["hello", "a", "記者", "x y z", "   ", '"']);
    case "Version":
      return junk
        ? randomText(rng, 10)
        : rng.pick(["2.0", "1.0", "1.9", "2.7", "3.0", "0.1", "2", "x.y", "02.00", "99999.0"]);
    case "Capabilities":
      return rng.pick(["push,history", "", ",,,", randomText(rng, 30)]);
    case "Number":
      return junk
        ? randomText(rng, 10)
        : rng.pick(["1", "154", "155", "0", "-3", "1e3", "9".repeat(12)]);
    default:
      return randomText(rng, 60);
  }
}

/** How often each request is drawn: the ones that reach the chat core and the store, more. */
const METHOD_WEIGHTS = Object.fromEntries(
  (Object.keys(REQUESTS) as RequestMethod[]).map((method) => [method, 1]),
) as Record<RequestMethod, number>;
Object.assign(METHOD_WEIGHTS, { SEND_MSG: 5, JOIN_ROOM: 2, RECV_MSG: 2, LOGIN: 2, DM: 2 });

/** Requests whose answer depends most on the connection's state. */
const STATEFUL: readonly RequestMethod[] = [
  "LOGIN",
  "LOGOUT",
  "SEND_MSG",
  "RECV_MSG",
  "LIST_MEMBERS",
  "EXIT_ROOM",
  "LEAVE",
  "JOIN_ROOM",
  "PEER_BYE",
  "HISTORY",
  "DM",
  "KICK",
];

/** Optional parameters of each request (protocol/README.md §5). */
const OPTIONAL: Partial<Record<RequestMethod, readonly string[]>> = {
  LOGIN: ["Push"],
  LIST_ROOMS: ["After", "Limit"],
  HISTORY: ["Before", "Limit"],
  SEARCH: ["Before", "Limit"],
  HELLO: ["Capabilities"],
  PING: ["Token"],
  KICK: ["Room-Name", "Reason"],
  BAN: ["Room-Name", "Reason"],
  UNBAN: ["Room-Name"],
};

/**
 * A request of `method` (random when absent) as a client would send it:
 * its required parameters, some optional ones, and now and then a missing
 * parameter, an unknown one, or content where none is expected.
 */
export function randomRequest(
  rng: Rng,
  method: RequestMethod = rng.weighted(METHOD_WEIGHTS),
): Message {
  const params: Record<string, string> = {};
  const spec = REQUESTS[method];
  const takesContent = spec.required.includes("Content-Length");
  for (const name of spec.required) {
    if (name === "Content-Length" || rng.chance(0.03)) continue;
    params[name] = paramValue(rng, name);
  }
  if (method === "LOGIN" && rng.chance(0.6)) {
    const [user, password] = rng.pick([...FUZZ_ACCOUNTS]);
    params.Username = user;
    params.Password = password;
  }
  if (method === "REGISTER" && rng.chance(0.5)) {
    params.Username = rng.pick(REGISTER_NAMES);
    params.Password = `Str0ng ${rng.int(1000)} pässword`;
  }
  for (const name of OPTIONAL[method] ?? []) {
    if (rng.chance(0.5)) params[name] = paramValue(rng, name);
  }
  if (rng.chance(0.08)) params[`X-${rng.pick(["Extra", "Room", "status", "__proto__"])}`] = "1";
  let content: string | undefined;
  if (takesContent ? !rng.chance(0.03) : rng.chance(0.04)) {
    content = rng.chance(0.05) ? "" : randomText(rng, 300, true);
  }
  return { method, params, content };
}

// ---------------------------------------------------------------------------
// Frame classes

/**
 * Frame classes that leave the stream open: the server must answer each
 * frame and keep the connection.
 */
export const OPEN_CLASSES = {
  /** A valid request from the request table, encoded by `encodeMessage`. */
  valid: 24,
  /** A valid request of a state-dependent method (LOGIN twice, SEND_MSG outside a room...). */
  wrongState: 10,
  /** A valid request as the original Python client writes it: no final blank line. */
  originalStyle: 4,
  /** A valid request with 1 to 4 random byte mutations in the payload. */
  mutated: 22,
  /** Invalid UTF-8 in the method, a parameter name or value, or the content. */
  invalidUtf8: 7,
  /** A parameter line without `": "`, or starting with it, or a stray CR line. */
  noColonSpace: 6,
  /** A parameter given twice, with the same or another value. */
  repeatedParam: 5,
  /** A Content-Length that is malformed, signed, too long or does not match. */
  badContentLength: 5,
  /** A method that is no request: a response, an event, a near miss, junk. */
  unknownMethod: 6,
  /** One parameter value (or the method, or the content) of up to the frame limit. */
  enormousValue: 1,
  /** Thousands of parameter lines. */
  manyParams: 1,
  /** An empty payload, or one of nothing but newlines. */
  emptyish: 2,
} as const;

/**
 * Frame classes after which the connection cannot go on: framing errors,
 * which the server answers with ERROR and closes, and frames whose bytes
 * never all arrive.
 */
export const TERMINAL_CLASSES = {
  /** A valid frame cut short, in the header or the body. */
  truncated: 4,
  /** A header announcing a plausible length, with only part of the body. */
  stalledBody: 2,
  /** A Packet-Length above the limit, up to 0xFFFFFFFF. */
  hugeLength: 3,
  /** A Packet-Length below 12. */
  shortLength: 2,
  /** A wrong magic: one byte changed, lower case, HTTP, TLS, random bytes. */
  badMagic: 3,
  /** A valid frame whose Packet-Length is a little off. */
  wrongLength: 2,
} as const;

/** A frame class. */
export type FrameClass = keyof typeof OPEN_CLASSES | keyof typeof TERMINAL_CLASSES;

/** Every frame class, open ones first. */
export const FRAME_CLASSES: readonly FrameClass[] = [
  ...Object.keys(OPEN_CLASSES),
  ...Object.keys(TERMINAL_CLASSES),
] as FrameClass[];

/** One generated fuzz case: the bytes to send and what the server owes for them. */
export interface FuzzFrame {
  /** The class it was generated as. */
  readonly kind: FrameClass;
  /** The bytes to send: usually one frame, possibly less (or, with a bad length, more). */
  readonly bytes: Uint8Array;
  /** The responses owed for its complete frames, in order. */
  readonly expect: readonly Expectation[];
  /** How the stream stands after it. */
  readonly ending: Ending;
}

/** Settings of the generator. */
export interface GeneratorOptions {
  /** The server's largest request frame (default 1 MiB). */
  maxFrameSize?: number;
}

const text = new TextEncoder();
const NEWLINE = 0x0a;

/** Invalid UTF-8 sequences of every kind the decoder must refuse. */
const INVALID_UTF8: readonly number[][] = [
  [0xff],
  [0xfe],
  [0x80], // lone continuation byte
  [0xbf, 0xbf],
  [0xc0, 0x80], // overlong NUL
  [0xc1, 0xbf], // overlong
  [0xe0, 0x80, 0xaf], // overlong '/'
  [0xed, 0xa0, 0x80], // UTF-16 surrogate D800
  [0xed, 0xbf, 0xbf], // surrogate DFFF
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xf5, 0x80, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80], // 5-byte form
  [0xe4, 0xbd], // truncated 3-byte sequence
  [0xf0, 0x9f, 0x98], // truncated 4-byte sequence
  [0xc3], // truncated 2-byte sequence
  [0xc3, 0x28], // bad continuation
];

/** Bytes a mutation likes to write: the protocol's delimiters and UTF-8's edges. */
const INTERESTING_BYTES = [0x00, 0x09, 0x0a, 0x0d, 0x20, 0x3a, 0x7f, 0x80, 0xbf, 0xc0, 0xed, 0xff];
/** Byte strings a mutation likes to insert. */
const INTERESTING_TOKENS = [
  "\n",
  "\n\n",
  ": ",
  ":",
  "\r\n",
  "Content-Length: ",
  "Content-Length: 0\n",
  "\nContent-Length: 1",
  "Status: OK\n",
  "0",
  "99999999999",
  "CLAPTRAP",
].map((s) => text.encode(s));

/** The parts, one after the other, in a new buffer. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A payload taken apart: head lines (no LFs) and, after the blank line, content. */
interface PayloadParts {
  lines: Uint8Array[];
  /** The bytes after the first blank line; null when there is none. */
  content: Uint8Array | null;
}

function splitPayload(payload: Uint8Array): PayloadParts {
  let blank = -1;
  for (let i = 0; i + 1 < payload.length; i++) {
    if (payload[i] === NEWLINE && payload[i + 1] === NEWLINE) {
      blank = i;
      break;
    }
  }
  const head = blank === -1 ? payload : payload.subarray(0, blank);
  const lines: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= head.length; i++) {
    if (i === head.length || head[i] === NEWLINE) {
      lines.push(head.slice(start, i));
      start = i + 1;
    }
  }
  return { lines, content: blank === -1 ? null : payload.slice(blank + 2) };
}

const CONTENT_LENGTH_PREFIX = text.encode("Content-Length: ");

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/** Puts a payload back together; with `fixLength`, its Content-Length line matches the content. */
function joinPayload(parts: PayloadParts, fixLength: boolean): Uint8Array {
  const lines = [...parts.lines];
  if (fixLength && parts.content !== null && parts.content.length > 0) {
    const line = text.encode(`Content-Length: ${parts.content.length}`);
    const at = lines.findIndex((l, i) => i > 0 && startsWith(l, CONTENT_LENGTH_PREFIX));
    if (at === -1) lines.push(line);
    else lines[at] = line;
  }
  const pieces: Uint8Array[] = [];
  lines.forEach((line, i) => {
    if (i > 0) pieces.push(new Uint8Array([NEWLINE]));
    pieces.push(line);
  });
  if (parts.content !== null) pieces.push(new Uint8Array([NEWLINE, NEWLINE]), parts.content);
  return concat(...pieces);
}

function payloadOf(message: Message): Uint8Array {
  return encodeMessage(message).subarray(HEADER_SIZE);
}

function insertAt(bytes: Uint8Array, at: number, piece: Uint8Array): Uint8Array {
  return concat(bytes.subarray(0, at), piece, bytes.subarray(at));
}

/** Applies one random byte-level mutation. */
function mutateOnce(rng: Rng, bytes: Uint8Array): Uint8Array {
  const at = rng.int(bytes.length + 1);
  switch (rng.int(9)) {
    case 0: { // flip one bit
      if (bytes.length === 0) return bytes;
      const copy = bytes.slice();
      copy[at % copy.length] ^= 1 << rng.int(8);
      return copy;
    }
    case 1: { // overwrite one byte with an interesting one
      if (bytes.length === 0) return bytes;
      const copy = bytes.slice();
      copy[at % copy.length] = rng.pick(INTERESTING_BYTES);
      return copy;
    }
    case 2: // insert an interesting token
      return insertAt(bytes, at, rng.pick(INTERESTING_TOKENS));
    case 3: // insert random bytes
      return insertAt(bytes, at, Uint8Array.from({ length: rng.range(1, 8) }, () => rng.int(256)));
    case 4: { // delete a range
      const length = rng.range(1, 16);
      return concat(bytes.subarray(0, at), bytes.subarray(at + length));
    }
    case 5: { // duplicate a range
      const length = rng.range(1, 32);
      return insertAt(bytes, at, bytes.slice(at, at + length));
    }
    case 6: // cut the payload short
      return bytes.slice(0, at);
    case 7: { // splice in the tail of another request
      const other = payloadOf(randomRequest(rng));
      return concat(bytes.subarray(0, at), other.subarray(rng.int(other.length + 1)));
    }
    default: { // swap two halves around a point
      return concat(bytes.subarray(at), bytes.subarray(0, at));
    }
  }
}

function headerWith(length: number): Uint8Array {
  const header = new Uint8Array(HEADER_SIZE);
  header.set(MAGIC);
  new DataView(header.buffer).setUint32(8, length >>> 0);
  return header;
}

function repeatText(rng: Rng, length: number): string {
  const unit = rng.chance(0.5) ? rng.pick(["x", "é", "記", "😀", ": ", "\\"]) : randomText(rng, 40);
  if (unit.length === 0) return "x".repeat(length);
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}

/** Payload of an open frame of class `kind`. */
function openPayload(rng: Rng, kind: keyof typeof OPEN_CLASSES, maxFrameSize: number): Uint8Array {
  switch (kind) {
    case "valid":
      return payloadOf(randomRequest(rng));
    case "wrongState":
      return payloadOf(randomRequest(rng, rng.pick(STATEFUL)));
    case "originalStyle": {
      const message = randomRequest(rng);
      const payload = payloadOf(message);
      return message.content === undefined ? payload.subarray(0, payload.length - 2) : payload;
    }
    case "mutated": {
      let payload = payloadOf(randomRequest(rng));
      for (let n = rng.range(1, 4); n > 0; n--) payload = mutateOnce(rng, payload);
      return payload;
    }
    case "invalidUtf8": {
      const parts = splitPayload(payloadOf(randomRequest(rng)));
      const bad = new Uint8Array(rng.pick(INVALID_UTF8));
      if (rng.chance(0.3) || parts.lines.length === 1) {
        const content = parts.content ?? new Uint8Array();
        parts.content = insertAt(content, rng.int(content.length + 1), bad);
      } else {
        const i = rng.int(parts.lines.length);
        parts.lines[i] = insertAt(parts.lines[i], rng.int(parts.lines[i].length + 1), bad);
      }
      return joinPayload(parts, true);
    }
    case "noColonSpace": {
      const parts = splitPayload(payloadOf(randomRequest(rng)));
      if (parts.lines.length === 1) parts.lines.push(text.encode("Name: value"));
      const i = rng.range(1, parts.lines.length - 1);
      const line = new TextDecoder().decode(parts.lines[i]);
      const broken = rng.pick([
        line.replace(": ", ":"),
        line.replace(": ", " "),
        line.replace(": ", ""),
        line.replace(": ", ":\t"),
        line.replace(": ", "\uff1a "),
        ": " + line,
        ":",
        " ",
        "\r",
        line + "\r",
      ]);
      parts.lines[i] = text.encode(broken);
      return joinPayload(parts, false);
    }
    case "repeatedParam": {
      const parts = splitPayload(payloadOf(randomRequest(rng)));
      if (parts.lines.length === 1) parts.lines.push(text.encode("Name: value"));
      const i = rng.range(1, parts.lines.length - 1);
      const line = new TextDecoder().decode(parts.lines[i]);
      const name = line.slice(0, Math.max(0, line.indexOf(": ")));
      const again = rng.chance(0.5) ? line : `${name}: ${paramValue(rng, name)}`;
      parts.lines.splice(rng.range(1, parts.lines.length), 0, text.encode(again));
      return joinPayload(parts, false);
    }
    case "badContentLength": {
      const content = randomText(rng, 50, true);
      const payload = payloadOf({
        method: rng.pick(["SEND_MSG", "DM", "PING"]),
        params: { To: "fz1" },
        content,
      });
      const parts = splitPayload(payload);
      const bytes = parts.content?.length ?? 0;
      const value = rng.pick([
        `+${bytes}`,
        ` ${bytes}`,
        `${bytes} `,
        `${bytes}\r`,
        `-${bytes}`,
        `0x${bytes.toString(16)}`,
        `${bytes}.0`,
        `${bytes + 1}`,
        `${Math.max(0, bytes - 1)}`,
        `${bytes}`.padStart(11, "0"),
        `${bytes}`.padStart(10, "0"),
        "\u0663", // ARABIC-INDIC DIGIT THREE
        "",
        "99999999999",
        "4294967296",
        "NaN",
        "Infinity",
      ]);
      const at = parts.lines.findIndex((l, i) => i > 0 && startsWith(l, CONTENT_LENGTH_PREFIX));
      if (at !== -1) parts.lines[at] = text.encode(`Content-Length: ${value}`);
      if (rng.chance(0.2)) parts.content = null; // a Content-Length and no blank line
      return joinPayload(parts, false);
    }
    case "unknownMethod": {
      const method = rng.pick([
        ...Object.values(Response),
        ...Object.values(Event),
        "login",
        "LOGIN ",
        " LOGIN",
        "LOGIN\r",
        "LOG\u0000IN",
        "ＬＯＧＩＮ",
        "__proto__",
        "constructor",
        "toString",
        "hasOwnProperty",
        "GET / HTTP/1.1\r",
        randomText(rng, 30),
        randomText(rng, 300),
      ]);
      const request = randomRequest(rng);
      const payload = payloadOf({ ...request, method: method.replaceAll("\n", " ") || "X" });
      return payload;
    }
    case "enormousValue": {
      const budget = Math.max(64, maxFrameSize - HEADER_SIZE - 256);
      // a code unit takes up to 3 bytes (4 for a pair of 2): aim at a quarter of the bytes
      const units = Math.floor(rng.logRange(1024, budget) / 4);
      const big = repeatText(rng, units).replaceAll("\n", " ");
      const request = randomRequest(rng);
      let payload: Uint8Array;
      switch (rng.int(6)) {
        case 0: // the method
          payload = payloadOf({ ...request, method: big });
          break;
        case 1: // the content
          payload = payloadOf({ ...request, content: repeatText(rng, units) });
          break;
        case 2: { // a parameter name, maybe twice
          const name = big.replaceAll(": ", "::") || "N";
          const parts = splitPayload(payloadOf(request));
          parts.lines.push(text.encode(`${name}: 1`));
          if (rng.chance(0.5)) parts.lines.push(text.encode(`${name}: 2`));
          payload = joinPayload(parts, false);
          break;
        }
        case 3: { // the value of Content-Length
          const parts = splitPayload(payloadOf({ ...request, content: "hi" }));
          parts.lines = parts.lines.map((line, i) =>
            i > 0 && startsWith(line, CONTENT_LENGTH_PREFIX)
              ? text.encode(`Content-Length: ${"0".repeat(units)}2`)
              : line
          );
          payload = joinPayload(parts, false);
          break;
        }
        default: { // a parameter value
          const names = Object.keys(request.params);
          const name = names.length > 0 && rng.chance(0.7) ? rng.pick(names) : "X-Padding";
          payload = payloadOf({ ...request, params: { ...request.params, [name]: big } });
        }
      }
      // a value of up to 4 bytes per code unit may overshoot the limit: cut it back
      return payload.length > budget ? payload.subarray(0, budget) : payload;
    }
    case "manyParams": {
      const request = randomRequest(rng);
      const count = Math.min(rng.logRange(100, 5_000), Math.floor(maxFrameSize / 40));
      const same = rng.chance(0.2);
      for (let i = 0; i < count; i++) {
        request.params[same ? `P${i}` : `Param-${i}-${rng.int(1e6)}`] = "v";
      }
      return payloadOf(request);
    }
    case "emptyish":
      return text.encode(rng.pick(["", "\n", "\n\n", "\n\n\n", "\r\n\r\n", " ", "\u0000"]));
  }
}

/** Bytes of a terminal case of class `kind`. */
function terminalBytes(
  rng: Rng,
  kind: keyof typeof TERMINAL_CLASSES,
  maxFrameSize: number,
): Uint8Array {
  switch (kind) {
    case "truncated": {
      const whole = frame(openPayload(rng, rng.weighted(OPEN_CLASSES), maxFrameSize));
      const cut = rng.chance(0.3) ? rng.range(1, HEADER_SIZE - 1) : rng.range(1, whole.length - 1);
      return whole.subarray(0, cut);
    }
    case "stalledBody": {
      const length = rng.chance(0.3) ? maxFrameSize : rng.logRange(HEADER_SIZE + 1, maxFrameSize);
      const body = payloadOf(randomRequest(rng));
      return concat(headerWith(length), body.subarray(0, Math.min(body.length, length - 13)));
    }
    case "hugeLength": {
      const length = rng.pick([
        maxFrameSize + 1,
        0xffff_ffff,
        0x8000_0000,
        0x7fff_ffff,
        rng.range(maxFrameSize + 1, 0xffff_ffff),
      ]);
      return concat(headerWith(length), payloadOf(randomRequest(rng)).subarray(0, rng.int(64)));
    }
    case "shortLength":
      return concat(headerWith(rng.range(0, HEADER_SIZE - 1)), text.encode("LOGOUT\n\n"));
    case "badMagic": {
      const valid = frame(payloadOf(randomRequest(rng)));
      switch (rng.int(6)) {
        case 0: {
          const copy = valid.slice();
          const i = rng.int(MAGIC.length);
          copy[i] = (copy[i] + rng.range(1, 255)) & 0xff;
          return copy;
        }
        case 1:
          return concat(text.encode("claptrap"), valid.subarray(8));
        case 2:
          return text.encode("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        case 3:
          return new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]);
        case 4:
          return concat(new Uint8Array([rng.int(256)]), valid);
        default:
          return Uint8Array.from({ length: rng.range(1, 64) }, () => rng.int(256));
      }
    }
    case "wrongLength": {
      const valid = frame(payloadOf(randomRequest(rng)));
      const length = valid.length + rng.pick([-12, -3, -1, 1, 2, 100]);
      const copy = valid.slice();
      new DataView(copy.buffer).setUint32(8, Math.max(0, length));
      return copy;
    }
  }
}

function fuzzFrame(kind: FrameClass, bytes: Uint8Array, maxFrameSize: number): FuzzFrame {
  const scan = scanFrames(bytes, maxFrameSize);
  const expect = scan.payloads.map(expectationFor);
  if (scan.ending === "framing-error") expect.push(FRAMING_ERROR);
  return { kind, bytes, expect, ending: scan.ending };
}

/**
 * One fuzz case of class `kind`.
 *
 * @example A valid request is answered and leaves the stream open
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateFrame, Rng } from "./fuzz_frames.ts";
 * const frame = generateFrame(new Rng(1), "valid");
 * assert.equal(frame.ending, "open");
 * assert.equal(frame.expect.length, 1);
 * ```
 */
export function generateFrame(
  rng: Rng,
  kind: FrameClass,
  options: GeneratorOptions = {},
): FuzzFrame {
  const maxFrameSize = options.maxFrameSize ?? 1 << 20;
  if (kind in OPEN_CLASSES) {
    const payload = openPayload(rng, kind as keyof typeof OPEN_CLASSES, maxFrameSize);
    return fuzzFrame(kind, frame(payload), maxFrameSize);
  }
  const bytes = terminalBytes(rng, kind as keyof typeof TERMINAL_CLASSES, maxFrameSize);
  return fuzzFrame(kind, bytes, maxFrameSize);
}

/** One fuzz case of a random class: an open one, or with `terminal` one that ends the stream. */
export function randomFrame(
  rng: Rng,
  options: GeneratorOptions & { terminal?: boolean } = {},
): FuzzFrame {
  const kind = options.terminal ? rng.weighted(TERMINAL_CLASSES) : rng.weighted(OPEN_CLASSES);
  return generateFrame(rng, kind, options);
}

/** The request frame of a valid message, with what it is owed (for scripted set-up steps). */
export function requestFrame(message: Message): FuzzFrame {
  return fuzzFrame("valid", encodeMessage(message), Number.MAX_SAFE_INTEGER);
}

/** Hex of at most `limit` bytes, for reproductions in reports. */
export function hexOf(bytes: Uint8Array, limit = 256): string {
  const shown = [...bytes.subarray(0, limit)].map((b) => b.toString(16).padStart(2, "0"));
  return shown.join(" ") + (bytes.length > limit ? ` … (${bytes.length} bytes)` : "");
}
