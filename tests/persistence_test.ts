import assert from "node:assert/strict";
import { parseRows } from "../protocol/content.ts";
import { SqliteStore } from "../store/sqlite_store.ts";
import { RawConnection, startTestServer } from "./helpers.ts";

async function tempDb(): Promise<{ path: string; [Symbol.asyncDispose](): Promise<void> }> {
  const dir = await Deno.makeTempDir();
  return {
    path: `${dir}/claptrap.db`,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

async function loggedIn(port: number, user: string, password: string, room?: string) {
  const c = await RawConnection.open(port);
  const login = await c.request("LOGIN", { Username: user, Password: password });
  assert.equal(login.params.Status, "OK", `login ${user}`);
  if (room) assert.equal((await c.request("JOIN_ROOM", { "Room-Name": room })).params.Status, "OK");
  return c;
}

Deno.test("REGISTER creates accounts and says clearly why it will not", async () => {
  const server = await startTestServer();
  const c = await RawConnection.open(server);
  const register = async (Username: string, Password: string) => {
    const reply = await c.request("REGISTER", { Username, Password });
    assert.equal(reply.method, "RESP_REGISTER");
    return [reply.params.Status, reply.params.Reason];
  };
  assert.deepEqual(await register("dora", "correct horse battery"), ["OK", undefined]);
  assert.deepEqual(await register("dora", "another good one"), ["NAME_TAKEN", undefined]);
  assert.deepEqual(await register("DORA", "another good one"), ["NAME_TAKEN", undefined]);
  assert.deepEqual(await register("ｄｏｒａ", "another good one"), ["NAME_TAKEN", undefined]);
  assert.deepEqual(await register("ann", "another good one"), ["NAME_TAKEN", undefined]);
  assert.deepEqual(await register("bad\u0007name", "another good one"), [
    "INVALID_NAME",
    "name contains a control character",
  ]);
  assert.deepEqual(await register("x".repeat(65), "another good one"), [
    "INVALID_NAME",
    "name is longer than 64 characters",
  ]);
  assert.deepEqual(await register("eve", "short"), [
    "WEAK_PASSWORD",
    "password is shorter than 8 characters",
  ]);
  assert.deepEqual(await register("eve", "eve-is-me!"), [
    "WEAK_PASSWORD",
    "password contains the user name",
  ]);
  assert.deepEqual(await register("eve", "aaaaaaaaaaaa"), [
    "WEAK_PASSWORD",
    "password has fewer than 3 different characters",
  ]);
  const missing = await c.request("REGISTER", { Username: "eve" });
  assert.deepEqual([missing.params.Status, missing.params.Reason], [
    "BAD_REQUEST",
    "missing parameter Password",
  ]);

  const wrong = await c.request("LOGIN", { Username: "dora", Password: "wrong password" });
  assert.equal(wrong.params.Status, "AUTH_FAILED");
  const right = await c.request("LOGIN", { Username: "dora", Password: "correct horse battery" });
  assert.equal(right.params.Status, "OK");
  await c.close();
  await server.close();
});

Deno.test("a pipelined REGISTER then LOGIN works: LOGIN waits for the account", async () => {
  const server = await startTestServer();
  const c = await RawConnection.open(server);
  await c.send("REGISTER", { Username: "fred", Password: "open sesame 42" });
  await c.send("LOGIN", { Username: "fred", Password: "open sesame 42" });
  await c.send("JOIN_ROOM", { "Room-Name": "lobby" });
  assert.deepEqual([
    (await c.next()).params.Status,
    (await c.next()).params.Status,
    (await c.next()).params.Status,
  ], [
    "OK",
    "OK",
    "OK",
  ]);
  await c.close();
  await server.close();
});

Deno.test("accounts, rooms and history survive a restart", async () => {
  await using db = await tempDb();
  const first = await startTestServer({ db: db.path });
  const setup = await RawConnection.open(first);
  assert.equal(
    (await setup.request("REGISTER", { Username: "gina", Password: "twelve apples" })).params
      .Status,
    "OK",
  );
  await setup.close();
  const gina = await loggedIn(first.addr.port, "gina", "twelve apples");
  assert.equal(
    (await gina.request("CREATE_ROOM", { "Room-Name": "gina's room" })).params.Status,
    "OK",
  );
  await gina.request("JOIN_ROOM", { "Room-Name": "gina's room" });
  for (const text of ["first", "second\twith a tab", "third 你好"]) {
    assert.equal((await gina.request("SEND_MSG", {}, text)).params.Status, "OK");
  }
  await gina.close();
  await first.close();

  const second = await startTestServer({ db: db.path });
  const back = await loggedIn(second.addr.port, "gina", "twelve apples", "gina's room");
  const rooms = await back.request("LIST_ROOMS");
  assert.match(rooms.content!, /gina's room\n$/);
  const history = await back.request("HISTORY");
  assert.deepEqual(parseRows(history.content!, 4).map((row) => [row[1], row[3]]), [
    ["gina", "first"],
    ["gina", "second\twith a tab"],
    ["gina", "third 你好"],
  ]);
  assert.equal(
    (await back.request("SEND_MSG", {}, "after restart")).params.Id,
    "4",
    "ids continue",
  );
  await back.close();
  await second.close();
});

Deno.test("HISTORY pages backwards through a room", async () => {
  const server = await startTestServer();
  const ann = await loggedIn(server.addr.port, "ann", "ann-pw", "lobby");
  for (let i = 1; i <= 25; i++) await ann.request("SEND_MSG", {}, `m${i}`);
  const pages: string[][] = [];
  let before: string | undefined;
  while (true) {
    const reply = await ann.request("HISTORY", {
      Limit: "10",
      ...(before ? { Before: before } : {}),
    });
    assert.deepEqual([reply.method, reply.params.Status, reply.params.Room], [
      "RESP_HISTORY",
      "OK",
      "lobby",
    ]);
    const rows = parseRows(reply.content!, 4);
    pages.push(rows.map((row) => row[3]));
    if (reply.params.More === "no") break;
    before = rows[0][0];
  }
  assert.deepEqual(pages, [
    ["m16", "m17", "m18", "m19", "m20", "m21", "m22", "m23", "m24", "m25"],
    ["m6", "m7", "m8", "m9", "m10", "m11", "m12", "m13", "m14", "m15"],
    ["m1", "m2", "m3", "m4", "m5"],
  ]);
  const bad: Record<string, string>[] = [{ Limit: "0" }, { Limit: "501" }, { Limit: "ten" }, {
    Before: "-1",
  }];
  for (const params of bad) {
    const reply = await ann.request("HISTORY", params);
    assert.equal(reply.params.Status, "BAD_REQUEST", JSON.stringify(params));
    assert.match(reply.params.Reason, /must be a whole number/);
  }
  await ann.request("EXIT_ROOM");
  assert.equal((await ann.request("HISTORY")).params.Status, "NOT_IN_ROOM");
  await ann.close();
  await server.close();
});

Deno.test("SEARCH finds messages in rooms the user has been in, and only those", async () => {
  const server = await startTestServer();
  const carol = await loggedIn(server.addr.port, "carol", "carol-pw", "random");
  await carol.request("SEND_MSG", {}, "the launch code is 0000");
  const boss = await loggedIn(server.addr.port, "江主席", "excited", "香港记者招待会");
  await boss.request("SEND_MSG", {}, "你们记者要学会问问题");
  const ann = await loggedIn(server.addr.port, "ann", "ann-pw", "lobby");
  await ann.request("SEND_MSG", {}, "what is the launch code?");

  const search = async (query: string) => {
    const reply = await ann.request("SEARCH", { Query: query });
    assert.deepEqual([reply.method, reply.params.Status], ["RESP_SEARCH", "OK"]);
    return parseRows(reply.content!, 5).map(([, room, from, , snippet]) => [room, from, snippet]);
  };
  assert.deepEqual(await search("launch code"), [["lobby", "ann", "what is the [launch] [code]?"]]);
  assert.deepEqual(await search("记者"), []);
  await ann.request("JOIN_ROOM", { "Room-Name": "random" });
  await ann.request("JOIN_ROOM", { "Room-Name": "香港记者招待会" });
  assert.equal((await search("launch code")).length, 2, "a room's history opens up to its members");
  assert.deepEqual(await search("记者"), [["香港记者招待会", "江主席", "你们[记者]要学会问问题"]]);

  const empty = await ann.request("SEARCH", { Query: "  " });
  assert.deepEqual([empty.params.Status, empty.params.Reason], ["BAD_REQUEST", "empty query"]);
  const anonymous = await RawConnection.open(server);
  assert.equal((await anonymous.request("SEARCH", { Query: "code" })).params.Status, "NOT_LOGIN");
  await Promise.all([carol, boss, ann, anonymous].map((c) => c.close()));
  await server.close();
});

Deno.test("globals.txt rules at each start: a changed password replaces, a removed user is disabled", async () => {
  await using db = await tempDb();
  const start = (accounts: [string, string][]) =>
    startTestServer({ db: db.path, globals: { accounts: new Map(accounts), rooms: ["lobby"] } });
  const first = await start([["hank", "old-password"], ["ivy", "ivy-password"]]);
  (await loggedIn(first.addr.port, "ivy", "ivy-password")).close();
  await first.close();

  const second = await start([["hank", "new-password"]]);
  const c = await RawConnection.open(second);
  const login = (Username: string, Password: string) =>
    c.request("LOGIN", { Username, Password }).then((r) => r.params.Status);
  assert.equal(await login("hank", "old-password"), "AUTH_FAILED");
  assert.equal(await login("ivy", "ivy-password"), "AUTH_FAILED", "removed from globals.txt");
  const reuse = await c.request("REGISTER", { Username: "ivy", Password: "taking it over" });
  assert.equal(reuse.params.Status, "NAME_TAKEN", "a disabled name stays reserved");
  assert.equal(await login("hank", "new-password"), "OK");
  await c.close();
  await second.close();
});

Deno.test("a restart with globals.txt unchanged checks no password again, and logins still work", async () => {
  await using db = await tempDb();
  const accounts = new Map([["hank", "hank-password"], ["ivy", "ivy-password"]]);
  const start = async () => {
    const lines: string[] = [];
    const server = await startTestServer({
      db: db.path,
      globals: { accounts, rooms: ["lobby"] },
      log: (line) => lines.push(line),
    });
    return { server, globalsLine: lines.find((line) => line.startsWith("globals ")) };
  };
  const first = await start();
  assert.equal(first.globalsLine, "globals accounts=2 checked=0 hashed=2");
  await first.server.close();

  const second = await start();
  assert.equal(second.globalsLine, "globals accounts=2 checked=0 hashed=0");
  (await loggedIn(second.server.addr.port, "hank", "hank-password", "lobby")).close();
  const c = await RawConnection.open(second.server);
  const wrong = await c.request("LOGIN", { Username: "ivy", Password: "hank-password" });
  assert.equal(wrong.params.Status, "AUTH_FAILED");
  await c.close();
  await second.server.close();
});

Deno.test("a port in use is reported before globals.txt is imported, which can take long", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const store = await SqliteStore.open(":memory:");
  const asked: string[] = [];
  const getAccount = store.getAccount.bind(store);
  store.getAccount = (name) => {
    asked.push(name);
    return getAccount(name);
  };
  const close = store.close.bind(store);
  let closed = false;
  store.close = () => {
    closed = true;
    return close();
  };
  await assert.rejects(
    startTestServer({ store, port: (taken.addr as Deno.NetAddr).port }),
    Deno.errors.AddrInUse,
  );
  assert.deepEqual(asked, [], "no account was looked up, let alone checked");
  assert.ok(closed, "the store is closed again");
});

Deno.test("when the store fails, SEND_MSG is answered SERVER_ERROR and nobody sees the message", async () => {
  const store = await SqliteStore.open(":memory:");
  let failing = false;
  const append = store.appendMessage.bind(store);
  store.appendMessage = (message) =>
    failing ? Promise.reject(new Error("disk full")) : append(message);
  const server = await startTestServer({ store });
  const ann = await loggedIn(server.addr.port, "ann", "ann-pw", "lobby");
  const bob = await RawConnection.open(server);
  await bob.login("bob", { push: true });
  await bob.request("JOIN_ROOM", { "Room-Name": "lobby" });
  failing = true;
  const reply = await ann.request("SEND_MSG", {}, "lost?");
  assert.deepEqual([reply.params.Status, reply.params.Reason], [
    "SERVER_ERROR",
    "the server could not store this",
  ]);
  assert.equal((await ann.request("RECV_MSG")).params.Status, "NO_NEW_MSG");
  failing = false;
  assert.equal((await ann.request("SEND_MSG", {}, "stored")).params.Status, "OK");
  assert.equal((await bob.nextOf("EVT_MSG")).content, "stored", "bob never saw the failed message");
  await ann.close();
  await bob.close();
  await server.close();
});

Deno.test("a message stored after someone joined still never reaches them: it was posted before", async () => {
  const store = await SqliteStore.open(":memory:");
  let hold: Promise<void> | null = null;
  const append = store.appendMessage.bind(store);
  store.appendMessage = async (message) => {
    if (hold) await hold;
    return append(message);
  };
  const server = await startTestServer({ store });
  const ann = await loggedIn(server.addr.port, "ann", "ann-pw", "lobby");
  let release!: () => void;
  hold = new Promise((resolve) => release = resolve);
  await ann.send("SEND_MSG", {}, "posted before they joined");
  await new Promise((resolve) => setTimeout(resolve, 50));
  const bob = await RawConnection.open(server);
  await bob.login("bob", { push: true });
  await bob.request("JOIN_ROOM", { "Room-Name": "lobby" });
  const carol = await loggedIn(server.addr.port, "carol", "carol-pw", "lobby");
  release();
  hold = null;
  assert.equal((await ann.next()).params.Status, "OK");
  await ann.request("SEND_MSG", {}, "posted after they joined");
  assert.equal((await bob.nextOf("EVT_MSG")).content, "posted after they joined");
  const polled = await carol.request("RECV_MSG");
  assert.deepEqual(parseRows(polled.content!, 3).map((row) => row[2]), [
    "posted after they joined",
  ]);
  await Promise.all([ann, bob, carol].map((c) => c.close()));
  await server.close();
});
