/**
 * The client library against a real server on 127.0.0.1: REGISTER, HISTORY
 * and SEARCH; HELLO, PING, TIME and WHO; peer chats, direct messages and
 * poems; KICK, BAN and UNBAN; and the automatic answer to EVT_PING.
 */

import assert from "node:assert/strict";
import {
  ChatClient,
  ChatError,
  type ChatEvent,
  type ServerHandle,
  type ServerOptions,
  tcp,
} from "../mod.ts";
import { ACCOUNTS, RawConnection, startTestServer, withTimeout } from "./helpers.ts";
import { SECOND_POEM, testPoems } from "./poem_corpus.ts";

/** Upper bound of every wait for an event. */
const TIMEOUT_MS = 5_000;

/** Runs `test` against a fresh server; closes every client it opened. */
async function withServer(
  test: (connect: () => Promise<ChatClient>, server: ServerHandle) => Promise<void>,
  options: ServerOptions = {},
): Promise<void> {
  const server = await startTestServer(options);
  const clients: ChatClient[] = [];
  const connect = async () => {
    const client = await ChatClient.connect(tcp({ port: server.addr.port }));
    clients.push(client);
    return client;
  };
  try {
    await test(connect, server);
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await server.close();
  }
}

/** A client logged in as one of the test accounts (without push unless asked). */
async function loggedIn(
  connect: () => Promise<ChatClient>,
  user: string,
  options: { push?: boolean } = {},
): Promise<ChatClient> {
  const client = await connect();
  await client.login(user, ACCOUNTS.get(user)!, { push: options.push ?? false });
  return client;
}

/** A push client of a test account and the events it gets. */
class Watcher {
  readonly client: ChatClient;
  readonly #events: AsyncGenerator<ChatEvent>;

  constructor(client: ChatClient) {
    this.client = client;
    this.#events = client.events();
  }

  /** Logs in with push on. */
  static async login(connect: () => Promise<ChatClient>, user: string): Promise<Watcher> {
    return new Watcher(await loggedIn(connect, user, { push: true }));
  }

  /** The next event, which must be `type`; fails after TIMEOUT_MS. */
  async next<T extends ChatEvent["type"]>(type: T): Promise<Extract<ChatEvent, { type: T }>> {
    const next = await withTimeout(this.#events.next(), TIMEOUT_MS, `a ${type} event`);
    assert.ok(!next.done, `the connection ended before a ${type} event`);
    assert.equal(next.value.type, type, JSON.stringify(next.value));
    return next.value as Extract<ChatEvent, { type: T }>;
  }
}

/** The ChatError `promise` rejects with. */
async function refusal(promise: Promise<unknown>): Promise<ChatError> {
  const error = await promise.then(() => null, (e) => e);
  assert.ok(error instanceof ChatError, `expected a ChatError, got ${error}`);
  return error;
}

Deno.test("ChatClient.register creates an account that can log in", async () => {
  await withServer(async (connect) => {
    const client = await connect();
    await client.register("dave", "correct horse");
    await client.login("dave", "correct horse");
    await client.join("lobby");
    await client.send("hello from a new account");
    const other = await connect();
    assert.equal((await refusal(other.login("dave", "wrong horse"))).status, "AUTH_FAILED");
  });
});

Deno.test("ChatClient.register reports NAME_TAKEN for a taken name and a look-alike", async () => {
  await withServer(async (connect) => {
    const client = await connect();
    assert.equal((await refusal(client.register("ann", "another password"))).status, "NAME_TAKEN");
    await client.register("dave", "correct horse");
    for (const lookAlike of ["dave", "Dave", "ｄａｖｅ"]) {
      const error = await refusal(client.register(lookAlike, "battery staple"));
      assert.equal(error.status, "NAME_TAKEN", lookAlike);
    }
  });
});

Deno.test("ChatClient.register reports WEAK_PASSWORD with the reason", async () => {
  await withServer(async (connect) => {
    const client = await connect();
    const short = await refusal(client.register("dave", "short"));
    assert.equal(short.status, "WEAK_PASSWORD");
    assert.equal(short.reason, "password is shorter than 8 characters");
    assert.equal(
      short.message,
      "REGISTER failed: WEAK_PASSWORD (password is shorter than 8 characters)",
    );
    const named = await refusal(client.register("dave", "I am DAVE!!"));
    assert.equal(named.reason, "password contains the user name");
    const dull = await refusal(client.register("dave", "abababab"));
    assert.equal(dull.reason, "password has fewer than 3 different characters");
    // nothing was created: the name is still free
    await client.register("dave", "correct horse");
  });
});

Deno.test("ChatClient.register reports INVALID_NAME for a name with a control character", async () => {
  await withServer(async (connect) => {
    const client = await connect();
    const bell = await refusal(client.register("da\x07ve", "correct horse"));
    assert.equal(bell.status, "INVALID_NAME");
    assert.equal(bell.reason, "name contains a control character");
    const tab = await refusal(client.register("da\tve", "correct horse"));
    assert.equal(tab.status, "INVALID_NAME");
    assert.equal((await refusal(client.register(" dave", "correct horse"))).status, "INVALID_NAME");
  });
});

Deno.test("ChatClient.history pages backwards with before and limit and tells when there is more", async () => {
  await withServer(async (connect) => {
    const bob = await loggedIn(connect, "bob");
    await bob.join("lobby");
    const sent: { id: number; time: string }[] = [];
    for (let i = 1; i <= 7; i++) sent.push(await bob.send(`message ${i}\twith a tab`));
    assert.deepEqual(sent.map((s) => s.id), [...sent.map((s) => s.id)].sort((a, b) => a - b));

    const ann = await loggedIn(connect, "ann");
    await ann.join("lobby");
    const latest = await ann.history({ limit: 3 });
    assert.equal(latest.room, "lobby");
    assert.equal(latest.more, true);
    assert.deepEqual(
      latest.messages,
      [5, 6, 7].map((n) => ({
        id: sent[n - 1].id,
        from: "bob",
        time: sent[n - 1].time,
        content: `message ${n}\twith a tab`,
      })),
    );

    const middle = await ann.history({ before: latest.messages[0].id, limit: 3 });
    assert.deepEqual(middle.messages.map((m) => m.content.split("\t")[0]), [
      "message 2",
      "message 3",
      "message 4",
    ]);
    assert.equal(middle.more, true);
    const first = await ann.history({ before: middle.messages[0].id, limit: 3 });
    assert.deepEqual(first.messages.map((m) => m.id), [sent[0].id]);
    assert.equal(first.more, false);
    const none = await ann.history({ before: sent[0].id });
    assert.deepEqual(none, { room: "lobby", more: false, messages: [] });

    const all = await ann.history();
    assert.equal(all.more, false);
    assert.deepEqual(all.messages.map((m) => m.id), sent.map((s) => s.id));
    // forwards from a message, as a reader who jumped to it does
    const newer = await ann.history({ after: sent[1].id, limit: 3 });
    assert.deepEqual(newer.messages.map((m) => m.id), sent.slice(2, 5).map((s) => s.id));
    assert.equal(newer.more, true);
    const newest = await ann.history({ after: sent[4].id, limit: 3 });
    assert.deepEqual(newest.messages.map((m) => m.id), sent.slice(5).map((s) => s.id));
    assert.equal(newest.more, false);
    // another room's history is its own
    await ann.join("random");
    assert.deepEqual(await ann.history(), { room: "random", more: false, messages: [] });
  });
});

Deno.test("ChatClient.history needs a room and a limit from 1 to 500", async () => {
  await withServer(async (connect) => {
    const ann = await loggedIn(connect, "ann");
    assert.equal((await refusal(ann.history())).status, "NOT_IN_ROOM");
    await ann.join("lobby");
    for (const limit of [0, 501]) {
      const error = await refusal(ann.history({ limit }));
      assert.equal(error.status, "BAD_REQUEST", String(limit));
      assert.match(error.reason ?? "", /Limit must be a whole number from 1 to 500/);
    }
    assert.equal((await ann.history({ limit: 500 })).messages.length, 0);
    const both = await refusal(ann.history({ before: 5, after: 1 }));
    assert.deepEqual([both.status, both.reason], [
      "BAD_REQUEST",
      "Before and After cannot be combined",
    ]);
    const stranger = await connect();
    assert.equal((await refusal(stranger.history())).status, "NOT_LOGIN");
  });
});

Deno.test("ChatClient.history with a user pages through the direct conversation with them", async () => {
  await withServer(async (connect) => {
    const ann = await loggedIn(connect, "ann");
    const bob = await loggedIn(connect, "bob");
    const carol = await loggedIn(connect, "carol");
    const first = await ann.dm("bob", "first, from ann");
    const second = await bob.dm("ann", "second, from bob");
    await carol.dm("bob", "not for ann");
    // no room is needed, and both sides see the same conversation
    for (const [client, other] of [[ann, "bob"], [bob, "ann"]] as const) {
      const page = await client.history({ with: other });
      assert.deepEqual(page.messages.map((m) => [m.id, m.from, m.content]), [
        [first.id, "ann", "first, from ann"],
        [second.id, "bob", "second, from bob"],
      ]);
      assert.equal(page.more, false);
    }
    const older = await ann.history({ with: "bob", before: second.id });
    assert.deepEqual(older.messages.map((m) => m.id), [first.id]);
    assert.deepEqual((await carol.history({ with: "ann" })).messages, []);
    assert.equal((await refusal(ann.history({ with: "ann" }))).status, "NO_SUCH_USER");
  });
});

Deno.test("ChatClient.search finds messages only in the rooms the user has been in", async () => {
  await withServer(async (connect) => {
    const bob = await loggedIn(connect, "bob");
    await bob.join("lobby");
    const inLobby = await bob.send("a pineapple on the pizza");
    await bob.join("random");
    const inRandom = await bob.send("Pineapple\njuice, please");
    await bob.send("nothing to see here");
    await bob.join("香港记者招待会");
    await bob.send("pineapple in the press room");

    const carol = await loggedIn(connect, "carol");
    const none = await carol.search("pineapple");
    assert.deepEqual(none, { results: [], total: 0, partial: false, next: null }, "in no room yet");
    await carol.join("random");
    await carol.join("lobby");
    const page = await carol.search("pineapple");
    const hits = page.results;
    assert.deepEqual(hits.map((h) => h.id), [inRandom.id, inLobby.id], "newest first");
    assert.deepEqual([page.total, page.partial, page.next], [2, false, null]);
    const lobbyHit = hits.find((hit) => hit.id === inLobby.id)!;
    assert.deepEqual(lobbyHit, {
      id: inLobby.id,
      room: "lobby",
      from: "bob",
      time: inLobby.time,
      snippet: "a [pineapple] on the pizza",
    });
    assert.equal(hits.find((hit) => hit.id === inRandom.id)!.snippet, "[Pineapple]\njuice, please");

    // every word must occur; the limit bounds the results, and the next page goes on
    const ids = async (query: string) => (await carol.search(query)).results.map((h) => h.id);
    assert.deepEqual(await ids("pineapple pizza"), [inLobby.id]);
    assert.deepEqual(await ids("pineapple sushi"), []);
    const first = await carol.search("pineapple", { limit: 1 });
    assert.deepEqual([first.results.map((h) => h.id), first.total], [[inRandom.id], 2]);
    assert.equal(first.next, inRandom.id);
    const second = await carol.search("pineapple", { limit: 1, before: first.next! });
    assert.deepEqual([second.results.map((h) => h.id), second.total, second.next], [
      [inLobby.id],
      1,
      null,
    ]);
  });
});

Deno.test("ChatClient.search needs a login, a query, a limit from 1 to 100 and a whole Before", async () => {
  await withServer(async (connect) => {
    const stranger = await connect();
    assert.equal((await refusal(stranger.search("hello"))).status, "NOT_LOGIN");
    const ann = await loggedIn(connect, "ann");
    assert.equal((await refusal(ann.search("   "))).status, "BAD_REQUEST");
    assert.equal((await refusal(ann.search("hello", { limit: 101 }))).status, "BAD_REQUEST");
    assert.equal((await refusal(ann.search("hello", { before: 0 }))).status, "BAD_REQUEST");
    assert.deepEqual((await ann.search("hello", { limit: 100 })).results, []);
  });
});

// ------------------------------------------------------------ HELLO, PING, TIME, WHO

Deno.test("ChatClient.hello learns the server's version and capabilities, before login", async () => {
  await withServer(async (connect) => {
    const client = await connect();
    const hello = await client.hello();
    assert.equal(hello.version, "2.0");
    assert.equal(hello.server, "Claptrap");
    for (const capability of ["push", "ping", "who", "peer", "dm", "poem", "moderation"]) {
      assert.ok(hello.capabilities.includes(capability), capability);
    }
    assert.equal(
      (await client.hello("1.0", ["push"])).version,
      "2.0",
      "the original major is spoken",
    );
    await client.login("ann", ACCOUNTS.get("ann")!);
  });
});

Deno.test("ChatClient says HELLO 2.0 on connecting, so that it gets today's formats, not the original's", async () => {
  await withServer(async (connect) => {
    const ann = await loggedIn(connect, "ann");
    await ann.join("香港记者招待会");
    const sent = await ann.send("a\tb\nc");
    const [line] = await ann.recv();
    assert.deepEqual(
      line,
      { from: "ann", time: sent.time, content: "a\tb\nc" },
      "ISO time, TAB kept",
    );
    assert.deepEqual(await ann.members(), ["ann"]);
    assert.deepEqual((await ann.rooms()).map((room) => room.name), [
      "lobby",
      "random",
      "香港记者招待会",
    ]);
    assert.equal((await ann.hello()).version, "2.0", "the answer to the HELLO it sent");
  });
});

Deno.test("ChatClient.hello rejects another major version with VERSION_MISMATCH saying what the server speaks", async () => {
  await withServer(async (connect) => {
    const client = await connect();
    const mismatch = await refusal(client.hello("3.0"));
    assert.equal(mismatch.status, "VERSION_MISMATCH");
    assert.match(mismatch.reason ?? "", /2\.0/);
    assert.equal((await refusal(client.hello("two"))).status, "BAD_REQUEST");
    // the connection goes on
    assert.equal((await client.hello()).version, "2.0");
  });
});

Deno.test("ChatClient.ping echoes the token, and time gives the server's time", async () => {
  await withServer(async (connect) => {
    const client = await connect();
    const before = await client.ping();
    assert.equal(before.token, undefined);
    assert.ok(!Number.isNaN(Date.parse(before.time)));
    await client.login("ann", ACCOUNTS.get("ann")!);
    assert.equal((await client.ping("abc 123")).token, "abc 123");
    const time = await client.time();
    assert.match(time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(Math.abs(Date.parse(time) - Date.now()) < 60_000);
    const stranger = await connect();
    assert.equal((await refusal(stranger.time())).status, "NOT_LOGIN");
  });
});

Deno.test("ChatClient.who shows who is in a room, in a peer chat and idle", async () => {
  await withServer(async (connect) => {
    const ann = await loggedIn(connect, "ann");
    const bob = await loggedIn(connect, "bob");
    const carol = await loggedIn(connect, "carol");
    const chairman = await loggedIn(connect, "江主席");
    await ann.join("香港记者招待会");
    const { room } = await bob.peerConnect("carol");
    const who = await chairman.who();
    assert.deepEqual(
      who.sort((a, b) => a.user < b.user ? -1 : 1),
      [
        { user: "ann", place: "room", name: "香港记者招待会" },
        { user: "bob", place: "group", name: room },
        { user: "carol", place: "group", name: room },
        { user: "江主席", place: "idle", name: "" },
      ],
    );
    await ann.leave();
    await carol.leave(); // LEAVE (EXIT_ROOM) leaves a peer chat too
    const after = await chairman.who();
    assert.ok(after.every((entry) => entry.place === "idle"), JSON.stringify(after));
  });
});

// ------------------------------------------------------------ peer chats and DMs

Deno.test("ChatClient peer chat: a third user asks to join the peer's group, bye leaves, the last one gets groupEnd", async () => {
  await withServer(async (connect) => {
    const ann = await Watcher.login(connect, "ann");
    const bob = await Watcher.login(connect, "bob");
    const carol = await Watcher.login(connect, "carol");
    await carol.client.join("lobby");
    assert.equal((await refusal(ann.client.peerConnect("carol"))).status, "BUSY");

    // ann connects to bob, who is in no room: both are in a new group
    const connected = await ann.client.peerConnect("bob");
    const room = connected.room;
    assert.deepEqual(connected, { room, invited: false });
    assert.notEqual(room, "");
    const annJoined = await bob.next("join");
    assert.deepEqual([annJoined.room, annJoined.kind, annJoined.user], [room, "group", "ann"]);
    assert.deepEqual(
      (await ann.client.members()).sort(),
      ["ann", "bob"],
      "LIST_MEMBERS lists the peer chat",
    );

    // carol connects to bob, who is chatting already: she asks to join, bob lets her in
    const asked = await carol.client.peerConnect("bob");
    assert.ok(asked.invited);
    assert.deepEqual(asked, { room, invited: true, expires: asked.expires });
    const invite = await bob.next("peerInvite");
    assert.deepEqual([invite.room, invite.from, invite.expires], [room, "carol", asked.expires]);
    assert.equal((await ann.next("peerInvite")).from, "carol");
    assert.equal((await refusal(bob.client.peerAccept("nobody"))).status, "NO_INVITATION");
    await bob.client.peerAccept("carol");
    const answer = await carol.next("peerAnswer");
    assert.deepEqual([answer.room, answer.from, answer.answer, answer.by], [
      room,
      "carol",
      "accepted",
      "bob",
    ]);
    for (const member of [ann, bob]) {
      const joined = await member.next("join");
      assert.deepEqual([joined.room, joined.kind, joined.user], [room, "group", "carol"]);
    }
    await carol.client.send("hi ann and bob");
    for (const member of [ann, bob]) {
      const message = await member.next("message");
      assert.deepEqual(
        [message.room, message.kind, message.from, message.content],
        [room, "group", "carol", "hi ann and bob"],
      );
    }

    // bye by two: the one left is told everyone left, and is out of the group
    await ann.client.peerBye();
    for (const member of [bob, carol]) {
      const left = await member.next("leave");
      assert.deepEqual([left.room, left.kind, left.user], [room, "group", "ann"]);
    }
    await carol.client.peerBye();
    const carolLeft = await bob.next("leave");
    assert.deepEqual([carolLeft.kind, carolLeft.user], ["group", "carol"]);
    const end = await bob.next("groupEnd");
    assert.equal(end.room, room);
    assert.ok(!Number.isNaN(Date.parse(end.time)));
    assert.equal((await refusal(bob.client.peerBye())).status, "NOT_IN_GROUP");
    assert.equal((await refusal(bob.client.send("anyone?"))).status, "NOT_IN_ROOM");
    const who = await bob.client.who();
    assert.ok(who.every((entry) => entry.place === "idle"), JSON.stringify(who));
  });
});

Deno.test("ChatClient.peerConnect refuses oneself (PEER_IS_SELF) and unknown or offline users (PEER_OFFLINE)", async () => {
  await withServer(async (connect) => {
    const ann = await loggedIn(connect, "ann");
    assert.equal((await refusal(ann.peerConnect("ann"))).status, "PEER_IS_SELF");
    const offline = await refusal(ann.peerConnect("carol"));
    assert.equal(offline.status, "PEER_OFFLINE");
    assert.equal(offline.reason, "carol is not online");
    assert.equal((await refusal(ann.peerConnect("nobody"))).status, "PEER_OFFLINE");
    assert.equal((await refusal(ann.peerBye())).status, "NOT_IN_GROUP");
    const stranger = await connect();
    assert.equal((await refusal(stranger.peerConnect("ann"))).status, "NOT_LOGIN");
  });
});

Deno.test("ChatClient.dm delivers a direct message as a dm event to an online user", async () => {
  await withServer(async (connect) => {
    const ann = await loggedIn(connect, "ann");
    const bob = await Watcher.login(connect, "bob");
    const sent = await ann.dm("bob", "psst\nsecond line");
    const dm = await bob.next("dm");
    assert.deepEqual(dm, {
      type: "dm",
      from: "ann",
      to: "bob",
      time: sent.time,
      id: sent.id,
      content: "psst\nsecond line",
    });
    assert.equal((await refusal(ann.dm("carol", "are you there?"))).status, "PEER_OFFLINE");
    assert.equal((await refusal(ann.dm("ann", "me"))).status, "PEER_IS_SELF");
    assert.equal((await refusal(ann.dm("bob", ""))).status, "BAD_REQUEST");
    // both can find it in their chat history
    assert.deepEqual((await ann.search("psst")).results.map((hit) => hit.id), [sent.id]);
    assert.deepEqual((await bob.client.search("psst")).results.map((hit) => hit.id), [sent.id]);
  });
});

// ------------------------------------------------------------ poems

Deno.test("ChatClient.poem returns a poem by number and NO_SUCH_POEM outside 1 to 154", async () => {
  const poems = testPoems();
  await withServer(async (connect) => {
    const ann = await loggedIn(connect, "ann");
    const second = await ann.poem(2);
    assert.equal(second.number, 2);
    assert.equal(second.title, "II.");
    assert.equal(second.text, SECOND_POEM);
    assert.ok((await ann.poem(154)).text.length > 0);
    for (const n of [0, 155]) {
      const error = await refusal(ann.poem(n));
      assert.equal(error.status, "NO_SUCH_POEM", String(n));
      assert.equal(error.reason, "poems are numbered 1 to 154");
    }
  }, { poems });
});

Deno.test("ChatClient.poem on a server without a corpus reports NO_POEMS", async () => {
  await withServer(async (connect) => {
    const ann = await loggedIn(connect, "ann");
    assert.equal((await refusal(ann.poem(2))).status, "NO_POEMS");
  });
});

// ------------------------------------------------------------ moderation

Deno.test("ChatClient.kick, ban and unban by a room's owner; others get NOT_ALLOWED", async () => {
  await withServer(async (connect) => {
    const ann = await Watcher.login(connect, "ann");
    const bob = await Watcher.login(connect, "bob");
    const carol = await loggedIn(connect, "carol");
    await ann.client.create("ann's room");
    await ann.client.join("ann's room");
    await bob.client.join("ann's room");
    await carol.join("ann's room");
    assert.equal((await ann.next("join")).user, "bob");
    assert.equal((await ann.next("join")).user, "carol");
    assert.equal((await bob.next("join")).user, "carol");

    for (const attempt of [carol.kick("bob"), carol.ban("bob"), carol.unban("bob")]) {
      assert.equal((await refusal(attempt)).status, "NOT_ALLOWED");
    }
    assert.equal((await refusal(ann.client.kick("江主席"))).status, "NO_SUCH_USER");
    assert.equal((await refusal(ann.client.unban("bob"))).status, "NO_SUCH_USER");

    // kicked: bob is told who and why, the room is told he left and why
    await ann.client.kick("bob", { reason: "too loud" });
    const kicked = await bob.next("kicked");
    assert.deepEqual(
      [kicked.room, kicked.by, kicked.reason, kicked.banned],
      ["ann's room", "ann", "too loud", false],
    );
    const left = await ann.next("leave");
    assert.deepEqual([left.user, left.reason], ["bob", "kicked by ann: too loud"]);
    assert.equal((await refusal(bob.client.send("hello?"))).status, "NOT_IN_ROOM");

    // a kick is not a ban: bob may come back; banned, he may not until unbanned
    await bob.client.join("ann's room");
    assert.equal((await ann.next("join")).user, "bob");
    await ann.client.ban("bob", { reason: "spam" });
    const banned = await bob.next("kicked");
    assert.deepEqual([banned.by, banned.reason, banned.banned], ["ann", "spam", true]);
    assert.equal((await ann.next("leave")).reason, "banned by ann: spam");
    const refused = await refusal(bob.client.join("ann's room"));
    assert.equal(refused.status, "BANNED");
    assert.equal(refused.reason, "spam");
    await ann.client.unban("bob");
    await bob.client.join("ann's room");
    assert.deepEqual((await ann.client.members()).sort(), ["ann", "bob", "carol"]);
  });
});

Deno.test("ChatClient moderation by an admin works in any room, named from anywhere", async () => {
  await withServer(async (connect) => {
    const carol = await loggedIn(connect, "carol"); // the admin
    const bob = await Watcher.login(connect, "bob");
    const ann = await loggedIn(connect, "ann");
    await bob.client.join("lobby");
    assert.equal((await refusal(ann.kick("bob", { room: "lobby" }))).status, "NOT_ALLOWED");
    assert.equal((await refusal(carol.kick("bob"))).status, "NOT_IN_ROOM");
    assert.equal((await refusal(carol.kick("bob", { room: "nowhere" }))).status, "NO_SUCH_ROOM");
    await carol.ban("bob", { room: "lobby", reason: "by the admin" });
    const banned = await bob.next("kicked");
    assert.deepEqual(
      [banned.room, banned.by, banned.reason, banned.banned],
      ["lobby", "carol", "by the admin", true],
    );
    assert.equal((await refusal(bob.client.join("lobby"))).status, "BANNED");
    await bob.client.join("random"); // the ban is for the lobby only
    await carol.unban("bob", { room: "lobby" });
    await bob.client.join("lobby");
    await carol.kick("bob", { room: "lobby" });
    const kicked = await bob.next("kicked");
    assert.deepEqual([kicked.by, kicked.reason, kicked.banned], ["carol", "", false]);
  }, { admins: ["carol"] });
});

// ------------------------------------------------------------ liveness

Deno.test("ChatClient answers EVT_PING by itself, so an idle connection stays open; a silent one is closed", async () => {
  await withServer(async (connect, server) => {
    const ann = await loggedIn(connect, "ann", { push: true });
    let closed = false;
    ann.closed.then(() => closed = true);
    const raw = await RawConnection.open(server);
    try {
      await raw.login("bob", { push: true });
      // the raw connection never answers: pinged, then closed for being idle
      const frames = await raw.untilClosed(TIMEOUT_MS);
      assert.ok(frames.some((frame) => frame.method === "EVT_PING"), JSON.stringify(frames));
      const close = frames.find((frame) => frame.method === "EVT_CLOSE");
      assert.match(close?.params.Reason ?? "", /^idle timeout/);
    } finally {
      await raw.close();
    }
    // ann has been idle all along, far longer than the idle timeout: she was
    // pinged, answered, and her own requests still get their own responses
    assert.equal(closed, false);
    for (const token of ["one", "two"]) assert.equal((await ann.ping(token)).token, token);
    assert.equal((await ann.rooms()).length, 3);
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(closed, false);
    assert.equal((await ann.ping("three")).token, "three");
  }, { pingIntervalMs: 100, idleTimeoutMs: 400 });
});
