/**
 * The client library over both of its transports, against a real server on
 * 127.0.0.1: Claptrap frames over TCP and JSON over a WebSocket give the
 * same results, and a server that breaks the protocol ends the connection
 * with a clear reason.
 */

import assert from "node:assert/strict";
import { ChatClient } from "../client/chat_client.ts";
import type { ChatEvent } from "../client/chat_event.ts";
import { tcp } from "../client/tcp_transport.ts";
import { ConnectionClosedError, type Transport } from "../client/transport.ts";
import { webSocket } from "../client/websocket_transport.ts";
import { encodeMessage } from "../protocol/message.ts";
import type { ServerHandle } from "../server/server.ts";
import { ACCOUNTS, withTimeout } from "./helpers.ts";
import { startWebTestServer } from "./web_helpers.ts";

function overWebSocket(server: ServerHandle): Promise<Transport> {
  return webSocket(`ws://127.0.0.1:${server.httpAddr!.port}/ws`);
}

async function logIn(transport: Promise<Transport>, user: string): Promise<ChatClient> {
  const client = await ChatClient.connect(transport);
  await client.login(user, ACCOUNTS.get(user)!);
  return client;
}

/** The next event of a type, skipping others. */
async function nextEvent<T extends ChatEvent["type"]>(
  events: AsyncIterator<ChatEvent>,
  type: T,
): Promise<Extract<ChatEvent, { type: T }>> {
  while (true) {
    const next = await withTimeout(events.next(), 5_000, `a ${type} event`);
    if (next.done) throw new Error(`the events ended before a ${type} event`);
    if (next.value.type === type) return next.value as Extract<ChatEvent, { type: T }>;
  }
}

Deno.test("ChatClient over a WebSocket says HELLO 2.0, answers pipelined requests in order and pushes typed events", async () => {
  const server = await startWebTestServer();
  const ann = await ChatClient.connect(overWebSocket(server));
  const hello = await ann.hello();
  assert.equal(hello.version, "2.0");
  assert.ok(hello.capabilities.includes("push"));
  await ann.login("ann", ACCOUNTS.get("ann")!);

  const [, first, second, page] = await Promise.all([
    ann.join("lobby"),
    ann.send("one"),
    ann.send("two\twith a tab"),
    ann.history({ limit: 2 }),
  ]);
  assert.ok(first.id < second.id);
  assert.deepEqual(page.messages.map((m) => [m.id, m.content]), [
    [first.id, "one"],
    [second.id, "two\twith a tab"],
  ]);

  const bob = await logIn(tcp({ port: server.addr.port }), "bob");
  await bob.join("lobby");
  const sent = await bob.send("from TCP");
  const events = ann.events();
  const joined = await nextEvent(events, "join");
  assert.deepEqual(joined, {
    type: "join",
    room: "lobby",
    kind: "room",
    user: "bob",
    time: joined.time,
  });
  assert.deepEqual(await nextEvent(events, "message"), {
    type: "message",
    room: "lobby",
    kind: "room",
    from: "bob",
    time: sent.time,
    id: sent.id,
    content: "from TCP",
  });

  assert.equal(await ann.close(), "closed by client");
  await assert.rejects(ann.ping(), (error) => {
    assert.ok(error instanceof ConnectionClosedError);
    assert.equal(error.message, "connection closed: closed by client");
    return true;
  });
  await bob.close();
  await server.close();
});

Deno.test("ChatClient reads every row format the same over TCP and over a WebSocket", async () => {
  const server = await startWebTestServer();
  const ann = await logIn(tcp({ port: server.addr.port }), "ann");
  await ann.join("lobby");
  for (const text of ["a [needle] with\ttab", "back\\slash\nand a line", "no match", "needle 2"]) {
    await ann.send(text);
  }
  const bobFirst = await logIn(tcp({ port: server.addr.port }), "bob");
  await bobFirst.dm("ann", "a needle for ann\n");
  await bobFirst.logout();
  await bobFirst.close();

  const readAll = async (transport: Promise<Transport>) => {
    const bob = await logIn(transport, "bob");
    await bob.join("lobby");
    const results = {
      rooms: await bob.rooms(),
      members: await bob.members(),
      who: await bob.who(),
      history: await bob.history({ limit: 3 }),
      older: await bob.history({ before: (await bob.history({ limit: 3 })).messages[0].id }),
      direct: await bob.history({ with: "ann" }),
      partners: await bob.directPartners(),
      search: await bob.search("needle", { limit: 2 }),
    };
    await bob.logout();
    await bob.close();
    return results;
  };
  const overTcp = await readAll(tcp({ port: server.addr.port }));
  const overWs = await readAll(overWebSocket(server));
  assert.deepEqual(overWs, overTcp);
  assert.deepEqual(overTcp.history.messages.map((m) => m.content), [
    "back\\slash\nand a line",
    "no match",
    "needle 2",
  ]);
  assert.deepEqual(overTcp.partners, ["ann"]);
  assert.equal(overTcp.direct.messages[0].content, "a needle for ann\n");
  assert.deepEqual(overTcp.search.results.map((r) => r.snippet), [
    "a [needle] for ann\n",
    "[needle] 2",
  ]);
  assert.ok(overTcp.search.next !== null, "a third match is on the next page");
  await ann.close();
  await server.close();
});

Deno.test("ChatClient over a WebSocket ends with the server's reason when the server shuts down", async () => {
  const server = await startWebTestServer();
  const ann = await logIn(overWebSocket(server), "ann");
  await server.close();
  assert.equal(await withTimeout(ann.closed, 5_000, "the end"), "server shutting down");
  assert.deepEqual(await nextEvent(ann.events(), "close"), {
    type: "close",
    reason: "server shutting down",
  });
});

/**
 * A WebSocket server on a free port of 127.0.0.1 that answers the first
 * message it gets with `replies`, as they are.
 */
function fakeWebSocketServer(replies: string[]) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.onmessage = () => {
      for (const reply of replies) socket.send(reply);
    };
    return response;
  });
  return { url: `ws://127.0.0.1:${server.addr.port}/ws`, close: () => server.shutdown() };
}

/** A TCP server on a free port of 127.0.0.1 that answers the first bytes it gets with `replies`. */
function fakeTcpServer(replies: Uint8Array[]) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    const conn = await listener.accept();
    await conn.read(new Uint8Array(1024));
    for (const reply of replies) await conn.write(reply);
    await conn.read(new Uint8Array(1024)).catch(() => null); // until the client closes
    conn.close();
  })();
  return {
    port: listener.addr.port,
    close: async () => {
      listener.close();
      await served;
    },
  };
}

Deno.test("a WebSocket message the client cannot read ends the connection with a protocol error", async () => {
  const fake = fakeWebSocketServer(["{not json"]);
  const client = await ChatClient.connect(webSocket(fake.url));
  const reason = await withTimeout(client.closed, 5_000, "the end");
  assert.match(reason, /^protocol error: /);
  await assert.rejects(client.hello(), ConnectionClosedError);
  await fake.close();
});

Deno.test("a response with no request pending ends the connection with a protocol error, over either transport", async () => {
  const hello = { method: "RESP_HELLO", params: { Status: "OK", Version: "2.0" } };
  const ws = fakeWebSocketServer([JSON.stringify(hello), JSON.stringify(hello)]);
  const tcpServer = fakeTcpServer([encodeMessage(hello), encodeMessage(hello)]);
  for (const transport of [webSocket(ws.url), tcp({ port: tcpServer.port })]) {
    const client = await ChatClient.connect(transport);
    assert.equal(
      await withTimeout(client.closed, 5_000, "the end"),
      "protocol error: unexpected RESP_HELLO with no request pending",
    );
  }
  await ws.close();
  await tcpServer.close();
});
