import assert from "node:assert/strict";
import type { Message } from "./message.ts";
import { parseRoomPage, readRoomPages } from "./room_list.ts";

function page(names: string[], counts: number[], more: boolean): Message {
  return {
    method: "RESP_LIST_ROOMS",
    params: { Status: "OK", "Member-Counts": counts.join(","), More: more ? "yes" : "no" },
    content: names.map((name) => `${name}\n`).join(""),
  };
}

Deno.test("parseRoomPage pairs names with counts and reads More", () => {
  assert.deepEqual(parseRoomPage(page(["a: b", "c"], [3, 0], true)), {
    rooms: [{ name: "a: b", members: 3 }, { name: "c", members: 0 }],
    more: true,
  });
  assert.deepEqual(parseRoomPage(page([], [], false)), { rooms: [], more: false });
  const older = { method: "RESP_LIST_ROOMS", params: { Status: "OK" }, content: "x\n" };
  assert.deepEqual(parseRoomPage(older), { rooms: [{ name: "x", members: 0 }], more: false });
});

Deno.test("readRoomPages goes on after the last name of each page until More is no", async () => {
  const asked: (string | undefined)[] = [];
  const pages = [page(["a", "b"], [1, 2], true), page(["c"], [0], true), page(["d"], [4], false)];
  const list = await readRoomPages((after) => {
    asked.push(after);
    return Promise.resolve(pages[asked.length - 1]);
  }, 10);
  assert.deepEqual(asked, [undefined, "b", "c"]);
  assert.deepEqual(list.rooms.map((room) => room.name), ["a", "b", "c", "d"]);
  assert.equal(list.complete, true);
});

Deno.test("readRoomPages stops after maxPages, or at an empty page that says More", async () => {
  let asked = 0;
  const endless = await readRoomPages(() => {
    asked++;
    return Promise.resolve(page([`r${asked}`], [0], true));
  }, 3);
  assert.deepEqual([asked, endless.rooms.length, endless.complete], [3, 3, false]);
  const empty = await readRoomPages(() => Promise.resolve(page([], [], true)), 3);
  assert.deepEqual(empty, { rooms: [], complete: false });
});
