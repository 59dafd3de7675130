import assert from "node:assert/strict";
import { engineTest, POSTGRES_MISSING, startPostgres } from "../../tests/engines.ts";
import { withTimeout } from "../../tests/helpers.ts";
import type { MessageRecord } from "../records.ts";
import { connect } from "./connection.ts";
import { PostgresStore } from "./postgres_store.ts";

const ROOMS = ["lobby", "random", "quiet", "busy"];

function message(id: number, room: string): MessageRecord {
  return { kind: "room", id, room, sender: "ann", time: id, content: `message ${id} in ${room}` };
}

/** A store on a new database with the rooms of ROOMS. */
async function newStore(
  url?: string,
  batchWaitMs = 0,
): Promise<{ store: PostgresStore; url: string }> {
  url ??= await (await startPostgres()).createDatabase();
  const store = await PostgresStore.open(url, { batchWaitMs });
  for (const name of ROOMS) {
    await store.createRoom({ kind: "room", name, createdBy: null, createdAt: 0 });
  }
  return { store, url };
}

engineTest(
  POSTGRES_MISSING,
  "posts made meanwhile are committed together (group commit)",
  async () => {
    const { store } = await newStore();
    const before = store.batches;
    await Promise.all(
      Array.from({ length: 500 }, (_, i) => store.appendMessage(message(i + 1, "lobby"))),
    );
    const batches = store.batches - before;
    assert.ok(batches < 10, `500 posts took ${batches} commits`);
    const page = await store.history("room", "lobby", { limit: 3 });
    assert.deepEqual(page.messages.map((m) => m.id), [498, 499, 500]);
    await store.close();
  },
);

/** The next turn of the event loop: a batch sent in a microtask is under way by then. */
const nextTurn = () => new Promise((resolve) => setTimeout(resolve, 0));

engineTest(
  POSTGRES_MISSING,
  "a message soon after another waits for more to share its commit when none is under way, unless something else comes",
  async () => {
    const { store: alone } = await newStore(undefined, 0);
    await alone.appendMessage(message(1, "lobby"));
    await nextTurn(); // its batch is over
    let before = alone.batches;
    const first = alone.appendMessage(message(2, "lobby"));
    await nextTurn();
    await Promise.all([first, alone.appendMessage(message(3, "lobby"))]);
    assert.equal(
      alone.batches - before,
      2,
      "without a wait, a message posted a turn later goes alone",
    );
    await alone.close();

    const { store, url } = await newStore(undefined, 300);
    await store.appendMessage(message(1, "lobby"));
    await nextTurn(); // its batch is over
    before = store.batches;
    const early = store.appendMessage(message(2, "lobby"));
    await nextTurn();
    await Promise.all([early, store.appendMessage(message(3, "lobby"))]);
    assert.equal(store.batches - before, 1, "a message posted a turn later shares the commit");
    assert.deepEqual(store.batchSizes.at(-1), 2);
    await store.close();

    // after a quiet while (more than 4 waits), a message goes at once
    const quick = await PostgresStore.open(url, { batchWaitMs: 50 });
    await quick.appendMessage(message(4, "lobby"));
    await new Promise((resolve) => setTimeout(resolve, 400));
    before = quick.batches;
    const afterQuiet = quick.appendMessage(message(5, "lobby"));
    await nextTurn();
    await Promise.all([afterQuiet, quick.appendMessage(message(6, "lobby"))]);
    assert.equal(quick.batches - before, 2, "a message after a quiet while does not wait");
    await quick.close();

    // waits of a minute: anything else, or closing, sends the waiting message at once
    const patient = await PostgresStore.open(url, { batchWaitMs: 60_000 });
    await patient.appendMessage(message(7, "lobby"));
    before = patient.batches;
    await nextTurn(); // its batch is over
    const waiting = patient.appendMessage(message(8, "lobby"));
    await nextTurn();
    const room = patient.createRoom({ kind: "room", name: "later", createdBy: null, createdAt: 0 });
    await withTimeout(Promise.all([waiting, room]), 20_000, "a message followed by a room");
    assert.equal(patient.batches - before, 1);
    await nextTurn();
    const waits = patient.appendMessage(message(9, "lobby"));
    await nextTurn();
    const read = patient.messagesAfter("room", "lobby", 8, 10);
    const [stored] = await withTimeout(
      Promise.all([waits, read]),
      20_000,
      "reading what came after",
    );
    assert.equal(stored.seq, 9);
    const last = patient.appendMessage(message(10, "lobby"));
    await withTimeout(patient.close(), 20_000, "closing");
    assert.equal((await last).seq, 10);
  },
);

engineTest(
  POSTGRES_MISSING,
  "each room numbers its messages 1, 2, … in the order they were posted",
  async () => {
    const { store } = await newStore();
    const posted = Array.from({ length: 300 }, (_, i) => message(i + 1, ROOMS[(i * 7) % 3]));
    const stored = await Promise.all(posted.map((m) => store.appendMessage(m)));
    for (const room of ROOMS) {
      const seqs = posted.flatMap((m, i) => m.room === room ? [stored[i].seq] : []);
      assert.deepEqual(seqs, seqs.map((_, i) => i + 1), room);
      const after = await store.messagesAfter("room", room, 2, 1000);
      assert.deepEqual(
        after.map((m) => [m.seq, m.id]),
        posted.filter((m) => m.room === room).slice(2).map((m, i) => [i + 3, m.id]),
      );
    }
    const tenth = posted.filter((m) => m.room === "lobby")[9].id;
    assert.deepEqual(
      (await store.messagesAfter("room", "lobby", 2, 5, tenth)).map((m) => m.seq),
      [11, 12, 13, 14, 15],
      "and above an id",
    );
    const last = (room: string) => posted.findLast((m) => m.room === room)!.id;
    assert.deepEqual(
      (await store.lastSequences(0)).rooms.sort((a, b) => a.name.localeCompare(b.name)),
      [
        { kind: "room", name: "lobby", lastSeq: 100, lastId: last("lobby") },
        { kind: "room", name: "quiet", lastSeq: 100, lastId: last("quiet") },
        { kind: "room", name: "random", lastSeq: 100, lastId: last("random") },
      ],
      "rooms without messages are left out",
    );
    assert.deepEqual(await store.messagesAfter("room", "no such room", 0, 10), []);
    await store.close();
  },
);

engineTest(
  POSTGRES_MISSING,
  "a batch of one room's messages is numbered in order and moves the room's row on to its largest id, whether ids are given or taken; one for a room that is not there stores nothing",
  async () => {
    const url = await (await startPostgres()).createDatabase();
    const given = (await newStore(url)).store;
    const ids = Array.from({ length: 40 }, (_, i) => 1000 + 3 * i);
    let before = given.batches;
    const stored = await Promise.all(ids.map((id) => given.appendMessage(message(id, "busy"))));
    assert.equal(given.batches - before, 1, "one batch");
    assert.deepEqual(stored.map((one) => one.seq), ids.map((_, i) => i + 1));
    assert.deepEqual(stored.map((one) => one.id), ids);
    const busyAfter = async (store: PostgresStore) =>
      (await store.lastSequences(0)).rooms.find((room) => room.name === "busy");
    assert.deepEqual(await busyAfter(given), {
      kind: "room",
      name: "busy",
      lastSeq: 40,
      lastId: ids.at(-1),
    });
    await assert.rejects(given.appendMessage(message(5000, "nowhere")), /no room "nowhere"/);
    await given.close();

    const taking = await PostgresStore.open(url, { assignIds: true });
    before = taking.batches;
    const taken = await Promise.all(
      Array.from({ length: 30 }, () => taking.appendMessage(message(0, "busy"))),
    );
    assert.equal(taking.batches - before, 1, "one batch");
    assert.deepEqual(taken.map((one) => one.seq), taken.map((_, i) => 41 + i));
    const takenIds = taken.map((one) => one.id);
    assert.deepEqual(takenIds, [...takenIds].sort((a, b) => a - b), "ids in sequence order");
    assert.ok(takenIds[0] > ids.at(-1)!, "above the ids given before");
    await assert.rejects(taking.appendMessage(message(0, "nowhere")), /no room "nowhere"/);
    assert.deepEqual(await busyAfter(taking), {
      kind: "room",
      name: "busy",
      lastSeq: 70,
      lastId: takenIds.at(-1),
    });
    await taking.close();
  },
);

engineTest(
  POSTGRES_MISSING,
  "a room's row, moved on by each of 900 batches, stays on one page; the rooms with messages since an id are still found",
  async () => {
    const { store, url } = await newStore();
    await store.appendMessage(message(500, "quiet"));
    await store.appendMessage(message(1030, "lobby"));
    for (let id = 1100; id < 2000; id++) await store.appendMessage(message(id, "busy"));
    const sql = connect(url, 1);
    const [{ size }] = await sql.unsafe("SELECT pg_relation_size('rooms') AS size");
    await sql.end();
    // a move making a new version with new index entries (not HOT) left 4 pages
    assert.equal(size, 8192, "the rooms' table takes one page");
    const since = async (id: number) =>
      (await store.lastSequences(id)).rooms.map((room) => [room.name, room.lastId]).sort();
    assert.deepEqual(await since(0), [["busy", 1999], ["lobby", 1030], ["quiet", 500]]);
    assert.deepEqual(await since(499), [["busy", 1999], ["lobby", 1030], ["quiet", 500]]);
    assert.deepEqual(await since(1029), [["busy", 1999], ["lobby", 1030]]);
    assert.deepEqual(
      await since(1030),
      [["busy", 1999]],
      "not a room whose last id is the one given",
    );
    assert.deepEqual(await since(1999), []);
    await store.close();
  },
);

engineTest(
  POSTGRES_MISSING,
  "servers posting to the same rooms at once get gapless room sequences in commit order, without deadlocks",
  async () => {
    const { store: first, url } = await newStore();
    const second = await PostgresStore.open(url);
    const third = await PostgresStore.open(url);
    const stores = [first, second, third];
    // each server posts in turns to every room, in another order: their
    // batches lock the same rows, which they must take in one order
    const ids = new Map<number, number>();
    const rounds = 20;
    await Promise.all(stores.map(async (store, s) => {
      for (let round = 0; round < rounds; round++) {
        const rooms = s === 1 ? [...ROOMS].reverse() : ROOMS;
        await Promise.all(rooms.flatMap((room, r) =>
          Array.from({ length: 5 }, (_, k) => {
            const id = ((round * ROOMS.length + r) * 5 + k) * stores.length + s + 1;
            return store.appendMessage(message(id, room)).then(({ seq }) => ids.set(id, seq));
          })
        ));
      }
    }));
    assert.equal(ids.size, stores.length * rounds * ROOMS.length * 5);
    for (const room of ROOMS) {
      const all = await first.messagesAfter("room", room, 0, 10_000);
      assert.deepEqual(
        all.map((m) => m.seq),
        all.map((_, i) => i + 1),
        `${room}: no gap, no twice`,
      );
      for (const m of all) assert.equal(ids.get(m.id), m.seq, "the sequence number answered");
      // one server's messages keep their order within a room
      for (let s = 0; s < stores.length; s++) {
        const mine = all.filter((m) => m.id % stores.length === (s + 1) % stores.length);
        assert.deepEqual(mine.map((m) => m.id), mine.map((m) => m.id).sort((a, b) => a - b));
      }
    }
    await Promise.all(stores.map((store) => store.close()));
  },
);

engineTest(
  POSTGRES_MISSING,
  "a reopened database keeps everything, and the next server continues the sequences",
  async () => {
    const { store, url } = await newStore();
    await store.createAccount({
      name: "ann",
      passwordHash: "h",
      source: "registered",
      disabled: false,
      createdAt: 1,
    });
    await store.appendMessage(message(1, "lobby"));
    await store.close();
    const again = await PostgresStore.open(url);
    assert.equal((await again.getAccount("ann"))?.passwordHash, "h");
    assert.equal((await again.load()).lastMessageId, 1);
    assert.deepEqual(await again.appendMessage(message(2, "lobby")), { id: 2, seq: 2 });
    await again.close();
  },
);

engineTest(
  POSTGRES_MISSING,
  "posts committed together store their mentions and move their senders' read positions, which gap fills and counts see",
  async () => {
    const { store } = await newStore();
    const users = ["ann", "bob", "carol"];
    for (const user of users) {
      for (const room of ROOMS.slice(0, 2)) await store.setBelonging(room, user, true, 1);
    }
    // mentions in the order the text has them, which is not the names' order
    const mentionsOf = (i: number) => i % 3 === 0 ? ["carol", "ann"] : i % 5 === 0 ? ["bob"] : [];
    const posted: MessageRecord[] = Array.from({ length: 60 }, (_, i) => ({
      ...message(i + 1, ROOMS[i % 2]),
      sender: users[(i * 7) % 3],
      ...(mentionsOf(i).length > 0 ? { mentions: mentionsOf(i) } : {}),
    }));
    const before = store.batches;
    await Promise.all(posted.map((m) => store.appendMessage(m)));
    assert.ok(store.batches - before < 5, `60 posts took ${store.batches - before} commits`);
    for (const room of ROOMS.slice(0, 2)) {
      const inRoom = posted.filter((m) => m.room === room);
      const after = await store.messagesAfter("room", room, 0, 100);
      assert.deepEqual(after.map((m) => m.mentions), inRoom.map((m) => m.mentions), room);
      for (const user of users) {
        const read = Math.max(...inRoom.filter((m) => m.sender === user).map((m) => m.id));
        const unread = inRoom.filter((m) => m.id > read);
        assert.deepEqual(await store.readCounts("room", [room], user), [{
          unread: unread.length,
          mentions: unread.filter((m) => m.mentions?.includes(user)).length,
        }], `${user} in ${room}`);
      }
    }
    await store.close();
  },
);

engineTest(
  POSTGRES_MISSING,
  "messagesAfter answers after the posts under way meanwhile, so a server fills no gap with its own post before it was delivered",
  async () => {
    const { store } = await newStore();
    for (let round = 1; round <= 5; round++) {
      let answered = false;
      const posted = store.appendMessage(message(round, "lobby")).then(() => answered = true);
      posted.catch(() => {}); // awaited below, unless a check fails first
      const after = await store.messagesAfter("room", "lobby", round - 1, 10);
      assert.equal(answered, true, "the post was answered first");
      assert.ok(after.length <= 1 && (after[0]?.seq ?? round) === round);
      await posted;
    }
    await store.close();
  },
);

engineTest(
  POSTGRES_MISSING,
  "with ids from the database, a room's ids increase in its sequence order whichever store posted",
  async () => {
    const { store: first, url } = await newStore();
    await first.close();
    const stores = await Promise.all(
      [0, 1, 2].map(() => PostgresStore.open(url, { assignIds: true })),
    );
    await Promise.all(stores.map(async (store, s) => {
      for (let i = 0; i < 100; i++) {
        await Promise.all([0, 1].map((k) => store.appendMessage(message(0, ROOMS[k]))));
        if (i % 10 === s) await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }));
    for (const room of ROOMS.slice(0, 2)) {
      const ids = (await stores[0].messagesAfter("room", room, 0, 1000)).map((m) => m.id);
      assert.equal(ids.length, 300);
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b), room);
    }
    await Promise.all(stores.map((store) => store.close()));
  },
);
