import assert from "node:assert/strict";
import {
  ClusterBus,
  type ClusterLink,
  type ClusterNote,
  type ClusterReceiver,
} from "../../core/cluster_bus.ts";
import type { NodeChat } from "../../core/fanout_bus.ts";
import { directRoomName } from "../../protocol/direct_room_name.ts";
import type { SequencedMessage } from "../../store/records.ts";
import { connect } from "../../store/postgres/connection.ts";
import { PostgresStore } from "../../store/postgres/postgres_store.ts";
import { engineTest, POSTGRES_MISSING, startPostgres } from "../../tests/engines.ts";
import { CHANNEL, NOTIFY_MAX_BYTES, pendingPayloads } from "./announcements.ts";
import { PostgresLink } from "./postgres_link.ts";

function notice(text: string): ClusterNote {
  return { kind: "event", to: { kind: "everyone" }, event: { type: "notice", time: 1, text } };
}

/** A receiver that keeps what it is given: notices' texts, messages, and the link going down and up. */
function keeper(): {
  receiver: ClusterReceiver;
  texts: string[];
  messages: SequencedMessage[];
  changes: string[];
} {
  const texts: string[] = [];
  const messages: SequencedMessage[] = [];
  const changes: string[] = [];
  const receiver: ClusterReceiver = {
    messages(heard) {
      messages.push(...heard);
    },
    committed() {},
    note(note) {
      if (note.kind === "event" && note.event.type === "notice") texts.push(note.event.text);
    },
    up() {
      changes.push("up");
    },
    down() {
      changes.push("down");
    },
  };
  return { receiver, texts, messages, changes };
}

/** Server `node`'s store (announcing as a cluster's does) and link, on the database at `url`. */
async function serverParts(url: string, node: string) {
  const store = await PostgresStore.open(url, {
    assignIds: true,
    announce: { channel: CHANNEL, payloads: (messages) => pendingPayloads(node, messages) },
  });
  const link = new PostgresLink(url, node, store, () => {});
  return {
    store,
    link,
    async close() {
      await link.close();
      await store.close();
    },
  };
}

/** Servers `a` and `b` on a new database, with receivers that keep what they hear; not started. */
async function twoServers() {
  const url = await (await startPostgres()).createDatabase();
  const a = await serverParts(url, "a");
  const b = await serverParts(url, "b");
  return { url, a, b, heardOnA: keeper(), heardOnB: keeper() };
}

/** A server's chat as its bus sees it: nobody there, and nothing done, but what `parts` says. */
function quietNode(parts: Partial<NodeChat> = {}): NodeChat {
  return {
    membersOf: () => 0,
    isHere: () => false,
    hasDevicesHere: () => false,
    apply() {},
    sawMessage() {},
    heard() {},
    relinked() {},
    ...parts,
  };
}

/** Waits (5 s at most) until `done` says so. */
async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  for (let tries = 0; !(await done()) && tries < 100; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

engineTest(
  POSTGRES_MISSING,
  "notes too large for a NOTIFY reach the other servers whole and in the order they were sent",
  async () => {
    const { a, b, heardOnA, heardOnB } = await twoServers();
    try {
      await a.link.start(heardOnA.receiver);
      await b.link.start(heardOnB.receiver);
      const large = (n: number) => `${n} ${"x".repeat(NOTIFY_MAX_BYTES)}`;
      const sent = ["small 1", large(2), "small 3", large(4), large(5), "small 6"];
      for (const text of sent) a.link.send(notice(text)); // in one turn of the event loop
      await until(() => heardOnB.texts.length >= sent.length);
      assert.deepEqual(heardOnB.texts, sent);
      assert.deepEqual(heardOnA.texts, [], "a server passes over its own notes");
    } finally {
      await a.close();
      await b.close();
    }
  },
);

engineTest(
  POSTGRES_MISSING,
  "notes sent while the link's connection opens, and as it becomes ready, keep their order",
  async () => {
    // the postgres package sends part of what waited for a new connection, then a query made
    // meanwhile, then the rest: one server's joining and leaving once came to another reversed
    const { a, b, heardOnA, heardOnB } = await twoServers();
    try {
      await b.link.start(heardOnB.receiver);
      const sent: string[] = [];
      for (let turn = 0; turn < 60; turn++) {
        for (let k = 0; k < 4; k++) {
          sent.push(`${turn}.${k}`);
          a.link.send(notice(sent.at(-1)!));
        }
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      await a.link.start(heardOnA.receiver);
      await until(() => heardOnB.texts.length >= sent.length);
      assert.deepEqual(heardOnB.texts, sent);
    } finally {
      await a.close();
      await b.close();
    }
  },
);

engineTest(
  POSTGRES_MISSING,
  "a link hears on its store's writer connection, not its own posts, and again once that connection is lost",
  async () => {
    const { url, a, b, heardOnA, heardOnB } = await twoServers();
    const admin = connect(url, 1);
    const post = (parts: typeof a, content: string) =>
      parts.store.appendMessage({
        kind: "room",
        id: 0,
        room: "lobby",
        sender: "ann",
        time: 1,
        content,
      });
    try {
      await a.store.createRoom({ kind: "room", name: "lobby", createdBy: null, createdAt: 0 });
      await a.link.start(heardOnA.receiver);
      await b.link.start(heardOnB.receiver);
      await post(b, "from b, 1");
      await until(() => heardOnA.messages.length >= 1);
      // a's writer has run nothing since its LISTEN; b's has posted since
      const ended = await admin<{ pid: number }[]>`
        SELECT pg_terminate_backend(pid) AS pid FROM pg_stat_activity
        WHERE datname = current_database() AND query LIKE 'LISTEN%'`;
      assert.equal(ended.length, 1, "one connection listens and has done nothing since");
      await until(() => heardOnA.changes.length >= 3);
      assert.deepEqual(heardOnA.changes, ["up", "down", "up"]);
      await post(b, "from b, 2");
      await post(a, "from a");
      b.link.send(notice("after them"));
      await until(() => heardOnA.texts.length >= 1);
      assert.deepEqual(heardOnA.texts, ["after them"]);
      assert.deepEqual(heardOnA.messages.map((m) => m.content), ["from b, 1", "from b, 2"]);
      await until(() => heardOnB.messages.length >= 1);
      assert.deepEqual(heardOnB.messages.map((m) => m.content), ["from a"]);
      assert.deepEqual(heardOnB.changes, ["up"]);
    } finally {
      await admin.end();
      await a.close();
      await b.close();
    }
  },
);

engineTest(
  POSTGRES_MISSING,
  "a server lets go of rooms and conversations nobody there is in, and gives only what is new once somebody is",
  async () => {
    const { a, b } = await twoServers();
    const members: Record<string, number> = {};
    const here = new Set<string>();
    const delivered: string[] = [];
    const bus = new ClusterBus(
      {
        deliver: (to, event) => {
          if (event.type === "message") delivered.push(event.text);
          if (event.type === "direct" && to.kind === "user") {
            delivered.push(`${event.text} to ${to.user}`);
          }
        },
      },
      quietNode({
        membersOf: (place) => members[place.name] ?? 0,
        isHere: (user) => here.has(user),
      }),
      a.link,
      a.store,
      { reconcileMs: 50, commitWindowMs: 200, fullComparisonMs: 60_000 },
    );
    const dm = directRoomName("ann", "bob");
    const post = (kind: "room" | "direct", room: string, content: string) =>
      b.store.appendMessage({ kind, id: 0, room, sender: "ann", time: 1, content });
    try {
      await b.store.createRoom({ kind: "room", name: "lobby", createdBy: null, createdAt: 0 });
      await b.store.createRoom({ kind: "direct", name: dm, createdBy: null, createdAt: 0 });
      await bus.start();
      await post("room", "lobby", "before 1");
      await post("direct", dm, "before d1");
      await until(() => bus.heldRecords().rooms + bus.heldRecords().directs === 2);
      await until(() => bus.heldRecords().rooms + bus.heldRecords().directs === 0);
      assert.deepEqual(bus.heldRecords(), { rooms: 0, directs: 0 }, "both let go");
      members.lobby = 1;
      here.add("bob");
      await post("room", "lobby", "after 2");
      await post("direct", dm, "after d2"); // no note: the comparisons find it
      await until(() => delivered.length >= 2);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.deepEqual(delivered.sort(), ["after 2", "after d2 to bob"]);
    } finally {
      await bus.close();
      await b.close();
      await a.store.close();
    }
  },
);

engineTest(
  POSTGRES_MISSING,
  "an operator's note reaches a server whose link lost it through the database, once",
  async () => {
    const { a, b } = await twoServers();
    const applied: string[] = [];
    const node = (server: string) =>
      quietNode({
        apply: (change) => {
          if (change.type === "operator-kick") applied.push(`${change.user} on ${server}`);
        },
      });
    const deaf: ClusterLink = {
      start: (receiver) => Promise.resolve(receiver.up()),
      announce() {},
      send() {},
      close: () => Promise.resolve(),
    };
    const onA = new ClusterBus({ deliver() {} }, node("a"), a.link, a.store, { reconcileMs: 50 });
    const onB = new ClusterBus({ deliver() {} }, node("b"), deaf, b.store, { reconcileMs: 50 });
    try {
      await onA.start();
      onA.share({ type: "operator-kick", user: "ann", reason: "", at: 1 });
      await until(async () => (await a.store.keptNotes()).length === 1);
      await onB.start(); // ann's KICK came before it: history
      onA.share({ type: "operator-kick", user: "bob", reason: "", at: 2 });
      await until(() => applied.length >= 1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(applied, ["bob on b"]);
    } finally {
      await onA.close();
      await onB.close();
      await b.close();
      await a.store.close();
    }
  },
);
