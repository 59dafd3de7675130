import assert from "node:assert/strict";
import {
  escapeField,
  formatCounts,
  formatMessageLines,
  formatNameList,
  parseCounts,
  parseMessageLines,
  splitLines,
  unescapeField,
} from "./content.ts";
import { nameProblem } from "./names.ts";

Deno.test("NEW_MSG lines keep tabs, newlines and backslashes unambiguous", () => {
  const messages = [
    { from: "ann", time: "2026-11-23T09:00:00.000Z", content: "a\tb\nc\\n not a newline\r" },
    { from: "江主席", time: "2026-11-23T09:00:01.000Z", content: "" },
  ];
  const text = formatMessageLines(messages);
  assert.equal(text.split("\n").length, 3, "one line per message plus the final newline");
  assert.equal(text.split("\n")[0].split("\t").length, 3);
  assert.deepEqual(parseMessageLines(text), messages);
});

Deno.test("escapeField and unescapeField are inverse", () => {
  for (const s of ["", "\\", "\\\\n", "\n\t\r", "plain", "end\\"]) {
    assert.equal(unescapeField(escapeField(s)), s);
  }
});

Deno.test("parseMessageLines rejects a line without three fields", () => {
  assert.throws(() => parseMessageLines("ann\tonly two\n"), SyntaxError);
});

Deno.test("name lists end every name with a newline", () => {
  assert.equal(formatNameList(["a", "香港记者招待会"]), "a\n香港记者招待会\n");
  assert.deepEqual(splitLines("a\nb\n"), ["a", "b"]);
  assert.deepEqual(splitLines("a\nb"), ["a", "b"]);
  assert.deepEqual(splitLines(""), []);
});

Deno.test("Member-Counts round-trips and rejects garbage", () => {
  assert.deepEqual(parseCounts(formatCounts([3, 0, 12])), [3, 0, 12]);
  assert.deepEqual(parseCounts(undefined), []);
  assert.throws(() => parseCounts("1,x"), SyntaxError);
});

Deno.test("nameProblem accepts any Unicode name and rejects control characters", () => {
  assert.equal(nameProblem("香港记者招待会"), null);
  assert.equal(nameProblem("room with spaces"), null);
  assert.match(nameProblem("")!, /empty/);
  assert.match(nameProblem("a\tb")!, /control character/);
  assert.match(nameProblem("a\u0000")!, /control character/);
  assert.match(nameProblem(" lead")!, /white space/);
  assert.match(nameProblem("x".repeat(65))!, /longer than 64/);
  assert.match(nameProblem("e\u0301")!, /NFC/);
});
