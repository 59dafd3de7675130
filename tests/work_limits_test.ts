/**
 * Bounded work per request and per client: HISTORY pages bounded in bytes,
 * one large store read at a time per connection and so many in the whole
 * server. Over real sockets on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { parseRows } from "../protocol/content.ts";
import { SqliteStore } from "../store/sqlite_store.ts";
import type { ChatStore } from "../store/store.ts";
import { RawConnection, startTestServer } from "./helpers.ts";

async function inRoom(port: number, user: string, room = "lobby") {
  const connection = await RawConnection.open(port);
  await connection.login(user);
  assert.equal((await connection.request("JOIN_ROOM", { "Room-Name": room })).params.Status, "OK");
  return connection;
}

/** The ids of a RESP_HISTORY's rows. */
function ids(history: { content?: string }): number[] {
  return parseRows(history.content ?? "", 4).map((row) => Number(row[0]));
}

Deno.test("a HISTORY page holds at most --max-history-bytes of content and says More", async () => {
  const server = await startTestServer({ maxHistoryBytes: 12_000 });
  try {
    const ann = await inRoom(server.addr.port, "ann");
    for (let i = 1; i <= 10; i++) {
      const sent = await ann.request("SEND_MSG", {}, `${i} `.padEnd(3_000, "é")); // 5,998 bytes
      assert.equal(sent.params.Status, "OK");
    }
    const newest = await ann.request("HISTORY", { Limit: "500" });
    assert.deepEqual([ids(newest), newest.params.More], [[9, 10], "yes"]);
    const older = await ann.request("HISTORY", { Limit: "500", Before: "9" });
    assert.deepEqual([ids(older), older.params.More], [[7, 8], "yes"]);
    const forwards = await ann.request("HISTORY", { Limit: "500", After: "6" });
    assert.deepEqual([ids(forwards), forwards.params.More], [[7, 8], "yes"]);
    const last = await ann.request("HISTORY", { Limit: "500", Before: "2" });
    assert.deepEqual([ids(last), last.params.More], [[1], "no"]);
    await ann.close();
  } finally {
    await server.close();
  }
});

Deno.test("a client that pipelines large HISTORY pages and stops reading is held back, not dropped", async () => {
  // pages of at most 128 KiB (an eighth of the send queue): 160 of them are 20 MiB
  const server = await startTestServer({ sendQueueBytes: 1 << 20 });
  try {
    const ann = await inRoom(server.addr.port, "ann");
    for (let i = 0; i < 16; i++) await ann.request("SEND_MSG", {}, "x".repeat(16_000));
    const bob = await inRoom(server.addr.port, "bob");
    bob.pause();
    for (let i = 0; i < 160; i++) await bob.send("HISTORY", { Limit: "8" });
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await ann.request("TIME")).params.Status, "OK", "others are served meanwhile");
    bob.resume();
    for (let i = 0; i < 160; i++) {
      const page = await bob.next(10_000);
      assert.deepEqual([page.method, page.params.Status, ids(page).length], [
        "RESP_HISTORY",
        "OK",
        8,
      ]);
    }
    assert.equal((await bob.request("TIME")).params.Status, "OK", "bob is still connected");
    await Promise.all([ann.close(), bob.close()]);
  } finally {
    await server.close();
  }
});

/** A store whose HISTORY reads wait until `open()` is called. */
async function gatedStore(): Promise<{ store: ChatStore; reads: () => number; open(): void }> {
  const store = await SqliteStore.open(":memory:");
  let reads = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => open = resolve);
  const gated = new Proxy(store, {
    get(target, property) {
      if (property === "history") {
        return async (...args: Parameters<ChatStore["history"]>) => {
          reads++;
          await opened;
          return target.history(...args);
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { store: gated, reads: () => reads, open };
}

Deno.test("HISTORY reads beyond --history-concurrency wait; beyond 64 waiting each they are refused", async () => {
  const { store, reads, open } = await gatedStore();
  const accounts = new Map(Array.from({ length: 67 }, (_, i) => [`u${i}`, `u${i}-password`]));
  const server = await startTestServer({
    store,
    globals: { accounts, rooms: ["lobby"] },
    historyConcurrency: 1,
    maxConnectionsPerAddress: 0,
  });
  try {
    const clients = await Promise.all([...accounts].map(async ([user, password]) => {
      const client = await RawConnection.open(server);
      await client.request("LOGIN", { Username: user, Password: password });
      await client.request("JOIN_ROOM", { "Room-Name": "lobby" });
      return client;
    }));
    for (const client of clients.slice(0, 66)) await client.send("HISTORY");
    const refused = await clients[66].request("HISTORY");
    assert.deepEqual([refused.params.Status, refused.params.Reason], [
      "RATE_LIMITED",
      "the server is busy reading history; try again",
    ]);
    assert.ok(Number(refused.params["Retry-After-Ms"]) > 0);
    assert.equal(reads(), 1, "one read under way, the rest waiting");
    open();
    const answers = await Promise.all(clients.slice(0, 66).map((client) => client.next()));
    const statuses = answers.map((answer) => answer.params.Status);
    assert.deepEqual(
      [statuses.filter((s) => s === "OK").length, statuses.filter((s) => s !== "OK")],
      [65, ["RATE_LIMITED"]],
      "1 under way and 64 waiting are answered; the 66th was refused",
    );
    await Promise.all(clients.map((client) => client.close()));
  } finally {
    await server.close();
  }
});
