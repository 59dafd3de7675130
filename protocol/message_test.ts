import assert from "node:assert/strict";
import { DEFAULT_MAX_FRAME_SIZE, FrameDecoder, HEADER_SIZE } from "./frame.ts";
import { allocateBytes } from "./byte_slab.ts";
import { encodeMessage, type Message, parseMessage, utf8Length } from "./message.ts";

const text = new TextEncoder();
const parse = (payload: string) => parseMessage(text.encode(payload));
const payloadOf = (message: Message) =>
  new TextDecoder().decode(encodeMessage(message).subarray(12));

/** What the original Python client sends: "\n".join([method] + params + ["\n" + content]). */
function original(method: string, params: string[], content: string): string {
  return [method, ...params, "\n" + content].join("\n");
}

Deno.test("parseMessage accepts the original client's LOGIN byte for byte", () => {
  const payload = original("LOGIN", ["Username: ann", "Password: pw"], "");
  assert.equal(payload, "LOGIN\nUsername: ann\nPassword: pw\n\n");
  assert.deepEqual(parse(payload), {
    method: "LOGIN",
    params: { Username: "ann", Password: "pw" },
  });
});

Deno.test("parseMessage accepts the original client's SEND_MSG with Unicode content", () => {
  const content = "你好\tworld\nsecond line";
  const payload = original("SEND_MSG", [`Content-Length: ${text.encode(content).length}`], content);
  assert.deepEqual(parse(payload), {
    method: "SEND_MSG",
    params: { "Content-Length": "24" },
    content,
  });
});

Deno.test("parseMessage accepts a method alone, with or without newlines", () => {
  for (const payload of ["LOGOUT", "LOGOUT\n", "LOGOUT\n\n"]) {
    assert.deepEqual(parse(payload), { method: "LOGOUT", params: {} }, JSON.stringify(payload));
  }
});

Deno.test("parseMessage keeps unknown parameters and values containing ': '", () => {
  assert.deepEqual(parse("LIST_ROOMS\nRoom-Name: a: b\nX-Extra: 1\n\n").params, {
    "Room-Name": "a: b",
    "X-Extra": "1",
  });
});

Deno.test("parseMessage keeps a byte-order mark in content and a parameter named __proto__", () => {
  const message = parse("SEND_MSG\n__proto__: x\nContent-Length: 5\n\n\uFEFFhi");
  assert.equal(message.content, "\uFEFFhi");
  assert.equal(Object.getOwnPropertyDescriptor(message.params, "__proto__")?.value, "x");
  assert.equal(Object.getPrototypeOf(message.params), Object.prototype);
});

Deno.test("parseMessage takes names of Object.prototype members as plain parameters", () => {
  const message = parse("X\nconstructor: a\ntoString: b\nhasOwnProperty: c\n\n");
  assert.deepEqual({ ...message.params }, { constructor: "a", toString: "b", hasOwnProperty: "c" });
  assert.throws(() => parse("X\ntoString: a\ntoString: b\n\n"), /repeated parameter toString/);
});

Deno.test("parseMessage accepts a U+FFFD that was sent, and refuses one that a bad byte would make", () => {
  const sent = parse("SEND_MSG\nContent-Length: 3\n\n\uFFFD");
  assert.equal(sent.content, "\uFFFD");
  const long = "ok ".repeat(20);
  const bad = new Uint8Array([...text.encode(`SEND_MSG\nNote: ${long}`), 0xfe, 0x0a, 0x0a]);
  assert.throws(() => parseMessage(bad), /invalid UTF-8/);
});

Deno.test("parseMessage rejects malformed payloads with a SyntaxError that says why", () => {
  const cases: [string | Uint8Array, RegExp][] = [
    ["", /empty payload/],
    ["\n\n", /empty method/],
    ["LOGIN\nUsername ann\n\n", /parameter line "Username ann" is not "Name: Value"/],
    ["LOGIN\n: x\n\n", /is not "Name: Value"/],
    ["LOGIN\nUsername: a\nUsername: b\n\n", /repeated parameter Username/],
    ["SEND_MSG\n\nhello", /5 bytes of content without Content-Length/],
    ["SEND_MSG\nContent-Length: 4\n\nhello", /Content-Length "4" does not match 5 bytes/],
    ["SEND_MSG\nContent-Length: -5\n\nhello", /does not match/],
    ["SEND_MSG\nContent-Length: 2\n\n你", /"2" does not match 3 bytes/],
    [new Uint8Array([...text.encode("L\nContent-Length: 1\n\n"), 0xff]), /invalid UTF-8/],
    [new Uint8Array([0xc3, 0x28]), /invalid UTF-8/],
  ];
  for (const [payload, reason] of cases) {
    const bytes = typeof payload === "string" ? text.encode(payload) : payload;
    assert.throws(
      () => parseMessage(bytes),
      (e: Error) => e instanceof SyntaxError && reason.test(e.message),
    );
  }
});

Deno.test("encodeMessage writes the original layout and computes Content-Length in bytes", () => {
  assert.equal(
    payloadOf({ method: "RESP_LOGIN", params: { Status: "OK" } }),
    "RESP_LOGIN\nStatus: OK\n\n",
  );
  assert.equal(
    payloadOf({
      method: "NEW_MSG",
      params: { Status: "OK", "Content-Length": "999" },
      content: "é",
    }),
    "NEW_MSG\nStatus: OK\nContent-Length: 2\n\né",
  );
  assert.equal(
    payloadOf({ method: "RESP_LIST_ROOMS", params: {}, content: "" }),
    "RESP_LIST_ROOMS\nContent-Length: 0\n\n",
  );
});

Deno.test("encodeMessage returns exactly one frame, whose length is in the header", () => {
  for (const content of ["😀 and ü", "x".repeat(5000)]) {
    const bytes = encodeMessage({ method: "SEND_MSG", params: {}, content });
    assert.equal(new DataView(bytes.buffer, bytes.byteOffset).getUint32(8), bytes.length);
    assert.equal(new FrameDecoder().push(bytes)[0].length, bytes.length - HEADER_SIZE);
  }
});

Deno.test("encodeMessage refuses newlines that would break the framing", () => {
  assert.throws(() => encodeMessage({ method: "A\nB", params: {} }), /method contains a newline/);
  assert.throws(
    () => encodeMessage({ method: "A", params: { K: "v\n" } }),
    /value of K contains a newline/,
  );
  assert.throws(
    () => encodeMessage({ method: "A", params: { "K: x": "v" } }),
    /bad parameter name/,
  );
  assert.throws(
    () => encodeMessage({ method: "A", params: { K: "ü".repeat(300) + "\n" } }),
    /value of K contains a newline/,
  );
});

Deno.test("a refused message leaves nothing behind in the frames encoded after it", () => {
  assert.throws(() => encodeMessage({ method: "A", params: { Long: "v".repeat(200) + "\n" } }));
  assert.equal(payloadOf({ method: "B", params: { K: "v" } }), "B\nK: v\n\n");
  const zeros = allocateBytes(512);
  assert.ok(zeros.every((byte) => byte === 0), "the slab's free part is still zero");
});

Deno.test("encode then decode gives back the message, for awkward content", () => {
  const contents = [
    "",
    "plain",
    "tab\tand\nnewline\n\n",
    "\n\nleading blank lines",
    "江主席 😀",
    "\uD800 lone",
    "é".repeat(5), // 5 UTF-16 units, 10 bytes: a Content-Length one digit longer
    "x".repeat(95) + "😀😀😀", // 101 units, 107 bytes: as many digits
    "ü".repeat(600), // more than fits in a slab
    "中".repeat(40_000), // 120,000 bytes: six digits for 40,000 units
  ];
  for (const content of contents) {
    const message = { method: "SEND_MSG", params: { A: "1" }, content };
    const [payload] = new FrameDecoder({ maxFrameSize: DEFAULT_MAX_FRAME_SIZE }).push(
      encodeMessage(message),
    );
    const expected = content.replace("\uD800", "\uFFFD");
    assert.deepEqual(parseMessage(payload), {
      ...message,
      params: { A: "1", "Content-Length": String(text.encode(content).length) },
      content: expected,
    });
  }
});

Deno.test("utf8Length agrees with TextEncoder", () => {
  for (const s of ["", "abc", "é", "你好", "😀", "a\uD800b", "\uDC00", "x😀y你"]) {
    assert.equal(utf8Length(s), text.encode(s).length, JSON.stringify(s));
  }
});

Deno.test("parseMessage quotes at most 40 characters of a huge name or Content-Length in its error", () => {
  // found by tests/fuzz.ts: the server sent these errors back as a Reason of up to 1 MiB
  const name = "N".repeat(100_000);
  const cases = [
    `X\n${name}: 1\n${name}: 2\n\n`,
    `SEND_MSG\nContent-Length: ${"0".repeat(100_000)}2\n\nhi`,
    `X\n${"😀".repeat(50)}: 1\n${"😀".repeat(50)}: 2\n\n`,
  ];
  for (const payload of cases) {
    assert.throws(() => parse(payload), (e: Error) => {
      assert.ok(e instanceof SyntaxError);
      assert.ok(e.message.length < 120, `${e.message.length} characters`);
      assert.ok(e.message.includes("…"));
      assert.ok(e.message.isWellFormed(), "no half of a surrogate pair");
      return true;
    });
  }
});

Deno.test("parseMessage refuses more than 64 parameter lines, before reading them all", () => {
  const lines = (n: number) => Array.from({ length: n }, (_, i) => `P${i}: v`).join("\n");
  const ok = parseMessage(new TextEncoder().encode(`X\n${lines(64)}`));
  assert.equal(Object.keys(ok.params).length, 64);
  assert.throws(
    () => parseMessage(new TextEncoder().encode(`X\n${lines(100_000)}`)),
    { name: "SyntaxError", message: "Cannot parse message: more than 64 parameters" },
  );
});
