import assert from "node:assert/strict";
import { parsePoems, romanValue } from "./poems.ts";

Deno.test("romanValue reads the numerals of the sonnet headings", () => {
  assert.deepEqual(["I", "IV", "IX", "XIV", "XL", "XCIX", "CLIV"].map(romanValue), [
    1,
    4,
    9,
    14,
    40,
    99,
    154,
  ]);
  assert.ok(Number.isNaN(romanValue("ABC")));
});

Deno.test("parsePoems reads all 154 sonnets of AllSonnets.txt", async () => {
  const path = new URL("../../shared/data/AllSonnets.txt", import.meta.url);
  const corpus = parsePoems(await Deno.readTextFile(path), "AllSonnets.txt");
  assert.equal(corpus.title, "All Sonnets");
  assert.equal(corpus.poems.length, 154);
  assert.equal(corpus.poems[1].heading, "II.");
  assert.match(corpus.poems[1].text, /^When forty winters shall besiege thy brow,\n/);
  assert.match(corpus.poems[153].text, /Love's fire heats water, water cools not love\.$/);
});

Deno.test("parsePoems names the line of a heading out of sequence", () => {
  assert.throws(
    () => parsePoems("T\n\nI.\n\na\n\nIII.\n\nb\n", "p.txt"),
    /p.txt:7: heading III. should be poem 2/,
  );
  assert.throws(() => parsePoems("just prose\n", "p.txt"), /p.txt: no poem headings/);
});
