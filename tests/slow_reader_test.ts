import assert from "node:assert/strict";
import { NO_FLOOD_LIMITS } from "../core/limits/flood_control.ts";
import { RawConnection, startTestServer } from "./helpers.ts";

Deno.test("a client that stops reading is dropped with a reason and the room is told", async () => {
  const server = await startTestServer({
    sendQueueBytes: 256 * 1024,
    floodLimits: NO_FLOOD_LIMITS, // a flood on purpose, of 32 KiB messages
    maxMessageChars: 64 * 1024,
  });
  const port = server.addr.port;
  const sleeper = await RawConnection.open(port);
  await sleeper.login("carol", { push: true });
  await sleeper.request("JOIN_ROOM", { "Room-Name": "lobby" });
  sleeper.pause();
  const watcher = await RawConnection.open(port);
  await watcher.login("bob", { push: true });
  await watcher.request("JOIN_ROOM", { "Room-Name": "lobby" });
  const flooder = await RawConnection.open(port);
  await flooder.login("ann");
  await flooder.request("JOIN_ROOM", { "Room-Name": "lobby" });

  const chunk = "x".repeat(32 * 1024);
  let left = null;
  for (let i = 0; i < 2_000 && !left; i++) {
    assert.equal((await flooder.request("SEND_MSG", {}, chunk)).params.Status, "OK");
    while (!left) {
      const frame = await watcher.frameWithin(i % 50 === 0 ? 20 : 0);
      if (!frame) break;
      if (frame.method === "EVT_LEAVE") left = frame;
    }
  }
  assert.ok(left, "the sleeping client was never dropped");
  assert.equal(left.params.User, "carol");
  assert.match(left.params.Reason, /send queue exceeded 262144 bytes/);
  await Promise.all([sleeper.close(), watcher.close(), flooder.close()]);
  await server.close();
});
