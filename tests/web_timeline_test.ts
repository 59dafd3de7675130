import assert from "node:assert/strict";
import { type ChatMessage, Timeline } from "../web/src/timeline.ts";

function message(id: number, from = "ann"): ChatMessage {
  return {
    id,
    from,
    time: new Date(Date.UTC(2026, 10, 23, 9, 0, id)).toISOString(),
    content: `m${id}`,
  };
}

function order(timeline: Timeline): string[] {
  return timeline.entries().map((e) => e.kind === "message" ? `#${e.message.id}` : e.notice.text);
}

Deno.test("Timeline keeps messages in id order, each id once, however they arrive", () => {
  const timeline = new Timeline();
  assert.deepEqual(timeline.add([message(5), message(7)]), {
    added: [message(5), message(7)],
    appended: true,
  });
  const pushed = timeline.add([message(9)]);
  assert.equal(pushed.appended, true, "a newer message can simply be appended");
  const history = timeline.add([message(3), message(5), message(4)]);
  assert.deepEqual(history.added.map((m) => m.id), [3, 4], "5 was known");
  assert.equal(history.appended, false, "older messages need a re-render");
  const gap = timeline.add([message(9), message(8), message(10), message(7)]);
  assert.deepEqual(gap.added.map((m) => m.id), [8, 10]);
  assert.deepEqual(timeline.messages().map((m) => m.id), [3, 4, 5, 7, 8, 9, 10]);
  assert.deepEqual([timeline.oldestId, timeline.newestId, timeline.size], [3, 10, 7]);
  assert.deepEqual(timeline.add([]), { added: [], appended: true });
});

Deno.test("Timeline shows a notice after the newest message known when it happened", () => {
  const timeline = new Timeline();
  timeline.addNotice("bob joined", "t");
  timeline.add([message(2), message(4)]);
  timeline.addNotice("carol joined", "t");
  timeline.add([message(6)]);
  timeline.add([message(3), message(1)]);
  timeline.addNotice("bob left", "t");
  assert.deepEqual(order(timeline), [
    "bob joined",
    "#1",
    "#2",
    "#3",
    "#4",
    "carol joined",
    "#6",
    "bob left",
  ]);
  assert.equal(new Timeline().oldestId, null);
  assert.equal(new Timeline().newestId, 0);
});
