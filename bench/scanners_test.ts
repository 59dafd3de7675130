import assert from "node:assert/strict";
import { frame } from "../protocol/frame.ts";
import { FrameScanner, LineScanner, WebSocketScanner } from "./scanners.ts";

const text = (b: Uint8Array, s: number, e: number) => new TextDecoder().decode(b.subarray(s, e));

function frames(...payloads: string[]): Uint8Array {
  const parts = payloads.map((p) => frame(new TextEncoder().encode(p)));
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

Deno.test("FrameScanner finds every payload whatever the split", () => {
  const payloads = [
    "EVT_MSG\nRoom: r0\n\nhello",
    "",
    "RESP_SEND_MSG\nStatus: OK\n\n",
    "x".repeat(5000),
  ];
  const bytes = frames(...payloads);
  for (const step of [1, 2, 3, 7, 12, 13, 100, 4096, bytes.length]) {
    const scanner = new FrameScanner();
    const got: string[] = [];
    for (let at = 0; at < bytes.length; at += step) {
      scanner.push(bytes.subarray(at, at + step), (b, s, e) => got.push(text(b, s, e)));
    }
    assert.deepEqual(got, payloads, `step ${step}`);
    assert.equal(scanner.buffered, 0);
  }
});

Deno.test("FrameScanner splits at every byte of a two-frame stream", () => {
  const bytes = frames("A\n\nfirst", "B\n\nsecond");
  for (let cut = 0; cut <= bytes.length; cut++) {
    const scanner = new FrameScanner();
    const got: string[] = [];
    const collect = (b: Uint8Array, s: number, e: number) => got.push(text(b, s, e));
    scanner.push(bytes.subarray(0, cut), collect);
    scanner.push(bytes.subarray(cut), collect);
    assert.deepEqual(got, ["A\n\nfirst", "B\n\nsecond"], `cut ${cut}`);
  }
});

Deno.test("FrameScanner rejects a bad magic and a bad length", () => {
  assert.throws(() => new FrameScanner().push(new Uint8Array(12), () => {}), SyntaxError);
  const short = frame(new Uint8Array(0));
  short[11] = 4;
  assert.throws(() => new FrameScanner().push(short, () => {}), RangeError);
  const big = frames("x".repeat(100));
  assert.throws(() => new FrameScanner(50).push(big, () => {}), RangeError);
});

Deno.test("LineScanner splits at LF, drops CR, whatever the split", () => {
  const input = new TextEncoder().encode(":a PRIVMSG #r :hi\r\nPING :x\r\n\r\nbare\n");
  const expected = [":a PRIVMSG #r :hi", "PING :x", "", "bare"];
  for (let cut = 0; cut <= input.length; cut++) {
    const scanner = new LineScanner();
    const got: string[] = [];
    const collect = (b: Uint8Array, s: number, e: number) => got.push(text(b, s, e));
    scanner.push(input.subarray(0, cut), collect);
    scanner.push(input.subarray(cut), collect);
    assert.deepEqual(got, expected, `cut ${cut}`);
  }
});

Deno.test("LineScanner refuses a line longer than its maximum", () => {
  const scanner = new LineScanner(16);
  assert.throws(() => scanner.push(new Uint8Array(17).fill(0x61), () => {}), RangeError);
});

function serverFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const length = payload.length;
  const header = length < 126
    ? [0x80 | opcode, length]
    : length < 65536
    ? [0x80 | opcode, 126, length >> 8, length & 0xff]
    : [
      0x80 | opcode,
      127,
      0,
      0,
      0,
      0,
      length >>> 24,
      (length >> 16) & 0xff,
      (length >> 8) & 0xff,
      length & 0xff,
    ];
  return new Uint8Array([...header, ...payload]);
}

Deno.test("WebSocketScanner finds every frame and its opcode whatever the split", () => {
  const frames = [
    [1, "x".repeat(70_000)],
    [1, '{"method":"EVT_MSG","content":"T0000000001xx"}'],
    [9, "ping"],
    [1, "y".repeat(300)],
    [1, ""],
    [8, "\x03\xe8bye"],
  ] as const;
  const parts = frames.map(([op, text]) => serverFrame(op, new TextEncoder().encode(text)));
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, part) => (bytes.set(part, at), at + part.length), 0);
  for (const step of [1, 2, 3, 5, 9, 11, 100, 4096, bytes.length]) {
    const scanner = new WebSocketScanner();
    const got: [number, string][] = [];
    for (let at = 0; at < bytes.length; at += step) {
      scanner.push(
        bytes.subarray(at, at + step),
        (b, s, e) => got.push([scanner.opcode, text(b, s, e)]),
      );
    }
    assert.deepEqual(got, frames, `step ${step}`);
    assert.equal(scanner.buffered, 0);
  }
});

Deno.test("WebSocketScanner splits at every byte of a two-frame stream", () => {
  const bytes = new Uint8Array([
    ...serverFrame(1, new TextEncoder().encode("a".repeat(130))),
    ...serverFrame(1, new TextEncoder().encode("second")),
  ]);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const scanner = new WebSocketScanner();
    const got: string[] = [];
    const collect = (b: Uint8Array, s: number, e: number) => got.push(text(b, s, e));
    scanner.push(bytes.subarray(0, cut), collect);
    scanner.push(bytes.subarray(cut), collect);
    assert.deepEqual(got, ["a".repeat(130), "second"], `cut ${cut}`);
  }
});

Deno.test("WebSocketScanner refuses fragments, masked frames and oversized payloads", () => {
  const refuse = (bytes: number[], scanner = new WebSocketScanner()) =>
    assert.throws(() => scanner.push(new Uint8Array(bytes), () => {}));
  refuse([0x01, 1, 65], undefined); // not final
  refuse([0x80, 1, 65]); // continuation
  refuse([0x81, 0x81, 1, 2, 3, 4, 65]); // masked
  refuse([0xc1, 1, 65]); // reserved bit
  refuse([0x81, 127, 0, 0, 0, 1, 0, 0, 0, 0]); // 2^32 bytes
  refuse([0x81, 126, 1, 0], new WebSocketScanner(255));
});
