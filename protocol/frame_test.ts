import assert from "node:assert/strict";
import { frame, FrameDecoder, HEADER_SIZE } from "./frame.ts";

const text = new TextEncoder();
const payloads = ["LOGIN\nUsername: ann\nPassword: pw\n\n", "", "RECV_MSG\n\n", "x".repeat(70_000)]
  .map((p) => text.encode(p));
const stream = new Uint8Array(payloads.flatMap((p) => [...frame(p)]));

function copies(list: Uint8Array[]): number[][] {
  return list.map((p) => [...p]);
}

Deno.test("frame puts the magic and the total length before the payload", () => {
  const bytes = frame(text.encode("ab"));
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), "CLAPTRAP");
  assert.deepEqual([...bytes.subarray(8, 12)], [0, 0, 0, 14]);
  assert.deepEqual([...bytes.subarray(12)], [97, 98]);
});

Deno.test("FrameDecoder returns every frame of a stream split at any single byte", () => {
  for (let cut = 0; cut <= stream.length; cut += cut < 200 ? 1 : 997) {
    const decoder = new FrameDecoder();
    const got = [
      ...copies(decoder.push(stream.subarray(0, cut))),
      ...copies(decoder.push(stream.subarray(cut))),
    ];
    assert.deepEqual(got, copies(payloads), `split at ${cut}`);
    assert.equal(decoder.buffered, 0);
  }
});

Deno.test("FrameDecoder returns every frame when fed one byte at a time", () => {
  const decoder = new FrameDecoder();
  const got: number[][] = [];
  for (let i = 0; i < stream.length; i++) {
    got.push(...copies(decoder.push(stream.subarray(i, i + 1))));
  }
  assert.deepEqual(got, copies(payloads));
});

Deno.test("FrameDecoder returns many frames from one chunk", () => {
  assert.deepEqual(copies(new FrameDecoder().push(stream)), copies(payloads));
});

Deno.test("FrameDecoder rejects a bad magic at the first wrong byte", () => {
  const decoder = new FrameDecoder();
  assert.deepEqual(decoder.push(text.encode("CLAP")), []);
  assert.equal(decoder.buffered, 4);
  decoder.push(text.encode("X"));
  const error = decoder.error;
  assert.ok(error instanceof SyntaxError);
  assert.match(error.message, /bad magic/);
  assert.deepEqual(decoder.push(stream), [], "a failed decoder yields nothing more");
});

Deno.test("FrameDecoder keeps the frames before a framing error", () => {
  const bytes = new Uint8Array([
    ...frame(text.encode("A\n\n")),
    ...text.encode("GET / HTTP/1.1\r\n"),
  ]);
  const decoder = new FrameDecoder();
  assert.deepEqual(copies(decoder.push(bytes)), [[...text.encode("A\n\n")]]);
  assert.ok(decoder.error instanceof SyntaxError);
});

Deno.test("FrameDecoder rejects a Packet-Length below the header size", () => {
  const bytes = frame(new Uint8Array());
  new DataView(bytes.buffer).setUint32(8, HEADER_SIZE - 1);
  const decoder = new FrameDecoder();
  decoder.push(bytes);
  assert.ok(decoder.error instanceof RangeError);
  assert.match(decoder.error.message, /Packet-Length 11 is below 12/);
});

Deno.test("FrameDecoder rejects an oversized Packet-Length from the header alone", () => {
  const header = frame(new Uint8Array()).subarray(0, HEADER_SIZE);
  new DataView(header.buffer).setUint32(8, 0xffffffff);
  const decoder = new FrameDecoder({ maxFrameSize: 1024 });
  decoder.push(header);
  assert.ok(decoder.error instanceof RangeError);
  assert.match(decoder.error.message, /4294967295 exceeds 1024/);
  assert.equal(decoder.buffered, 0, "nothing of the body was buffered");
});

Deno.test("FrameDecoder accepts a frame of exactly the maximum size", () => {
  const payload = new Uint8Array(1024 - HEADER_SIZE).fill(65);
  const decoder = new FrameDecoder({ maxFrameSize: 1024 });
  assert.equal(decoder.push(frame(payload))[0].length, payload.length);
  assert.equal(decoder.error, null);
});

Deno.test("FrameDecoder counts a complete header without body bytes as buffered", () => {
  // found by frame_fuzz_test.ts: buffered was 0 between a frame's header and its
  // first body byte, so a client stalled there looked like one between frames
  const bytes = frame(text.encode("LOGOUT\n\n"));
  for (let cut = 1; cut < bytes.length; cut++) {
    const decoder = new FrameDecoder();
    decoder.push(bytes.subarray(0, cut));
    assert.equal(decoder.buffered, cut, `cut at ${cut}`);
    assert.equal(decoder.push(bytes.subarray(cut)).length, 1);
    assert.equal(decoder.buffered, 0);
  }
  const split = new FrameDecoder();
  split.push(bytes.subarray(0, 5));
  split.push(bytes.subarray(5, HEADER_SIZE));
  assert.equal(split.buffered, HEADER_SIZE, "a header that came in pieces");
});
