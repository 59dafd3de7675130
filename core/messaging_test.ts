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
