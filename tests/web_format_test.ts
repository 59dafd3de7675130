import assert from "node:assert/strict";
import {
  colourIndex,
  dayLabel,
  reconnectDelay,
  sameGroup,
  snippetParts,
} from "../web/src/format.ts";

Deno.test("snippetParts finds the matches the server put between brackets", () => {
  assert.deepEqual(snippetParts("…the [build] is [green]"), [
    { text: "…the ", match: false },
    { text: "build", match: true },
    { text: " is ", match: false },
    { text: "green", match: true },
  ]);
  assert.deepEqual(snippetParts("no match"), [{ text: "no match", match: false }]);
  assert.deepEqual(snippetParts("[记者]"), [{ text: "记者", match: true }]);
});

Deno.test("sameGroup joins messages of the same few minutes and day", () => {
  assert.ok(sameGroup("2026-11-23T09:00:00.000Z", "2026-11-23T09:04:59.000Z"));
  assert.ok(!sameGroup("2026-11-23T09:00:00.000Z", "2026-11-23T09:05:00.000Z"));
});

Deno.test("dayLabel says Today and Yesterday, else the date", () => {
  const now = new Date(2026, 10, 23, 12);
  assert.equal(dayLabel(new Date(2026, 10, 23, 1).toISOString(), now), "Today");
  assert.equal(dayLabel(new Date(2026, 10, 22, 23).toISOString(), now), "Yesterday");
  assert.match(
    dayLabel(new Date(2026, 10, 20, 12).toISOString(), now, "en-GB"),
    /20 November 2026/,
  );
});

Deno.test("colourIndex is stable and reconnectDelay backs off to 10 s", () => {
  assert.equal(colourIndex("江主席"), colourIndex("江主席"));
  assert.ok(colourIndex("bob") >= 0 && colourIndex("bob") < 8);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 9].map((n) => reconnectDelay(n, () => 0.5)), [
    500,
    1000,
    2000,
    4000,
    8000,
    10_000,
    10_000,
  ]);
  assert.equal(reconnectDelay(0, () => 0), 400);
  assert.equal(reconnectDelay(0, () => 1), 600);
});
