import { Moderation, type ModerationOptions } from "./moderation.ts";
import type { Rooms } from "./rooms.ts";
import assert from "node:assert/strict";
import { online, testChat, testCluster } from "./testing.ts";

Deno.test("the owner kicks: the room hears why, the user that they were", async () => {
  const { chat } = await testChat({ users: ["ann", "bob", "cy"] });
  const [ann, bob, cy] = await Promise.all(["ann", "bob", "cy"].map((user) => online(chat, user)));
  assert.equal((await chat.createRoom(ann.session, "den")).status, "OK");
  for (const { session } of [ann, bob, cy]) await chat.join(session, "den");
  ann.sink.take();
  bob.sink.take();
  assert.deepEqual(await chat.moderate(bob.session, "kick", "cy", {}), {
    status: "NOT_ALLOWED",
    reason: "only the room's owner and admins may",
  });
  assert.deepEqual(await chat.moderate(ann.session, "kick", "cy", { reason: "spam" }), {
    status: "OK",
  });
  const left = ann.sink.events.pop()!;
  assert.deepEqual(left, {
    type: "left",
    place: { kind: "room", name: "den" },
    user: "cy",
    time: left.time,
    cause: { kind: "kicked", by: "ann", reason: "spam" },
  });
  assert.deepEqual(cy.sink.take().at(-1), "removed by ann");
  assert.equal(cy.session.room, null);
  assert.deepEqual(await chat.moderate(ann.session, "kick", "cy", {}), { status: "NO_SUCH_USER" });
  assert.deepEqual((await chat.join(cy.session, "den")).status, "OK", "a kick is no ban");
});

Deno.test("a ban removes, keeps out until lifted, and needs an account", async () => {
  const { chat } = await testChat({ users: ["ann", "bob"], admins: new Set(["ann"]) });
  const [ann, bob] = await Promise.all([online(chat, "ann"), online(chat, "bob")]);
  await chat.createRoom(bob.session, "bob's");
  await chat.join(bob.session, "bob's");
  assert.deepEqual(await chat.moderate(ann.session, "ban", "bob", { room: "bob's" }), {
    status: "OK",
  });
  assert.deepEqual(bob.sink.take().at(-1), "removed by ann, banned");
  assert.deepEqual(await chat.join(bob.session, "bob's"), {
    status: "BANNED",
    reason: "banned by ann",
  });
  assert.deepEqual(await chat.moderate(ann.session, "ban", "nobody", { room: "bob's" }), {
    status: "NO_SUCH_USER",
    reason: "no user has that name",
  });
  assert.deepEqual(await chat.moderate(ann.session, "unban", "bob", { room: "bob's" }), {
    status: "OK",
  });
  assert.deepEqual(await chat.moderate(ann.session, "unban", "bob", { room: "bob's" }), {
    status: "NO_SUCH_USER",
  });
  assert.equal((await chat.join(bob.session, "bob's")).status, "OK");
});

Deno.test("a moderator's reason is bounded and has no control characters", async () => {
  const { chat } = await testChat({ users: ["ann"] });
  const { session } = await online(chat, "ann");
  await chat.createRoom(session, "den");
  await chat.join(session, "den");
  assert.deepEqual(await chat.moderate(session, "kick", "x", { reason: "a".repeat(201) }), {
    status: "BAD_REQUEST",
    reason: "Reason is longer than 200 characters",
  });
  assert.deepEqual(await chat.moderate(session, "kick", "x", { reason: "\u0007" }), {
    status: "BAD_REQUEST",
    reason: "Reason contains the control character U+0007",
  });
  assert.deepEqual(await chat.moderate(session, "ban", "ann", {}), {
    status: "NOT_ALLOWED",
    reason: "you cannot ban yourself",
  });
});

Deno.test("a ban on one server of a member whose joining has not reached it yet is told by the member's server, once", async () => {
  const { chats: [a, b], lag } = await testCluster(2, { users: ["ann", "bob", "cy"] });
  const settle = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));
  const ann = await online(a, "ann");
  const bob = await online(b, "bob");
  const cy = await online(b, "cy", { v21: true });
  assert.equal((await a.createRoom(ann.session, "den")).status, "OK");
  await a.join(ann.session, "den");
  await settle();
  lag(1, 100); // what b hands to a (cy's joining among it) arrives late
  await b.join(bob.session, "den");
  await b.join(cy.session, "den");
  for (const { sink } of [ann, bob, cy]) sink.take();
  assert.equal((await a.moderate(ann.session, "ban", "cy", { room: "den" })).status, "OK");
  await settle(300);
  const leaving = (events: string[]) => events.filter((event) => event.startsWith("left cy"));
  assert.equal(leaving(bob.sink.take()).length, 1, "the room on b hears it once");
  assert.equal(leaving(ann.sink.take()).length, 1, "and on a, once b's notes arrive");
  assert.equal(cy.session.room, null);
  assert.equal((await b.join(cy.session, "den")).status, "BANNED");
});

Deno.test("a ban of a 2.1 member in the room on two other servers, whose joining has not reached the banning one, is told to the room once", async () => {
  const { chats: [a, b, c], lag } = await testCluster(3, { users: ["ann", "bob", "cy", "dan"] });
  const settle = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));
  const ann = await online(a, "ann");
  const bob = await online(b, "bob");
  const dan = await online(c, "dan");
  const cyOnB = await online(b, "cy", { v21: true });
  const cyOnC = await online(c, "cy", { v21: true });
  assert.equal((await a.createRoom(ann.session, "den")).status, "OK");
  await a.join(ann.session, "den");
  await settle();
  await b.join(bob.session, "den");
  await c.join(dan.session, "den");
  await settle();
  lag(1, 100, 0); // what b hands to a (cy's joining among it) arrives late; c has it at once
  await b.join(cyOnB.session, "den");
  await settle();
  assert.equal(cyOnC.session.room?.name, "den", "cy's device on c came in with her");
  for (const { sink } of [ann, bob, dan, cyOnB, cyOnC]) sink.take();
  assert.equal((await a.moderate(ann.session, "ban", "cy", { room: "den" })).status, "OK");
  await settle(300);
  const leaving = (events: string[]) => events.filter((event) => event.startsWith("left cy"));
  assert.equal(leaving(ann.sink.take()).length, 1, "the room on a hears it once");
  assert.equal(leaving(bob.sink.take()).length, 1, "on b once");
  assert.equal(leaving(dan.sink.take()).length, 1, "on c once");
  for (const cy of [cyOnB, cyOnC]) {
    assert.deepEqual(cy.sink.take().filter((event) => event.startsWith("removed")), [
      "removed by ann, banned",
    ], "each of cy's devices hears it once");
    assert.equal(cy.session.room, null, "and is out of the room");
  }
  assert.equal((await c.join(cyOnC.session, "den")).status, "BANNED");
});

Deno.test("a 2.1 member banned on another server while their joining was on its way is not in the room at their next sign-in", async () => {
  const { chats: [a, b], lag, store } = await testCluster(2, { users: ["ann", "cy"] });
  const settle = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));
  const ann = await online(a, "ann");
  assert.equal((await a.createRoom(ann.session, "den")).status, "OK");
  await a.join(ann.session, "den");
  await settle();
  lag(1, 100); // what b hands to a (cy's joining among it) arrives late
  const cy = await online(b, "cy", { v21: true });
  await b.join(cy.session, "den");
  b.disconnect(cy.session, "gone");
  await settle();
  assert.equal((await a.moderate(ann.session, "ban", "cy", { room: "den" })).status, "OK");
  await settle(300);
  const again = await online(a, "cy", { v21: true });
  assert.deepEqual([...again.session.memberships.keys()].map((room) => room.name), []);
  await settle();
  const stored = (await store.load()).belongings.filter((b) => b.user === "cy");
  assert.deepEqual(stored, [], "nor does the store keep her belonging");
});

Deno.test("a server cut off from the others takes over the bans made and lifted meanwhile once linked again", async () => {
  const { chats: [a, b], cut, relink } = await testCluster(2, { users: ["ann", "bob", "cy"] });
  const settle = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));
  const ann = await online(a, "ann");
  const bob = await online(b, "bob");
  const cy = await online(b, "cy");
  assert.equal((await a.createRoom(ann.session, "den")).status, "OK");
  assert.equal((await a.moderate(ann.session, "ban", "bob", { room: "den" })).status, "OK");
  await settle();
  assert.equal((await b.join(bob.session, "den")).status, "BANNED");
  cut(1);
  assert.equal((await a.moderate(ann.session, "unban", "bob", { room: "den" })).status, "OK");
  assert.equal((await a.moderate(ann.session, "ban", "cy", { room: "den" })).status, "OK");
  await settle();
  assert.equal((await b.join(bob.session, "den")).status, "BANNED", "b has not heard yet");
  relink(1);
  await settle();
  assert.equal((await b.join(bob.session, "den")).status, "OK");
  assert.equal((await b.join(cy.session, "den")).status, "BANNED");
});

Deno.test("a catch-up leaves alone the bans made and lifted while the store was read", () => {
  const ban = (user: string) => ({ room: "den", user, bannedBy: "ann", reason: "", time: 1 });
  const moderation = new Moderation({
    admins: new Set(),
    bans: [ban("bob"), ban("cy")],
    rooms: { get: () => undefined } as unknown as Rooms,
    now: () => 1,
    log: () => {},
  } as unknown as ModerationOptions);
  const finish = moderation.catchUpBans();
  moderation.adoptBan(ban("dan")); // made after the store was read
  moderation.adoptUnban("den", "cy"); // lifted after the store was read
  // as read before: bob's and cy's bans, not dan's
  assert.deepEqual(finish([ban("bob"), ban("cy")]), { made: 0, lifted: 0 });
  assert.ok(moderation.banOf("den", "bob"));
  assert.equal(moderation.banOf("den", "cy"), undefined);
  assert.ok(moderation.banOf("den", "dan"));
  // a catch-up with nothing changed meanwhile agrees with the store
  assert.deepEqual(moderation.catchUpBans()([ban("cy")]), { made: 1, lifted: 2 });
  assert.deepEqual(["bob", "cy", "dan"].map((u) => moderation.banOf("den", u) !== undefined), [
    false,
    true,
    false,
  ]);
});

Deno.test("a server cut off from the others takes over who came to belong to a room and who left meanwhile once linked again", async () => {
  const { chats: [a, b], cut, relink } = await testCluster(2, {
    users: ["ann", "bob", "cy", "dan"],
  });
  const settle = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));
  const ann = await online(a, "ann", { v21: true });
  const dan = await online(a, "dan", { v21: true });
  const bob = await online(b, "bob", { v21: true });
  assert.equal((await a.createRoom(ann.session, "den")).status, "OK");
  await settle();
  for (const [chat, { session }] of [[a, ann], [a, dan], [b, bob]] as const) {
    assert.equal((await chat.join(session, "den")).status, "OK");
  }
  await settle();
  const listed = async () => (await b.memberRows(bob.session, "den"))!.map((row) => row.name);
  assert.deepEqual((await listed()).sort(), ["ann", "bob", "dan"]);
  cut(1);
  const cy = await online(a, "cy", { v21: true });
  assert.equal((await a.join(cy.session, "den")).status, "OK");
  assert.equal(await a.exitRoom(dan.session, "den"), "OK");
  await settle();
  assert.deepEqual((await listed()).sort(), ["ann", "bob", "dan"], "b has not heard yet");
  relink(1);
  await settle();
  assert.deepEqual((await listed()).sort(), ["ann", "bob", "cy"]);
});
