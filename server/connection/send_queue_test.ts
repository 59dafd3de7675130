import assert from "node:assert/strict";
import { allocateBytes } from "../../protocol/byte_slab.ts";
import { type ByteSink, placeBytes, SendQueue } from "./send_queue.ts";

/** A sink that records every buffer it is asked to write and takes it whole. */
function recordingSink(): ByteSink & { writes: Uint8Array[] } {
  const writes: Uint8Array[] = [];
  return {
    writes,
    write(bytes) {
      writes.push(bytes);
      return Promise.resolve(bytes.length);
    },
  };
}

function queueOn(sink: ByteSink): SendQueue {
  return new SendQueue(sink, {
    limit: 1 << 20,
    onWriteError: (error) => assert.fail(String(error)),
  });
}

const frame = (text: string) => new TextEncoder().encode(text);

Deno.test("frames queued in one turn go out in one write, in order", async () => {
  const sink = recordingSink();
  const queue = queueOn(sink);
  for (const text of ["one ", "two ", "three"]) queue.push(frame(text));
  await queue.drained();
  assert.deepEqual(sink.writes.map((w) => new TextDecoder().decode(w)), ["one two three"]);
});

Deno.test("connections sent the same frames share one buffer; others get their own", async () => {
  const shared = [frame("a"), frame("b"), frame("c")];
  const own = frame("own");
  const sinks = [recordingSink(), recordingSink(), recordingSink()];
  const queues = sinks.map(queueOn);
  queues[0].push(shared[0]);
  queues[0].push(shared[1]);
  queues[0].push(shared[2]);
  queues[1].push(shared[0]);
  queues[1].push(own); // a sender: its answer among the room's frames
  queues[1].push(shared[2]);
  queues[2].push(shared[0]);
  queues[2].push(shared[1]);
  queues[2].push(shared[2]);
  await Promise.all(queues.map((queue) => queue.drained()));
  const [first, second, third] = sinks.map((sink) => sink.writes[0]);
  assert.deepEqual(new TextDecoder().decode(first), "abc");
  assert.deepEqual(new TextDecoder().decode(second), "aownc");
  assert.equal(third.buffer, first.buffer, "the same frames in the same order: one buffer");
  assert.notEqual(second.buffer, first.buffer);
});

Deno.test("a queue whose frames differ only in length is not given another's buffer", async () => {
  const a = frame("a");
  const b = frame("b");
  const long = recordingSink();
  const short = recordingSink();
  const queues = [queueOn(long), queueOn(short)];
  queues[0].push(a);
  queues[0].push(b);
  queues[0].push(b);
  queues[1].push(a);
  queues[1].push(b);
  await Promise.all(queues.map((queue) => queue.drained()));
  assert.equal(new TextDecoder().decode(long.writes[0]), "abb");
  assert.equal(new TextDecoder().decode(short.writes[0]), "ab");
});

Deno.test("frames lying back to back in one slab go out as one view of it, not a copy", async () => {
  const sink = recordingSink();
  const queue = queueOn(sink);
  const frames = framesInOneSlab("a;", "b;", "c;");
  for (const bytes of frames) queue.push(bytes);
  assert.equal(queue.heldBuffers, 1);
  await queue.drained();
  assert.equal(sink.writes.length, 1);
  assert.equal(sink.writes[0].buffer, frames[0].buffer, "written from the slab itself");
  assert.equal(new TextDecoder().decode(sink.writes[0]), "a;b;c;");
});

Deno.test("a frame left out of a slab's run, or one from elsewhere between, keeps its place", async () => {
  const [a, , c, d] = framesInOneSlab("a;", "someone else's;", "c;", "d;");
  const sink = recordingSink();
  const queue = queueOn(sink);
  queue.push(a);
  queue.push(c); // not right after a: the frame between was someone else's
  queue.push(frame("other;"));
  queue.push(d); // right after c in the slab, but "other" came between
  await queue.drained();
  assert.equal(new TextDecoder().decode(sink.writes[0]), "a;c;other;d;");
});

Deno.test("a frame in another buffer is not taken for the next in a run, wherever it lies", async () => {
  const a = allocateText("a;");
  const elsewhere = new Uint8Array(new ArrayBuffer(a.byteOffset + 64), a.byteOffset + a.length, 2);
  new TextEncoder().encodeInto("b;", elsewhere);
  const sink = recordingSink();
  const queue = queueOn(sink);
  queue.push(a);
  queue.push(elsewhere);
  await queue.drained();
  assert.equal(new TextDecoder().decode(sink.writes[0]), "a;b;");
});

Deno.test("members sent the same runs of a slab share one copy", async () => {
  // "own;": a frame only a sender would not get, so the run breaks after b
  const [a, b, , c] = framesInOneSlab("a;", "b;", "own;", "c;");
  const sinks = [recordingSink(), recordingSink()];
  const queues = sinks.map(queueOn);
  for (const queue of queues) {
    queue.push(a);
    queue.push(b);
    queue.push(c);
  }
  await Promise.all(queues.map((queue) => queue.drained()));
  assert.equal(new TextDecoder().decode(sinks[0].writes[0]), "a;b;c;");
  assert.equal(sinks[1].writes[0].buffer, sinks[0].writes[0].buffer);
});

Deno.test("frames at the same place of different buffers, or of different lengths, are not taken for the same", async () => {
  const first = frame("first;");
  const x = frame("xyz");
  const [ab, cd] = framesInOneSlab("ab", "cd"); // one buffer, one length, two places
  const seconds = [x, frame("XYZ"), x.subarray(0, 2), x.subarray(1), ab, cd];
  const sinks = seconds.map(() => recordingSink());
  const queues = sinks.map(queueOn);
  queues.forEach((queue, i) => {
    queue.push(first);
    queue.push(seconds[i]);
  });
  await Promise.all(queues.map((queue) => queue.drained()));
  const written = sinks.map((sink) => new TextDecoder().decode(sink.writes[0]));
  assert.deepEqual(written, [
    "first;xyz",
    "first;XYZ",
    "first;xy",
    "first;yz",
    "first;ab",
    "first;cd",
  ]);
});

Deno.test("frames placed once go to many queues, runs and shared copies as with push", async () => {
  const [a, b, , c] = framesInOneSlab("a;", "b;", "own;", "c;").map(placeBytes);
  const sinks = [recordingSink(), recordingSink(), recordingSink()];
  const queues = sinks.map(queueOn);
  for (const queue of queues) for (const frame of [a, b, c]) queue.pushPlaced(frame);
  assert.equal(queues[0].heldBuffers, 2, "a;b; as one run, then c;");
  assert.equal(queues[0].queuedBytes, 6);
  await Promise.all(queues.map((queue) => queue.drained()));
  const written = sinks.map((sink) => new TextDecoder().decode(sink.writes[0]));
  assert.deepEqual(written, ["a;b;c;", "a;b;c;", "a;b;c;"]);
  assert.ok(sinks.every((sink) => sink.writes[0].buffer === sinks[0].writes[0].buffer));
});

/** A sink whose first write waits until `release` is called: a reader that does not read. */
function stalledSink(): ByteSink & { writes: Uint8Array[]; release(): void } {
  const writes: Uint8Array[] = [];
  let release = () => {};
  const stalled = new Promise<void>((resolve) => release = resolve);
  return {
    writes,
    release: () => release(),
    async write(bytes) {
      if (writes.length === 0) await stalled;
      writes.push(bytes.slice());
      return bytes.length;
    },
  };
}

Deno.test("frames from shared slabs held behind a stalled write are copied together, in order", async () => {
  const sink = stalledSink();
  const queue = queueOn(sink);
  queue.push(allocateText("first;"));
  await Promise.resolve(); // the first write starts and stalls
  const texts = Array.from({ length: 100 }, (_, i) => `${i};`);
  for (const text of texts) queue.push(allocateText(text));
  assert.ok(queue.heldBuffers < 20, `${queue.heldBuffers} buffers held for 100 frames`);
  sink.release();
  await queue.drained();
  const written = sink.writes.map((w) => new TextDecoder().decode(w)).join("");
  assert.equal(written, "first;" + texts.join(""));
});

Deno.test("frames of their own are not copied while a write stalls", async () => {
  const sink = stalledSink();
  const queue = queueOn(sink);
  queue.push(frame("first;"));
  await Promise.resolve();
  for (let i = 0; i < 40; i++) queue.push(frame(`${i};`));
  assert.equal(queue.heldBuffers, 40);
  sink.release();
  await queue.drained();
});

/** Texts encoded one after another into one slab, as a room's frames are. */
function framesInOneSlab(...texts: string[]): Uint8Array[] {
  const block = allocateText(texts.join(""));
  let at = 0;
  return texts.map((text) => block.subarray(at, at += text.length));
}

/** Text in a small buffer from the shared slabs, as encoded frames are. */
function allocateText(text: string): Uint8Array {
  const bytes = allocateBytes(text.length);
  new TextEncoder().encodeInto(text, bytes);
  return bytes;
}

Deno.test("a spaced queue writes each frame alone, in pieces cut between characters", async () => {
  const sink = recordingSink();
  const queue = new SendQueue(sink, {
    limit: 1 << 20,
    onWriteError: (error) => assert.fail(String(error)),
    spacing: { ms: 1, maxBytes: 4 },
  });
  const slabbed = allocateBytes(2);
  slabbed.set(frame("ok"));
  queue.push(slabbed);
  queue.push(frame(""));
  queue.push(frame("&a&b"));
  queue.push(frame("aé€x"));
  await queue.drained();
  assert.deepEqual(sink.writes.map((w) => new TextDecoder().decode(w)), [
    "ok",
    "&a&b",
    "aé",
    "€x",
  ]);
  assert.equal(queue.queuedBytes, 0);
});

Deno.test("a held queue writes nothing until the hold is over, then all it got meanwhile in one write", async () => {
  const sink = recordingSink();
  const queue = queueOn(sink);
  const start = Date.now();
  queue.holdFor(40);
  queue.push(frame("answer "));
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(sink.writes, [], "nothing written during the hold");
  queue.push(frame("event"));
  await queue.drained();
  assert.ok(Date.now() - start >= 40, "not before the hold is over");
  assert.deepEqual(sink.writes.map((w) => new TextDecoder().decode(w)), ["answer event"]);
  queue.push(frame("later"));
  await queue.drained();
  assert.equal(sink.writes.length, 2, "once the hold is over, writes go out as usual");
});

Deno.test("stopping a held queue ends its hold at once, writing nothing", async () => {
  const sink = recordingSink();
  const queue = queueOn(sink);
  queue.holdFor(60_000);
  queue.push(frame("never"));
  await new Promise((resolve) => setTimeout(resolve, 1));
  queue.stop();
  await queue.drained();
  assert.deepEqual(sink.writes, []);
});
