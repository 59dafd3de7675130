/**
 * The CS 544 listener as its client meets it: over a network (a relay
 * delaying each direction by 20 ms), and directly over loopback, where
 * nothing may reach the client within 20 ms of its own request (its client
 * breaks on an answer within microseconds); and one chat with users of the
 * terminal's and the web page's protocols, each seeing the others'
 * messages in its own format, in order.
 */

import assert from "node:assert/strict";
import { ChatClient } from "../client/chat_client.ts";
import type { ChatEvent } from "../client/chat_event.ts";
import { tcp } from "../client/tcp_transport.ts";
import { webSocket } from "../client/websocket_transport.ts";
import { CS544_WRITE_DELAY_MS } from "../server/adapters/cs544/cs544_wire.ts";
import { Cs544TestClient } from "./cs544_client.ts";
import { DelayRelay } from "./delay_relay.ts";
import { ACCOUNTS, startTestServer, withTimeout } from "./helpers.ts";

Deno.test("nothing reaches a CS 544 client over loopback within 20 ms of its request, answers and events alike", async () => {
  const server = await startTestServer({ cs544Port: 0 });
  const port = server.listeners.get("cs544")!.port;
  const bob = await Cs544TestClient.loggedIn(port, "bob");
  const ann = await Cs544TestClient.loggedIn(port, "ann");
  for (const client of [ann, bob]) {
    await client.send("JOIN", { chat_name: "lobby" });
    await client.next();
  }
  await ann.next(); // bob's 180 came before ann's request: no hold on it
  const gaps: number[] = [];
  for (let i = 0; i < 5; i++) {
    const sent = await ann.send("REDY");
    gaps.push((await ann.nextReceived()).at - sent);
  }
  // bob's message lands just after ann's request: it waits out ann's hold too
  const sent = await ann.send("REDY");
  await bob.say("right after");
  const [first, second] = [await ann.nextReceived(), await ann.nextReceived()];
  assert.deepEqual([first.response.payload, second.response.payload], [
    "Ready",
    "(bob) right after",
  ]);
  gaps.push(second.at - sent);
  // the server writes at its own Date.now() plus the delay: at most 1 ms early by our clock
  for (const gap of gaps) assert.ok(gap >= CS544_WRITE_DELAY_MS - 1, `gaps ${gaps.join(", ")}`);
  await Promise.all([ann.close(), bob.close()]);
  await server.close();
});

Deno.test("a whole CS 544 session works through a relay that delays each direction by 20 ms", async () => {
  const server = await startTestServer({ cs544Port: 0 });
  const relay = new DelayRelay(server.listeners.get("cs544")!.port, 20);
  const alice = await Cs544TestClient.open(relay.port);
  assert.equal(await alice.auth("alice", "correct horse 42", "NWUA"), "110");
  const bob = await Cs544TestClient.loggedIn(relay.port, "bob");
  const carol = await Cs544TestClient.loggedIn(relay.port, "carol");
  await alice.send("CHAT", { chat_name: "room1" });
  assert.equal((await alice.next()).code, "170");
  await bob.send("LIST");
  const list = await bob.next();
  assert.equal(list.code, "130");
  assert.equal((list.payload as string[])[0], "room1", "occupied first");
  for (const client of [bob, carol]) {
    await client.send("JOIN", { chat_name: "room1" });
    assert.equal((await client.next()).code, "180");
  }
  assert.deepEqual((await alice.nextOf(["180"])).parameters, {
    username: "bob",
    chat_name: "room1",
  });
  await alice.say("hello");
  assert.equal((await bob.nextOf(["140"])).payload, "(alice) hello");
  assert.equal((await carol.nextOf(["140"])).payload, "(alice) hello");
  await alice.send("KICK", { kicked_user: "bob" });
  assert.equal((await alice.nextOf(["192"])).parameters.kicked_user, "bob");
  assert.equal((await bob.nextOf(["192"])).parameters.kicked_user, "bob");
  await alice.send("BANN", { banned_user: "carol" });
  assert.equal((await carol.nextOf(["191"])).parameters.banned_user, "carol");
  await carol.send("JOIN", { chat_name: "room1" });
  assert.equal((await carol.next()).payload, "You are banned from joining this group");
  await alice.send("LEVE", { chat_name: "room1" });
  assert.deepEqual((await alice.nextOf(["190"])).parameters, { username: "alice" });
  await Promise.all([alice.close(), bob.close(), carol.close()]);
  await relay.close();
  await server.close();
});

/** The next message event, skipping others. */
async function nextMessage(events: AsyncIterator<ChatEvent>): Promise<[string, string]> {
  while (true) {
    const next = await withTimeout(events.next(), 5_000, "a message event");
    if (next.done) throw new Error("the events ended");
    if (next.value.type === "message") return [next.value.from, next.value.content];
  }
}

Deno.test("a CS 544 user, a terminal user and a web user in one room each see the others' messages in their own format, in order", async () => {
  const server = await startTestServer({ cs544Port: 0, httpPort: 0 });
  const bob = await ChatClient.connect(tcp({ port: server.addr.port }));
  await bob.login("bob", ACCOUNTS.get("bob")!);
  await bob.join("lobby");
  const carol = await ChatClient.connect(webSocket(`ws://127.0.0.1:${server.httpAddr!.port}/ws`));
  await carol.login("carol", ACCOUNTS.get("carol")!);
  await carol.join("lobby");
  const ann = await Cs544TestClient.loggedIn(server.listeners.get("cs544")!.port, "ann");
  await ann.send("JOIN", { chat_name: "lobby" });
  assert.equal((await ann.next()).code, "180");
  const bobEvents = bob.events();
  const carolEvents = carol.events();

  await ann.say("one from cs544");
  await bob.send("two from the terminal");
  await carol.send("three from the web");
  await ann.say("four from cs544");
  await bob.send("five from the terminal");

  const carolSaw = [];
  for (let i = 0; i < 4; i++) carolSaw.push(await nextMessage(carolEvents));
  // the server's order, which each connection's own messages keep
  const history = await carol.history({ limit: 5 });
  const order = history.messages.map((m) => [m.from, m.content]);
  const own = (user: string) => order.filter(([from]) => from === user).map(([, text]) => text);
  assert.deepEqual(own("ann"), ["one from cs544", "four from cs544"]);
  assert.deepEqual(own("bob"), ["two from the terminal", "five from the terminal"]);
  assert.deepEqual(own("carol"), ["three from the web"]);
  const others = (me: string) => order.filter(([from]) => from !== me);

  const annSaw = [];
  for (let i = 0; i < 3; i++) annSaw.push((await ann.nextOf(["140"])).payload);
  assert.deepEqual(annSaw, others("ann").map(([from, text]) => `(${from}) ${text}`));
  const bobSaw = [];
  for (let i = 0; i < 3; i++) bobSaw.push(await nextMessage(bobEvents));
  assert.deepEqual(bobSaw, others("bob"));
  assert.deepEqual(carolSaw, others("carol"));
  await ann.close();
  await Promise.all([bob.close(), carol.close()]);
  await server.close();
});
