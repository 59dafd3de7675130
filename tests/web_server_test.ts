import assert from "node:assert/strict";
import { NO_FLOOD_LIMITS } from "../core/limits/flood_control.ts";
import { parseRows } from "../protocol/content.ts";
import { CONTENT_SECURITY_POLICY } from "../server/http/static_files.ts";
import { ACCOUNTS, RawConnection, ROOMS, withTimeout } from "./helpers.ts";
import { serverCommand, writeTestGlobals } from "./server_process.ts";
import { httpUrl, JsonSocket, rawHttp, startWebTestServer } from "./web_helpers.ts";

Deno.test("a WebSocket user and a TCP user share a room: messages go both ways", async () => {
  const server = await startWebTestServer();
  const web = await JsonSocket.open(server);
  await web.login("ann");
  assert.equal((await web.request("JOIN_ROOM", { "Room-Name": "lobby" })).params.Status, "OK");
  const tcp = await RawConnection.open(server);
  await tcp.login("bob", { push: true });
  assert.equal((await tcp.request("JOIN_ROOM", { "Room-Name": "lobby" })).params.Status, "OK");

  const joined = await web.next();
  assert.deepEqual([joined.method, joined.params.Room, joined.params.User], [
    "EVT_JOIN",
    "lobby",
    "bob",
  ]);

  const sent = await web.request("SEND_MSG", {}, "from the browser 你好\n<b>two</b>");
  assert.equal(sent.method, "RESP_SEND_MSG");
  assert.equal(sent.params.Status, "OK");
  const atTcp = await tcp.next();
  assert.deepEqual(
    [atTcp.method, atTcp.params.From, atTcp.params.Id, atTcp.params.Time, atTcp.content],
    ["EVT_MSG", "ann", sent.params.Id, sent.params.Time, "from the browser 你好\n<b>two</b>"],
  );

  const reply = await tcp.request("SEND_MSG", {}, "from TCP\twith a tab");
  const atWeb = await web.next();
  assert.deepEqual(atWeb, {
    method: "EVT_MSG",
    params: {
      Room: "lobby",
      From: "bob",
      Time: reply.params.Time,
      Id: reply.params.Id,
      "Content-Length": String(new TextEncoder().encode("from TCP\twith a tab").length),
    },
    content: "from TCP\twith a tab",
  });

  const history = await web.request("HISTORY", {});
  assert.equal(history.params.Status, "OK");
  assert.deepEqual(parseRows(history.content!, 4).map((row) => row[3]), [
    "from the browser 你好\n<b>two</b>",
    "from TCP\twith a tab",
  ]);

  const members = await web.request("LIST_MEMBERS");
  assert.equal(members.content, "ann\nbob\n");
  await tcp.close();
  const left = await web.nextOf("EVT_LEAVE");
  assert.deepEqual([left.params.User, left.params.Reason], ["bob", "connection closed by client"]);
  await web.close();
  await server.close();
});

Deno.test("LIST_DIRECT names the users one has direct conversations with, newest first", async () => {
  const odd = "ann ↔ zed"; // a valid user name that looks like a conversation's
  const server = await startWebTestServer({
    globals: { accounts: new Map([...ACCOUNTS, [odd, "odd-pw"]]), rooms: ROOMS },
  });
  const users = new Map<string, JsonSocket>();
  for (const user of ["ann", "bob", "carol", "江主席", odd]) {
    const socket = await JsonSocket.open(server);
    const login = await socket.request("LOGIN", {
      Username: user,
      Password: user === odd ? "odd-pw" : ACCOUNTS.get(user)!,
    });
    assert.equal(login.params.Status, "OK");
    users.set(user, socket);
  }
  const dm = async (from: string, to: string) => {
    const sent = await users.get(from)!.request("DM", { To: to }, `${from} to ${to}`);
    assert.equal(sent.params.Status, "OK");
  };
  const listed = async (user: string) => {
    const response = await users.get(user)!.request("LIST_DIRECT");
    assert.equal(response.params.Status, "OK");
    return response.content;
  };
  await dm("ann", "bob");
  await dm("carol", "ann");
  await dm("ann", odd);
  assert.equal(await listed("ann"), `${odd}\ncarol\nbob\n`);
  await dm("bob", "ann");
  assert.equal(await listed("ann"), `bob\n${odd}\ncarol\n`, "the newest message counts");
  await dm(odd, "bob");
  assert.equal(await listed("bob"), `${odd}\nann\n`);
  assert.equal(await listed(odd), "bob\nann\n");
  assert.equal(await listed("江主席"), "", "none yet");
  const history = await users.get("ann")!.request("HISTORY", { With: odd });
  assert.deepEqual(parseRows(history.content!, 4).map((row) => row[3]), [`ann to ${odd}`]);
  for (const socket of users.values()) await socket.close();
  await server.close();
});

Deno.test("over WebSocket, requests get the same answers as over TCP, in order", async () => {
  const server = await startWebTestServer();
  const web = await JsonSocket.open(server);
  // pipelined: the answers come back in request order, as on TCP
  web.send("LIST_ROOMS");
  web.send("LOGIN", { Username: "ann", Password: "wrong" });
  web.send("LOGIN", { Username: "ann", Password: "ann-pw" });
  web.send("JOIN_ROOM", {});
  web.send("SEND_MSG");
  web.send("FOO");
  const answers = [];
  for (let i = 0; i < 6; i++) answers.push(await web.next());
  assert.deepEqual(answers.map((m) => [m.method, m.params.Status, m.params.Reason]), [
    ["RESP_LIST_ROOMS", "NOT_LOGIN", undefined],
    ["RESP_LOGIN", "AUTH_FAILED", undefined],
    ["RESP_LOGIN", "OK", undefined],
    ["RESP_JOIN_ROOM", "BAD_REQUEST", "missing parameter Room-Name"],
    ["RESP_SEND_MSG", "BAD_REQUEST", "missing parameter Content-Length"],
    ["ERROR", "BAD_REQUEST", 'unknown method "FOO"'],
  ]);
  const tcp = await RawConnection.open(server);
  const twice = await tcp.request("LOGIN", { Username: "ann", Password: "ann-pw" });
  assert.equal(twice.params.Status, "ALREADY_ONLINE", "one user, one connection, any transport");
  await tcp.close();
  await web.close();
  await server.close();
});

Deno.test("a WebSocket message that is not a request gets ERROR and the connection stays open", async () => {
  const server = await startWebTestServer({ maxFrameSize: 1024 });
  const web = await JsonSocket.open(server);
  const cases: [string | Uint8Array, RegExp][] = [
    ["LOGIN\nUsername: ann", /^Cannot parse message: not valid JSON$/],
    ['{"method":"LOGIN","params":{"Username":1}}', /value of "Username" is not a string/],
    ['{"method":"SEND_MSG","params":{"Content-Length":"2"},"content":"hi"}', /Content-Length/],
    [new Uint8Array([1, 2, 3]), /binary messages are not accepted/],
  ];
  for (const [data, reason] of cases) {
    web.socket.send(data);
    const answer = await web.next();
    assert.equal(answer.method, "ERROR");
    assert.equal(answer.params.Status, "BAD_REQUEST");
    assert.match(answer.params.Reason, reason);
  }
  await web.login("ann");
  await web.close();
  await server.close();
});

Deno.test("the WebSocket upgrade checks Origin: its own, listed ones, none; others are refused", async () => {
  const server = await startWebTestServer({ allowOrigins: ["https://chat.example"] });
  const own = httpUrl(server);
  for (const origin of [own, "https://chat.example", undefined]) {
    const web = await JsonSocket.open(server, { origin });
    assert.equal((await web.request("LIST_ROOMS")).params.Status, "NOT_LOGIN", String(origin));
    await web.close();
  }
  for (const origin of ["https://evil.example", "null", own.replace("http:", "https:") + "1"]) {
    await assert.rejects(() => JsonSocket.open(server, { origin }), String(origin));
  }
  const port = server.httpAddr!.port;
  const refused = await rawHttp(
    port,
    `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n` +
      `Origin: https://evil.example\r\n\r\n`,
  );
  assert.match(refused, /^HTTP\/1.1 403 /);
  const plain = await fetch(`${own}/ws`);
  assert.equal(plain.status, 426, "the endpoint without an upgrade");
  assert.equal(plain.headers.get("upgrade"), "websocket");
  await plain.body?.cancel();
  await server.close();
});

Deno.test("the page is served with its content types, caching and security headers", async () => {
  const server = await startWebTestServer();
  const base = httpUrl(server);
  const types: Record<string, RegExp> = {
    "/": /^text\/html; charset=utf-8$/,
    "/index.html": /^text\/html; charset=utf-8$/,
    "/app.js": /^text\/javascript; charset=utf-8$/,
    "/style.css": /^text\/css; charset=utf-8$/,
    "/icon.svg": /^image\/svg\+xml$/,
  };
  for (const [path, type] of Object.entries(types)) {
    const response = await fetch(base + path);
    await response.arrayBuffer();
    assert.equal(response.status, 200, path);
    assert.match(response.headers.get("content-type")!, type, path);
    assert.equal(response.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY);
    assert.equal(response.headers.get("x-content-type-options"), "nosniff");
    assert.equal(response.headers.get("cache-control"), "no-cache");
    assert.match(response.headers.get("etag")!, /^(W\/)?"[0-9a-f]{24}"$/);
  }
  assert.match(CONTENT_SECURITY_POLICY, /script-src 'self'(;|$)/, "no inline scripts");
  const page = await (await fetch(base)).text();
  assert.doesNotMatch(page, /<script(?![^>]*\bsrc=)[^>]*>/, "the page itself has no inline script");
  assert.doesNotMatch(page, /\sstyle=|<style/, "nor inline styles");
  assert.doesNotMatch(page, /https?:\/\//, "nor anything from elsewhere (offline)");

  const first = await fetch(`${base}/app.js`);
  await first.arrayBuffer();
  const again = await fetch(`${base}/app.js`, {
    headers: { "If-None-Match": first.headers.get("etag")! },
  });
  assert.equal(again.status, 304);
  await again.body?.cancel();

  const head = await fetch(`${base}/style.css`, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), "");
  const post = await fetch(`${base}/`, { method: "POST", body: "x" });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
  await post.body?.cancel();
  const missing = await fetch(`${base}/nothing.js`);
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY);
  await missing.body?.cancel();
  await server.close();
});

Deno.test("no path reaches a file outside web/public", async () => {
  const server = await startWebTestServer();
  const port = server.httpAddr!.port;
  for (
    const path of [
      "/../server.ts",
      "/../../deno.json",
      "/%2e%2e/server.ts",
      "/..%2fserver.ts",
      "/%2e%2e%2f%2e%2e%2fdeno.json",
      "//etc/passwd",
      "/..\\server.ts",
      "/../src/app.ts",
      "/.hidden",
    ]
  ) {
    const answer = await rawHttp(port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    assert.match(answer, /^HTTP\/1.1 (404|400) /, `${path}: ${answer.split("\r\n")[0]}`);
  }
  await server.close();
});

/** Opens a WebSocket by hand and then never reads from it. */
async function stalledWebSocket(port: number, user: string): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(
    `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
      `Sec-WebSocket-Version: 13\r\n\r\n`,
  ));
  const buffer = new Uint8Array(4096);
  const n = await conn.read(buffer);
  assert.match(new TextDecoder().decode(buffer.subarray(0, n!)), /^HTTP\/1.1 101 /);
  for (
    const request of [
      { method: "LOGIN", params: { Username: user, Password: `${user}-pw`, Push: "on" } },
      { method: "JOIN_ROOM", params: { "Room-Name": "lobby" } },
    ]
  ) {
    // a masked client text frame, as RFC 6455 §5.2 requires of clients
    const payload = new TextEncoder().encode(JSON.stringify(request));
    const mask = [1, 2, 3, 4];
    const frame = new Uint8Array([0x81, 0x80 | payload.length, ...mask, ...payload]);
    for (let i = 0; i < payload.length; i++) frame[6 + i] ^= mask[i % 4];
    await conn.write(frame);
  }
  return conn;
}

Deno.test("a WebSocket client that stops reading is dropped with a reason and the room is told", async () => {
  // a flood on purpose: no rate limit, and messages of 32 KiB
  const server = await startWebTestServer({
    sendQueueBytes: 256 * 1024,
    floodLimits: NO_FLOOD_LIMITS,
    maxMessageChars: 64 * 1024,
  });
  const port = server.addr.port;
  const sleeper = await stalledWebSocket(server.httpAddr!.port, "carol");
  const watcher = await RawConnection.open(port);
  await watcher.login("bob", { push: true });
  await watcher.request("JOIN_ROOM", { "Room-Name": "lobby" });
  const flooder = await RawConnection.open(port);
  await flooder.login("ann");
  await flooder.request("JOIN_ROOM", { "Room-Name": "lobby" });

  const chunk = "x".repeat(32 * 1024);
  let left = null;
  for (let i = 0; i < 2_000 && !left; i++) {
    assert.equal((await flooder.request("SEND_MSG", {}, chunk)).params.Status, "OK");
    while (!left) {
      const frame = await watcher.frameWithin(i % 50 === 0 ? 20 : 0);
      if (!frame) break;
      if (frame.method === "EVT_LEAVE" && frame.params.User === "carol") left = frame;
    }
  }
  assert.ok(left, "the sleeping WebSocket client was never dropped");
  assert.match(left.params.Reason, /^send queue exceeded 262144 bytes$/);
  sleeper.close();
  await Promise.all([watcher.close(), flooder.close()]);
  await server.close();
});

Deno.test("WebSocket push connections are pinged when silent and told when the server stops", async () => {
  const server = await startWebTestServer({ pingIntervalMs: 100, idleTimeoutMs: 60_000 });
  const web = await JsonSocket.open(server);
  await web.login("ann");
  const ping = await web.next(2_000);
  assert.equal(ping.method, "EVT_PING");
  assert.equal((await web.request("PING")).method, "PONG");
  await server.close();
  const close = await web.next();
  assert.deepEqual([close.method, close.params.Reason], ["EVT_CLOSE", "server shutting down"]);
  const event = await web.closed;
  assert.equal(event.code, 1001);
  await web.close();
});

Deno.test("a silent WebSocket connection is closed after the idle timeout", async () => {
  const server = await startWebTestServer({ pingIntervalMs: 50, idleTimeoutMs: 300 });
  const web = await JsonSocket.open(server);
  await web.login("ann");
  const messages = [await web.next(), await web.next(2_000)];
  assert.deepEqual(messages.map((m) => m.method), ["EVT_PING", "EVT_CLOSE"]);
  assert.match(messages[1].params.Reason, /^idle timeout: nothing received for \d+ s$/);
  await withTimeout(web.closed, 5_000, "close");
  await server.close();
});

Deno.test("server.ts serves the web client on --http-port, and not with --no-http", async () => {
  const globals = await writeTestGlobals();
  const common = ["--host", "127.0.0.1", "--port", "0", "--db", ":memory:", "--globals", globals];
  const child = serverCommand([...common, "--http-port", "0"]).spawn();
  const lines = child.stderr.pipeThrough(new TextDecoderStream());
  let log = "";
  let port = 0;
  for await (const chunk of lines) {
    log += chunk;
    const match = log.match(/listening http=127\.0\.0\.1:(\d+)\n/);
    if (match) {
      port = Number(match[1]);
      break;
    }
  }
  assert.ok(port > 0, log);
  const page = await fetch(`http://127.0.0.1:${port}/`);
  assert.match(await page.text(), /<title>Claptrap<\/title>/);
  child.kill("SIGTERM");
  assert.equal((await child.status).code, 0);
  await child.stdout.cancel();

  const quiet = serverCommand([...common, "--no-http"]).spawn();
  let quietLog = "";
  for await (const chunk of quiet.stderr.pipeThrough(new TextDecoderStream())) {
    quietLog += chunk;
    if (quietLog.includes("listening addr=")) break;
  }
  quiet.kill("SIGTERM");
  await quiet.status;
  await quiet.stdout.cancel();
  assert.doesNotMatch(quietLog, /listening http=/);
  await Deno.remove(globals);
});
