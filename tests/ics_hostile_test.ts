/**
 * Hostile input on the ICS chat listener: garbage, a length that lies, a
 * frame that never ends, an oversized frame, a flood, a client that never
 * reads, too many connections — each closed or bounded, with the same
 * limits and flags as the Claptrap listener, and nobody else harmed.
 */

import assert from "node:assert/strict";
import { NO_FLOOD_LIMITS } from "../core/limits/flood_control.ts";
import type { ServerOptions } from "../server/server.ts";
import { RawConnection, startTestServer } from "./helpers.ts";
import { IcsConnection, icsRequestBytes } from "./ics_client.ts";

const encoder = new TextEncoder();

/** A test server with an ICS listener, its log, and a bystander logged in over ICS. */
async function icsServer(options: ServerOptions = {}) {
  const lines: string[] = [];
  const server = await startTestServer({ icsPort: 0, log: (line) => lines.push(line), ...options });
  const ics = server.listeners.get("ics")!.port;
  const bystander = await IcsConnection.login(ics, "bystander");
  /** The bystander is still answered at once. */
  const unharmed = async () => {
    const time = await bystander.request({ action: "time" });
    assert.equal(time.json.action, "time");
  };
  const close = async () => {
    bystander.close();
    await server.close();
  };
  return { server, ics, lines, unharmed, close };
}

Deno.test("ICS garbage is answered with an error frame and the connection closed", async () => {
  const { ics, unharmed, close } = await icsServer();
  for (
    const garbage of [
      "CLAPTRAP\0\0\0\x14HELLO\n\n",
      "GET / HTTP/1.1\r\n\r\n",
      "-0001{}",
    ]
  ) {
    const attacker = await IcsConnection.open(ics);
    await attacker.write(encoder.encode(garbage));
    const [error] = await attacker.untilClosed();
    assert.equal(error.json.action, "error", garbage);
    assert.equal(error.json.status, "bad-request");
    assert.match(error.json.reason, /^Cannot parse frame: the length must be 5 digits, got byte/);
    attacker.close();
  }
  await unharmed();
  await close();
});

Deno.test("an ICS length that lies is a bad request, and then lost framing that closes", async () => {
  const { ics, unharmed, close } = await icsServer();
  const liar = await IcsConnection.open(ics);
  // says 10 characters: `{"action":` is not JSON, and ` "time"}` is no length
  await liar.write(encoder.encode('00010{"action": "time"}'));
  const frames = await liar.untilClosed();
  assert.deepEqual(frames.map((f) => f.json.reason), [
    "Cannot parse request: not JSON",
    "Cannot parse frame: the length must be 5 digits, got byte 0x20",
  ]);
  liar.close();
  await unharmed();
  await close();
});

Deno.test("an ICS frame that never ends is closed after the frame timeout; a silent logged-in client is not", async () => {
  const { server, ics, lines, unharmed, close } = await icsServer({
    frameTimeoutMs: 300,
    idleTimeoutMs: 300,
    pingIntervalMs: 100,
  });
  const staller = await IcsConnection.open(ics);
  await staller.write(icsRequestBytes({ action: "login", name: "staller" }).subarray(0, 20));
  assert.deepEqual(await staller.untilClosed(), []);
  staller.close(); // the server waits for the client's side to close, then logs why
  await logged(lines, "frame timeout");

  // a Claptrap connection as silent is closed; the ICS client, which has no keep-alive, is not
  const silent = await IcsConnection.login(ics, "silent");
  const claptrap = await RawConnection.open(server.addr.port);
  await claptrap.login("ann");
  await claptrap.untilClosed();
  assert.equal(await silent.frameWithin(500), null, "no ping, no farewell");
  assert.equal((await silent.request({ action: "time" })).json.action, "time");
  silent.close();
  await claptrap.close();
  await unharmed();
  await close();
});

Deno.test("an ICS connection that never logs in is closed after the login timeout", async () => {
  const { ics, lines, unharmed, close } = await icsServer({ loginTimeoutMs: 300 });
  const idle = await IcsConnection.open(ics);
  assert.deepEqual(await idle.untilClosed(), []);
  idle.close();
  await logged(lines, "login timeout");
  await unharmed();
  await close();
});

Deno.test("an oversized ICS frame is refused from its length or its bytes, with an error frame", async () => {
  const { ics, unharmed, close } = await icsServer({ maxFrameSize: 1024 });
  const byLength = await IcsConnection.open(ics);
  await byLength.write(encoder.encode("05000"));
  const [error] = await byLength.untilClosed();
  assert.equal(error.json.reason, "Cannot parse frame: longer than 1024 bytes");
  const byBytes = await IcsConnection.open(ics);
  // 600 characters, 1,800 bytes
  await byBytes.write(encoder.encode(`00600${"好".repeat(600)}`));
  assert.equal((await byBytes.untilClosed())[0].json.reason, error.json.reason);
  byLength.close();
  byBytes.close();
  await unharmed();
  await close();
});

Deno.test("an ICS client flooding requests without reading is dropped at the send-queue bound", async () => {
  const { ics, lines, unharmed, close } = await icsServer({ sendQueueBytes: 64 * 1024 });
  const flooder = await IcsConnection.open(ics, { paused: true });
  await flooder.write(icsRequestBytes({ action: "login", name: "flooder" }));
  const list = icsRequestBytes({ action: "list" });
  const burst = new Uint8Array(list.length * 1_000);
  for (let i = 0; i < 1_000; i++) burst.set(list, i * list.length);
  try {
    for (let i = 0; i < 50; i++) await flooder.write(burst);
  } catch {
    // closed by the server meanwhile
  }
  await logged(lines, "send queue exceeded 65536 bytes");
  flooder.close();
  await unharmed();
  await close();
});

Deno.test("an ICS client that never reads is dropped from its peer chat at the send-queue bound; the other is told the chat ended", async () => {
  const { ics, lines, unharmed, close } = await icsServer({
    sendQueueBytes: 64 * 1024,
    floodLimits: NO_FLOOD_LIMITS,
  });
  const sleeper = await IcsConnection.open(ics, { paused: true });
  await sleeper.write(icsRequestBytes({ action: "login", name: "sleeper" }));
  const talker = await IcsConnection.login(ics, "talker");
  let connected = "";
  for (let i = 0; i < 50 && connected !== "success"; i++) {
    // the sleeper's login may still be on its way
    connected = (await talker.request({ action: "connect", target: "sleeper" })).json.status;
  }
  assert.equal(connected, "success");
  const line = "z".repeat(16_000);
  let ended = null;
  for (let i = 0; i < 2_000 && !ended; i++) {
    await talker.send({ action: "exchange", from: "[talker]", message: line });
    ended = await talker.frameWithin(i % 20 === 0 ? 20 : 0);
  }
  assert.equal(ended?.text, '{"action": "disconnect"}');
  await logged(lines, "send queue exceeded 65536 bytes");
  sleeper.close();
  talker.close();
  await unharmed();
  await close();
});

Deno.test("ICS connections count against the per-address cap: one over it is closed at once", async () => {
  const { server, ics, close } = await icsServer({ maxConnectionsPerAddress: 3 });
  // the bystander is one; a Claptrap connection is another
  const claptrap = await RawConnection.open(server.addr.port);
  const second = await IcsConnection.open(ics);
  const refused = await IcsConnection.open(ics);
  assert.deepEqual(await refused.untilClosed(), []);
  second.close();
  refused.close();
  await claptrap.close();
  await close();
});

/** Waits until the log says a connection was closed for `reason`. */
async function logged(lines: string[], reason: string): Promise<void> {
  for (let i = 0; i < 500 && !lines.some((line) => line.includes(reason)); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.ok(lines.some((line) => line.includes(reason)), lines.join("\n"));
}
