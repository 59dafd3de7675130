import assert from "node:assert/strict";
import { markMatches, parseSearchQuery } from "./search_query.ts";

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

Deno.test("parseSearchQuery quotes terms for FTS5 and escapes LIKE wildcards", () => {
  assert.deepEqual(parseSearchQuery('  a%_b  long"er  long"er '), {
    match: '"a%_b" "long""er"',
    likes: [],
    terms: ["a%_b", 'long"er'],
  });
  assert.deepEqual(parseSearchQuery("记者 ab").likes, ["%记者%", "%ab%"]);
  assert.deepEqual(parseSearchQuery("5%").likes, ["%5\\%%"]);
});

Deno.test("parseSearchQuery splits at control characters, so a NUL cannot end the FTS5 string", () => {
  assert.deepEqual(parseSearchQuery('abc\u0000"def').terms, ["abc", '"def']);
  assert.equal(parseSearchQuery("\u0000\u0001").match, null);
});
