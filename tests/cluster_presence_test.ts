/**
 * Presence across the servers of a cluster: unique names and MAX_ONLINE
 * under racing logins on several server processes, a killed server's names
 * freed by its lease, a server cut off from PostgreSQL closing its own
 * sessions first; and WHO, LIST_MEMBERS, the console, direct messages and
 * room kicks across servers (in this process).
 */

import assert from "node:assert/strict";
import { ChatClient, ChatError, tcp } from "../mod.ts";
import { engineTest, POSTGRES_MISSING } from "./engines.ts";
import { ACCOUNTS, withTimeout } from "./helpers.ts";
import { cluster, nextEvent, startCluster, stop } from "./cluster_helpers.ts";

/** Logs `user` in on the server at `port`: its client, or the status it was refused with. */
async function login(port: number, user: string): Promise<ChatClient | string> {
  const client = await ChatClient.connect(tcp({ port }));
  try {
    await client.login(user, ACCOUNTS.get(user)!, { push: true });
    return client;
  } catch (error) {
    await client.close();
    if (error instanceof ChatError) return error.status;
    throw error;
  }
}

/** The statuses of logins, OK for those let in (whose clients go into `clients`). */
function statuses(results: (ChatClient | string)[], clients: ChatClient[]): string[] {
  return results.map((result) => {
    if (typeof result === "string") return result;
    clients.push(result);
    return "OK";
  });
}

/** Tries to log `user` in on `port` every 50 ms until it works, for up to `ms`. */
async function loginOnceFree(port: number, user: string, ms: number): Promise<ChatClient> {
  const deadline = Date.now() + ms;
  for (;;) {
    const result = await login(port, user);
    if (typeof result !== "string") return result;
    assert.equal(result, "ALREADY_ONLINE");
    if (Date.now() > deadline) throw new Error(`${user} still online after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

engineTest(
  POSTGRES_MISSING,
  "racing logins of one name on three servers: exactly one wins, each time",
  async () => {
    const servers = await cluster(3);
    const clients: ChatClient[] = [];
    try {
      for (let round = 0; round < 5; round++) {
        const results = await Promise.all(servers.map((server) => login(server.port, "ann")));
        const got = statuses(results, clients).sort();
        assert.deepEqual(got, ["ALREADY_ONLINE", "ALREADY_ONLINE", "OK"], `round ${round}`);
        // the winner logs out: the name is free at once on every server
        await clients.pop()!.logout();
      }
      // two logins on one server and one on another, at once
      const results = await Promise.all(
        [0, 0, 1].map((i) => login(servers[i].port, "bob")),
      );
      assert.deepEqual(statuses(results, clients).sort(), [
        "ALREADY_ONLINE",
        "ALREADY_ONLINE",
        "OK",
      ]);
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      await stop(servers);
    }
  },
);

engineTest(
  POSTGRES_MISSING,
  "MAX_ONLINE counts the users of every server, under racing logins",
  async () => {
    const servers = await cluster(3, { args: ["--max-online", "2"] });
    const clients: ChatClient[] = [];
    try {
      const users = [...ACCOUNTS.keys()];
      const results = await Promise.all(
        users.map((user, i) => login(servers[i % servers.length].port, user)),
      );
      const got = statuses(results, clients);
      assert.deepEqual(
        got.slice().sort(),
        ["OK", "OK", "SERVER_FULL", "SERVER_FULL"],
        got.join(" "),
      );
      // one leaves: one more may come in, on any server
      await clients.pop()!.logout();
      const last = users[got.indexOf("SERVER_FULL")];
      const again = await login(servers[2].port, last);
      assert.ok(again instanceof ChatClient, `${again}`);
      clients.push(again);
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      await stop(servers);
    }
  },
);

engineTest(
  POSTGRES_MISSING,
  "a killed server's users may log in elsewhere once its lease has run out",
  async () => {
    const servers = await cluster(2, { args: ["--cluster-lease", "2"] });
    const [a, b] = servers;
    const clients: ChatClient[] = [];
    try {
      const ann = await login(a.port, "ann");
      assert.ok(ann instanceof ChatClient);
      clients.push(ann);
      assert.equal(await login(b.port, "ann"), "ALREADY_ONLINE", "held while a lives");
      a.kill("SIGKILL");
      await a.exited;
      clients.push(await loginOnceFree(b.port, "ann", 15_000));
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      await stop([b]);
      try {
        a.kill("SIGKILL"); // when the test failed before it did
      } catch {
        // killed already
      }
    }
  },
);

/** Resolves with the reason the server gave when it closed the client's connection. */
async function closedFor(client: ChatClient): Promise<string> {
  for await (const event of client.events()) if (event.type === "close") return event.reason;
  return "(connection ended)";
}

engineTest(
  POSTGRES_MISSING,
  "a server cut off from PostgreSQL closes its sessions before another server lets their users in",
  async () => {
    const { servers, proxy } = await startCluster(2, { clusterLeaseMs: 2_000, proxyFirst: true });
    const [a, b] = servers;
    const clients: ChatClient[] = [];
    try {
      const ann = await login(a.addr.port, "ann");
      assert.ok(ann instanceof ChatClient);
      clients.push(ann);
      const order: string[] = [];
      const closed = closedFor(ann).then((reason) => order.push(`closed on a: ${reason}`));
      proxy!.close(); // a can no longer renew its lease
      clients.push(await loginOnceFree(b.addr.port, "ann", 15_000));
      order.push("let in on b");
      await withTimeout(closed, 10_000, "the close on a").catch(() => {});
      assert.deepEqual(order, [
        "closed on a: this server lost its place in the cluster; connect again",
        "let in on b",
      ]);
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      await Promise.all(servers.map((server) => server.close()));
    }
  },
);

engineTest(
  POSTGRES_MISSING,
  "WHO, LIST_MEMBERS and the console's LIST_USERS, KICK and BROADCAST see the users of every server",
  async () => {
    const { servers: [a, b] } = await startCluster(2);
    const ann = await ChatClient.connect(tcp({ port: a.addr.port }));
    const bob = await ChatClient.connect(tcp({ port: b.addr.port }));
    const carol = await ChatClient.connect(tcp({ port: b.addr.port }));
    try {
      await ann.login("ann", ACCOUNTS.get("ann")!, { push: true });
      await bob.login("bob", ACCOUNTS.get("bob")!, { push: true });
      await carol.login("carol", ACCOUNTS.get("carol")!, { push: false });
      await ann.join("lobby");
      await bob.join("lobby");
      await carol.join("random");
      // the roster is written as people move: wait for the last move to show
      await until(async () => (await ann.members()).length === 2, "bob in ann's lobby list");
      assert.deepEqual(await ann.members(), ["ann", "bob"]);
      assert.deepEqual(await bob.members(), ["ann", "bob"]);
      await until(async () => (await ann.who()).length === 3, "carol in WHO");
      assert.deepEqual(
        (await ann.who()).map((w) => `${w.user} ${w.place} ${w.name}`),
        ["ann room lobby", "bob room lobby", "carol room random"],
      );
      const list = (await a.console("LIST_USERS")).output;
      assert.equal(list[0], "3 online:");
      assert.match(list[2], /^ {2}bob {2}room lobby {2}127\.0\.0\.1:\d+$/);
      assert.deepEqual(await a.console("BROADCAST hello"), {
        output: ["sent to 2 connection(s)"],
      });
      assert.deepEqual(await a.console("KICK carol bye"), { output: ["kicked carol"] });
      await until(async () => (await ann.who()).length === 2, "carol gone");
      assert.deepEqual(await a.console("KICK carol again"), { output: ["carol is not online"] });
      await bob.close();
      await until(async () => (await ann.members()).length === 1, "bob gone from the lobby");
    } finally {
      await Promise.all([ann.close(), bob.close(), carol.close()]);
      await Promise.all([a.close(), b.close()]);
    }
  },
);

engineTest(
  POSTGRES_MISSING,
  "a 2.1 member online on another server is listed online everywhere, also after signing in again into their rooms, and away once gone",
  async () => {
    const { servers: [a, b] } = await startCluster(2);
    const signIn = async (port: number, user: string, v21 = true) => {
      const client = await ChatClient.connect(tcp({ port }), { v21 });
      await client.login(user, ACCOUNTS.get(user)!, { push: true });
      return client;
    };
    let ann = await signIn(a.addr.port, "ann");
    const bob = await signIn(b.addr.port, "bob");
    const carol = await signIn(b.addr.port, "carol", false);
    /** How ann is listed on b: by bob (2.1, online or away) and by carol (2.0, there or not). */
    const annOnB = async () => {
      const row = (await bob.memberStates({ room: "random" })).find((row) => row.name === "ann");
      const there = (await carol.members()).includes("ann");
      return `${row ? (row.online ? "online" : "away") : "unlisted"}, ${there ? "in" : "out"}`;
    };
    const until = async (wanted: string, what: string) => {
      for (let tries = 0; (await annOnB()) !== wanted; tries++) {
        if (tries > 200) throw new Error(`${what}: ann is ${await annOnB()} on b`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    try {
      await ann.join("random");
      await bob.join("random");
      await carol.join("random");
      await until("online, in", "ann joined on a");
      await ann.close();
      await until("away, out", "ann signed out of a");
      // signing in again, ann comes into the rooms she belongs to, telling nobody
      ann = await signIn(a.addr.port, "ann");
      await until("online, in", "ann signed in again on a");
      const who = (await carol.who()).find((entry) => entry.user === "ann");
      assert.equal(`${who?.place} ${who?.name}`, "room random", "WHO on b sees her there");
      await ann.close();
      await until("away, out", "ann gone again");
    } finally {
      await Promise.all([ann.close(), bob.close(), carol.close()]);
      await Promise.all([a.close(), b.close()]);
    }
  },
);

engineTest(
  POSTGRES_MISSING,
  "a room's owner on one server kicks a member on another, and direct messages cross servers, however long",
  async () => {
    const { servers: [a, b] } = await startCluster(2);
    const ann = await ChatClient.connect(tcp({ port: a.addr.port }));
    const bob = await ChatClient.connect(tcp({ port: b.addr.port }));
    try {
      await ann.login("ann", ACCOUNTS.get("ann")!, { push: true });
      await bob.login("bob", ACCOUNTS.get("bob")!, { push: true });
      await ann.create("ann's room");
      await until(async () => {
        try {
          await bob.join("ann's room");
          return true;
        } catch {
          return false;
        }
      }, "the room on b");
      await ann.join("ann's room");
      await until(async () => (await ann.members()).length === 2, "both in the room");

      const removed = nextEvent(bob, "kicked");
      await ann.kick("bob", { reason: "testing" });
      const event = await removed;
      assert.deepEqual(
        event.type === "kicked" && [event.room, event.by, event.reason, event.banned],
        ["ann's room", "ann", "testing", false],
      );
      await until(async () => (await ann.members()).length === 1, "bob out of the room");
      await assert.rejects(ann.kick("bob"), /NO_SUCH_USER/);

      const dm = nextEvent(ann, "dm");
      await bob.dm("ann", "psst");
      const got = await dm;
      assert.equal(got.type === "dm" && got.content, "psst");
      // one too large for a NOTIFY payload is kept in the database and read there, and the one
      // sent after it still comes second
      const long = "long ".repeat(2_000);
      const twoDms = (async () => {
        const seen: string[] = [];
        for await (const event of ann.events()) {
          if (event.type === "dm") seen.push(event.content);
          if (seen.length === 2) break;
        }
        return seen;
      })();
      twoDms.catch(() => {});
      await bob.dm("ann", long);
      await bob.dm("ann", "and a short one");
      assert.deepEqual(await withTimeout(twoDms, 10_000, "the two direct messages"), [
        long,
        "and a short one",
      ]);
      await assert.rejects(bob.dm("carol", "anyone?"), /PEER_OFFLINE/);
    } finally {
      await Promise.all([ann.close(), bob.close()]);
      await Promise.all([a.close(), b.close()]);
    }
  },
);

engineTest(
  POSTGRES_MISSING,
  "with --duplicate-login replace, a login on one server closes the user's session on another",
  async () => {
    const { servers: [a, b] } = await startCluster(2, { duplicateLogin: "replace" });
    const clients: ChatClient[] = [];
    try {
      const first = await login(a.addr.port, "ann");
      assert.ok(first instanceof ChatClient);
      clients.push(first);
      const closed = closedFor(first);
      const second = await login(b.addr.port, "ann");
      assert.ok(second instanceof ChatClient, `${second}`);
      clients.push(second);
      assert.equal(await withTimeout(closed, 10_000, "the close"), "logged in from elsewhere");
      await until(
        async () => (await second.who()).map((w) => w.user).join() === "ann",
        "one ann in WHO",
      );
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      await Promise.all([a.close(), b.close()]);
    }
  },
);

/** Waits until `condition` holds, asking every 20 ms for up to 10 s. */
async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
