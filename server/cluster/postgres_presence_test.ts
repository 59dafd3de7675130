import assert from "node:assert/strict";
import type { ClusterLink } from "../../core/cluster_bus.ts";
import { Session } from "../../core/session.ts";
import { RecordingSink } from "../../core/testing.ts";
import { migratePostgres } from "../../store/postgres/schema.ts";
import { connect } from "../../store/postgres/connection.ts";
import { engineTest, POSTGRES_MISSING, startPostgres } from "../../tests/engines.ts";
import { PostgresPresence } from "./postgres_presence.ts";

const NO_LINK: ClusterLink = {
  start: () => Promise.resolve(),
  announce: () => {},
  send: () => {},
  close: () => Promise.resolve(),
};

/** `count` servers' presences on one new database, each on a connection of its own. */
async function presences(count: number, maxOnline: number): Promise<PostgresPresence[]> {
  const url = await (await startPostgres()).createDatabase();
  const sql = connect(url, 1);
  await migratePostgres(sql, "the test database");
  await sql.end();
  return await Promise.all(
    Array.from({ length: count }, (_, i) =>
      PostgresPresence.open(url, {
        node: `node${i}`,
        maxOnline,
        replace: false,
        maxDevices: 10,
        leaseMs: 10_000,
        link: NO_LINK,
        log: () => {},
      })),
  );
}

engineTest(
  POSTGRES_MISSING,
  "claims made at once from three servers: one per name, and no more than MAX_ONLINE in all",
  async () => {
    const servers = await presences(3, 10);
    try {
      const session = () => new Session(new RecordingSink());
      // each server claims the same 20 names, all at once
      const names = Array.from({ length: 20 }, (_, i) => `user${i}`);
      const answers = await Promise.all(
        servers.flatMap((server) => names.map((name) => server.claim(name, session(), true))),
      );
      const count = (status: string) => answers.filter((answer) => answer === status).length;
      assert.equal(count("OK"), 10, answers.join(" "));
      assert.equal(count("OK") + count("ALREADY_ONLINE") + count("SERVER_FULL"), 60);
      assert.equal((await servers[0].who()).length, 10);
      assert.equal(await servers[1].pushed(), 10);
    } finally {
      await Promise.all(servers.map((server) => server.close()));
    }
  },
);
