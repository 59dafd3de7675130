/**
 * The CS168 Chat listener over real sockets, with a client written from
 * the protocol: the staff's scenario, every request and error string,
 * guest names, long messages, and hostile input.
 */

import assert from "node:assert/strict";
import { Cs168Client, FRAME, pad } from "./cs168_client.ts";
import { ACCOUNTS, NEVER, startTestServer } from "./helpers.ts";
import { ChatClient, type ChatError } from "../client/chat_client.ts";
import { tcp } from "../client/tcp_transport.ts";
import type { ServerHandle, ServerOptions } from "../server/server.ts";
import { DEFAULT_FLOOD_LIMITS, NO_FLOOD_LIMITS } from "../core/limits/flood_control.ts";

async function cs168Server(
  options: ServerOptions = {},
): Promise<{ server: ServerHandle; port: number }> {
  const server = await startTestServer({ cs168Port: 0, ...options });
  return { server, port: server.listeners.get("cs168")!.port };
}

/**
 * Sends a request whose error frame marks the end of what came before:
 * frames come in order, so once it is there, nothing sent earlier is on its way.
 */
async function mark(client: Cs168Client, n: number): Promise<string> {
  const text = `No channel named mark-${n} exists. Try '/create mark-${n}'?`;
  await client.line(`/join mark-${n}`);
  await client.waitFor(text);
  return text;
}

Deno.test("the staff's simple_test.py: two clients in tas, and nothing else on either side", async () => {
  const { server, port } = await cs168Server();
  const alice = await Cs168Client.connect(port, "Alice");
  const kay = await Cs168Client.connect(port, "Kay");
  await alice.line("/create tas");
  const first = await mark(alice, 1);
  await kay.line("/join tas");
  await alice.waitFor("Kay has joined");
  await kay.line("Hi!");
  await alice.waitFor("[Kay] Hi!");
  await alice.line("Hello!");
  await kay.waitFor("[Alice] Hello!");
  const aliceEnd = await mark(alice, 2);
  const kayEnd = await mark(kay, 3);
  assert.deepEqual(alice.frames(), [first, "Kay has joined", "[Kay] Hi!", aliceEnd]);
  assert.deepEqual(kay.frames(), ["[Alice] Hello!", kayEnd]);
  assert.equal(alice.reader.bytes.length, 4 * FRAME, "every frame is 200 bytes");
  alice.close();
  kay.close();
  await server.close();
});

Deno.test("CS168: the reference session — lists, joins, leaves, and no channel yet", async () => {
  const { server, port } = await cs168Server();
  const [alice, kay, bob] = await Promise.all(
    ["Alice", "Kay", "Ben"].map((name) => Cs168Client.connect(port, name)),
  );
  await bob.line("hello before any channel");
  await bob.waitFor(
    "Not currently in any channel. Must join a channel before sending messages.",
  );
  await alice.line("/create tas");
  await mark(alice, 1);
  await kay.line("/join tas");
  await alice.waitFor("Kay has joined");
  await bob.line("/list");
  await bob.waitFor("lobby\nrandom\n香港记者招待会\ntas");
  await bob.line("/join tas");
  await alice.waitFor("Ben has joined");
  await kay.waitFor("Ben has joined");
  await alice.line("/create other");
  await kay.waitFor("Alice has left");
  await bob.waitFor("Alice has left");
  kay.close();
  await bob.waitFor("Kay has left");
  assert.deepEqual(bob.frames().slice(0, 2), [
    "Not currently in any channel. Must join a channel before sending messages.",
    "lobby\nrandom\n香港记者招待会\ntas",
  ]);
  await mark(bob, 2);
  assert.deepEqual(bob.frames().slice(2), [
    "Alice has left",
    "Kay has left",
    "No channel named mark-2 exists. Try '/create mark-2'?",
  ]);
  alice.close();
  bob.close();
  await server.close();
});

Deno.test("CS168: every bad request gets the staff's words, and changes nothing", async () => {
  const { server, port } = await cs168Server();
  const alice = await Cs168Client.connect(port, "Alice");
  await alice.line("/create tas");
  const cases: [string, string][] = [
    ["/join", "/join command must be followed by the name of a channel to join."],
    ["/join a b", "/join command must be followed by the name of a channel to join."],
    ["/create", "/create command must be followed by the name of a channel to create"],
    ["/create  a", "/create command must be followed by the name of a channel to create"],
    ["/create tas", "Room tas already exists, so cannot be created."],
    ["/join nowhere", "No channel named nowhere exists. Try '/create nowhere'?"],
    [
      "/foobar x",
      "/foobar x is not a valid control message. Valid messages are /create, /list, and /join.",
    ],
    [
      "/create bad\u200bname",
      "Cannot create bad\u200bname: name contains an invisible character (U+200B)",
    ],
  ];
  for (const [line, answer] of cases) {
    await alice.line(line);
    await alice.waitFor(answer);
  }
  assert.deepEqual(alice.frames(), cases.map(([, answer]) => answer));
  alice.close();
  await server.close();
});

Deno.test("CS168: a guest may not take an account's name or an online user's, and is told why", async () => {
  const { server, port } = await cs168Server();
  const alice = await Cs168Client.connect(port, "Alice");
  await alice.line("/join lobby");
  const refusals: [string, string][] = [
    ["ann", "Cannot chat as ann: that name is an account's; log in with its password"],
    ["ALICE", "Cannot chat as ALICE: ALICE or a look-alike name is online"],
    ["", "Cannot chat as : name is empty"],
  ];
  for (const [name, answer] of refusals) {
    const refused = await Cs168Client.connect(port, name);
    await refused.waitFor(answer);
    await refused.reader.end();
    assert.deepEqual(refused.frames(), [answer]);
    refused.close();
  }
  const kay = await Cs168Client.connect(port, "Kay");
  await kay.line("/join lobby");
  await alice.waitFor("Kay has joined");
  alice.close();
  await kay.waitFor("Alice has left"); // the server has let the name go
  const again = await Cs168Client.connect(port, "alice");
  await again.line("/join lobby");
  await mark(again, 1);
  assert.equal(again.frames().length, 1, "the name is free once its guest has gone");
  again.close();
  kay.close();
  await server.close();
});

Deno.test("CS168: a long message comes in whole frames, cut between characters", async () => {
  const { server, port } = await cs168Server();
  const alice = await Cs168Client.connect(port, "Alice");
  const kay = await Cs168Client.connect(port, "Kay");
  await alice.line("/create tas");
  await mark(alice, 1);
  await kay.line("/join tas");
  await alice.waitFor("Kay has joined");
  // `[Kay] x` and 98 two-byte characters: 203 bytes, whose 200th byte is inside a character
  const text = `x${"é".repeat(98)}`;
  await kay.line(text);
  const frames = await alice.waitFor("éé");
  assert.equal(alice.reader.bytes.length, frames.length * FRAME);
  assert.deepEqual(frames.slice(2), [`[Kay] x${"é".repeat(96)}`, "éé"]);
  alice.close();
  kay.close();
  await server.close();
});

Deno.test("CS168: the operator's notice and kick reach a guest; the others hear it left", async () => {
  const { server, port } = await cs168Server();
  const alice = await Cs168Client.connect(port, "Alice");
  const kay = await Cs168Client.connect(port, "Kay");
  await alice.line("/join lobby");
  await mark(alice, 1);
  await kay.line("/join lobby");
  await alice.waitFor("Kay has joined");
  server.console("BROADCAST restart at noon");
  await kay.waitFor("restart at noon");
  server.console("KICK Kay");
  await kay.waitFor("Disconnected by the server: kicked by the operator");
  await kay.reader.end();
  await alice.waitFor("Kay has left");
  alice.close();
  kay.close();
  await server.close();
});

Deno.test("CS168: a guest in no channel is not pulled into a peer chat: the asker hears BUSY", async () => {
  const { server, port } = await cs168Server();
  const alice = await Cs168Client.connect(port, "Alice");
  await mark(alice, 1); // logged in, in no channel
  const ann = await ChatClient.connect(tcp({ port: server.addr.port }));
  await ann.login("ann", ACCOUNTS.get("ann")!);
  await assert.rejects(
    ann.peerConnect("Alice"),
    (error: ChatError) =>
      error.status === "BUSY" && error.reason === "Alice's client has no peer chats",
  );
  await alice.line("/create tas");
  await mark(alice, 2);
  assert.deepEqual(alice.frames().length, 2, "Alice heard nothing of it");
  await ann.close();
  alice.close();
  await server.close();
});

Deno.test("CS168: garbage, floods, unfinished frames, silence and non-readers harm no one else", async () => {
  const { server, port } = await cs168Server({
    frameTimeoutMs: 300,
    loginTimeoutMs: 300,
    idleTimeoutMs: 300,
    sendQueueBytes: 64 * 1024,
    floodLimits: { ...DEFAULT_FLOOD_LIMITS, messages: { perSecond: NEVER, burst: 20 } },
  });
  const alice = await Cs168Client.connect(port, "Alice");
  await alice.line("/create tas");
  await mark(alice, 1);
  // garbage: invalid UTF-8 and control characters are refused with a reason, or shown replaced
  const garbage = await Cs168Client.connect(port, "Garbage");
  await garbage.line("/join tas");
  await alice.waitFor("Garbage has joined");
  await garbage.write(pad(new Uint8Array([0xff, 0xfe, 0x41, 0x00, 0x1b])));
  await garbage.waitFor("Message not sent: message contains the control character U+0000");
  await garbage.write(pad(new Uint8Array([0xff, 0x41])));
  await alice.waitFor("[Garbage] \ufffdA");
  // a flood: past its burst, each message is refused, and the room sees no more of them
  const flood = await Cs168Client.connect(port, "Flood");
  await flood.line("/join tas");
  await alice.waitFor("Flood has joined");
  const lines = Array.from({ length: 40 }, (_, i) => pad(`flood ${i}\n`));
  await flood.write(new Uint8Array(lines.flatMap((line) => [...line])));
  await flood.waitFor("Message not sent: too many messages; slow down");
  await alice.waitFor("[Flood] flood 17");
  // a frame that never ends is closed; so is a connection that never names itself
  const unfinished = await Cs168Client.open(port);
  await unfinished.write(new TextEncoder().encode("Half"));
  await unfinished.reader.end();
  const anonymous = await Cs168Client.open(port);
  await anonymous.reader.end();
  // a silent guest is not closed for silence: CS168 clients never ping
  const quiet = await Cs168Client.connect(port, "Quiet");
  await quiet.line("/join tas");
  await alice.waitFor("Quiet has joined");
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.equal(quiet.reader.ended, false);
  await quiet.line("still here");
  await alice.waitFor("[Quiet] still here");
  for (const client of [alice, garbage, flood, unfinished, anonymous, quiet]) client.close();
  await server.close();
});

Deno.test("CS168: beyond the connections one address may have, a frame says why", async () => {
  const { server, port } = await cs168Server({ maxConnectionsPerAddress: 1 });
  const alice = await Cs168Client.connect(port, "Alice");
  const second = await Cs168Client.open(port);
  await second.reader.end();
  assert.match(second.frames()[0], /^Cannot connect: /);
  alice.close();
  second.close();
  await server.close();
});

Deno.test("CS168: a guest that never reads is dropped once its queue is full; the room goes on", async () => {
  const { server, port } = await cs168Server({
    sendQueueBytes: 64 * 1024,
    floodLimits: NO_FLOOD_LIMITS,
  });
  const deaf = await Deno.connect({ hostname: "127.0.0.1", port });
  await deaf.write(pad("Deaf"));
  await deaf.write(pad("/join lobby\n"));
  const alice = await Cs168Client.connect(port, "Alice");
  await alice.line("/join lobby");
  const ann = await ChatClient.connect(tcp({ port: server.addr.port }));
  await ann.login("ann", ACCOUNTS.get("ann")!);
  await ann.join("lobby");
  const online = async () => (await server.console("LIST_USERS")).output.join("\n");
  for (let i = 0; i < 500 && !(await online()).includes("Deaf"); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10)); // until Deaf is in
  }
  const big = "x".repeat(16_000); // 81 frames for a CS168 guest
  for (let i = 0; i < 2_000 && (await online()).includes("Deaf"); i++) await ann.send(big);
  assert.ok(!(await online()).includes("Deaf"), "the non-reader is gone");
  await ann.send("after");
  await alice.reader.until(() => alice.reader.text.includes("[ann] after") || undefined, "after");
  await ann.close();
  alice.close();
  deaf.close();
  await server.close();
});
