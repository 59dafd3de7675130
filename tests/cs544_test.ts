/**
 * The CS 544 Chat Service Protocol listener over real sockets on
 * 127.0.0.1, with a client written from the protocol's description: every
 * request and its refusals, the routing the original client depends on
 * (every answer to the requester alone, with its own spelling; one code
 * the client waits for to every request it waits on), and a whole session
 * through a relay that delays each direction by 20 ms, as a real network.
 */

import assert from "node:assert/strict";
import { Cs544Code } from "../protocol/cs544_pdu.ts";
import type { ServerHandle, ServerOptions } from "../server/server.ts";
import { Cs544TestClient } from "./cs544_client.ts";
import { DelayRelay } from "./delay_relay.ts";
import { inRoom, ROOMS, startTestServer } from "./helpers.ts";

function startCs544Server(options: ServerOptions = {}): Promise<ServerHandle> {
  return startTestServer({ cs544Port: 0, ...options });
}

/** Runs `test` with a CS 544 server, closing the clients it opens and the server after. */
async function withServer(
  options: ServerOptions,
  test: (server: ServerHandle, port: number, open: Opener) => Promise<void>,
): Promise<void> {
  const server = await startCs544Server(options);
  const clients: Cs544TestClient[] = [];
  const open: Opener = {
    anonymous: async (port = server.cs544Addr!.port) => {
      const client = await Cs544TestClient.open(port);
      clients.push(client);
      return client;
    },
    as: async (user, port = server.cs544Addr!.port) => {
      const client = await Cs544TestClient.loggedIn(port, user);
      clients.push(client);
      return client;
    },
  };
  try {
    await test(server, server.cs544Addr!.port, open);
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await server.close();
  }
}

interface Opener {
  anonymous(port?: number): Promise<Cs544TestClient>;
  as(user: string, port?: number): Promise<Cs544TestClient>;
}

/** A client in `group` (joined with JOIN), its 180 taken. */
async function inGroup(open: Opener, user: string, group: string): Promise<Cs544TestClient> {
  const client = await open.as(user);
  await client.send("JOIN", { chat_name: group });
  const joined = await client.next();
  assert.equal(joined.code, Cs544Code.JOINED, `${user} joining ${group}`);
  return client;
}

Deno.test("the CS 544 listener is off unless asked for, and logged where it listens when it is", async () => {
  const lines: string[] = [];
  const plain = await startTestServer();
  assert.equal(plain.cs544Addr, null);
  await plain.close();
  const server = await startCs544Server({ log: (line) => lines.push(line) });
  assert.ok(server.cs544Addr!.port > 0);
  assert.ok(
    lines.includes(`listening cs544=127.0.0.1:${server.cs544Addr!.port}`),
    lines.join("\n"),
  );
  await server.close();
});

Deno.test("AUTH logs in with 110; a wrong password gets a 200 alone, in the client's own words", async () => {
  await withServer({}, async (_server, _port, open) => {
    const client = await open.anonymous();
    await client.send("AUTH", { username: "ann", password: "wrong" });
    assert.deepEqual(await client.next(), {
      code: "200",
      channel: "CC",
      parameters: {},
      payload: "",
    });
    await client.send("AUTH", { username: "ann", password: "ann-pw" });
    assert.deepEqual(await client.next(), {
      code: "110",
      channel: "CC",
      parameters: { username: "ann" },
      payload: "",
    });
    assert.equal(await client.within(100), null, "nothing else");
  });
});
