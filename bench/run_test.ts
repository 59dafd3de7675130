import assert from "node:assert/strict";
import { parseBenchArgs } from "./options.ts";
import { runBench } from "./run.ts";

Deno.test("a short run over WebSocket delivers everything and times only what follows the warm-up", async () => {
  const options = parseBenchArgs([
    "--transport",
    "websocket",
    "--clients",
    "4",
    "--rate",
    "400",
    "--warmup",
    "0.5",
    "--duration",
    "0.5",
    "--workers",
    "1",
    "--timeout",
    "30",
  ]);
  const result = await runBench(options);
  assert.equal(result.failure, null);
  assert.deepEqual(result.errorSamples, []);
  assert.equal(result.transport, "websocket");
  assert.equal(result.durableCommits, true);
  assert.ok(result.sent > 0);
  assert.equal(result.lost, 0);
  assert.equal(result.delivered, result.sent * 3, "each message reaches the 3 others");
  assert.equal(result.acked, result.sent, "every SEND_MSG answered OK over WebSocket");
  assert.ok(result.measuredSent > 0 && result.measuredSent < result.sent, "some sent in warm-up");
  assert.ok(result.latencyMs.samples > 0);
  assert.ok(result.latencyMs.samples < result.delivered, "warm-up deliveries are not timed");
  assert.ok(result.serverStats.cpuMicrosPerMessage! > 0);
  assert.ok(result.indexedSeconds !== null, "the closing search over TCP was answered");
});

Deno.test("a run with messages at random times keeps the rate and says how they were spaced", async () => {
  const options = parseBenchArgs([
    ...["--clients", "4", "--rate", "400", "--arrivals", "random", "--duration", "1"],
    ...["--workers", "2", "--timeout", "30"],
  ]);
  const result = await runBench(options);
  assert.equal(result.failure, null);
  assert.equal(result.shape.arrivals, "random");
  assert.equal(result.lost, 0);
  // a Poisson count of mean 400 has a standard deviation of 20
  assert.ok(result.sent > 250 && result.sent < 550, `${result.sent} sent in 1 s at 400/s`);
  assert.equal(result.delivered, result.sent * 3, "each message reaches the 3 others");
});
