/**
 * Seeded fuzz tests of the decoding layer alone, without sockets: the frame
 * decoder against a reference reading of protocol/README.md §2, and
 * parseMessage against a reference reading of §3.3 with its own UTF-8
 * validator, on the frames of tests/fuzz_frames.ts and on byte soup.
 */

import assert from "node:assert/strict";
import { FrameDecoder, HEADER_SIZE } from "./frame.ts";
import { encodeMessage, MAX_PARAMETERS, parseMessage } from "./message.ts";
import {
  concat,
  FRAME_CLASSES,
  type FrameClass,
  generateFrame,
  hexOf,
  OPEN_CLASSES,
  randomFrame,
  randomRequest,
  Rng,
  scanFrames,
} from "../tests/fuzz_frames.ts";

const SEED = 0xc1a9;
const MAX_FRAME_SIZE = 4096;

/** Feeds `bytes` to `decoder` in random pieces; returns copies of the payloads. */
function feed(rng: Rng, decoder: FrameDecoder, bytes: Uint8Array): number[][] {
  const got: number[][] = [];
  let at = 0;
  while (at < bytes.length) {
    const size = rng.chance(0.3) ? 1 : rng.range(1, Math.max(1, bytes.length - at));
    for (const payload of decoder.push(bytes.subarray(at, at + size))) got.push([...payload]);
    at += size;
  }
  return got;
}

Deno.test("FrameDecoder agrees with the reference reading of random streams split anywhere", () => {
  const rng = new Rng(SEED);
  const seen = new Set<string>();
  for (let n = 0; n < 3_000; n++) {
    const parts: Uint8Array[] = [];
    for (let k = rng.range(0, 6); k > 0; k--) {
      parts.push(randomFrame(rng, { maxFrameSize: MAX_FRAME_SIZE }).bytes);
    }
    if (rng.chance(0.6)) {
      parts.push(randomFrame(rng, { maxFrameSize: MAX_FRAME_SIZE, terminal: true }).bytes);
    }
    if (rng.chance(0.3)) parts.push(randomFrame(rng, { maxFrameSize: MAX_FRAME_SIZE }).bytes);
    const stream = concat(...parts);
    const scan = scanFrames(stream, MAX_FRAME_SIZE);
    seen.add(scan.ending);
    const expected = scan.payloads.map((p) => [...p]);
    const what = `stream ${n}: ${hexOf(stream, 64)}`;

    const decoder = new FrameDecoder({ maxFrameSize: MAX_FRAME_SIZE });
    if (scan.ending !== "framing-error") {
      assert.deepEqual(feed(rng, decoder, stream), expected, what);
      assert.equal(decoder.error, null, what);
      const framed = scan.payloads.reduce((sum, p) => sum + HEADER_SIZE + p.length, 0);
      assert.equal(decoder.buffered, stream.length - framed, what);
      continue;
    }
    // the error shows at exactly the byte that reveals it, not before, not later
    const got = feed(rng, decoder, stream.subarray(0, scan.errorAt));
    assert.equal(decoder.error, null, what);
    got.push(...decoder.push(stream.subarray(scan.errorAt!, scan.errorAt! + 1)).map((p) => [...p]));
    assert.deepEqual(got, expected, what);
    const error = decoder.error as Error | null;
    assert.ok(error, what);
    assert.ok(error.message.startsWith("Cannot parse frame: "), error.message);
    assert.ok(
      scan.error === "magic" ? error instanceof SyntaxError : error instanceof RangeError,
      `${what}: ${error.message}`,
    );
    assert.deepEqual(
      decoder.push(stream.subarray(scan.errorAt! + 1)),
      [],
      "nothing after an error",
    );
  }
  assert.deepEqual([...seen].sort(), ["framing-error", "incomplete", "open"]);
});

/** Whether `bytes` is well-formed UTF-8 (RFC 3629, table 3-7 of Unicode), by hand. */
function isUtf8(bytes: Uint8Array): boolean {
  const inRange = (i: number, low: number, high: number) =>
    i < bytes.length && bytes[i] >= low && bytes[i] <= high;
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    let ok: boolean;
    let size: number;
    if (b < 0x80) [ok, size] = [true, 1];
    else if (b >= 0xc2 && b <= 0xdf) [ok, size] = [inRange(i + 1, 0x80, 0xbf), 2];
    else if (b >= 0xe0 && b <= 0xef) {
      const [low, high] = b === 0xe0 ? [0xa0, 0xbf] : b === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
      [ok, size] = [inRange(i + 1, low, high) && inRange(i + 2, 0x80, 0xbf), 3];
    } else if (b >= 0xf0 && b <= 0xf4) {
      const [low, high] = b === 0xf0 ? [0x90, 0xbf] : b === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
      [ok, size] = [
        inRange(i + 1, low, high) && inRange(i + 2, 0x80, 0xbf) && inRange(i + 3, 0x80, 0xbf),
        4,
      ];
    } else [ok, size] = [false, 1];
    if (!ok) return false;
    i += size;
  }
  return true;
}

type Reference = { method: string; params: Record<string, string>; content?: string } | null;

const keepBom = new TextDecoder("utf-8", { ignoreBOM: true });

/** protocol/README.md §3.3, step by step; null where it says "error". */
function referenceParse(payload: Uint8Array): Reference {
  if (payload.length === 0) return null;
  let blank = -1;
  for (let i = 0; i + 1 < payload.length && blank === -1; i++) {
    if (payload[i] === 0x0a && payload[i + 1] === 0x0a) blank = i;
  }
  const head = blank !== -1
    ? payload.subarray(0, blank)
    : payload.subarray(0, payload.length - (payload[payload.length - 1] === 0x0a ? 1 : 0));
  const content = blank === -1 ? new Uint8Array() : payload.subarray(blank + 2);
  if (!isUtf8(head)) return null;
  const [method, ...lines] = keepBom.decode(head).split("\n");
  if (method === "") return null;
  if (lines.length > MAX_PARAMETERS) return null;
  const params: [string, string][] = [];
  const names = new Set<string>();
  for (const line of lines) {
    const colon = line.indexOf(": ");
    if (colon <= 0) return null;
    const name = line.slice(0, colon);
    if (names.has(name)) return null;
    names.add(name);
    params.push([name, line.slice(colon + 2)]);
  }
  const declared = params.find(([n]) => n === "Content-Length")?.[1];
  // a Record, as in parseMessage: names like "1" come first in it, whatever the order sent
  const record = Object.fromEntries(params);
  if (declared === undefined) return content.length > 0 ? null : { method, params: record };
  if (!/^[0-9]{1,10}$/.test(declared) || parseInt(declared, 10) !== content.length) return null;
  if (!isUtf8(content)) return null;
  return { method, params: record, content: keepBom.decode(content) };
}

/** Random bytes from the protocol's own delimiters and UTF-8's edges. */
function byteSoup(rng: Rng): Uint8Array {
  const tokens = [
    "A",
    "LOGIN",
    "\n",
    "\n",
    ": ",
    ":",
    " ",
    "Content-Length",
    "Content-Length: ",
    "0",
    "1",
    "2",
    "\r",
    "é",
    "😀",
    "\ufeff",
  ].map((t) => new TextEncoder().encode(t));
  const raw = [[0xff], [0xc3], [0xa9], [0xed, 0xa0, 0x80], [0xf0, 0x9f], [0x00]].map((b) =>
    new Uint8Array(b)
  );
  const parts: Uint8Array[] = [];
  for (let n = rng.range(0, 24); n > 0; n--) {
    parts.push(rng.chance(0.9) ? rng.pick(tokens) : rng.pick(raw));
  }
  return concat(...parts);
}

Deno.test("parseMessage agrees with a reference reading of the payload rules, on fuzzed payloads", () => {
  const rng = new Rng(SEED + 1);
  let accepted = 0;
  let refused = 0;
  const classes = Object.keys(OPEN_CLASSES) as FrameClass[];
  for (let n = 0; n < 30_000; n++) {
    const payload = n % 3 === 0
      ? byteSoup(rng)
      : generateFrame(rng, rng.pick(classes), { maxFrameSize: MAX_FRAME_SIZE }).bytes.subarray(
        HEADER_SIZE,
      );
    const expected = referenceParse(payload);
    let got: Reference;
    try {
      const message = parseMessage(payload);
      got = { method: message.method, params: message.params };
      if (message.content !== undefined) got.content = message.content;
    } catch (error) {
      assert.ok(error instanceof SyntaxError, `${error}`);
      assert.ok(error.message.startsWith("Cannot parse message: "));
      assert.ok(error.message.length < 200, `a short reason: ${error.message.slice(0, 80)}…`);
      got = null;
    }
    assert.deepEqual(got, expected, hexOf(payload, 128));
    if (got) accepted++;
    else refused++;
  }
  assert.ok(accepted > 5_000 && refused > 5_000, `${accepted} accepted, ${refused} refused`);
});

Deno.test("encodeMessage then parseMessage gives back every random request", () => {
  const rng = new Rng(SEED + 2);
  for (let n = 0; n < 5_000; n++) {
    const request = randomRequest(rng);
    const bytes = encodeMessage(request);
    const [payload] = new FrameDecoder().push(bytes);
    assert.equal(payload.length, bytes.length - HEADER_SIZE);
    const params = { ...request.params };
    if (request.content !== undefined) {
      params["Content-Length"] = String(new TextEncoder().encode(request.content).length);
    }
    const expected = request.content === undefined
      ? { method: request.method, params }
      : { method: request.method, params, content: request.content };
    assert.deepEqual(parseMessage(payload), expected, hexOf(bytes, 128));
  }
});

Deno.test("the fuzz generator is deterministic and covers every frame class", () => {
  const draw = (seed: number) => {
    const rng = new Rng(seed);
    return Array.from(
      { length: 300 },
      () => hexOf(randomFrame(rng, { terminal: rng.chance(0.2) }).bytes, 32),
    );
  };
  assert.deepEqual(draw(7), draw(7));
  assert.notDeepEqual(draw(7), draw(8));
  for (const kind of FRAME_CLASSES) {
    const frame = generateFrame(new Rng(SEED), kind, { maxFrameSize: MAX_FRAME_SIZE });
    assert.ok(frame.bytes.length > 0, kind);
    if (kind in OPEN_CLASSES) assert.equal(frame.ending, "open", kind);
  }
});
