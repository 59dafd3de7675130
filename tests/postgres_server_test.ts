/**
 * `server.ts --db postgres://…` as an operator runs it (the flags of
 * `deno task start:postgres`, the password from PGPASSWORD), with a real
 * client, through PostgreSQL going down and the server restarting.
 */

import assert from "node:assert/strict";
import { ChatClient, ChatError } from "../client/chat_client.ts";
import { tcp } from "../client/tcp_transport.ts";
import { engineTest, POSTGRES_MISSING, START_POSTGRES_FLAGS, startPostgres } from "./engines.ts";
import { spawnServer } from "./server_process.ts";
import { ACCOUNTS } from "./helpers.ts";

async function annInLobby(port: number): Promise<ChatClient> {
  const client = await ChatClient.connect(tcp({ port }));
  await client.login("ann", ACCOUNTS.get("ann")!);
  await client.join("lobby");
  return client;
}

engineTest(
  POSTGRES_MISSING,
  "a server on PostgreSQL stores, reads and searches messages, errs while PostgreSQL is down, and keeps them across restarts",
  async () => {
    const engine = await startPostgres();
    const url = await engine.createDatabase();
    const withoutPassword = url.replace(":claptrap-pw@", "@");
    const start = () =>
      spawnServer(["--db", withoutPassword, "--scrypt-cost", "1024"], {
        denoFlags: START_POSTGRES_FLAGS,
        env: { PGPASSWORD: "claptrap-pw" },
      });
    let server = await start();
    let client = await annInLobby(server.port);
    try {
      const first = await client.send("stored in PostgreSQL, 香港记者招待会");
      const page = await client.history({ limit: 10 });
      assert.deepEqual(page.messages.map((m) => [m.id, m.content]), [[
        first.id,
        "stored in PostgreSQL, 香港记者招待会",
      ]]);
      const found = await client.search("记者招待");
      assert.deepEqual(found.results.map((r) => r.id), [first.id]);

      await engine.crash();
      try {
        await assert.rejects(
          client.send("while PostgreSQL is down"),
          (error: Error) => error instanceof ChatError && error.status === "SERVER_ERROR",
        );
      } finally {
        await engine.start();
      }
      const second = await client.send("after PostgreSQL came back");
      await client.close();

      server.kill("SIGTERM");
      assert.equal(await server.exited, 0);
      server = await start();
      client = await annInLobby(server.port);
      const again = await client.history({ limit: 10 });
      assert.deepEqual(again.messages.map((m) => [m.id, m.content]), [
        [first.id, "stored in PostgreSQL, 香港记者招待会"],
        [second.id, "after PostgreSQL came back"],
      ]);
      const third = await client.send("after the restart");
      assert.ok(third.id > second.id, "ids go on from the stored ones");
      assert.deepEqual((await client.search("postgresql")).results.map((r) => r.id), [
        second.id,
        first.id,
      ]);
    } finally {
      await client.close();
      server.kill("SIGTERM");
      await server.exited;
    }
  },
);
