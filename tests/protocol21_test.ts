/**
 * Protocol 2.1 over real sockets: several rooms per session, memberships
 * that last, unread and mention counts, devices and sign-in tokens, over
 * TCP and over the JSON mapping on WebSocket; and that 2.0 sessions beside
 * them are told what they always were.
 * @module
 */

import assert from "node:assert/strict";
import { parseRows } from "../protocol/content.ts";
import type { Message } from "../protocol/message.ts";
import { ACCOUNTS, RawConnection, startTestServer } from "./helpers.ts";
import { JsonSocket, startWebTestServer } from "./web_helpers.ts";

/** A TCP connection that said HELLO 2.1 and logged in as `user` with push; its answer. */
async function online21(
  port: number,
  user: string,
  secret: Record<string, string> = { Password: ACCOUNTS.get(user)! },
): Promise<{ c: RawConnection; login: Message }> {
  const c = await RawConnection.open(port, { original: true });
  const hello = await c.request("HELLO", { Version: "2.1" });
  assert.deepEqual([hello.params.Status, hello.params.Version], ["OK", "2.1"]);
  assert.ok(hello.params.Capabilities.split(",").includes("unread"));
  const login = await c.request("LOGIN", { Username: user, ...secret, Push: "on" });
  return { c, login };
}

const rows = (message: Message, fields: number) => parseRows(message.content ?? "", fields);

/** Sends a request over a JSON socket and returns its answer; events stay unread. */
async function ask(
  socket: JsonSocket,
  method: string,
  params: Record<string, string> = {},
): Promise<Message> {
  socket.send(method, params);
  while (true) {
    const message = await socket.next();
    if (!message.method.startsWith("EVT_")) return message;
  }
}

Deno.test("2.1 over TCP: rooms side by side, Room on requests, counts in LIST_ROOMS", async () => {
  const server = await startTestServer();
  const port = server.addr.port;
  const { c: ann, login } = await online21(port, "ann");
  assert.equal(login.params.Status, "OK");
  assert.match(login.params.Token, /^[A-Za-z0-9_-]{43}$/);
  const { c: bob } = await online21(port, "bob");
  for (const c of [ann, bob]) {
    for (const room of ["lobby", "random"]) {
      assert.equal((await c.request("JOIN_ROOM", { "Room-Name": room })).params.Status, "OK");
    }
  }
  const old = await RawConnection.open(server);
  await old.login("carol", { push: true });
  await old.request("JOIN_ROOM", { "Room-Name": "lobby" });
  const sent = await bob.request("SEND_MSG", { Room: "lobby" }, "@ann see this");
  assert.equal(sent.params.Status, "OK");
  const event = await ann.nextOf("EVT_MSG");
  assert.deepEqual([event.params.Room, event.params.Mentions], ["lobby", "ann"]);
  const told = await old.nextOf("EVT_MSG");
  assert.equal(told.params.Mentions, undefined, "a 2.0 session is told as before");
  await bob.request("SEND_MSG", { Room: "random" }, "elsewhere");
  const list = await ann.request("LIST_ROOMS");
  assert.deepEqual(rows(list, 5), [
    ["lobby", "3", "joined", "1", "1"],
    ["random", "2", "joined", "1", "0"],
    ["香港记者招待会", "0", "-", "0", "0"],
  ]);
  assert.equal(list.params.More, "no");
  const members = await ann.request("LIST_MEMBERS", { Room: "random" });
  assert.deepEqual(rows(members, 2), [["ann", "online"], ["bob", "online"]]);
  const read = await ann.request("MARK_READ", { Room: "lobby", Id: sent.params.Id });
  assert.equal(read.params.Status, "OK");
  assert.deepEqual(rows(await ann.request("LIST_ROOMS"), 5)[0], ["lobby", "3", "joined", "0", "0"]);
  const history = await ann.request("HISTORY", { Room: "random" });
  assert.equal(history.params.Room, "random");
  assert.equal((await ann.request("EXIT_ROOM", { Room: "random" })).params.Status, "OK");
  assert.equal(
    (await ann.request("SEND_MSG", { Room: "random" }, "x")).params.Status,
    "NOT_IN_ROOM",
  );
  assert.equal((await ann.request("MARK_READ", { Id: "x" })).params.Status, "BAD_REQUEST");
  for (const c of [ann, bob, old]) await c.close();
  await server.close();
});

Deno.test("2.1 over TCP: devices share events and read positions; tokens sign in again", async () => {
  const server = await startTestServer();
  const port = server.addr.port;
  const { c: phone, login } = await online21(port, "ann");
  const { c: laptop } = await online21(port, "ann");
  await phone.request("JOIN_ROOM", { "Room-Name": "lobby" });
  const joined = await laptop.nextOf("EVT_JOIN");
  assert.deepEqual([joined.params.Room, joined.params.User], ["lobby", "ann"]);
  const sent = await phone.request("SEND_MSG", {}, "from my phone");
  assert.equal((await laptop.nextOf("EVT_MSG")).content, "from my phone");
  await phone.request("MARK_READ", { Room: "lobby", Id: sent.params.Id });
  const read = await laptop.nextOf("EVT_READ");
  assert.deepEqual([read.params.Room, read.params.Id], ["lobby", sent.params.Id]);
  await phone.close();
  const { c: resumed, login: again } = await online21(port, "ann", { Token: login.params.Token });
  assert.deepEqual([again.params.Status, again.params.Token], ["OK", undefined]);
  assert.equal((await resumed.request("SEND_MSG", {}, "still in the lobby")).params.Status, "OK");
  const { c: stranger, login: wrong } = await online21(port, "ann", { Token: "not-a-token" });
  assert.equal(wrong.params.Status, "AUTH_FAILED");
  await stranger.close();
  const twoZero = await RawConnection.open(server);
  const refused = await twoZero.request("LOGIN", { Username: "ann", Token: login.params.Token });
  assert.deepEqual([refused.params.Status, refused.params.Reason], [
    "BAD_REQUEST",
    "missing parameter Password",
  ]);
  assert.equal((await resumed.request("LOGOUT", { Everywhere: "yes" })).params.Status, "OK");
  assert.equal((await laptop.nextOf("EVT_CLOSE")).params.Reason, "signed out everywhere");
  await laptop.close();
  const { c: late, login: revoked } = await online21(port, "ann", { Token: login.params.Token });
  assert.equal(revoked.params.Status, "AUTH_FAILED");
  await late.close();
  for (const c of [resumed, twoZero]) await c.close();
  await server.close();
});

Deno.test("2.1 over TCP: direct conversations and peer chats count unread too", async () => {
  const server = await startTestServer();
  const port = server.addr.port;
  const { c: ann } = await online21(port, "ann");
  const { c: bob } = await online21(port, "bob");
  await bob.request("JOIN_ROOM", { "Room-Name": "lobby" });
  const dm = await ann.request("DM", { To: "bob" }, "@bob psst");
  assert.equal(dm.params.Status, "OK");
  assert.equal((await bob.nextOf("EVT_DM")).params.Mentions, "bob");
  assert.deepEqual(rows(await bob.request("LIST_DIRECT"), 3), [["ann", "1", "1"]]);
  await bob.request("MARK_READ", { With: "ann", Id: dm.params.Id });
  assert.deepEqual(rows(await bob.request("LIST_DIRECT"), 3), [["ann", "0", "0"]]);
  const peer = await ann.request("PEER_CONNECT", { Peer: "bob" });
  assert.equal(peer.params.Status, "OK", "bob is in a room, and not busy for it");
  const room = peer.params.Room;
  await ann.request("SEND_MSG", { Room: room }, "just us");
  assert.deepEqual(rows(await bob.request("LIST_GROUPS"), 4), [[room, "2", "1", "0"]]);
  assert.equal((await bob.request("PEER_BYE", { Room: room })).params.Status, "OK");
  assert.equal((await ann.nextOf("EVT_GROUP_END")).params.Room, room);
  assert.deepEqual(rows(await bob.request("LIST_GROUPS"), 4), []);
  for (const c of [ann, bob]) await c.close();
  await server.close();
});

Deno.test("2.1 over WebSocket: the same requests and events in JSON", async () => {
  const server = await startWebTestServer();
  const ann = await JsonSocket.open(server);
  assert.equal((await ask(ann, "HELLO", { Version: "2.1" })).params.Version, "2.1");
  const login = await ask(ann, "LOGIN", {
    Username: "ann",
    Password: ACCOUNTS.get("ann")!,
    Push: "on",
  });
  assert.equal(login.params.Status, "OK");
  const { c: bob } = await online21(server.addr.port, "bob");
  for (const room of ["lobby", "random"]) {
    assert.equal((await ask(ann, "JOIN_ROOM", { "Room-Name": room })).params.Status, "OK");
    await bob.request("JOIN_ROOM", { "Room-Name": room });
  }
  await bob.request("SEND_MSG", { Room: "lobby" }, "hi @ann");
  const event = await ann.nextOf("EVT_MSG");
  assert.deepEqual([event.params.Room, event.params.Mentions], ["lobby", "ann"]);
  const list = await ask(ann, "LIST_ROOMS");
  assert.deepEqual(rows(list, 5).slice(0, 2), [
    ["lobby", "2", "joined", "1", "1"],
    ["random", "2", "joined", "0", "0"],
  ]);
  await ann.close();
  const again = await JsonSocket.open(server);
  await ask(again, "HELLO", { Version: "2.1" });
  const resumed = await ask(again, "LOGIN", { Username: "ann", Token: login.params.Token });
  assert.equal(resumed.params.Status, "OK");
  assert.deepEqual(rows(await ask(again, "LIST_ROOMS"), 5).slice(0, 2), [
    ["lobby", "2", "joined", "1", "1"],
    ["random", "2", "joined", "0", "0"],
  ]);
  await again.close();
  await bob.close();
  await server.close();
});
