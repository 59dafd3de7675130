import assert from "node:assert/strict";
import { parseRows } from "../protocol/content.ts";
import { online, RawConnection, startTestServer } from "./helpers.ts";
import { SECOND_POEM, testPoems } from "./poem_corpus.ts";

// --- CS168 (seed 001): channels and their error cases ---

Deno.test("joining a missing channel says so and hints at creating it", async () => {
  const server = await startTestServer();
  const ann = await online(server.addr.port, "ann");
  const missing = await ann.request("JOIN_ROOM", { "Room-Name": "nowhere" });
  assert.deepEqual([missing.params.Status, missing.params.Reason], [
    "NO_SUCH_ROOM",
    "no such room; CREATE_ROOM makes one",
  ]);
  const unnamed = await ann.request("JOIN_ROOM", {});
  assert.deepEqual([unnamed.params.Status, unnamed.params.Reason], [
    "BAD_REQUEST",
    "missing parameter Room-Name",
  ]);
  await ann.close();
  await server.close();
});

// --- Multi-client chatroom (seed 002): unique names, operator, liveness ---

Deno.test("with --duplicate-login replace, a second login closes the first with a reason", async () => {
  const server = await startTestServer({ duplicateLogin: "replace" });
  const first = await online(server.addr.port, "ann", { room: "lobby" });
  const bob = await online(server.addr.port, "bob", { room: "lobby" });
  const second = await online(server.addr.port, "ann");
  const closing = (await first.untilClosed()).find((frame) => frame.method === "EVT_CLOSE");
  assert.equal(closing?.params.Reason, "logged in from elsewhere");
  const left = await bob.nextOf("EVT_LEAVE");
  assert.deepEqual([left.params.User, left.params.Reason], ["ann", "logged in from elsewhere"]);
  assert.equal((await second.request("JOIN_ROOM", { "Room-Name": "lobby" })).params.Status, "OK");
  await Promise.all([first, second, bob].map((c) => c.close()));
  await server.close();
});

Deno.test("the operator lists users, kicks one with a reason, and broadcasts", async () => {
  const server = await startTestServer();
  const ann = await online(server.addr.port, "ann", { room: "lobby" });
  const bob = await online(server.addr.port, "bob", { room: "lobby" });
  await ann.nextOf("EVT_JOIN");
  const list = (await server.console("list_users")).output;
  assert.equal(list[0], "2 online:");
  assert.match(list[1], /^ {2}ann {2}room lobby {2}127\.0\.0\.1:\d+$/);
  assert.deepEqual((await server.console("BROADCAST maintenance at noon")).output, [
    "sent to 2 connection(s)",
  ]);
  const notice = await bob.nextOf("EVT_NOTICE");
  assert.equal(notice.content, "maintenance at noon");
  assert.deepEqual((await server.console("KICK bob being rude")).output, ["kicked bob"]);
  const closing = (await bob.untilClosed()).find((frame) => frame.method === "EVT_CLOSE");
  assert.equal(closing?.params.Reason, "kicked by the operator: being rude");
  const left = await ann.nextOf("EVT_LEAVE");
  assert.equal(left.params.Reason, "kicked by the operator: being rude");
  assert.deepEqual((await server.console("KICK nobody")).output, ["nobody is not online"]);
  assert.match((await server.console("DANCE")).output[0], /unknown command "DANCE"; HELP lists/);
  assert.equal((await server.console("EXIT")).exit, true);
  await ann.close();
  await bob.close();
  await server.close();
});

Deno.test("PING is answered with PONG, before and after login", async () => {
  const server = await startTestServer();
  const c = await RawConnection.open(server);
  const pong = await c.request("PING", { Token: "abc" });
  assert.deepEqual([pong.method, pong.params.Status, pong.params.Token], ["PONG", "OK", "abc"]);
  await c.login("ann");
  assert.match((await c.request("PING")).params.Time, /^\d{4}-/);
  await c.close();
  await server.close();
});

Deno.test("a silent push connection is pinged; one that stays silent is closed and its room told", async () => {
  const server = await startTestServer({ pingIntervalMs: 100, idleTimeoutMs: 1_000 });
  const silent = await online(server.addr.port, "ann", { room: "lobby" });
  const lively = await online(server.addr.port, "bob", { room: "lobby" });
  const ping = await silent.nextOf("EVT_PING");
  assert.match(ping.params.Time, /^\d{4}-/);
  // bob answers every ping; ann answers none
  const answering = (async () => {
    while (true) {
      const frame = await lively.next(2_000).catch(() => null);
      if (!frame) return;
      if (frame.method === "EVT_PING") await lively.send("PING");
      if (frame.method === "EVT_LEAVE") return frame;
    }
  })();
  const [...rest] = await silent.untilClosed(3_000);
  assert.match(rest.at(-1)!.params.Reason, /^idle timeout: nothing received for \d+ s$/);
  const left = await answering;
  assert.equal(left?.params.User, "ann");
  assert.match(left!.params.Reason, /^idle timeout/);
  assert.equal((await lively.request("LIST_MEMBERS")).content, "bob\n", "bob is still connected");
  await silent.close();
  await lively.close();
  await server.close();
});

// --- ICS chat system (seed 003): time, who, peer chat, DMs, search, poems ---

Deno.test("TIME and WHO tell the time and who is where", async () => {
  const server = await startTestServer();
  const ann = await online(server.addr.port, "ann", { room: "lobby" });
  await online(server.addr.port, "bob").then((bob) => bob.close());
  const carol = await online(server.addr.port, "carol");
  const time = await ann.request("TIME");
  assert.ok(Math.abs(Date.parse(time.params.Time) - Date.now()) < 60_000);
  const who = parseRows((await ann.request("WHO")).content!, 3);
  assert.deepEqual(who.sort(), [["ann", "room", "lobby"], ["carol", "idle", ""]]);
  await ann.close();
  await carol.close();
  await server.close();
});

Deno.test("peer chat: connect, others ask to join the group, bye, and the last one is told", async () => {
  const server = await startTestServer();
  const port = server.addr.port;
  const ann = await online(port, "ann");
  const bob = await online(port, "bob");
  const carol = await online(port, "carol");

  const self = await ann.request("PEER_CONNECT", { Peer: "ann" });
  assert.equal(self.params.Status, "PEER_IS_SELF");
  const offline = await ann.request("PEER_CONNECT", { Peer: "江主席" });
  assert.deepEqual([offline.params.Status, offline.params.Reason], [
    "PEER_OFFLINE",
    "江主席 is not online",
  ]);
  const unknown = await ann.request("PEER_CONNECT", { Peer: "nobody" });
  assert.equal(unknown.params.Status, "PEER_OFFLINE");

  const connected = await ann.request("PEER_CONNECT", { Peer: "bob" });
  assert.equal(connected.params.Status, "OK");
  const group = connected.params.Room;
  const told = await bob.nextOf("EVT_JOIN");
  assert.deepEqual([told.params.Room, told.params.Kind, told.params.User], [group, "group", "ann"]);
  assert.deepEqual(parseRows((await bob.request("WHO")).content!, 3).sort(), [
    ["ann", "group", group],
    ["bob", "group", group],
    ["carol", "idle", ""],
  ]);

  const asked = await carol.request("PEER_CONNECT", { Peer: "bob" });
  assert.deepEqual(
    [asked.params.Status, asked.params.Room],
    ["INVITED", group],
    "connecting to someone chatting asks to join their group",
  );
  assert.equal((await ann.nextOf("EVT_PEER_INVITE")).params.From, "carol");
  assert.equal((await bob.nextOf("EVT_PEER_INVITE")).params.From, "carol");
  assert.equal((await ann.request("PEER_ACCEPT", { Peer: "carol" })).params.Status, "OK");
  assert.equal((await carol.nextOf("EVT_PEER_ANSWER")).params.Answer, "accepted");
  assert.equal((await bob.nextOf("EVT_JOIN")).params.User, "carol");
  await carol.request("SEND_MSG", {}, "Hi Joyce and Wen");
  for (const member of [ann, bob]) {
    const message = await member.nextOf("EVT_MSG");
    assert.deepEqual([message.params.Kind, message.params.From, message.content], [
      "group",
      "carol",
      "Hi Joyce and Wen",
    ]);
  }

  assert.equal((await carol.request("PEER_BYE")).params.Status, "OK");
  assert.equal((await ann.nextOf("EVT_LEAVE")).params.User, "carol");
  assert.equal((await bob.nextOf("EVT_LEAVE")).params.User, "carol");
  assert.equal((await ann.request("PEER_BYE")).params.Status, "OK");
  const ended = await bob.nextOf("EVT_GROUP_END");
  assert.equal(ended.params.Room, group);
  assert.equal((await bob.request("PEER_BYE")).params.Status, "NOT_IN_GROUP", "the group is gone");
  assert.equal((await bob.request("LIST_MEMBERS")).params.Status, "NOT_IN_ROOM");

  const found = parseRows((await bob.request("SEARCH", { Query: "Joyce" })).content!, 5);
  assert.deepEqual(
    found.map((row) => [row[1], row[2]]),
    [[group, "carol"]],
    "peer chats are searchable",
  );
  const outsider = await online(port, "江主席");
  assert.equal(
    parseRows((await outsider.request("SEARCH", { Query: "Joyce" })).content!, 5).length,
    0,
  );
  await Promise.all([ann, bob, carol, outsider].map((c) => c.close()));
  await server.close();
});

Deno.test("direct messages reach an online user and are searchable by both", async () => {
  const server = await startTestServer();
  const ann = await online(server.addr.port, "ann");
  const bob = await online(server.addr.port, "bob");
  const sent = await ann.request("DM", { To: "bob" }, "psst, 你好");
  assert.equal(sent.params.Status, "OK");
  const received = await bob.nextOf("EVT_DM");
  assert.deepEqual(
    [received.params.From, received.params.To, received.params.Id, received.content],
    ["ann", "bob", sent.params.Id, "psst, 你好"],
  );
  assert.equal((await ann.request("DM", { To: "ann" }, "me")).params.Status, "PEER_IS_SELF");
  assert.equal((await ann.request("DM", { To: "carol" }, "hi")).params.Status, "PEER_OFFLINE");
  assert.equal((await ann.request("DM", { To: "bob" }, "")).params.Status, "BAD_REQUEST");
  for (const c of [ann, bob]) {
    const hits = parseRows((await c.request("SEARCH", { Query: "psst" })).content!, 5);
    assert.deepEqual(hits.map((row) => row[1]), ["ann ↔ bob"]);
  }
  await ann.close();
  await bob.close();
  await server.close();
});

Deno.test("POEM returns a sonnet by number, with clear statuses otherwise", async () => {
  const poems = testPoems();
  const server = await startTestServer({ poems });
  const ann = await online(server.addr.port, "ann");
  const two = await ann.request("POEM", { Number: "2" });
  assert.deepEqual([two.params.Status, two.params.Title], ["OK", "II."]);
  assert.equal(two.content, SECOND_POEM);
  for (const number of ["0", "155", "two"]) {
    const reply = await ann.request("POEM", { Number: number });
    assert.deepEqual([reply.params.Status, reply.params.Reason], [
      "NO_SUCH_POEM",
      "poems are numbered 1 to 154",
    ]);
  }
  await ann.close();
  await server.close();
  const bare = await startTestServer();
  const bob = await online(bare.addr.port, "bob");
  const none = await bob.request("POEM", { Number: "1" });
  assert.deepEqual([none.params.Status, none.params.Reason], [
    "NO_POEMS",
    "this server has no poem corpus (--poems)",
  ]);
  await bob.close();
  await bare.close();
});

// --- CS 544 (seed 004): versions, roles, kick and ban ---

Deno.test("HELLO states versions and capabilities; another major version is refused", async () => {
  const server = await startTestServer();
  const c = await RawConnection.open(server);
  const hello = await c.request("HELLO", { Version: "2.3", Capabilities: "push" });
  assert.deepEqual([hello.params.Status, hello.params.Version, hello.params.Server], [
    "OK",
    "2.1",
    "Claptrap",
  ], "a later minor is spoken as 2.1");
  assert.ok(hello.params.Capabilities.split(",").includes("search"));
  assert.equal(
    (await c.request("HELLO", { Version: "1.0" })).params.Status,
    "OK",
    "the original protocol",
  );
  const future = await c.request("HELLO", { Version: "3.0" });
  assert.deepEqual([future.params.Status, future.params.Version], ["VERSION_MISMATCH", "2.1"]);
  assert.match(future.params.Reason, /speaks Claptrap 2.1/);
  assert.equal((await c.request("HELLO", { Version: "two" })).params.Status, "BAD_REQUEST");
  await c.login("ann");
  assert.equal((await c.request("JOIN_ROOM", { "Room-Name": "lobby" })).params.Status, "OK");
  await c.close();
  await server.close();
});

Deno.test("a room's owner kicks and bans; the banned cannot rejoin until unbanned", async () => {
  const server = await startTestServer();
  const port = server.addr.port;
  const owner = await online(port, "ann");
  assert.equal(
    (await owner.request("CREATE_ROOM", { "Room-Name": "ann's den" })).params.Status,
    "OK",
  );
  await owner.request("JOIN_ROOM", { "Room-Name": "ann's den" });
  const bob = await online(port, "bob", { room: "ann's den" });
  const carol = await online(port, "carol", { room: "ann's den" });

  const notOwner = await carol.request("KICK", { User: "bob", Reason: "I said so" });
  assert.deepEqual([notOwner.params.Status, notOwner.params.Reason], [
    "NOT_ALLOWED",
    "only the room's owner and admins may",
  ]);
  const kick = await owner.request("KICK", { User: "bob", Reason: "off topic" });
  assert.equal(kick.params.Status, "OK");
  const kicked = await bob.nextOf("EVT_KICKED");
  assert.deepEqual(
    [kicked.params.Room, kicked.params.By, kicked.params.Reason, kicked.params.Banned],
    ["ann's den", "ann", "off topic", "no"],
  );
  const told = await carol.nextOf("EVT_LEAVE");
  assert.deepEqual([told.params.User, told.params.Reason], ["bob", "kicked by ann: off topic"]);
  assert.equal((await bob.request("SEND_MSG", {}, "hello?")).params.Status, "NOT_IN_ROOM");
  assert.equal(
    (await bob.request("JOIN_ROOM", { "Room-Name": "ann's den" })).params.Status,
    "OK",
    "a kick is not a ban",
  );

  assert.equal((await owner.request("BAN", { User: "bob", Reason: "again" })).params.Status, "OK");
  assert.equal((await bob.nextOf("EVT_KICKED")).params.Banned, "yes");
  const refused = await bob.request("JOIN_ROOM", { "Room-Name": "ann's den" });
  assert.deepEqual([refused.params.Status, refused.params.Reason], ["BANNED", "again"]);
  assert.equal((await owner.request("KICK", { User: "bob" })).params.Status, "NO_SUCH_USER");
  assert.equal((await owner.request("UNBAN", { User: "carol" })).params.Status, "NO_SUCH_USER");
  assert.equal((await owner.request("UNBAN", { User: "bob" })).params.Status, "OK");
  assert.equal((await bob.request("JOIN_ROOM", { "Room-Name": "ann's den" })).params.Status, "OK");
  await Promise.all([owner, bob, carol].map((c) => c.close()));
  await server.close();
});

Deno.test("KICK and BAN of oneself are refused, and BAN of a name with no account is NO_SUCH_USER", async () => {
  const server = await startTestServer({ admins: ["江主席"] });
  const port = server.addr.port;
  const owner = await online(port, "ann");
  await owner.request("CREATE_ROOM", { "Room-Name": "ann's den" });
  await owner.request("JOIN_ROOM", { "Room-Name": "ann's den" });
  const admin = await online(port, "江主席", { room: "ann's den" });
  for (const [who, name] of [[owner, "ann"], [admin, "江主席"]] as const) {
    for (const action of ["KICK", "BAN"]) {
      const self = await who.request(action, { User: name });
      assert.deepEqual([self.params.Status, self.params.Reason], [
        "NOT_ALLOWED",
        `you cannot ${action.toLowerCase()} yourself`,
      ]);
    }
  }
  const nobody = await owner.request("BAN", { User: "nobody", Reason: "pre-emptive" });
  assert.deepEqual([nobody.params.Status, nobody.params.Reason], [
    "NO_SUCH_USER",
    "no user has that name",
  ]);
  assert.equal((await owner.request("UNBAN", { User: "nobody" })).params.Status, "NO_SUCH_USER");
  // an account that is offline can be banned ahead of time
  assert.equal((await owner.request("BAN", { User: "carol" })).params.Status, "OK");
  const carol = await online(port, "carol");
  const refused = await carol.request("JOIN_ROOM", { "Room-Name": "ann's den" });
  assert.equal(refused.params.Status, "BANNED");
  const stillIn = await owner.request("LIST_MEMBERS");
  assert.deepEqual(stillIn.content?.split("\n").filter(Boolean).sort(), ["ann", "江主席"]);
  await Promise.all([owner, admin, carol].map((c) => c.close()));
  await server.close();
});

Deno.test("admins moderate every room, by name from anywhere; bans survive a restart", async () => {
  const dir = await Deno.makeTempDir();
  const db = `${dir}/claptrap.db`;
  const first = await startTestServer({ db, admins: ["江主席"] });
  const admin = await online(first.addr.port, "江主席");
  const bob = await online(first.addr.port, "bob", { room: "lobby" });
  const ban = await admin.request("BAN", { User: "bob", "Room-Name": "lobby", Reason: "spam" });
  assert.equal(ban.params.Status, "OK");
  assert.equal((await bob.nextOf("EVT_KICKED")).params.By, "江主席");
  const noRoom = await admin.request("KICK", { User: "bob", "Room-Name": "nowhere" });
  assert.equal(noRoom.params.Status, "NO_SUCH_ROOM");
  const presetOwner = await online(first.addr.port, "carol", { room: "lobby" });
  assert.equal(
    (await presetOwner.request("KICK", { User: "江主席" })).params.Status,
    "NOT_ALLOWED",
  );
  await Promise.all([admin, bob, presetOwner].map((c) => c.close()));
  await first.close();

  const second = await startTestServer({ db });
  const again = await online(second.addr.port, "bob");
  const refused = await again.request("JOIN_ROOM", { "Room-Name": "lobby" });
  assert.deepEqual([refused.params.Status, refused.params.Reason], ["BANNED", "spam"]);
  await again.close();
  await second.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("admins can be named in globals.txt", async () => {
  const server = await startTestServer({
    globals: {
      accounts: new Map([["root", "root-pw"], ["ann", "ann-pw"]]),
      rooms: ["lobby"],
      admins: new Set(["root"]),
    },
  });
  const root = await RawConnection.open(server);
  assert.equal(
    (await root.request("LOGIN", { Username: "root", Password: "root-pw" })).params.Status,
    "OK",
  );
  const ann = await online(server.addr.port, "ann", { room: "lobby" });
  assert.equal(
    (await root.request("KICK", { User: "ann", "Room-Name": "lobby" })).params.Status,
    "OK",
  );
  await root.close();
  await ann.close();
  await server.close();
});

Deno.test("LEAVE leaves like EXIT_ROOM; nobody can send as someone else", async () => {
  const server = await startTestServer();
  const ann = await online(server.addr.port, "ann", { room: "lobby" });
  const bob = await online(server.addr.port, "bob", { room: "lobby" });
  await ann.nextOf("EVT_JOIN");
  await bob.send("SEND_MSG", { From: "ann", Sender: "ann" }, "who am I?");
  const message = await ann.nextOf("EVT_MSG");
  assert.equal(message.params.From, "bob", "a From parameter from the client is ignored");
  assert.equal((await bob.nextOf("RESP_SEND_MSG")).params.Status, "OK");
  assert.deepEqual([(await bob.request("LEAVE")).method], ["RESP_LEAVE"]);
  assert.equal((await ann.nextOf("EVT_LEAVE")).params.User, "bob");
  assert.equal((await bob.request("LEAVE")).params.Status, "NOT_IN_ROOM");
  await ann.close();
  await bob.close();
  await server.close();
});
