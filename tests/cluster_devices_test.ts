/**
 * A user's 2.1 sessions (devices) on different servers of a cluster (in
 * this process, on a private PostgreSQL with its NOTIFY bus): let in up to
 * --max-devices in all, the oldest replaced beyond it under
 * --duplicate-login replace; joining and leaving a room on one brings the
 * others in and out; reads, LOGOUT everywhere and room kicks across them.
 */

import assert from "node:assert/strict";
import { ChatClient, ChatError, type ChatEvent, type ServerHandle, tcp } from "../mod.ts";
import { joinWhenThere, startCluster, until } from "./cluster_helpers.ts";
import { DelayRelay } from "./delay_relay.ts";
import { engineTest, POSTGRES_MISSING, REDIS_MISSING, startRedis } from "./engines.ts";
import { ACCOUNTS } from "./helpers.ts";

/** A device of `user` on `server` (a 2.1 session unless `v20`), or the status it was refused. */
async function device(
  server: ServerHandle,
  user: string,
  v20 = false,
): Promise<ChatClient | string> {
  const client = await ChatClient.connect(tcp({ port: server.addr.port }), { v21: !v20 });
  try {
    await client.login(user, ACCOUNTS.get(user)!, { push: true });
    return client;
  } catch (error) {
    await client.close();
    if (error instanceof ChatError) return error.status;
    throw error;
  }
}

/** A device that must be let in. */
async function admitted(server: ServerHandle, user: string): Promise<ChatClient> {
  const client = await device(server, user);
  assert.ok(client instanceof ChatClient, `${user} refused: ${client}`);
  return client;
}

/** A device let in once it may be, trying every 50 ms for up to 5 s. */
async function once(server: ServerHandle, user: string, what: string): Promise<ChatClient> {
  for (let tries = 0;; tries++) {
    const client = await device(server, user);
    if (client instanceof ChatClient) return client;
    if (tries > 100) throw new Error(`no ${what}: ${client}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every event pushed to a client from now on, as it comes. */
function recorded(client: ChatClient): ChatEvent[] {
  const events: ChatEvent[] = [];
  (async () => {
    for await (const event of client.events()) events.push(event);
  })();
  return events;
}

/** The events of one type, as short strings. */
function seen(events: ChatEvent[], type: ChatEvent["type"]): string[] {
  return events.filter((event) => event.type === type).map((event) => {
    switch (event.type) {
      case "join":
      case "leave":
        return `${event.room} ${event.user}`;
      case "message":
        return `${event.room} ${event.content}`;
      case "read":
        return `${event.room} ${event.id}`;
      case "kicked":
        return `${event.room} by ${event.by}`;
      case "close":
        return event.reason;
      default:
        return event.type;
    }
  });
}

/** Waits until the recorded events of a type are `count` (up to 10 s), then a little longer. */
async function settled(events: ChatEvent[], type: ChatEvent["type"], count: number) {
  await until(() => seen(events, type).length >= count, 10_000, `${count} ${type} events`);
  await new Promise((resolve) => setTimeout(resolve, 300)); // nothing more comes
}

engineTest(
  POSTGRES_MISSING,
  "a user's 2.1 devices are let in on different servers, up to --max-devices in all; a 2.0 session beside them is refused",
  async () => {
    const { servers: [a, b] } = await startCluster(2, { maxDevices: 2, maxOnline: 2 });
    const clients: ChatClient[] = [];
    try {
      const [first, second] = [await admitted(a, "ann"), await admitted(b, "ann")];
      clients.push(first, second);
      assert.equal(await device(a, "ann"), "ALREADY_ONLINE", "a third device, on a");
      assert.equal(await device(b, "ann"), "ALREADY_ONLINE", "a third device, on b");
      assert.equal(await device(b, "ann", true), "ALREADY_ONLINE", "a 2.0 session");
      // ann counts once towards MAX_ONLINE, whichever of her servers counts her
      const bob = await admitted(a, "bob");
      clients.push(bob);
      assert.equal(await device(b, "carol"), "SERVER_FULL");
      await first.close();
      const third = await once(b, "ann", "room for a device");
      clients.push(third);
      assert.equal(await device(a, "carol"), "SERVER_FULL", "ann is counted still");
      // WHO lists ann's devices on b
      const who = (await bob.who()).map((entry) => entry.user).sort();
      assert.deepEqual(who, ["ann", "bob"]);
      await Promise.all([second.close(), third.close()]);
      clients.push(await once(a, "carol", "room for carol"));
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      await Promise.all([a.close(), b.close()]);
    }
  },
);

engineTest(
  POSTGRES_MISSING,
  "under --duplicate-login replace, a device beyond --max-devices closes the oldest, on another server or its own, and a 2.0 login closes every device",
  async () => {
    const { servers: [a, b] } = await startCluster(2, { maxDevices: 2, duplicateLogin: "replace" });
    const clients: ChatClient[] = [];
    try {
      const oldest = await admitted(a, "ann");
      const second = await admitted(b, "ann");
      clients.push(oldest, second);
      const [oldestEvents, secondEvents] = [recorded(oldest), recorded(second)];
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(seen(oldestEvents, "close"), [], "two devices are no duplicate");
      clients.push(await admitted(b, "ann"));
      await settled(oldestEvents, "close", 1);
      assert.deepEqual(seen(oldestEvents, "close"), ["logged in from elsewhere"]);
      assert.deepEqual(seen(secondEvents, "close"), [], "the second stays");
      // both on b now: one more there closes b's oldest
      const thirdEvents = recorded(clients[2]);
      clients.push(await admitted(b, "ann"));
      await settled(secondEvents, "close", 1);
      assert.deepEqual(seen(secondEvents, "close"), ["logged in from elsewhere"]);
      assert.deepEqual(seen(thirdEvents, "close"), [], "the third stays");
      // a 2.0 session takes the name from every device
      const fourthEvents = recorded(clients[3]);
      const twoZero = await device(a, "ann", true);
      assert.ok(twoZero instanceof ChatClient, `${twoZero}`);
      clients.push(twoZero);
      await settled(fourthEvents, "close", 1);
      assert.deepEqual(seen(thirdEvents, "close"), ["logged in from elsewhere"]);
      assert.deepEqual(seen(fourthEvents, "close"), ["logged in from elsewhere"]);
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      await Promise.all([a.close(), b.close()]);
    }
  },
);

engineTest(
  POSTGRES_MISSING,
  "joining and leaving a room on one device brings the user's device on another server in and out; reads reach it; LOGOUT everywhere closes it",
  async () => {
    const { servers: [a, b] } = await startCluster(2);
    const phone = await admitted(a, "ann");
    const laptop = await admitted(b, "ann");
    const bob = await admitted(b, "bob");
    try {
      await bob.join("random");
      const events = recorded(laptop);
      await phone.join("random");
      await settled(events, "join", 1);
      assert.deepEqual(seen(events, "join"), ["random ann"], "told of its own joining");
      const sent = await bob.send("hi ann", { room: "random" });
      await settled(events, "message", 1);
      assert.deepEqual(seen(events, "message"), ["random hi ann"]);
      assert.equal((await laptop.send("from my laptop", { room: "random" })).id > sent.id, true);
      const lobby = (await laptop.roomStates()).find((room) => room.name === "random");
      assert.equal(lobby?.joined, true);

      await phone.markRead(sent.id, { room: "random" });
      await settled(events, "read", 1);
      assert.deepEqual(seen(events, "read"), [`random ${sent.id}`]);

      await phone.leave("random");
      await settled(events, "leave", 1);
      assert.deepEqual(seen(events, "leave"), ["random ann"], "told of its leaving once");
      await bob.send("still there?", { room: "random" });
      await assert.rejects(laptop.send("me?", { room: "random" }), /NOT_IN_ROOM/);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(seen(events, "message"), ["random hi ann"], "no more of the room");

      await phone.logout({ everywhere: true });
      await settled(events, "close", 1);
      assert.deepEqual(seen(events, "close"), ["signed out everywhere"]);
    } finally {
      await Promise.all([phone.close(), laptop.close(), bob.close()]);
      await Promise.all([a.close(), b.close()]);
    }
  },
);

engineTest(
  POSTGRES_MISSING,
  "a kick or ban on one server of a member on another is told once, to the room and to them",
  async () => {
    const { servers: [a, b] } = await startCluster(2);
    const ann = await admitted(a, "ann");
    const bob = await device(b, "bob", true);
    assert.ok(bob instanceof ChatClient);
    const carol = await admitted(b, "carol");
    const chairman = await device(b, "江主席", true);
    assert.ok(chairman instanceof ChatClient);
    const room = "ann's room";
    try {
      await ann.create(room);
      await ann.join(room);
      for (const client of [bob, carol, chairman]) await joinWhenThere(client, room);
      // the moderator's server knows them in the room (else KICK may find no such user)
      await until(
        async () => {
          const members = await ann.members({ room });
          return members.includes("carol") && members.includes("江主席");
        },
        5_000,
        "ann's server to see carol and 江主席 in the room",
      );
      const [annEvents, bobEvents, carolEvents, chairmanEvents] = [ann, bob, carol, chairman].map(
        recorded,
      );
      await ann.kick("carol", { room, reason: "a 2.1 member" });
      await ann.ban("江主席", { room, reason: "a 2.0 member" });
      await settled(bobEvents, "leave", 2);
      // each removal told once, in the order made (the ban's came first when b's notes waited
      // for its link's connection: postgres_link_test.ts)
      for (const events of [annEvents, bobEvents]) {
        assert.deepEqual(seen(events, "leave"), [`${room} carol`, `${room} 江主席`]);
      }
      assert.deepEqual(seen(carolEvents, "kicked"), [`${room} by ann`]);
      assert.deepEqual(seen(chairmanEvents, "kicked"), [`${room} by ann`]);
      // and the roster of who is where forgets them (LIST_MEMBERS of a 2.0 session reads it)
      for (let tries = 0; (await bob.members()).sort().join() !== "ann,bob"; tries++) {
        if (tries > 100) throw new Error(`still listed: ${await bob.members()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await Promise.all([ann, bob, carol, chairman].map((client) => client.close()));
      await Promise.all([a.close(), b.close()]);
    }
  },
);

engineTest(
  POSTGRES_MISSING ?? REDIS_MISSING,
  "a ban of a member in the room through devices on two servers, made on a third that has not heard of her joining, is told to the room once",
  async () => {
    const redis = await startRedis();
    // the first server hears the bus (Redis) a second late, and is heard as late
    const relay = new DelayRelay(redis.port, 1000);
    const { servers: [a, b, c] } = await startCluster(3, {
      each: (i) => ({ bus: `redis://127.0.0.1:${i === 0 ? relay.port : redis.port}` }),
    });
    const ann = await device(a, "ann", true);
    const bob = await device(b, "bob", true);
    const chairman = await device(c, "江主席", true);
    assert.ok(ann instanceof ChatClient && bob instanceof ChatClient);
    assert.ok(chairman instanceof ChatClient);
    const [carolOnB, carolOnC] = [await admitted(b, "carol"), await admitted(c, "carol")];
    const room = "ann's room";
    try {
      await ann.create(room);
      await ann.join(room);
      for (const client of [bob, chairman]) await joinWhenThere(client, room);
      const [annEvents, bobEvents, chairmanEvents, onBEvents, onCEvents] = [
        ann,
        bob,
        chairman,
        carolOnB,
        carolOnC,
      ].map(recorded);
      await carolOnB.join(room);
      // the roster has her in the room, on b and c; a's bus has not told it yet
      for (let tries = 0; !(await ann.members()).includes("carol"); tries++) {
        if (tries > 100) throw new Error("carol never in the roster");
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await ann.ban("carol", { room, reason: "on two servers" });
      await settled(annEvents, "leave", 1);
      for (const events of [annEvents, bobEvents, chairmanEvents]) {
        assert.deepEqual(seen(events, "leave"), [`${room} carol`], "the room hears it once");
      }
      for (const events of [onBEvents, onCEvents]) {
        assert.deepEqual(seen(events, "kicked"), [`${room} by ann`], "each device once");
      }
      await assert.rejects(carolOnC.send("still here?", { room }), /NOT_IN_ROOM/);
    } finally {
      await Promise.all([ann, bob, chairman, carolOnB, carolOnC].map((client) => client.close()));
      await Promise.all([a.close(), b.close(), c.close()]);
      await relay.close();
    }
  },
);
