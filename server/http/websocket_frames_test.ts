import assert from "node:assert/strict";
import { clientFrame } from "../../tests/raw_websocket.ts";
import {
  CloseCode,
  encodeCloseFrame,
  encodeTextFrame,
  Opcode,
  WebSocketDecoder,
} from "./websocket_frames.ts";

const text = (s: string) => new TextEncoder().encode(s);

Deno.test("the decoder takes frames split anywhere, and several in one chunk", () => {
  const bytes = new Uint8Array([
    ...clientFrame(Opcode.TEXT, text("héllo")),
    ...clientFrame(Opcode.PING, text("p")),
    ...clientFrame(Opcode.TEXT, text("x".repeat(70_000))),
  ]);
  for (const step of [1, 3, 7, 1000, bytes.length]) {
    const decoder = new WebSocketDecoder(100_000);
    const inputs = [];
    for (let i = 0; i < bytes.length; i += step) {
      inputs.push(...decoder.push(bytes.subarray(i, i + step)));
      if (i === 0 && step < 10) assert.ok(decoder.partial, "inside the first frame");
    }
    assert.ok(!decoder.partial);
    assert.deepEqual(inputs.map((input) => input.kind), ["text", "ping", "text"], `step ${step}`);
    assert.deepEqual(inputs[0], { kind: "text", text: "héllo" });
    assert.equal(decoder.fault, null);
  }
});

Deno.test("a fragmented message over the limit is refused at the header of the fragment that passes it", () => {
  const decoder = new WebSocketDecoder(1000);
  assert.deepEqual(decoder.push(clientFrame(Opcode.TEXT, new Uint8Array(600), { fin: false })), []);
  // only the header of the next fragment: 600 + 600 > 1000
  const next = clientFrame(Opcode.CONTINUATION, new Uint8Array(600), { fin: false });
  decoder.push(next.subarray(0, 8));
  assert.deepEqual(decoder.fault, {
    code: CloseCode.MESSAGE_TOO_BIG,
    reason: "message exceeds 1000 bytes",
    messageBytes: 1200,
  });
  assert.deepEqual(decoder.push(next.subarray(8)), [], "nothing more is taken");
  const huge = new WebSocketDecoder(1000);
  const header = new Uint8Array([0x81, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4]);
  huge.push(header);
  assert.equal(huge.fault?.messageBytes, 2 ** 32);
});

Deno.test("close frames: the code and reason are read, bad ones are faults", () => {
  const decoder = new WebSocketDecoder(1000);
  assert.deepEqual(decoder.push(clientFrame(Opcode.CLOSE, new Uint8Array([0x03, 0xe8, 0x62]))), [
    { kind: "close", code: 1000, reason: "b" },
  ]);
  const bad = new WebSocketDecoder(1000);
  bad.push(clientFrame(Opcode.CLOSE, new Uint8Array([0x03, 0xed])));
  assert.deepEqual(bad.fault, { code: 1002, reason: "close code 1005 is not allowed" });
});

Deno.test("server frames are unmasked, with the shortest length form; close reasons are cut whole", () => {
  assert.deepEqual(encodeTextFrame("hé"), new Uint8Array([0x81, 3, 0x68, 0xc3, 0xa9]));
  const [first, second] = [encodeTextFrame("a"), encodeTextFrame("b")];
  assert.equal(first.buffer, second.buffer, "small frames share the byte slab");
  assert.equal(second.byteOffset, first.byteOffset + first.length, "and follow each other in it");
  const medium = encodeTextFrame("x".repeat(300));
  assert.deepEqual([...medium.subarray(0, 4)], [0x81, 126, 1, 44]);
  const long = encodeTextFrame("x".repeat(70_000));
  assert.deepEqual([...long.subarray(0, 10)], [0x81, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]);
  const close = encodeCloseFrame(1001, "é".repeat(100));
  assert.equal(close[1], 2 + 122, "61 two-byte characters, not half of one");
  assert.equal(new TextDecoder("utf-8", { fatal: true }).decode(close.subarray(4)).length, 61);
});
