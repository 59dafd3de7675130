/**
 * The contract of a {@link ChatStore}: tests that every store passes, run
 * against each (`memory_store_test.ts`, `sqlite_store_test.ts`), so that
 * the chat core may be tested on the in-memory store and run on SQLite (or
 * a networked database later) alike.
 * @module
 */

import assert from "node:assert/strict";
import { MAX_COUNTED, type MessageRecord, type RoomKind } from "./records.ts";
import { StoreError } from "./schema.ts";
import type { ChatStore } from "./store.ts";

/** A message of `sender` in a room, with its id as its time. */
function message(
  id: number,
  room: string,
  sender = "ann",
  content = `message ${id}`,
  kind: RoomKind = "room",
): MessageRecord {
  return { id, kind, room, sender, time: id, content };
}

const account = (name: string, passwordHash = "scrypt$1024$8$1$$x") => ({
  name,
  passwordHash,
  source: "registered" as const,
  disabled: false,
  createdAt: 0,
});

/**
 * Registers the contract's tests for the store that `open` makes (a new,
 * empty one each time; the test closes it).
 */
export function storeContract(name: string, open: () => Promise<ChatStore>): void {
  const test = (what: string, body: (store: ChatStore) => Promise<void>) =>
    Deno.test(`${name}: ${what}`, async () => {
      const store = await open();
      try {
        await body(store);
      } finally {
        await store.close();
      }
    });

  test("a new store is empty", async (store) => {
    assert.deepEqual(await store.load(), {
      rooms: [],
      bans: [],
      lastMessageId: 0,
      passwordCosts: new Map(),
      belongings: [],
    });
    assert.equal(await store.getAccount("ann"), null);
    assert.equal(await store.globalsSeal(), null);
  });

  test("an account's name and its look-alikes are taken once", async (store) => {
    assert.equal(await store.createAccount(account("Ann")), true);
    assert.deepEqual(await store.getAccount("Ann"), account("Ann"));
    assert.equal(await store.createAccount(account("Ann")), false);
    assert.equal(await store.createAccount(account("ann")), false, "case");
    assert.equal(await store.createAccount(account("Ａnn")), false, "width");
    assert.equal(await store.getAccount("ann"), null);
    await store.createAccount(account("bob", "scrypt$2048$8$1$$y"));
    assert.deepEqual((await store.load()).passwordCosts, new Map([[1024, 1], [2048, 1]]));
  });

  test("globals accounts sync: replaced, disabled when dropped, all or nothing", async (store) => {
    const globals = (name: string, hash: string) => ({
      ...account(name, hash),
      source: "globals" as const,
    });
    await store.syncGlobalsAccounts([globals("ann", "h1"), globals("bob", "h2")], "seal 1");
    assert.equal(await store.globalsSeal(), "seal 1");
    await store.syncGlobalsAccounts([globals("ann", "h3")], null);
    assert.equal((await store.getAccount("ann"))?.passwordHash, "h3");
    assert.equal((await store.getAccount("bob"))?.disabled, true);
    assert.equal(await store.globalsSeal(), null);
    await store.createAccount(account("carol"));
    await assert.rejects(
      store.syncGlobalsAccounts([globals("dave", "h4"), globals("Carol", "h5")], "seal 2"),
      StoreError,
    );
    assert.equal(await store.getAccount("dave"), null, "nothing of the failed sync is kept");
    assert.equal(await store.globalsSeal(), null);
  });

  test("rooms: created once, public ones loaded in creation order with their bans", async (store) => {
    assert.equal(
      await store.createRoom({ kind: "room", name: "b", createdBy: "ann", createdAt: 1 }),
      true,
    );
    assert.equal(
      await store.createRoom({ kind: "room", name: "b", createdBy: null, createdAt: 2 }),
      false,
    );
    await store.createRoom({ kind: "group", name: "g", createdBy: null, createdAt: 3 });
    await store.createRoom({ kind: "room", name: "a", createdBy: null, createdAt: 4 });
    await store.ban({ room: "a", user: "bob", bannedBy: "ann", reason: "", time: 6 });
    await store.ban({ room: "b", user: "bob", bannedBy: "ann", reason: "spam", time: 5 });
    const state = await store.load();
    assert.deepEqual(state.rooms.map((room) => room.name), ["b", "a"]);
    assert.deepEqual(state.rooms[0], { kind: "room", name: "b", createdBy: "ann", createdAt: 1 });
    assert.deepEqual(state.bans.map((ban) => [ban.room, ban.reason]), [["b", "spam"], ["a", ""]]);
    assert.equal(await store.unban("b", "bob"), true);
    assert.equal(await store.unban("b", "bob"), false);
    assert.equal((await store.load()).bans.length, 1);
  });

  test("writes to a room that does not exist fail with a StoreError, alone", async (store) => {
    await store.createRoom({ kind: "room", name: "lobby", createdBy: null, createdAt: 0 });
    const results = await Promise.allSettled([
      store.appendMessage(message(1, "lobby")),
      store.appendMessage(message(2, "nowhere")),
      store.addMembership("room", "nowhere", "ann", 0),
      store.appendMessage(message(3, "lobby")),
    ]);
    assert.deepEqual(results.map((r) => r.status), [
      "fulfilled",
      "rejected",
      "rejected",
      "fulfilled",
    ]);
    assert.ok((results[1] as PromiseRejectedResult).reason instanceof StoreError);
    assert.equal((await store.load()).lastMessageId, 3);
  });

  test("history pages newest first or, with after, oldest first, within maxBytes", async (store) => {
    await store.createRoom({ kind: "room", name: "lobby", createdBy: null, createdAt: 0 });
    await store.createRoom({ kind: "room", name: "other", createdBy: null, createdAt: 0 });
    for (let id = 1; id <= 10; id++) {
      await store.appendMessage(message(id, id === 5 ? "other" : "lobby"));
    }
    const ids = async (range: Parameters<ChatStore["history"]>[2]) => {
      const page = await store.history("room", "lobby", range);
      return [page.messages.map((m) => m.id), page.more];
    };
    assert.deepEqual(await ids({ limit: 3 }), [[8, 9, 10], true]);
    assert.deepEqual(await ids({ limit: 3, before: 8 }), [[4, 6, 7], true]);
    assert.deepEqual(await ids({ limit: 3, before: 4 }), [[1, 2, 3], false]);
    assert.deepEqual(await ids({ limit: 3, after: 3 }), [[4, 6, 7], true]);
    assert.deepEqual(await ids({ limit: 20, floor: 7 }), [[8, 9, 10], false]);
    // "message 10" is 10 bytes, the others 9: 19 bytes hold two
    assert.deepEqual(await ids({ limit: 5, maxBytes: 19 }), [[9, 10], true]);
    assert.deepEqual(await ids({ limit: 5, maxBytes: 1 }), [[10], true], "one, whatever its size");
    const page = await store.history("room", "lobby", { limit: 1 });
    assert.deepEqual(page.messages, [message(10, "lobby")]);
    assert.deepEqual(await store.history("direct", "nobody", { limit: 5 }), {
      messages: [],
      more: false,
    });
  });

  test("direct conversations are listed by their newest message", async (store) => {
    for (const name of ["ann|bob", "ann|carol", "ann|dave"]) {
      await store.createRoom({ kind: "direct", name, createdBy: null, createdAt: 0 });
      await store.addMembership("direct", name, "ann", 0);
    }
    await store.appendMessage(message(1, "ann|carol", "ann", "hi", "direct"));
    await store.appendMessage(message(2, "ann|bob", "ann", "hi", "direct"));
    assert.deepEqual(await store.directRooms("ann"), ["ann|bob", "ann|carol", "ann|dave"]);
    assert.deepEqual(await store.directRooms("bob"), []);
  });

  test("search: every term, any case, newest first, in the rooms one may read", async (store) => {
    for (const name of ["lobby", "secret", "banned"]) {
      await store.createRoom({ kind: "room", name, createdBy: null, createdAt: 0 });
    }
    await store.createRoom({ kind: "group", name: "peers", createdBy: null, createdAt: 0 });
    for (const room of ["lobby", "banned"]) await store.addMembership("room", room, "ann", 0);
    await store.ban({ room: "banned", user: "ann", bannedBy: "bob", reason: "", time: 0 });
    const said = ["Hello World", "hello there", "world peace", "HELLO WORLD again"];
    let id = 0;
    for (const content of said) {
      for (const room of ["lobby", "secret", "banned"]) {
        await store.appendMessage(message(++id, room, "bob", content));
      }
    }
    await store.appendMessage(message(++id, "peers", "bob", "hello world, before ann", "group"));
    await store.addMembership("group", "peers", "ann", 0, id);
    await store.appendMessage(message(++id, "peers", "bob", "hello world, after ann", "group"));
    const page = await store.search("ann", ["WORLD", "hello"], {
      limit: 10,
      before: null,
      scanLimit: 1000,
    });
    assert.deepEqual(page.hits.map((hit) => [hit.id, hit.room]), [[id, "peers"], [10, "lobby"], [
      1,
      "lobby",
    ]]);
    assert.deepEqual([page.total, page.partial, page.next], [3, false, null]);
    assert.equal(page.hits[1].snippet, "[HELLO] [WORLD] again");
    assert.equal(page.hits[1].sender, "bob");
  });

  test("search pages: following next finds every match once", async (store) => {
    await store.createRoom({ kind: "room", name: "lobby", createdBy: null, createdAt: 0 });
    await store.addMembership("room", "lobby", "ann", 0);
    for (let id = 1; id <= 60; id++) {
      await store.appendMessage(
        message(id, "lobby", "bob", id % 3 === 0 ? `match ${id}` : `other ${id}`),
      );
    }
    for (const [limit, scanLimit] of [[4, 1000], [4, 10], [50, 7]]) {
      const found: number[] = [];
      let before: number | null = null;
      for (let pages = 0; pages < 100; pages++) {
        const page = await store.search("ann", ["match"], { limit, before, scanLimit });
        found.push(...page.hits.map((hit) => hit.id));
        assert.ok(page.hits.length <= limit);
        if (page.next === null) break;
        before = page.next;
      }
      const expected = Array.from({ length: 20 }, (_, i) => 60 - 3 * i);
      assert.deepEqual(found, expected, `limit ${limit}, scanLimit ${scanLimit}`);
    }
  });

  test("belonging starts and ends apart from having been in a room", async (store) => {
    for (const name of ["a", "b"]) {
      await store.createRoom({ kind: "room", name, createdBy: null, createdAt: 0 });
    }
    await store.setBelonging("b", "bob", true, 1);
    await store.setBelonging("a", "ann", true, 2);
    await store.setBelonging("b", "ann", true, 3);
    await store.setBelonging("b", "ann", true, 4); // belongs already: still since 3
    assert.deepEqual((await store.load()).belongings, [
      { room: "b", user: "bob" },
      { room: "a", user: "ann" },
      { room: "b", user: "ann" },
    ]);
    await store.appendMessage(message(1, "b", "bob", "hello"));
    await store.setBelonging("b", "ann", false, 5);
    assert.deepEqual((await store.load()).belongings.map((b) => b.user), ["bob", "ann"]);
    const page = await store.search("ann", ["hello"], { limit: 5, before: null, scanLimit: 10 });
    assert.deepEqual(page.hits.map((hit) => hit.id), [1], "ann has still been in b");
  });

  test("read positions: unread and mentions after them; posting reads", async (store) => {
    await store.createRoom({ kind: "room", name: "lobby", createdBy: null, createdAt: 0 });
    await store.createRoom({ kind: "room", name: "other", createdBy: null, createdAt: 0 });
    await store.setBelonging("lobby", "ann", true, 1);
    await store.addMembership("room", "lobby", "bob", 1);
    const counts = () => store.readCounts("room", ["lobby", "other", "none"], "ann");
    assert.deepEqual(await counts(), [0, 0, 0].map(() => ({ unread: 0, mentions: 0 })));
    await store.appendMessage(message(1, "lobby", "bob", "hi"));
    await store.appendMessage({ ...message(2, "lobby", "bob", "@ann"), mentions: ["ann"] });
    await store.appendMessage(message(3, "lobby", "bob", "there"));
    assert.deepEqual((await counts())[0], { unread: 3, mentions: 1 });
    await store.markRead("room", "lobby", "ann", 2);
    await store.markRead("room", "lobby", "ann", 1); // never down
    assert.deepEqual((await counts())[0], { unread: 1, mentions: 0 });
    await store.appendMessage(message(4, "lobby", "bob", "more"));
    await store.appendMessage(message(5, "lobby", "ann", "read it all"));
    assert.deepEqual((await counts())[0], { unread: 0, mentions: 0 });
    assert.deepEqual(await store.readCounts("room", ["lobby"], "bob"), [
      { unread: 1, mentions: 0 },
    ]);
    await store.markRead("room", "other", "ann", 5); // never there: nothing
    assert.deepEqual((await counts())[1], { unread: 0, mentions: 0 });
  });

  test("unread counts stop at MAX_COUNTED", async (store) => {
    await store.createRoom({ kind: "direct", name: "ann ↔ bob", createdBy: null, createdAt: 0 });
    await store.addMembership("direct", "ann ↔ bob", "ann", 0);
    for (let id = 1; id <= MAX_COUNTED + 2; id++) {
      await store.appendMessage({
        ...message(id, "ann ↔ bob", "bob", "@ann", "direct"),
        mentions: ["ann"],
      });
    }
    assert.deepEqual(await store.readCounts("direct", ["ann ↔ bob"], "ann"), [
      { unread: MAX_COUNTED, mentions: MAX_COUNTED },
    ]);
  });

  test("tokens: kept by hash, used, expired when idle, dropped, bounded per user", async (store) => {
    const token = (hash: string, user = "ann", createdAt = 1000) => ({ hash, user, createdAt });
    await store.saveToken(token("h1"), 3);
    await store.saveToken(token("h2", "ann", 2000), 3);
    await store.saveToken(token("h3", "bob"), 3);
    assert.equal(await store.useToken("h1", 3000, 10_000), "ann");
    assert.equal(await store.useToken("nope", 3000, 10_000), null);
    assert.equal(await store.useToken("h2", 12_500, 10_000), null, "unused since 2000");
    assert.equal(await store.useToken("h1", 12_500, 10_000), "ann", "used at 3000");
    await store.dropTokens("bob", "h1"); // not bob's
    assert.equal(await store.useToken("h1", 12_600, 10_000), "ann");
    await store.dropTokens("ann", "h1");
    assert.equal(await store.useToken("h1", 12_700, 10_000), null);
    for (let i = 0; i < 5; i++) await store.saveToken(token(`k${i}`, "carol", 20_000 + i), 2);
    assert.equal(await store.useToken("k2", 20_010, 10_000), null, "beyond the newest 2");
    assert.equal(await store.useToken("k4", 20_010, 10_000), "carol");
    await store.dropTokens("carol");
    assert.equal(await store.useToken("k4", 20_011, 10_000), null);
  });

  test("changing a password drops the account's tokens", async (store) => {
    await store.createAccount(account("ann"));
    await store.saveToken({ hash: "h", user: "ann", createdAt: 1 }, 5);
    assert.equal(await store.changePassword("ann", "scrypt$1024$8$1$$new"), true);
    assert.equal((await store.getAccount("ann"))?.passwordHash, "scrypt$1024$8$1$$new");
    assert.equal(await store.useToken("h", 2, 1000), null);
    assert.equal(await store.changePassword("nobody", "x"), false);
  });

  test("a closed store refuses work", async (store) => {
    await store.close();
    await assert.rejects(store.load(), StoreError);
  });
}
