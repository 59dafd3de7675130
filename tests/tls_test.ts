/**
 * TLS end to end, against a real server on 127.0.0.1 with a throwaway
 * self-signed certificate (made by openssl for each test): the chat over TLS
 * with the client library and with the terminal client, HTTPS and WSS, what
 * a client that does not trust the certificate is told, and a TLS port that
 * shrugs off plain TCP, garbage and silence.
 */

import assert from "node:assert/strict";
import { ChatClient } from "../client/chat_client.ts";
import type { ChatEvent } from "../client/chat_event.ts";
import { tcp, TlsError } from "../client/tcp_transport.ts";
import { messageToJson, parseJsonMessage } from "../protocol/json_mapping.ts";
import { encodeMessage, type Message } from "../protocol/message.ts";
import { type ServerHandle, type ServerOptions, TlsConfigError } from "../server/server.ts";
import { ACCOUNTS, startTestServer, withTimeout } from "./helpers.ts";
import { runServer, spawnServer } from "./server_process.ts";
import { makeTestCertificate, type TestCertificate } from "./tls_certificate.ts";
import { launchChromium } from "./web_helpers.ts";

/** Upper bound of every wait; generous, as subprocesses start slowly on busy machines. */
const TIMEOUT_MS = 15_000;
const ROOT = new URL("../", import.meta.url).pathname;

/** A test server (see startTestServer) over TLS with `certificate`, keeping its log lines. */
async function startTlsServer(
  certificate: TestCertificate,
  options: ServerOptions = {},
): Promise<{ server: ServerHandle; log: string[] }> {
  const log: string[] = [];
  const server = await startTestServer({
    tls: { cert: certificate.cert, key: certificate.key },
    log: (line) => log.push(line),
    ...options,
  });
  return { server, log };
}

/** Connects over TLS trusting `certificate`, and logs in as a test account with push on. */
async function loggedIn(
  server: ServerHandle,
  certificate: TestCertificate,
  user: string,
): Promise<ChatClient> {
  const client = await ChatClient.connect(
    tcp({ port: server.addr.port, caCerts: [certificate.cert] }),
  );
  await client.login(user, ACCOUNTS.get(user)!);
  return client;
}

/** The next event that `matches`, skipping others. */
function nextEvent(
  events: AsyncGenerator<ChatEvent>,
  what: string,
  matches: (event: ChatEvent) => boolean,
): Promise<ChatEvent> {
  const find = async () => {
    while (true) {
      const next = await events.next();
      if (next.done) throw new Error(`connection ended before ${what}`);
      if (matches(next.value)) return next.value;
    }
  };
  return withTimeout(find(), TIMEOUT_MS, what);
}

/** Waits until some log line matches `pattern`. */
async function logged(log: string[], pattern: RegExp): Promise<string> {
  const deadline = Date.now() + TIMEOUT_MS;
  while (Date.now() < deadline) {
    const line = log.find((line) => pattern.test(line));
    if (line) return line;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${pattern} in the log:\n${log.join("\n")}`);
}

/** Everything the peer sends until it closes, as bytes; fails after TIMEOUT_MS. */
async function readUntilClosed(conn: Deno.Conn): Promise<Uint8Array> {
  const chunks: number[] = [];
  const buffer = new Uint8Array(4096);
  const read = async () => {
    while (true) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) return new Uint8Array(chunks);
      chunks.push(...buffer.subarray(0, n));
    }
  };
  return await withTimeout(read(), TIMEOUT_MS, "the server closing the connection");
}

// ------------------------------------------------------ the client library

Deno.test("over TLS, two library clients log in, share a room, get pushed messages and read the history", async () => {
  await using certificate = await makeTestCertificate();
  const { server } = await startTlsServer(certificate);
  const ann = await loggedIn(server, certificate, "ann");
  const bob = await loggedIn(server, certificate, "bob");
  const bobEvents = bob.events();
  await ann.join("lobby");
  await bob.join("lobby");

  const sent = await ann.send("hello over TLS 你好");
  const message = await nextEvent(bobEvents, "ann's message", (e) => e.type === "message");
  assert.deepEqual(message, {
    type: "message",
    room: "lobby",
    kind: "room",
    from: "ann",
    time: sent.time,
    id: sent.id,
    content: "hello over TLS 你好",
  });
  await bob.send("and back");
  const page = await ann.history();
  assert.deepEqual(page.messages.map((m) => [m.from, m.content]), [
    ["ann", "hello over TLS 你好"],
    ["bob", "and back"],
  ]);

  await ann.close();
  const left = await nextEvent(bobEvents, "ann leaving", (e) => e.type === "leave");
  assert.equal(
    left.type === "leave" && left.reason,
    "connection closed by client",
    "the library ends TLS cleanly (close_notify), not as a lost connection",
  );
  await bob.close();
  await server.close();
});

Deno.test("a client that does not trust the certificate gets a TlsError saying so in one line", async () => {
  await using certificate = await makeTestCertificate();
  await using stranger = await makeTestCertificate();
  const { server, log } = await startTlsServer(certificate);
  const port = server.addr.port;

  const trusting = (caCerts?: string[]) =>
    ChatClient.connect(tcp({ port, tls: true, caCerts })).then(
      () => assert.fail("connected without trusting the certificate"),
      (error) => error,
    );
  const untrusted = await trusting();
  assert.ok(untrusted instanceof TlsError, String(untrusted));
  assert.equal(untrusted.problem, "UnknownIssuer");
  assert.equal(
    untrusted.message,
    "the server's certificate is not trusted: it is self-signed or from an unknown " +
      "certificate authority (UnknownIssuer)",
  );
  // another certificate of the same name: found as the issuer, but its signature fails
  const wrong = await trusting([stranger.cert]);
  assert.ok(wrong instanceof TlsError, String(wrong));
  assert.equal(wrong.problem, "BadSignature");
  assert.equal(
    wrong.message,
    "the server's certificate is not trusted: it is not signed by the trusted certificate " +
      "of its issuer's name (BadSignature)",
  );
  await logged(log, /^tls-handshake-failed addr=127\.0\.0\.1:\d+ error=".*UnknownCA"$/);
  assert.ok(!log.some((line) => line.startsWith("connect ")), "no session was started");
  await server.close();
});

Deno.test("TlsError names rustls's problem, also when Deno nests it", () => {
  const nested = new TlsError(
    new Error("invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))"),
    "127.0.0.1",
  );
  assert.equal(nested.problem, "CaUsedAsEndEntity");
  assert.equal(
    nested.message,
    "the server's certificate is a CA certificate, which cannot be a server's own " +
      "(CaUsedAsEndEntity)",
  );
  const name = new TlsError(new Error("invalid peer certificate: NotValidForName"), "chat.test");
  assert.equal(
    name.message,
    "the server's certificate is not valid for chat.test (NotValidForName)",
  );
  assert.equal(
    name.cause instanceof Error && name.cause.message,
    "invalid peer certificate: NotValidForName",
  );
});

Deno.test("a TLS client at a plain TCP port is told the server does not speak TLS there", async () => {
  const server = await startTestServer();
  const error = await ChatClient.connect(tcp({ port: server.addr.port, tls: true })).then(
    () => assert.fail("a TLS handshake with a plain server succeeded"),
    (error) => error,
  );
  assert.ok(error instanceof TlsError, String(error));
  assert.match(error.message, /^the server does not speak TLS there \(.+\)$/);
  await server.close();
});

// ------------------------------------------------------ the server's TLS port

Deno.test("the TLS port survives a plain-TCP client, garbage and a silent client; good clients still chat", async () => {
  await using certificate = await makeTestCertificate();
  const { server, log } = await startTlsServer(certificate);
  const port = server.addr.port;

  // a client of the plain protocol gets a TLS alert, not an answer, and is closed
  const plain = await Deno.connect({ hostname: "127.0.0.1", port });
  await plain.write(encodeMessage({ method: "LIST_ROOMS", params: {} }));
  const answer = await readUntilClosed(plain);
  plain.close();
  assert.equal(answer[0], 0x15, "a TLS alert record");
  await logged(log, /^tls-handshake-failed addr=127\.0\.0\.1:\d+ error="received corrupt message/);

  const garbage = await Deno.connect({ hostname: "127.0.0.1", port });
  // a TLS record header that promises a handshake message, then junk
  await garbage.write(new Uint8Array([0x16, 0x03, 0x01, 0x00, 0x08, ...Array(8).fill(0xee)]));
  await readUntilClosed(garbage);
  garbage.close();

  const silent = await Deno.connect({ hostname: "127.0.0.1", port });
  const ann = await loggedIn(server, certificate, "ann");
  const bob = await loggedIn(server, certificate, "bob");
  const bobEvents = bob.events();
  await ann.join("lobby");
  await bob.join("lobby");
  await ann.send("still here");
  const message = await nextEvent(bobEvents, "ann's message", (e) => e.type === "message");
  assert.equal(message.type === "message" && message.content, "still here");
  assert.equal(
    log.filter((line) => line.startsWith("tls-handshake-failed")).length,
    2,
    "one line each",
  );

  await ann.close();
  await bob.close();
  // the silent client is still in its handshake, which does not hold up the close
  await withTimeout(server.close(), TIMEOUT_MS, "the server closing");
  silent.close();
});

Deno.test("a TLS handshake that does not finish within the login timeout is given up", async () => {
  await using certificate = await makeTestCertificate();
  const { server, log } = await startTlsServer(certificate, { loginTimeoutMs: 300 });
  const silent = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
  await logged(log, /^tls-handshake-failed addr=\S+ error="no handshake within 300 ms"$/);
  // (Deno's TLS keeps the socket of an unfinished handshake until the peer acts, so the
  // client sees no close; the server has forgotten the connection all the same)
  silent.close();
  await server.close();
});

Deno.test("startServer refuses TLS material it cannot use: another certificate's key, a key for a certificate", async () => {
  await using certificate = await makeTestCertificate();
  await using other = await makeTestCertificate();
  await assert.rejects(
    startTestServer({ tls: { cert: certificate.cert, key: other.key } }),
    (error) =>
      error instanceof TlsConfigError &&
      /^cannot use the TLS certificate and key: .*KeyMismatch/.test(error.message),
  );
  await assert.rejects(
    startTestServer({ tls: { cert: certificate.key, key: certificate.key } }),
    (error) => error instanceof TlsConfigError && /No certificates found/.test(error.message),
  );
});

// ------------------------------------------------------ HTTPS and WSS

/** A WebSocket over WSS trusting `certificate` (Deno's `client` option), one JSON message each. */
class SecureSocket {
  readonly #socket: WebSocket;
  readonly #messages: Message[] = [];
  #wake: () => void = () => {};
  readonly closed: Promise<void>;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.onmessage = (event) => {
      this.#messages.push(parseJsonMessage(event.data));
      this.#wake();
    };
    this.closed = new Promise((resolve) => socket.onclose = () => resolve());
  }

  static open(url: string, client: Deno.HttpClient): Promise<SecureSocket> {
    const socket = new WebSocket(url, { client });
    return withTimeout(
      new Promise((resolve, reject) => {
        socket.onopen = () => resolve(new SecureSocket(socket));
        socket.onerror = (event) => reject(new Error((event as ErrorEvent).message));
      }),
      TIMEOUT_MS,
      "WebSocket open",
    );
  }

  /** Sends a request and returns the next message. */
  request(method: string, params: Record<string, string> = {}, content?: string) {
    this.#socket.send(messageToJson({ method, params, content }));
    return this.next();
  }

  next(): Promise<Message> {
    const take = async () => {
      while (this.#messages.length === 0) await new Promise<void>((r) => this.#wake = r);
      return this.#messages.shift()!;
    };
    return withTimeout(take(), TIMEOUT_MS, "next WebSocket message");
  }

  async close(): Promise<void> {
    this.#socket.close();
    await withTimeout(this.closed, TIMEOUT_MS, "WebSocket close");
  }
}

Deno.test("with TLS the web client is served over HTTPS and chats over WSS with TLS TCP users", async () => {
  await using certificate = await makeTestCertificate();
  const { server } = await startTlsServer(certificate, { httpPort: 0 });
  const origin = `https://127.0.0.1:${server.httpAddr!.port}`;
  using client = Deno.createHttpClient({ caCerts: [certificate.cert] });

  const page = await fetch(`${origin}/`, { client });
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<html/i);
  await assert.rejects(
    fetch(`${origin}/`),
    (error: Error) => /UnknownIssuer/.test(`${error.message} ${(error.cause as Error)?.message}`),
    "not without the certificate",
  );

  const web = await SecureSocket.open(`wss://127.0.0.1:${server.httpAddr!.port}/ws`, client);
  const login = await web.request("LOGIN", { Username: "ann", Password: "ann-pw", Push: "on" });
  assert.equal(login.params.Status, "OK");
  assert.equal((await web.request("JOIN_ROOM", { "Room-Name": "lobby" })).params.Status, "OK");
  const bob = await loggedIn(server, certificate, "bob");
  await bob.join("lobby");
  assert.deepEqual([(await web.next()).method], ["EVT_JOIN"]);
  await bob.send("from TLS TCP");
  const atWeb = await web.next();
  assert.deepEqual([atWeb.method, atWeb.params.From, atWeb.content], [
    "EVT_MSG",
    "bob",
    "from TLS TCP",
  ]);

  await web.close();
  await bob.close();
  await server.close();
});

Deno.test({
  name: "in Chromium, the page loaded over HTTPS opens its WebSocket over WSS",
  // playwright keeps timers and pipes of its own between calls
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using certificate = await makeTestCertificate();
    const { server } = await startTlsServer(certificate, { httpPort: 0 });
    const browser = await launchChromium();
    try {
      // Chromium takes no extra CA from the command line; the context ignores certificate errors
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await context.newPage();
      const sockets: string[] = [];
      page.on("websocket", (socket) => sockets.push(socket.url()));
      await page.goto(`https://127.0.0.1:${server.httpAddr!.port}/`);
      await page.fill("#login-user", "ann");
      await page.fill("#login-password", "ann-pw");
      await page.click("#login-submit");
      await page.waitForSelector("#status[data-state=online]", { timeout: TIMEOUT_MS });
      assert.deepEqual(sockets, [`wss://127.0.0.1:${server.httpAddr!.port}/ws`]);
    } finally {
      await browser.close();
      await server.close();
    }
  },
});

// ------------------------------------------------------ the terminal client

/** Runs `client.ts` with `args`, `script` as its stdin, to completion. */
async function runClient(
  port: number,
  args: string[],
  script = "",
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "client.ts",
      "--port",
      String(port),
      ...args,
    ],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const output = await withTimeout(child.output(), TIMEOUT_MS, `client.ts ${args.join(" ")}`);
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

Deno.test("terminal client with --ca chats over TLS", async () => {
  await using certificate = await makeTestCertificate();
  const { server } = await startTlsServer(certificate);
  const bob = await loggedIn(server, certificate, "bob");
  const bobEvents = bob.events();
  await bob.join("lobby");

  const { code, stdout, stderr } = await runClient(
    server.addr.port,
    ["--ca", certificate.certFile, "--user", "ann", "--password", "ann-pw"],
    "/join lobby\nhello from the terminal\n",
  );
  assert.equal(code, 0, stdout + stderr);
  assert.match(stdout, /^logged in as ann;/);
  const message = await nextEvent(bobEvents, "ann's message", (e) => e.type === "message");
  assert.equal(message.type === "message" && message.content, "hello from the terminal");
  await bob.close();
  await server.close();
});

Deno.test("terminal client says in one line that the certificate is not trusted, and what to do", async () => {
  await using certificate = await makeTestCertificate();
  const { server } = await startTlsServer(certificate);
  const port = server.addr.port;

  const { code, stdout, stderr } = await runClient(port, ["--tls", "--user", "ann"], "ann-pw\n");
  assert.equal(code, 1);
  assert.equal(stdout, "");
  assert.equal(
    stderr,
    `claptrap: cannot connect to 127.0.0.1:${port}: the server's certificate is not trusted: ` +
      "it is self-signed or from an unknown certificate authority (UnknownIssuer); " +
      "if it is self-signed, pass it with --ca FILE\n",
  );

  await using stranger = await makeTestCertificate();
  const wrong = await runClient(port, ["--ca", stranger.certFile, "--user", "ann"], "ann-pw\n");
  assert.equal(wrong.code, 1);
  assert.equal(
    wrong.stderr,
    `claptrap: cannot connect to 127.0.0.1:${port}: the server's certificate is not trusted: ` +
      "it is not signed by the trusted certificate of its issuer's name (BadSignature); " +
      `${stranger.certFile} holds neither the server's certificate nor its issuer's\n`,
  );

  const plain = await runClient(port, ["--user", "ann", "--password", "ann-pw"]);
  assert.equal(plain.code, 1);
  assert.match(plain.stderr, /; if the server uses TLS, connect with --tls\n$/);
  await server.close();
});

Deno.test("terminal client refuses a --ca file it cannot read or that holds no certificate", async () => {
  await using certificate = await makeTestCertificate();
  const missing = await runClient(1, ["--ca", `${certificate.certFile}.missing`]);
  assert.equal(missing.code, 2);
  assert.equal(
    missing.stderr,
    `claptrap: --ca: cannot read ${certificate.certFile}.missing: no such file\n`,
  );
  const key = await runClient(1, ["--ca", certificate.keyFile]);
  assert.equal(key.code, 2);
  assert.equal(
    key.stderr,
    `claptrap: --ca: ${certificate.keyFile} does not hold a certificate in PEM form\n`,
  );
});

Deno.test("server.ts with --tls-cert and --tls-key serves the chat over TLS", async () => {
  await using certificate = await makeTestCertificate();
  const child = await spawnServer([
    "--tls-cert",
    certificate.certFile,
    "--tls-key",
    certificate.keyFile,
  ]);
  try {
    const ann = await ChatClient.connect(tcp({ port: child.port, caCerts: [certificate.cert] }));
    await ann.login("ann", ACCOUNTS.get("ann")!);
    assert.deepEqual((await ann.rooms()).map((room) => room.name), [
      "lobby",
      "random",
      "香港记者招待会",
    ]);
    await ann.close();
    assert.ok(child.log.some((line) => line.endsWith(" tls on")), child.log.join("\n"));
  } finally {
    child.kill();
    assert.equal(await withTimeout(child.exited, TIMEOUT_MS, "server.ts exiting"), 0);
  }
});

Deno.test("server.ts names the TLS flag whose file is missing or wrong, and exits with status 2", async () => {
  await using certificate = await makeTestCertificate();
  await using other = await makeTestCertificate();
  const base = ["--host", "127.0.0.1", "--port", "0", "--no-http", "--db", ":memory:"];
  const cases: [string[], string][] = [
    [["--tls-cert", certificate.certFile], "claptrap: --tls-cert needs --tls-key\n"],
    [
      ["--tls-cert", `${certificate.certFile}.missing`, "--tls-key", certificate.keyFile],
      `claptrap: --tls-cert: cannot read ${certificate.certFile}.missing: no such file\n`,
    ],
    [
      ["--tls-cert", certificate.certFile, "--tls-key", certificate.certFile],
      `claptrap: --tls-key: ${certificate.certFile} does not hold a private key in PEM form\n`,
    ],
    [
      ["--tls-cert", certificate.certFile, "--tls-key", other.keyFile],
      "claptrap: cannot use the TLS certificate and key: keys may not be consistent: KeyMismatch\n",
    ],
  ];
  for (const [args, expected] of cases) {
    const { code, stderr } = await runServer([...base, ...args]);
    assert.equal(code, 2, stderr);
    assert.ok(stderr.startsWith(expected), `${args.join(" ")}:\n${stderr}`);
  }
});
