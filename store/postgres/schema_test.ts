import assert from "node:assert/strict";
import { engineTest, POSTGRES_MISSING, startPostgres } from "../../tests/engines.ts";
import { StoreError } from "../schema.ts";
import { connect } from "./connection.ts";
import { PostgresStore } from "./postgres_store.ts";
import { migratePostgres, POSTGRES_SCHEMA_VERSION } from "./schema.ts";

engineTest(
  POSTGRES_MISSING,
  "servers opening a new database at once create its schema once",
  async () => {
    const url = await (await startPostgres()).createDatabase();
    const stores = await Promise.all([1, 2, 3].map(() => PostgresStore.open(url)));
    const sql = connect(url, 1);
    const [{ version }] = await sql.unsafe("SELECT version FROM claptrap_schema");
    assert.equal(version, POSTGRES_SCHEMA_VERSION);
    await sql.end();
    await Promise.all(stores.map((store) => store.close()));
  },
);

engineTest(POSTGRES_MISSING, "a database written by a newer Claptrap is refused", async () => {
  const url = await (await startPostgres()).createDatabase();
  await (await PostgresStore.open(url)).close();
  const sql = connect(url, 1);
  await sql.unsafe("UPDATE claptrap_schema SET version = version + 1");
  await sql.end();
  await assert.rejects(
    PostgresStore.open(url),
    (e: Error) => e instanceof StoreError && /written by a newer Claptrap/.test(e.message),
  );
});

engineTest(
  POSTGRES_MISSING,
  "a database whose LC_CTYPE is not UTF-8 is refused with the command that makes one",
  async () => {
    const url = await (await startPostgres()).createDatabase("TEMPLATE template0 LC_CTYPE 'C'");
    await assert.rejects(
      PostgresStore.open(url),
      (e: Error) =>
        e instanceof StoreError &&
        /LC_CTYPE C; Claptrap needs UTF8 and a UTF-8 LC_CTYPE/.test(e.message) &&
        !e.message.includes("claptrap-pw"),
    );
  },
);

engineTest(
  POSTGRES_MISSING,
  "a database that cannot be reached is a StoreError that shows no password",
  async () => {
    const engine = await startPostgres();
    const url = (await engine.createDatabase()).replace(/:\d+\//, ":1/");
    await assert.rejects(
      PostgresStore.open(url),
      (e: Error) =>
        e instanceof StoreError &&
        e.message.startsWith("cannot use database postgres://claptrap@") &&
        !e.message.includes("claptrap-pw"),
    );
  },
);

engineTest(
  POSTGRES_MISSING,
  "members of a database from before protocol 2.1 have read what was there before",
  async () => {
    const url = await (await startPostgres()).createDatabase();
    const sql = connect(url, 1);
    await migratePostgres(sql, url, 2);
    await sql.unsafe(
      `INSERT INTO rooms (kind, name, created_at, last_seq) VALUES ('room', 'lobby', 0, 2);
       INSERT INTO memberships (room_id, "user", role, since) VALUES (1, 'ann', 'member', 0);
       INSERT INTO messages (id, room_id, seq, sender, time, content)
       VALUES (1, 1, 1, 'bob', 1, 'hi'), (2, 1, 2, 'bob', 2, 'hi again');`,
    );
    await sql.end();
    const store = await PostgresStore.open(url);
    assert.deepEqual(await store.readCounts("room", ["lobby"], "ann"), [{
      unread: 0,
      mentions: 0,
    }]);
    await store.appendMessage({
      id: 3,
      kind: "room",
      room: "lobby",
      sender: "bob",
      time: 3,
      content: "new",
    });
    assert.deepEqual(await store.readCounts("room", ["lobby"], "ann"), [{
      unread: 1,
      mentions: 0,
    }]);
    await store.close();
  },
);
