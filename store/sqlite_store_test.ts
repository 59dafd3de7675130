import assert from "node:assert/strict";
import { StoreError } from "./schema.ts";
import { SqliteStore } from "./sqlite_store.ts";

const message = (id: number, room = "lobby") => ({
  kind: "room" as const,
  id,
  room,
  sender: "ann",
  time: id,
  content: `message ${id}`,
});

Deno.test("writes made in one turn are committed together (group commit)", async () => {
  const store = await SqliteStore.open(":memory:");
  await store.createRoom({ kind: "room", name: "lobby", createdBy: null, createdAt: 0 });
  await Promise.all(Array.from({ length: 500 }, (_, i) => store.appendMessage(message(i + 1))));
  const batches = store.batchSizes.slice(1);
  assert.ok(batches.length < 10, `500 writes took ${batches.length} commits`);
  assert.equal(batches.reduce((a, b) => a + b, 0), 500);
  assert.deepEqual((await store.history("room", "lobby", { limit: 3 })).map((m) => m.id), [
    498,
    499,
    500,
  ]);
  await store.close();
});

Deno.test("a failing operation fails alone; the rest of its batch is committed", async () => {
  const store = await SqliteStore.open(":memory:");
  await store.createRoom({ kind: "room", name: "lobby", createdBy: null, createdAt: 0 });
  const results = await Promise.allSettled([
    store.appendMessage(message(1)),
    store.appendMessage(message(2, "no such room")),
    store.appendMessage(message(3)),
  ]);
  assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
  assert.ok((results[1] as PromiseRejectedResult).reason instanceof StoreError);
  assert.deepEqual((await store.history("room", "lobby", { limit: 10 })).map((m) => m.id), [1, 3]);
  await store.close();
});

Deno.test("operations resolve in the order they were called", async () => {
  const store = await SqliteStore.open(":memory:");
  const order: string[] = [];
  await Promise.all([
    store.createRoom({ kind: "room", name: "lobby", createdBy: "ann", createdAt: 0 }).then(() =>
      order.push("create")
    ),
    store.appendMessage(message(1)).then(() => order.push("append")),
    store.history("room", "lobby", { limit: 5 }).then((page) =>
      order.push(`history:${page.length}`)
    ),
    store.search("ann", "message", 5).then((hits) => order.push(`search:${hits.length}`)),
  ]);
  assert.deepEqual(order, ["create", "append", "history:1", "search:1"]);
  await store.close();
});

Deno.test("opening a newer or corrupt database fails with a StoreError", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/bad.db`, "not sqlite at all ".repeat(300));
  await assert.rejects(() => SqliteStore.open(`${dir}/bad.db`), StoreError);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a closed store refuses work", async () => {
  const store = await SqliteStore.open(":memory:");
  await store.close();
  await assert.rejects(() => store.load(), /the store is closed/);
});
