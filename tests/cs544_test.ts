/**
 * The CS 544 Chat Service Protocol listener over real sockets on
 * 127.0.0.1, with a client written from the protocol's description: every
 * request and its refusals, the routing the original client depends on
 * (every answer to the requester alone, with its own spelling; one code
 * the client waits for to every request it waits on), and a whole session
 * through a relay that delays each direction by 20 ms, as a real network.
 */

import assert from "node:assert/strict";
import { Cs544Code } from "../protocol/cs544_pdu.ts";
import { ListenError, type ServerHandle, type ServerOptions } from "../server/server.ts";
import { Cs544TestClient } from "./cs544_client.ts";
import { DEFAULT_FLOOD_LIMITS } from "../core/limits/flood_control.ts";
import { ACCOUNTS, NEVER, online, ROOMS, startTestServer } from "./helpers.ts";

function startCs544Server(options: ServerOptions = {}): Promise<ServerHandle> {
  return startTestServer({ cs544Port: 0, ...options });
}

/** Runs `test` with a CS 544 server, closing the clients it opens and the server after. */
async function withServer(
  options: ServerOptions,
  test: (server: ServerHandle, port: number, open: Opener) => Promise<void>,
): Promise<void> {
  const server = await startCs544Server(options);
  const clients: Cs544TestClient[] = [];
  const open: Opener = {
    anonymous: async (port = server.listeners.get("cs544")!.port) => {
      const client = await Cs544TestClient.open(port);
      clients.push(client);
      return client;
    },
    as: async (user, port = server.listeners.get("cs544")!.port) => {
      const client = await Cs544TestClient.loggedIn(port, user);
      clients.push(client);
      return client;
    },
  };
  try {
    await test(server, server.listeners.get("cs544")!.port, open);
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await server.close();
  }
}

interface Opener {
  anonymous(port?: number): Promise<Cs544TestClient>;
  as(user: string, port?: number): Promise<Cs544TestClient>;
}

/** A client in `group` (joined with JOIN), its 180 taken. */
async function inGroup(open: Opener, user: string, group: string): Promise<Cs544TestClient> {
  const client = await open.as(user);
  await client.send("JOIN", { chat_name: group });
  const joined = await client.next();
  assert.equal(joined.code, Cs544Code.JOINED, `${user} joining ${group}`);
  return client;
}

Deno.test("the CS 544 listener is off unless asked for, and logged where it listens when it is", async () => {
  const lines: string[] = [];
  const plain = await startTestServer();
  assert.equal(plain.listeners.get("cs544"), undefined);
  await plain.close();
  const server = await startCs544Server({ log: (line) => lines.push(line) });
  assert.ok(server.listeners.get("cs544")!.port > 0);
  assert.ok(
    lines.includes(`listening cs544=127.0.0.1:${server.listeners.get("cs544")!.port}`),
    lines.join("\n"),
  );
  await server.close();
});

Deno.test("a CS 544 port in use stops start-up with a ListenError naming the listener", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  await assert.rejects(
    startCs544Server({ cs544Port: taken.addr.port }),
    (error: Error) =>
      error instanceof ListenError &&
      error.message.startsWith(`cannot listen for cs544 on 127.0.0.1:${taken.addr.port}: `),
  );
  taken.close();
});

Deno.test("AUTH logs in with 110; a wrong password gets a 200 alone, in the client's own words", async () => {
  await withServer({}, async (_server, _port, open) => {
    const client = await open.anonymous();
    await client.send("AUTH", { username: "ann", password: "wrong" });
    assert.deepEqual(await client.next(), {
      code: "200",
      channel: "CC",
      parameters: {},
      payload: "",
    });
    await client.send("AUTH", { username: "ann", password: "ann-pw" });
    assert.deepEqual(await client.next(), {
      code: "110",
      channel: "CC",
      parameters: { username: "ann" },
      payload: "",
    });
    assert.equal(await client.within(100), null, "nothing else");
  });
});

Deno.test("NWUA creates an account and logs in; a taken name gets a 200 alone", async () => {
  await withServer({}, async (_server, port, open) => {
    const dave = await open.anonymous();
    assert.equal(await dave.auth("dave", "correct horse 42", "NWUA"), "110");
    await dave.close();
    const again = await open.anonymous();
    assert.equal(await again.auth("dave", "correct horse 42"), "110", "the account stays");
    const taken = await Cs544TestClient.open(port);
    await taken.send("NWUA", { username: "ann", password: "correct horse 42" });
    assert.deepEqual(await taken.next(), {
      code: "200",
      channel: "CC",
      parameters: {},
      payload: "",
    });
    assert.equal(await taken.within(100), null);
    await taken.close();
  });
});

Deno.test("a refused NWUA says why in a 100 before its 200, which the client shows as a taken name", async () => {
  await withServer({}, async (_server, _port, open) => {
    const client = await open.anonymous();
    const cases: [Record<string, string>, string][] = [
      [{ username: "dave", password: "pw" }, "password is shorter than 8 characters"],
      [{ username: "dave", password: "dave-is-me-123" }, "password contains the user name"],
      [{ username: " dave", password: "correct horse 42" }, "white space"],
      [{ username: "dave" }, "Give a username and a password"],
    ];
    for (const [parameters, why] of cases) {
      await client.send("NWUA", parameters);
      const notice = await client.next();
      assert.equal(notice.code, "100");
      assert.ok(String(notice.payload).includes(why), `${notice.payload} says ${why}`);
      assert.equal((await client.next()).code, "200");
    }
  });
});

Deno.test("AUTH of a user online elsewhere, or with parameters missing, says why before its 200", async () => {
  await withServer({}, async (_server, _port, open) => {
    await open.as("ann");
    const second = await open.anonymous();
    await second.send("AUTH", { username: "ann", password: "ann-pw" });
    assert.deepEqual(await second.next(), {
      code: "100",
      channel: "CC",
      parameters: {},
      payload: "ann is logged in on another connection",
    });
    assert.equal((await second.next()).code, "200");
    await second.send("AUTH", { username: "bob" });
    assert.equal((await second.next()).payload, "Give a username and a password");
    assert.equal((await second.next()).code, "200");
    assert.equal(await second.auth("bob", "bob-pw"), "110");
    await second.send("AUTH", { username: "carol", password: "carol-pw" });
    assert.equal((await second.next()).payload, "You are logged in already as bob");
    assert.equal((await second.next()).code, "200");
  });
});

Deno.test("LIST names every room, occupied first, to the requester under its own name", async () => {
  await withServer({}, async (server, _port, open) => {
    const claptrap = await inRoom(server.addr.port, "carol", "random");
    const ann = await open.as("ann");
    await ann.send("LIST");
    assert.deepEqual(await ann.next(), {
      code: "130",
      channel: "",
      parameters: { username: "ann" },
      payload: ["random", ...ROOMS.filter((room) => room !== "random")],
    });
    claptrap.close();
  });
});

Deno.test("LIST with no room at all answers 240: there are no groups", async () => {
  await withServer(
    { globals: { accounts: new Map(ACCOUNTS), rooms: [] } },
    async (_s, _p, open) => {
      const ann = await open.as("ann");
      await ann.send("LIST");
      assert.deepEqual(await ann.next(), {
        code: "240",
        channel: "CC",
        parameters: { username: "ann" },
        payload: "There are currently no groups",
      });
    },
  );
});

Deno.test("requests before login are refused with the code their client waits for", async () => {
  await withServer({}, async (_server, _port, open) => {
    const client = await open.anonymous();
    const expected: [string, string[]][] = [
      ["LIST", ["240"]],
      ["JOIN", ["240"]],
      ["CHAT", ["100", "230"]],
      ["MSSG", ["100"]],
      ["KICK", ["260"]],
      ["BANN", ["250"]],
    ];
    for (const [command, codes] of expected) {
      await client.send(command, { chat_name: "lobby", kicked_user: "x", banned_user: "x" }, "x");
      for (const code of codes) {
        const response = await client.next();
        assert.equal(response.code, code, command);
        assert.equal(response.payload, "Log in first", command);
      }
    }
    await client.send("LEVE", { username: "who" });
    assert.deepEqual(await client.next(), {
      code: "190",
      channel: "CC",
      parameters: { username: "who" },
      payload: "who has left the chat room",
    });
    await client.send("REDY");
    assert.deepEqual(await client.next(), {
      code: "100",
      channel: "CC",
      parameters: {},
      payload: "Ready",
    });
    assert.equal(await client.within(100), null, "one answer each");
  });
});

Deno.test("JOIN answers 180 to the joiner with its own group; the members hear of it, in every protocol", async () => {
  await withServer({}, async (server, _port, open) => {
    const carol = await inRoom(server.addr.port, "carol", "lobby");
    const bob = await inGroup(open, "bob", "lobby");
    const ann = await open.as("ann");
    await ann.send("JOIN", { chat_name: "lobby" });
    assert.deepEqual(await ann.next(), {
      code: "180",
      channel: "CC",
      parameters: { username: "ann", chat_name: "lobby" },
      payload: "ann has joined the group",
    });
    assert.deepEqual(await bob.next(), {
      code: "180",
      channel: "CC",
      parameters: { username: "ann", chat_name: "lobby" },
      payload: "ann has joined the group",
    });
    const event = await carol.nextOf("EVT_JOIN");
    assert.equal(event.params.User, "bob");
    assert.equal((await carol.nextOf("EVT_JOIN")).params.User, "ann");
    assert.equal(await ann.within(100), null, "no second 180 for the joiner");
    carol.close();
  });
});

Deno.test("JOIN of a group that does not exist answers 240 saying so", async () => {
  await withServer({}, async (_server, _port, open) => {
    const ann = await open.as("ann");
    await ann.send("JOIN", { chat_name: "nowhere" });
    assert.deepEqual(await ann.next(), {
      code: "240",
      channel: "CC",
      parameters: { username: "ann", chat_name: "nowhere" },
      payload: 'There is no group named "nowhere"',
    });
    await ann.send("JOIN", { chat_name: "x".repeat(10_000) });
    const long = await ann.next();
    assert.equal(long.code, "240");
    assert.ok(String(long.payload).length < 100, "an absurd name is not repeated at length");
    await ann.send("JOIN", {});
    assert.equal((await ann.next()).payload, "Name the group to join");
  });
});

Deno.test("CHAT creates a group its maker owns and is in: 170 to the maker alone", async () => {
  await withServer({}, async (server, _port, open) => {
    const bob = await open.as("bob");
    const ann = await open.as("ann");
    await ann.send("CHAT", { chat_name: "room1" });
    assert.deepEqual(await ann.next(), {
      code: "170",
      channel: "CC",
      parameters: { username: "ann", chat_name: "room1" },
      payload: "Group created",
    });
    assert.equal(await bob.within(100), null, "not told: its client does not filter 170");
    const carol = await inRoom(server.addr.port, "carol", "room1");
    await ann.next(); // carol's 180
    const who = await carol.request("WHO");
    assert.ok(who.content!.includes("ann\troom\troom1"), who.content);
    // the owner's moderation: carol is kicked
    await ann.send("KICK", { kicked_user: "carol" });
    assert.equal((await ann.next()).code, "192");
    assert.equal((await carol.nextOf("EVT_KICKED")).params.By, "ann");
    carol.close();
  });
});

Deno.test("CHAT of a name taken answers 230 alone; other refusals say why in a 100 first", async () => {
  await withServer({ maxRoomsPerUser: 1 }, async (_server, _port, open) => {
    const ann = await open.as("ann");
    await ann.send("CHAT", { chat_name: "lobby" });
    assert.deepEqual(await ann.next(), {
      code: "230",
      channel: "CC",
      parameters: { username: "ann" },
      payload: "Group name already exists",
    });
    await ann.send("CHAT", { chat_name: "   " });
    assert.equal((await ann.next()).payload, "Group name cannot be empty");
    assert.equal((await ann.next()).code, "230");
    await ann.send("CHAT", { chat_name: "LOBBY" });
    const alike = await ann.next();
    assert.equal(alike.code, "100");
    assert.match(String(alike.payload), /^Cannot create the group: .*looks the same/);
    assert.equal((await ann.next()).code, "230");
    await ann.send("CHAT", { chat_name: "mine" });
    assert.equal((await ann.next()).code, "170");
    await ann.send("CHAT", { chat_name: "another" });
    assert.match(String((await ann.next()).payload), /^Cannot create the group: /);
    assert.equal((await ann.next()).code, "230");
  });
});

Deno.test("MSSG reaches the other members as 140 with its (name) prefix, and Claptrap users without it", async () => {
  await withServer({}, async (server, _port, open) => {
    const carol = await inRoom(server.addr.port, "carol", "lobby");
    const bob = await inGroup(open, "bob", "lobby");
    const ann = await inGroup(open, "ann", "lobby");
    await bob.next(); // ann's 180
    await ann.say("hello, (all)");
    assert.deepEqual(await bob.next(), {
      code: "140",
      channel: "DC",
      parameters: {},
      payload: "(ann) hello, (all)",
    });
    const message = await carol.nextOf("EVT_MSG");
    assert.equal(message.params.From, "ann");
    assert.equal(message.content, "hello, (all)");
    await carol.send("SEND_MSG", {}, "from claptrap");
    assert.equal((await ann.next()).payload, "(carol) from claptrap");
    assert.equal((await bob.next()).payload, "(carol) from claptrap");
    await ann.send("MSSG", {}, "no prefix");
    assert.equal((await bob.next()).payload, "(ann) no prefix", "stored as sent");
    assert.equal(await ann.within(100), null, "the sender gets nothing back");
    carol.close();
  });
});

Deno.test("MSSG outside a group, empty, or too fast is answered with a 100 saying so", async () => {
  await withServer({
    floodLimits: { ...DEFAULT_FLOOD_LIMITS, messages: { perSecond: NEVER, burst: 1 } },
  }, async (_server, _port, open) => {
    const ann = await open.as("ann");
    await ann.say("lost");
    assert.match(String((await ann.next()).payload), /^You are not in a group/);
    await ann.send("JOIN", { chat_name: "lobby" });
    await ann.next();
    await ann.send("MSSG", {}, "bad\u0007bell");
    assert.match(String((await ann.next()).payload), /^Your message was not sent: .*control/);
    await ann.say("one too many");
    assert.match(
      String((await ann.next()).payload),
      /^Your message was not sent: too many messages/,
    );
  });
});

Deno.test("KICK by the owner: the kicker gets one 192, the kicked user one naming itself, the room one", async () => {
  await withServer({}, async (server, _port, open) => {
    const ann = await open.as("ann");
    await ann.send("CHAT", { chat_name: "room1" });
    await ann.next();
    const bob = await inGroup(open, "bob", "room1");
    const carol = await inGroup(open, "carol", "room1");
    const claptrap = await inRoom(server.addr.port, "江主席", "room1");
    for (let i = 0; i < 3; i++) await ann.next(); // bob, carol, 江主席 joining
    for (let i = 0; i < 2; i++) await bob.next();
    await carol.next();
    await ann.send("KICK", { kicked_user: "bob" });
    const kicked = {
      code: "192",
      channel: "AC",
      parameters: { kicked_user: "bob" },
      payload: "bob has been kicked from the group",
    };
    assert.deepEqual(await ann.next(), kicked);
    assert.deepEqual(await bob.next(), kicked);
    assert.deepEqual(await carol.next(), kicked);
    assert.equal((await claptrap.nextOf("EVT_LEAVE")).params.Reason, "kicked by ann");
    assert.equal(await ann.within(150), null, "exactly one 192 for the kicker");
    assert.equal(await bob.within(0), null);
    await bob.send("JOIN", { chat_name: "room1" });
    assert.equal((await bob.next()).code, "180", "kicked, not banned: may come back");
    claptrap.close();
  });
});

Deno.test("KICK refusals: not the owner, not in the room, oneself, nobody named", async () => {
  await withServer({}, async (_server, _port, open) => {
    const ann = await inGroup(open, "ann", "lobby");
    const bob = await inGroup(open, "bob", "lobby");
    await ann.next();
    const refusal = (payload: string) => ({
      code: "260",
      channel: "CC",
      parameters: { username: "bob" },
      payload,
    });
    await bob.send("KICK", { kicked_user: "ann" });
    assert.deepEqual(await bob.next(), refusal("You are not the admin of this group"));
    await bob.send("CHAT", { chat_name: "bobs" });
    await bob.next();
    await bob.send("KICK", { kicked_user: "carol" });
    assert.deepEqual(await bob.next(), refusal('"carol" is not in this group'));
    await bob.send("KICK", { kicked_user: "bob" });
    assert.deepEqual(await bob.next(), refusal("You cannot kick yourself"));
    await bob.send("KICK", {});
    assert.deepEqual(await bob.next(), refusal("Name the user to kick"));
    await bob.send("LEVE");
    await bob.next();
    await bob.send("KICK", { kicked_user: "ann" });
    assert.deepEqual(await bob.next(), refusal("You are not in a group"));
  });
});

Deno.test("BANN by the owner keeps the user out: 191 to all, and 240 when it comes back", async () => {
  await withServer({}, async (_server, _port, open) => {
    const ann = await open.as("ann");
    await ann.send("CHAT", { chat_name: "room1" });
    await ann.next();
    const carol = await inGroup(open, "carol", "room1");
    await ann.next();
    await ann.send("BANN", { banned_user: "carol" });
    const banned = {
      code: "191",
      channel: "AC",
      parameters: { banned_user: "carol" },
      payload: "carol has been banned from the group",
    };
    assert.deepEqual(await ann.next(), banned);
    assert.deepEqual(await carol.next(), banned);
    assert.equal(await ann.within(150), null, "exactly one 191 for the banner");
    await carol.send("JOIN", { chat_name: "room1" });
    assert.deepEqual(await carol.next(), {
      code: "240",
      channel: "CC",
      parameters: { username: "carol", chat_name: "room1" },
      payload: "You are banned from joining this group",
    });
    // a user not in the room is banned too, and the banner told
    await ann.send("BANN", { banned_user: "bob" });
    assert.deepEqual(await ann.next(), {
      ...banned,
      parameters: { banned_user: "bob" },
      payload: "bob has been banned from the group",
    });
    await ann.send("BANN", { banned_user: "nobody" });
    assert.deepEqual(await ann.next(), {
      code: "250",
      channel: "CC",
      parameters: { username: "ann" },
      payload: 'No user is named "nobody"',
    });
    await carol.send("CHAT", { chat_name: "carols" });
    await carol.next();
    await carol.send("BANN", { banned_user: "carol" });
    assert.equal((await carol.next()).payload, "You cannot ban yourself");
    await carol.send("LEVE");
    await carol.next();
    await carol.send("JOIN", { chat_name: "lobby" });
    await carol.next();
    await carol.send("BANN", { banned_user: "ann" });
    assert.deepEqual(await carol.next(), {
      code: "250",
      channel: "CC",
      parameters: { username: "carol" },
      payload: "You are not the admin of this group",
    });
  });
});

Deno.test("LEVE answers 190 naming the leaver, in a group or not; the members hear of it", async () => {
  await withServer({}, async (server, _port, open) => {
    const carol = await inRoom(server.addr.port, "carol", "lobby");
    const bob = await inGroup(open, "bob", "lobby");
    const ann = await inGroup(open, "ann", "lobby");
    await bob.next();
    const left = {
      code: "190",
      channel: "CC",
      parameters: { username: "ann" },
      payload: "ann has left the chat room",
    };
    await ann.send("LEVE", { chat_name: "lobby" });
    assert.deepEqual(await ann.next(), left);
    assert.deepEqual(await bob.next(), left);
    assert.equal((await carol.nextOf("EVT_LEAVE")).params.User, "ann");
    await ann.send("LEVE", { chat_name: "" });
    assert.deepEqual(await ann.next(), left, "the client waits for it even when in no group");
    await bob.close();
    assert.equal((await carol.nextOf("EVT_LEAVE")).params.User, "bob", "a dropped client leaves");
    carol.close();
  });
});

Deno.test("a Claptrap user's coming, going and kicking reach a CS 544 member in its codes", async () => {
  await withServer({}, async (server, _port, open) => {
    const ann = await inGroup(open, "ann", "lobby");
    const carol = await inRoom(server.addr.port, "carol", "lobby");
    assert.deepEqual((await ann.next()).parameters, { username: "carol", chat_name: "lobby" });
    await carol.request("EXIT_ROOM");
    assert.deepEqual((await ann.next()).payload, "carol has left the chat room");
    const created = await carol.request("CREATE_ROOM", { "Room-Name": "carols" });
    assert.equal(created.params.Status, "OK");
    await carol.request("JOIN_ROOM", { "Room-Name": "carols" });
    await ann.send("LEVE");
    await ann.next();
    await ann.send("JOIN", { chat_name: "carols" });
    await ann.next();
    assert.equal(
      (await carol.request("KICK", { User: "ann", Reason: "testing" })).params.Status,
      "OK",
    );
    assert.deepEqual(await ann.next(), {
      code: "192",
      channel: "AC",
      parameters: { kicked_user: "ann" },
      payload: "ann has been kicked from the group (testing)",
    });
    server.console("BROADCAST maintenance at noon");
    assert.deepEqual(await ann.next(), {
      code: "100",
      channel: "CC",
      parameters: {},
      payload: "maintenance at noon",
    });
    carol.close();
  });
});

Deno.test("a request of another version gets 330 and the connection closes; REDY and unknown commands get a 100", async () => {
  await withServer({}, async (_server, _port, open) => {
    const client = await open.anonymous();
    await client.send("REDY");
    assert.equal((await client.next()).payload, "Ready");
    await client.send("WHAT");
    assert.equal((await client.next()).payload, 'Unknown command "WHAT"');
    await client.write('{"version": 2.0, "command": "LIST", "parameters": {}}\n');
    assert.deepEqual(await client.untilClosed(), [{
      code: "330",
      channel: "",
      parameters: {},
      payload: "Server is running on a different protocol version",
    }]);
  });
});

Deno.test("the operator's KICK and the server's shutdown close CS 544 connections with a 330 saying why", async () => {
  const server = await startCs544Server();
  const port = server.listeners.get("cs544")!.port;
  const ann = await Cs544TestClient.loggedIn(port, "ann");
  const bob = await Cs544TestClient.loggedIn(port, "bob");
  assert.deepEqual((await server.console("KICK ann flooding")).output.length > 0, true);
  const [farewell] = await ann.untilClosed();
  assert.equal(farewell.code, "330");
  assert.match(String(farewell.payload), /^Connection closed by the server: .*flooding/);
  await server.close();
  const [last] = await bob.untilClosed();
  assert.deepEqual(last.payload, "Connection closed by the server: server shutting down");
  await Promise.all([ann.close(), bob.close()]);
});

/** A Claptrap user over raw frames in `room`, taking events. */
function inRoom(port: number, user: string, room: string) {
  return online(port, user, { room });
}

Deno.test("answers about the client itself echo its own spelling of its name, not the normalised one", async () => {
  await withServer({ admins: ["carol"] }, async (server, _port, open) => {
    const nfd = "Jose\u0301";
    const jose = await open.anonymous();
    assert.equal(await jose.auth(nfd, "correct horse 42", "NWUA"), "110");
    await jose.send("LIST");
    assert.deepEqual((await jose.next()).parameters, { username: nfd });
    await jose.send("JOIN", { chat_name: "lobby" });
    assert.deepEqual((await jose.next()).parameters, { username: nfd, chat_name: "lobby" });
    const ann = await online(server.addr.port, "ann", { room: "lobby" });
    const joined = await jose.next();
    assert.equal(joined.parameters.username, "ann");
    // the others know the account's name
    await jose.say("hola");
    const message = await ann.nextOf("EVT_MSG");
    assert.deepEqual([message.params.From, message.content], ["José", "hola"]);
    await ann.close();
    assert.deepEqual((await jose.next()).parameters, { username: "ann" });
    // kicked by an admin: the 192 names it as it spells itself
    const carol = await online(server.addr.port, "carol", { room: "lobby" });
    await jose.next(); // carol's 180
    assert.equal((await carol.request("KICK", { User: "José" })).params.Status, "OK");
    assert.deepEqual((await jose.next()).parameters, { kicked_user: nfd });
    await carol.close();
    await jose.send("LEVE");
    assert.deepEqual((await jose.next()).parameters, { username: nfd });
  });
});
