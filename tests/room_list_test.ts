/**
 * Many rooms: LIST_ROOMS in pages (After, Limit, More), the bounded room
 * list of original sessions, `--max-rooms`, and the clients that page.
 * Over real sockets on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { parseCounts, splitLines } from "../protocol/content.ts";
import type { Message } from "../protocol/message.ts";
import { ChatClient } from "../client/chat_client.ts";
import { tcp } from "../client/tcp_transport.ts";
import { ACCOUNTS, RawConnection, startTestServer } from "./helpers.ts";
import { OriginalClient } from "./original_client.ts";
import { JsonSocket, startWebTestServer } from "./web_helpers.ts";

/** `count` room names, one of them holding `": "` (fine in a name and in After). */
function roomNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => i === 999 ? "question: why" : `room ${i}`);
}

function manyRooms(count: number) {
  return { globals: { accounts: new Map(ACCOUNTS), rooms: roomNames(count) } };
}

/** Every page of LIST_ROOMS, each asked for After the last name of the one before. */
async function allPages(
  request: (method: string, params: Record<string, string>) => Promise<Message>,
): Promise<Message[]> {
  const pages: Message[] = [];
  let after: string | null = null;
  do {
    const page = await request("LIST_ROOMS", after === null ? {} : { After: after });
    assert.equal(page.params.Status, "OK");
    pages.push(page);
    after = page.params.More === "yes" ? splitLines(page.content!).at(-1)! : null;
  } while (after !== null);
  return pages;
}

Deno.test("LIST_ROOMS pages rooms with After and Limit, in creation order", async () => {
  const names = roomNames(2_345);
  const server = await startTestServer(manyRooms(names.length));
  try {
    const ann = await RawConnection.open(server);
    await ann.login("ann");
    await ann.request("JOIN_ROOM", { "Room-Name": "room 1000" });
    const pages = await allPages((method, params) => ann.request(method, params));
    assert.deepEqual(pages.map((page) => page.params.More), ["yes", "yes", "no"], "1,000 a page");
    assert.deepEqual(pages.flatMap((page) => splitLines(page.content!)), names);
    const counts = pages.flatMap((page) => parseCounts(page.params["Member-Counts"]));
    assert.equal(counts.length, names.length);
    assert.deepEqual(
      counts.flatMap((n, i) => n > 0 ? [names[i]] : []),
      ["room 1000"],
      "each page has the counts of its own rooms",
    );

    const small = await ann.request("LIST_ROOMS", { After: "question: why", Limit: "2" });
    assert.deepEqual(
      [small.content, small.params["Member-Counts"], small.params.More],
      ["room 1000\nroom 1001\n", "1,0", "yes"],
    );
    const last = await ann.request("LIST_ROOMS", { After: names[names.length - 1] });
    assert.deepEqual([last.content, last.params["Member-Counts"], last.params.More], [
      "",
      "",
      "no",
    ]);
    await ann.close();
  } finally {
    await server.close();
  }
});

Deno.test("LIST_ROOMS refuses a Limit out of range and an After that names no room", async () => {
  const server = await startTestServer();
  try {
    const ann = await RawConnection.open(server);
    await ann.login("ann");
    for (
      const [params, reason] of [
        [{ Limit: "0" }, "Limit must be a whole number from 1 to 1000"],
        [{ Limit: "1001" }, "Limit must be a whole number from 1 to 1000"],
        [{ Limit: "ten" }, "Limit must be a whole number from 1 to 1000"],
        [{ After: "nowhere" }, "After names no room"],
      ] as const
    ) {
      const refused = await ann.request("LIST_ROOMS", params);
      assert.deepEqual(
        [refused.method, refused.params.Status, refused.params.Reason],
        ["RESP_LIST_ROOMS", "BAD_REQUEST", reason],
      );
    }
    await ann.close();
  } finally {
    await server.close();
  }
});

Deno.test("ChatClient.rooms reads every page, roomPage one", async () => {
  const names = roomNames(2_001);
  const server = await startTestServer(manyRooms(names.length));
  const client = await ChatClient.connect(tcp({ port: server.addr.port }));
  try {
    await client.login("ann", ACCOUNTS.get("ann")!);
    const rooms = await client.rooms();
    assert.deepEqual(rooms.map((room) => room.name), names);
    const page = await client.roomPage({ after: "room 1", limit: 3 });
    assert.deepEqual(page, {
      rooms: ["room 2", "room 3", "room 4"].map((name) => ({ name, members: 0 })),
      more: true,
    });
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("an original session's room list holds at most 1,000 rooms, those with members first", async () => {
  const names = roomNames(1_500);
  const server = await startTestServer(manyRooms(names.length));
  try {
    const ann = await OriginalClient.open(server);
    assert.equal(await ann.login("ann", ACCOUNTS.get("ann")!), true);
    assert.equal(await ann.joinRoom("room 1400"), true);
    const bob = await RawConnection.open(server);
    await bob.login("bob");
    await bob.request("JOIN_ROOM", { "Room-Name": "room 1499" });
    const rows = await ann.listRooms();
    assert.ok(rows);
    assert.equal(rows.length, 1_000);
    assert.deepEqual(rows.slice(0, 3), [["room 1400", "1"], ["room 1499", "1"], ["room 0", "0"]]);
    assert.deepEqual(rows[rows.length - 1], ["room 997", "0"]);
    ann.close();
    await bob.close();
  } finally {
    await server.close();
  }
});

Deno.test("--max-rooms: CREATE_ROOM beyond it is NOT_ALLOWED with a reason, for admins too", async () => {
  const server = await startTestServer({ maxRooms: 4, admins: ["bob"] });
  try {
    const ann = await RawConnection.open(server);
    await ann.login("ann");
    assert.equal((await ann.request("CREATE_ROOM", { "Room-Name": "fourth" })).params.Status, "OK");
    const bob = await RawConnection.open(server);
    await bob.login("bob");
    for (const c of [ann, bob]) {
      const refused = await c.request("CREATE_ROOM", { "Room-Name": "fifth" });
      assert.deepEqual([refused.params.Status, refused.params.Reason], [
        "NOT_ALLOWED",
        "this server has 4 rooms, the most it holds",
      ]);
    }
    const exists = await bob.request("CREATE_ROOM", { "Room-Name": "lobby" });
    assert.equal(exists.params.Status, "ROOM_EXISTS", "a taken name is still told as such");
    const listed = await ann.request("LIST_ROOMS");
    assert.equal(listed.content, "lobby\nrandom\n香港记者招待会\nfourth\n");
    await ann.close();
    await bob.close();
  } finally {
    await server.close();
  }
});

Deno.test("a web user of a server with 10,000 rooms is not dropped at sign-in: the list comes in pages", async () => {
  const names = roomNames(10_000);
  const server = await startWebTestServer({
    ...manyRooms(names.length),
    sendQueueBytes: 64 * 1024,
  });
  try {
    const web = await JsonSocket.open(server);
    await web.login("ann");
    const pages = await allPages((method, params) => web.request(method, params));
    assert.equal(pages.flatMap((page) => splitLines(page.content!)).length, names.length);
    assert.equal((await web.request("PING")).method, "PONG", "still connected");
    await web.close();
  } finally {
    await server.close();
  }
});
