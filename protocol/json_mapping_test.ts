import assert from "node:assert/strict";
import { HEADER_SIZE } from "./frame.ts";
import { messageToJson, parseJsonMessage } from "./json_mapping.ts";
import { encodeMessage, type Message, parseMessage } from "./message.ts";

/** What the receiver of the framed form of `message` gets. */
function viaFrame(message: Message): Message {
  return parseMessage(encodeMessage(message).subarray(HEADER_SIZE));
}

const SAMPLES: Message[] = [
  { method: "LOGIN", params: { Username: "江主席", Password: "excited", Push: "on" } },
  { method: "LOGOUT", params: {} },
  { method: "SEND_MSG", params: {}, content: "你好\tworld\nline two\\ \r <script>" },
  { method: "SEND_MSG", params: {}, content: "" },
  { method: "HISTORY", params: { Before: "120", Limit: "50" } },
  { method: "RESP_LOGIN", params: { Status: "OK" } },
  {
    method: "RESP_LIST_ROOMS",
    params: { Status: "OK", "Member-Counts": "2,0" },
    content: "lobby\nrandom\n",
  },
  {
    method: "RESP_HISTORY",
    params: { Status: "OK", Room: "lobby", More: "no" },
    content: "1\tann\t2026-11-23T09:14:44.266Z\ta\\tb\n",
  },
  { method: "RESP_SEND_MSG", params: { Status: "OK", Id: "7", Time: "2026-11-23T09:14:44.266Z" } },
  { method: "ERROR", params: { Status: "BAD_REQUEST", Reason: 'unknown method "FOO"' } },
  {
    method: "EVT_MSG",
    params: { Room: "lobby", From: "bob", Time: "2026-11-23T09:14:44.266Z", Id: "1" },
    content: "pushed 🎉",
  },
  { method: "X", params: { "A:B": "c: d", Empty: "" }, content: "x" },
];

Deno.test("messageToJson and parseJsonMessage give what the framed form gives", () => {
  for (const message of SAMPLES) {
    const json = messageToJson(message);
    assert.deepEqual(parseJsonMessage(json), viaFrame(message), json);
  }
});

Deno.test("messageToJson writes method, params and content, and no Content-Length", () => {
  assert.equal(
    messageToJson({ method: "LOGOUT", params: {} }),
    '{"method":"LOGOUT","params":{}}',
  );
  assert.equal(
    messageToJson({ method: "SEND_MSG", params: { "Content-Length": "999" }, content: "" }),
    '{"method":"SEND_MSG","params":{},"content":""}',
    "an empty content field is kept; Content-Length is dropped whatever its value",
  );
  assert.equal(
    messageToJson({ method: "EVT_JOIN", params: { Room: "香港", User: "ann", Time: "t" } }),
    '{"method":"EVT_JOIN","params":{"Room":"香港","User":"ann","Time":"t"}}',
    "non-ASCII text is written as is",
  );
});

Deno.test("JSON written by messageToJson is read back unchanged: the mapping is 1:1", () => {
  for (const message of SAMPLES) {
    const json = messageToJson(message);
    assert.equal(messageToJson(parseJsonMessage(json)), json);
  }
});

Deno.test("parseJsonMessage adds Content-Length in UTF-8 bytes when there is content", () => {
  assert.deepEqual(parseJsonMessage('{"method":"SEND_MSG","content":"é🎉"}'), {
    method: "SEND_MSG",
    params: { "Content-Length": "6" },
    content: "é🎉",
  });
  assert.deepEqual(parseJsonMessage('{"method":"SEND_MSG","params":{}}'), {
    method: "SEND_MSG",
    params: {},
  }, "no content: no Content-Length, so the dispatcher reports it missing as for a frame");
});

Deno.test("parseJsonMessage keeps a parameter named __proto__ as data", () => {
  const message = parseJsonMessage('{"method":"X","params":{"__proto__":"a","b":"c"}}');
  assert.deepEqual(Object.keys(message.params), ["__proto__", "b"]);
  assert.equal(Object.getOwnPropertyDescriptor(message.params, "__proto__")?.value, "a");
  assert.equal(Object.getPrototypeOf(message.params), Object.prototype);
  assert.equal(messageToJson(message), '{"method":"X","params":{"__proto__":"a","b":"c"}}');
});

Deno.test("parseJsonMessage refuses what no frame could carry, with a reason", () => {
  const cases: [string, RegExp][] = [
    ["", /not valid JSON/],
    ["{", /not valid JSON/],
    ["[]", /not a JSON object/],
    ["null", /not a JSON object/],
    ['"LOGIN"', /not a JSON object/],
    ["{}", /method must be a string/],
    ['{"method":1}', /method must be a string/],
    ['{"method":""}', /empty method line/],
    ['{"method":"A\\nB"}', /method contains a newline/],
    ['{"method":"X","param":{}}', /unknown field "param"/],
    ['{"method":"X","params":[]}', /params must be an object/],
    ['{"method":"X","params":null}', /params must be an object/],
    ['{"method":"X","params":{"A":1}}', /value of "A" is not a string/],
    ['{"method":"X","params":{"A":"1\\n2"}}', /value of "A" contains a newline/],
    ['{"method":"X","params":{"":"v"}}', /bad parameter name ""/],
    ['{"method":"X","params":{"a: b":"v"}}', /bad parameter name "a: b"/],
    ['{"method":"X","params":{"Content-Length":"2"},"content":"hi"}', /Content-Length is not sent/],
    ['{"method":"X","content":2}', /content must be a string/],
    ['{"method":"X","content":null}', /content must be a string/],
    ['{"method":"X","content":"\\ud800"}', /lone surrogate/],
    ['{"method":"X","params":{"A":"\\udc00"}}', /lone surrogate/],
  ];
  for (const [text, reason] of cases) {
    assert.throws(() => parseJsonMessage(text), (error: Error) => {
      assert.ok(error instanceof SyntaxError, text);
      assert.match(error.message, /^Cannot parse message: /);
      assert.match(error.message, reason, text);
      return true;
    });
  }
});

Deno.test("messageToJson refuses what encodeMessage refuses", () => {
  const bad: Message[] = [
    { method: "A\nB", params: {} },
    { method: "X", params: { A: "1\n2" } },
    { method: "X", params: { "a: b": "v" } },
    { method: "X", params: { "": "v" } },
  ];
  for (const message of bad) {
    assert.throws(() => encodeMessage(message), TypeError);
    assert.throws(() => messageToJson(message), TypeError);
  }
});

Deno.test("messageToJson turns a lone surrogate into U+FFFD, as UTF-8 framing does", () => {
  const message: Message = { method: "EVT_MSG", params: { From: "a\ud800" }, content: "x\udc00" };
  const parsed = parseJsonMessage(messageToJson(message));
  assert.deepEqual(parsed, viaFrame(message));
  assert.equal(parsed.content, "x\ufffd");
});

Deno.test("parseJsonMessage refuses more than 64 parameters, as parseMessage does", () => {
  const params = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`P${i}`, "v"]));
  assert.throws(() => parseJsonMessage(JSON.stringify({ method: "X", params })), {
    message: "Cannot parse message: more than 64 parameters",
  });
});
