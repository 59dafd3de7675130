import assert from "node:assert/strict";
import { reconnectDelay, Reconnector, type TryOutcome } from "./reconnector.ts";

/** A try that waits until the test settles it; counts how often it was made. */
function heldTries() {
  let settle: (outcome: TryOutcome) => void = () => {};
  let started: () => void = () => {};
  let next = new Promise<void>((resolve) => started = resolve);
  const tries = {
    count: 0,
    connect: (): Promise<TryOutcome> => {
      tries.count++;
      started();
      return new Promise((resolve) => settle = resolve);
    },
    /** Resolves once the next try has begun. */
    begun: () => next,
    settle: (outcome: TryOutcome) => {
      next = new Promise<void>((resolve) => started = resolve);
      settle(outcome);
    },
  };
  return tries;
}

Deno.test("reconnectDelay backs off from 0.5 s to 10 s, give or take a fifth", () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 9].map((n) => reconnectDelay(n, () => 0.5)), [
    500,
    1000,
    2000,
    4000,
    8000,
    10_000,
    10_000,
  ]);
  assert.equal(reconnectDelay(0, () => 0), 400);
  assert.equal(reconnectDelay(0, () => 1), 600);
});

Deno.test("Reconnector tries once at a time: starting it again during a try starts nothing", async () => {
  const reconnector = new Reconnector({ delayMs: () => 0 });
  const tries = heldTries();
  const first = reconnector.start(tries.connect);
  await tries.begun();
  const again = reconnector.start(tries.connect);
  tries.settle("retry");
  await tries.begun();
  tries.settle("connected");
  assert.equal(await first, "connected");
  assert.equal(await again, "connected");
  assert.equal(tries.count, 2);
  assert.equal(reconnector.running, false);
});

Deno.test("Reconnector tries again when the connection a try made was lost meanwhile", async () => {
  const reconnector = new Reconnector({ delayMs: () => 0 });
  const tries = heldTries();
  const run = reconnector.start(tries.connect);
  await tries.begun();
  reconnector.start(tries.connect); // what the try connected was lost before it finished
  tries.settle("connected");
  await tries.begun();
  tries.settle("connected");
  assert.equal(await run, "connected");
  assert.equal(tries.count, 2);
});

Deno.test("Reconnector.wake ends the wait at once; stop ends the run", async () => {
  const reconnector = new Reconnector({ delayMs: () => 3_600_000 });
  const tries = heldTries();
  const run = reconnector.start(tries.connect);
  reconnector.wake();
  await tries.begun();
  reconnector.wake(); // during a try: nothing
  tries.settle("retry");
  assert.equal(reconnector.running, true);
  reconnector.stop();
  assert.equal(await run, "stopped");
  assert.equal(tries.count, 1);
});

Deno.test("Reconnector gives up after its attempts, and stops when a try says so", async () => {
  let tries = 0;
  const limited = new Reconnector({ delayMs: () => 0, attempts: 3 });
  assert.equal(await limited.start(() => Promise.resolve((tries++, "retry"))), "gave up");
  assert.equal(tries, 3);
  const waits: number[] = [];
  const told = new Reconnector({ delayMs: (n) => n, waiting: (ms) => waits.push(ms) });
  assert.equal(
    await told.start(() => Promise.resolve(waits.length < 2 ? "retry" : "stop")),
    "stopped",
  );
  assert.deepEqual(waits, [0, 1]);
  await assert.rejects(told.start(() => Promise.reject(new TypeError("a bug"))), TypeError);
  assert.equal(told.running, false);
});
