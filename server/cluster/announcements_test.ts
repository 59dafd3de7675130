import assert from "node:assert/strict";
import { connect } from "../../store/postgres/connection.ts";
import { PostgresStore } from "../../store/postgres/postgres_store.ts";
import type { SequencedMessage } from "../../store/records.ts";
import { engineTest, POSTGRES_MISSING, startPostgres } from "../../tests/engines.ts";
import {
  CHANNEL,
  fromOthers,
  messagePayloads,
  NOTIFY_MAX_BYTES,
  pendingPayloads,
  readPayload,
  storedNotePrefix,
} from "./announcements.ts";

function message(room: string, seq: number, content: string): SequencedMessage {
  return { kind: "room", room, seq, id: 1_000 + seq, sender: "ann", time: seq, content };
}

const bytes = (text: string) => new TextEncoder().encode(text).length;

Deno.test("messages are packed into payloads that NOTIFY takes, each whole and in order", () => {
  const messages = Array.from(
    { length: 500 },
    (_, i) => message("lobby", i + 1, `hello ${i} 你好`),
  );
  const payloads = messagePayloads("node-1", messages);
  assert.ok(payloads.length > 1);
  for (const payload of payloads) assert.ok(bytes(payload) <= NOTIFY_MAX_BYTES);
  const read = payloads.map((payload) => readPayload(payload)!);
  assert.deepEqual(read.flatMap((r) => r.messages), messages);
  assert.ok(read.every((r) => r.node === "node-1" && r.committed.length === 0));
});

Deno.test("messages too large for a payload are announced by their room's last sequence number, once per room", () => {
  const large = "x".repeat(NOTIFY_MAX_BYTES);
  const messages = [
    message("lobby", 1, large),
    message("lobby", 2, "small"),
    message("lobby", 3, large),
    message("random", 7, large),
  ];
  const read = messagePayloads("node-1", messages).map((payload) => readPayload(payload)!);
  assert.deepEqual(read.flatMap((r) => r.messages), [messages[1]]);
  assert.deepEqual(read.flatMap((r) => r.committed), [
    { kind: "room", name: "lobby", lastSeq: 3 },
    { kind: "room", name: "random", lastSeq: 7 },
  ]);
});

Deno.test("a batch of many large messages in many rooms still makes payloads that NOTIFY takes", () => {
  const large = "x".repeat(NOTIFY_MAX_BYTES);
  const rooms = Array.from({ length: 600 }, (_, i) => `room with a long name number ${i}`);
  const messages = rooms.flatMap((room) => [message(room, 1, large), message(room, 2, large)]);
  const payloads = messagePayloads("node-1", messages);
  for (const payload of payloads) {
    assert.ok(bytes(payload) <= NOTIFY_MAX_BYTES, `a payload of ${bytes(payload)} bytes`);
  }
  const committed = payloads.flatMap((payload) => readPayload(payload)!.committed);
  assert.deepEqual(committed, rooms.map((name) => ({ kind: "room", name, lastSeq: 2 })));
});

Deno.test("a payload pointing at a stored note gives its id, and a server passes over its own", () => {
  const payload = `${storedNotePrefix("node-1")}42}`;
  assert.equal(fromOthers("node-2", payload)?.storedNote, 42);
  assert.equal(fromOthers("node-1", payload), null);
  assert.equal(
    readPayload(messagePayloads("node-1", [message("lobby", 1, "hi")])[0])?.storedNote,
    null,
  );
});

engineTest(
  POSTGRES_MISSING,
  "a batch of hundreds of messages too large for NOTIFY is committed and announced as one",
  async () => {
    const url = await (await startPostgres()).createDatabase();
    const store = await PostgresStore.open(url, {
      assignIds: true,
      announce: { channel: CHANNEL, payloads: (messages) => pendingPayloads("node-1", messages) },
    });
    const listener = connect(url, 1);
    try {
      await store.createRoom({ kind: "room", name: "lobby", createdBy: null, createdAt: 0 });
      const heard: string[] = [];
      await listener.listen(CHANNEL, (payload) => heard.push(payload));
      const large = "x".repeat(NOTIFY_MAX_BYTES);
      const before = store.batches;
      await Promise.all(Array.from({ length: 500 }, (_, i) =>
        store.appendMessage({
          kind: "room",
          id: 0,
          room: "lobby",
          sender: "ann",
          time: i,
          content: `${i} ${large}`,
        })));
      assert.equal(store.batches, before + 1, "one batch");
      const page = await store.history("room", "lobby", { limit: 1 });
      assert.equal(page.messages[0].content.split(" ")[0], "499");
      for (let tries = 0; heard.length === 0 && tries < 100; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.deepEqual(heard.map((payload) => readPayload(payload)?.committed), [[
        { kind: "room", name: "lobby", lastSeq: 500 },
      ]]);
    } finally {
      await listener.end();
      await store.close();
    }
  },
);

/** A payload of `pendingPayloads` as the database ends it: `numbers` per entry, PostgreSQL's JSON. */
function ended(head: string, numbers: [number, number, number][]): string {
  return `${head},"s":[${numbers.map(([k, seq, id]) => `[${k}, ${seq}, ${id}]`).join(", ")}]}`;
}

Deno.test("payloads the database numbers stay within NOTIFY's bound with the largest numbers", () => {
  const messages = Array.from({ length: 400 }, (_, i) => message("lobby", i, `m${i}`));
  const pending = pendingPayloads("node-1", messages);
  assert.ok(pending.heads.length > 1, "several payloads");
  assert.deepEqual(pending.message, messages.map((_, i) => i));
  const largest = Number.MAX_SAFE_INTEGER;
  const heard = pending.heads.flatMap((head, p) => {
    const numbers = pending.entry.flatMap((k, e) =>
      pending.payload[e] === p ? [[k, largest - e, largest - e] as [number, number, number]] : []
    );
    const payload = ended(head, numbers);
    assert.ok(bytes(payload) <= NOTIFY_MAX_BYTES, `a payload of ${bytes(payload)} bytes`);
    return readPayload(payload)!.messages;
  });
  assert.deepEqual(heard.map((m) => m.content), messages.map((m) => m.content));
  assert.deepEqual(heard.map((m) => m.seq), messages.map((_, e) => largest - e));
});

Deno.test("an entry the database gave no numbers for (no such room) is not heard; a room's last too-large message is", () => {
  const large = "x".repeat(NOTIFY_MAX_BYTES);
  const pending = pendingPayloads("node-1", [
    message("lobby", 0, "hi"),
    message("gone", 0, "lost"),
    message("lobby", 0, large),
  ]);
  assert.deepEqual(pending.heads.length, 2);
  assert.deepEqual(pending.message, [0, 1, 2]);
  const messages = readPayload(ended(pending.heads[0], [[0, 7, 70]]))!.messages;
  assert.deepEqual(messages, [{ ...message("lobby", 0, "hi"), seq: 7, id: 70 }]);
  const committed = readPayload(ended(pending.heads[1], [[0, 8, 71]]))!.committed;
  assert.deepEqual(committed, [{ kind: "room", name: "lobby", lastSeq: 8 }]);
});
