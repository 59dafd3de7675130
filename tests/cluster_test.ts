/**
 * Cluster mode: several servers (processes, as operators run them) on one
 * private PostgreSQL, with PostgreSQL's LISTEN/NOTIFY or a private Redis
 * as the bus; and rooms, bans and the operator console across servers (in
 * this process).
 */

import assert from "node:assert/strict";
import { ChatClient, type ServerHandle, tcp } from "../mod.ts";
import {
  cluster,
  joinWhenThere,
  member,
  nextEvent,
  received,
  startCluster,
  stop,
  until,
} from "./cluster_helpers.ts";
import { engineTest, POSTGRES_MISSING, REDIS_MISSING, startRedis } from "./engines.ts";
import { ACCOUNTS } from "./helpers.ts";
import { BUS_DOWN_HELD } from "../server/console.ts";

/** Each poster's messages. */
const PER_POSTER = 40;

/** Every member got every acknowledged message of the others once, in the room's order. */
async function checkDelivery(
  members: ChatClient[],
  got: number[][],
  sent: number[][],
): Promise<void> {
  const everything = sent.flat().sort((a, b) => a - b);
  for (const [m, ids] of got.entries()) {
    const others = everything.filter((id) => !sent[m].includes(id));
    await until(() => ids.length >= others.length, 15_000, `member ${m}'s messages`);
    await new Promise((resolve) => setTimeout(resolve, 200)); // nothing more comes
    assert.deepEqual(ids, others, `member ${m}: each once, in the room's order`);
  }
  // and HISTORY on each server holds them all, in that order
  for (const client of members) {
    const page = await client.history({ limit: 500 });
    assert.deepEqual(page.messages.map((m) => m.id), everything);
  }
}

engineTest(
  POSTGRES_MISSING,
  "messages posted on one server reach the members on the others in the room's order, each once (PostgreSQL NOTIFY)",
  async () => {
    const servers = await cluster(3);
    const users = ["ann", "bob", "carol"];
    const members = await Promise.all(users.map((user, i) => member(servers[i].port, user)));
    try {
      const got = members.map((client) => received(client));
      const sent: number[][] = [[], [], []];
      const posted = await Promise.all(members.map(async (poster, p) => {
        for (let i = 0; i < PER_POSTER; i++) {
          sent[p].push((await poster.send(`message ${i} from ${users[p]}`)).id);
        }
      }));
      assert.equal(posted.length, 3);
      await checkDelivery(members, got, sent);
    } finally {
      await Promise.all(members.map((client) => client.close()));
      await stop(servers);
    }
  },
);

engineTest(
  POSTGRES_MISSING ?? REDIS_MISSING,
  "with Redis as the bus, killing and restarting Redis loses and repeats no acknowledged message, in rooms or direct",
  async () => {
    const redis = await startRedis();
    const servers = await cluster(3, { bus: `redis://127.0.0.1:${redis.port}` });
    const users = ["ann", "bob", "carol"];
    const members = await Promise.all(users.map((user, i) => member(servers[i].port, user)));
    try {
      // and each sends every fourth time a direct message to the next user, on the next server
      const dmsGot: number[][] = [[], [], []];
      const got = members.map((client, m) => received(client, dmsGot[m]));
      const sent: number[][] = [[], [], []];
      const dmsSent: number[][] = [[], [], []];
      let killed = false;
      await Promise.all(members.map(async (poster, p) => {
        for (let i = 0; i < PER_POSTER; i++) {
          if (i % 4 === 1) {
            dmsSent[(p + 1) % 3].push((await poster.dm(users[(p + 1) % 3], `dm ${i}`)).id);
          }
          sent[p].push((await poster.send(`message ${i} from ${users[p]}`)).id);
          if (p === 0 && i === PER_POSTER / 2) {
            await redis.crash();
            killed = true;
          }
          if (p === 0 && i === PER_POSTER / 2 + 10) await redis.start();
          if (i % 8 === 7) await new Promise((resolve) => setTimeout(resolve, 30));
        }
      }));
      assert.ok(killed);
      await checkDelivery(members, got, sent);
      for (const [m, ids] of dmsGot.entries()) {
        await until(() => ids.length >= dmsSent[m].length, 15_000, `${users[m]}'s direct messages`);
        assert.deepEqual([...ids].sort((a, b) => a - b), dmsSent[m], `${users[m]}: each once`);
      }
    } finally {
      await Promise.all(members.map((client) => client.close()));
      await stop(servers);
    }
  },
);

/** Two servers in this process with Redis as their bus, ann on the first and bob on the second. */
interface RedisPair {
  a: ServerHandle;
  b: ServerHandle;
  ann: ChatClient;
  bob: ChatClient;
  /** Kills Redis; it is started again at the end, for the tests after, unless `revive` did. */
  crash(): Promise<void>;
  revive(): Promise<void>;
}

/**
 * Runs `body` over a {@link RedisPair}, ann and bob logged in with push on
 * (over protocol 2.1 when `v21`; two devices each at most).
 */
async function overRedis(
  body: (pair: RedisPair) => Promise<void>,
  { v21 = false } = {},
): Promise<void> {
  const redis = await startRedis();
  const { servers: [a, b] } = await startCluster(2, {
    bus: `redis://127.0.0.1:${redis.port}`,
    maxDevices: 2,
  });
  const ann = await ChatClient.connect(tcp({ port: a.addr.port }), { v21 });
  const bob = await ChatClient.connect(tcp({ port: b.addr.port }), { v21 });
  let down = false;
  try {
    await ann.login("ann", ACCOUNTS.get("ann")!, { push: true });
    await bob.login("bob", ACCOUNTS.get("bob")!, { push: true });
    await body({
      a,
      b,
      ann,
      bob,
      crash: async () => {
        await redis.crash();
        down = true;
      },
      revive: async () => {
        await redis.start();
        down = false;
      },
    });
  } finally {
    await Promise.all([ann.close(), bob.close()]);
    await Promise.all([a.close(), b.close()]);
    if (down) await redis.start();
  }
}

engineTest(
  POSTGRES_MISSING ?? REDIS_MISSING,
  "a room created and a ban made while the bus was down reach the other servers once it is back",
  () =>
    overRedis(async ({ a, b, ann, bob, crash, revive }) => {
      await crash();
      // the console says when the bus is down
      const warned = async () =>
        (await a.console("BROADCAST anyone?")).output.some((line) => line.includes("bus"));
      await until(warned, 10_000, "the console's warning");
      await ann.create("made while down");
      await ann.join("made while down");
      await ann.ban("carol", { reason: "while down" });
      await new Promise((resolve) => setTimeout(resolve, 300));
      await assert.rejects(bob.join("made while down"), /NO_SUCH_ROOM/, "no note came");
      await revive();
      await until(async () => !await warned(), 10_000, "the warning to go once the bus is back");
      await joinWhenThere(bob, "made while down");
      // the ban holds on b too: carol may not come in there
      const carol = await ChatClient.connect(tcp({ port: b.addr.port }));
      try {
        await carol.login("carol", ACCOUNTS.get("carol")!);
        await assert.rejects(carol.join("made while down"), /BANNED/);
      } finally {
        await carol.close();
      }
    }),
);

engineTest(
  POSTGRES_MISSING ?? REDIS_MISSING,
  "an operator's BROADCAST and KICK made while the bus is down reach the other server through the database, once (not a device signed in since)",
  () =>
    overRedis(async ({ a, b, bob, crash, revive }) => {
      const notices: string[] = [];
      (async () => {
        for await (const event of bob.events()) {
          if (event.type === "notice") notices.push(event.content);
        }
      })().catch(() => {});
      let closedFor: string | null = null;
      bob.closed.then((reason) => closedFor = reason);
      const said = async (command: string) => (await a.console(command)).output;
      const down = BUS_DOWN_HELD;
      await crash();
      await until(
        async () => (await said("BROADCAST while down")).includes(down),
        10_000,
        "the console to see the bus down",
      );
      // each BROADCAST made while the console looked is kept: bob's server reads them all
      await until(() => notices.length > 0, 10_000, "the BROADCAST, read from the database");
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const read = notices.length;
      assert.ok(notices.every((text) => text === "while down"), `${notices}`);
      await revive();
      await new Promise((resolve) => setTimeout(resolve, 2_000)); // the held copies come over the bus
      assert.equal(notices.length, read, "each once");
      await crash();
      // a KICK made before the console sees the bus down would take bob before it could say so
      await until(
        async () => (await said("BROADCAST bus?")).includes(down),
        10_000,
        "the console to see the bus down again",
      );
      assert.ok((await said("KICK bob held")).includes(down), "the console says the bus is down");
      await new Promise((resolve) => setTimeout(resolve, 5)); // a later millisecond
      const bobToo = await ChatClient.connect(tcp({ port: b.addr.port }), { v21: true });
      try {
        await bobToo.login("bob", ACCOUNTS.get("bob")!, { push: true });
        let tooClosedFor: string | null = null;
        bobToo.closed.then((reason) => tooClosedFor = reason);
        await until(() => closedFor !== null, 10_000, "bob to be kicked, the bus still down");
        assert.match(closedFor!, /kicked by the operator: held/);
        await revive();
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        assert.equal(tooClosedFor, null, "the device signed in after the KICK stays");
      } finally {
        await bobToo.close();
      }
    }, { v21: true }),
);

engineTest(
  POSTGRES_MISSING ?? REDIS_MISSING,
  "a direct message sent while the bus is down reaches its recipient and the sender's other device on another server, once",
  () =>
    overRedis(async ({ b, ann, bob, crash, revive }) => {
      // ann's other device, on bob's server: it sees what ann sends from the first
      const annToo = await ChatClient.connect(tcp({ port: b.addr.port }), { v21: true });
      try {
        await annToo.login("ann", ACCOUNTS.get("ann")!, { push: true });
        const dmsOf = (client: ChatClient) => {
          const dms: string[] = [];
          (async () => {
            for await (const event of client.events()) {
              if (event.type === "dm") dms.push(event.content);
            }
          })().catch(() => {});
          return dms;
        };
        const dms = dmsOf(bob);
        const copies = dmsOf(annToo);
        const both = (count: number) => () => dms.length >= count && copies.length >= count;
        await ann.dm("bob", "before");
        await until(both(1), 10_000, "the first direct message");
        await crash();
        await ann.dm("bob", "while down");
        await until(both(2), 10_000, "the one sent while the bus was down");
        await revive();
        await ann.dm("bob", "after");
        await until(both(3), 10_000, "the one sent after");
        await new Promise((resolve) => setTimeout(resolve, 2_500)); // two comparisons: nothing more
        assert.deepEqual(dms, ["before", "while down", "after"]);
        assert.deepEqual(copies, ["before", "while down", "after"], "the sender's other device");
      } finally {
        await annToo.close();
      }
    }, { v21: true }),
);

/** Servers in this process on a new database, with their consoles. */
async function clusterHere(count: number): Promise<ServerHandle[]> {
  return (await startCluster(count)).servers;
}

engineTest(
  POSTGRES_MISSING,
  "rooms and bans made on one server hold on the others; the console's BROADCAST and KICK reach every server",
  async () => {
    const [a, b] = await clusterHere(2);
    const ann = await ChatClient.connect(tcp({ port: a.addr.port }));
    const bob = await ChatClient.connect(tcp({ port: b.addr.port }));
    try {
      await ann.login("ann", ACCOUNTS.get("ann")!, { push: true });
      await bob.login("bob", ACCOUNTS.get("bob")!, { push: true });
      await ann.create("made on a");
      // the room shows on the other server once its note arrived
      await joinWhenThere(bob, "made on a");
      await ann.join("made on a");
      await ann.ban("bob", { reason: "testing" });
      const kicked = await nextEvent(bob, "kicked");
      assert.deepEqual([kicked.type === "kicked" && kicked.banned], [true]);
      await assert.rejects(bob.join("made on a"), /BANNED/);

      const notice = nextEvent(bob, "notice");
      assert.deepEqual(await a.console("BROADCAST hello everyone"), {
        output: ["sent to 2 connection(s)"],
      });
      assert.equal((await notice).type, "notice");

      const closed = nextEvent(bob, "close");
      assert.deepEqual(await a.console("KICK bob enough"), { output: ["kicked bob"] });
      assert.equal((await closed).type, "close");
    } finally {
      await Promise.all([ann.close(), bob.close()]);
      await Promise.all([a.close(), b.close()]);
    }
  },
);

engineTest(
  POSTGRES_MISSING,
  "protocol 2.1 across servers: belonging is shared, so a user on one is mentioned from the other (gap fills too) and counts it unread; a token made on one resumes on the other; a ban on one takes the user out once",
  async () => {
    const [a, b] = await clusterHere(2);
    const open = (server: ServerHandle) =>
      ChatClient.connect(tcp({ port: server.addr.port }), { v21: true });
    const ann = await open(a);
    const bob = await open(b);
    const annElsewhere = await open(b);
    /** Whether b lists `user` among those who belong to `room`. */
    const belongsOnB = async (room: string, user: string) =>
      (await bob.memberStates({ room })).some((member) => member.name === user);
    /** Waits, asking every 20 ms for up to 5 s, until `condition` holds. */
    const waitFor = async (condition: () => boolean | Promise<boolean>, what: string) => {
      for (let tries = 0; !(await condition()); tries++) {
        if (tries > 250) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    try {
      const token = await ann.login("ann", ACCOUNTS.get("ann")!);
      assert.equal(typeof token, "string");
      await ann.join("lobby");
      await bob.login("bob", ACCOUNTS.get("bob")!);
      await bob.join("lobby");
      // only those who belong to a room are mentioned: b has to have heard of it
      await waitFor(() => belongsOnB("lobby", "ann"), "ann's belonging to reach b");
      // the second is too large for a NOTIFY: a's gap fill reads it, mentions and all
      for (const text of ["hello @ann", `@ann ${"long ".repeat(2_000)}`]) {
        const message = nextEvent(ann, "message");
        const sent = await bob.send(text, { room: "lobby" });
        const got = await message;
        assert.deepEqual(got.type === "message" && [got.room, got.from, got.id, got.mentions], [
          "lobby",
          "bob",
          sent.id,
          ["ann"],
        ]);
      }
      const counts = async (client: ChatClient) => {
        const lobby = (await client.roomStates()).find((room) => room.name === "lobby");
        return lobby && [lobby.joined, lobby.unread, lobby.mentions];
      };
      assert.deepEqual(await counts(ann), [true, 2, 2]);
      // the token was stored by a; b finds it in the database they share (a device of
      // ann's on each server)
      await annElsewhere.resume("ann", token!);
      assert.deepEqual(await counts(annElsewhere), [true, 2, 2]);
      await annElsewhere.close();
      await ann.leave("lobby");
      await waitFor(async () => !(await belongsOnB("lobby", "ann")), "ann's leaving to reach b");

      // a ban made on a takes carol out once: b only takes it over
      const carol = await open(a);
      await carol.login("carol", ACCOUNTS.get("carol")!);
      await ann.create("made on a");
      await carol.join("made on a");
      await waitFor(() => bob.join("made on a").then(() => true, () => false), "the room on b");
      await waitFor(() => belongsOnB("made on a", "carol"), "carol's belonging to reach b");
      const leaving: string[] = [];
      (async () => {
        for await (const event of bob.events()) {
          if (event.type === "leave" && event.room === "made on a") leaving.push(event.user);
        }
      })();
      await ann.ban("carol", { room: "made on a" });
      await waitFor(() => leaving.length > 0, "carol's leaving");
      await new Promise((resolve) => setTimeout(resolve, 300)); // nothing more comes
      assert.deepEqual(leaving, ["carol"]);
      await carol.close();
    } finally {
      await Promise.all([ann.close(), bob.close(), annElsewhere.close()]);
      await Promise.all([a.close(), b.close()]);
    }
  },
);
