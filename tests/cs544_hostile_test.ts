/**
 * Hostile input on the CS 544 listener, over real sockets on 127.0.0.1:
 * garbage, lines that are too long or never end, floods, clients that never
 * read or never log in, too many connections. Each gets the protocol's
 * answer (a `100` it prints, or a `330` after which it disconnects), stays
 * bounded by the Claptrap listener's limits, and harms nobody else.
 */

import assert from "node:assert/strict";
import { DEFAULT_FLOOD_LIMITS, NO_FLOOD_LIMITS } from "../core/limits/flood_control.ts";
import type { ServerHandle, ServerOptions } from "../server/server.ts";
import { Cs544TestClient } from "./cs544_client.ts";
import { NEVER, online, RawConnection, startTestServer } from "./helpers.ts";

/** Runs `test` with a CS 544 server; the clients it opens are closed after. */
async function withServer(
  options: ServerOptions,
  test: (server: ServerHandle, opened: Cs544TestClient[]) => Promise<void>,
): Promise<void> {
  const server = await startTestServer({ cs544Port: 0, ...options });
  const opened: Cs544TestClient[] = [];
  try {
    await test(server, opened);
  } finally {
    await Promise.all(opened.map((client) => client.close()));
    await server.close();
  }
}

/** A CS 544 client of `server` in the lobby, its 180 taken. */
async function inLobby(server: ServerHandle, user: string): Promise<Cs544TestClient> {
  const client = await Cs544TestClient.loggedIn(server.listeners.get("cs544")!.port, user);
  await client.send("JOIN", { chat_name: "lobby" });
  assert.equal((await client.next()).code, "180");
  return client;
}

Deno.test("garbage lines get a 100 saying what is wrong, and the connection goes on", async () => {
  await withServer({}, async (server, opened) => {
    const client = await Cs544TestClient.open(server.listeners.get("cs544")!.port);
    opened.push(client);
    const garbage: [Uint8Array | string, string][] = [
      ["hello\n", "Cannot parse request: not JSON"],
      ["\n", "Cannot parse request: not JSON"],
      [new Uint8Array([0x7b, 0xc3, 0x28, 0x7d, 0x0a]), "Cannot parse request: not UTF-8"],
      ["[1, 2, 3]\r\n", "Cannot parse request: not a JSON object"],
      ['{"version": 1.0, "command": ["AUTH"]}\n', "Cannot parse request: command must be a string"],
      [
        '{"version": 1.0, "command": "AUTH", "parameters": "x"}\n',
        "Cannot parse request: parameters must be an object",
      ],
      [
        '{"version": 1.0, "command": "AUTH", "parameters": {"username": 1, "password": 2}}\n',
        "Give a username and a password",
      ],
      ['{"version": 1.0, "command": "\\u0000\\u0001"}\n', 'Unknown command "\\u0000\\u0001"'],
    ];
    for (const [bytes, expected] of garbage) {
      await client.write(bytes);
      const answer = await client.next();
      assert.equal(answer.code, "100", String(bytes));
      assert.equal(answer.payload, expected);
      if (expected.startsWith("Give")) assert.equal((await client.next()).code, "200");
    }
    assert.equal(await client.auth("ann", "ann-pw"), "110", "still served");
  });
});

Deno.test("a line longer than --max-frame-size gets a 330 and the connection closes; others go on", async () => {
  await withServer({ maxFrameSize: 1024 }, async (server, opened) => {
    const bob = await inLobby(server, "bob");
    const ann = await inLobby(server, "ann");
    opened.push(bob, ann);
    await bob.next(); // ann's 180
    const hostile = await Cs544TestClient.open(server.listeners.get("cs544")!.port);
    opened.push(hostile);
    await hostile.write(`{"version": 1, "command": "MSSG", "payload": "${"x".repeat(4096)}`);
    assert.deepEqual(await hostile.untilClosed(), [{
      code: "330",
      channel: "",
      parameters: {},
      payload: "Cannot parse line: longer than 1024 bytes",
    }]);
    await ann.say("still here");
    assert.equal((await bob.next()).payload, "(ann) still here");
  });
});

Deno.test("a line that never ends is closed at the frame timeout with a 330 saying so", async () => {
  await withServer({ frameTimeoutMs: 300 }, async (server, opened) => {
    const client = await Cs544TestClient.loggedIn(server.listeners.get("cs544")!.port, "ann");
    opened.push(client);
    await client.write('{"version": 1.0, "command": "MSSG", "payl');
    const [farewell] = await client.untilClosed();
    assert.equal(farewell.code, "330");
    assert.match(
      String(farewell.payload),
      /^Connection closed by the server: frame timeout: a frame was not complete after 0 s$/,
    );
  });
});

Deno.test("a flood of lines is answered in order and rate limited; the room gets only what was allowed", async () => {
  await withServer({
    floodLimits: { ...DEFAULT_FLOOD_LIMITS, messages: { perSecond: NEVER, burst: 5 } },
  }, async (server, opened) => {
    const bob = await inLobby(server, "bob");
    const ann = await inLobby(server, "ann");
    opened.push(bob, ann);
    await bob.next();
    const lines = Array.from({ length: 300 }, (_, i) =>
      JSON.stringify({
        version: 1.0,
        command: "MSSG",
        channel: "DC",
        parameters: { username: "ann", chat_name: "lobby" },
        payload: `(ann) flood ${i}`,
      }) + "\n").join("");
    await ann.write(lines);
    for (let i = 0; i < 295; i++) {
      assert.match(String((await ann.next()).payload), /^Your message was not sent: too many/);
    }
    for (let i = 0; i < 5; i++) assert.equal((await bob.next()).payload, `(ann) flood ${i}`);
    assert.equal(await bob.within(100), null, "nothing beyond the burst");
    await ann.send("REDY");
    assert.equal((await ann.next()).payload, "Ready", "the flooder is still served, in order");
  });
});

Deno.test("a CS 544 client that never reads is dropped at --send-queue-bytes; the room is told and goes on", async () => {
  await withServer({
    sendQueueBytes: 256 * 1024,
    floodLimits: NO_FLOOD_LIMITS,
    maxMessageChars: 64 * 1024,
  }, async (server, opened) => {
    const sleeper = await inLobby(server, "carol");
    opened.push(sleeper);
    sleeper.pause();
    const watcher = await inLobby(server, "bob");
    opened.push(watcher);
    const flooder = await online(server.addr.port, "ann", { room: "lobby" });
    const chunk = "x".repeat(32 * 1024);
    let left = null;
    for (let i = 0; i < 2_000 && !left; i++) {
      assert.equal((await flooder.request("SEND_MSG", {}, chunk)).params.Status, "OK");
      while (!left) {
        const response = await watcher.within(i % 50 === 0 ? 20 : 0);
        if (!response) break;
        if (response.code === "190") left = response;
      }
    }
    assert.deepEqual(left, {
      code: "190",
      channel: "CC",
      parameters: { username: "carol" },
      payload: "carol has left the chat room",
    });
    assert.equal((await flooder.request("SEND_MSG", {}, "after")).params.Status, "OK");
    let last;
    do last = await watcher.next(); while (last.payload !== "(ann) after");
    await flooder.close();
  });
});

Deno.test("connections over --max-connections-per-ip get a 330 saying why, then close", async () => {
  await withServer({ maxConnectionsPerAddress: 2 }, async (server, opened) => {
    const port = server.listeners.get("cs544")!.port;
    opened.push(await Cs544TestClient.loggedIn(port, "ann"));
    const claptrap = await RawConnection.open(server.addr.port);
    const refused = await Cs544TestClient.open(port);
    opened.push(refused);
    const [refusal] = await refused.untilClosed();
    assert.equal(refusal.code, "330");
    assert.match(String(refusal.payload), /^Connection refused: .*127\.0\.0\.1/);
    await claptrap.close();
  });
});

Deno.test("an anonymous CS 544 connection is closed at the login timeout; a silent logged-in one stays", async () => {
  await withServer({ loginTimeoutMs: 300, idleTimeoutMs: 300 }, async (server, opened) => {
    const port = server.listeners.get("cs544")!.port;
    const silent = await Cs544TestClient.loggedIn(port, "bob");
    const anonymous = await Cs544TestClient.open(port);
    const claptrap = await online(server.addr.port, "carol");
    opened.push(silent, anonymous);
    const [farewell] = await anonymous.untilClosed();
    assert.equal(farewell.code, "330");
    assert.match(String(farewell.payload), /login timeout: not logged in after 0 s$/);
    // the Claptrap connection's idle timeout passes: the CS 544 one has none
    await claptrap.untilClosed();
    await claptrap.close();
    await silent.send("REDY");
    assert.equal((await silent.next()).payload, "Ready");
  });
});
