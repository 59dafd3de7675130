/**
 * Durability at the edges: a commit whose outcome is unknown (an fsync that
 * failed) and a database file deleted while the server runs. Neither may
 * end with a client told that a write failed when it is on disk, nor told
 * OK for a write nobody will find after a restart.
 * @module
 */

import assert from "node:assert/strict";
import { parseRows } from "../protocol/content.ts";
import { SqliteStore } from "../store/sqlite_store.ts";
import { RawConnection, startTestServer, withTimeout } from "./helpers.ts";
import { spawnServer } from "./server_process.ts";

/** A connection that said HELLO 2.0, logged in and joined `room`. */
async function inRoom(port: number, user: string, push: boolean, room = "lobby") {
  const c = await RawConnection.open(port);
  assert.equal((await c.request("HELLO", { Version: "2.0" })).params.Status, "OK");
  await c.login(user, { push });
  assert.equal((await c.request("JOIN_ROOM", { "Room-Name": room })).params.Status, "OK");
  return c;
}

Deno.test("a commit whose fsync fails is answered neither OK nor SERVER_ERROR; the server stops and says why", async () => {
  const path = `${await Deno.makeTempDir()}/claptrap.db`;
  const store = await SqliteStore.open(path, { ioErrorAtCommitOf: "doomed" });
  const lines: string[] = [];
  const server = await startTestServer({ store, log: (line) => lines.push(line) });
  const ann = await inRoom(server.addr.port, "ann", false);
  const bob = await inRoom(server.addr.port, "bob", true);
  assert.equal((await ann.request("SEND_MSG", {}, "kept")).params.Status, "OK");
  await ann.send("SEND_MSG", {}, "doomed");
  await ann.send("LIST_ROOMS"); // answered, but only after the SEND_MSG before it
  assert.equal((await bob.nextOf("EVT_MSG")).content, "kept");
  const close = await bob.nextOf("EVT_CLOSE");
  assert.equal(
    close.params.Reason,
    "server stopping: the database failed: disk I/O error",
    "push clients are told why",
  );
  assert.deepEqual(await ann.untilClosed(), [], "no answer to the SEND_MSG, nor after it");
  await Promise.all([ann.close(), bob.close()]);
  await withTimeout(server.finished, 10_000, "the server to stop");
  assert.equal(server.failure, "the database failed: disk I/O error");
  assert.ok(
    lines.includes('store-failed error="the database failed: disk I/O error"'),
    lines.join("\n"),
  );

  // SQLite recovers what was written; nobody was told it failed
  const restarted = await startTestServer({ db: path });
  const reader = await inRoom(restarted.addr.port, "carol", false);
  const history = await reader.request("HISTORY");
  assert.deepEqual(parseRows(history.content!, 4).map((row) => row[3]), ["kept", "doomed"]);
  await reader.close();
  await restarted.close();
});

Deno.test("a database file deleted while the server runs: the next write is not answered OK, and the server exits 1", async () => {
  const dir = await Deno.makeTempDir();
  const db = `${dir}/claptrap.db`;
  const server = await spawnServer(["--db", db]);
  const ann = await inRoom(server.port, "ann", true);
  assert.equal((await ann.request("SEND_MSG", {}, "before")).params.Status, "OK");
  await Deno.remove(db);
  await ann.send("SEND_MSG", {}, "into a file nobody can open again");
  const close = await ann.nextOf("EVT_CLOSE");
  assert.equal(
    close.params.Reason,
    `server stopping: the database failed: ${db} was deleted while the server ran`,
  );
  assert.deepEqual(await ann.untilClosed(), [], "the SEND_MSG was not answered");
  await ann.close();
  assert.equal(await server.exited, 1);
  assert.ok(
    server.log.some((line) => line.includes(`store-failed error="the database failed: ${db}`)),
    server.log.join("\n"),
  );
  await Deno.remove(dir, { recursive: true });
});
