import assert from "node:assert/strict";
import { frame } from "../protocol/frame.ts";
import { FrameScanner, LineScanner } from "./scanners.ts";

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
