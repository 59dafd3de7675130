import assert from "node:assert/strict";
import { parseRows } from "../protocol/content.ts";
import { RawConnection } from "./helpers.ts";
import { spawnServer } from "./server_process.ts";

Deno.test("every message answered OK survives SIGKILL, in order, exactly once", async () => {
  const dir = await Deno.makeTempDir();
  const db = `${dir}/claptrap.db`;
  const first = await spawnServer(["--db", db, "--msg-rate", "0"]);
  const sender = await RawConnection.open(first.port);
  await sender.login("ann");
  await sender.request("JOIN_ROOM", { "Room-Name": "lobby" });

  // Keep 32 messages in flight; kill the server once 300 have been answered.
  const acknowledged: { id: number; text: string }[] = [];
  const inFlight: string[] = [];
  let next = 0;
  let killed = false;
  while (!killed) {
    while (inFlight.length < 32) {
      const text = `message ${next++}`;
      inFlight.push(text);
      await sender.send("SEND_MSG", {}, text).catch(() => {});
    }
    const reply = await sender.next().catch(() => null);
    if (!reply) break;
    assert.equal(reply.params.Status, "OK");
    acknowledged.push({ id: Number(reply.params.Id), text: inFlight.shift()! });
    if (acknowledged.length === 300) {
      first.kill("SIGKILL");
      killed = true;
    }
  }
  assert.equal(await first.exited, 137);
  await sender.close();

  const second = await spawnServer(["--db", db, "--msg-rate", "0"]);
  const reader = await RawConnection.open(second.port);
  await reader.login("ann");
  await reader.request("JOIN_ROOM", { "Room-Name": "lobby" });
  const stored: { id: number; text: string }[] = [];
  let before: string | undefined;
  while (true) {
    const page = await reader.request("HISTORY", {
      Limit: "500",
      ...(before ? { Before: before } : {}),
    });
    const rows = parseRows(page.content!, 4);
    stored.unshift(...rows.map(([id, , , text]) => ({ id: Number(id), text })));
    if (page.params.More === "no") break;
    before = rows[0][0];
  }
  assert.ok(stored.length >= 300, `only ${stored.length} messages stored`);
  assert.ok(stored.length <= next, "nothing was stored that was not sent");
  const texts = stored.map((m) => m.text);
  assert.equal(new Set(texts).size, texts.length, "no duplicates");
  assert.deepEqual(texts, texts.map((_, i) => `message ${i}`), "in the order sent, without gaps");
  assert.deepEqual(
    stored.slice(0, acknowledged.length),
    acknowledged,
    "every OK is there, same id",
  );
  assert.ok(stored.every((m, i) => i === 0 || m.id > stored[i - 1].id), "ids increase");

  await reader.close();
  second.kill("SIGTERM");
  assert.equal(await second.exited, 0);
  await Deno.remove(dir, { recursive: true });
});
