import assert from "node:assert/strict";
import type { ClusterNote, ClusterReceiver } from "../../core/cluster_bus.ts";
import { connect } from "../../store/postgres/connection.ts";
import { migratePostgres } from "../../store/postgres/schema.ts";
import { engineTest, POSTGRES_MISSING, startPostgres } from "../../tests/engines.ts";
import { NOTIFY_MAX_BYTES } from "./announcements.ts";
import { PostgresLink } from "./postgres_link.ts";

function notice(text: string): ClusterNote {
  return { kind: "event", to: { kind: "everyone" }, event: { type: "notice", time: 1, text } };
}

/** A receiver that keeps the texts of the notices it is given. */
function noticeTexts(): { receiver: ClusterReceiver; texts: string[] } {
  const texts: string[] = [];
  const receiver: ClusterReceiver = {
    messages() {},
    committed() {},
    note(note) {
      if (note.kind === "event" && note.event.type === "notice") texts.push(note.event.text);
    },
    up() {},
    down() {},
  };
  return { receiver, texts };
}

engineTest(
  POSTGRES_MISSING,
  "notes too large for a NOTIFY reach the other servers whole and in the order they were sent",
  async () => {
    const url = await (await startPostgres()).createDatabase();
    const sql = connect(url, 1);
    await migratePostgres(sql, url);
    await sql.end();
    const a = new PostgresLink(url, "a", () => {});
    const b = new PostgresLink(url, "b", () => {});
    const heardOnA = noticeTexts();
    const heardOnB = noticeTexts();
    try {
      await a.start(heardOnA.receiver);
      await b.start(heardOnB.receiver);
      const large = (n: number) => `${n} ${"x".repeat(NOTIFY_MAX_BYTES)}`;
      const sent = ["small 1", large(2), "small 3", large(4), large(5), "small 6"];
      for (const text of sent) a.send(notice(text)); // in one turn of the event loop
      for (let tries = 0; heardOnB.texts.length < sent.length && tries < 100; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.deepEqual(heardOnB.texts, sent);
      assert.deepEqual(heardOnA.texts, [], "a server passes over its own notes");
    } finally {
      await a.close();
      await b.close();
    }
  },
);
