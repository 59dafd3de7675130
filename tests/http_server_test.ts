import assert from "node:assert/strict";
import { RawConnection, withTimeout } from "./helpers.ts";
import { RawWebSocket } from "./raw_websocket.ts";
import { JsonSocket, startWebTestServer } from "./web_helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Reads everything until the server closes the connection (or 10 s pass). */
async function readToEnd(conn: Deno.Conn): Promise<string> {
  let text = "";
  const buffer = new Uint8Array(16 * 1024);
  while (true) {
    let n: number | null;
    try {
      n = await withTimeout(conn.read(buffer), 10_000, "the server to close");
    } catch (error) {
      if (error instanceof Deno.errors.ConnectionReset) break;
      throw error;
    }
    if (n === null) break;
    text += decoder.decode(buffer.subarray(0, n));
  }
  return text;
}

/** Opens a connection to the HTTP port and sends `text` (a request, or part of one). */
async function httpConnection(port: number, text: string): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(encoder.encode(text));
  return conn;
}

Deno.test("a request head trickled byte by byte is answered 408 and closed after the header timeout", async () => {
  const server = await startWebTestServer({ httpHeaderTimeoutMs: 300 });
  const port = server.httpAddr!.port;
  const conn = await httpConnection(port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  let trickling = true;
  const trickle = (async () => {
    // a slow-loris: one more header byte every 50 ms, for at most 10 s
    for (let i = 0; i < 200 && trickling; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      try {
        await conn.write(encoder.encode("X"));
      } catch {
        return; // closed by the server
      }
    }
  })();
  const answer = await readToEnd(conn);
  trickling = false;
  await trickle;
  conn.close();
  assert.match(answer, /^HTTP\/1.1 408 /);
  assert.match(answer, /no complete request within 300 ms/);
  // an honest client is served meanwhile and afterwards
  assert.equal((await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text())).length > 0, true);
  await server.close();
});

Deno.test("a kept-alive HTTP connection serves requests in turn, and HTTP/1.0 closes after one", async () => {
  const server = await startWebTestServer();
  const port = server.httpAddr!.port;
  const pipelined = await httpConnection(
    port,
    "GET /style.css HTTP/1.1\r\nHost: a\r\n\r\nHEAD /nothing HTTP/1.1\r\nHost: a\r\n\r\n" +
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
  );
  const answers = await readToEnd(pipelined);
  pipelined.close();
  assert.deepEqual(answers.match(/^HTTP\/1.1 \d+/gm), [
    "HTTP/1.1 200",
    "HTTP/1.1 404",
    "HTTP/1.1 200",
  ]);
  assert.match(answers, /<title>Claptrap<\/title>/);
  const old = await httpConnection(port, "GET / HTTP/1.0\r\n\r\n");
  assert.match(await readToEnd(old), /^HTTP\/1.1 200 [^]*<title>Claptrap<\/title>/);
  old.close();
  await server.close();
});

Deno.test("malformed and unwanted HTTP requests get a clear 4xx and the connection closes", async () => {
  const server = await startWebTestServer({ maxHttpHeaderBytes: 2048 });
  const port = server.httpAddr!.port;
  const cases: [string, RegExp][] = [
    [`GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${"x".repeat(4096)}\r\n\r\n`, /^HTTP\/1.1 431 /],
    [`GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${"x".repeat(4096)}`, /^HTTP\/1.1 431 /],
    ["DELETE / HTTP/1.1\r\nHost: a\r\n\r\n", /^HTTP\/1.1 405 [^]*allow: GET, HEAD/i],
    ["GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", /^HTTP\/1.1 413 /],
    ["GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", /^HTTP\/1.1 413 /],
    ["GET / HTTP/1.1\r\n\r\n", /^HTTP\/1.1 400 [^]*missing Host/],
    ["GET /\r\n\r\n", /^HTTP\/1.1 400 [^]*malformed request line/],
    ["GET / HTTP/2.0\r\nHost: a\r\n\r\n", /^HTTP\/1.1 505 /],
    ["GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", /^HTTP\/1.1 400 [^]*malformed header/],
    ["\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", /^HTTP\/1.1 400 /],
  ];
  for (const [request, expected] of cases) {
    const conn = await httpConnection(port, request);
    const answer = await readToEnd(conn);
    conn.close();
    assert.match(answer, expected, JSON.stringify(request.slice(0, 60)));
    assert.match(answer, /connection: close/i);
  }
  await server.close();
});

Deno.test("HTTP connections count against the per-address cap from accept, before any request", async () => {
  const server = await startWebTestServer({ maxConnectionsPerAddress: 2 });
  const port = server.httpAddr!.port;
  const half = [
    await httpConnection(port, "GET / HTTP/1.1\r\n"),
    await httpConnection(port, "GET / HTTP/1.1\r\n"),
  ];
  const refused = await httpConnection(port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  const answer = await readToEnd(refused);
  refused.close();
  assert.match(answer, /^HTTP\/1.1 429 [^]*too many connections from 127\.0\.0\.1 \(at most 2\)/);
  const tcp = await RawConnection.open(server);
  const [refusal] = await tcp.untilClosed();
  assert.equal(refusal.params.Status, "TOO_MANY_CONNECTIONS", "the chat port shares the cap");
  for (const conn of half) conn.close();
  await server.close();
});

Deno.test("--max-connections caps connections over every port; the next is refused at once", async () => {
  const server = await startWebTestServer({ maxConnections: 3, maxConnectionsPerAddress: 0 });
  const port = server.httpAddr!.port;
  const held = [
    await RawConnection.open(server),
    await RawConnection.open(server),
    await httpConnection(port, "GET / HTTP/1.1\r\n"),
  ];
  const tcp = await RawConnection.open(server);
  const [refusal] = await tcp.untilClosed();
  assert.deepEqual([refusal.params.Status, refusal.params.Reason], [
    "TOO_MANY_CONNECTIONS",
    "too many connections to the server (at most 3)",
  ]);
  const http = await httpConnection(port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.match(await readToEnd(http), /^HTTP\/1.1 503 [^]*too many connections to the server/);
  http.close();
  await (held[0] as RawConnection).close();
  // the place is free once the server has seen the close
  let answer = null;
  for (let i = 0; i < 50 && answer?.params.Status !== "OK"; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const again = await RawConnection.open(server);
    answer = await again.request("PING").catch(() => null);
    await again.close();
  }
  assert.equal(answer?.params.Status, "OK");
  await (held[1] as RawConnection).close();
  (held[2] as Deno.Conn).close();
  await server.close();
});

Deno.test("a WebSocket upgrade with a Host the server does not serve is refused (DNS rebinding)", async () => {
  const server = await startWebTestServer({ allowHosts: ["chat.example"] });
  const port = server.httpAddr!.port;
  const rebound = await RawWebSocket.open(port, {
    Host: `evil.example:${port}`,
    Origin: `http://evil.example:${port}`,
  });
  assert.match(rebound.response, /^HTTP\/1.1 403 /);
  rebound.close();
  for (const host of [`chat.example:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
    const served = await RawWebSocket.open(port, { Host: host, Origin: `http://${host}` });
    assert.ok(served.upgraded, `${host}: ${served.response}`);
    served.close();
  }
  await server.close();
});

Deno.test("the WebSocket handshake is checked: version, key and Connection", async () => {
  const server = await startWebTestServer();
  const port = server.httpAddr!.port;
  const cases: [Record<string, string>, RegExp][] = [
    [{ "Sec-WebSocket-Version": "8" }, /^HTTP\/1.1 426 [^]*sec-websocket-version: 13/i],
    [{ "Sec-WebSocket-Key": "short" }, /^HTTP\/1.1 400 [^]*Sec-WebSocket-Key/],
    [{ Connection: "keep-alive" }, /^HTTP\/1.1 400 [^]*Connection must list Upgrade/],
    [{}, /^HTTP\/1.1 101 [^]*sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/i],
  ];
  for (const [headers, expected] of cases) {
    const socket = await RawWebSocket.open(port, headers);
    assert.match(socket.response, expected, JSON.stringify(headers));
    socket.close();
  }
  await server.close();
});

Deno.test("a fragmented WebSocket message over the limit is closed with 1009 long before it is all sent", async () => {
  const server = await startWebTestServer({ maxFrameSize: 64 * 1024 });
  const socket = await RawWebSocket.open(server.httpAddr!.port);
  const fragment = new Uint8Array(16 * 1024).fill(0x61);
  const total = 4096; // fragments: 64 MiB in all, if the server took them
  let sent = 0;
  const sending = (async () => {
    try {
      await socket.send(0x1, fragment, { fin: false });
      for (sent = 1; sent < total; sent++) await socket.send(0x0, fragment, { fin: false });
    } catch {
      // the server closed the connection
    }
  })();
  const close = await socket.closeFrame(10_000);
  assert.equal(close?.code, 1009);
  assert.match(close!.reason, /bytes exceeds 65536$/);
  socket.close();
  await sending;
  assert.ok(sent < total / 4, `closed only after ${sent} of ${total} fragments`);
  // and the server still serves
  const web = await JsonSocket.open(server);
  await web.login("ann");
  await web.close();
  await server.close();
});

Deno.test("a WebSocket message over the limit is answered ERROR, then closed with 1009", async () => {
  const server = await startWebTestServer({ maxFrameSize: 1024 });
  const web = await JsonSocket.open(server);
  web.sendText(`{"method":"SEND_MSG","content":"${"é".repeat(600)}"}`);
  const answer = await web.next();
  assert.deepEqual([answer.method, answer.params.Status], ["ERROR", "BAD_REQUEST"]);
  assert.match(answer.params.Reason, /^Cannot parse message: \d+ bytes exceeds 1024$/);
  assert.equal((await web.closed).code, 1009);
  await server.close();
});

Deno.test("WebSocket framing errors close with 1002 (unmasked, bad control frame) and 1007 (bad UTF-8)", async () => {
  const server = await startWebTestServer();
  const port = server.httpAddr!.port;
  const cases: [(socket: RawWebSocket) => Promise<void>, number, RegExp][] = [
    [(s) => s.send(0x1, '{"method":"PING"}', { masked: false }), 1002, /must be masked/],
    [(s) => s.send(0x9, new Uint8Array(126)), 1002, /control frame longer than 125/],
    [(s) => s.send(0x9, "x", { fin: false }), 1002, /fragmented control frame/],
    [(s) => s.send(0x0, "x"), 1002, /continuation frame without a message/],
    [(s) => s.send(0x3, "x"), 1002, /unknown opcode/],
    [(s) => s.send(0x1, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), 1007, /not valid UTF-8/],
  ];
  for (const [send, code, reason] of cases) {
    const socket = await RawWebSocket.open(port);
    await send(socket);
    const close = await socket.closeFrame();
    assert.equal(close?.code, code, String(reason));
    assert.match(close!.reason, reason);
    socket.close();
  }
  await server.close();
});

Deno.test("a WebSocket ping is answered with a pong; fragments of a text message are joined", async () => {
  const server = await startWebTestServer();
  const socket = await RawWebSocket.open(server.httpAddr!.port);
  await socket.send(0x9, "are you there");
  const pong = await socket.next();
  assert.deepEqual([pong?.opcode, decoder.decode(pong?.payload)], [0xa, "are you there"]);
  await socket.send(0x1, '{"method":', { fin: false });
  await socket.send(0x9, "between fragments");
  await socket.send(0x0, '"PI', { fin: false });
  await socket.send(0x0, 'NG"}');
  const between = await socket.next();
  assert.equal(between?.opcode, 0xa);
  const answer = await socket.next();
  assert.equal(answer?.opcode, 0x1);
  assert.match(decoder.decode(answer?.payload), /"method":"PONG"/);
  await socket.send(0x8, new Uint8Array([0x03, 0xe8]));
  assert.equal((await socket.closeFrame())?.code, 1000, "the close is answered");
  assert.equal(await socket.next(), null, "and the connection closed");
  socket.close();
  await server.close();
});

Deno.test("a WebSocket frame left unfinished is closed after the frame timeout", async () => {
  const server = await startWebTestServer({ frameTimeoutMs: 200 });
  const socket = await RawWebSocket.open(server.httpAddr!.port);
  // a frame header announcing 100 bytes, and 3 of them
  await socket.conn.write(new Uint8Array([0x81, 0x80 | 100, 1, 2, 3, 4, 0x7b, 0x22, 0x6d]));
  const close = await socket.closeFrame(10_000);
  assert.equal(close?.code, 1001);
  assert.match(close!.reason, /^frame timeout/);
  socket.close();
  await server.close();
});
