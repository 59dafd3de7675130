import assert from "node:assert/strict";
import { MessageIds } from "./message_ids.ts";

/** A store whose reservations complete only when the test says so. */
function heldReservations() {
  const calls: { upTo: number; done: () => void; fail: (error: Error) => void }[] = [];
  const reserve = (upTo: number) =>
    new Promise<void>((done, fail) => calls.push({ upTo, done, fail }));
  return { calls, reserve };
}

Deno.test("ids go up by one from the last stored or reserved id", () => {
  const { reserve } = heldReservations();
  const ids = new MessageIds(41, reserve, 10);
  assert.deepEqual([ids.next().id, ids.next().id, ids.next().id], [42, 43, 44]);
  assert.equal(ids.last, 44);
});

Deno.test("an id may be used only once its reservation is stored", async () => {
  const { calls, reserve } = heldReservations();
  const ids = new MessageIds(0, reserve, 10);
  const first = ids.next();
  assert.deepEqual(calls.map((c) => c.upTo), [11], "a block is asked for at once");
  assert.ok(first.ready, "not usable before the block is on disk");
  let usable = false;
  first.ready.then(() => usable = true);
  await Promise.resolve();
  assert.equal(usable, false);
  calls[0].done();
  await first.ready;
  assert.equal(usable, true);
  assert.equal(ids.next().ready, null, "later ids of the stored block are usable at once");
});

Deno.test("the next block is asked for while half of the current one is left", async () => {
  const { calls, reserve } = heldReservations();
  const ids = new MessageIds(0, reserve, 10);
  ids.next();
  calls[0].done();
  await Promise.resolve();
  await Promise.resolve();
  for (let i = 0; i < 5; i++) assert.equal(ids.next().ready, null); // ids 2..6 of 1..11
  assert.equal(calls.length, 1);
  assert.equal(ids.next().ready, null); // id 7: 4 left of the block, still usable
  assert.deepEqual(calls.map((c) => c.upTo), [11, 17]);
});

Deno.test("ids waiting for a reservation become usable in id order", async () => {
  const { calls, reserve } = heldReservations();
  const ids = new MessageIds(0, reserve, 4);
  const order: number[] = [];
  const waiting = [];
  for (let i = 0; i < 6; i++) {
    const { id, ready } = ids.next();
    assert.ok(ready);
    waiting.push(ready.then(() => order.push(id)));
  }
  for (const call of calls) call.done();
  await Promise.all(waiting);
  assert.deepEqual(order, [1, 2, 3, 4, 5, 6]);
  assert.equal(ids.next().id, 7);
});

Deno.test("a failed reservation fails the ids waiting for it, and the next id asks again", async () => {
  const { calls, reserve } = heldReservations();
  const ids = new MessageIds(0, reserve, 10);
  const first = ids.next();
  calls[0].fail(new Error("disk full"));
  await assert.rejects(first.ready!, /disk full/);
  const second = ids.next();
  assert.equal(second.id, 2);
  assert.equal(calls.length, 2, "asked again");
  calls[1].done();
  await second.ready;
});
