import assert from "node:assert/strict";
import type { Message } from "../../protocol/message.ts";
import { RequestQueue, StoreRead } from "./request_queue.ts";

const message = (method: string): Message => ({ method, params: {} });

function deferred(): { promise: Promise<Message>; resolve(m: Message): void } {
  let resolve!: (m: Message) => void;
  const promise = new Promise<Message>((r) => resolve = r);
  return { promise, resolve };
}

Deno.test("answers that come later still go out in request order", async () => {
  const sent: string[] = [];
  const queue = new RequestQueue((m) => sent.push(m.method));
  const slow = deferred();
  queue.push({ run: () => message("A"), barrier: false });
  queue.push({ run: () => slow.promise, barrier: false });
  queue.push({ run: () => message("C"), barrier: false });
  assert.deepEqual(sent, ["A"], "C waits behind B");
  slow.resolve(message("B"));
  await slow.promise;
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(sent, ["A", "B", "C"]);
});

Deno.test("answers ready in the reverse order go out in request order", async () => {
  const sent: string[] = [];
  const queue = new RequestQueue((m) => sent.push(m.method));
  const first = deferred();
  const second = deferred();
  queue.push({ run: () => first.promise, barrier: false });
  queue.push({ run: () => second.promise, barrier: false });
  second.resolve(message("B"));
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(sent, [], "B waits for A");
  first.resolve(message("A"));
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(sent, ["A", "B"]);
  assert.equal(queue.busy, false);
});

Deno.test("requests after a slow non-barrier request are handled at once", () => {
  const handled: string[] = [];
  const queue = new RequestQueue(() => {});
  queue.push({ run: () => (handled.push("A"), deferred().promise), barrier: false });
  queue.push({ run: () => (handled.push("B"), message("B")), barrier: false });
  assert.deepEqual(handled, ["A", "B"]);
});

Deno.test("a barrier holds back the requests after it until it is answered", async () => {
  const handled: string[] = [];
  const queue = new RequestQueue(() => {});
  const login = deferred();
  queue.push({ run: () => (handled.push("LOGIN"), login.promise), barrier: true });
  queue.push({ run: () => (handled.push("JOIN"), message("JOIN")), barrier: false });
  assert.deepEqual(handled, ["LOGIN"]);
  assert.equal(queue.busy, true, "the transport should stop reading");
  const ready = queue.ready();
  login.resolve(message("LOGIN"));
  await ready;
  assert.deepEqual(handled, ["LOGIN", "JOIN"]);
  assert.equal(queue.busy, false);
});

Deno.test("a store read waits until the connection's previous one is sent, holding back the rest", async () => {
  const handled: string[] = [];
  const sent: string[] = [];
  const queue = new RequestQueue((m) => sent.push(m.method));
  const reads = [deferred(), deferred()];
  const read = (i: number) =>
    new StoreRead(() => {
      handled.push(`read ${i}`);
      return reads[i].promise;
    });
  queue.push({ run: () => read(0), barrier: false });
  queue.push({ run: () => (handled.push("TIME"), message("TIME")), barrier: false });
  queue.push({ run: () => read(1), barrier: false });
  queue.push({ run: () => (handled.push("PING"), message("PING")), barrier: false });
  assert.deepEqual(handled, ["read 0", "TIME"], "the second read waits, and PING behind it");
  assert.equal(queue.busy, true, "the transport should stop reading");
  const ready = queue.ready();
  reads[0].resolve(message("HISTORY 0"));
  await ready;
  assert.deepEqual(handled, ["read 0", "TIME", "read 1", "PING"]);
  reads[1].resolve(message("HISTORY 1"));
  await reads[1].promise;
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(sent, ["HISTORY 0", "TIME", "HISTORY 1", "PING"]);
});

Deno.test("a store read waits while the send queue holds more than the watermark", async () => {
  const drain = deferred();
  const backlog = { queuedBytes: 5000, drained: () => drain.promise.then(() => {}) };
  const handled: string[] = [];
  const queue = new RequestQueue(() => {}, { queue: backlog, limit: 16_384 });
  queue.push({
    run: () => new StoreRead(() => (handled.push("read"), Promise.resolve(message("HISTORY")))),
    barrier: false,
  });
  queue.push({ run: () => (handled.push("TIME"), message("TIME")), barrier: false });
  assert.deepEqual(handled, [], "nothing starts while the client has not read what it got");
  const ready = queue.ready();
  backlog.queuedBytes = 0;
  drain.resolve(message("drained"));
  await ready;
  assert.deepEqual(handled, ["read", "TIME"]);
});
