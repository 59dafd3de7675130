import assert from "node:assert/strict";
import { runTimeout } from "./cluster.ts";

Deno.test("bench:cluster gives a run 120 s, or its sending time and a minute more", () => {
  assert.equal(runTimeout(10, 5), 120);
  assert.equal(runTimeout(10, 100), 170);
  assert.equal(runTimeout(10, 150.5), 221);
});
