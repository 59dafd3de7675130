import assert from "node:assert/strict";
import vendored from "./confusables.json" with { type: "json" };
// a test-only package, by its pinned specifier: deno.json lists none (see tests/playwright.ts)
// deno-lint-ignore no-import-prefix
import published from "npm:unhomoglyph@1.0.6/data.json" with { type: "json" };

Deno.test("confusables.json is the data of the npm package unhomoglyph 1.0.6, unchanged", () => {
  assert.deepEqual(vendored, published);
});
