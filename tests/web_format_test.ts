import assert from "node:assert/strict";
import { colourIndex, dayLabel, sameGroup } from "../web/src/format.ts";

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

Deno.test("colourIndex is stable and one of 8", () => {
  assert.equal(colourIndex("江主席"), colourIndex("江主席"));
  assert.ok(colourIndex("bob") >= 0 && colourIndex("bob") < 8);
});
