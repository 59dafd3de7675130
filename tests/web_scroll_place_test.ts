import assert from "node:assert/strict";
import { anchorAt, atEnd, scrollTopFor } from "../web/src/scroll_place.ts";

const items = [
  { id: 3, top: 0, bottom: 40 },
  { id: 5, top: 40, bottom: 100 },
  { id: 9, top: 100, bottom: 120 },
];

Deno.test("anchorAt finds the first message the reader sees, and how far below the top it is", () => {
  assert.deepEqual(anchorAt(items, 0), { id: 3, offset: 0 });
  assert.deepEqual(anchorAt(items, 39), { id: 3, offset: -39 }, "cut by the top edge");
  assert.deepEqual(anchorAt(items, 40), { id: 5, offset: 0 });
  assert.deepEqual(anchorAt(items, 110), { id: 9, offset: -10 });
  assert.equal(anchorAt(items, 120), null);
  assert.equal(anchorAt([], 0), null);
});

Deno.test("scrollTopFor puts the anchor back where it was after the content above grew", () => {
  const anchor = anchorAt(items, 50)!; // message 5, 10 px cut
  assert.equal(scrollTopFor(anchor, 40 + 3000), 50 + 3000, "3000 px of older messages above");
  assert.equal(scrollTopFor(anchor, undefined), null, "gone");
  assert.equal(scrollTopFor({ id: 1, offset: 30 }, 10), 0);
});

Deno.test("atEnd allows a little slack above the bottom", () => {
  assert.equal(atEnd({ scrollTop: 900, scrollHeight: 1000, clientHeight: 100 }), true);
  assert.equal(atEnd({ scrollTop: 781, scrollHeight: 1000, clientHeight: 100 }), true);
  assert.equal(atEnd({ scrollTop: 780, scrollHeight: 1000, clientHeight: 100 }), false);
});
