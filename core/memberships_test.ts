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

Deno.test("2.1: joining adds a room beside the others and makes it current", async () => {
  const { chat } = await testChat({ users: ["ann", "bob"], rooms: ["lobby", "garden"] });
  const ann = await online(chat, "ann", { v21: true });
  const bob = await online(chat, "bob");
  await chat.join(bob.session, "lobby");
  await chat.join(ann.session, "lobby");
  await chat.join(ann.session, "garden");
  assert.deepEqual([...ann.session.memberships.keys()].map((room) => room.name), [
    "lobby",
    "garden",
  ]);
  assert.equal(ann.session.room?.name, "garden");
  assert.deepEqual(bob.sink.take(), ["joined ann"], "not left: ann is in both");
  assert.deepEqual(await chat.join(ann.session, "lobby"), { status: "OK" }, "a switch");
  assert.equal(ann.session.room?.name, "lobby");
  assert.deepEqual(bob.sink.take(), []);
  assert.equal((await chat.post(ann.session, "to the garden", "garden")).status, "OK");
  assert.deepEqual(bob.sink.take(), [], "bob is not in the garden");
  assert.equal(await chat.exitRoom(ann.session, "garden"), "OK");
  assert.deepEqual(chat.members(ann.session, "garden"), null);
  assert.equal(await chat.exitRoom(ann.session, "garden"), "NOT_IN_ROOM");
});

Deno.test("2.1: memberships last from one session to the next, apart from presence", async () => {
  const { chat, store } = await testChat({ users: ["ann", "bob"], rooms: ["lobby", "garden"] });
  const first = await online(chat, "ann", { v21: true });
  for (const room of ["lobby", "garden"]) await chat.join(first.session, room);
  const bob = await online(chat, "bob", { v21: true });
  await chat.join(bob.session, "lobby");
  bob.sink.take();
  assert.equal(await chat.logout(first.session), "OK");
  assert.deepEqual(bob.sink.take(), [], "going offline is no leaving");
  assert.deepEqual(chat.memberRows(bob.session), [
    { name: "ann", online: false },
    { name: "bob", online: true },
  ]);
  const again = await online(chat, "ann", { v21: true });
  assert.deepEqual([...again.session.memberships.keys()].map((room) => room.name), [
    "lobby",
    "garden",
  ]);
  assert.deepEqual(bob.sink.take(), []);
  await chat.exitRoom(again.session, "lobby");
  assert.deepEqual(bob.sink.take(), ["left ann (left)"]);
  const belongings = (await store.load()).belongings.map((b) => `${b.user} ${b.room}`);
  assert.deepEqual(belongings.sort(), ["ann garden", "bob lobby"]);
});

Deno.test("2.1: a chat started again knows who belongs where", async () => {
  const { chat, store } = await testChat({ users: ["ann"], rooms: ["lobby", "garden"] });
  const ann = await online(chat, "ann", { v21: true });
  await chat.join(ann.session, "garden");
  const { chat: restarted } = await testChat({ store, state: await store.load() });
  const again = await online(restarted, "ann", { v21: true });
  assert.equal(again.session.room?.name, "garden");
});

Deno.test("2.1: a kick or ban ends belonging, online or not", async () => {
  const { chat, store } = await testChat({ users: ["ann", "bob"], rooms: [] });
  const ann = await online(chat, "ann", { v21: true });
  await chat.createRoom(ann.session, "den");
  await chat.join(ann.session, "den");
  const bob = await online(chat, "bob", { v21: true });
  await chat.join(bob.session, "den");
  await chat.logout(bob.session);
  ann.sink.take();
  assert.equal((await chat.moderate(ann.session, "kick", "bob", {})).status, "OK");
  assert.deepEqual(ann.sink.take(), ["left bob (kicked)"]);
  assert.deepEqual((await store.load()).belongings.map((b) => b.user), ["ann"]);
  assert.equal((await chat.moderate(ann.session, "kick", "bob", {})).status, "NO_SUCH_USER");
});
