import assert from "node:assert/strict";
import { engineTest, POSTGRES_MISSING, startPostgres } from "../../tests/engines.ts";
import { withTimeout } from "../../tests/helpers.ts";
import { chunkHas, type ChunkVerdict, TcpProxy } from "../../tests/tcp_proxy.ts";
import type { MessageRecord } from "../records.ts";
import { StoreError } from "../schema.ts";
import { StoreFailedError } from "../store.ts";
import { connect } from "./connection.ts";
import { PostgresStore } from "./postgres_store.ts";

function message(id: number): MessageRecord {
  return { kind: "room", id, room: "lobby", sender: "ann", time: id, content: `message ${id}` };
}

async function lobbyStore(url: string): Promise<PostgresStore> {
  const store = await PostgresStore.open(url);
  await store.createRoom({ kind: "room", name: "lobby", createdBy: null, createdAt: 0 });
  return store;
}

async function storedIds(store: PostgresStore): Promise<number[]> {
  return (await store.history("room", "lobby", { limit: 100 })).messages.map((m) => m.id);
}

/**
 * Resolves once the next chunk through `proxy` holding `marker` is seen
 * (a batch of messages alone commits in its one statement, which carries
 * their text; any other batch, at its COMMIT), which gets `verdict`; with
 * `refuse`, the proxy refuses new connections from then on.
 */
function cutAt(
  proxy: TcpProxy,
  marker: string,
  verdict: ChunkVerdict,
  refuse = false,
): Promise<void> {
  return new Promise((resolve) => {
    proxy.watch = (chunk) => {
      if (!chunkHas(chunk, marker)) return "pass";
      proxy.watch = null;
      if (refuse) proxy.refusing = true;
      resolve();
      return verdict;
    };
  });
}

/**
 * Runs `test` on a store that reaches PostgreSQL through a proxy, its lobby
 * holding message 1.
 */
async function throughProxy(
  test: (store: PostgresStore, proxy: TcpProxy) => Promise<void>,
): Promise<void> {
  const engine = await startPostgres();
  const proxy = TcpProxy.start(engine.port);
  const url = (await engine.createDatabase()).replace(`:${engine.port}/`, `:${proxy.port}/`);
  const store = await lobbyStore(url);
  try {
    await store.appendMessage(message(1));
    await test(store, proxy);
  } finally {
    await store.close();
    proxy.close();
  }
}

/** How a promise settled, without waiting for it. */
function outcome(promise: Promise<unknown>): { state: string; error?: unknown } {
  const seen: { state: string; error?: unknown } = { state: "pending" };
  promise.then(
    () => seen.state = "resolved",
    (error) => Object.assign(seen, { state: "rejected", error }),
  );
  return seen;
}

engineTest(
  POSTGRES_MISSING,
  "while PostgreSQL is down writes and reads fail with an error, and work again once it is back",
  async () => {
    const engine = await startPostgres();
    const store = await lobbyStore(await engine.createDatabase());
    await store.appendMessage(message(1));
    await engine.crash();
    try {
      await assert.rejects(store.appendMessage(message(2)), StoreError);
      await assert.rejects(store.history("room", "lobby", { limit: 10 }), StoreError);
      await assert.rejects(
        store.search("ann", ["message"], { limit: 5, before: null, scanLimit: 10 }),
      );
    } finally {
      await engine.start();
    }
    await store.appendMessage(message(3));
    assert.deepEqual(await storedIds(store), [1, 3], "what failed is not stored");
    await store.close();
  },
);

engineTest(
  POSTGRES_MISSING,
  "a write whose commit's answer was lost is settled by what PostgreSQL did: committed, or not",
  () =>
    throughProxy(async (store, proxy) => {
      // the statement reaches PostgreSQL, its answer never comes back
      const committing = cutAt(proxy, message(2).content, "pass-then-cut-client", true);
      const cut = store.appendMessage(message(2));
      const cutOutcome = outcome(cut);
      await committing;
      // a write after it cannot reach PostgreSQL, and says so
      await assert.rejects(store.appendMessage(message(3)), StoreError);
      assert.equal(cutOutcome.state, "pending", "not answered while nobody knows");
      proxy.refusing = false;
      await cut;
      assert.deepEqual(await storedIds(store), [1, 2]);

      // the statement never reaches PostgreSQL
      cutAt(proxy, message(4).content, "drop-and-cut");
      await assert.rejects(
        store.appendMessage(message(4)),
        (error: Error) =>
          error instanceof StoreError && !(error instanceof StoreFailedError) &&
          /lost during a commit, which did not happen/.test(error.message),
      );
      assert.deepEqual(await storedIds(store), [1, 2]);
      await store.appendMessage(message(5));
      assert.deepEqual(await storedIds(store), [1, 2, 5]);
    }),
);

engineTest(
  POSTGRES_MISSING,
  "a batch of other writes with a message, whose COMMIT's answer was lost, is settled by what PostgreSQL did",
  () =>
    throughProxy(async (store, proxy) => {
      const committing = cutAt(proxy, "COMMIT", "pass-then-cut-client", true);
      // one batch: a transaction, as it holds more than messages
      const cut = Promise.all([
        store.createRoom({ kind: "room", name: "side", createdBy: null, createdAt: 0 }),
        store.appendMessage(message(2)),
      ]);
      const cutOutcome = outcome(cut);
      await committing;
      await assert.rejects(store.appendMessage(message(3)), StoreError);
      assert.equal(cutOutcome.state, "pending", "not answered while nobody knows");
      proxy.refusing = false;
      const [, stored] = await cut;
      assert.equal(stored.id, 2);
      assert.deepEqual(await storedIds(store), [1, 2]);
    }),
);

engineTest(
  POSTGRES_MISSING,
  "a write cut off at its commit as PostgreSQL crashes is refused once it is back, though its transaction id is given out again, and writes go on",
  async () => {
    const engine = await startPostgres();
    const direct = await engine.createDatabase();
    const admin = connect(direct, 1);
    // WAL that no commit flushed stays in memory, and a crash loses it: the cut transaction
    // leaves no trace, and its id goes to the next transaction
    await admin.unsafe("ALTER SYSTEM SET wal_writer_delay = '10s'");
    await admin.unsafe("SELECT pg_reload_conf()");
    const proxy = TcpProxy.start(engine.port);
    const store = await lobbyStore(direct.replace(`:${engine.port}/`, `:${proxy.port}/`));
    try {
      await store.appendMessage(message(1));
      const committing = cutAt(proxy, message(2).content, "drop-and-cut");
      const cut = store.appendMessage(message(2));
      // the store may settle the cut write while PostgreSQL is still starting: listen from now on
      const refused = assert.rejects(
        withTimeout(cut, 30_000, "the cut write"),
        /lost during a commit, which did not happen/,
      );
      await committing;
      await engine.crash();
      await engine.start();
      await refused;
      await store.appendMessage(message(3));
      assert.deepEqual(await storedIds(store), [1, 3]);
    } finally {
      await store.close();
      proxy.close();
      await admin.unsafe("ALTER SYSTEM RESET wal_writer_delay").catch(() => {});
      await admin.unsafe("SELECT pg_reload_conf()").catch(() => {});
      await admin.end();
    }
  },
);
