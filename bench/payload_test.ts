import assert from "node:assert/strict";
import { parseMessage } from "../protocol/message.ts";
import { FrameScanner } from "./scanners.ts";
import {
  claptrapTemplate,
  IRC_MAX_TEXT,
  ircPartSizes,
  ircTemplate,
  MAX_STAMP,
  readStamp,
  repeatTemplate,
  STAMP_BYTES,
  websocketTemplate,
  writeStamp,
} from "./payload.ts";

Deno.test("stamps round-trip at the edges of their range", () => {
  const bytes = new Uint8Array(STAMP_BYTES);
  for (const micros of [0, 1, 999_999, 1_234_567_890, MAX_STAMP]) {
    writeStamp(bytes, 0, micros);
    assert.equal(readStamp(bytes, 0), micros);
  }
  assert.throws(() => writeStamp(bytes, 0, -1), RangeError);
  assert.throws(() => writeStamp(bytes, 0, MAX_STAMP + 1), RangeError);
  assert.equal(readStamp(bytes, 1), -1);
  bytes[5] = 0x41;
  assert.equal(readStamp(bytes, 0), -1);
});

Deno.test("claptrapTemplate is a SEND_MSG frame with size bytes of content", () => {
  const template = claptrapTemplate(64);
  writeStamp(template.bytes, template.stampOffset, 42);
  const payloads: Uint8Array[] = [];
  new FrameScanner().push(template.bytes, (b, s, e) => payloads.push(b.slice(s, e)));
  const message = parseMessage(payloads[0]);
  assert.equal(message.method, "SEND_MSG");
  assert.equal(message.content?.length, 64);
  assert.equal(message.content?.slice(0, STAMP_BYTES), "T0000000042");
  assert.throws(() => claptrapTemplate(STAMP_BYTES - 1), RangeError);
});

Deno.test("ircPartSizes adds up and keeps the stamp in the last part", () => {
  for (const size of [11, 64, 400, 401, 405, 410, 1024, 5000]) {
    const parts = ircPartSizes(size);
    assert.equal(parts.reduce((a, b) => a + b, 0), size, `size ${size}`);
    assert.ok(parts.every((p) => p <= IRC_MAX_TEXT && p >= 1));
    assert.ok(parts[parts.length - 1] >= STAMP_BYTES);
  }
});

Deno.test("ircTemplate lines stay within 512 bytes once relayed with a prefix", () => {
  const template = ircTemplate("#r9", 1024);
  writeStamp(template.bytes, template.stampOffset, 7);
  const lines = new TextDecoder().decode(template.bytes).split("\r\n").slice(0, -1);
  assert.equal(lines.length, 3);
  assert.ok(lines.slice(0, 2).every((line) => line.startsWith("PRIVMSG #r9 :P")));
  assert.ok(lines[2].startsWith("PRIVMSG #r9 :T0000000007"));
  const relayedPrefix = ":u99999!~u99999@127.0.0.1 ";
  for (const line of lines) assert.ok(relayedPrefix.length + line.length + 2 <= 512);
});

Deno.test("repeatTemplate lays out copies with their stamp offsets", () => {
  const template = claptrapTemplate(20);
  const { bytes, stampOffsets } = repeatTemplate(template, 3);
  assert.equal(bytes.length, template.bytes.length * 3);
  stampOffsets.forEach((offset, i) => {
    writeStamp(bytes, offset, i);
    assert.equal(readStamp(bytes, offset), i);
  });
});

Deno.test("websocketTemplate copies carry masked JSON SEND_MSG requests with their stamps", () => {
  const mask = new Uint8Array([0x9f, 0x01, 0x7e, 0x42]);
  for (const size of [64, 1024]) {
    const template = websocketTemplate(size, mask);
    const { bytes, stampOffsets } = repeatTemplate(template, 3);
    stampOffsets.forEach((offset, i) => writeStamp(bytes, offset, 1000 + i, template.stampMask));
    const one = template.bytes.length;
    const header = size < 100 ? 6 : 8;
    for (let i = 0; i < 3; i++) {
      const frame = bytes.subarray(i * one, (i + 1) * one);
      assert.equal(frame[0], 0x81);
      assert.deepEqual([...frame.subarray(header - 4, header)], [...mask]);
      const payload = frame.slice(header).map((b, j) => b ^ mask[j & 3]);
      const json = JSON.parse(new TextDecoder().decode(payload));
      assert.equal(json.method, "SEND_MSG");
      assert.equal(json.content.length, size);
      assert.equal(json.content.slice(0, STAMP_BYTES), `T${String(1000 + i).padStart(10, "0")}`);
    }
  }
});
