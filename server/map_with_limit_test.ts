import assert from "node:assert/strict";
import { mapWithLimit } from "./map_with_limit.ts";

Deno.test("mapWithLimit runs at most `limit` calls at once and keeps the order", async () => {
  let running = 0;
  let most = 0;
  const results = await mapWithLimit([5, 1, 4, 2, 3, 0], 2, async (ms) => {
    most = Math.max(most, ++running);
    await new Promise((resolve) => setTimeout(resolve, ms));
    running--;
    return ms * 10;
  });
  assert.deepEqual(results, [50, 10, 40, 20, 30, 0]);
  assert.equal(most, 2);
});

Deno.test("mapWithLimit rejects with the first error and starts nothing after it", async () => {
  const started: number[] = [];
  await assert.rejects(
    mapWithLimit([1, 2, 3, 4, 5], 1, (n) => {
      started.push(n);
      return n === 2 ? Promise.reject(new Error("bad 2")) : Promise.resolve(n);
    }),
    /bad 2/,
  );
  assert.deepEqual(started, [1, 2]);
});

Deno.test("mapWithLimit of nothing is nothing", async () => {
  assert.deepEqual(await mapWithLimit([], 4, () => Promise.resolve(1)), []);
});
