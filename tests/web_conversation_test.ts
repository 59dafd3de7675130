import assert from "node:assert/strict";
import { Conversation, Conversations, directPartner, HELD_MAX } from "../web/src/conversation.ts";
import type { ChatMessage } from "../web/src/timeline.ts";
import { directRoomName } from "../protocol/direct_room_name.ts";

function message(id: number): ChatMessage {
  return {
    id,
    from: "bob",
    time: new Date(Date.UTC(2026, 10, 23, 9, 0, id)).toISOString(),
    content: `m${id}`,
  };
}

function ids(conversation: Conversation): number[] {
  return conversation.timeline.messages().map((m) => m.id);
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => message(from + i));

Deno.test("a conversation not fetched yet leaves live messages to the fetch", () => {
  const conversation = new Conversation("direct", "bob");
  assert.equal(conversation.receive(message(1)), null);
  assert.deepEqual(ids(conversation), []);
  assert.equal(conversation.live, false);
});

Deno.test("while catching up, live messages wait and join when a page reaches the newest", () => {
  const conversation = new Conversation("room", "lobby");
  conversation.addPage(range(1, 3), { older: false, newer: false });
  conversation.unsync(); // the connection dropped; 4 to 6 were posted meanwhile
  conversation.hold();
  assert.equal(conversation.receive(message(8)), null, "held back");
  assert.equal(conversation.receive(message(7)), null);
  const first = conversation.addPage(range(4, 5), { newer: true });
  assert.deepEqual([first.added.map((m) => m.id), first.appended], [[4, 5], true]);
  assert.equal(conversation.behind, true);
  const last = conversation.addPage(range(6, 7), { newer: false });
  assert.deepEqual(last.added.map((m) => m.id), [6, 7, 8], "7 once, 8 from the held");
  assert.equal(last.appended, true, "the reader's place above stays");
  assert.equal(conversation.live, true);
  assert.deepEqual(conversation.receive(message(9))?.added, [message(9)]);
  assert.deepEqual(ids(conversation), range(1, 9).map((m) => m.id));
});

Deno.test("when too many live messages arrive while catching up, one more page is needed", () => {
  const conversation = new Conversation("room", "lobby");
  conversation.hold();
  for (let id = 11; id <= 11 + HELD_MAX; id++) conversation.receive(message(id));
  conversation.addPage(range(1, 10), { older: false, newer: false });
  assert.equal(conversation.behind, true, "the held ones were dropped: fetch on");
  conversation.addPage(range(11, 11 + HELD_MAX), { newer: false });
  assert.equal(conversation.live, true);
  assert.equal(conversation.timeline.size, 11 + HELD_MAX);
});

Deno.test("a conversation read from a past message pages forwards until it is live again", () => {
  const conversation = new Conversation("room", "random");
  conversation.addPage(range(1, 3), { older: false, newer: false });
  conversation.restart();
  conversation.reading = true;
  assert.deepEqual([ids(conversation), conversation.generation], [[], 1]);
  conversation.addPage(range(38, 40), { older: true });
  conversation.receive(message(100));
  assert.deepEqual(ids(conversation), [38, 39, 40]);
  assert.equal(conversation.older, true);
  conversation.addPage(range(41, 42), { newer: true });
  assert.equal(conversation.reading, true);
  conversation.addPage(range(43, 44), { newer: false });
  assert.equal(conversation.reading, false);
  assert.deepEqual(ids(conversation), [38, 39, 40, 41, 42, 43, 44, 100]);
});

Deno.test("Conversations keeps the most recently active first, each once", () => {
  const list = new Conversations();
  list.append("direct", ["carol", "dora"]);
  const bob = list.get("direct", "bob");
  assert.equal(list.get("direct", "bob"), bob);
  const lobby = list.get("room", "lobby");
  list.append("direct", ["dora", "erin"]);
  assert.deepEqual(list.list("direct").map((c) => c.name), ["bob", "carol", "dora", "erin"]);
  list.touch(list.find("direct", "dora")!);
  assert.deepEqual(list.list().map((c) => c.name), ["dora", "lobby", "bob", "carol", "erin"]);
  list.remove(lobby);
  assert.equal(list.find("room", "lobby"), undefined);
  assert.equal(list.find("direct", "lobby"), undefined);
  list.clear();
  assert.deepEqual(list.list(), []);
});

Deno.test("directPartner reads the other user from a direct conversation's name", () => {
  assert.equal(directPartner("ann ↔ bob", "ann"), "bob");
  assert.equal(directPartner("ann ↔ bob", "bob"), "ann");
  assert.equal(directPartner("ann ↔ bob", "carol"), null);
  const arrowed = directRoomName("a ↔ z", "b");
  assert.equal(directPartner(arrowed, "b"), "a ↔ z", "names may hold the arrow");
  assert.equal(directPartner(arrowed, "a ↔ z"), "b");
  assert.equal(directPartner(directRoomName("a", "z ↔ b"), "a"), "z ↔ b");
});
