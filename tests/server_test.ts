import assert from "node:assert/strict";
import { frame } from "../protocol/frame.ts";
import { encodeMessage } from "../protocol/message.ts";
import { parseMessageLines } from "../protocol/content.ts";
import { RawConnection, startTestServer } from "./helpers.ts";

const text = new TextEncoder();

async function inRoom(port: number, user: string, room: string, push = false) {
  const connection = await RawConnection.open(port);
  await connection.login(user, { push });
  assert.equal((await connection.request("JOIN_ROOM", { "Room-Name": room })).params.Status, "OK");
  return connection;
}

Deno.test("two polling clients exchange messages through RECV_MSG", async () => {
  const server = await startTestServer();
  const ann = await inRoom(server.addr.port, "ann", "lobby");
  const early = await ann.request("SEND_MSG", {}, "before bob joined");
  assert.equal(early.params.Status, "OK");
  const bob = await inRoom(server.addr.port, "bob", "lobby");

  assert.equal((await ann.request("SEND_MSG", {}, "hello\tbob\nline two")).params.Status, "OK");
  assert.equal((await bob.request("SEND_MSG", {}, "hi ann")).params.Status, "OK");

  const forBob = await bob.request("RECV_MSG");
  assert.equal(forBob.method, "NEW_MSG");
  assert.equal(forBob.params.Status, "OK");
  const lines = parseMessageLines(forBob.content!);
  assert.deepEqual(lines.map((m) => [m.from, m.content]), [
    ["ann", "hello\tbob\nline two"],
    ["bob", "hi ann"],
  ], "never a message from before the join; one's own messages included");
  assert.match(lines[0].time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

  const again = await bob.request("RECV_MSG");
  assert.deepEqual([again.method, again.params.Status], ["NO_NEW_MSG", "NO_NEW_MSG"]);

  const forAnn = parseMessageLines((await ann.request("RECV_MSG")).content!);
  assert.deepEqual(forAnn.map((m) => m.content), [
    "before bob joined",
    "hello\tbob\nline two",
    "hi ann",
  ]);
  await ann.close();
  await bob.close();
  await server.close();
});

Deno.test("push clients get messages, joins and leaves as events the moment they happen", async () => {
  const server = await startTestServer();
  const ann = await inRoom(server.addr.port, "ann", "lobby", true);
  const bob = await inRoom(server.addr.port, "bob", "lobby", true);

  const joined = await ann.next();
  assert.equal(joined.method, "EVT_JOIN");
  assert.equal(joined.params.Room, "lobby");
  assert.equal(joined.params.User, "bob");

  const sent = await bob.request("SEND_MSG", {}, "pushed 你好");
  assert.equal(sent.method, "RESP_SEND_MSG");
  assert.match(sent.params.Id, /^\d+$/);
  const message = await ann.next();
  assert.equal(message.method, "EVT_MSG");
  assert.deepEqual(
    [message.params.Room, message.params.From, message.params.Id, message.content],
    ["lobby", "bob", sent.params.Id, "pushed 你好"],
  );
  assert.equal(message.params.Time, sent.params.Time);
  assert.equal(await bob.frameWithin(200), null, "the sender gets no copy of its own message");

  assert.equal((await bob.request("EXIT_ROOM")).params.Status, "OK");
  const left = await ann.next();
  assert.deepEqual([left.method, left.params.User, left.params.Reason], [
    "EVT_LEAVE",
    "bob",
    undefined,
  ]);

  await bob.close();
  await ann.close();
  await server.close();
});

Deno.test("a client that did not opt in to push never receives a frame it did not ask for", async () => {
  const server = await startTestServer();
  const quiet = await inRoom(server.addr.port, "ann", "lobby");
  const bob = await inRoom(server.addr.port, "bob", "lobby", true);
  await bob.request("SEND_MSG", {}, "hello");
  await bob.request("EXIT_ROOM");
  assert.equal(await quiet.frameWithin(300), null);
  const polled = await quiet.request("RECV_MSG");
  assert.equal(parseMessageLines(polled.content!)[0].content, "hello");
  await quiet.close();
  await bob.close();
  await server.close();
});

Deno.test("a dropped connection is told to its room with a reason", async () => {
  const server = await startTestServer();
  const ann = await inRoom(server.addr.port, "ann", "lobby", true);
  const bob = await inRoom(server.addr.port, "bob", "lobby", true);
  await ann.nextOf("EVT_JOIN");
  await bob.close();
  const left = await ann.nextOf("EVT_LEAVE");
  assert.equal(left.params.User, "bob");
  assert.match(left.params.Reason, /closed by client/);
  await ann.close();
  await server.close();
});

Deno.test("every status of the original table is reachable", async () => {
  const server = await startTestServer();
  const c = await RawConnection.open(server);
  const seen: string[] = [];
  const expect = async (
    method: string,
    params: Record<string, string>,
    response: string,
    status: string,
    content?: string,
  ) => {
    const reply = await c.request(method, params, content);
    assert.deepEqual([reply.method, reply.params.Status], [response, status], `${method}`);
    seen.push(`${response} ${status}`);
  };
  for (
    const [method, response, content] of [
      ["LOGOUT", "RESP_LOGOUT"],
      ["LIST_ROOMS", "RESP_LIST_ROOMS"],
      ["LIST_MEMBERS", "RESP_LIST_MEMBERS"],
      ["EXIT_ROOM", "RESP_EXIT_ROOM"],
      ["SEND_MSG", "RESP_SEND_MSG", "x"],
      ["RECV_MSG", "NO_NEW_MSG"],
    ]
  ) await expect(method, {}, response, "NOT_LOGIN", content);
  await expect("JOIN_ROOM", { "Room-Name": "lobby" }, "RESP_JOIN_ROOM", "NOT_LOGIN");
  await expect("LOGIN", { Username: "ann", Password: "wrong" }, "RESP_LOGIN", "AUTH_FAILED");
  await expect("LOGIN", { Username: "nobody", Password: "x" }, "RESP_LOGIN", "AUTH_FAILED");
  await expect("LOGIN", { Username: "ann", Password: "ann-pw" }, "RESP_LOGIN", "OK");
  await expect("LIST_ROOMS", {}, "RESP_LIST_ROOMS", "OK");
  await expect("LIST_MEMBERS", {}, "RESP_LIST_MEMBERS", "NOT_IN_ROOM");
  await expect("EXIT_ROOM", {}, "RESP_EXIT_ROOM", "NOT_IN_ROOM");
  await expect("SEND_MSG", {}, "RESP_SEND_MSG", "NOT_IN_ROOM", "x");
  await expect("RECV_MSG", {}, "NO_NEW_MSG", "NOT_IN_ROOM");
  await expect("JOIN_ROOM", { "Room-Name": "nowhere" }, "RESP_JOIN_ROOM", "NO_SUCH_ROOM");
  await expect("JOIN_ROOM", { "Room-Name": "lobby" }, "RESP_JOIN_ROOM", "OK");
  await expect("LIST_MEMBERS", {}, "RESP_LIST_MEMBERS", "OK");
  await expect("RECV_MSG", {}, "NO_NEW_MSG", "NO_NEW_MSG");
  await expect("SEND_MSG", {}, "RESP_SEND_MSG", "OK", "x");
  await expect("RECV_MSG", {}, "NEW_MSG", "OK");
  await expect("EXIT_ROOM", {}, "RESP_EXIT_ROOM", "OK");
  await expect("LOGOUT", {}, "RESP_LOGOUT", "OK");
  assert.equal(new Set(seen).size, 22, "every response and status pair of the seed's table");
  await c.close();
  await server.close();
});

Deno.test("LIST_ROOMS lists every room with its member count", async () => {
  const server = await startTestServer();
  const ann = await inRoom(server.addr.port, "ann", "香港记者招待会");
  const bob = await inRoom(server.addr.port, "bob", "香港记者招待会");
  const rooms = await ann.request("LIST_ROOMS");
  assert.equal(rooms.content, "lobby\nrandom\n香港记者招待会\n");
  assert.equal(rooms.params["Member-Counts"], "0,0,2");
  assert.equal((await ann.request("LIST_MEMBERS")).content, "ann\nbob\n");
  await ann.close();
  await bob.close();
  await server.close();
});

Deno.test("Unicode user and room names work end to end", async () => {
  const server = await startTestServer();
  const boss = await inRoom(server.addr.port, "江主席", "香港记者招待会", true);
  const ann = await inRoom(server.addr.port, "ann", "香港记者招待会");
  assert.equal((await boss.next()).params.User, "ann");
  await ann.request("SEND_MSG", {}, "记者问题");
  const event = await boss.next();
  assert.deepEqual([event.params.Room, event.content], ["香港记者招待会", "记者问题"]);
  await boss.request("SEND_MSG", {}, "无可奉告");
  const polled = parseMessageLines((await ann.request("RECV_MSG")).content!);
  assert.deepEqual(polled.map((m) => [m.from, m.content]), [
    ["ann", "记者问题"],
    ["江主席", "无可奉告"],
  ]);
  await boss.close();
  await ann.close();
  await server.close();
});

Deno.test("a request fed to the server one byte at a time is answered", async () => {
  const server = await startTestServer();
  const c = await RawConnection.open(server);
  const bytes = encodeMessage({ method: "LOGIN", params: { Username: "ann", Password: "ann-pw" } });
  for (const byte of bytes) {
    await c.write(new Uint8Array([byte]));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  assert.equal((await c.next()).params.Status, "OK");
  await c.close();
  await server.close();
});

Deno.test("pipelined requests in one write are answered in order", async () => {
  const server = await startTestServer();
  const c = await RawConnection.open(server);
  const requests = [
    encodeMessage({ method: "LIST_ROOMS", params: {} }),
    encodeMessage({ method: "LOGIN", params: { Username: "ann", Password: "ann-pw" } }),
    encodeMessage({ method: "JOIN_ROOM", params: { "Room-Name": "lobby" } }),
    ...Array.from(
      { length: 50 },
      (_, i) => encodeMessage({ method: "SEND_MSG", params: {}, content: `m${i}` }),
    ),
    encodeMessage({ method: "RECV_MSG", params: {} }),
  ];
  await c.write(new Uint8Array(requests.flatMap((r) => [...r])));
  const replies = [];
  for (let i = 0; i < requests.length; i++) replies.push(await c.next());
  assert.deepEqual(replies.slice(0, 3).map((r) => [r.method, r.params.Status]), [
    ["RESP_LIST_ROOMS", "NOT_LOGIN"],
    ["RESP_LOGIN", "OK"],
    ["RESP_JOIN_ROOM", "OK"],
  ]);
  const ids = replies.slice(3, 53).map((r) => Number(r.params.Id));
  assert.deepEqual(ids, ids.map((_, i) => ids[0] + i), "ids increase by one, in request order");
  assert.equal(parseMessageLines(replies[53].content!).length, 50);
  await c.close();
  await server.close();
});

Deno.test("malformed messages get BAD_REQUEST with a reason and the connection carries on", async () => {
  const server = await startTestServer();
  const c = await RawConnection.open(server);
  const cases: [string | Uint8Array, string, RegExp][] = [
    ["LOGIN\nUsername ann\n\n", "ERROR", /not "Name: Value"/],
    ["LOGIN\nUsername: ann\n\n", "RESP_LOGIN", /missing parameter Password/],
    ["LOGIN\n\n", "RESP_LOGIN", /missing parameter Username, Password$/],
    ["JOIN_ROOM\n\n", "RESP_JOIN_ROOM", /missing parameter Room-Name/],
    ["SEND_MSG\nContent-Length: 9\n\nhello", "ERROR", /does not match 5 bytes/],
    ["SEND_MSG\n\nhello", "ERROR", /without Content-Length/],
    [
      new Uint8Array([...text.encode("SEND_MSG\nContent-Length: 2\n\n"), 0xc3, 0x28]),
      "ERROR",
      /invalid UTF-8/,
    ],
    ["DANCE\n\n", "ERROR", /unknown method "DANCE"/],
    ["", "ERROR", /empty payload/],
    ["LOGIN\nUsername: ann\nPassword: ann-pw\nPush: maybe\n\n", "RESP_LOGIN", /Push must be/],
  ];
  for (const [payload, method, reason] of cases) {
    await c.write(frame(typeof payload === "string" ? text.encode(payload) : payload));
    const reply = await c.next();
    assert.equal(reply.method, method, String(payload));
    assert.equal(reply.params.Status, "BAD_REQUEST");
    assert.match(reply.params.Reason, reason);
  }
  await c.login("ann");
  assert.equal((await c.request("JOIN_ROOM", { "Room-Name": "lobby" })).params.Status, "OK");
  assert.equal((await c.request("SEND_MSG", {}, "")).params.Status, "BAD_REQUEST");
  await c.close();
  await server.close();
});

Deno.test("lost framing gets an error frame and closes only that connection", async () => {
  const server = await startTestServer({ maxFrameSize: 4096 });
  const bystander = await inRoom(server.addr.port, "bob", "lobby", true);
  const oversized = frame(new Uint8Array()).slice(0, 12);
  new DataView(oversized.buffer).setUint32(8, 4097);
  const tooShort = frame(new Uint8Array()).slice(0, 12);
  new DataView(tooShort.buffer).setUint32(8, 3);
  const cases: [Uint8Array, RegExp][] = [
    [text.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), /bad magic/],
    [oversized, /Packet-Length 4097 exceeds 4096/],
    [tooShort, /Packet-Length 3 is below 12/],
  ];
  for (const [bytes, reason] of cases) {
    const c = await RawConnection.open(server);
    await c.write(bytes);
    const [reply, ...rest] = await c.untilClosed();
    assert.deepEqual([reply.method, reply.params.Status], ["ERROR", "BAD_REQUEST"]);
    assert.match(reply.params.Reason, reason);
    assert.deepEqual(rest, []);
    await c.close();
  }
  const broken = await inRoom(server.addr.port, "carol", "lobby");
  await broken.write(new TextEncoder().encode("garbage"));
  const left = await bystander.nextOf("EVT_LEAVE");
  assert.deepEqual([left.params.User, left.params.Reason], [
    "carol",
    "Cannot parse frame: bad magic, expected CLAPTRAP",
  ]);
  await broken.close();
  const ann = await inRoom(server.addr.port, "ann", "lobby");
  await ann.request("SEND_MSG", {}, "still here");
  assert.equal((await bystander.nextOf("EVT_MSG")).content, "still here");
  await ann.close();
  await bystander.close();
  await server.close();
});

Deno.test("logging in past MAX_ONLINE gets SERVER_FULL until someone leaves", async () => {
  const server = await startTestServer({ maxOnline: 2 });
  const ann = await RawConnection.open(server);
  const bob = await RawConnection.open(server);
  const carol = await RawConnection.open(server);
  await ann.login("ann");
  await bob.login("bob");
  const full = await carol.request("LOGIN", { Username: "carol", Password: "carol-pw" });
  assert.equal(full.params.Status, "SERVER_FULL");
  await bob.request("LOGOUT");
  await carol.login("carol");
  await Promise.all([ann, bob, carol].map((c) => c.close()));
  await server.close();
});

Deno.test("a user online elsewhere cannot log in again, nor twice on one connection", async () => {
  const server = await startTestServer();
  const first = await RawConnection.open(server);
  const second = await RawConnection.open(server);
  await first.login("ann");
  const again = await first.request("LOGIN", { Username: "bob", Password: "bob-pw" });
  assert.equal(again.params.Status, "ALREADY_LOGIN");
  const elsewhere = await second.request("LOGIN", { Username: "ann", Password: "ann-pw" });
  assert.equal(elsewhere.params.Status, "ALREADY_ONLINE");
  await first.close();
  await first.untilClosed();
  // the server notices the close asynchronously; retry until the name is free
  let status = "";
  for (let i = 0; i < 50 && status !== "OK"; i++) {
    status = (await second.request("LOGIN", { Username: "ann", Password: "ann-pw" })).params.Status;
    if (status !== "OK") await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(status, "OK");
  await second.close();
  await server.close();
});

Deno.test("CREATE_ROOM creates a joinable room and refuses duplicates and bad names", async () => {
  const server = await startTestServer();
  const c = await RawConnection.open(server);
  await c.login("ann");
  const create = (name: string) => c.request("CREATE_ROOM", { "Room-Name": name });
  assert.equal((await create("新房间")).params.Status, "OK");
  assert.equal((await create("新房间")).params.Status, "ROOM_EXISTS");
  assert.equal((await create("lobby")).params.Status, "ROOM_EXISTS");
  const bad = await create("tab\there");
  assert.deepEqual([bad.params.Status, bad.params.Reason], [
    "INVALID_NAME",
    "name contains a control character",
  ]);
  assert.equal((await create("e\u0301")).params.Status, "OK", "names are NFC-normalised");
  assert.equal((await create("\u00e9")).params.Status, "ROOM_EXISTS");
  assert.equal((await c.request("JOIN_ROOM", { "Room-Name": "新房间" })).params.Status, "OK");
  assert.match((await c.request("LIST_ROOMS")).content!, /新房间\né\n$/);
  await c.close();
  await server.close();
});

Deno.test("a poller that falls behind the room's log is told how many it missed", async () => {
  const server = await startTestServer({ pollLogMessages: 3 });
  const ann = await inRoom(server.addr.port, "ann", "lobby");
  for (let i = 0; i < 5; i++) await ann.request("SEND_MSG", {}, `m${i}`);
  const reply = await ann.request("RECV_MSG");
  assert.equal(reply.params.Missed, "2");
  assert.deepEqual(parseMessageLines(reply.content!).map((m) => m.content), ["m2", "m3", "m4"]);
  await ann.close();
  await server.close();
});

Deno.test("a large backlog is returned over several RECV_MSG, none lost", async () => {
  const server = await startTestServer({ maxFrameSize: 8192 });
  const ann = await inRoom(server.addr.port, "ann", "lobby");
  const sent = Array.from({ length: 40 }, (_, i) => `${i}:${"x".repeat(100)}`);
  for (const m of sent) await ann.request("SEND_MSG", {}, m);
  const received: string[] = [];
  let replies = 0;
  while (true) {
    const reply = await ann.request("RECV_MSG");
    if (reply.method === "NO_NEW_MSG") break;
    replies++;
    received.push(...parseMessageLines(reply.content!).map((m) => m.content));
  }
  assert.deepEqual(received, sent);
  assert.ok(replies > 1, `expected the backlog split, got ${replies} reply`);
  await ann.close();
  await server.close();
});
