/**
 * Peer chats across the servers of a cluster (in this process, on a
 * private PostgreSQL): PEER_CONNECT to a user on another server, messages
 * both ways in order and once, BUSY, requests to join answered on either
 * side, PEER_BYE ending it on both sides, and a killed server's users
 * leaving the peer chats on the others.
 */

import assert from "node:assert/strict";
import { ChatClient, type ChatEvent, type ServerOptions, tcp } from "../mod.ts";
import { engineTest, POSTGRES_MISSING, REDIS_MISSING, startRedis } from "./engines.ts";
import { ACCOUNTS } from "./helpers.ts";
import { cluster, startCluster, stop, until } from "./cluster_helpers.ts";

/** A fourth user of the test accounts. */
const DAVE = "江主席";

/** A client of `user` logged in on the server at `port`, with every event it is pushed. */
async function user(
  port: number,
  name: string,
): Promise<{ client: ChatClient; events: ChatEvent[] }> {
  const client = await ChatClient.connect(tcp({ port }));
  await client.login(name, ACCOUNTS.get(name)!, { push: true });
  const events: ChatEvent[] = [];
  (async () => {
    for await (const event of client.events()) events.push(event);
  })();
  return { client, events };
}

/** Waits up to 10 s for an event that `wanted` picks, and returns it. */
async function next(events: ChatEvent[], wanted: (event: ChatEvent) => boolean, what: string) {
  await until(() => events.some(wanted), 10_000, what);
  return events.find(wanted)!;
}

/** The contents of the messages from `from` in `room`, in arrival order. */
function said(events: ChatEvent[], room: string, from: string): string[] {
  return events.flatMap((e) =>
    e.type === "message" && e.room === room && e.from === from ? [e.content] : []
  );
}

engineTest(
  POSTGRES_MISSING,
  "a peer chat on a server of a cluster delivers its messages",
  async () => {
    const { servers: [a] } = await startCluster(1);
    const ann = await user(a.addr.port, "ann");
    const bob = await user(a.addr.port, "bob");
    try {
      const { room } = await ann.client.peerConnect("bob");
      await next(bob.events, (e) => e.type === "join" && e.user === "ann", "ann's coming in");
      await ann.client.send("hi bob");
      await bob.client.send("hi ann");
      await until(() => said(bob.events, room, "ann").length === 1, 10_000, "ann's message");
      await until(() => said(ann.events, room, "bob").length === 1, 10_000, "bob's message");
    } finally {
      await Promise.all([ann.client.close(), bob.client.close()]);
      await a.close();
    }
  },
);

/**
 * Ann on one server connects with bob on another; they chat both ways, each
 * getting the other's messages in order and once; ann's PEER_BYE ends it
 * for bob.
 */
async function chatAcross(options: ServerOptions): Promise<void> {
  const { servers: [a, b] } = await startCluster(2, options);
  const ann = await user(a.addr.port, "ann");
  const bob = await user(b.addr.port, "bob");
  try {
    await assert.rejects(ann.client.peerConnect("carol"), /PEER_OFFLINE/);
    const { room, invited } = await ann.client.peerConnect("bob");
    assert.equal(invited, false);
    await next(bob.events, (e) => e.type === "join" && e.user === "ann", "ann's coming in");
    assert.deepEqual(
      await ann.client.peerConnect("bob"),
      { room, invited: false },
      "already together",
    );
    const words = Array.from({ length: 20 }, (_, i) => `m${i}`);
    await Promise.all([
      (async () => {
        for (const word of words) await ann.client.send(`ann ${word}`);
      })(),
      (async () => {
        for (const word of words) await bob.client.send(`bob ${word}`);
      })(),
    ]);
    await until(() => said(bob.events, room, "ann").length >= 20, 10_000, "ann's messages");
    await until(() => said(ann.events, room, "bob").length >= 20, 10_000, "bob's messages");
    await new Promise((resolve) => setTimeout(resolve, 200)); // nothing more comes
    assert.deepEqual(said(bob.events, room, "ann"), words.map((w) => `ann ${w}`));
    assert.deepEqual(said(ann.events, room, "bob"), words.map((w) => `bob ${w}`));
    assert.deepEqual(said(ann.events, room, "ann"), [], "nobody is told their own message");
    assert.deepEqual((await ann.client.members()).sort(), ["ann", "bob"]);
    assert.deepEqual((await bob.client.members()).sort(), ["ann", "bob"]);
    for (let tries = 0;; tries++) {
      const who = await bob.client.who();
      if (who.length === 2 && who.every((w) => w.place === "group" && w.name === room)) break;
      assert.ok(tries < 500, `both in the peer chat in WHO: ${JSON.stringify(who)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    await ann.client.peerBye();
    await next(bob.events, (e) => e.type === "leave" && e.user === "ann", "ann's leaving");
    const ended = await next(bob.events, (e) => e.type === "groupEnd", "the end");
    assert.equal(ended.type === "groupEnd" && ended.room, room);
    await assert.rejects(bob.client.peerBye(), /NOT_IN_GROUP/);
    await assert.rejects(bob.client.send("anyone?"), /NOT_IN_ROOM/);
  } finally {
    await Promise.all([ann.client.close(), bob.client.close()]);
    await Promise.all([a.close(), b.close()]);
  }
}

engineTest(
  POSTGRES_MISSING,
  "PEER_CONNECT reaches a user on another server: both chat in order, once, and PEER_BYE ends it on both",
  () => chatAcross({}),
);

engineTest(
  POSTGRES_MISSING ?? REDIS_MISSING,
  "a peer chat across servers with Redis as the bus",
  async () => chatAcross({ bus: `redis://127.0.0.1:${(await startRedis()).port}` }),
);

engineTest(
  POSTGRES_MISSING,
  "a peer on another server in a public room is BUSY, and a peer chat ends when its other member disconnects",
  async () => {
    const { servers: [a, b] } = await startCluster(2);
    const ann = await user(a.addr.port, "ann");
    const bob = await user(b.addr.port, "bob");
    try {
      await bob.client.join("lobby");
      await assert.rejects(ann.client.peerConnect("bob"), /BUSY.*bob is in a public room/);
      assert.deepEqual(await bob.client.members(), ["bob"], "bob stays where he is");
      await bob.client.leave();
      const { room } = await ann.client.peerConnect("bob");
      await next(bob.events, (e) => e.type === "join" && e.user === "ann", "ann's coming in");
      await ann.client.close();
      const ended = await next(bob.events, (e) => e.type === "groupEnd", "the end");
      assert.equal(ended.type === "groupEnd" && ended.room, room);
    } finally {
      await Promise.all([ann.client.close(), bob.client.close()]);
      await Promise.all([a.close(), b.close()]);
    }
  },
);

engineTest(
  POSTGRES_MISSING,
  "a user on one server asks to join a peer chat on others; members on either server answer",
  async () => {
    const { servers: [a, b] } = await startCluster(2);
    const ann = await user(a.addr.port, "ann");
    const bob = await user(b.addr.port, "bob");
    const carol = await user(a.addr.port, "carol");
    const dave = await user(b.addr.port, DAVE);
    try {
      const { room } = await ann.client.peerConnect("bob");
      await next(bob.events, (e) => e.type === "join" && e.user === "ann", "ann's coming in");

      // carol (a) asks through bob (b); bob declines on b, ann is told on a
      const asked = await carol.client.peerConnect("bob");
      assert.deepEqual([asked.room, asked.invited], [room, true]);
      await next(ann.events, (e) => e.type === "peerInvite" && e.from === "carol", "ann asked");
      await next(bob.events, (e) => e.type === "peerInvite" && e.from === "carol", "bob asked");
      await bob.client.peerDecline("carol");
      const declined = await next(carol.events, (e) => e.type === "peerAnswer", "the answer");
      assert.deepEqual(
        declined.type === "peerAnswer" && [declined.room, declined.answer, declined.by],
        [room, "declined", "bob"],
      );
      await next(ann.events, (e) => e.type === "peerAnswer", "ann told of the decline");
      await assert.rejects(ann.client.peerAccept("carol"), /NO_INVITATION/);

      // dave (b) asks through ann (a); ann accepts on a, and dave is in
      await dave.client.peerConnect("ann");
      await next(bob.events, (e) => e.type === "peerInvite" && e.from === DAVE, "bob asked");
      await ann.client.peerAccept(DAVE);
      const accepted = await next(dave.events, (e) => e.type === "peerAnswer", "the answer");
      assert.equal(accepted.type === "peerAnswer" && accepted.answer, "accepted");
      await next(bob.events, (e) => e.type === "join" && e.user === DAVE, "dave's coming in");
      await next(ann.events, (e) => e.type === "join" && e.user === DAVE, "dave's coming in");
      await dave.client.send("hello all");
      for (const { events } of [ann, bob]) {
        await until(() => said(events, room, DAVE).length === 1, 10_000, "dave's message");
      }
      assert.deepEqual((await ann.client.members()).sort(), ["ann", "bob", DAVE].sort());

      // ann and bob leave: dave, on b, is told the peer chat ended
      await ann.client.peerBye();
      await bob.client.peerBye();
      await next(dave.events, (e) => e.type === "groupEnd", "the end");
    } finally {
      await Promise.all([ann, bob, carol, dave].map(({ client }) => client.close()));
      await Promise.all([a.close(), b.close()]);
    }
  },
);

engineTest(
  POSTGRES_MISSING,
  "when a server is killed, its users leave the peer chats on the others once its lease runs out",
  async () => {
    const servers = await cluster(2, { args: ["--cluster-lease", "2"] });
    const [a, b] = servers;
    const ann = await user(a.port, "ann");
    const bob = await user(b.port, "bob");
    try {
      const { room } = await ann.client.peerConnect("bob");
      await next(bob.events, (e) => e.type === "join" && e.user === "ann", "ann's coming in");
      a.kill("SIGKILL");
      await a.exited;
      const left = await next(bob.events, (e) => e.type === "leave", "ann's leaving");
      assert.deepEqual(
        left.type === "leave" && [left.room, left.user, left.reason],
        [room, "ann", "their server left the cluster"],
      );
      await next(bob.events, (e) => e.type === "groupEnd", "the end");
      await assert.rejects(bob.client.send("anyone?"), /NOT_IN_ROOM/);
    } finally {
      await Promise.all([ann.client.close(), bob.client.close()]);
      await stop([b]);
      try {
        a.kill("SIGKILL"); // when the test failed before it did
      } catch {
        // killed already
      }
    }
  },
);
