import assert from "node:assert/strict";
import {
  encodeIcsFrame,
  formatIcsTime,
  ICS_MAX_CHARS,
  IcsDecoder,
  icsJson,
  parseIcsRequest,
} from "./ics.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("encodeIcsFrame writes the original server's bytes", () => {
  assert.equal(
    text(encodeIcsFrame({ action: "connect", status: "request", from: "alice" })),
    '00059{"action": "connect", "status": "request", "from": "alice"}',
  );
  assert.equal(text(encodeIcsFrame({ action: "disconnect" })), '00024{"action": "disconnect"}');
  assert.equal(
    text(encodeIcsFrame({ action: "exchange", from: "[bob]", message: "你好" })),
    '00066{"action": "exchange", "from": "[bob]", "message": "\\u4f60\\u597d"}',
  );
});

Deno.test("icsJson escapes as Python does: ASCII only, surrogate pairs, short escapes", () => {
  assert.equal(
    icsJson({ m: 'a"\\\n\t\r\b\f\u0001\u007f😀é' }),
    '{"m": "a\\"\\\\\\n\\t\\r\\b\\f\\u0001\u007f\\ud83d\\ude00\\u00e9"}',
  );
});

Deno.test("encodeIcsFrame cuts the named field at a character boundary to fit 99999 characters", () => {
  const long = "😀".repeat(20_000); // 240,000 characters escaped
  const frame = encodeIcsFrame({ action: "exchange", from: "[a]", message: long }, "message");
  const json = text(frame).slice(5);
  assert.equal(Number(text(frame).slice(0, 5)), json.length);
  assert.ok(json.length <= ICS_MAX_CHARS);
  const message = JSON.parse(json).message as string;
  assert.ok(message.endsWith("…"));
  assert.ok(message.startsWith("😀😀"));
  assert.ok(!/[\ud800-\udbff]…$/.test(message), "no half of a pair");
  assert.throws(() => encodeIcsFrame({ m: "x".repeat(ICS_MAX_CHARS) }), RangeError);
});

Deno.test("IcsDecoder counts characters, not bytes, split anywhere", () => {
  const frames = '00066{"action": "exchange", "from": "[bob]", "message": "\\u4f60\\u597d"}' +
    '00011{"m": "你好"}00000';
  const all = bytes(frames);
  for (let split = 0; split <= all.length; split++) {
    const decoder = new IcsDecoder(1024);
    const got = [...decoder.push(all.subarray(0, split)), ...decoder.push(all.subarray(split))];
    assert.deepEqual(got, [
      '{"action": "exchange", "from": "[bob]", "message": "\\u4f60\\u597d"}',
      '{"m": "你好"}',
      "",
    ], `split at ${split}`);
    assert.equal(decoder.partial, false);
    assert.equal(decoder.error, null);
  }
});

Deno.test("IcsDecoder stops at a length that is not five digits", () => {
  const decoder = new IcsDecoder(1024);
  assert.deepEqual(decoder.push(bytes('00018{"action": "time"}CLAPTRAP')), ['{"action": "time"}']);
  assert.ok(decoder.error instanceof SyntaxError);
  assert.match(decoder.error.message, /5 digits, got byte 0x43/);
  assert.deepEqual(decoder.push(bytes("00002{}")), []);
});

Deno.test("IcsDecoder refuses a frame longer than its limit, from its length or its bytes", () => {
  const byLength = new IcsDecoder(100);
  byLength.push(bytes("00096"));
  assert.ok(byLength.error instanceof RangeError);
  const byBytes = new IcsDecoder(100);
  byBytes.push(bytes("00090" + "你".repeat(40)));
  assert.ok(byBytes.error instanceof RangeError);
  assert.match(byBytes.error.message, /longer than 100 bytes/);
});

Deno.test("IcsDecoder refuses text that is not UTF-8", () => {
  for (const bad of [[0xff], [0x80], [0xc3, 0x28], [0xed, 0xa0, 0x80]]) {
    const decoder = new IcsDecoder(100);
    decoder.push(new Uint8Array([...bytes("00001"), ...bad, ...bytes("00000")]));
    assert.ok(decoder.error instanceof SyntaxError, `bytes ${bad}`);
  }
});

Deno.test("IcsDecoder is partial while a length or a text is incomplete", () => {
  const decoder = new IcsDecoder(100);
  decoder.push(bytes("000"));
  assert.equal(decoder.partial, true);
  decoder.push(bytes("03ab"));
  assert.equal(decoder.partial, true);
  assert.deepEqual(decoder.push(bytes("c")), ["abc"]);
  assert.equal(decoder.partial, false);
});

Deno.test("parseIcsRequest reads each action and refuses what is not a request", () => {
  assert.deepEqual(parseIcsRequest('{"action": "login", "name": "alice"}'), {
    action: "login",
    name: "alice",
  });
  assert.deepEqual(parseIcsRequest('{"action": "exchange", "from": "[x]", "message": "hi"}'), {
    action: "exchange",
    message: "hi",
  });
  assert.deepEqual(parseIcsRequest('{"action": "list"}'), { action: "list" });
  for (
    const [input, reason] of [
      ["", /not JSON/],
      ["[1]", /not a JSON object/],
      ['{"action": "fly"}', /unknown action "fly"/],
      ['{"action": 3}', /unknown action$/],
      ['{"action": "toString"}', /unknown action/],
      ['{"action": "poem", "target": 3}', /poem needs a text field "target"/],
    ] as const
  ) {
    assert.throws(() => parseIcsRequest(input), (e: Error) => {
      return e instanceof SyntaxError && reason.test(e.message);
    }, input);
  }
});

Deno.test("formatIcsTime is dd.mm.yy,HH:MM in local time", () => {
  const ms = new Date(2026, 11, 6, 10, 44, 59).getTime();
  assert.equal(formatIcsTime(ms), "06.12.26,10:44");
});
