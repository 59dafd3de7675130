import assert from "node:assert/strict";
import { WorkQueue } from "./work_queue.ts";

/** A job that runs until `finish` is called, recording when it starts. */
function gatedJobs(started: string[]) {
  const gates = new Map<string, () => void>();
  return {
    job: (name: string) => () =>
      new Promise<string>((resolve) => {
        started.push(name);
        gates.set(name, () => resolve(name));
      }),
    finish: async (name: string) => {
      gates.get(name)!();
      await new Promise((resolve) => setTimeout(resolve, 0));
    },
  };
}

Deno.test("a work queue runs so many jobs at once; the others wait their turn in order", async () => {
  const started: string[] = [];
  const { job, finish } = gatedJobs(started);
  const queue = new WorkQueue({ running: 2, waiting: 10 });
  const results = ["a", "b", "c", "d"].map((name) => queue.run(job(name)));
  assert.deepEqual(started, ["a", "b"]);
  assert.deepEqual([queue.running, queue.waiting], [2, 2]);
  await finish("b");
  assert.deepEqual(started, ["a", "b", "c"]);
  await finish("a");
  await finish("c");
  await finish("d");
  assert.deepEqual(await Promise.all(results), ["a", "b", "c", "d"]);
  assert.deepEqual([queue.running, queue.waiting], [0, 0]);
});

Deno.test("urgent jobs go before ordinary ones that waited longer", async () => {
  const started: string[] = [];
  const { job, finish } = gatedJobs(started);
  const queue = new WorkQueue({ running: 1, waiting: 10 });
  queue.run(job("running"));
  queue.run(job("ordinary 1"));
  queue.run(job("ordinary 2"));
  queue.run(job("urgent"), { urgent: true });
  await finish("running");
  await finish("urgent");
  await finish("ordinary 1");
  assert.deepEqual(started, ["running", "urgent", "ordinary 1", "ordinary 2"]);
});

Deno.test("a full work queue refuses ordinary work; urgent work takes the newest ordinary place", async () => {
  const started: string[] = [];
  const { job, finish } = gatedJobs(started);
  const queue = new WorkQueue({ running: 1, waiting: 2 });
  queue.run(job("running"));
  const older = queue.run(job("older"));
  const newer = queue.run(job("newer"));
  assert.equal(await queue.run(job("refused")), null, "no room: refused at once");
  const urgent = [
    queue.run(job("urgent 1"), { urgent: true }),
    queue.run(job("urgent 2"), { urgent: true }),
  ];
  assert.equal(await newer, null, "the newest ordinary job gave way");
  assert.equal(await older, null, "and then the older one");
  assert.equal(
    await queue.run(job("urgent 3"), { urgent: true }),
    null,
    "no ordinary job left to displace",
  );
  await finish("running");
  await finish("urgent 1");
  await finish("urgent 2");
  assert.deepEqual(await Promise.all(urgent), ["urgent 1", "urgent 2"]);
  assert.deepEqual(started, ["running", "urgent 1", "urgent 2"]);
});

Deno.test("a job that fails frees its place for the next", async () => {
  const queue = new WorkQueue({ running: 1, waiting: 1 });
  const failing = queue.run(() => Promise.reject(new Error("disk on fire")));
  const next = queue.run(() => Promise.resolve("next"));
  await assert.rejects(failing, /disk on fire/);
  assert.equal(await next, "next");
  const thrown = queue.run(() => {
    throw new RangeError("at once");
  });
  await assert.rejects(thrown, RangeError);
  assert.equal(queue.running, 0);
});

Deno.test("a job counts for its key while it waits or runs, and the queue says when it is full", async () => {
  const started: string[] = [];
  const { job, finish } = gatedJobs(started);
  const queue = new WorkQueue({ running: 1, waiting: 1 });
  queue.run(job("a"), { key: "ann" });
  assert.equal(queue.full, false);
  queue.run(job("b"), { key: "ann" });
  assert.deepEqual([queue.jobsOf("ann"), queue.jobsOf("bob"), queue.full], [2, 0, true]);
  await finish("a");
  assert.deepEqual([queue.jobsOf("ann"), queue.full], [1, false]);
  await finish("b");
  assert.equal(queue.jobsOf("ann"), 0);
});
