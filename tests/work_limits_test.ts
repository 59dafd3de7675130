/**
 * Bounded work per request and per client: HISTORY pages bounded in bytes,
 * one large store read at a time per connection and so many in the whole
 * server; room changes and new accounts at a bounded rate; password checks
 * bounded in number. Over real sockets on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { parseRows } from "../protocol/content.ts";
import { NO_FLOOD_LIMITS } from "../core/limits/flood_control.ts";
import { SqliteStore } from "../store/sqlite_store.ts";
import type { ChatStore } from "../store/store.ts";
import { inRoom, NEVER, RawConnection, startTestServer } from "./helpers.ts";

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

Deno.test("JOIN_ROOM into another room costs a room-change token: a join/leave storm is slowed down", async () => {
  const server = await startTestServer({
    floodLimits: { ...NO_FLOOD_LIMITS, joins: { perSecond: NEVER, burst: 3 } },
  });
  try {
    const ann = await inRoom(server.addr.port, "ann", "random");
    const bob = await inRoom(server.addr.port, "bob", "lobby");
    assert.equal((await ann.request("JOIN_ROOM", { "Room-Name": "lobby" })).params.Status, "OK");
    assert.equal((await ann.request("EXIT_ROOM")).params.Status, "OK");
    assert.equal((await ann.request("JOIN_ROOM", { "Room-Name": "lobby" })).params.Status, "OK");
    const again = await ann.request("JOIN_ROOM", { "Room-Name": "lobby" });
    assert.equal(again.params.Status, "OK", "the room one is in already: free, no effect");
    const refused = await ann.request("JOIN_ROOM", { "Room-Name": "random" });
    assert.deepEqual([refused.params.Status, refused.params.Reason], [
      "RATE_LIMITED",
      "too many room changes; slow down",
    ]);
    assert.ok(Number(refused.params["Retry-After-Ms"]) > 0);
    const members = await ann.request("LIST_MEMBERS");
    assert.match(members.content!, /ann/, "a refused join has no effect: ann is still in lobby");
    assert.equal((await bob.request("JOIN_ROOM", { "Room-Name": "random" })).params.Status, "OK");
    await Promise.all([ann.close(), bob.close()]);
  } finally {
    await server.close();
  }
});

async function register(connection: RawConnection, user: string) {
  const response = await connection.request("REGISTER", {
    Username: user,
    Password: "a fine long password",
  });
  return [response.params.Status, response.params.Reason, response.params["Retry-After-Ms"]];
}

/** A server that creates `perAddress` accounts per address and `total` in all, and a connection. */
async function withRegistrationLimits(
  perAddress: number,
  total: number,
  work: (connection: RawConnection) => Promise<void>,
) {
  const server = await startTestServer({
    floodLimits: {
      ...NO_FLOOD_LIMITS,
      registrationsPerAddress: { perSecond: NEVER, burst: perAddress },
      registrations: { perSecond: NEVER, burst: total },
    },
  });
  try {
    const connection = await RawConnection.open(server);
    await work(connection);
    await connection.close();
  } finally {
    await server.close();
  }
}

/** Whether a Retry-After-Ms value is a wait of a minute or more (the test rates never refill). */
const longWait = (ms: string | undefined) => Number(ms) > 60_000;

Deno.test("REGISTER creates so many accounts per address; refusals give their token back", async () => {
  await withRegistrationLimits(2, 100, async (connection) => {
    assert.deepEqual(await register(connection, "dora"), ["OK", undefined, undefined]);
    assert.deepEqual(await register(connection, "ann"), ["NAME_TAKEN", undefined, undefined]);
    assert.deepEqual(await register(connection, "x\u0007"), [
      "INVALID_NAME",
      "name contains a control character",
      undefined,
    ]);
    assert.deepEqual(await register(connection, "eve"), ["OK", undefined, undefined]);
    const [status, reason, wait] = await register(connection, "fred");
    assert.deepEqual([status, reason], [
      "RATE_LIMITED",
      "too many new accounts from this address; try later",
    ]);
    assert.ok(longWait(wait));
    const login = await connection.request("LOGIN", {
      Username: "fred",
      Password: "a fine long password",
    });
    assert.equal(login.params.Status, "AUTH_FAILED", "no account was made");
  });
});

Deno.test("REGISTER creates so many accounts in the whole server", async () => {
  await withRegistrationLimits(100, 2, async (connection) => {
    assert.equal((await register(connection, "dora"))[0], "OK");
    assert.equal((await register(connection, "eve"))[0], "OK");
    const [status, reason, wait] = await register(connection, "fred");
    assert.deepEqual([status, reason], [
      "RATE_LIMITED",
      "too many new accounts on this server; try later",
    ]);
    assert.ok(longWait(wait));
  });
});

Deno.test("64 wrong passwords at once from one address get no more checks than 20 one by one", async () => {
  const server = await startTestServer({ maxConnectionsPerAddress: 0 });
  try {
    const guessers = await Promise.all(
      Array.from({ length: 64 }, () => RawConnection.open(server)),
    );
    const answers = await Promise.all(
      guessers.map((guesser, i) =>
        guesser.request("LOGIN", { Username: `guess${i}`, Password: "password1" })
      ),
    );
    const statuses = answers.map((answer) => answer.params.Status);
    assert.deepEqual(
      [statuses.filter((s) => s === "AUTH_FAILED").length, statuses.length],
      [21, 64],
      "20 free failures, then one at the first delay",
    );
    assert.ok(statuses.every((s) => s === "AUTH_FAILED" || s === "RATE_LIMITED"));
    await Promise.all(guessers.map((guesser) => guesser.close()));
  } finally {
    await server.close();
  }
});
