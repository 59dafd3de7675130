import assert from "node:assert/strict";
import { SearchSlots } from "./search_slots.ts";

const LIMITS = { perUser: 1, running: 2, waiting: 1, scanLimit: 100 };

Deno.test("SearchSlots lets each user have one search under way and refuses a second", async () => {
  const slots = new SearchSlots(LIMITS);
  const turn = slots.enter("ann");
  assert.ok(turn instanceof Promise);
  await turn;
  assert.equal(slots.enter("ann"), "you have a search under way; wait for its answer");
  slots.leave("ann");
  assert.ok(slots.enter("ann") instanceof Promise, "free again once it has ended");
});

Deno.test("SearchSlots runs so many at once, queues a bounded number, and passes turns on in order", async () => {
  const slots = new SearchSlots(LIMITS);
  const started: string[] = [];
  const enter = (user: string) => {
    const turn = slots.enter(user);
    if (typeof turn === "string") return turn;
    turn.then(() => started.push(user));
    return "entered";
  };
  assert.deepEqual(["ann", "bob", "carol"].map(enter), ["entered", "entered", "entered"]);
  assert.equal(enter("dave"), "the server is busy with other searches; try again shortly");
  await Promise.resolve();
  assert.deepEqual(started, ["ann", "bob"], "carol waits for a turn");
  slots.leave("ann");
  await Promise.resolve();
  assert.deepEqual(started, ["ann", "bob", "carol"]);
  assert.equal(enter("dave"), "entered", "the queue has room again");
  slots.leave("bob");
  slots.leave("carol");
  await Promise.resolve();
  assert.deepEqual(started, ["ann", "bob", "carol", "dave"]);
});
