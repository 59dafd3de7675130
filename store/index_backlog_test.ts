import assert from "node:assert/strict";
import { IndexBacklog } from "./index_backlog.ts";

/** A backlog that knows the index is at `upTo`, with messages of these lengths after it. */
function backlogOf(upTo: number, lengths: number[]): IndexBacklog {
  const backlog = new IndexBacklog();
  backlog.caughtUp(upTo);
  lengths.forEach((chars, i) => backlog.add(upTo + 1 + i, chars));
  return backlog;
}

Deno.test("a step takes the oldest messages within the character and message budgets", () => {
  const backlog = backlogOf(10, [100, 100, 100, 100, 100]);
  assert.deepEqual(backlog.nextStep(250, 100), { upTo: 12, count: 2 });
  assert.deepEqual(backlog.nextStep(1, 100), { upTo: 11, count: 1 }, "at least one message");
  assert.deepEqual(backlog.nextStep(1e6, 3), { upTo: 13, count: 3 });
  assert.deepEqual(backlog.nextStep(-1, 1), { upTo: 15, count: 5 }, "-1: all of them");
});

Deno.test("indexed messages leave the backlog; none left means no step", () => {
  const backlog = backlogOf(0, [5, 5, 5]);
  backlog.indexed(2);
  assert.equal(backlog.length, 1);
  assert.equal(backlog.indexedUpTo, 2);
  assert.deepEqual(backlog.nextStep(1e6, 100), { upTo: 3, count: 1 });
  backlog.indexed(3);
  assert.equal(backlog.nextStep(1e6, 100), null);
  backlog.add(4, 5);
  assert.deepEqual(backlog.nextStep(1e6, 100), { upTo: 4, count: 1 });
});

Deno.test("a backlog not known from the database ignores messages until it is told", () => {
  const backlog = new IndexBacklog();
  assert.equal(backlog.known, false);
  backlog.add(1, 5);
  assert.equal(backlog.length, 0);
  backlog.caughtUp(1);
  backlog.add(2, 5);
  assert.deepEqual(backlog.nextStep(1e6, 100), { upTo: 2, count: 1 });
});

Deno.test("an id that does not grow, or a rollback, makes the backlog unknown", () => {
  const backlog = backlogOf(10, [5, 5]);
  backlog.add(12, 5);
  assert.equal(backlog.known, false, "ids must grow");
  const rolledBack = backlogOf(10, [5]);
  rolledBack.forget();
  assert.equal(rolledBack.known, false);
  assert.equal(rolledBack.length, 0);
});

Deno.test("a long backlog indexed bit by bit keeps only what is waiting", () => {
  const backlog = backlogOf(0, Array(10_000).fill(1));
  for (let id = 100; id <= 9_900; id += 100) backlog.indexed(id);
  assert.equal(backlog.length, 100);
  assert.deepEqual(backlog.nextStep(-1, 0), { upTo: 10_000, count: 100 });
});
