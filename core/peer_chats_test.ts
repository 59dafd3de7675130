import assert from "node:assert/strict";
import type { PeerOutcome } from "./invitations.ts";
import { online, testChat, testCluster } from "./testing.ts";

Deno.test("the answer to a request to join a peer chat can be awaited, as an ICS reply waits", async () => {
  const { chat } = await testChat({ users: ["ann", "bob", "carol"] });
  const ann = await online(chat, "ann");
  const bob = await online(chat, "bob");
  const carol = await online(chat, "carol");
  await chat.peerConnect(ann.session, "bob");

  const asked = await chat.peerConnect(carol.session, "bob") as PeerOutcome;
  assert.equal(asked.status, "INVITED");
  const answer = asked.invitation!.answer;
  let settled = false;
  answer.then(() => settled = true);
  await Promise.resolve();
  assert.equal(settled, false, "undecided until a member answers");
  await chat.peerAccept(ann.session, "carol");
  assert.equal(await answer, "accepted");
  assert.equal(carol.session.room, ann.session.room, "and then the requester is in");

  chat.logout(carol.session);
  const again = await online(chat, "carol");
  const second = await chat.peerConnect(again.session, "ann") as PeerOutcome;
  chat.peerDecline(bob.session, "carol");
  assert.equal(await second.invitation!.answer, "declined");
  const third = await chat.peerConnect(again.session, "ann") as PeerOutcome;
  chat.logout(again.session);
  assert.equal(await third.invitation!.answer, "withdrawn", "the requester logged out");

  for (const { session } of [ann, bob]) chat.logout(session);
});

Deno.test("a request to join a peer chat is told to its members, and bounded", async () => {
  const { chat } = await testChat({
    users: ["ann", "bob", "cy", "dee"],
    rooms: ["lobby"],
    invitationLimits: { timeoutMs: 60_000, perChat: 1 },
  });
  const [ann, bob, cy, dee] = await Promise.all(
    ["ann", "bob", "cy", "dee"].map((user) => online(chat, user)),
  );
  await chat.join(dee.session, "lobby");
  assert.deepEqual(await chat.peerConnect(ann.session, "dee"), {
    status: "BUSY",
    reason: "dee is in a public room; try again later",
  });
  await chat.peerConnect(ann.session, "bob");
  bob.sink.take();
  const asked = await chat.peerConnect(cy.session, "ann") as PeerOutcome;
  assert.equal(asked.status, "INVITED");
  assert.deepEqual([ann.sink.take(), bob.sink.take()], [["invitation-asked cy"], [
    "invitation-asked cy",
  ]]);
  assert.deepEqual(await chat.peerConnect(dee.session, "bob"), {
    status: "BUSY",
    reason: "that peer chat has 1 requests to join waiting; try again later",
  });
  assert.equal((await chat.peerDecline(ann.session, "cy")).status, "OK");
  assert.deepEqual(cy.sink.take(), ["invitation-answered cy declined"]);
  assert.deepEqual(
    bob.sink.take(),
    ["invitation-answered cy declined"],
    "not to ann, who answered",
  );
  assert.deepEqual(ann.sink.take(), []);
  assert.deepEqual(chat.peerDecline(ann.session, "cy"), {
    status: "NO_INVITATION",
    reason: "cy is not waiting to join this peer chat",
  });
  assert.equal(await asked.invitation!.answer, "declined");
});

Deno.test("a user whose client has no peer chats is BUSY, and stays where it is", async () => {
  const { chat } = await testChat({ users: ["ann", "bob"] });
  const ann = await online(chat, "ann");
  const bob = await online(chat, "bob");
  bob.session.peerChats = false;
  const outcome = await chat.peerConnect(ann.session, "bob") as PeerOutcome;
  assert.equal(outcome.status, "BUSY");
  assert.equal(outcome.reason, "bob's client has no peer chats");
  assert.equal(bob.session.room, null);
  for (const { session } of [ann, bob]) chat.logout(session);
});

/** Lets what servers hand each other arrive. */
function arrivals(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20));
}

Deno.test("PEER_CONNECT to a user on another server moves both into one peer chat, which PEER_BYE ends there", async () => {
  const { chats: [a, b] } = await testCluster(2, { users: ["ann", "bob"] });
  const ann = await online(a, "ann");
  const bob = await online(b, "bob");
  const connected = await a.peerConnect(ann.session, "bob");
  assert.equal(connected.status, "OK");
  assert.equal(ann.session.room?.name, connected.room);
  assert.equal(bob.session.room?.name, connected.room, "bob is moved on his server");
  await arrivals();
  assert.deepEqual([ann.sink.take(), bob.sink.take()], [[], ["joined ann"]]);
  assert.deepEqual(await a.peerChatRows(ann.session), [
    { name: connected.room!, members: 2, unread: 0, mentions: 0 },
  ]);
  assert.deepEqual(b.members(bob.session), ["bob", "ann"]);
  assert.deepEqual(a.memberRows(ann.session), [
    { name: "ann", online: true },
    { name: "bob", online: true },
  ]);

  assert.equal(a.peerBye(ann.session), "OK");
  await arrivals();
  assert.deepEqual(bob.sink.take(), ["left ann (left)", "peer-chat-ended"]);
  assert.equal(bob.session.room, null);
  for (const [chat, { session }] of [[a, ann], [b, bob]] as const) chat.logout(session);
});

Deno.test("PEER_CONNECT across servers is BUSY when the peer's client has no peer chats, or its server does not answer", async () => {
  const { chats: [a, b], cut } = await testCluster(2, {
    users: ["ann", "bob"],
    clusterAnswerMs: 50,
  });
  const ann = await online(a, "ann");
  const bob = await online(b, "bob");
  bob.session.peerChats = false;
  assert.deepEqual(await a.peerConnect(ann.session, "bob"), {
    status: "BUSY",
    reason: "bob's client has no peer chats",
  });
  bob.session.peerChats = true;
  cut(1);
  assert.deepEqual(await a.peerConnect(ann.session, "bob"), {
    status: "BUSY",
    reason: "bob's server did not answer; try again later",
  });
  assert.equal(ann.session.room, null);
  assert.deepEqual(await a.peerConnect(ann.session, "carol"), {
    status: "PEER_OFFLINE",
    reason: "carol is not online",
  });
  for (const [chat, { session }] of [[a, ann], [b, bob]] as const) chat.logout(session);
});

Deno.test("a request to join a peer chat across servers is answered by a member on any server", async () => {
  const { chats: [a, b, c] } = await testCluster(3, { users: ["ann", "bob", "cy", "dee"] });
  const ann = await online(a, "ann");
  const bob = await online(b, "bob");
  const cy = await online(c, "cy");
  const dee = await online(a, "dee");
  const { room } = await a.peerConnect(ann.session, "bob");
  await arrivals();
  bob.sink.take();

  // cy (server c) asks to join through bob (server b); ann (server a) declines
  const asked = await c.peerConnect(cy.session, "bob") as PeerOutcome;
  assert.deepEqual([asked.status, asked.room], ["INVITED", room]);
  await arrivals();
  assert.deepEqual([ann.sink.take(), bob.sink.take()], [["invitation-asked cy"], [
    "invitation-asked cy",
  ]]);
  assert.deepEqual(await a.peerDecline(ann.session, "cy"), { status: "OK" });
  assert.equal(await asked.invitation!.answer, "declined");
  await arrivals();
  assert.deepEqual(cy.sink.take(), ["invitation-answered cy declined"]);
  assert.deepEqual(bob.sink.take(), ["invitation-answered cy declined"]);
  assert.deepEqual(ann.sink.take(), [], "not to ann, who answered");
  assert.deepEqual(await b.peerAccept(bob.session, "cy"), {
    status: "NO_INVITATION",
    reason: "cy is not waiting to join this peer chat",
  });

  // again: bob (server b) lets cy in; then dee (server a, ann's) asks, cy accepts
  const again = await c.peerConnect(cy.session, "ann") as PeerOutcome;
  assert.equal(again.status, "INVITED");
  await arrivals();
  assert.deepEqual(await b.peerAccept(bob.session, "cy"), { status: "OK" });
  assert.equal(await again.invitation!.answer, "accepted");
  assert.equal(cy.session.room?.name, room);
  await arrivals();
  const seen = ["invitation-asked cy", "joined cy"];
  assert.deepEqual([ann.sink.take(), bob.sink.take()], [seen, seen]);
  const third = await a.peerConnect(dee.session, "ann") as PeerOutcome;
  assert.equal(third.status, "INVITED");
  await arrivals();
  assert.deepEqual(await c.peerAccept(cy.session, "dee"), { status: "OK" });
  await arrivals();
  assert.deepEqual(await a.peerChatRows(dee.session), [
    { name: room!, members: 4, unread: 0, mentions: 0 },
  ]);

  // everyone but one leaves, one on each server: the last is told it ended
  for (const [chat, who] of [[a, ann], [b, bob], [a, dee]] as const) {
    chat.peerBye(who.session);
    await arrivals();
  }
  assert.deepEqual(cy.sink.take().slice(-2), ["left dee (left)", "peer-chat-ended"]);
  assert.equal(cy.session.room, null);
});

Deno.test("a request to join a peer chat across servers is withdrawn when the peer chat ends", async () => {
  const { chats: [a, b] } = await testCluster(2, { users: ["ann", "bob", "cy"] });
  const ann = await online(a, "ann");
  const bob = await online(a, "bob");
  const cy = await online(b, "cy");
  await a.peerConnect(ann.session, "bob");
  const asked = await b.peerConnect(cy.session, "bob") as PeerOutcome;
  assert.equal(asked.status, "INVITED");
  a.peerBye(ann.session);
  assert.equal(bob.session.room, null, "the peer chat ended");
  assert.equal(await asked.invitation!.answer, "withdrawn");
});

Deno.test("a peer chat ends for its members here when the server of the others is gone", async () => {
  const { chats: [a, b], cut, expire, renew } = await testCluster(2, {
    users: ["ann", "bob", "cy"],
  });
  const ann = await online(a, "ann");
  const bob = await online(b, "bob");
  const cy = await online(b, "cy");
  await a.peerConnect(ann.session, "bob");
  await arrivals();
  assert.equal((await b.peerConnect(cy.session, "ann")).status, "INVITED");
  await arrivals();
  bob.sink.take();
  renew();
  await arrivals();
  assert.deepEqual(bob.sink.take(), [], "everyone is where the roster says");

  cut(0);
  expire(0);
  renew();
  await arrivals();
  assert.deepEqual(bob.sink.take(), [], "missing once may be the roster's delay");
  renew();
  await arrivals();
  assert.deepEqual(bob.sink.take(), ["left ann (disconnected)", "peer-chat-ended"]);
  assert.equal(bob.session.room, null);
  assert.deepEqual(cy.sink.take(), ["invitation-answered cy withdrawn"]);
});

Deno.test("a peer chat that a peer's server made for an answer that came too late ends there", async () => {
  const { chats: [a, b], lag } = await testCluster(2, {
    users: ["ann", "bob"],
    clusterAnswerMs: 30,
  });
  const ann = await online(a, "ann");
  const bob = await online(b, "bob");
  lag(1, 100);
  assert.deepEqual(await a.peerConnect(ann.session, "bob"), {
    status: "BUSY",
    reason: "bob's server did not answer; try again later",
  });
  assert.notEqual(bob.session.room, null, "bob's server moved him all the same");
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.deepEqual(bob.sink.take(), ["left ann (left)", "peer-chat-ended"]);
  assert.equal(bob.session.room, null);
  assert.equal(ann.session.room, null);
});

Deno.test("a peer chat that ends on one server while someone comes in on another ends there too", async () => {
  const { chats: [a, b, c], lag } = await testCluster(3, { users: ["ann", "bob", "dee"] });
  const ann = await online(a, "ann");
  const bob = await online(b, "bob");
  const dee = await online(c, "dee");
  await a.peerConnect(ann.session, "bob");
  await arrivals();
  assert.equal((await c.peerConnect(dee.session, "ann")).status, "INVITED");
  await arrivals();
  lag(2, 50); // dee's coming in reaches the others late
  const accepted = a.peerAccept(ann.session, "dee");
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.notEqual(dee.session.room, null, "dee came in on c");
  a.peerBye(ann.session); // b hears of it first: bob is alone there
  await arrivals();
  assert.equal(bob.session.room, null, "the peer chat ended for bob");
  await accepted;
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(dee.session.room, null, "and for dee");
  assert.deepEqual(dee.sink.take().slice(-2), ["left bob (left)", "peer-chat-ended"]);
});
