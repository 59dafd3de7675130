/**
 * Sessions of the original client: a connection that never says HELLO 2
 * gets the original server's bytes for the original requests, parsed here
 * with the original client's rules (tests/original_client.ts), over real
 * sockets on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { parseRows } from "../protocol/content.ts";
import { frame } from "../protocol/frame.ts";
import { formatCtime } from "../protocol/original.ts";
import { NO_FLOOD_LIMITS } from "../core/limits/flood_control.ts";
import { ACCOUNTS, RawConnection, startTestServer } from "./helpers.ts";
import {
  OriginalClient,
  originalRequest,
  type OriginalResponse,
  parseOriginal,
  type RawFrame,
} from "./original_client.ts";

/** Practically no refill during a test: what is spent stays spent. */
const NEVER = 0.000_001;

/** A ctime() time as the original writes it, e.g. `Sun Dec  6 10:27:42 2026`. */
const CTIME = /[A-Z][a-z]{2} [A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d \d{4}/g;

async function original(server: Parameters<typeof OriginalClient.open>[0], user: string) {
  const client = await OriginalClient.open(server);
  assert.equal(await client.login(user, ACCOUNTS.get(user)!), true, `${user} logs in`);
  return client;
}

async function modern(server: Parameters<typeof RawConnection.open>[0], user: string) {
  const connection = await RawConnection.open(server);
  await connection.login(user);
  return connection;
}

Deno.test("the original session of protocol/README.md §15.6 is what the server sends, byte for byte", async () => {
  const spec = await Deno.readTextFile(new URL("../protocol/README.md", import.meta.url));
  const block = spec.match(/```claptrap-original\n([\s\S]*?)```/);
  assert.ok(block, "the spec has a claptrap-original block");
  const unescape = (text: string) =>
    text.replace(/\\([\\nt])/g, (_, c: string) => ({ n: "\n", t: "\t", "\\": "\\" })[c]!);
  const server = await startTestServer({
    globals: {
      accounts: new Map([["alice", "alice123"], ["bob", "bob123"]]),
      rooms: ["lobby", "random", "香港记者招待会"],
    },
  });
  const clients = new Map<string, OriginalClient>();
  let pending: Promise<RawFrame> | null = null;
  try {
    const lines = block[1].trimEnd().split("\n");
    assert.ok(lines.length >= 40, "the session covers every request");
    for (const line of lines) {
      const step = line.match(/^(\S+)\s+(C→S|S→C)\s+\[(\d+)\]\s+(.*)$/);
      assert.ok(step, `a transcript line: ${line}`);
      const [, who, direction, length, escaped] = step;
      const payload = unescape(escaped);
      if (direction === "C→S") {
        if (!clients.has(who)) clients.set(who, await OriginalClient.open(server));
        const request = frame(new TextEncoder().encode(payload));
        assert.equal(request.length, Number(length), `the length of ${line}`);
        pending = clients.get(who)!.exchange(request);
        continue;
      }
      assert.ok(pending, `an answer follows a request: ${line}`);
      const got: RawFrame = await pending;
      pending = null;
      assert.equal(got.payload.replace(CTIME, "<ctime>"), payload.replace(CTIME, "<ctime>"), line);
      assert.equal(got.bytes.length, Number(length), `Packet-Length of ${line}`);
      assert.doesNotThrow(() => parseOriginal(got.bytes.subarray(12)), line);
    }
  } finally {
    for (const client of clients.values()) client.close();
    await server.close();
  }
});

Deno.test("an original session's room list is name TAB count rows, rooms with members first", async () => {
  const server = await startTestServer();
  try {
    const ann = await original(server, "ann");
    const bob = await modern(server, "bob");
    const carol = await modern(server, "carol");
    assert.equal(await ann.joinRoom("lobby"), true);
    for (const c of [bob, carol]) {
      const joined = await c.request("JOIN_ROOM", { "Room-Name": "香港记者招待会" });
      assert.equal(joined.params.Status, "OK");
    }
    assert.deepEqual(await ann.listRooms(), [["lobby", "1"], ["香港记者招待会", "2"], [
      "random",
      "0",
    ]]);
    const raw = await ann.call("LIST_ROOMS");
    assert.deepEqual(Object.keys(raw!.params), ["Status", "Content-Length"]);
    // a session that said HELLO 2.0 keeps today's list
    const listed = await bob.request("LIST_ROOMS");
    assert.equal(listed.content, "lobby\nrandom\n香港记者招待会\n");
    assert.equal(listed.params["Member-Counts"], "1,0,2");
    ann.close();
    await bob.close();
    await carol.close();
  } finally {
    await server.close();
  }
});

Deno.test("an original session's member list has no empty last member", async () => {
  const server = await startTestServer();
  try {
    const chairman = await original(server, "江主席");
    const ann = await modern(server, "ann");
    assert.equal(await chairman.joinRoom("香港记者招待会"), true);
    await ann.request("JOIN_ROOM", { "Room-Name": "香港记者招待会" });
    assert.deepEqual(await chairman.listMembers(), ["江主席", "ann"]);
    assert.equal(
      (await ann.request("LIST_MEMBERS")).content,
      "江主席\nann\n",
      "HELLO 2.0: today's",
    );
    chairman.close();
    await ann.close();
  } finally {
    await server.close();
  }
});

Deno.test("a poll of four messages gives four records joined by two TABs, in ctime, raw", async () => {
  const server = await startTestServer();
  try {
    const chairman = await original(server, "江主席");
    assert.equal(await chairman.joinRoom("香港记者招待会"), true);
    const ann = await modern(server, "ann");
    await ann.request("JOIN_ROOM", { "Room-Name": "香港记者招待会" });
    for (const text of ["too young", "a\ttab and\ttwo", "line one\nline two\r\nback\\slash: x"]) {
      assert.equal((await ann.request("SEND_MSG", {}, text)).params.Status, "OK");
    }
    assert.equal(await chairman.sendMsg("too simple, sometimes naive\t!"), "OK");
    const records = await chairman.recvMsg();
    assert.ok(records, "NEW_MSG with content");
    assert.deepEqual(records.map(([from, , text]) => [from, text]), [
      ["ann", "too young"],
      ["ann", "a    tab and    two"],
      ["ann", "line one\nline two\r\nback\\slash: x"],
      ["江主席", "too simple, sometimes naive    !"],
    ]);
    // each time is the message's server time in ctime() form, in the server's time zone
    const history = parseRows((await ann.request("HISTORY", {})).content!, 4);
    assert.deepEqual(
      records.map(([, time]) => time),
      history.map(([, , time]) => formatCtime(Date.parse(time))),
    );
    assert.equal(await chairman.recvMsg(), null, "the poll consumed them all");
    chairman.close();
    await ann.close();
  } finally {
    await server.close();
  }
});

Deno.test("a second login of an online user is AUTH_FAILED for an original session", async () => {
  const server = await startTestServer({ maxOnline: 2 });
  try {
    const ann = await modern(server, "ann");
    const again = await OriginalClient.open(server);
    assert.equal(await again.login("ann", ACCOUNTS.get("ann")!), false, "not ALREADY_ONLINE");
    const bob = await original(server, "bob");
    const third = await OriginalClient.open(server);
    assert.equal(await third.login("carol", ACCOUNTS.get("carol")!), false, "not SERVER_FULL");
    // a session that said HELLO 2.0 is told why
    const told = await RawConnection.open(server);
    const refused = await told.request("LOGIN", { Username: "ann", Password: "ann-pw" });
    assert.equal(refused.params.Status, "ALREADY_ONLINE");
    for (const c of [again, bob, third]) c.close();
    await ann.close();
    await told.close();
  } finally {
    await server.close();
  }
});

Deno.test("a rate-limited SEND_MSG of an original session is held back, then posted", async () => {
  const server = await startTestServer({
    floodLimits: { ...NO_FLOOD_LIMITS, messages: { perSecond: 20, burst: 1 } },
  });
  try {
    const ann = await original(server, "ann");
    assert.equal(await ann.joinRoom("lobby"), true);
    for (const text of ["one", "two", "three"]) assert.equal(await ann.sendMsg(text), "OK");
    const records = await ann.recvMsg();
    assert.deepEqual(records?.map(([, , text]) => text), ["one", "two", "three"]);
    // the same limit refuses a session that said HELLO 2.0
    const bob = await modern(server, "bob");
    await bob.request("JOIN_ROOM", { "Room-Name": "lobby" });
    await bob.request("SEND_MSG", {}, "first");
    const refused = await bob.request("SEND_MSG", {}, "second");
    assert.equal(refused.params.Status, "RATE_LIMITED");
    ann.close();
    await bob.close();
  } finally {
    await server.close();
  }
});

Deno.test("an original session's SEND_MSG that would wait too long is NOT_IN_ROOM, and not posted", async () => {
  const server = await startTestServer({
    floodLimits: { ...NO_FLOOD_LIMITS, messages: { perSecond: NEVER, burst: 1 } },
  });
  try {
    const ann = await original(server, "ann");
    assert.equal(await ann.joinRoom("lobby"), true);
    assert.equal(await ann.sendMsg("the only one"), "OK");
    assert.equal(await ann.sendMsg("one too many"), "NOT_IN_ROOM");
    const records = await ann.recvMsg();
    assert.deepEqual(records?.map(([, , text]) => text), ["the only one"]);
    ann.close();
  } finally {
    await server.close();
  }
});

Deno.test("a throttled LOGIN of an original session waits, then is checked; too long a wait is AUTH_FAILED", async () => {
  const brief = { freeFailures: 0, firstDelayMs: 100, maxDelayMs: 100, forgetAfterMs: 60_000 };
  const server = await startTestServer({
    floodLimits: { ...NO_FLOOD_LIMITS, loginsPerAccount: brief },
  });
  try {
    const ann = await OriginalClient.open(server);
    assert.equal(await ann.login("ann", "wrong"), false);
    assert.equal(
      await ann.login("ann", "wrong again"),
      false,
      "throttled: held back, then checked",
    );
    assert.equal(await ann.login("ann", ACCOUNTS.get("ann")!), true, "the right password wins");
    ann.close();
  } finally {
    await server.close();
  }
  const long = {
    freeFailures: 0,
    firstDelayMs: 600_000,
    maxDelayMs: 600_000,
    forgetAfterMs: 60_000,
  };
  const slow = await startTestServer({
    floodLimits: { ...NO_FLOOD_LIMITS, loginsPerAccount: long },
  });
  try {
    const bob = await OriginalClient.open(slow);
    assert.equal(await bob.login("bob", "wrong"), false);
    assert.equal(await bob.login("bob", ACCOUNTS.get("bob")!), false, "answered at once");
    bob.close();
  } finally {
    await slow.close();
  }
});

Deno.test("a ban whose reason holds ': ' never reaches an original session", async () => {
  const server = await startTestServer({ admins: ["bob"] });
  try {
    const ann = await original(server, "ann");
    assert.equal(await ann.joinRoom("lobby"), true);
    const bob = await modern(server, "bob");
    const banned = await bob.request("BAN", {
      User: "ann",
      "Room-Name": "lobby",
      Reason: "spam: and more: spam",
    });
    assert.equal(banned.params.Status, "OK");
    assert.equal(await ann.recvMsg(), null, "NO_NEW_MSG / NOT_IN_ROOM");
    const answer = await ann.call("JOIN_ROOM", [["Room-Name", "lobby"]]);
    assert.deepEqual(
      answer,
      {
        method: "RESP_JOIN_ROOM",
        params: { Status: "NO_SUCH_ROOM" },
        content: "",
      } satisfies OriginalResponse,
    );
    assert.equal(await ann.sendMsg("still here?"), "NOT_IN_ROOM");
    // today's answer, for comparison, carries the reason
    const carol = await modern(server, "carol");
    await bob.request("BAN", { User: "carol", "Room-Name": "random", Reason: "x: y" });
    const told = await carol.request("JOIN_ROOM", { "Room-Name": "random" });
    assert.deepEqual([told.params.Status, told.params.Reason], ["BANNED", "x: y"]);
    ann.close();
    await bob.close();
    await carol.close();
  } finally {
    await server.close();
  }
});

Deno.test("a server without rooms gives an original session no list, and no empty header", async () => {
  const server = await startTestServer({
    globals: { accounts: new Map(ACCOUNTS), rooms: [] },
  });
  try {
    const ann = await original(server, "ann");
    const answer = await ann.exchange(originalRequest("LIST_ROOMS"));
    assert.equal(answer.payload, "RESP_LIST_ROOMS\nStatus: OK");
    assert.equal(await ann.listRooms(), null);
    ann.close();
  } finally {
    await server.close();
  }
});

Deno.test("refused messages of an original session are NOT_IN_ROOM: too long, control characters", async () => {
  const server = await startTestServer({ maxMessageChars: 10 });
  try {
    const ann = await original(server, "ann");
    assert.equal(await ann.joinRoom("lobby"), true);
    assert.equal(await ann.sendMsg("far too long for this server"), "NOT_IN_ROOM");
    assert.equal(await ann.sendMsg("bell\u0007"), "NOT_IN_ROOM");
    assert.equal(await ann.sendMsg("fits"), "OK");
    assert.deepEqual((await ann.recvMsg())?.map(([, , text]) => text), ["fits"]);
    ann.close();
  } finally {
    await server.close();
  }
});

Deno.test("HELLO 2.x ends the original dialect, HELLO 1.x keeps it; other requests get today's format", async () => {
  const server = await startTestServer();
  try {
    const raw = await RawConnection.open(server, { original: true });
    assert.equal((await raw.request("HELLO", { Version: "1.3" })).params.Status, "OK");
    const pong = await raw.request("PING", { Token: "a: b" });
    assert.deepEqual(
      pong.params,
      { Status: "OK", Token: "a: b", Time: pong.params.Time },
      "today's",
    );
    await raw.send("LOGIN", { Username: "ann", Password: "wrong" });
    const refused = await raw.next();
    assert.deepEqual([refused.method, refused.params.Status], ["RESP_LOGIN", "AUTH_FAILED"]);
    await raw.login("ann");
    const rooms = await raw.request("LIST_ROOMS");
    assert.equal(rooms.content, "lobby\t0\nrandom\t0\n香港记者招待会\t0", "still original");
    assert.equal((await raw.request("HELLO", { Version: "2.0" })).params.Status, "OK");
    const today = await raw.request("LIST_ROOMS");
    assert.equal(today.content, "lobby\nrandom\n香港记者招待会\n");
    assert.equal(today.params.More, "no");
    assert.equal((await raw.request("HELLO", { Version: "1.0" })).params.Status, "OK");
    assert.equal((await raw.request("LIST_ROOMS")).params.More, "no", "2.0 was for good");
    await raw.close();
  } finally {
    await server.close();
  }
});
