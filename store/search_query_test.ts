import assert from "node:assert/strict";
import { containsFolded, markMatches, parseSearchQuery } from "./search_query.ts";
import { searchTerms } from "../protocol/search_text.ts";

Deno.test("markMatches marks every match, case-insensitively, and cuts with an ellipsis", () => {
  const text = "A needle in a haystack; another NEEDLE later. " + "x".repeat(200);
  assert.equal(
    markMatches(text, ["needle"], 60),
    "A [needle] in a haystack; another [NEEDLE] later. xxxxxxxxxxxxxx…",
  );
});

Deno.test("markMatches never cuts an emoji in half", () => {
  const text = "😀".repeat(20) + "needle b" + "😀".repeat(50);
  const snippet = markMatches(text, ["needle"], 30);
  assert.ok(!snippet.includes("\uFFFD"));
  assert.ok(
    !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(snippet),
    snippet,
  );
  assert.match(snippet, /\[needle\]/);
});

Deno.test("parseSearchQuery looks up terms by their trigrams and checks them by LIKE", () => {
  assert.deepEqual(parseSearchQuery(searchTerms('  a%_b  long"er  long"er ')), {
    match: '"a%_" "%_b" "lon" "ong" "ng""" "g""e" """er"',
    likes: ["%a\\%\\_b%", '%long"er%'],
    folded: [],
    terms: ["a%_b", 'long"er'],
  });
  assert.deepEqual(
    parseSearchQuery(searchTerms("记者 ab")).likes,
    ["%记者%", "%ab%"],
    "short terms: a scan",
  );
  assert.deepEqual(parseSearchQuery(searchTerms("5%")).likes, ["%5\\%%"]);
  assert.deepEqual(
    parseSearchQuery(searchTerms("abc")).likes,
    [],
    "a trigram alone is the whole term",
  );
});

Deno.test("parseSearchQuery checks non-ASCII terms case-folded, and long terms by a prefix", () => {
  const query = parseSearchQuery(searchTerms("ÉMILE abcdefghijklmnop"));
  assert.deepEqual(query.folded, ["émile"]);
  assert.deepEqual(query.likes, ["%abcdefghijklmnop%"]);
  assert.equal(query.match?.split(" ").length, 3 + 10, "trigrams of the first 12 characters only");
  assert.ok(containsFolded("Dear Émile,", "émile"));
  assert.ok(!containsFolded("Dear Emile,", "émile"));
});

Deno.test("searchTerms splits at control characters, so a NUL cannot end the FTS5 string", () => {
  assert.deepEqual(parseSearchQuery(searchTerms('abc\u0000"def')).terms, ["abc", '"def']);
  assert.equal(parseSearchQuery(searchTerms("\u0000\u0001")).match, null);
});
