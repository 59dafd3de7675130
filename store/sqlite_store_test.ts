import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { StoreError } from "./schema.ts";
import { SqliteStore } from "./sqlite_store.ts";
import { StoreFailedError } from "./store.ts";
import { storeContract } from "./store_contract.ts";

storeContract("SqliteStore", () => SqliteStore.open(":memory:"));

const message = (id: number, room = "lobby") => ({
  kind: "room" as const,
  id,
  room,
  sender: "ann",
  time: id,
  content: `message ${id}`,
});

const SEARCH = { limit: 10, before: null, scanLimit: 1000 };

/** A store on a new database file with the lobby, which ann has been in. */
async function fileStore(): Promise<{ store: SqliteStore; path: string }> {
  const path = `${await Deno.makeTempDir()}/claptrap.db`;
  const store = await SqliteStore.open(path);
  await store.createRoom({ kind: "room", name: "lobby", createdBy: null, createdAt: 0 });
  await store.addMembership("room", "lobby", "ann", 0);
  return { store, path };
}

/** The ids of the first page of ann's search for `query`. */
async function found(store: SqliteStore, query: string): Promise<number[]> {
  return (await store.search("ann", [query], SEARCH)).hits.map((hit) => hit.id);
}

Deno.test("writes made in one turn are committed together (group commit)", async () => {
  const store = await SqliteStore.open(":memory:");
  await store.createRoom({ kind: "room", name: "lobby", createdBy: null, createdAt: 0 });
  await Promise.all(Array.from({ length: 500 }, (_, i) => store.appendMessage(message(i + 1))));
  const batches = store.batchSizes.slice(1);
  assert.ok(batches.length < 10, `500 writes took ${batches.length} commits`);
  assert.equal(batches.reduce((a, b) => a + b, 0), 500);
  assert.deepEqual((await store.history("room", "lobby", { limit: 3 })).messages.map((m) => m.id), [
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
  assert.deepEqual(
    (await store.history("room", "lobby", { limit: 10 })).messages.map((m) => m.id),
    [1, 3],
  );
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
      order.push(`history:${page.messages.length}`)
    ),
    store.search("ann", ["message"], { limit: 5, before: null, scanLimit: 100 }).then((page) =>
      order.push(`search:${page.hits.length}`)
    ),
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

Deno.test("with a database file a search runs beside the writer, answered while a commit waits", async () => {
  const { store, path } = await fileStore();
  await store.appendMessage(message(1));
  assert.deepEqual(await found(store, "message"), [1]);
  const other = new DatabaseSync(path);
  other.exec("BEGIN IMMEDIATE"); // the writer's next commit waits for this lock
  let stored = "not yet";
  const pending = store.appendMessage(message(2)).then(
    () => stored = "ok",
    () => stored = "failed",
  );
  assert.deepEqual(await found(store, "message"), [1], "message 2 is not answered yet");
  assert.equal(stored, "not yet", "the search did not wait for the commit");
  other.exec("COMMIT");
  other.close();
  await pending;
  assert.equal(stored, "ok");
  assert.deepEqual(await found(store, "message"), [2, 1]);
  await store.close();
});

Deno.test("with a database file a search finds every message answered before it, indexed or not", async () => {
  const { store } = await fileStore();
  for (let id = 1; id <= 3; id++) {
    await store.appendMessage(message(id)); // the index takes them only 100 ms later
    assert.deepEqual(await found(store, `message ${id}`), [id]);
  }
  await store.close();
});

Deno.test("a database file replaced while open fails the store: that write, and every call after it", async () => {
  const { store, path } = await fileStore();
  await store.appendMessage(message(1));
  await Deno.copyFile(path, `${path}.copy`);
  await Deno.rename(`${path}.copy`, path); // the same bytes, another file
  const failure = `the database failed: ${path} was replaced while the server ran`;
  await assert.rejects(store.appendMessage(message(2)), StoreFailedError, failure);
  assert.equal((await store.failure).message, failure);
  await assert.rejects(store.load(), StoreFailedError);
  await store.close();
});
