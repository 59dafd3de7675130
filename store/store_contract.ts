/**
 * The contract of a {@link ChatStore}: tests that every store passes, run
 * against each (`memory_store_test.ts`, `sqlite_store_test.ts`,
 * `postgres/postgres_store_test.ts`), each on a new, empty store and
 * through the interface alone, so that the chat core may be tested on the
 * in-memory store and run on SQLite or PostgreSQL alike.
 * @module
 */

import assert from "node:assert/strict";
import { searchTerms } from "../protocol/search_text.ts";
import { type AccountRecord, MAX_COUNTED, type MessageRecord, type RoomKind } from "./records.ts";
import { StoreError } from "./schema.ts";
import type { ChatStore, HistoryRange, SearchOptions } from "./store.ts";

/** Search options: 10 results from the newest, looking through up to 1,000 messages. */
function options(given: Partial<SearchOptions> = {}): SearchOptions {
  return { limit: 10, before: null, scanLimit: 1000, ...given };
}

/** A message of `sender` in a room; its time is 1000 + its id. */
function message(
  id: number,
  room: string,
  sender: string,
  content: string,
  kind: RoomKind = "room",
): MessageRecord {
  return { kind, id, room, sender, time: 1000 + id, content };
}

/** The rooms lobby, 香港记者招待会 (ann's) and secret (carol's); ann has been in the lobby. */
async function seed(store: ChatStore): Promise<void> {
  await store.createRoom({ kind: "room", name: "lobby", createdBy: null, createdAt: 1 });
  await store.createRoom({ kind: "room", name: "香港记者招待会", createdBy: "ann", createdAt: 2 });
  await store.createRoom({ kind: "room", name: "secret", createdBy: "carol", createdAt: 3 });
  await store.addMembership("room", "lobby", "ann", 4);
}

/** Ann's messages in the lobby, with ids 1, 2, … in order. */
async function postInLobby(store: ChatStore, contents: string[]): Promise<void> {
  for (const [i, content] of contents.entries()) {
    await store.appendMessage(message(i + 1, "lobby", "ann", content));
  }
}

/** The ids of the first page of a search. */
async function found(store: ChatStore, user: string, query: string): Promise<number[]> {
  return (await store.search(user, searchTerms(query), options())).hits.map((h) => h.id);
}

function account(
  name: string,
  source: AccountRecord["source"] = "registered",
  passwordHash = `hash-of-${name}`,
): AccountRecord {
  return { name, passwordHash, source, disabled: false, createdAt: 1 };
}

/** Messages 1 to 5, all but the fourth about tea. */
const TEA = ["tea, tea, tea!", "some tea", "tea and more tea", "no match here", "a cup of tea"];

/**
 * Registers the contract's tests, named `name: …`, for the store that
 * `open` makes (a new, empty one each time; the test closes it), through
 * `define` (`Deno.test` unless given, e.g. one that ignores the tests when
 * the store's engine is missing).
 */
export function storeContract(
  name: string,
  open: () => Promise<ChatStore>,
  define: (name: string, fn: () => Promise<void>) => void = Deno.test,
): void {
  const test = (what: string, body: (store: ChatStore) => Promise<void>) =>
    define(`${name}: ${what}`, async () => {
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

  test("rooms are unique by kind and name; load lists the public ones in creation order", async (store) => {
    await seed(store);
    assert.equal(
      await store.createRoom({ kind: "room", name: "lobby", createdBy: "bob", createdAt: 9 }),
      false,
    );
    assert.equal(
      await store.createRoom({ kind: "group", name: "lobby", createdBy: null, createdAt: 9 }),
      true,
      "another kind",
    );
    const { rooms } = await store.load();
    assert.deepEqual(rooms, [
      { kind: "room", name: "lobby", createdBy: null, createdAt: 1 },
      { kind: "room", name: "香港记者招待会", createdBy: "ann", createdAt: 2 },
      { kind: "room", name: "secret", createdBy: "carol", createdAt: 3 },
    ]);
  });

  test("messages appended in one turn are stored in order, in their rooms", async (store) => {
    await seed(store);
    const rooms = ["lobby", "香港记者招待会"];
    const messages = Array.from(
      { length: 75 },
      (_, i) => message(i + 1, rooms[i % 2], "ann", `m${i + 1}`),
    );
    await Promise.all(messages.map((m) => store.appendMessage(m)));
    assert.deepEqual(
      (await store.history("room", "lobby", { limit: 100 })).messages.map((m) => m.id),
      messages.filter((m) => m.room === "lobby").map((m) => m.id),
    );
    const other = await store.history("room", "香港记者招待会", { limit: 100 });
    assert.equal(other.messages.length, 37);
    assert.deepEqual(other.messages[0], messages[1], "every field kept");
    assert.equal((await store.load()).lastMessageId, 75);
  });

  test("history returns the newest messages before an id, or the oldest after one", async (store) => {
    await seed(store);
    for (let id = 1; id <= 7; id++) {
      await store.appendMessage(message(id, "lobby", "ann", `m${id}`));
    }
    await store.appendMessage(message(8, "香港记者招待会", "ann", "elsewhere"));
    const page = async (range: HistoryRange) => {
      const { messages, more } = await store.history("room", "lobby", range);
      return { contents: messages.map((m) => m.content), more };
    };
    assert.deepEqual(await page({ limit: 3 }), { contents: ["m5", "m6", "m7"], more: true });
    assert.deepEqual(await page({ before: 5, limit: 3 }), {
      contents: ["m2", "m3", "m4"],
      more: true,
    });
    assert.deepEqual(await page({ before: 4, limit: 3 }), {
      contents: ["m1", "m2", "m3"],
      more: false,
    });
    assert.deepEqual(await page({ before: 1, limit: 3 }), { contents: [], more: false });
    assert.deepEqual(await page({ after: 4, limit: 2 }), { contents: ["m5", "m6"], more: true });
    assert.deepEqual(await page({ after: 5, limit: 2 }), { contents: ["m6", "m7"], more: false });
    assert.deepEqual(await page({ after: 7, limit: 2 }), { contents: [], more: false });
    assert.deepEqual(await page({ after: 2, before: 6, limit: 2 }), {
      contents: ["m3", "m4"],
      more: true,
    });
    assert.deepEqual(await page({ after: 2, floor: 5, limit: 5 }), {
      contents: ["m6", "m7"],
      more: false,
    });
    assert.deepEqual(await store.history("direct", "nobody", { limit: 3 }), {
      messages: [],
      more: false,
    });
  });

  test("history stops at maxBytes of content, but always gives one message", async (store) => {
    await seed(store);
    // 4, 3, 2, 1 UTF-8 bytes a character: each message is 4,000 bytes
    const texts = ["😀", "€", "é", "e"].map((c) =>
      c.repeat(4000 / new TextEncoder().encode(c).length)
    );
    await postInLobby(store, texts);
    const ids = async (range: HistoryRange) => {
      const { messages, more } = await store.history("room", "lobby", range);
      return { ids: messages.map((m) => m.id), more };
    };
    assert.deepEqual(await ids({ limit: 10, maxBytes: 8_000 }), { ids: [3, 4], more: true });
    assert.deepEqual(await ids({ limit: 10, maxBytes: 7_999 }), { ids: [4], more: true });
    assert.deepEqual(await ids({ limit: 10, maxBytes: 10 }), { ids: [4], more: true });
    assert.deepEqual(await ids({ before: 3, limit: 10, maxBytes: 8_000 }), {
      ids: [1, 2],
      more: false,
    });
    assert.deepEqual(await ids({ after: 1, limit: 10, maxBytes: 8_000 }), {
      ids: [2, 3],
      more: true,
    });
    assert.deepEqual(await ids({ limit: 10 }), { ids: [1, 2, 3, 4], more: false });
  });

  test("search finds substrings in any script, newest first, with matches marked", async (store) => {
    await seed(store);
    await store.addMembership("room", "香港记者招待会", "ann", 5);
    await store.appendMessage(message(1, "lobby", "ann", "the press conference starts at noon"));
    await store.appendMessage(message(2, "香港记者招待会", "江主席", "记者问题太简单"));
    await store.appendMessage(message(3, "lobby", "bob", "conference conference conference"));
    await store.appendMessage(message(4, "lobby", "bob", "nothing to see"));
    const { hits } = await store.search("ann", searchTerms("conference"), options());
    assert.deepEqual(hits.map((h) => h.id), [3, 1]);
    assert.equal(hits[1].snippet, "the press [conference] starts at noon");
    assert.deepEqual([hits[1].kind, hits[1].room, hits[1].sender, hits[1].time], [
      "room",
      "lobby",
      "ann",
      1001,
    ]);
    const chinese = (await store.search("ann", searchTerms("记者"), options())).hits;
    assert.deepEqual(chinese.map((h) => [h.room, h.sender, h.snippet]), [
      ["香港记者招待会", "江主席", "[记者]问题太简单"],
    ]);
    assert.deepEqual(await found(store, "ann", "问题太"), [2], "3+ characters use the index");
    assert.deepEqual(await found(store, "ann", "CONFERENCE noon"), [1], "all terms, any case");
  });

  test("search finds a term only where it occurs whole, in any case", async (store) => {
    await seed(store);
    await postInLobby(store, [
      "abc then xbcd",
      "an abcd here",
      "Chère ÉMILE, à bientôt",
      "chere emile",
    ]);
    assert.deepEqual(await found(store, "ann", "abcd"), [2]);
    assert.deepEqual(await found(store, "ann", "ABCD"), [2]);
    assert.deepEqual(await found(store, "ann", "émile"), [3], "any case, accents kept");
    assert.deepEqual(await found(store, "ann", "chère"), [3]);
  });

  test("search pages newest first, with how many match and where the next page starts", async (store) => {
    await seed(store);
    await postInLobby(store, TEA);
    const first = await store.search("ann", searchTerms("tea"), options({ limit: 2 }));
    assert.deepEqual(first.hits.map((h) => h.id), [5, 3]);
    assert.deepEqual([first.total, first.partial, first.next], [4, false, 3]);
    const second = await store.search("ann", searchTerms("tea"), options({ limit: 2, before: 3 }));
    assert.deepEqual(second.hits.map((h) => h.id), [2, 1]);
    assert.deepEqual([second.total, second.partial, second.next], [2, false, null]);
  });

  test("a page looks through at most scanLimit candidates, and says that older are left", async (store) => {
    await seed(store);
    await postInLobby(store, TEA);
    const first = await store.search("ann", searchTerms("tea"), options({ scanLimit: 2 }));
    assert.deepEqual(first.hits.map((h) => h.id), [5, 3], "the newest two candidates");
    assert.deepEqual([first.total, first.partial, first.next], [2, true, 3]);
    const second = await store.search(
      "ann",
      searchTerms("tea"),
      options({ scanLimit: 2, before: 3 }),
    );
    assert.deepEqual(second.hits.map((h) => h.id), [2, 1]);
    assert.deepEqual([second.total, second.partial, second.next], [2, false, null]);
  });

  test("short terms look through the newest scanLimit messages of the user's rooms only", async (store) => {
    await seed(store);
    await store.appendMessage(message(1, "lobby", "ann", "ab one"));
    await store.appendMessage(message(2, "lobby", "ann", "ab two"));
    await store.appendMessage(message(3, "lobby", "ann", "not this"));
    await Promise.all(
      Array.from(
        { length: 57 },
        (_, i) => store.appendMessage(message(i + 4, "secret", "carol", "ab, but not for ann")),
      ),
    );
    await store.appendMessage(message(61, "lobby", "ann", "ab three"));
    const first = await store.search("ann", searchTerms("ab"), options({ scanLimit: 2 }));
    assert.deepEqual(first.hits.map((h) => h.id), [61], "61 and 3 looked through");
    assert.deepEqual([first.total, first.partial, first.next], [1, true, 3]);
    const second = await store.search(
      "ann",
      searchTerms("ab"),
      options({ scanLimit: 2, before: 3 }),
    );
    assert.deepEqual(second.hits.map((h) => h.id), [2, 1], "past carol's 57 messages");
    assert.deepEqual([second.total, second.partial, second.next], [2, false, null]);
    const all = await store.search("ann", searchTerms("AB"), options({ limit: 1 }));
    assert.deepEqual([all.hits.map((h) => h.id), all.total, all.partial, all.next], [
      [61],
      3,
      false,
      61,
    ]);
  });

  test("search covers only rooms the user has been in and is not banned from", async (store) => {
    await seed(store);
    await store.appendMessage(message(1, "secret", "carol", "the treasure is buried here"));
    await store.appendMessage(message(2, "lobby", "ann", "where is the treasure?"));
    assert.deepEqual(await found(store, "ann", "treasure"), [2]);
    assert.deepEqual(await found(store, "carol", "treasure"), [1], "owners are members");
    assert.deepEqual(await found(store, "mallory", "treasure"), []);
    await store.ban({ room: "lobby", user: "ann", bannedBy: "carol", reason: "", time: 5 });
    assert.deepEqual(await found(store, "ann", "treasure"), [], "banned");
    assert.equal(await store.unban("lobby", "ann"), true);
    assert.equal(await store.unban("lobby", "ann"), false, "no ban left");
    assert.deepEqual(await found(store, "ann", "treasure"), [2], "ban lifted");
  });

  test("search takes quotes, operators and wildcards literally", async (store) => {
    await seed(store);
    await store.appendMessage(message(1, "lobby", "ann", 'say "NEAR" OR AND * ^ 100%_done \\o/'));
    await store.appendMessage(message(2, "lobby", "ann", "100 done, and a % alone"));
    for (const query of ['"NEAR"', "OR AND", "*", "100%_", 'NEAR"', "\\o/", "%_"]) {
      assert.deepEqual(await found(store, "ann", query), [1], query);
    }
    assert.deepEqual(await found(store, "ann", "%"), [2, 1]);
    assert.deepEqual(await store.search("ann", searchTerms("   "), options()), {
      hits: [],
      total: 0,
      partial: false,
      next: null,
    });
  });

  test("search covers a peer chat from the user's latest joining on; history from a floor", async (store) => {
    await seed(store);
    await store.createRoom({ kind: "group", name: "peer chat 1", createdBy: null, createdAt: 5 });
    await store.addMembership("group", "peer chat 1", "ann", 5, 0);
    await store.appendMessage(message(1, "peer chat 1", "ann", "early word", "group"));
    await store.addMembership("group", "peer chat 1", "bob", 7, 1);
    await store.appendMessage(message(2, "peer chat 1", "ann", "later word", "group"));
    await store.appendMessage(message(3, "lobby", "ann", "lobby word"));
    await store.addMembership("room", "lobby", "bob", 10);
    const ids = async (user: string) =>
      (await store.search(user, searchTerms("word"), options())).hits.map((hit) => hit.id).sort();
    assert.deepEqual(await ids("bob"), [2, 3]);
    assert.deepEqual(await ids("ann"), [1, 2, 3]);
    await store.addMembership("group", "peer chat 1", "ann", 11, 2);
    assert.deepEqual(await ids("ann"), [3], "ann left and came back");
    const history = await store.history("group", "peer chat 1", { limit: 10, floor: 1 });
    assert.deepEqual(history.messages.map((m) => m.id), [2]);
  });

  test("accounts: names are unique up to case and width, globals accounts sync with a seal", async (store) => {
    assert.equal(await store.createAccount(account("Alice")), true);
    assert.equal(await store.createAccount(account("alice")), false);
    assert.equal(await store.createAccount(account("ＡＬＩＣＥ")), false);
    assert.deepEqual(await store.getAccount("Alice"), account("Alice"));
    assert.equal(await store.getAccount("alice"), null);
    assert.equal(await store.globalsSeal(), null);
    await store.syncGlobalsAccounts(
      [account("bob", "globals"), account("carol", "globals")],
      "seal 1",
    );
    assert.equal(await store.globalsSeal(), "seal 1", "kept with the accounts");
    await store.syncGlobalsAccounts([account("bob", "globals", "new hash")], null);
    assert.equal(await store.globalsSeal(), null, "null removes it");
    assert.equal((await store.getAccount("carol"))?.disabled, true, "dropped: disabled");
    assert.equal((await store.getAccount("bob"))?.passwordHash, "new hash");
    assert.equal((await store.getAccount("Alice"))?.disabled, false, "registered: left alone");
    await assert.rejects(
      store.syncGlobalsAccounts([account("ALICE", "globals")], "seal 2"),
      (error: Error) =>
        error instanceof StoreError &&
        /looks like the existing account "Alice"/.test(error.message),
    );
    assert.equal(await store.globalsSeal(), null, "the failed sync changed nothing");
    assert.equal(await store.getAccount("ALICE"), null);
  });

  test("accounts: look-alike names count as taken, capital I for small l included", async (store) => {
    assert.equal(await store.createAccount(account("lan")), true);
    assert.equal(await store.createAccount(account("Ian")), false, "capital I looks like l");
    assert.equal(await store.createAccount(account("ian")), true, "small i does not");
    assert.equal(await store.createAccount(account("IAN")), false, "ian in capitals");
    assert.equal(await store.createAccount(account("\u0430nn")), true, "аnn, before ann");
    assert.equal(await store.createAccount(account("ann")), false, "then ann looks like it");
    await assert.rejects(
      store.syncGlobalsAccounts([account("ANN", "globals")], null),
      /looks like the existing account "аnn"/,
    );
    assert.equal(await store.accountLike("ann"), "аnn", "a look-alike's name");
    assert.equal(await store.accountLike("lan"), "lan", "the account itself");
    assert.equal(await store.accountLike("bob"), null);
  });

  test("load counts the accounts of each scrypt cost", async (store) => {
    const hashes = [
      "scrypt$1024$8$1$c2FsdA==$a2V5",
      "scrypt$16384$8$1$c2FsdA==$a2V5",
      "broken",
      "scrypt$16384$8$1$c2FsdA==$a2V5",
      "scrypt$x$8$1$c2FsdA==$a2V5",
    ];
    for (const [i, passwordHash] of hashes.entries()) {
      await store.createAccount({ ...account(`user${i}`, "registered", passwordHash) });
    }
    assert.deepEqual((await store.load()).passwordCosts, new Map([[1024, 1], [16384, 2]]));
  });

  test("bans replace earlier ones, and load lists them in time order", async (store) => {
    await seed(store);
    await store.ban({ room: "secret", user: "bob", bannedBy: "carol", reason: "spam", time: 7 });
    await store.ban({ room: "lobby", user: "dan", bannedBy: "carol", reason: "", time: 6 });
    await store.ban({ room: "secret", user: "bob", bannedBy: "ann", reason: "again", time: 8 });
    assert.deepEqual((await store.load()).bans, [
      { room: "lobby", user: "dan", bannedBy: "carol", reason: "", time: 6 },
      { room: "secret", user: "bob", bannedBy: "ann", reason: "again", time: 8 },
    ]);
    await assert.rejects(
      store.ban({ room: "nowhere", user: "bob", bannedBy: "ann", reason: "", time: 9 }),
      StoreError,
    );
  });

  test("direct conversations are listed with the newest message first", async (store) => {
    for (const [name, id] of [["ann ↔ bob", 1], ["ann ↔ carol", 2]] as const) {
      await Promise.all([
        store.createRoom({ kind: "direct", name, createdBy: null, createdAt: id }),
        store.addMembership("direct", name, "ann", id),
        store.appendMessage(message(id, name, "ann", "hello", "direct")),
      ]);
    }
    await store.createRoom({ kind: "direct", name: "ann ↔ dan", createdBy: null, createdAt: 3 });
    await store.addMembership("direct", "ann ↔ dan", "ann", 3);
    assert.deepEqual(await store.directRooms("ann"), ["ann ↔ carol", "ann ↔ bob", "ann ↔ dan"]);
    await store.appendMessage(message(4, "ann ↔ bob", "ann", "again", "direct"));
    assert.deepEqual(await store.directRooms("ann"), ["ann ↔ bob", "ann ↔ carol", "ann ↔ dan"]);
    assert.deepEqual(await store.directRooms("bob"), []);
  });

  test("a failing operation fails alone; the rest of its turn is stored", async (store) => {
    await seed(store);
    const results = await Promise.allSettled([
      store.appendMessage(message(1, "lobby", "ann", "one")),
      store.appendMessage(message(2, "no such room", "ann", "two")),
      store.addMembership("room", "no such room", "ann", 5),
      store.appendMessage(message(3, "lobby", "ann", "three")),
      store.appendMessage(message(3, "lobby", "ann", "the same id again")),
      store.createAccount(account("zed")),
    ]);
    assert.deepEqual(results.map((r) => r.status), [
      "fulfilled",
      "rejected",
      "rejected",
      "fulfilled",
      "rejected",
      "fulfilled",
    ]);
    for (const result of results) {
      if (result.status === "rejected") assert.ok(result.reason instanceof StoreError);
    }
    const { messages } = await store.history("room", "lobby", { limit: 10 });
    assert.deepEqual(messages.map((m) => m.content), ["one", "three"]);
    assert.notEqual(await store.getAccount("zed"), null);
    assert.equal((await store.load()).lastMessageId, 3);
  });

  test("in a turn of messages alone, one to a missing room or with an id taken fails alone", async (store) => {
    await seed(store);
    const results = await Promise.allSettled([
      store.appendMessage(message(1, "lobby", "ann", "one")),
      store.appendMessage(message(2, "no such room", "ann", "two")),
      store.appendMessage(message(3, "lobby", "ann", "three")),
    ]);
    assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
    const again = await Promise.allSettled([
      store.appendMessage(message(4, "lobby", "ann", "four")),
      store.appendMessage(message(3, "lobby", "ann", "the same id again")),
      store.appendMessage(message(5, "lobby", "ann", "five")),
    ]);
    assert.deepEqual(again.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
    for (const result of [...results, ...again]) {
      if (result.status === "rejected") assert.ok(result.reason instanceof StoreError);
    }
    const { messages } = await store.history("room", "lobby", { limit: 10 });
    assert.deepEqual(messages.map((m) => m.content), ["one", "three", "four", "five"]);
  });

  test("operations resolve in the order they were called, and reads see the writes before them", async (store) => {
    const order: string[] = [];
    await Promise.all([
      store.createRoom({ kind: "room", name: "lobby", createdBy: "ann", createdAt: 0 })
        .then(() => order.push("create")),
      store.appendMessage(message(1, "lobby", "ann", "a message")).then(() => order.push("append")),
      store.history("room", "lobby", { limit: 5 }).then((page) =>
        order.push(`history:${page.messages.length}`)
      ),
      store.getAccount("ann").then((found) => order.push(`account:${found !== null}`)),
    ]);
    assert.deepEqual(order, ["create", "append", "history:1", "account:false"]);
    assert.deepEqual(await found(store, "ann", "message"), [1], "search sees what resolved");
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
