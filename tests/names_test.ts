import assert from "node:assert/strict";
import { parseRows } from "../protocol/content.ts";
import { NO_FLOOD_LIMITS } from "../core/limits/flood_control.ts";
import { online, RawConnection, startTestServer } from "./helpers.ts";

/** REGISTER's status and reason for `name`, with a good password. */
async function register(c: RawConnection, name: string): Promise<[string, string | undefined]> {
  const { params } = await c.request("REGISTER", { Username: name, Password: "a fine pass" });
  return [params.Status, params.Reason];
}

/** Look-alikes of `alice`, none of which may become an account while `alice` is one. */
const ALICE_LOOK_ALIKES = [
  "\u0430lice", // Cyrillic а
  "al\u0456ce", // Cyrillic і
  "\u0391lice", // Greek capital alpha
  "ALICE",
  "ａｌｉｃｅ", // fullwidth
  "aIice", // capital I for l
  "a\u217Cice", // small roman numeral fifty
  "\u0251lice", // Latin alpha
];

/** Variants of `alice` that hide characters, refused as names whether or not alice exists. */
const HIDING = [
  ["a\u200blice", "name contains an invisible character (U+200B)"],
  ["alice\u200d", "name contains an invisible character (U+200D)"],
  ["\u202ealice", "name contains a bidirectional control character (U+202E)"],
  ["alice\u2066", "name contains a bidirectional control character (U+2066)"],
  ["ali\u3164ce", "name contains an invisible character (U+3164)"],
  ["alice\u115f", "name contains an invisible character (U+115F)"],
  ["al\uffa0ice", "name contains an invisible character (U+FFA0)"],
  ["alice\u{E0041}", "name contains a tag character (U+E0041)"],
  ["\u200b\u200b", "name contains an invisible character (U+200B)"],
  ["\u3164", "name contains an invisible character (U+3164)"],
  ["\u2800", "name contains an invisible character (U+2800)"],
];

Deno.test("REGISTER refuses look-alikes of a taken name, and names that hide characters", async () => {
  const server = await startTestServer({ floodLimits: NO_FLOOD_LIMITS });
  const c = await RawConnection.open(server);
  assert.deepEqual(await register(c, "alice"), ["OK", undefined]);
  for (const name of ALICE_LOOK_ALIKES) {
    assert.deepEqual(await register(c, name), ["NAME_TAKEN", undefined], JSON.stringify(name));
  }
  for (const [name, reason] of HIDING) {
    assert.deepEqual(await register(c, name), ["INVALID_NAME", reason], JSON.stringify(name));
  }
  assert.deepEqual(await register(c, "alina"), ["OK", undefined], "a different name is fine");
  assert.deepEqual(await register(c, "\u0430\u043b\u0438\u043d\u0430"), ["OK", undefined], "алина");
  await c.close();
  await server.close();
});

Deno.test("CREATE_ROOM refuses look-alikes of a room, and room names that hide characters", async () => {
  const server = await startTestServer();
  const ann = await online(server.addr.port, "ann");
  const create = async (name: string) => {
    const { params } = await ann.request("CREATE_ROOM", { "Room-Name": name });
    return [params.Status, params.Reason];
  };
  assert.deepEqual(await create("Lobby"), [
    "ROOM_EXISTS",
    'the room "lobby" has a name that looks the same',
  ]);
  assert.deepEqual(await create("rand\u043em"), [
    "ROOM_EXISTS",
    'the room "random" has a name that looks the same',
  ]);
  assert.deepEqual(await create("lobby\u200b"), [
    "INVALID_NAME",
    "name contains an invisible character (U+200B)",
  ]);
  assert.deepEqual(await create("\u202eybbol"), [
    "INVALID_NAME",
    "name contains a bidirectional control character (U+202E)",
  ]);
  assert.deepEqual(await create("lobby two"), ["OK", undefined]);
  await ann.close();
  await server.close();
});

Deno.test("KICK and BAN refuse a Reason with control characters, as message text is refused", async () => {
  const server = await startTestServer();
  const ann = await online(server.addr.port, "ann");
  await ann.request("CREATE_ROOM", { "Room-Name": "den" });
  await ann.request("JOIN_ROOM", { "Room-Name": "den" });
  const bob = await online(server.addr.port, "bob", { room: "den" });
  for (const method of ["KICK", "BAN"]) {
    for (
      const [reason, char] of [["\x1b[2J", "U+001B"], ["ding\x07", "U+0007"], ["\x9b", "U+009B"]]
    ) {
      const { params } = await ann.request(method, { User: "bob", Reason: reason });
      assert.deepEqual([params.Status, params.Reason], [
        "BAD_REQUEST",
        `Reason contains the control character ${char}`,
      ]);
    }
  }
  assert.equal(await bob.frameWithin(100), null, "bob is still in den and told nothing");
  assert.equal(
    (await ann.request("KICK", { User: "bob", Reason: "calm \u202e" })).params.Status,
    "OK",
  );
  await Promise.all([ann, bob].map((c) => c.close()));
  await server.close();
});

Deno.test("direct conversations of users whose names contain ↔ do not share a room", async () => {
  const server = await startTestServer({ floodLimits: NO_FLOOD_LIMITS });
  const port = server.addr.port;
  const c = await RawConnection.open(server);
  for (const name of ["a ↔ b", "c", "a", "b ↔ c"]) {
    assert.deepEqual(await register(c, name), ["OK", undefined], name);
  }
  await c.close();
  const connect = async (user: string) => {
    const conn = await RawConnection.open(port);
    const { params } = await conn.request("LOGIN", { Username: user, Password: "a fine pass" });
    assert.equal(params.Status, "OK");
    return conn;
  };
  const [ab, cc, a, bc] = await Promise.all(["a ↔ b", "c", "a", "b ↔ c"].map(connect));
  assert.equal((await ab.request("DM", { To: "c" }, "first pair secret")).params.Status, "OK");
  assert.equal((await a.request("DM", { To: "b ↔ c" }, "second pair secret")).params.Status, "OK");
  const found = async (conn: RawConnection) =>
    parseRows((await conn.request("SEARCH", { Query: "secret" })).content ?? "", 5)
      .map(([, room, from]) => [room, from]);
  assert.deepEqual(await found(cc), [["a \\↔ b ↔ c", "a ↔ b"]]);
  assert.deepEqual(await found(a), [["a ↔ b \\↔ c", "a"]]);
  assert.deepEqual(await found(bc), [["a ↔ b \\↔ c", "a"]]);
  await Promise.all([ab, cc, a, bc].map((conn) => conn.close()));
  await server.close();
});
