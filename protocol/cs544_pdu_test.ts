import assert from "node:assert/strict";
import {
  Cs544Code,
  encodeCs544Request,
  encodeCs544Response,
  encodeCs544Responses,
  parseCs544Request,
  parseCs544Response,
  stringParameter,
} from "./cs544_pdu.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("parseCs544Request reads the original client's lines, whatever their key order", () => {
  const request = parseCs544Request(bytes(
    '{"parameters": {"username": "bob", "chat_name": "", "password": "secret"}, ' +
      '"command": "AUTH", "version": 1.0, "payload": "", "channel": "CC"}',
  ));
  assert.deepEqual(request, {
    version: 1,
    command: "AUTH",
    channel: "CC",
    parameters: { username: "bob", chat_name: "", password: "secret" },
    payload: "",
  });
  assert.equal(stringParameter(request, "password"), "secret");
});

Deno.test("parseCs544Request reads \\u escapes as Python 2's json.dumps writes them", () => {
  const request = parseCs544Request(bytes(
    '{"version": 1.0, "command": "MSSG", "channel": "DC", ' +
      '"parameters": {"username": "\\u6c5f", "chat_name": "r"}, "payload": "(\\u6c5f) \\ud83d\\ude00"}',
  ));
  assert.equal(request.parameters.username, "江");
  assert.equal(request.payload, "(江) 😀");
});

Deno.test("parseCs544Request lets channel, parameters and payload be left out", () => {
  assert.deepEqual(parseCs544Request(bytes('{"version": 1, "command": "REDY"}')), {
    version: 1,
    command: "REDY",
    channel: "",
    parameters: {},
    payload: "",
  });
});

Deno.test("parseCs544Request leaves the version for the caller to judge", () => {
  assert.equal(parseCs544Request(bytes('{"version": 2.0, "command": "LIST"}')).version, 2);
  assert.equal(parseCs544Request(bytes('{"command": "LIST"}')).version, undefined);
});

Deno.test("parseCs544Request refuses what is not a well-typed JSON object, saying what", () => {
  const cases: [string | Uint8Array, string][] = [
    ["hello", "not JSON"],
    ["", "not JSON"],
    [new Uint8Array([0x7b, 0xff, 0x7d]), "not UTF-8"],
    ["[1, 2]", "not a JSON object"],
    ["null", "not a JSON object"],
    ['"AUTH"', "not a JSON object"],
    ['{"version": 1}', "command must be a string"],
    ['{"version": 1, "command": 7}', "command must be a string"],
    ['{"version": 1, "command": "AUTH", "channel": 1}', "channel must be a string"],
    ['{"version": 1, "command": "AUTH", "parameters": []}', "parameters must be an object"],
    ['{"version": 1, "command": "AUTH", "parameters": null}', "parameters must be an object"],
    ['{"version": 1, "command": "MSSG", "payload": ["x"]}', "payload must be a string"],
  ];
  for (const [line, why] of cases) {
    assert.throws(
      () => parseCs544Request(typeof line === "string" ? bytes(line) : line),
      new SyntaxError(`Cannot parse request: ${why}`),
      String(line),
    );
  }
});

Deno.test("parseCs544Request takes deep nesting without overflowing the stack", () => {
  const deep = "[".repeat(100_000) + "]".repeat(100_000);
  const line = `{"version": 1, "command": "X", "parameters": {"a": ${deep}}}`;
  assert.equal(stringParameter(parseCs544Request(bytes(line)), "a"), null);
});

Deno.test("stringParameter gives only strings the request itself holds", () => {
  const request = parseCs544Request(bytes(
    '{"version": 1, "command": "KICK", "parameters": {"kicked_user": 5, "username": "ann"}}',
  ));
  assert.equal(stringParameter(request, "kicked_user"), null);
  assert.equal(stringParameter(request, "username"), "ann");
  assert.equal(stringParameter(request, "toString"), null);
});

Deno.test("a response is one line of JSON with every field the client reads", () => {
  const line = new TextDecoder().decode(encodeCs544Response({
    code: Cs544Code.GROUPS,
    channel: "",
    parameters: { username: "bob" },
    payload: ["room2", "香港记者招待会"],
  }));
  assert.ok(line.endsWith("\n"));
  assert.equal(line.indexOf("\n"), line.length - 1, "one line");
  assert.deepEqual(JSON.parse(line), {
    response_code: "130",
    version: 1,
    channel: "",
    parameters: { username: "bob" },
    payload: ["room2", "香港记者招待会"],
  });
});

Deno.test("a payload with line breaks stays on one line", () => {
  const line = new TextDecoder().decode(encodeCs544Response({
    code: Cs544Code.MESSAGE,
    channel: "DC",
    parameters: {},
    payload: "(ann) one\ntwo\r\u2028three",
  }));
  assert.equal(line.indexOf("\n"), line.length - 1);
  assert.equal(parseCs544Response(line.slice(0, -1)).payload, "(ann) one\ntwo\r\u2028three");
});

Deno.test("a request encoded as the client does parses back to the same fields", () => {
  const line = encodeCs544Request("KICK", {
    channel: "AC",
    parameters: { username: "bob", chat_name: "room1", kicked_user: "carol" },
  });
  assert.equal(line.at(-1), 0x0a);
  assert.deepEqual(parseCs544Request(line.subarray(0, -1)), {
    version: 1,
    command: "KICK",
    channel: "AC",
    parameters: { username: "bob", chat_name: "room1", kicked_user: "carol" },
    payload: "",
  });
});

Deno.test("parseCs544Response refuses a line without a known code", () => {
  assert.throws(() => parseCs544Response('{"parameters": {}}'), SyntaxError);
  assert.throws(
    () => parseCs544Response('{"response_code": "999", "parameters": {}}'),
    SyntaxError,
  );
  assert.throws(() => parseCs544Response('{"response_code": "100"}'), SyntaxError);
});

Deno.test("several responses are as many lines in one buffer, and none is no bytes", () => {
  const notice = { code: Cs544Code.NOTICE, channel: "CC", parameters: {}, payload: "why" } as const;
  const refusal = { ...notice, code: Cs544Code.LOGIN_REFUSED, payload: "" } as const;
  const lines = new TextDecoder().decode(encodeCs544Responses([notice, refusal])).split("\n");
  assert.deepEqual(lines.map((line) => line && parseCs544Response(line).code), ["100", "200", ""]);
  assert.equal(encodeCs544Responses([]).length, 0);
});
