import assert from "node:assert/strict";
import { parseRows } from "../protocol/content.ts";
import { online, type RawConnection, startTestServer } from "./helpers.ts";

/** Where each online user is, as WHO says: `user place name` rows, sorted. */
async function whereabouts(c: RawConnection): Promise<string[][]> {
  return parseRows((await c.request("WHO")).content!, 3).sort();
}

/** Ann and bob in a peer chat of their own; returns its name. */
async function annAndBob(ann: RawConnection, bob: RawConnection): Promise<string> {
  const connected = await ann.request("PEER_CONNECT", { Peer: "bob" });
  assert.equal(connected.params.Status, "OK");
  await bob.nextOf("EVT_JOIN");
  return connected.params.Room;
}

Deno.test("a peer in a public room is BUSY: nobody is taken out of a room by someone else", async () => {
  const server = await startTestServer();
  const port = server.addr.port;
  const ann = await online(port, "ann", { room: "lobby" });
  const bob = await online(port, "bob", { room: "lobby" });
  const carol = await online(port, "carol", { room: "lobby" });
  await ann.nextOf("EVT_JOIN");
  await ann.nextOf("EVT_JOIN");

  const busy = await bob.request("PEER_CONNECT", { Peer: "ann" });
  assert.deepEqual([busy.params.Status, busy.params.Reason, busy.params.Room], [
    "BUSY",
    "ann is in a public room; try again later",
    undefined,
  ]);
  assert.deepEqual(await whereabouts(bob), [
    ["ann", "room", "lobby"],
    ["bob", "room", "lobby"],
    ["carol", "room", "lobby"],
  ]);
  assert.equal((await bob.request("PEER_BYE")).params.Status, "NOT_IN_GROUP");
  assert.equal(await ann.frameWithin(100), null, "ann is not told anything");
  await Promise.all([ann, bob, carol].map((c) => c.close()));
  await server.close();
});

Deno.test("a user banned from a room cannot pull someone out of it with PEER_CONNECT", async () => {
  const server = await startTestServer();
  const port = server.addr.port;
  const ann = await online(port, "ann");
  assert.equal((await ann.request("CREATE_ROOM", { "Room-Name": "den" })).params.Status, "OK");
  await ann.request("JOIN_ROOM", { "Room-Name": "den" });
  const bob = await online(port, "bob", { room: "den" });
  const carol = await online(port, "carol", { room: "den" });
  const ban = await ann.request("BAN", { User: "carol", Reason: "spam" });
  assert.equal(ban.params.Status, "OK");
  await carol.nextOf("EVT_KICKED");

  for (let i = 0; i < 3; i++) {
    const attack = await carol.request("PEER_CONNECT", { Peer: "bob" });
    assert.equal(attack.params.Status, "BUSY");
  }
  assert.deepEqual((await whereabouts(ann)).find((row) => row[0] === "bob"), [
    "bob",
    "room",
    "den",
  ]);
  await bob.request("SEND_MSG", {}, "only for den");
  assert.equal((await ann.nextOf("EVT_MSG")).content, "only for den");
  const leaked = await carol.frameWithin(100);
  assert.ok(leaked?.method !== "EVT_MSG", "carol does not read bob's next message");
  await Promise.all([ann, bob, carol].map((c) => c.close()));
  await server.close();
});

Deno.test("joining a peer chat takes a member's consent, and the newcomer reads only what follows", async () => {
  const server = await startTestServer();
  const port = server.addr.port;
  const ann = await online(port, "ann");
  const bob = await online(port, "bob");
  const carol = await online(port, "carol", { room: "lobby" });
  const group = await annAndBob(ann, bob);
  await ann.request("SEND_MSG", {}, "the surprise party plan");

  const asked = await carol.request("PEER_CONNECT", { Peer: "bob" });
  assert.deepEqual([asked.params.Status, asked.params.Room], ["INVITED", group]);
  assert.ok(Date.parse(asked.params.Expires) > Date.now(), "it says until when");
  assert.deepEqual(await whereabouts(carol), [
    ["ann", "group", group],
    ["bob", "group", group],
    ["carol", "room", "lobby"],
  ], "carol waits where she was");
  for (const member of [ann, bob]) {
    const invite = await member.nextOf("EVT_PEER_INVITE");
    assert.deepEqual(
      [invite.params.Room, invite.params.Kind, invite.params.From, invite.params.Expires],
      [group, "group", "carol", asked.params.Expires],
    );
  }
  assert.equal(
    (await carol.request("PEER_ACCEPT", { Peer: "carol" })).params.Status,
    "NOT_IN_GROUP",
    "only members answer",
  );
  const stranger = await bob.request("PEER_ACCEPT", { Peer: "江主席" });
  assert.deepEqual([stranger.params.Status, stranger.params.Reason], [
    "NO_INVITATION",
    "江主席 is not waiting to join this peer chat",
  ]);

  assert.equal((await bob.request("PEER_ACCEPT", { Peer: "carol" })).params.Status, "OK");
  const answer = await carol.nextOf("EVT_PEER_ANSWER");
  assert.deepEqual(
    [answer.params.Room, answer.params.From, answer.params.Answer, answer.params.By],
    [group, "carol", "accepted", "bob"],
  );
  assert.equal((await ann.nextOf("EVT_JOIN")).params.User, "carol");
  assert.deepEqual((await whereabouts(carol)).find((row) => row[0] === "carol"), [
    "carol",
    "group",
    group,
  ]);

  const before = await carol.request("HISTORY");
  assert.deepEqual([before.params.Status, before.params.Room, before.content ?? ""], [
    "OK",
    group,
    "",
  ], "nothing said before she joined");
  const searched = await carol.request("SEARCH", { Query: "surprise" });
  assert.deepEqual(parseRows(searched.content ?? "", 5), [], "not searchable by her either");
  await ann.request("SEND_MSG", {}, "welcome, carol: the party is on Friday");
  await carol.nextOf("EVT_MSG");
  const after = parseRows((await carol.request("HISTORY")).content!, 4);
  assert.deepEqual(after.map((row) => row[3]), ["welcome, carol: the party is on Friday"]);
  const found = parseRows((await carol.request("SEARCH", { Query: "party" })).content!, 5);
  assert.deepEqual(found.map((row) => row[4]), ["welcome, carol: the [party] is on Friday"]);
  const annSees = parseRows((await ann.request("HISTORY")).content!, 4);
  assert.equal(annSees.length, 2, "the members from the start read it all");
  await Promise.all([ann, bob, carol].map((c) => c.close()));
  await server.close();
});

Deno.test("a declined, expired or withdrawn request to join is told to the requester and the members", async () => {
  const server = await startTestServer({ peerInviteTimeoutMs: 1_500 });
  const port = server.addr.port;
  const ann = await online(port, "ann");
  const bob = await online(port, "bob");
  const carol = await online(port, "carol");
  const group = await annAndBob(ann, bob);

  const answerOf = async (c: RawConnection) => {
    const { params } = await c.nextOf("EVT_PEER_ANSWER");
    return [params.Room, params.From, params.Answer, params.By];
  };
  assert.equal((await carol.request("PEER_CONNECT", { Peer: "ann" })).params.Status, "INVITED");
  assert.equal((await bob.request("PEER_DECLINE", { Peer: "carol" })).params.Status, "OK");
  assert.deepEqual(await answerOf(carol), [group, "carol", "declined", "bob"]);
  assert.deepEqual(await answerOf(ann), [group, "carol", "declined", "bob"]);
  const late = await ann.request("PEER_ACCEPT", { Peer: "carol" });
  assert.equal(late.params.Status, "NO_INVITATION", "an answered request is gone");

  assert.equal((await carol.request("PEER_CONNECT", { Peer: "ann" })).params.Status, "INVITED");
  await carol.request("JOIN_ROOM", { "Room-Name": "lobby" });
  assert.deepEqual(await answerOf(carol), [group, "carol", "withdrawn", undefined]);
  assert.deepEqual(await answerOf(ann), [group, "carol", "withdrawn", undefined]);
  assert.equal(
    (await ann.request("PEER_ACCEPT", { Peer: "carol" })).params.Status,
    "NO_INVITATION",
    "nobody is taken out of the room she went to",
  );

  assert.equal((await carol.request("PEER_CONNECT", { Peer: "ann" })).params.Status, "INVITED");
  assert.deepEqual(await answerOf(carol), [group, "carol", "expired", undefined]);
  assert.deepEqual(await answerOf(ann), [group, "carol", "expired", undefined]);
  assert.equal(
    (await ann.request("PEER_ACCEPT", { Peer: "carol" })).params.Status,
    "NO_INVITATION",
  );
  await Promise.all([ann, bob, carol].map((c) => c.close()));
  await server.close();
});

Deno.test("requests to join one peer chat are bounded; asking again waits in the same place", async () => {
  const server = await startTestServer({ maxPeerInvites: 1 });
  const port = server.addr.port;
  const ann = await online(port, "ann");
  const bob = await online(port, "bob");
  const carol = await online(port, "carol");
  const jiang = await online(port, "江主席");
  const group = await annAndBob(ann, bob);

  const first = await carol.request("PEER_CONNECT", { Peer: "bob" });
  assert.equal(first.params.Status, "INVITED");
  await ann.nextOf("EVT_PEER_INVITE");
  const again = await carol.request("PEER_CONNECT", { Peer: "ann" });
  assert.deepEqual([again.params.Status, again.params.Room, again.params.Expires], [
    "INVITED",
    group,
    first.params.Expires,
  ]);
  const full = await jiang.request("PEER_CONNECT", { Peer: "ann" });
  assert.deepEqual([full.params.Status, full.params.Reason], [
    "BUSY",
    "that peer chat has 1 requests to join waiting; try again later",
  ]);
  const invites = [];
  for (let frame = await ann.frameWithin(100); frame; frame = await ann.frameWithin(100)) {
    if (frame.method === "EVT_PEER_INVITE") invites.push(frame);
  }
  assert.deepEqual(invites, [], "neither the repeat nor the refused one reached the members");

  assert.equal((await bob.request("PEER_BYE")).params.Status, "OK");
  assert.equal((await ann.nextOf("EVT_GROUP_END")).params.Room, group);
  const gone = await carol.nextOf("EVT_PEER_ANSWER");
  assert.equal(gone.params.Answer, "withdrawn", "a peer chat that ends withdraws its requests");
  await Promise.all([ann, bob, carol, jiang].map((c) => c.close()));
  await server.close();
});
