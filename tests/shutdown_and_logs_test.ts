/**
 * The server as an operator runs it: SIGTERM delivers what is queued
 * before closing, within the drain deadline; logs are text or JSON and
 * never hold passwords or message bodies; one address cannot take every
 * connection.
 */
import assert from "node:assert/strict";
import { NO_FLOOD_LIMITS } from "../core/limits/flood_control.ts";
import { RawConnection, startTestServer, withTimeout } from "./helpers.ts";
import { spawnServer } from "./server_process.ts";
import { startWebTestServer } from "./web_helpers.ts";

Deno.test("SIGTERM first delivers everything queued for a slow reader, then EVT_CLOSE", async () => {
  const server = await spawnServer([
    "--msg-rate",
    "0",
    "--drain-timeout",
    "10",
    "--send-queue-bytes",
    String(64 << 20),
  ]);
  const reader = await RawConnection.open(server.port);
  await reader.login("carol", { push: true });
  await reader.request("JOIN_ROOM", { "Room-Name": "lobby" });
  reader.pause();
  const writer = await RawConnection.open(server.port);
  await writer.login("ann");
  await writer.request("JOIN_ROOM", { "Room-Name": "lobby" });
  // 15 MB: more than the kernel's socket buffers hold, so most waits in the server's queue
  const count = 1_500;
  const body = "y".repeat(10_000);
  for (let i = 0; i < count; i++) await writer.send("SEND_MSG", {}, `${i} ${body}`);
  for (let i = 0; i < count; i++) assert.equal((await writer.next()).params.Status, "OK");

  server.kill("SIGTERM");
  await new Promise((resolve) => setTimeout(resolve, 200));
  reader.resume();
  const frames = await reader.untilClosed(15_000);
  const messages = frames.filter((frame) => frame.method === "EVT_MSG");
  assert.equal(messages.length, count, "nothing queued is lost at shutdown");
  assert.deepEqual(messages.map((m) => Number(m.content!.split(" ")[0])), [...Array(count).keys()]);
  assert.equal(frames.at(-1)!.method, "EVT_CLOSE");
  await Promise.all([reader.close(), writer.close()]);
  assert.equal(await withTimeout(server.exited, 15_000, "server exit"), 0);
});

Deno.test("--log-format json writes one JSON object per line, without passwords or message bodies", async () => {
  const server = await spawnServer(["--log-format", "json"]);
  const client = await RawConnection.open(server.port);
  const register = await client.request("REGISTER", {
    Username: "dora",
    Password: "S3cret-Passw0rd",
  });
  assert.equal(register.params.Status, "OK");
  const wrong = await client.request("LOGIN", { Username: "dora", Password: "Wr0ng-Guess!" });
  assert.equal(wrong.params.Status, "AUTH_FAILED");
  await client.login("ann");
  await client.request("JOIN_ROOM", { "Room-Name": "lobby" });
  await client.request("SEND_MSG", {}, "a confidential message body");
  await client.close();
  server.kill("SIGTERM");
  assert.equal(await withTimeout(server.exited, 10_000, "server exit"), 0);

  const objects = server.log.map((line) => JSON.parse(line));
  for (const object of objects) {
    assert.match(object.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(typeof object.event, "string");
  }
  const events = objects.map((object) => object.event);
  for (const event of ["listening", "connect", "registered", "login-failed", "login", "stopped"]) {
    assert.ok(events.includes(event), `${event} in ${events.join(", ")}`);
  }
  assert.deepEqual(
    objects.find((object) => object.event === "login-failed"),
    {
      ...objects.find((object) => object.event === "login-failed"),
      user: "dora",
      failures: 1,
    },
  );
  const everything = server.log.join("\n");
  for (const secret of ["S3cret-Passw0rd", "Wr0ng-Guess!", "ann-pw", "confidential"]) {
    assert.ok(!everything.includes(secret), `${secret} must not be logged`);
  }
});

Deno.test("one address gets at most --max-connections-per-ip connections; the next is told why", async () => {
  const server = await startWebTestServer({
    maxConnectionsPerAddress: 2,
    floodLimits: NO_FLOOD_LIMITS,
  });
  try {
    const first = await RawConnection.open(server);
    const second = await RawConnection.open(server);
    const third = await RawConnection.open(server);
    const [refusal] = await third.untilClosed();
    assert.equal(refusal.method, "ERROR");
    assert.equal(refusal.params.Status, "TOO_MANY_CONNECTIONS");
    assert.equal(refusal.params.Reason, "too many connections from 127.0.0.1 (at most 2)");

    const upgrade = await fetch(`http://127.0.0.1:${server.httpAddr!.port}/ws`, {
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
      },
    });
    assert.equal(upgrade.status, 429, "WebSockets count too");
    assert.match(await upgrade.text(), /too many connections/);

    await first.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const again = await RawConnection.open(server);
    assert.equal((await again.request("PING")).params.Status, "OK", "a closed one frees a place");
    await Promise.all([second.close(), third.close(), again.close()]);
  } finally {
    await server.close();
  }
});

Deno.test("the connection cap is off with 0", async () => {
  const server = await startTestServer({ maxConnectionsPerAddress: 0 });
  try {
    const connections = await Promise.all(
      Array.from({ length: 100 }, () => RawConnection.open(server)),
    );
    const answers = await Promise.all(connections.map((c) => c.request("PING")));
    assert.ok(answers.every((answer) => answer.params.Status === "OK"));
    await Promise.all(connections.map((c) => c.close()));
  } finally {
    await server.close();
  }
});
