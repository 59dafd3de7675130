/**
 * The ICS chat listener (`--ics-port`) over real sockets, with a client
 * written from the protocol's description: every request and its answers,
 * what is held back and what an idle client is spared, a peer chat with a
 * Claptrap user, and hostile input.
 */

import assert from "node:assert/strict";
import { ChatClient, type ChatEvent, type ServerHandle, type ServerOptions, tcp } from "../mod.ts";
import { ListenError } from "../server/server.ts";
import { DEFAULT_FLOOD_LIMITS, NO_FLOOD_LIMITS } from "../core/limits/flood_control.ts";
import { MemoryStore } from "../store/memory_store.ts";
import type { SearchOptions } from "../store/store.ts";
import { ACCOUNTS, NEVER, online, startTestServer, withTimeout } from "./helpers.ts";
import { IcsConnection, icsRequestBytes } from "./ics_client.ts";
import { testPoems } from "./poem_corpus.ts";

/** A test server with an ICS listener on a free port. */
async function icsServer(
  options: ServerOptions = {},
): Promise<{ server: ServerHandle; ics: number }> {
  const server = await startTestServer({ icsPort: 0, ...options });
  return { server, ics: server.listeners.get("ics")!.port };
}

/** The local time as the ICS client shows it, for `ms`. */
const ICS_TIME = /^\d\d\.\d\d\.\d\d,\d\d:\d\d$/;

Deno.test("an ICS login by name answers ok; a name in use, an account's or invalid answers duplicate, and the client may try again", async () => {
  const { server, ics } = await icsServer();
  const alice = await IcsConnection.open(ics);
  const ok = await alice.request({ action: "login", name: "alice" });
  assert.equal(ok.text, '{"action": "login", "status": "ok"}');

  const other = await IcsConnection.open(ics);
  for (const name of ["alice", "ALICE", "ann", "Ann", " spaced ", ""]) {
    const refused = await other.request({ action: "login", name });
    assert.equal(refused.text, '{"action": "login", "status": "duplicate"}', name);
  }
  const retried = await other.request({ action: "login", name: "dora" });
  assert.equal(retried.json.status, "ok");
  const again = await other.request({ action: "login", name: "dora2" });
  assert.deepEqual(again.json, {
    action: "login",
    status: "refused",
    reason: "already logged in",
  });

  alice.close();
  other.close();
  await server.close();
});

Deno.test("ICS time, list and poem answer in the original's shapes", async () => {
  const { server, ics } = await icsServer({ poems: testPoems() });
  const alice = await IcsConnection.login(ics, "alice");
  const bob = await online(server.addr.port, "bob", { room: "lobby" });

  const time = await alice.request({ action: "time" });
  assert.deepEqual(Object.keys(time.json), ["action", "results"]);
  assert.match(time.json.results, ICS_TIME);

  const list = await alice.request({ action: "list" });
  assert.equal(
    list.json.results,
    "Users: ------------\n{'alice': 0, 'bob': 1}\nGroups: -----------\n{}\n" +
      "Rooms: ------------\n{'lobby': ['bob']}\n",
  );

  const poem = await alice.request({ action: "poem", target: "3" });
  assert.ok(poem.json.results.startsWith("III.\n\nVerse 3 begins where the last one slept,\n "));
  assert.ok(!poem.json.results.endsWith(" "));
  for (const target of ["200", "0", "²", "", "3x"]) {
    const none = await alice.request({ action: "poem", target });
    assert.equal(none.text, '{"action": "poem", "results": ""}', target);
  }
  alice.close();
  await bob.close();
  await server.close();
});

Deno.test("ICS poem answers empty without a poem corpus", async () => {
  const { server, ics } = await icsServer();
  const alice = await IcsConnection.login(ics, "alice");
  assert.equal((await alice.request({ action: "poem", target: "1" })).json.results, "");
  alice.close();
  await server.close();
});

Deno.test("ICS connect starts a peer chat: success to the one who asked, request to the other; exchange and disconnect get no answer", async () => {
  const { server, ics } = await icsServer();
  const alice = await IcsConnection.login(ics, "alice");
  const dora = await IcsConnection.login(ics, "dora");

  const connected = await alice.request({ action: "connect", target: "dora" });
  assert.equal(connected.text, '{"action": "connect", "status": "success"}');
  assert.equal(
    (await dora.next()).text,
    '{"action": "connect", "status": "request", "from": "alice"}',
  );

  // the sender's own "from" is not believed
  await alice.send({ action: "exchange", from: "[carol]", message: "hi dora" });
  assert.equal(
    (await dora.next()).text,
    '{"action": "exchange", "from": "[alice]", "message": "hi dora"}',
  );
  await dora.send({ action: "exchange", from: "[dora]", message: "你好 there" });
  assert.equal(
    (await alice.next()).text,
    '{"action": "exchange", "from": "[dora]", "message": "\\u4f60\\u597d there"}',
  );
  const list = await alice.request({ action: "list" });
  assert.match(
    list.json.results,
    /^Users: -+\n\{'alice': 1, 'dora': 1\}\nGroups: -+\n\{'peer chat [^']+': \['alice', 'dora'\]\}\n/,
  );

  // "bye" and disconnect in one segment, as the client sends them
  await dora.write(
    new Uint8Array([
      ...icsRequestBytes({ action: "exchange", from: "[dora]", message: "bye" }),
      ...icsRequestBytes({ action: "disconnect" }),
    ]),
  );
  assert.equal(
    (await alice.next()).text,
    '{"action": "exchange", "from": "[dora]", "message": "bye"}',
  );
  assert.equal((await alice.next()).text, '{"action": "disconnect"}');
  // the next frame dora reads is the answer to his next request: nothing came in between
  assert.match((await dora.request({ action: "time" })).json.results, ICS_TIME);
  assert.match((await alice.request({ action: "time" })).json.results, ICS_TIME);
  alice.close();
  dora.close();
  await server.close();
});

Deno.test("ICS connect answers self, no-user and busy", async () => {
  const { server, ics } = await icsServer();
  const alice = await IcsConnection.login(ics, "alice");
  const bob = await online(server.addr.port, "bob", { room: "lobby" });
  const answers = [];
  for (const target of ["alice", "nobody", "bob", "", "x".repeat(100)]) {
    answers.push((await alice.request({ action: "connect", target })).json.status);
  }
  assert.deepEqual(answers, ["self", "no-user", "busy", "no-user", "no-user"]);
  assert.equal(await bob.frameWithin(100), null, "bob is not disturbed");
  alice.close();
  await bob.close();
  await server.close();
});

Deno.test("an ICS exchange outside a peer chat is dropped without a word", async () => {
  const { server, ics } = await icsServer();
  const alice = await IcsConnection.login(ics, "alice");
  await alice.send({ action: "exchange", from: "[alice]", message: "anyone?" });
  await alice.send({ action: "disconnect" });
  assert.match((await alice.request({ action: "time" })).json.results, ICS_TIME);
  alice.close();
  await server.close();
});

Deno.test("ICS search finds the lines of the user's peer chats, oldest first, in the original's line shape", async () => {
  const { server, ics } = await icsServer();
  const alice = await IcsConnection.login(ics, "alice");
  const dora = await IcsConnection.login(ics, "dora");
  await alice.request({ action: "connect", target: "dora" });
  await dora.next();
  for (const line of ["hello there", "General Kenobi", "over there [sic]"]) {
    await dora.send({ action: "exchange", from: "[dora]", message: line });
    await alice.next();
  }
  const found = await alice.request({ action: "search", target: "there" });
  const lines = found.json.results.split("\n");
  assert.equal(lines.length, 2, found.json.results);
  assert.match(lines[0], /^\(\d\d\.\d\d\.\d\d,\d\d:\d\d\) dora : hello there$/);
  assert.match(lines[1], /^\(\d\d\.\d\d\.\d\d,\d\d:\d\d\) dora : over there \[sic\]$/);
  assert.equal(
    (await alice.request({ action: "search", target: "nowhere" })).text,
    '{"action": "search", "results": ""}',
  );
  assert.equal((await alice.request({ action: "search", target: "" })).json.results, "");
  const tooLong = await alice.request({ action: "search", target: "x ".repeat(20) });
  assert.equal(tooLong.json.results, "search refused: query has more than 16 words");
  alice.close();
  dora.close();
  await server.close();
});

Deno.test("ICS requests before login, unknown actions and bad JSON get an error frame; the connection stays", async () => {
  const { server, ics } = await icsServer();
  const alice = await IcsConnection.open(ics);
  assert.deepEqual((await alice.request({ action: "time" })).json, {
    action: "error",
    status: "not-logged-in",
    reason: "log in first",
  });
  assert.deepEqual((await alice.request({ action: "fly" })).json, {
    action: "error",
    status: "bad-request",
    reason: 'Cannot parse request: unknown action "fly"',
  });
  await alice.write(new TextEncoder().encode("00005{nope"));
  assert.equal((await alice.next()).json.reason, "Cannot parse request: not JSON");
  await alice.send({ action: "poem" });
  assert.equal(
    (await alice.next()).json.reason,
    'Cannot parse request: poem needs a text field "target"',
  );
  assert.equal((await alice.request({ action: "login", name: "alice" })).json.status, "ok");
  alice.close();
  await server.close();
});

/** A store whose searches wait until let go, so that a request stays unanswered meanwhile. */
class GatedSearchStore extends MemoryStore {
  readonly gate: PromiseWithResolvers<void> = Promise.withResolvers();

  override search(user: string, words: readonly string[], options: SearchOptions) {
    return this.gate.promise.then(() => super.search(user, words, options));
  }
}

Deno.test("nothing comes between an ICS request and its answer: an event meanwhile waits and follows it", async () => {
  const store = new GatedSearchStore();
  const { server, ics } = await icsServer({ store });
  const alice = await IcsConnection.login(ics, "alice");
  const bob = await online(server.addr.port, "bob");

  await alice.send({ action: "search", target: "anything" });
  const connected = await bob.request("PEER_CONNECT", { Peer: "alice" });
  assert.equal(connected.params.Status, "OK");
  assert.equal(await alice.frameWithin(300), null, "the request frame waits for the answer");
  store.gate.resolve();
  assert.equal((await alice.next()).text, '{"action": "search", "results": ""}');
  assert.equal(
    (await alice.next()).text,
    '{"action": "connect", "status": "request", "from": "bob"}',
  );
  alice.close();
  await bob.close();
  await server.close();
});

Deno.test("events held for an unanswered ICS request count against the send-queue bound", async () => {
  const store = new GatedSearchStore();
  const lines: string[] = [];
  const { server, ics } = await icsServer({
    store,
    sendQueueBytes: 64 * 1024,
    floodLimits: NO_FLOOD_LIMITS,
    log: (line) => lines.push(line),
  });
  const alice = await IcsConnection.login(ics, "alice");
  const bob = await online(server.addr.port, "bob");
  assert.equal((await bob.request("PEER_CONNECT", { Peer: "alice" })).params.Status, "OK");
  await alice.next();
  await alice.send({ action: "search", target: "anything" }); // never answered
  const line = "y".repeat(16_000);
  let ended = null;
  for (let i = 0; i < 20 && !ended; i++) {
    assert.equal((await bob.request("SEND_MSG", {}, line)).params.Status, "OK");
    ended = await bob.frameWithin(0);
  }
  assert.equal(ended?.method, "EVT_LEAVE");
  assert.match(ended.params.Reason, /send queue exceeded 65536 bytes/);
  await bob.nextOf("EVT_GROUP_END");
  assert.ok(lines.some((l) => l.includes("send queue exceeded 65536 bytes")), lines.join("\n"));
  assert.deepEqual(await alice.untilClosed(), [], "nothing held was sent before the answer");
  store.gate.resolve();
  alice.close();
  await bob.close();
  await server.close();
});

Deno.test("an idle ICS client is sent nothing but the start of a chat; a chatting one gets the operator's notices", async () => {
  const { server, ics } = await icsServer();
  const alice = await IcsConnection.login(ics, "alice");
  const dora = await IcsConnection.login(ics, "dora");
  assert.equal((await server.console("BROADCAST maintenance at noon")).output.length, 1);
  assert.equal(await alice.frameWithin(200), null);
  assert.match((await alice.request({ action: "time" })).json.results, ICS_TIME);

  await alice.request({ action: "connect", target: "dora" });
  await dora.next();
  server.console("BROADCAST maintenance at one");
  for (const c of [alice, dora]) {
    assert.equal(
      (await c.next()).text,
      '{"action": "exchange", "from": "*** ", "message": "maintenance at one"}',
    );
  }
  alice.close();
  dora.close();
  await server.close();
});

Deno.test("a refused ICS exchange is told to a chatting client as a line of its chat", async () => {
  const { server, ics } = await icsServer({
    floodLimits: { ...DEFAULT_FLOOD_LIMITS, messages: { perSecond: NEVER, burst: 3 } },
  });
  const alice = await IcsConnection.login(ics, "alice");
  const dora = await IcsConnection.login(ics, "dora");
  await alice.request({ action: "connect", target: "dora" }); // one token
  await dora.next();
  for (const line of ["one", "two", "three"]) {
    await alice.send({ action: "exchange", from: "[alice]", message: line });
  }
  assert.equal(
    (await alice.next()).text,
    '{"action": "exchange", "from": "*** ", "message": "not sent: too many messages; slow down"}',
  );
  assert.equal((await dora.next()).json.message, "one");
  assert.equal((await dora.next()).json.message, "two");
  assert.equal(await dora.frameWithin(200), null);
  alice.close();
  dora.close();
  await server.close();
});

/** A ChatClient of a test account with push on, and its events. */
async function pushClient(port: number, user: string) {
  const client = await ChatClient.connect(tcp({ port }));
  await client.login(user, ACCOUNTS.get(user)!, { push: true });
  const events = client.events();
  const next = async <T extends ChatEvent["type"]>(type: T) => {
    const event = await withTimeout(events.next(), 5_000, `a ${type} event of ${user}`);
    assert.ok(!event.done && event.value.type === type, JSON.stringify(event.value));
    return event.value as Extract<ChatEvent, { type: T }>;
  };
  return { client, next };
}

Deno.test("an ICS user and Claptrap users share a peer chat, each seeing the others' lines in order in its own format", async () => {
  const { server, ics } = await icsServer();
  const port = server.addr.port;
  const alice = await IcsConnection.login(ics, "alice");
  const bob = await pushClient(port, "bob");
  const carol = await pushClient(port, "carol");

  const connected = await bob.client.peerConnect("alice");
  assert.equal(connected.invited, false);
  assert.equal(
    (await alice.next()).text,
    '{"action": "connect", "status": "request", "from": "bob"}',
  );
  for (let i = 1; i <= 3; i++) {
    await alice.send({ action: "exchange", from: "[alice]", message: `ping ${i}` });
    await bob.client.send(`pong ${i}`);
  }
  for (let i = 1; i <= 3; i++) {
    const line = await bob.next("message");
    assert.deepEqual([line.from, line.content, line.kind], ["alice", `ping ${i}`, "group"]);
    assert.equal(
      (await alice.next()).text,
      `{"action": "exchange", "from": "[bob]", "message": "pong ${i}"}`,
    );
  }

  // carol asks to join; the ICS client cannot answer, bob lets her in
  const asked = await carol.client.peerConnect("alice");
  assert.equal(asked.invited, true);
  assert.equal((await bob.next("peerInvite")).from, "carol");
  await bob.client.peerAccept("carol");
  assert.equal(
    (await alice.next()).text,
    '{"action": "connect", "status": "request", "from": "carol"}',
  );
  assert.equal((await bob.next("join")).user, "carol");
  await carol.next("peerAnswer");
  await carol.client.send("hi all");
  assert.equal((await alice.next()).json.message, "hi all");
  assert.equal((await bob.next("message")).content, "hi all");
  await alice.send({ action: "exchange", from: "[alice]", message: "welcome carol" });
  assert.equal((await carol.next("message")).content, "welcome carol");
  assert.equal((await bob.next("message")).content, "welcome carol");

  await bob.client.peerBye();
  await carol.client.peerBye();
  assert.equal((await alice.next()).text, '{"action": "disconnect"}');
  assert.equal(await alice.frameWithin(200), null, "leaving is not told, only the end");
  alice.close();
  await Promise.all([bob.client.close(), carol.client.close()]);
  await server.close();
});

Deno.test("an ICS user asking to join a busy peer chat hears busy, and is brought in when a member accepts", async () => {
  const { server, ics } = await icsServer();
  const port = server.addr.port;
  const bob = await pushClient(port, "bob");
  const carol = await pushClient(port, "carol");
  await bob.client.peerConnect("carol");
  await carol.next("join");
  const alice = await IcsConnection.login(ics, "alice");
  assert.equal((await alice.request({ action: "connect", target: "carol" })).json.status, "busy");
  assert.equal((await carol.next("peerInvite")).from, "alice");
  await carol.client.peerAccept("alice");
  assert.equal(
    (await alice.next()).text,
    '{"action": "connect", "status": "request", "from": "carol"}',
  );
  await bob.client.send("hello alice");
  assert.equal((await alice.next()).json.from, "[bob]");
  alice.close();
  await Promise.all([bob.client.close(), carol.client.close()]);
  await server.close();
});

Deno.test("the operator's KICK of a chatting ICS user tells it why in its chat, and ends the chat for the other", async () => {
  const { server, ics } = await icsServer();
  const alice = await IcsConnection.login(ics, "alice");
  const dora = await IcsConnection.login(ics, "dora");
  await alice.request({ action: "connect", target: "dora" });
  await dora.next();
  server.console("KICK alice flooding");
  const [farewell] = await alice.untilClosed();
  assert.equal(farewell.json.from, "*** ");
  assert.match(farewell.json.message, /^connection closed: .*flooding/);
  assert.equal((await dora.next()).text, '{"action": "disconnect"}');
  alice.close();
  dora.close();
  await server.close();
});

Deno.test("an ICS port in use stops the start with a clear error naming the listener", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  await assert.rejects(
    () => startTestServer({ icsPort: port }),
    (error: Error) =>
      error instanceof ListenError &&
      error.message.startsWith(`cannot listen for ics on 127.0.0.1:${port}: `),
  );
  taken.close();
});
