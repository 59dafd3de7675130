import assert from "node:assert/strict";
import { FRAME_CLASSES } from "./fuzz_frames.ts";
import { runFuzz, summary } from "./fuzz.ts";

Deno.test("fuzzed frames get well-formed answers or end only their connection, and the server survives", async () => {
  // a short, fixed-seed run of `deno task fuzz`; see tests/fuzz.ts for what is checked
  const report = await runFuzz({
    frames: 30_000,
    seed: 0x5eed,
    connections: 6,
    roundFrames: 6_000,
  });
  const failures = report.failures.map((f) =>
    [`round ${f.round}, connection ${f.connection}: ${f.what}`, ...(f.lastFrames ?? [])].join(
      "\n  ",
    )
  );
  assert.deepEqual(failures, [], summary(report));
  assert.equal(report.failureCount, 0);
  assert.ok(report.frames >= 30_000, summary(report));
  assert.equal(report.rounds, 5);
  for (const kind of FRAME_CLASSES) {
    assert.ok(report.byClass[kind] > 0, `no ${kind} frame was sent`);
  }
  assert.ok(report.responses > 25_000, summary(report));
  const endings = Object.keys(report.endings);
  for (const ending of [/^framing error/, /^incomplete frame/, /^closed by us$/, /in flight/]) {
    assert.ok(endings.some((e) => ending.test(e)), `no connection ended as ${ending}`);
  }
});
