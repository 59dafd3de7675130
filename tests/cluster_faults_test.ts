/**
 * Cluster mode under faults, with servers as processes on one private
 * PostgreSQL (NOTIFY as the bus): a server killed under load, PostgreSQL
 * restarted under load, and a TCP and a WebSocket client on different
 * servers in one room. What is checked each time: every acknowledged
 * message is stored once, and every member that stayed connected got
 * every stored message of the others once, in the room's order.
 */

import assert from "node:assert/strict";
import { type ChatClient, type HistoryMessage, webSocket } from "../mod.ts";
import { cluster, member, received, stop, until } from "./cluster_helpers.ts";
import { engineTest, POSTGRES_MISSING, startPostgres } from "./engines.ts";

/** Every message of the lobby, oldest first, paging backwards. */
async function wholeHistory(client: ChatClient): Promise<HistoryMessage[]> {
  let all: HistoryMessage[] = [];
  for (;;) {
    const page = await client.history({ before: all[0]?.id, limit: 500 });
    all = [...page.messages, ...all];
    if (page.messages.length === 0 || !page.more) return all;
  }
}

/** `promise`, or a rejection after `ms`: a request left unanswered fails the test, not hangs it. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** What became of each message a poster sent: its id when answered OK, null when refused. */
type Outcomes = Map<string, number | null>;

/** Posts `count` messages `<user> <i>`, pausing now and then, recording each outcome. */
async function post(
  client: ChatClient,
  user: string,
  count: number,
  outcomes: Outcomes,
  options: { from?: number; stopOnError?: boolean } = {},
): Promise<void> {
  for (let i = options.from ?? 0; i < count; i++) {
    const text = `${user} ${i}`;
    try {
      outcomes.set(text, (await client.send(text)).id);
    } catch (error) {
      outcomes.set(text, null);
      if (options.stopOnError) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The checks after a run: the stored messages are unique, hold every
 * acknowledged one (under its id), none refused; each member that stayed
 * connected got the stored messages of the others, each once, in order.
 */
async function checkStoredAndDelivered(
  reader: ChatClient,
  outcomes: Outcomes,
  stayed: { user: string; ids: number[] }[],
): Promise<HistoryMessage[]> {
  const stored = await wholeHistory(reader);
  const ids = stored.map((m) => m.id);
  assert.deepEqual(ids, [...new Set(ids)].sort((a, b) => a - b), "stored once each, in order");
  const texts = new Map(stored.map((m) => [m.content, m.id]));
  assert.equal(texts.size, stored.length, "no message stored twice");
  for (const [text, id] of outcomes) {
    if (id === null) assert.equal(texts.get(text), undefined, `${text} was refused, not stored`);
    else assert.equal(texts.get(text), id, `${text} was acknowledged: stored`);
  }
  for (const { user, ids: got } of stayed) {
    const expected = stored.filter((m) => m.from !== user).map((m) => m.id);
    await until(() => got.length >= expected.length, 20_000, `${user}'s messages`);
    await new Promise((resolve) => setTimeout(resolve, 200)); // nothing more comes
    assert.deepEqual(got, expected, `${user}: each once, in the room's order`);
  }
  return stored;
}

/** Logs in again elsewhere, trying for a while (the name may still be held for the killed server). */
async function rejoin(port: number, user: string): Promise<ChatClient> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await member(port, user);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

engineTest(
  POSTGRES_MISSING,
  "a server killed under load: its users log in on another and find every acknowledged message; the others get each once, in order",
  async () => {
    const servers = await cluster(3);
    const [a, b, c] = servers;
    const staying = [["ann", a.port], ["bob", b.port]] as const;
    const moving = [["carol", a.port], ["江主席", b.port]] as const;
    const clients: ChatClient[] = [];
    try {
      const stayed = await Promise.all(staying.map(async ([user, port]) => {
        const client = await member(port, user);
        clients.push(client);
        return { user, client, ids: received(client) };
      }));
      const outcomes: Outcomes = new Map();
      const onC = await Promise.all(moving.map(([user]) => member(c.port, user)));
      clients.push(...onC);
      const acknowledgedOnC = () =>
        [...outcomes].filter(([text, id]) => id !== null && !text.startsWith("ann")).length;
      const killed = (async () => {
        await until(() => acknowledgedOnC() >= 30, 30_000, "posts on the server to kill");
        c.kill("SIGKILL");
      })();
      await Promise.all([
        killed,
        ...stayed.map(({ user, client }) => post(client, user, 120, outcomes)),
        ...moving.map(async ([user, port], i) => {
          let sent = 0;
          try {
            await post(onC[i], user, 120, outcomes, { stopOnError: true });
            sent = 120;
          } catch {
            sent = [...outcomes.keys()].filter((text) => text.startsWith(`${user} `)).length;
          }
          const again = await rejoin(port, user);
          clients.push(again);
          // every message acknowledged on the killed server is there
          const stored = new Set((await wholeHistory(again)).map((m) => m.id));
          for (const [text, id] of outcomes) {
            if (text.startsWith(`${user} `) && id !== null) {
              assert.ok(stored.has(id), `${text}, acknowledged on the killed server, is stored`);
            }
          }
          await post(again, user, 120, outcomes, { from: sent });
        }),
      ]);
      assert.notEqual(await c.exited, 0);
      // the one unanswered when the server died may or may not be stored: never refused
      for (const [text, id] of outcomes) if (id === null) outcomes.delete(text);
      const stored = await checkStoredAndDelivered(stayed[0].client, outcomes, stayed);
      assert.ok(stored.length >= 4 * 120 - 2, `${stored.length} stored`);
      const onB = await wholeHistory(stayed[1].client);
      assert.deepEqual(onB.map((m) => m.id), stored.map((m) => m.id), "the same on every server");
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      await stop(servers);
    }
  },
);

engineTest(
  POSTGRES_MISSING,
  "PostgreSQL restarted under load: posts are refused while it is down, never acknowledged, and reads and chats resume when it is back",
  async () => {
    const engine = await startPostgres();
    // leases outlast the outage: this is about posts and reads, not about names (see
    // cluster_presence_test.ts for a server that loses its lease)
    const servers = await cluster(2, { args: ["--cluster-lease", "120"] });
    const users = ["ann", "bob", "carol"];
    const clients = await Promise.all(
      users.map((user, i) => member(servers[i % 2].port, user)),
    );
    const probe = await member(servers[1].port, "江主席");
    try {
      const got = [...clients, probe].map((client) => received(client));
      const outcomes: Outcomes = new Map();
      let restarted = false;
      const restart = (async () => {
        await until(() => outcomes.size >= 60, 30_000, "posts before the crash");
        await engine.crash();
        // a post asked for while it is down is refused; a read fails too
        for (let i = 0; i < 3; i++) {
          const send = probe.send(`while down ${i}`);
          await assert.rejects(within(send, 20_000, "a post while down"), /SERVER_ERROR/);
          outcomes.set(`while down ${i}`, null);
        }
        const read = probe.history({ limit: 5 });
        await assert.rejects(within(read, 20_000, "a read while down"), /SERVER_ERROR/);
        await engine.start();
        restarted = true;
      })();
      // each posts until 30 of its posts were acknowledged after the restart
      const posting = Promise.all(clients.map(async (client, c) => {
        let acknowledgedSince = 0;
        for (let i = 0; acknowledgedSince < 30; i++) {
          if (i === 2000) throw new Error(`${users[c]} posted 2,000 messages`);
          const text = `${users[c]} ${i}`;
          try {
            outcomes.set(text, (await client.send(text)).id);
            if (restarted) acknowledgedSince++;
          } catch {
            outcomes.set(text, null);
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }));
      // together: a failed restart fails the test at once, and posting then never ends by itself
      await Promise.all([
        within(posting, 90_000, "posting through the restart"),
        within(restart, 120_000, "the restart"),
      ]);
      assert.ok([...outcomes.values()].filter((id) => id === null).length >= 3);
      await checkStoredAndDelivered(
        probe,
        outcomes,
        [...users, "江主席"].map((user, i) => ({ user, ids: got[i] })),
      );
    } finally {
      await Promise.all([...clients, probe].map((client) => client.close()));
      await stop(servers);
    }
  },
);

engineTest(
  POSTGRES_MISSING,
  "a TCP client on one server and a WebSocket client on another share a room",
  async () => {
    const [a, b] = await cluster(2, { http: true });
    const ann = await member(a.port, "ann");
    const bob = await member(webSocket(`ws://127.0.0.1:${b.httpPort}/ws`), "bob");
    try {
      const got = [ann, bob].map((client) => received(client));
      const outcomes: Outcomes = new Map();
      await Promise.all([post(ann, "ann", 30, outcomes), post(bob, "bob", 30, outcomes)]);
      const stored = await checkStoredAndDelivered(bob, outcomes, [
        { user: "ann", ids: got[0] },
        { user: "bob", ids: got[1] },
      ]);
      assert.equal(stored.length, 60);
      assert.deepEqual((await wholeHistory(ann)).map((m) => m.id), stored.map((m) => m.id));
    } finally {
      await Promise.all([ann.close(), bob.close()]);
      await stop([a, b]);
    }
  },
);
