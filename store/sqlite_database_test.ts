import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { SqliteDatabase } from "./sqlite_database.ts";
import { migrate, MIGRATIONS, SCHEMA_VERSION, StoreError } from "./schema.ts";
import { searchTerms } from "../protocol/search_text.ts";
import type { HistoryRange, SearchOptions } from "./store.ts";

async function tempPath(): Promise<string> {
  const dir = await Deno.makeTempDir();
  return `${dir}/claptrap.db`;
}

function seeded(path = ":memory:"): SqliteDatabase {
  const db = new SqliteDatabase(path);
  db.transaction(() => {
    db.createRoom({ kind: "room", name: "lobby", createdBy: null, createdAt: 1 });
    db.createRoom({ kind: "room", name: "香港记者招待会", createdBy: "ann", createdAt: 2 });
    db.createRoom({ kind: "room", name: "secret", createdBy: "carol", createdAt: 3 });
    db.addMembership("room", "lobby", "ann", 4);
  });
  return db;
}

function post(db: SqliteDatabase, id: number, room: string, sender: string, content: string) {
  db.transaction(() =>
    db.appendMessage({ kind: "room", id, room, sender, time: 1000 + id, content })
  );
}

/** A file as an older version left it: that version's schema, then `rows` by plain SQL. */
function olderFile(path: string, version: number, rows: string): DatabaseSync {
  const old = new DatabaseSync(path);
  migrate(old, path, version);
  old.exec(rows);
  return old;
}

/** Search options: 10 results from the newest, looking through up to 1,000 messages. */
function options(given: Partial<SearchOptions> = {}): SearchOptions {
  return { limit: 10, before: null, scanLimit: 1000, ...given };
}

/** The ids of the first page of a search. */
function found(db: SqliteDatabase, user: string, query: string): number[] {
  return db.search(user, searchTerms(query), options()).hits.map((h) => h.id);
}

/** Ann's messages in the lobby, with ids 1, 2, … in order. */
function postInLobby(db: SqliteDatabase, contents: string[]) {
  contents.forEach((content, i) => post(db, i + 1, "lobby", "ann", content));
}

Deno.test("a new database gets the latest schema and an empty state", () => {
  const db = new SqliteDatabase(":memory:");
  assert.deepEqual(db.load(), {
    rooms: [],
    bans: [],
    lastMessageId: 0,
    passwordCosts: new Map(),
    belongings: [],
  });
  db.close();
});

Deno.test("appendMessages stores any number of messages in order, in their rooms", () => {
  const db = seeded();
  const rooms = ["lobby", "香港记者招待会"];
  const messages = Array.from({ length: 75 }, (_, i) => ({
    kind: "room" as const,
    id: i + 1,
    room: rooms[i % 2],
    sender: "ann",
    time: 1000 + i,
    content: `m${i + 1}`,
  }));
  db.transaction(() => db.appendMessages(messages));
  assert.deepEqual(
    db.history("room", "lobby", { limit: 100 }).messages.map((m) => m.id),
    messages.filter((m) => m.room === "lobby").map((m) => m.id),
  );
  assert.equal(db.history("room", "香港记者招待会", { limit: 100 }).messages.length, 37);
  assert.equal(db.load().lastMessageId, 75);
  db.close();
});

Deno.test("history returns the newest messages before an id, oldest first", () => {
  const db = seeded();
  for (let id = 1; id <= 7; id++) post(db, id, "lobby", "ann", `m${id}`);
  post(db, 8, "香港记者招待会", "ann", "elsewhere");
  const page = (range: HistoryRange) => {
    const { messages, more } = db.history("room", "lobby", range);
    return { contents: messages.map((m) => m.content), more };
  };
  assert.deepEqual(page({ limit: 3 }), { contents: ["m5", "m6", "m7"], more: true });
  assert.deepEqual(page({ before: 5, limit: 3 }), { contents: ["m2", "m3", "m4"], more: true });
  assert.deepEqual(page({ before: 4, limit: 3 }), { contents: ["m1", "m2", "m3"], more: false });
  assert.deepEqual(page({ before: 2, limit: 3 }), { contents: ["m1"], more: false });
  assert.deepEqual(page({ before: 1, limit: 3 }), { contents: [], more: false });
  assert.deepEqual(page({ after: 4, limit: 2 }), { contents: ["m5", "m6"], more: true });
  assert.deepEqual(page({ after: 5, limit: 2 }), { contents: ["m6", "m7"], more: false });
  assert.deepEqual(page({ after: 7, limit: 2 }), { contents: [], more: false });
  assert.deepEqual(page({ after: 2, before: 6, limit: 2 }), { contents: ["m3", "m4"], more: true });
  assert.deepEqual(page({ after: 2, before: 6, limit: 3 }), {
    contents: ["m3", "m4", "m5"],
    more: false,
  });
  assert.equal(db.load().lastMessageId, 8);
  db.close();
});

Deno.test("history stops at maxBytes of content, but always gives one message", () => {
  const db = seeded();
  // 4, 3, 2, 1 UTF-8 bytes a character: each message is 4,000 bytes
  const texts = ["😀", "€", "é", "e"].map((c) =>
    c.repeat(4000 / new TextEncoder().encode(c).length)
  );
  texts.forEach((text, i) => post(db, i + 1, "lobby", "ann", text));
  const ids = (range: HistoryRange) => {
    const { messages, more } = db.history("room", "lobby", range);
    return { ids: messages.map((m) => m.id), more };
  };
  assert.deepEqual(ids({ limit: 10, maxBytes: 8_000 }), { ids: [3, 4], more: true });
  assert.deepEqual(ids({ limit: 10, maxBytes: 7_999 }), { ids: [4], more: true });
  assert.deepEqual(ids({ limit: 10, maxBytes: 10 }), { ids: [4], more: true }, "one, whole");
  assert.deepEqual(ids({ before: 3, limit: 10, maxBytes: 8_000 }), { ids: [1, 2], more: false });
  assert.deepEqual(ids({ after: 1, limit: 10, maxBytes: 8_000 }), { ids: [2, 3], more: true });
  assert.deepEqual(ids({ after: 1, limit: 10, maxBytes: 12_000 }), { ids: [2, 3, 4], more: false });
  assert.deepEqual(ids({ limit: 10 }), { ids: [1, 2, 3, 4], more: false }, "no bound");
  db.close();
});

Deno.test("search finds substrings in any script, newest first, with matches marked", () => {
  const db = seeded();
  db.transaction(() => db.addMembership("room", "香港记者招待会", "ann", 5));
  post(db, 1, "lobby", "ann", "the press conference starts at noon");
  post(db, 2, "香港记者招待会", "江主席", "记者问题太简单");
  post(db, 3, "lobby", "bob", "conference conference conference");
  post(db, 4, "lobby", "bob", "nothing to see");
  const { hits } = db.search("ann", searchTerms("conference"), options());
  assert.deepEqual(hits.map((h) => h.id), [3, 1]);
  assert.equal(hits[1].snippet, "the press [conference] starts at noon");
  assert.equal(hits[1].room, "lobby");
  const chinese = db.search("ann", searchTerms("记者"), options()).hits;
  assert.deepEqual(chinese.map((h) => [h.room, h.sender, h.snippet]), [
    ["香港记者招待会", "江主席", "[记者]问题太简单"],
  ]);
  assert.deepEqual(
    found(db, "ann", "问题太"),
    [2],
    "3+ characters use the index",
  );
  assert.deepEqual(
    found(db, "ann", "CONFERENCE noon"),
    [1],
    "all terms, any case",
  );
  db.close();
});

Deno.test("search finds a term only where it occurs whole, not where its trigrams are apart", () => {
  const db = seeded();
  postInLobby(db, ["abc then xbcd", "an abcd here", "Chère ÉMILE, à bientôt", "chere emile"]);
  assert.deepEqual(found(db, "ann", "abcd"), [2]);
  assert.deepEqual(found(db, "ann", "ABCD"), [2]);
  assert.deepEqual(found(db, "ann", "émile"), [3], "any case, accents kept");
  assert.deepEqual(found(db, "ann", "chère"), [3]);
  db.close();
});

/** Messages 1 to 5, all but the fourth about tea. */
const TEA = ["tea, tea, tea!", "some tea", "tea and more tea", "no match here", "a cup of tea"];

Deno.test("search pages newest first, with how many match and where the next page starts", () => {
  const db = seeded();
  postInLobby(db, TEA);
  const first = db.search("ann", searchTerms("tea"), options({ limit: 2 }));
  assert.deepEqual(first.hits.map((h) => h.id), [5, 3]);
  assert.deepEqual([first.total, first.partial, first.next], [4, false, 3]);
  const second = db.search("ann", searchTerms("tea"), options({ limit: 2, before: 3 }));
  assert.deepEqual(second.hits.map((h) => h.id), [2, 1]);
  assert.deepEqual([second.total, second.partial, second.next], [2, false, null]);
  db.close();
});

Deno.test("a page looks through at most scanLimit index candidates, and says that older are left", () => {
  const db = seeded();
  postInLobby(db, TEA);
  const first = db.search("ann", searchTerms("tea"), options({ scanLimit: 2 }));
  assert.deepEqual(first.hits.map((h) => h.id), [5, 3], "the newest two candidates");
  assert.deepEqual([first.total, first.partial, first.next], [2, true, 3]);
  const second = db.search("ann", searchTerms("tea"), options({ scanLimit: 2, before: 3 }));
  assert.deepEqual(second.hits.map((h) => h.id), [2, 1]);
  assert.deepEqual([second.total, second.partial, second.next], [2, false, null]);
  db.close();
});

Deno.test("short terms look through the newest scanLimit messages of the user's rooms only", () => {
  const db = seeded();
  post(db, 1, "lobby", "ann", "ab one");
  post(db, 2, "lobby", "ann", "ab two");
  post(db, 3, "lobby", "ann", "not this");
  for (let id = 4; id <= 60; id++) post(db, id, "secret", "carol", "ab, but not for ann");
  post(db, 61, "lobby", "ann", "ab three");
  const first = db.search("ann", searchTerms("ab"), options({ scanLimit: 2 }));
  assert.deepEqual(first.hits.map((h) => h.id), [61], "61 and 3 looked through");
  assert.deepEqual([first.total, first.partial, first.next], [1, true, 3]);
  const second = db.search("ann", searchTerms("ab"), options({ scanLimit: 2, before: 3 }));
  assert.deepEqual(second.hits.map((h) => h.id), [2, 1], "past carol's 57 messages");
  assert.deepEqual([second.total, second.partial, second.next], [2, false, null]);
  const all = db.search("ann", searchTerms("AB"), options({ limit: 1 }));
  assert.deepEqual([all.hits.map((h) => h.id), all.total, all.partial, all.next], [
    [61],
    3,
    false,
    61,
  ]);
  db.close();
});

Deno.test("search only covers rooms the user has been in and is not banned from", () => {
  const db = seeded();
  post(db, 1, "secret", "carol", "the treasure is buried here");
  post(db, 2, "lobby", "ann", "where is the treasure?");
  assert.deepEqual(found(db, "ann", "treasure"), [2]);
  assert.deepEqual(found(db, "carol", "treasure"), [1], "owners are members");
  assert.deepEqual(found(db, "mallory", "treasure"), []);
  db.close();
});

Deno.test("search takes quotes and operators literally", () => {
  const db = seeded();
  post(db, 1, "lobby", "ann", 'say "NEAR" OR AND * ^ 100%_done');
  for (const query of ['"NEAR"', "OR AND", "*", "100%_", 'NEAR"', "%"]) {
    assert.deepEqual(found(db, "ann", query), [1], query);
  }
  assert.deepEqual(db.search("ann", searchTerms("   "), options()), {
    hits: [],
    total: 0,
    partial: false,
    next: null,
  });
  db.close();
});

Deno.test("the full-text index catches up in steps and before every search", () => {
  const db = seeded();
  db.transaction(() => {
    for (let id = 1; id <= 5; id++) {
      db.appendMessage({
        kind: "room",
        id,
        room: "lobby",
        sender: "ann",
        time: id,
        content: "x".repeat(100),
      });
    }
  });
  assert.equal(db.transaction(() => db.indexPending(250)), 2, "stops at the character budget");
  assert.equal(db.transaction(() => db.indexPending(1)), 1, "always at least one message");
  assert.equal(db.transaction(() => db.indexPending(1e6, 1)), 1, "stops at the message budget");
  post(db, 6, "lobby", "ann", "needle");
  assert.deepEqual(found(db, "ann", "needle"), [6]);
  assert.equal(db.transaction(() => db.indexPending(-1)), 0, "search indexed the rest");
  db.close();
});

Deno.test("an index step committed without waiting for the disk is kept, and undone when it fails", async () => {
  const path = await tempPath();
  const db = seeded(path);
  postInLobby(db, ["kept apple", "second apple"]);
  assert.throws(() =>
    db.transactionNotFlushed(() => {
      db.indexPending(-1);
      throw new Error("stop");
    }), /stop/);
  assert.equal(
    db.transactionNotFlushed(() => db.indexPending(1e6)),
    2,
    "the failed step left nothing",
  );
  post(db, 3, "lobby", "ann", "third apple, flushed by an ordinary commit");
  db.close();
  const reopened = new SqliteDatabase(path);
  assert.equal(
    reopened.transaction(() => reopened.indexPending(1e6)),
    1,
    "only the third is waiting",
  );
  assert.deepEqual(found(reopened, "ann", "apple").sort(), [1, 2, 3]);
  reopened.close();
});

Deno.test("a database reopened with messages not yet indexed indexes them, then keeps up", async () => {
  const path = await tempPath();
  const first = seeded(path);
  postInLobby(first, ["x".repeat(100), "x".repeat(100), "x".repeat(100), "x".repeat(100)]);
  first.close();
  const db = new SqliteDatabase(path);
  assert.equal(db.transaction(() => db.indexPending(250)), 2, "stops at the character budget");
  assert.equal(db.transaction(() => db.indexPending(1e6)), 2, "takes the rest");
  assert.equal(db.transaction(() => db.indexPending(1e6)), 0);
  post(db, 5, "lobby", "ann", "needle in a new message");
  assert.equal(db.transaction(() => db.indexPending(1e6)), 1, "a message stored since");
  assert.deepEqual(found(db, "ann", "needle"), [5]);
  db.close();
});

Deno.test("after a rollback the index takes exactly the messages that were committed", () => {
  const db = seeded();
  postInLobby(db, ["one apple", "two apples"]);
  assert.throws(() =>
    db.transaction(() => {
      db.appendMessage({
        kind: "room",
        id: 3,
        room: "lobby",
        sender: "ann",
        time: 3,
        content: "a rolled back apple",
      });
      throw new Error("disk full");
    }), /disk full/);
  assert.equal(db.unindexedMessages, Infinity, "after a rollback only the database knows");
  post(db, 4, "lobby", "ann", "four apples");
  assert.equal(db.transaction(() => db.indexPending(1e6)), 3);
  assert.equal(db.unindexedMessages, 0, "known again once a step reached the newest message");
  post(db, 5, "lobby", "ann", "five apples");
  assert.equal(db.unindexedMessages, 1);
  assert.equal(db.transaction(() => db.indexPending(1e6)), 1);
  assert.deepEqual(found(db, "ann", "apple").sort(), [1, 2, 4, 5]);
  db.close();
});

Deno.test("accounts: names are unique up to case and width, globals accounts sync", () => {
  const db = new SqliteDatabase(":memory:");
  const account = (name: string, source: "globals" | "registered" = "registered") => ({
    name,
    passwordHash: `hash-of-${name}`,
    source,
    disabled: false,
    createdAt: 1,
  });
  assert.equal(db.createAccount(account("Alice")), true);
  assert.equal(db.createAccount(account("alice")), false);
  assert.equal(db.createAccount(account("ＡＬＩＣＥ")), false);
  assert.equal(db.globalsSeal(), null);
  db.transaction(() =>
    db.syncGlobalsAccounts([account("bob", "globals"), account("carol", "globals")], "seal 1")
  );
  assert.equal(db.globalsSeal(), "seal 1", "kept with the accounts");
  db.transaction(() => db.syncGlobalsAccounts([account("bob", "globals")], null));
  assert.equal(db.globalsSeal(), null, "null removes it");
  assert.equal(db.getAccount("carol")?.disabled, true, "dropped from globals: disabled");
  assert.equal(db.getAccount("bob")?.disabled, false);
  assert.equal(db.getAccount("Alice")?.disabled, false, "registered accounts are left alone");
  assert.throws(
    () => db.syncGlobalsAccounts([account("ALICE", "globals")], null),
    /looks like the existing account "Alice"/,
  );
  db.close();
});

Deno.test("data survives closing and reopening the file", async () => {
  const path = await tempPath();
  const db = seeded(path);
  post(db, 1, "lobby", "ann", "persisted");
  db.close();
  const again = new SqliteDatabase(path);
  assert.deepEqual(again.load().rooms.map((r) => r.name), ["lobby", "香港记者招待会", "secret"]);
  assert.equal(again.history("room", "lobby", { limit: 10 }).messages[0].content, "persisted");
  again.close();
  await Deno.remove(path.replace(/\/claptrap.db$/, ""), { recursive: true });
});

Deno.test("an old-version file is migrated forward, its data kept and indexed", async () => {
  const path = await tempPath();
  const old = olderFile(
    path,
    1,
    `INSERT INTO rooms (id, kind, name, created_by, created_at) VALUES (1, 'room', 'lobby', 'ann', 1);
     INSERT INTO messages VALUES (1, 1, 'bob', 2, 'written by version one');`,
  );
  assert.equal(
    (old.prepare("PRAGMA user_version").get() as { user_version: number }).user_version,
    1,
  );
  old.close();

  const db = new SqliteDatabase(path);
  assert.equal(SCHEMA_VERSION, MIGRATIONS.length);
  assert.deepEqual(found(db, "bob", "version one"), [1], "indexed");
  post(db, 2, "lobby", "bob", "written after the upgrade");
  assert.deepEqual(found(db, "bob", "written").sort(), [1, 2]);
  assert.deepEqual(
    found(db, "bob", "version one"),
    [1],
    "the sender became a member",
  );
  assert.deepEqual(
    found(db, "ann", "version"),
    [1],
    "the creator became the owner",
  );
  db.close();
  await Deno.remove(path.replace(/\/claptrap.db$/, ""), { recursive: true });
});

Deno.test("a version-4 file keeps its messages searchable once its index is rebuilt without sizes", async () => {
  const path = await tempPath();
  const old = olderFile(
    path,
    4,
    `INSERT INTO rooms (id, kind, name, created_by, created_at) VALUES (1, 'room', 'lobby', 'ann', 1);
     INSERT INTO memberships VALUES (1, 'ann', 'owner', 1);
     INSERT INTO messages VALUES (1, 1, 'ann', 2, 'indexed by version four');
     INSERT INTO messages VALUES (2, 1, 'ann', 3, 'not indexed yet by version four');
     INSERT INTO messages_fts (rowid, content) VALUES (1, 'indexed by version four');
     UPDATE index_state SET indexed_up_to = 1;`,
  );
  old.close();
  const db = new SqliteDatabase(path);
  assert.deepEqual(found(db, "ann", "version four").sort(), [1, 2]);
  db.close();
  await Deno.remove(path.replace(/\/claptrap.db$/, ""), { recursive: true });
});

Deno.test("a database written by a newer version is refused", async () => {
  const path = await tempPath();
  const raw = new DatabaseSync(path);
  raw.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
  raw.close();
  assert.throws(
    () => new SqliteDatabase(path),
    (e: Error) =>
      e instanceof StoreError && /written by a newer Claptrap \(schema version \d+/.test(e.message),
  );
  await Deno.remove(path.replace(/\/claptrap.db$/, ""), { recursive: true });
});

Deno.test("a corrupt or foreign file is refused, never replaced by a fresh database", async () => {
  const path = await tempPath();
  await Deno.writeTextFile(path, "this is not a database, it is a shopping list\n".repeat(200));
  const before = await Deno.readFile(path);
  assert.throws(
    () => new SqliteDatabase(path),
    (e: Error) => e instanceof StoreError && e.message.startsWith(`cannot use database ${path}:`),
  );
  assert.deepEqual(await Deno.readFile(path), before, "the file is untouched");

  const good = seeded(path.replace("claptrap.db", "good.db"));
  for (let id = 1; id <= 2000; id++) {
    good.transaction(() =>
      good.appendMessage({
        kind: "room",
        id,
        room: "lobby",
        sender: "ann",
        time: id,
        content: "y".repeat(200),
      })
    );
  }
  good.close();
  const bytes = await Deno.readFile(path.replace("claptrap.db", "good.db"));
  bytes.fill(0x5a, 8192, 40960); // scribble over pages in the middle
  await Deno.writeFile(path, bytes);
  assert.throws(() => new SqliteDatabase(path), StoreError);
  await Deno.remove(path.replace(/\/claptrap.db$/, ""), { recursive: true });
});

Deno.test("load counts the accounts of each scrypt cost", () => {
  const db = new SqliteDatabase(":memory:");
  const hashes = ["scrypt$1024$8$1$c2FsdA==$a2V5", "scrypt$16384$8$1$c2FsdA==$a2V5", "broken"];
  hashes.push("scrypt$16384$8$1$c2FsdA==$a2V5");
  hashes.forEach((passwordHash, i) =>
    db.createAccount({
      name: `user${i}`,
      passwordHash,
      source: "registered",
      disabled: i === 3,
      createdAt: 0,
    })
  );
  assert.deepEqual(db.load().passwordCosts, new Map([[1024, 1], [16384, 2]]));
  db.close();
});

Deno.test("accounts: look-alike names count as taken, capital I for small l included", () => {
  const db = new SqliteDatabase(":memory:");
  const account = (name: string) => ({
    name,
    passwordHash: `hash-of-${name}`,
    source: "registered" as const,
    disabled: false,
    createdAt: 1,
  });
  assert.equal(db.createAccount(account("lan")), true);
  assert.equal(db.createAccount(account("Ian")), false, "capital I looks like l");
  assert.equal(db.createAccount(account("ian")), true, "small i does not");
  assert.equal(db.createAccount(account("IAN")), false, "ian in capitals");
  assert.equal(db.createAccount(account("\u0430nn")), true, "аnn, before ann exists");
  assert.equal(db.createAccount(account("ann")), false, "then ann looks like it");
  assert.throws(
    () => db.syncGlobalsAccounts([{ ...account("ANN"), source: "globals" }], null),
    /looks like the existing account "аnn"/,
  );
  db.close();
});

Deno.test("a version-6 file: look-alike accounts stay, keys are remade, DMs split, peer chats bounded", async () => {
  const path = await tempPath();
  const old = olderFile(
    path,
    6,
    `INSERT INTO accounts VALUES ('alice', 'alice', 'h1', 'registered', 0, 1);
     INSERT INTO accounts VALUES ('\u0430lice', '\u0430lice', 'h2', 'registered', 0, 2);
     INSERT INTO rooms VALUES (1, 'direct', 'a ↔ b ↔ c', NULL, 3);
     INSERT INTO memberships VALUES (1, 'a ↔ b', 'member', 3), (1, 'c', 'member', 3),
       (1, 'a', 'member', 4), (1, 'b ↔ c', 'member', 4);
     INSERT INTO messages VALUES (1, 1, 'a ↔ b', 3, 'to c, first pair');
     INSERT INTO messages VALUES (2, 1, 'a', 4, 'to b ↔ c, second pair');
     INSERT INTO messages VALUES (3, 1, 'c', 5, 'back to a ↔ b');
     INSERT INTO rooms VALUES (2, 'direct', 'ann ↔ bob', NULL, 6);
     INSERT INTO memberships VALUES (2, 'ann', 'member', 6), (2, 'bob', 'member', 6);
     INSERT INTO messages VALUES (4, 2, 'ann', 6, 'plain pair');
     INSERT INTO rooms VALUES (3, 'group', 'peer chat 1', NULL, 7);
     INSERT INTO memberships VALUES (3, 'ann', 'member', 7), (3, 'bob', 'member', 7);
     INSERT INTO messages VALUES (5, 3, 'ann', 8, 'before carol came');
     INSERT INTO memberships VALUES (3, 'carol', 'member', 9);
     INSERT INTO messages VALUES (6, 3, 'ann', 10, 'after carol came');`,
  );
  old.close();

  const db = new SqliteDatabase(path);
  assert.equal(db.getAccount("alice")?.passwordHash, "h1");
  assert.equal(db.getAccount("\u0430lice")?.passwordHash, "h2", "both stay, and may log in");
  assert.equal(db.createAccount({ ...db.getAccount("alice")!, name: "ALICE" }), false);
  const rooms = (user: string) =>
    db.search(user, searchTerms("pair"), options({ limit: 10 })).hits.map((
      hit,
    ) => [hit.id, hit.room]).sort();
  assert.deepEqual(rooms("c"), [[1, "a \\↔ b ↔ c"]]);
  assert.deepEqual(rooms("a ↔ b"), [[1, "a \\↔ b ↔ c"]]);
  assert.deepEqual(rooms("a"), [[2, "a ↔ b \\↔ c"]]);
  assert.deepEqual(rooms("b ↔ c"), [[2, "a ↔ b \\↔ c"]]);
  assert.deepEqual(rooms("bob"), [[4, "ann ↔ bob"]], "a plain pair keeps its name");
  assert.deepEqual(
    db.history("direct", "a \\↔ b ↔ c", { limit: 10 }).messages.map((m) => m.id),
    [1, 3],
  );
  assert.deepEqual(
    db.search("carol", searchTerms("came"), options({ limit: 10 })).hits.map((hit) => hit.id),
    [
      6,
    ],
  );
  assert.deepEqual(
    db.search("bob", searchTerms("came"), options({ limit: 10 })).hits.map((hit) => hit.id).sort(),
    [5, 6],
  );
  db.close();
  await Deno.remove(path.replace(/\/claptrap.db$/, ""), { recursive: true });
});

Deno.test("search covers a peer chat from the user's latest joining on, other rooms whole", () => {
  const db = seeded();
  db.transaction(() => {
    db.createRoom({ kind: "group", name: "peer chat 1", createdBy: null, createdAt: 5 });
    db.addMembership("group", "peer chat 1", "ann", 5, 0);
    db.appendMessage({
      kind: "group",
      id: 1,
      room: "peer chat 1",
      sender: "ann",
      time: 6,
      content: "early word",
    });
    db.addMembership("group", "peer chat 1", "bob", 7, 1);
    db.appendMessage({
      kind: "group",
      id: 2,
      room: "peer chat 1",
      sender: "ann",
      time: 8,
      content: "later word",
    });
    db.appendMessage({
      kind: "room",
      id: 3,
      room: "lobby",
      sender: "ann",
      time: 9,
      content: "lobby word",
    });
    db.addMembership("room", "lobby", "bob", 10);
  });
  assert.deepEqual(
    db.search("bob", searchTerms("word"), options({ limit: 10 })).hits.map((hit) => hit.id).sort(),
    [2, 3],
  );
  assert.deepEqual(
    db.search("ann", searchTerms("word"), options({ limit: 10 })).hits.map((hit) => hit.id).sort(),
    [1, 2, 3],
  );
  db.transaction(() => db.addMembership("group", "peer chat 1", "ann", 11, 2));
  assert.deepEqual(
    db.search("ann", searchTerms("word"), options({ limit: 10 })).hits.map((hit) => hit.id),
    [3],
    "ann left and came back",
  );
  assert.deepEqual(
    db.history("group", "peer chat 1", { limit: 10, floor: 1 }).messages.map((m) => m.id),
    [
      2,
    ],
  );
  db.close();
});

Deno.test("the read positions posting moved are written at close, and made again after a crash", async () => {
  const path = await tempPath();
  const readUpTo = (user: string) => {
    const raw = new DatabaseSync(path);
    const row = raw.prepare("SELECT read_up_to FROM memberships WHERE user = ?").get(user);
    raw.close();
    return (row as { read_up_to: number }).read_up_to;
  };
  const closed = seeded(path);
  closed.transaction(() => closed.addMembership("room", "lobby", "bob", 5));
  post(closed, 1, "lobby", "ann", "one");
  post(closed, 2, "lobby", "bob", "two");
  assert.deepEqual(closed.readCounts("room", ["lobby"], "ann"), [{ unread: 1, mentions: 0 }]);
  closed.close();
  assert.deepEqual([readUpTo("ann"), readUpTo("bob")], [1, 2]);

  // a server killed before it wrote them: the messages are stored, the positions not
  const crashed = new SqliteDatabase(path, { postedReadsEveryMs: 3_600_000 });
  post(crashed, 3, "lobby", "ann", "three");
  post(crashed, 4, "lobby", "ann", "four");
  post(crashed, 5, "lobby", "bob", "five");
  assert.deepEqual([readUpTo("ann"), readUpTo("bob")], [1, 2]);
  const reopened = new SqliteDatabase(path);
  assert.deepEqual(reopened.readCounts("room", ["lobby"], "ann"), [{ unread: 1, mentions: 0 }]);
  assert.deepEqual(reopened.readCounts("room", ["lobby"], "bob"), [{ unread: 0, mentions: 0 }]);
  assert.deepEqual([readUpTo("ann"), readUpTo("bob")], [4, 5]);
  reopened.close();
  crashed.close();
});

Deno.test("the read positions posting moved are written with a later batch once their time is up", async () => {
  const path = await tempPath();
  const db = new SqliteDatabase(path, { postedReadsEveryMs: 0 });
  db.transaction(() =>
    db.createRoom({ kind: "room", name: "lobby", createdBy: null, createdAt: 1 })
  );
  db.transaction(() => db.addMembership("room", "lobby", "ann", 2));
  post(db, 1, "lobby", "ann", "one");
  post(db, 2, "lobby", "bob", "two");
  const raw = new DatabaseSync(path);
  const row = raw.prepare("SELECT read_up_to FROM memberships WHERE user = 'ann'").get();
  assert.equal((row as { read_up_to: number }).read_up_to, 1);
  raw.close();
  db.close();
});
