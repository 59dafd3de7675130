import assert from "node:assert/strict";
import {
  checkUpgradeAnswer,
  headEnd,
  maskAt,
  maskedFrame,
  maskedPayloadOffset,
  newKey,
  newMask,
  Opcode,
  upgradeRequest,
} from "./websocket.ts";

/** Reads a masked client frame back: opcode, final bit, payload. */
function unmask(frame: Uint8Array): { opcode: number; fin: boolean; payload: Uint8Array } {
  assert.ok(frame[1] & 0x80, "masked");
  let length = frame[1] & 0x7f;
  let at = 2;
  if (length === 126) {
    length = (frame[2] << 8) | frame[3];
    at = 4;
  } else if (length === 127) {
    length = Number(new DataView(frame.buffer, frame.byteOffset).getBigUint64(2));
    at = 10;
  }
  const mask = frame.subarray(at, at + 4);
  const payload = frame.slice(at + 4).map((b, i) => b ^ mask[i & 3]);
  assert.equal(payload.length, length);
  return { opcode: frame[0] & 0x0f, fin: (frame[0] & 0x80) !== 0, payload };
}

Deno.test("maskedFrame masks payloads of every length class", () => {
  const mask = new Uint8Array([0x11, 0x22, 0x33, 0x44]);
  for (const length of [0, 1, 125, 126, 65535, 65536, 70_000]) {
    const payload = Uint8Array.from({ length }, (_, i) => i % 251);
    const frame = maskedFrame(Opcode.TEXT, payload, mask);
    assert.equal(maskedPayloadOffset(length), frame.length - length, `length ${length}`);
    const read = unmask(frame);
    assert.deepEqual(read, { opcode: Opcode.TEXT, fin: true, payload }, `length ${length}`);
  }
});

Deno.test("maskAt gives the mask bytes over a stretch of the payload", () => {
  const mask = new Uint8Array([1, 2, 3, 4]);
  assert.deepEqual(maskAt(mask, 5, 6), new Uint8Array([2, 3, 4, 1, 2, 3]));
});

Deno.test("newMask and newKey are random, the mask has no zero byte", () => {
  for (let i = 0; i < 50; i++) assert.ok(newMask().every((b) => b !== 0));
  assert.notDeepEqual(newMask(), newMask());
  assert.match(newKey(), /^[A-Za-z0-9+/]{22}==$/);
  assert.notEqual(newKey(), newKey());
});

Deno.test("an upgrade request asks for /ws, and only a right 101 answer passes", () => {
  const key = newKey();
  const request = upgradeRequest("127.0.0.1:8080", key);
  assert.match(request, /^GET \/ws HTTP\/1\.1\r\n/);
  assert.match(request, /\r\nHost: 127\.0\.0\.1:8080\r\n/);
  assert.match(request, new RegExp(`\r\nSec-WebSocket-Key: ${key.replace(/[+/]/g, "\\$&")}\r\n`));
  assert.match(request, /\r\nSec-WebSocket-Version: 13\r\n\r\n$/);
  const sample = "dGhlIHNhbXBsZSBub25jZQ==";
  const good = "HTTP/1.1 101 Switching Protocols\r\nsec-websocket-accept: " +
    "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
  checkUpgradeAnswer(good, sample);
  assert.throws(() => checkUpgradeAnswer(good, key), /wrong Sec-WebSocket-Accept/);
  assert.throws(() => checkUpgradeAnswer("HTTP/1.1 426 Upgrade Required\r\n\r\n", sample), /426/);
});

Deno.test("headEnd finds the end of an answer's head, or says it is not there yet", () => {
  const head = new TextEncoder().encode("HTTP/1.1 101 OK\r\nA: b\r\n\r\n");
  const bytes = new Uint8Array([...head, 0x81, 0x00]);
  assert.equal(headEnd(bytes), head.length);
  assert.equal(headEnd(bytes.subarray(0, bytes.length - 3)), -1);
});
