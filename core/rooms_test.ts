import assert from "node:assert/strict";
import { online, testChat } from "./testing.ts";

Deno.test("rooms are created once, never under a look-alike name, within the bounds", async () => {
  const { chat } = await testChat({
    users: ["ann", "root"],
    rooms: ["lobby"],
    maxRoomsPerUser: 1,
    maxRooms: 3,
    admins: new Set(["root"]),
  });
  const [ann, root] = await Promise.all([online(chat, "ann"), online(chat, "root")]);
  assert.deepEqual(await chat.createRoom(ann.session, "Lobby"), {
    status: "ROOM_EXISTS",
    reason: 'the room "lobby" has a name that looks the same',
  });
  assert.deepEqual(await chat.createRoom(ann.session, "lobby"), { status: "ROOM_EXISTS" });
  assert.equal((await chat.createRoom(ann.session, " x")).status, "INVALID_NAME");
  assert.deepEqual(await chat.createRoom(ann.session, "den"), { status: "OK" });
  assert.deepEqual(await chat.createRoom(ann.session, "attic"), {
    status: "NOT_ALLOWED",
    reason: "you own 1 rooms, the most one user may",
  });
  assert.deepEqual(await chat.createRoom(root.session, "hall"), { status: "OK" }, "an admin");
  assert.deepEqual(await chat.createRoom(root.session, "porch"), {
    status: "NOT_ALLOWED",
    reason: "this server has 3 rooms, the most it holds",
  });
});

Deno.test("rooms are listed in creation order a page at a time, or those with members first", async () => {
  const { chat } = await testChat({ users: ["ann"], rooms: ["a", "b", "c"] });
  const { session } = await online(chat, "ann");
  await chat.join(session, "c");
  assert.deepEqual(chat.roomPage(null, 2), {
    rooms: [{ name: "a", members: 0 }, { name: "b", members: 0 }],
    more: true,
  });
  assert.deepEqual(chat.roomPage("b", 2), { rooms: [{ name: "c", members: 1 }], more: false });
  assert.equal(chat.roomPage("nowhere", 2), null);
  assert.deepEqual(chat.roomsOccupiedFirst(2).map((room) => room.name), ["c", "a"]);
});
