import assert from "node:assert/strict";
import { online, testChat } from "./testing.ts";

Deno.test("a search query has words, and not too many or too long", async () => {
  const { chat } = await testChat({ users: ["ann"] });
  const { session } = await online(chat, "ann");
  const page = { limit: 10, before: null };
  assert.deepEqual(chat.search(session, " \t ", page), {
    status: "BAD_REQUEST",
    reason: "empty query",
  });
  assert.deepEqual(chat.search(session, "w ".repeat(17), page), {
    status: "BAD_REQUEST",
    reason: "query has more than 16 words",
  });
  assert.deepEqual(chat.search(session, "x".repeat(257), page), {
    status: "BAD_REQUEST",
    reason: "query is longer than 256 characters",
  });
});

Deno.test("a user's second search while one is under way is RATE_LIMITED", async () => {
  const { chat } = await testChat({ users: ["ann", "bob"], rooms: ["lobby"] });
  const [ann, bob] = await Promise.all([online(chat, "ann"), online(chat, "bob")]);
  await chat.join(ann.session, "lobby");
  await chat.post(ann.session, "needle in a haystack");
  const page = { limit: 10, before: null };
  const first = chat.search(ann.session, "needle", page);
  assert.deepEqual(chat.search(ann.session, "hay", page), {
    status: "RATE_LIMITED",
    reason: "you have a search under way; wait for its answer",
    retryAfterMs: 500,
  });
  const found = await first;
  assert.deepEqual(found.page?.hits.map((hit) => hit.snippet), ["[needle] in a haystack"]);
  assert.equal((await chat.search(ann.session, "hay", page)).status, "OK", "free again");
  assert.equal((await chat.search(bob.session, "needle", page)).page?.total, 0, "not in the room");
});

Deno.test("searches beyond those under way and waiting server-wide are RATE_LIMITED", async () => {
  const { chat, store } = await testChat({
    users: ["ann", "bob", "cy"],
    searchLimits: { perUser: 1, running: 1, waiting: 1, scanLimit: 100 },
  });
  let release!: () => void;
  const held = new Promise<void>((resolve) => release = resolve);
  const search = store.search.bind(store);
  store.search = async (...args) => (await held, search(...args));
  const [ann, bob, cy] = await Promise.all(["ann", "bob", "cy"].map((user) => online(chat, user)));
  const page = { limit: 10, before: null };
  const running = chat.search(ann.session, "x", page);
  const waiting = chat.search(bob.session, "x", page);
  assert.deepEqual(chat.search(cy.session, "x", page), {
    status: "RATE_LIMITED",
    reason: "the server is busy with other searches; try again shortly",
    retryAfterMs: 500,
  });
  release();
  assert.deepEqual([(await running).status, (await waiting).status], ["OK", "OK"]);
  assert.equal((await chat.search(cy.session, "x", page)).status, "OK");
});
