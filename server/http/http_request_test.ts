import assert from "node:assert/strict";
import { headEnd, HttpRequestError, listsToken, parseRequestHead } from "./http_request.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("parseRequestHead reads the request line and joins repeated fields", () => {
  const head = parseRequestHead(
    bytes("\r\nGET /a?b=c HTTP/1.1\r\nHost: x\r\nAccept: a\r\naccept:  b \r\n\r\n"),
  );
  assert.deepEqual(head, {
    method: "GET",
    target: "/a?b=c",
    version: "1.1",
    headers: new Map([["host", "x"], ["accept", "a, b"]]),
  });
  assert.equal(parseRequestHead(bytes("HEAD / HTTP/1.0\r\n\r\n")).version, "1.0");
});

Deno.test("parseRequestHead refuses malformed heads with the status to answer", () => {
  const cases: [string, number, RegExp][] = [
    ["GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400, /request line/],
    ["GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n", 400, /request target/],
    ["GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", 400, /request line/],
    ["GET / HTTP/3.0\r\nHost: x\r\n\r\n", 505, /HTTP\/3.0/],
    ["GET / HTTP/1.1\r\n\r\n", 400, /missing Host/],
    ["GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400, /header field/],
    ["GET / HTTP/1.1\r\nHost: x\r\nA: \x01\r\n\r\n", 400, /header field/],
  ];
  for (const [text, status, message] of cases) {
    assert.throws(
      () => parseRequestHead(bytes(text)),
      (error) =>
        error instanceof HttpRequestError && error.status === status &&
        message.test(error.message),
      JSON.stringify(text),
    );
  }
});

Deno.test("headEnd finds the blank line, also when it arrives split", () => {
  assert.equal(headEnd(bytes("GET / HTTP/1.1\r\n\r\nrest")), 18);
  assert.equal(headEnd(bytes("GET / HTTP/1.1\r\n\r")), -1);
  assert.equal(headEnd(bytes("GET / HTTP/1.1\r\n\r\n"), 15), 18);
  assert.ok(listsToken("keep-alive, Upgrade", "upgrade"));
  assert.ok(!listsToken(undefined, "upgrade"));
});
