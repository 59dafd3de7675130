import assert from "node:assert/strict";
import { online, testChat } from "./testing.ts";

Deno.test("a posted message reaches the other members once stored, not the poster", async () => {
  const { chat } = await testChat({ users: ["ann", "bob", "cy"], rooms: ["lobby"] });
  const [ann, bob, cy] = await Promise.all(["ann", "bob", "cy"].map((user) => online(chat, user)));
  for (const { session } of [ann, bob]) await chat.join(session, "lobby");
  ann.sink.take();
  const posted = chat.post(ann.session, "hello");
  assert.deepEqual(bob.sink.take(), [], "nothing before the store has it");
  const outcome = await posted;
  assert.equal(outcome.status, "OK");
  assert.deepEqual(bob.sink.take(), ["message ann: hello"]);
  assert.deepEqual(ann.sink.take(), [], "the poster has the answer instead");
  assert.deepEqual(cy.sink.take(), [], "nor anyone elsewhere");
  await chat.post(bob.session, "hi");
  const [event] = ann.sink.events;
  assert.deepEqual(event, {
    type: "message",
    place: { kind: "room", name: "lobby" },
    id: (outcome as { id: number }).id + 1,
    seq: 0,
    from: "bob",
    time: event.time,
    text: "hi",
    mentions: [],
  });
});

Deno.test("a member who comes in while a message is being stored does not get it", async () => {
  const { chat } = await testChat({ users: ["ann", "bob"], rooms: ["lobby"] });
  const [ann, bob] = await Promise.all([online(chat, "ann"), online(chat, "bob")]);
  await chat.join(ann.session, "lobby");
  const posted = chat.post(ann.session, "before you came");
  const joined = chat.join(bob.session, "lobby");
  await Promise.all([posted, joined]);
  await chat.post(ann.session, "after");
  assert.deepEqual(bob.sink.take(), ["message ann: after"]);
});

Deno.test("messages are refused when empty, too long or holding control characters", async () => {
  const { chat } = await testChat({ users: ["ann"], rooms: ["lobby"], maxMessageChars: 5 });
  const { session } = await online(chat, "ann");
  assert.deepEqual(chat.post(session, "hi"), { status: "NOT_IN_ROOM" });
  await chat.join(session, "lobby");
  assert.deepEqual(chat.post(session, ""), { status: "BAD_REQUEST", reason: "empty message" });
  assert.deepEqual(chat.post(session, "hello!"), {
    status: "BAD_REQUEST",
    reason: "message is longer than 5 characters",
  });
  assert.deepEqual(chat.post(session, "\u001b[2J"), {
    status: "BAD_REQUEST",
    reason: "message contains the control character U+001B",
  });
});

Deno.test("a poller reads what it has not read, and how many it missed", async () => {
  const { chat } = await testChat({
    users: ["ann", "bob"],
    rooms: ["lobby"],
    pollLog: { messages: 3, chars: 1000 },
  });
  const ann = await online(chat, "ann");
  const bob = await online(chat, "bob", { push: false });
  for (const { session } of [ann, bob]) await chat.join(session, "lobby");
  assert.equal((await chat.receive(bob.session, 1000)).status, "NO_NEW_MSG");
  for (let i = 1; i <= 5; i++) await chat.post(ann.session, `m${i}`);
  const unread = await chat.receive(bob.session, 1000);
  assert.deepEqual(unread.messages.map((m) => m.content), ["m3", "m4", "m5"]);
  assert.equal(unread.missed, 2);
  assert.equal((await chat.receive(bob.session, 1000)).status, "NO_NEW_MSG");
  assert.equal((await chat.receive(ann.session, 1000)).status, "NO_NEW_MSG", "push: none kept");
});

Deno.test("history reads the current room's stored messages, a peer chat's only since coming in", async () => {
  const { chat } = await testChat({ users: ["ann", "bob", "cy"], rooms: ["lobby"] });
  const [ann, bob, cy] = await Promise.all(["ann", "bob", "cy"].map((user) => online(chat, user)));
  assert.equal((await chat.history(ann.session, { limit: 10 })).status, "NOT_IN_ROOM");
  await chat.join(ann.session, "lobby");
  await chat.post(ann.session, "one");
  await chat.post(ann.session, "two");
  const page = await chat.history(ann.session, { limit: 1 });
  assert.deepEqual([page.room, page.messages.map((m) => m.content), page.more], [
    "lobby",
    ["two"],
    true,
  ]);
  await chat.exitRoom(ann.session);
  await chat.peerConnect(ann.session, "bob");
  await chat.post(ann.session, "just us");
  const asked = await chat.peerConnect(cy.session, "ann");
  assert.equal(asked.status, "INVITED");
  await chat.peerAccept(bob.session, "cy");
  await chat.post(bob.session, "welcome");
  const seen = await chat.history(cy.session, { limit: 10 });
  assert.deepEqual(seen.messages.map((m) => m.content), ["welcome"]);
});

Deno.test("2.1: unread and mentions count after the read position, shared by devices", async () => {
  const { chat } = await testChat({ users: ["ann", "Bob Lee"], rooms: ["lobby", "garden"] });
  const phone = await online(chat, "ann", { v21: true });
  const laptop = await online(chat, "ann", { v21: true });
  const bob = await online(chat, "Bob Lee", { v21: true });
  for (const room of ["lobby", "garden"]) {
    await chat.join(phone.session, room);
    await chat.join(bob.session, room);
  }
  const rows = async () =>
    (await chat.roomRows(laptop.session, null, 10))!.rooms.map((r) =>
      `${r.name} ${r.members} ${r.joined} ${r.unread} ${r.mentions}`
    );
  assert.deepEqual(await rows(), ["lobby 2 true 0 0", "garden 2 true 0 0"]);
  await chat.post(bob.session, "hello", "lobby");
  const posted = await chat.post(bob.session, "@ANN look", "lobby");
  await chat.post(bob.session, "@ann @bob lee in the garden", "garden");
  const [event] = phone.sink.events.splice(0).filter((e) => e.type === "message");
  assert.deepEqual(event.type === "message" && event.mentions, []);
  assert.deepEqual(await rows(), ["lobby 2 true 2 1", "garden 2 true 1 1"]);
  laptop.sink.take();
  const id = (posted as { id: number }).id;
  assert.equal((await chat.markRead(phone.session, { room: "lobby" }, id)).status, "OK");
  assert.deepEqual(laptop.sink.take(), [`read lobby ${id}`], "the other device is told");
  assert.deepEqual(await rows(), ["lobby 2 true 0 0", "garden 2 true 1 1"]);
  await chat.post(laptop.session, "I read it all", "garden");
  assert.deepEqual(await rows(), ["lobby 2 true 0 0", "garden 2 true 0 0"], "posting reads");
  assert.equal((await chat.markRead(phone.session, { room: "nowhere" }, 1)).status, "NOT_IN_ROOM");
  assert.equal((await chat.markRead(phone.session, {}, id + 100)).status, "BAD_REQUEST");
});

Deno.test("2.1: messages carry whom they mention among those who belong", async () => {
  const { chat } = await testChat({ users: ["ann", "bob", "cy"], rooms: ["lobby"] });
  const ann = await online(chat, "ann", { v21: true });
  const bob = await online(chat, "bob", { v21: true });
  await online(chat, "cy");
  for (const { session } of [ann, bob]) await chat.join(session, "lobby");
  ann.sink.take();
  await chat.post(bob.session, "@ann and @cy, not @bob");
  const [event] = ann.sink.events;
  assert.deepEqual(event.type === "message" && event.mentions, ["ann"]);
});

Deno.test("2.1: direct conversations count unread and mentions too", async () => {
  const { chat } = await testChat({ users: ["ann", "bob"] });
  const ann = await online(chat, "ann", { v21: true });
  const bob = await online(chat, "bob", { v21: true });
  const other = await online(chat, "bob", { v21: true });
  await chat.direct(ann.session, "bob", "hi");
  const sent = await chat.direct(ann.session, "bob", "@bob are you there");
  assert.deepEqual(other.sink.take(), ["direct ann: hi", "direct ann: @bob are you there"]);
  assert.deepEqual(await chat.directRows(bob.session), [
    { name: "ann", members: 2, unread: 2, mentions: 1 },
  ]);
  assert.deepEqual(await chat.directRows(ann.session), [
    { name: "bob", members: 2, unread: 0, mentions: 0 },
  ]);
  await chat.markRead(bob.session, { withUser: "ann" }, sent.id!);
  assert.deepEqual(other.sink.take(), [`read ann ${sent.id}`]);
  assert.deepEqual((await chat.directRows(bob.session))[0].unread, 0);
});
