/**
 * The client library's REGISTER, HISTORY and SEARCH against a real server
 * on 127.0.0.1.
 */

import assert from "node:assert/strict";
import { ChatClient, ChatError, type ServerHandle } from "../mod.ts";
import { ACCOUNTS, startTestServer } from "./helpers.ts";

/** Runs `test` against a fresh server; closes every client it opened. */
async function withServer(
  test: (connect: () => Promise<ChatClient>, server: ServerHandle) => Promise<void>,
): Promise<void> {
  const server = await startTestServer();
  const clients: ChatClient[] = [];
  const connect = async () => {
    const client = await ChatClient.connect({ port: server.addr.port });
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

/** A client logged in as one of the test accounts. */
async function loggedIn(connect: () => Promise<ChatClient>, user: string): Promise<ChatClient> {
  const client = await connect();
  await client.login(user, ACCOUNTS.get(user)!, { push: false });
  return client;
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
    const stranger = await connect();
    assert.equal((await refusal(stranger.history())).status, "NOT_LOGIN");
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
    assert.deepEqual(await carol.search("pineapple"), [], "carol has been in no room yet");
    await carol.join("random");
    await carol.join("lobby");
    const hits = await carol.search("pineapple");
    assert.deepEqual(hits.map((h) => h.id).sort((a, b) => a - b), [inLobby.id, inRandom.id]);
    const lobbyHit = hits.find((hit) => hit.id === inLobby.id)!;
    assert.deepEqual(lobbyHit, {
      id: inLobby.id,
      room: "lobby",
      from: "bob",
      time: inLobby.time,
      snippet: "a [pineapple] on the pizza",
    });
    assert.equal(hits.find((hit) => hit.id === inRandom.id)!.snippet, "[Pineapple]\njuice, please");

    // every word must occur; the limit bounds the results
    assert.deepEqual((await carol.search("pineapple pizza")).map((h) => h.id), [inLobby.id]);
    assert.deepEqual(await carol.search("pineapple sushi"), []);
    assert.equal((await carol.search("pineapple", { limit: 1 })).length, 1);
  });
});

Deno.test("ChatClient.search needs a login, a query and a limit from 1 to 100", async () => {
  await withServer(async (connect) => {
    const stranger = await connect();
    assert.equal((await refusal(stranger.search("hello"))).status, "NOT_LOGIN");
    const ann = await loggedIn(connect, "ann");
    assert.equal((await refusal(ann.search("   "))).status, "BAD_REQUEST");
    assert.equal((await refusal(ann.search("hello", { limit: 101 }))).status, "BAD_REQUEST");
    assert.deepEqual(await ann.search("hello", { limit: 100 }), []);
  });
});
