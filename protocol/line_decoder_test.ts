import assert from "node:assert/strict";
import { LineDecoder } from "./line_decoder.ts";

const encoder = new TextEncoder();
const text = (lines: Uint8Array[]) => lines.map((line) => new TextDecoder().decode(line));

Deno.test("LineDecoder gives the same lines however the bytes are split", () => {
  const bytes = encoder.encode('{"a": 1}\n\n{"b": "é"}\r\nlast');
  for (let size = 1; size <= bytes.length; size++) {
    const decoder = new LineDecoder({ maxLineBytes: 64 });
    const lines: string[] = [];
    for (let at = 0; at < bytes.length; at += size) {
      lines.push(...text(decoder.push(bytes.subarray(at, at + size))));
    }
    assert.deepEqual(lines, ['{"a": 1}', "", '{"b": "é"}'], `chunks of ${size}`);
    assert.equal(decoder.buffered, 4, "the unfinished line is held");
  }
});

Deno.test("LineDecoder copies an unfinished line, so that the read buffer may be reused", () => {
  const decoder = new LineDecoder({ maxLineBytes: 64 });
  const buffer = encoder.encode("abc");
  decoder.push(buffer);
  buffer.set(encoder.encode("xyz"));
  assert.deepEqual(text(decoder.push(encoder.encode("d\n"))), ["abcd"]);
});

Deno.test("LineDecoder accepts a line of the limit and refuses one byte more, before its end arrives", () => {
  const decoder = new LineDecoder({ maxLineBytes: 4 });
  assert.deepEqual(text(decoder.push(encoder.encode("abcd\nab"))), ["abcd"]);
  assert.deepEqual(text(decoder.push(encoder.encode("cd"))), []);
  assert.equal(decoder.error, null);
  assert.deepEqual(text(decoder.push(encoder.encode("e"))), []);
  assert.deepEqual(decoder.error, new RangeError("Cannot parse line: longer than 4 bytes"));
  assert.equal(decoder.buffered, 0, "nothing is held after the error");
  assert.deepEqual(decoder.push(encoder.encode("ok\n")), [], "nothing is decoded after it");
});

Deno.test("LineDecoder returns the lines before an overlong one in the same chunk", () => {
  const decoder = new LineDecoder({ maxLineBytes: 3 });
  assert.deepEqual(text(decoder.push(encoder.encode("one\ntwo\nthree\nfour\n"))), ["one", "two"]);
  assert.ok(decoder.error);
});
