/**
 * The limits that protect a server from its clients: message rate, failed
 * logins, connections that never log in or stall in a frame, and message
 * content rules. Over real sockets on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { frame } from "../protocol/frame.ts";
import { encodeMessage } from "../protocol/message.ts";
import { NO_FLOOD_LIMITS } from "../core/limits/flood_control.ts";
import { inRoom, NEVER, RawConnection, startTestServer } from "./helpers.ts";

const text = new TextEncoder();

async function loginStatus(port: number, user: string, password: string) {
  const connection = await RawConnection.open(port);
  const response = await connection.request("LOGIN", { Username: user, Password: password });
  await connection.close();
  return response.params;
}

Deno.test("a user who sends faster than the message rate is told to slow down; others are not", async () => {
  const server = await startTestServer({
    floodLimits: { ...NO_FLOOD_LIMITS, messages: { perSecond: NEVER, burst: 3 } },
  });
  try {
    const ann = await inRoom(server.addr.port, "ann");
    const bob = await inRoom(server.addr.port, "bob");
    for (let i = 0; i < 3; i++) {
      assert.equal((await ann.request("SEND_MSG", {}, `burst ${i}`)).params.Status, "OK");
    }
    const refused = await ann.request("SEND_MSG", {}, "one too many");
    assert.equal(refused.method, "RESP_SEND_MSG");
    assert.equal(refused.params.Status, "RATE_LIMITED");
    assert.match(refused.params.Reason, /slow down/);
    assert.ok(Number(refused.params["Retry-After-Ms"]) > 0, "says when to try again");
    const dm = await ann.request("DM", { To: "bob", "Content-Length": "2" }, "hi");
    assert.equal(dm.params.Status, "RATE_LIMITED", "direct messages draw on the same bucket");
    assert.equal((await ann.request("TIME")).params.Status, "OK", "cheap requests still work");
    assert.equal((await bob.request("SEND_MSG", {}, "bob is fine")).params.Status, "OK");

    const lines = (await bob.request("RECV_MSG")).content!;
    assert.ok(!lines.includes("one too many"), "a refused message is not posted");
    await ann.close();
    await bob.close();
  } finally {
    await server.close();
  }
});

Deno.test("the rate is per user: a second connection does not get a fresh bucket", async () => {
  const server = await startTestServer({
    floodLimits: { ...NO_FLOOD_LIMITS, messages: { perSecond: NEVER, burst: 2 } },
    duplicateLogin: "replace",
  });
  try {
    const first = await inRoom(server.addr.port, "ann");
    await first.request("SEND_MSG", {}, "one");
    await first.request("SEND_MSG", {}, "two");
    const second = await inRoom(server.addr.port, "ann");
    assert.equal((await second.request("SEND_MSG", {}, "three")).params.Status, "RATE_LIMITED");
    await first.close();
    await second.close();
  } finally {
    await server.close();
  }
});

Deno.test("failed logins slow down further attempts on that account, even with the right password", async () => {
  const lines: string[] = [];
  const server = await startTestServer({
    floodLimits: {
      ...NO_FLOOD_LIMITS,
      loginsPerAccount: {
        freeFailures: 2,
        firstDelayMs: 60_000,
        maxDelayMs: 60_000,
        forgetAfterMs: 600_000,
      },
    },
    log: (line) => lines.push(line),
  });
  try {
    const port = server.addr.port;
    for (let i = 0; i < 3; i++) {
      assert.equal((await loginStatus(port, "ann", `guess-${i}`)).Status, "AUTH_FAILED");
    }
    const throttled = await loginStatus(port, "ann", "ann-pw");
    assert.equal(throttled.Status, "RATE_LIMITED");
    assert.ok(Number(throttled["Retry-After-Ms"]) > 50_000);
    assert.equal((await loginStatus(port, "ANN", "ann-pw")).Status, "RATE_LIMITED", "case-blind");
    assert.equal((await loginStatus(port, "bob", "bob-pw")).Status, "OK", "other accounts work");

    const failures = lines.filter((line) => line.includes("login-failed"));
    assert.equal(failures.length, 3, "every failure is logged");
    assert.match(failures[2], /user="ann" failures=3/);
    assert.ok(!lines.some((line) => line.includes("guess-")), "passwords never reach the log");
  } finally {
    await server.close();
  }
});

Deno.test("a success before the limit clears an account's failures", async () => {
  const policy = { freeFailures: 2, firstDelayMs: 60_000, maxDelayMs: 60_000, forgetAfterMs: 1e6 };
  const server = await startTestServer({
    floodLimits: { ...NO_FLOOD_LIMITS, loginsPerAccount: policy },
  });
  try {
    const port = server.addr.port;
    for (let round = 0; round < 3; round++) {
      assert.equal((await loginStatus(port, "ann", "typo")).Status, "AUTH_FAILED");
      assert.equal((await loginStatus(port, "ann", "typo")).Status, "AUTH_FAILED");
      assert.equal((await loginStatus(port, "ann", "ann-pw")).Status, "OK");
    }
  } finally {
    await server.close();
  }
});

Deno.test("one address guessing across many accounts is slowed down, and so are its registrations", async () => {
  const server = await startTestServer({
    floodLimits: {
      ...NO_FLOOD_LIMITS,
      attemptsPerAddress: {
        freeFailures: 3,
        firstDelayMs: 60_000,
        maxDelayMs: 60_000,
        forgetAfterMs: 600_000,
      },
    },
  });
  try {
    const port = server.addr.port;
    for (const user of ["ann", "bob", "carol", "nobody"]) {
      assert.equal((await loginStatus(port, user, "password1")).Status, "AUTH_FAILED");
    }
    assert.equal((await loginStatus(port, "江主席", "excited")).Status, "RATE_LIMITED");
    const connection = await RawConnection.open(port);
    const register = await connection.request("REGISTER", {
      Username: "newcomer",
      Password: "a fine long password",
    });
    assert.equal(register.params.Status, "RATE_LIMITED");
    await connection.close();
  } finally {
    await server.close();
  }
});

Deno.test("parallel guesses cannot slip past the failure count", async () => {
  const server = await startTestServer({
    floodLimits: {
      ...NO_FLOOD_LIMITS,
      loginsPerAccount: {
        freeFailures: 3,
        firstDelayMs: 60_000,
        maxDelayMs: 60_000,
        forgetAfterMs: 600_000,
      },
    },
  });
  try {
    const statuses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => loginStatus(server.addr.port, "ann", `guess ${i}`)),
    );
    const tried = statuses.filter((s) => s.Status === "AUTH_FAILED").length;
    assert.equal(tried, 4, "three free failures, then one at the first delay");
    assert.equal(statuses.filter((s) => s.Status === "RATE_LIMITED").length, 16);
  } finally {
    await server.close();
  }
});

Deno.test("a connection that never logs in is closed after the login timeout", async () => {
  const lines: string[] = [];
  const server = await startTestServer({
    loginTimeoutMs: 300,
    pingIntervalMs: 100,
    log: (line) => lines.push(line),
  });
  try {
    const silent = await RawConnection.open(server.addr.port);
    const chatty = await RawConnection.open(server.addr.port);
    assert.equal((await chatty.request("PING")).params.Status, "OK", "pings do not log in");
    const loggedIn = await RawConnection.open(server.addr.port);
    await loggedIn.login("ann");
    await silent.untilClosed(5_000);
    await chatty.untilClosed(5_000);
    assert.equal((await loggedIn.request("TIME")).params.Status, "OK", "logged in: stays");
    await Promise.all([silent.close(), chatty.close(), loggedIn.close()]);
    await server.close();
    const reasons = lines.filter((line) => line.startsWith("disconnect"));
    const timedOut = reasons.filter((line) => line.includes("login timeout"));
    assert.equal(timedOut.length, 2, reasons.join("\n"));
  } finally {
    await server.close();
  }
});

Deno.test("a connection that stalls halfway through a frame is closed after the frame timeout", async () => {
  const server = await startTestServer({ frameTimeoutMs: 300, pingIntervalMs: 100 });
  try {
    const staller = await RawConnection.open(server.addr.port);
    await staller.login("ann");
    const whole = frame(text.encode("TIME\n\n"));
    await staller.write(whole.subarray(0, whole.length - 2));
    const slow = await RawConnection.open(server.addr.port);
    await slow.login("bob");
    const closed = staller.untilClosed(5_000);
    // bob sends whole frames, slowly: never stuck in one
    for (let i = 0; i < 4; i++) {
      assert.equal((await slow.request("TIME")).params.Status, "OK");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await closed;
    await slow.close();
  } finally {
    await server.close();
  }
});

Deno.test("message content with control characters, or too long, is refused with a reason", async () => {
  const server = await startTestServer({ maxMessageChars: 10 });
  try {
    const ann = await inRoom(server.addr.port, "ann");
    const escape = await ann.request("SEND_MSG", {}, "\u001b[2Jgone");
    assert.equal(escape.params.Status, "BAD_REQUEST");
    assert.equal(escape.params.Reason, "message contains the control character U+001B");
    const long = await ann.request("SEND_MSG", {}, "x".repeat(11));
    assert.equal(long.params.Reason, "message is longer than 10 characters");
    const emoji = await ann.request("SEND_MSG", {}, "😀".repeat(10));
    assert.equal(emoji.params.Status, "OK", "the limit counts characters, not UTF-16 units");
    assert.equal((await ann.request("SEND_MSG", {}, "a\tb\r\nc")).params.Status, "OK");
    const dm = await ann.request("DM", { To: "bob", "Content-Length": "1" }, "\u0000");
    assert.equal(dm.params.Status, "BAD_REQUEST");
    await ann.close();
  } finally {
    await server.close();
  }
});

Deno.test("absurd user names and passwords fail like wrong passwords, without hashing them", async () => {
  const server = await startTestServer();
  try {
    const port = server.addr.port;
    assert.equal((await loginStatus(port, "x".repeat(10_000), "pw")).Status, "AUTH_FAILED");
    assert.equal((await loginStatus(port, "ann", "p".repeat(100_000))).Status, "AUTH_FAILED");
    assert.equal((await loginStatus(port, "a\u0007b", "pw")).Status, "AUTH_FAILED");
    const raw = await RawConnection.open(port);
    await raw.write(
      encodeMessage({ method: "LOGIN", params: { Username: "ann", Password: "ann-pw" } }),
    );
    assert.equal((await raw.next()).params.Status, "OK");
    await raw.close();
  } finally {
    await server.close();
  }
});

Deno.test("a search with control characters and stray quotes is answered, not a server error", async () => {
  const server = await startTestServer();
  try {
    const ann = await inRoom(server.addr.port, "ann");
    await ann.request("SEND_MSG", {}, 'say "hello" world');
    for (const query of ['hello\u0000"', '"', "\u0007", 'wor" OR "ld', "NEAR(hello"]) {
      const response = await ann.request("SEARCH", { Query: query });
      assert.ok(
        ["OK", "BAD_REQUEST"].includes(response.params.Status),
        `${query}: ${response.params.Status}`,
      );
    }
    const found = await ann.request("SEARCH", { Query: "hello\u0000world" });
    assert.match(found.content!, /\[hello\]/);
    await ann.close();
  } finally {
    await server.close();
  }
});

Deno.test("many users logging in at once from one address are not taken for a brute force", async () => {
  const accounts = new Map(Array.from({ length: 40 }, (_, i) => [`u${i}`, `u${i}-password`]));
  const server = await startTestServer({ globals: { accounts, rooms: ["lobby"] } });
  try {
    const connections = await Promise.all(
      [...accounts.keys()].map(() => RawConnection.open(server)),
    );
    const replies = await Promise.all(
      [...accounts].map(([user, password], i) =>
        connections[i].request("LOGIN", { Username: user, Password: password })
      ),
    );
    assert.deepEqual(new Set(replies.map((reply) => reply.params.Status)), new Set(["OK"]));
    await Promise.all(connections.map((connection) => connection.close()));
  } finally {
    await server.close();
  }
});

Deno.test("a user may own only so many rooms; admins are not limited", async () => {
  const server = await startTestServer({ maxRoomsPerUser: 2, admins: ["bob"] });
  try {
    const ann = await RawConnection.open(server);
    await ann.login("ann");
    for (const name of ["ann's one", "ann's two"]) {
      assert.equal((await ann.request("CREATE_ROOM", { "Room-Name": name })).params.Status, "OK");
    }
    const third = await ann.request("CREATE_ROOM", { "Room-Name": "ann's three" });
    assert.equal(third.params.Status, "NOT_ALLOWED");
    assert.equal(third.params.Reason, "you own 2 rooms, the most one user may");
    const bob = await RawConnection.open(server);
    await bob.login("bob");
    for (const name of ["b1", "b2", "b3"]) {
      assert.equal((await bob.request("CREATE_ROOM", { "Room-Name": name })).params.Status, "OK");
    }
    await Promise.all([ann.close(), bob.close()]);
  } finally {
    await server.close();
  }
});

Deno.test("REGISTER refuses a password with control characters", async () => {
  const server = await startTestServer();
  try {
    const client = await RawConnection.open(server);
    const response = await client.request("REGISTER", {
      Username: "dora",
      Password: "long enough\u0007really",
    });
    assert.equal(response.params.Status, "WEAK_PASSWORD");
    assert.equal(response.params.Reason, "password contains a control character");
    await client.close();
  } finally {
    await server.close();
  }
});

Deno.test("SEARCH queries are bounded; long terms still find their message", async () => {
  const server = await startTestServer();
  try {
    const ann = await inRoom(server.addr.port, "ann");
    await ann.request("SEND_MSG", {}, "supercalifragilisticexpialidocious, said Mary");
    await ann.request("SEND_MSG", {}, "supercalifragilistic but not the rest");
    const found = await ann.request("SEARCH", { Query: "SUPERCALIFRAGILISTICEXPIALIDOCIOUS" });
    assert.equal(found.params.Status, "OK");
    assert.equal(found.content!.trim().split("\n").length, 1, "checked whole beyond the index");
    const long = await ann.request("SEARCH", { Query: "x".repeat(257) });
    assert.equal(long.params.Reason, "query is longer than 256 characters");
    const wordy = await ann.request("SEARCH", { Query: "a ".repeat(17) });
    assert.equal(wordy.params.Reason, "query has more than 16 words");
    await ann.close();
  } finally {
    await server.close();
  }
});

Deno.test("absurd input is never repeated back at length", async () => {
  const server = await startTestServer();
  try {
    const ann = await inRoom(server.addr.port, "ann");
    const dm = await ann.request("DM", { To: "z".repeat(5_000), "Content-Length": "2" }, "hi");
    assert.deepEqual([dm.params.Status, dm.params.Reason], ["PEER_OFFLINE", "no such user"]);
    const peer = await ann.request("PEER_CONNECT", { Peer: "z".repeat(5_000) });
    assert.equal(peer.params.Reason, "no such user");
    await ann.request("CREATE_ROOM", { "Room-Name": "ann's" });
    const ban = await ann.request("BAN", {
      User: "bob",
      "Room-Name": "ann's",
      Reason: "r".repeat(201),
    });
    assert.deepEqual(
      [ban.params.Status, ban.params.Reason],
      ["BAD_REQUEST", "Reason is longer than 200 characters"],
    );
    await ann.close();
  } finally {
    await server.close();
  }
});
