import assert from "node:assert/strict";
import { parsePoems, romanValue } from "./poems.ts";
import { POEM_COUNT, poemCorpusText, romanNumeral, SECOND_POEM } from "../tests/poem_corpus.ts";

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

Deno.test("parsePoems reads every poem of a corpus in the AllSonnets.txt layout", () => {
  const corpus = parsePoems(poemCorpusText(), "verses.txt");
  assert.equal(corpus.title, "All Verses");
  assert.equal(corpus.poems.length, POEM_COUNT);
  assert.equal(corpus.poems[1].heading, "II.");
  assert.equal(corpus.poems[1].text, SECOND_POEM);
  assert.equal(corpus.poems[153].heading, `${romanNumeral(154)}.`);
  assert.match(corpus.poems[153].text, /^Verse 154 begins .*\n With line 154 of a page or two\.$/s);
  assert.ok(!corpus.poems[2].text.endsWith(" "), "trailing spaces are cut");
});

Deno.test("parsePoems names the line of a heading out of sequence", () => {
  assert.throws(
    () => parsePoems("T\n\nI.\n\na\n\nIII.\n\nb\n", "p.txt"),
    /p.txt:7: heading III. should be poem 2/,
  );
  assert.throws(() => parsePoems("just prose\n", "p.txt"), /p.txt: no poem headings/);
});
