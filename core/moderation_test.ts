import assert from "node:assert/strict";
import { online, testChat } from "./testing.ts";

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
