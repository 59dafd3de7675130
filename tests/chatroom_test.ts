/**
 * The Multi-Client Chatroom listener over real sockets, with a client
 * written from the protocol: the handshake in two reads, messages and
 * events, refusals, the console, and hostile input.
 */

import assert from "node:assert/strict";
import { ChatClient } from "../client/chat_client.ts";
import { tcp } from "../client/tcp_transport.ts";
import { DEFAULT_FLOOD_LIMITS, NO_FLOOD_LIMITS } from "../core/limits/flood_control.ts";
import type { ServerHandle, ServerOptions } from "../server/server.ts";
import { ChatroomClient } from "./chatroom_client.ts";
import { ACCOUNTS, NEVER, startTestServer } from "./helpers.ts";

async function chatroomServer(
  options: ServerOptions = {},
): Promise<{ server: ServerHandle; port: number }> {
  const server = await startTestServer({ chatroomPort: 0, ...options });
  return { server, port: server.listeners.get("chatroom")!.port };
}

Deno.test("Chatroom: OK and the user list come in two reads; others hear of the newcomer", async () => {
  const { server, port } = await chatroomServer();
  const alice = await ChatroomClient.join(port, "alice");
  assert.deepEqual([alice.ack, alice.list], ["OK", "&Host&alice"]);
  const kay = await ChatroomClient.join(port, "kay");
  assert.deepEqual([kay.ack, kay.list], ["OK", "&Host&alice&kay"]);
  await alice.client.waitFor("[*] kay entered.");
  assert.match(
    new TextDecoder().decode(alice.client.reader.reads[2]),
    /^\[\d\d:\d\d:\d\d\] \[\*\] kay entered\.$/,
  );
  alice.client.close();
  kay.client.close();
  await server.close();
});

Deno.test("Chatroom: messages go to the others only, trimmed; leaving is announced", async () => {
  const { server, port } = await chatroomServer();
  const alice = (await ChatroomClient.join(port, "alice")).client;
  const kay = (await ChatroomClient.join(port, "kay")).client;
  await alice.waitFor("[*] kay entered.");
  await alice.send("hello everyone  \n");
  await kay.waitFor("alice > hello everyone");
  await kay.send("hi alice");
  await alice.waitFor("kay > hi alice");
  await kay.send("   ");
  await kay.disconnect();
  assert.deepEqual(await alice.waitFor("[*] kay exited."), [
    "[*] kay entered.",
    "kay > hi alice",
    "[*] kay exited.",
  ]);
  assert.deepEqual(kay.messages(), ["alice > hello everyone"]);
  alice.close();
  kay.close();
  await server.close();
});

Deno.test("Chatroom: NOT_UNIQUE for a name taken, an account's, the server's, blank or with spaces", async () => {
  const { server, port } = await chatroomServer();
  const alice = (await ChatroomClient.join(port, "alice")).client;
  for (const name of ["alice", "ALICE", "ann", "Host", "  ", "two words", "bad\u200bname"]) {
    const refused = await ChatroomClient.join(port, name);
    assert.equal(refused.ack, "NOT_UNIQUE", name);
    await refused.client.reader.end();
    assert.equal(refused.client.reader.text, "NOT_UNIQUE");
    refused.client.close();
  }
  alice.close();
  await server.close();
});

Deno.test("Chatroom: the operator's notice and kick, and a bad message, are said as Host", async () => {
  const { server, port } = await chatroomServer();
  const alice = (await ChatroomClient.join(port, "alice")).client;
  const kay = (await ChatroomClient.join(port, "kay")).client;
  await alice.waitFor("[*] kay entered.");
  await kay.send("bell \u0007 here");
  await kay.waitFor("Host > not sent: message contains the control character U+0007");
  server.console("BROADCAST restart at noon");
  await kay.waitFor("Host > restart at noon");
  server.console("KICK kay");
  await kay.waitFor("Host > kicked by the operator");
  await kay.reader.end();
  assert.deepEqual(await alice.waitFor("[*] kay exited."), [
    "[*] kay entered.",
    "Host > restart at noon",
    "[*] kay exited.",
  ]);
  alice.close();
  kay.close();
  await server.close();
});

Deno.test("Chatroom: garbage, floods, silence and oversized messages harm no one else", async () => {
  const { server, port } = await chatroomServer({
    loginTimeoutMs: 300,
    idleTimeoutMs: 300,
    floodLimits: { ...DEFAULT_FLOOD_LIMITS, messages: { perSecond: NEVER, burst: 5 } },
  });
  const alice = (await ChatroomClient.join(port, "alice")).client;
  const garbage = (await ChatroomClient.join(port, "garbage")).client;
  await alice.waitFor("[*] garbage entered.");
  // invalid UTF-8 shows as U+FFFD; a character split between two writes is kept whole
  await garbage.send(new Uint8Array([0xff, 0x41, 0xc3]));
  await new Promise((resolve) => setTimeout(resolve, 100));
  await garbage.send(new Uint8Array([0xa9]));
  await alice.waitFor("garbage > \ufffdA");
  await alice.waitFor("garbage > é");
  // too long, then too many
  await garbage.send("x".repeat(20_000));
  await garbage.waitFor("Host > not sent: message is longer than 16384 characters");
  for (let i = 0; i < 4; i++) {
    await garbage.send(`flood ${i}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await garbage.waitFor("Host > not sent: too many messages; slow down");
  // a connection that never names itself is closed; a silent guest is not
  const anonymous = await ChatroomClient.open(port);
  await anonymous.reader.end();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await alice.send("still here");
  await garbage.waitFor("alice > still here");
  for (const client of [alice, garbage, anonymous]) client.close();
  await server.close();
});

Deno.test("Chatroom: a guest that never reads is dropped once its queue is full; the room goes on", async () => {
  const { server, port } = await chatroomServer({
    sendQueueBytes: 64 * 1024,
    floodLimits: NO_FLOOD_LIMITS,
  });
  const deaf = await Deno.connect({ hostname: "127.0.0.1", port });
  await deaf.write(new TextEncoder().encode("deaf"));
  const alice = (await ChatroomClient.join(port, "alice")).client;
  const ann = await ChatClient.connect(tcp({ port: server.addr.port }));
  await ann.login("ann", ACCOUNTS.get("ann")!);
  await ann.join("lobby");
  const online = async () => (await server.console("LIST_USERS")).output.join("\n");
  const big = "x".repeat(16_000);
  for (let i = 0; i < 2_000 && (await online()).includes("deaf"); i++) await ann.send(big);
  assert.ok(!(await online()).includes("deaf"), "the non-reader is gone");
  await ann.close();
  alice.close();
  deaf.close();
  await server.close();
});

Deno.test("Chatroom: the room is made at start-up when missing, named by --chatroom-room", async () => {
  const { server, port } = await chatroomServer({ chatroomRoom: "plaza" });
  const ann = await ChatClient.connect(tcp({ port: server.addr.port }));
  await ann.login("ann", ACCOUNTS.get("ann")!);
  await ann.join("plaza");
  const alice = await ChatroomClient.join(port, "alice");
  assert.equal(alice.list, "&Host&ann&alice");
  await ann.close();
  alice.client.close();
  await server.close();
});

Deno.test("Chatroom: a message sent just before the client leaves is not lost", async () => {
  const { server, port } = await chatroomServer();
  const alice = (await ChatroomClient.join(port, "alice")).client;
  const kay = (await ChatroomClient.join(port, "kay")).client;
  await alice.waitFor("[*] kay entered.");
  await kay.send("goodbye");
  await kay.disconnect();
  await alice.waitFor("[*] kay exited.");
  // stored first, then told: it may come after the leaving that followed it
  const messages = await alice.waitFor("kay > goodbye");
  assert.deepEqual(messages.toSorted(), ["[*] kay entered.", "[*] kay exited.", "kay > goodbye"]);
  alice.close();
  kay.close();
  await server.close();
});
