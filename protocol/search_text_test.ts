import assert from "node:assert/strict";
import { searchTerms, splitSnippet } from "./search_text.ts";

Deno.test("searchTerms splits at white space and control characters, as typed", () => {
  assert.deepEqual(searchTerms("the\u0000quick  fox\nthe"), ["the", "quick", "fox", "the"]);
  assert.deepEqual(searchTerms("Cafe\u0301"), ["Café"]);
  assert.deepEqual(searchTerms(" \t "), []);
});

Deno.test("splitSnippet marks only bracketed words of the query, ignoring case", () => {
  const parts = (snippet: string, query: string) =>
    splitSnippet(snippet, query).map(({ text, match }) => match ? `<${text}>` : text).join("");
  assert.equal(parts("the [Quick] brown [fox]", "quick FOX"), "the <Quick> brown <fox>");
  assert.equal(parts("[x] and [quick] [quickest]", "quick quickest"), "[x] and <quick> <quickest>");
  assert.equal(parts("…rly [记者] here", "记者"), "…rly <记者> here");
  assert.equal(parts("[unclosed quick", "quick"), "[unclosed quick");
  assert.equal(parts("a [build]\u0000[green]", "build\u0000green"), "a <build>\u0000<green>");
  assert.deepEqual(splitSnippet("", "quick"), []);
});

Deno.test("splitSnippet gives the plain and matched parts in order", () => {
  assert.deepEqual(splitSnippet("…the [build] is [green]", "green build"), [
    { text: "…the ", match: false },
    { text: "build", match: true },
    { text: " is ", match: false },
    { text: "green", match: true },
  ]);
  assert.deepEqual(splitSnippet("no match", "x"), [{ text: "no match", match: false }]);
});
