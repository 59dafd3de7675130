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

/** A new database with the schema. */
async function newDatabase(): Promise<string> {
  const url = await (await startPostgres()).createDatabase();
  const sql = connect(url, 1);
  await migratePostgres(sql, "the test database");
  await sql.end();
  return url;
}

/** `count` servers' presences on one database (a new one), each on a connection of its own. */
async function presences(
  count: number,
  maxOnline: number,
  url?: string,
): Promise<PostgresPresence[]> {
  url ??= await newDatabase();
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

engineTest(
  POSTGRES_MISSING,
  "the roster keeps the order of entering while its connection is made again",
  async () => {
    const url = await newDatabase();
    const [server] = await presences(1, 10, url);
    const admin = connect(url, 1);
    try {
      assert.equal(await server.claim("ann", new Session(new RecordingSink()), true), "OK");
      // the connection is lost: the next statements wait for a new one (the postgres package
      // alone sends part of them, then one made meanwhile, then the rest)
      await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()`;
      // past the package's delay before it connects again, so that it connects at once
      await new Promise((resolve) => setTimeout(resolve, 500));
      const entered: string[] = [];
      for (let turn = 0; turn < 40; turn++) {
        for (let k = 0; k < 3; k++) {
          entered.push(`room ${turn * 3 + k}`);
          server.entered("ann", { kind: "room", name: entered.at(-1)! });
        }
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      // WHO shows where each user came in last
      assert.deepEqual((await server.who()).map((w) => w.name), [entered.at(-1)]);
      const rows = await admin<{ place: string }[]>`
        SELECT place FROM claptrap_places WHERE name = 'ann' ORDER BY since`;
      assert.deepEqual(rows.map((row) => row.place), entered);
    } finally {
      await admin.end();
      await server.close();
    }
  },
);
