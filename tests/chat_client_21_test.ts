/**
 * The client library in protocol 2.1 against a real server on 127.0.0.1:
 * rooms side by side with unread and mention counts, read positions shared
 * by devices, and sign-in tokens.
 */

import assert from "node:assert/strict";
import { ChatClient, ChatError, type ChatEvent, tcp } from "../mod.ts";
import { ACCOUNTS, startTestServer, withTimeout } from "./helpers.ts";

/** The next event of a kind, skipping others, within a generous bound. */
async function nextOf(events: AsyncGenerator<ChatEvent>, type: ChatEvent["type"]) {
  while (true) {
    const { value } = await withTimeout(events.next(), 5_000, `a ${type} event`);
    if (value?.type === type) return value;
  }
}

Deno.test("ChatClient in 2.1: rooms side by side, counts, read positions, tokens", async () => {
  const server = await startTestServer();
  const open = () => ChatClient.connect(tcp({ port: server.addr.port }), { v21: true });
  const phone = await open();
  const laptop = await open();
  const bob = await open();
  try {
    assert.equal((await phone.hello()).version, "2.1");
    const token = await phone.login("ann", ACCOUNTS.get("ann")!);
    assert.equal(typeof token, "string");
    await laptop.resume("ann", token!);
    await bob.login("bob", ACCOUNTS.get("bob")!);
    for (const room of ["lobby", "random"]) {
      await phone.join(room);
      await bob.join(room);
    }
    const laptopEvents = laptop.events();
    const sent = await bob.send("hey @ann", { room: "lobby" });
    const message = await nextOf(laptopEvents, "message");
    assert.deepEqual(message.type === "message" && [message.room, message.mentions], [
      "lobby",
      ["ann"],
    ]);
    const states = await laptop.roomStates();
    assert.deepEqual(states.slice(0, 2), [
      { name: "lobby", members: 2, joined: true, unread: 1, mentions: 1 },
      { name: "random", members: 2, joined: true, unread: 0, mentions: 0 },
    ]);
    assert.deepEqual(await laptop.members({ room: "random" }), ["ann", "bob"]);
    await phone.markRead(sent.id, { room: "lobby" });
    const read = await nextOf(laptopEvents, "read");
    assert.deepEqual(read, {
      type: "read",
      room: "lobby",
      kind: "room",
      id: sent.id,
      time: read.time,
    });
    assert.equal((await laptop.roomStates())[0].unread, 0);
    await bob.dm("ann", "psst");
    assert.deepEqual(await phone.directStates(), [
      { name: "bob", members: 2, unread: 1, mentions: 0 },
    ]);
    assert.deepEqual(await phone.peerChatStates(), []);
    await laptop.leave("random");
    assert.deepEqual((await phone.roomStates()).map((room) => room.joined), [true, false, false]);
    await phone.logout({ everywhere: true });
    const stranger = await open();
    const refused = await stranger.resume("ann", token!).catch((error) => error);
    assert.ok(refused instanceof ChatError);
    assert.equal(refused.status, "AUTH_FAILED");
    await stranger.close();
  } finally {
    await Promise.all([phone.close(), laptop.close(), bob.close()]);
    await server.close();
  }
});

Deno.test("ChatClient in 2.1: history, rooms and directPartners read the 2.1 rows of any room", async () => {
  const server = await startTestServer();
  const open = () => ChatClient.connect(tcp({ port: server.addr.port }), { v21: true });
  const ann = await open();
  const bob = await open();
  try {
    await ann.login("ann", ACCOUNTS.get("ann")!);
    await bob.login("bob", ACCOUNTS.get("bob")!);
    await ann.join("lobby");
    await ann.join("random");
    await ann.send("in the lobby", { room: "lobby" });
    await bob.dm("ann", "hi");
    const page = await ann.history({ room: "lobby" });
    assert.deepEqual([page.room, page.messages.map((m) => m.content)], ["lobby", ["in the lobby"]]);
    assert.deepEqual((await ann.rooms()).slice(0, 2), [
      { name: "lobby", members: 1 },
      { name: "random", members: 1 },
    ]);
    assert.deepEqual(await ann.directPartners(), ["bob"]);
  } finally {
    await Promise.all([ann.close(), bob.close()]);
    await server.close();
  }
});
