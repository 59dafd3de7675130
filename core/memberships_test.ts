import assert from "node:assert/strict";
import { online, testChat } from "./testing.ts";

Deno.test("coming into a room tells its members; moving on leaves the old one", async () => {
  const { chat } = await testChat({ users: ["ann", "bob"], rooms: ["lobby", "garden"] });
  const [ann, bob] = await Promise.all([online(chat, "ann"), online(chat, "bob")]);
  await chat.join(ann.session, "lobby");
  await chat.join(bob.session, "lobby");
  assert.deepEqual(ann.sink.take(), ["joined bob"]);
  assert.deepEqual(bob.sink.take(), [], "not told of oneself");
  assert.deepEqual(chat.members(ann.session), ["ann", "bob"]);
  await chat.join(bob.session, "garden");
  assert.deepEqual(ann.sink.take(), ["left bob (moved)"]);
  assert.deepEqual([...bob.session.memberships.keys()].map((room) => room.name), ["garden"]);
  assert.equal(bob.session.room?.name, "garden");
  assert.deepEqual(await chat.join(bob.session, "garden"), { status: "OK" }, "already there");
  assert.deepEqual(bob.sink.take(), []);
});

Deno.test("leaving, logging out and dropping out each give their cause", async () => {
  const { chat } = await testChat({ users: ["ann", "bob", "cy", "dee"], rooms: ["lobby"] });
  const all = await Promise.all(["ann", "bob", "cy", "dee"].map((user) => online(chat, user)));
  for (const { session } of all) await chat.join(session, "lobby");
  const [ann, bob, cy, dee] = all;
  ann.sink.take();
  assert.equal(chat.exitRoom(bob.session), "OK");
  assert.equal(chat.exitRoom(bob.session), "NOT_IN_ROOM");
  assert.equal(chat.logout(cy.session), "OK");
  chat.disconnect(dee.session, "idle timeout");
  assert.deepEqual(ann.sink.take(), [
    "left bob (left)",
    "left cy (logged-out)",
    "left dee (disconnected)",
  ]);
  assert.deepEqual(chat.members(ann.session), ["ann"]);
  assert.equal(chat.onlineCount, 2);
});

Deno.test("a peer chat left with one member ends for them", async () => {
  const { chat } = await testChat({ users: ["ann", "bob"] });
  const [ann, bob] = await Promise.all([online(chat, "ann"), online(chat, "bob")]);
  const connected = await chat.peerConnect(ann.session, "bob");
  assert.equal(connected.status, "OK");
  assert.deepEqual(bob.sink.take(), ["joined ann"], "the peer is in first");
  assert.deepEqual(ann.sink.take(), []);
  assert.equal(chat.peerBye(ann.session), "OK");
  assert.deepEqual(bob.sink.take(), ["left ann (left)", "peer-chat-ended"]);
  assert.equal(bob.session.room, null);
  assert.equal(chat.peerBye(bob.session), "NOT_IN_GROUP");
});
