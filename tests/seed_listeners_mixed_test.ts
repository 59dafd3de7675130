/**
 * One chat, many doors: a CS168 guest, a Multi-Client Chatroom guest, a
 * CS 544 user, a Claptrap user over TCP and a web user over WebSocket in
 * one room, each seeing everyone else's messages in its own format, in
 * order.
 */

import assert from "node:assert/strict";
import { ChatClient } from "../client/chat_client.ts";
import type { ChatEvent } from "../client/chat_event.ts";
import { tcp } from "../client/tcp_transport.ts";
import { webSocket } from "../client/websocket_transport.ts";
import { ChatroomClient } from "./chatroom_client.ts";
import { Cs168Client } from "./cs168_client.ts";
import { Cs544TestClient } from "./cs544_client.ts";
import { ACCOUNTS, withTimeout } from "./helpers.ts";
import { startWebTestServer } from "./web_helpers.ts";

/** The messages of a ChatClient's events, as `from: text`, until `count` have come. */
async function messagesOf(events: AsyncIterator<ChatEvent>, count: number): Promise<string[]> {
  const seen: string[] = [];
  while (seen.length < count) {
    const next = await withTimeout(events.next(), 10_000, "a message event");
    if (next.done) throw new Error("the events ended");
    if (next.value.type === "message") seen.push(`${next.value.from}: ${next.value.content}`);
  }
  return seen;
}

Deno.test("a CS168, a Chatroom, a CS 544, a Claptrap and a web user in one room see each other, in order", async () => {
  const server = await startWebTestServer({ chatroomPort: 0, cs168Port: 0, cs544Port: 0 });
  const cs168 = await Cs168Client.connect(server.listeners.get("cs168")!.port, "Alice");
  await cs168.line("/join lobby");
  const room = (await ChatroomClient.join(server.listeners.get("chatroom")!.port, "kay")).client;
  const ann = await ChatClient.connect(tcp({ port: server.addr.port }));
  await ann.login("ann", ACCOUNTS.get("ann")!);
  await ann.join("lobby");
  const bob = await ChatClient.connect(webSocket(`ws://127.0.0.1:${server.httpAddr!.port}/ws`));
  await bob.login("bob", ACCOUNTS.get("bob")!);
  await bob.join("lobby");
  await room.waitFor("[*] bob entered.");
  const carol = await Cs544TestClient.loggedIn(server.listeners.get("cs544")!.port, "carol");
  await carol.send("JOIN", { chat_name: "lobby" });
  assert.equal((await carol.next()).code, "180");
  await room.waitFor("[*] carol entered.");
  const annEvents = ann.events();
  const bobEvents = bob.events();

  // each says two things in turn, waiting until everyone else has heard the first
  await cs168.line("one from cs168");
  await room.waitFor("Alice > one from cs168");
  await room.send("one from the chatroom");
  await cs168.waitFor("[kay] one from the chatroom");
  await ann.send("one from tcp");
  await cs168.waitFor("[ann] one from tcp");
  await bob.send("one from the web");
  await cs168.waitFor("[bob] one from the web");
  await carol.say("one from cs544");
  await cs168.waitFor("[carol] one from cs544");
  await room.waitFor("carol > one from cs544");

  assert.deepEqual(await messagesOf(annEvents, 4), [
    "Alice: one from cs168",
    "kay: one from the chatroom",
    "bob: one from the web",
    "carol: one from cs544",
  ]);
  assert.deepEqual(await messagesOf(bobEvents, 4), [
    "Alice: one from cs168",
    "kay: one from the chatroom",
    "ann: one from tcp",
    "carol: one from cs544",
  ]);
  assert.deepEqual(
    cs168.frames().filter((frame) => frame.startsWith("[")),
    [
      "[kay] one from the chatroom",
      "[ann] one from tcp",
      "[bob] one from the web",
      "[carol] one from cs544",
    ],
  );
  assert.deepEqual(room.messages().filter((m) => m.includes(" > ")), [
    "Alice > one from cs168",
    "ann > one from tcp",
    "bob > one from the web",
    "carol > one from cs544",
  ]);
  const carolSaw: string[] = [];
  for (let i = 0; i < 4; i++) carolSaw.push((await carol.nextOf(["140"])).payload as string);
  assert.deepEqual(carolSaw, [
    "(Alice) one from cs168",
    "(kay) one from the chatroom",
    "(ann) one from tcp",
    "(bob) one from the web",
  ]);
  // the messages are the chat's: stored, and found by a search
  const found = await ann.search("one from");
  assert.equal(found.results.length, 5);

  await ann.close();
  await bob.close();
  cs168.close();
  room.close();
  await carol.close();
  await server.close();
});
