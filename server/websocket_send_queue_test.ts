import assert from "node:assert/strict";
import { type TextSocket, WebSocketSendQueue } from "./websocket_send_queue.ts";

/** A socket whose network is stalled until `write` is called. */
class FakeSocket implements TextSocket {
  sent: string[] = [];
  written = 0;
  get bufferedAmount(): number {
    return this.sent.join("").length - this.written;
  }
  send(text: string): void {
    this.sent.push(text);
  }
  /** The network takes everything buffered. */
  write(): void {
    this.written = this.sent.join("").length;
  }
}

const tick = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("WebSocketSendQueue sends at once while the socket buffers little", () => {
  const socket = new FakeSocket();
  const queue = new WebSocketSendQueue(socket, { limit: 100, highWater: 10 });
  assert.ok(queue.push("abcd", 4));
  assert.ok(queue.push("efgh", 4));
  assert.deepEqual(socket.sent, ["abcd", "efgh"]);
  assert.equal(queue.queuedBytes, 8);
  queue.stop();
});

Deno.test("WebSocketSendQueue holds back above the high-water mark and sends in order later", async () => {
  const socket = new FakeSocket();
  const queue = new WebSocketSendQueue(socket, { limit: 100, highWater: 10, pollMs: 1 });
  for (const text of ["0123456789", "a", "b", "c"]) assert.ok(queue.push(text, text.length));
  assert.deepEqual(socket.sent, ["0123456789"], "the socket holds 10 bytes: the rest waits");
  assert.equal(queue.queuedBytes, 13);
  await tick();
  assert.deepEqual(socket.sent, ["0123456789"], "nothing moves while the network is stalled");
  socket.write();
  const drained = queue.drained();
  await drained;
  assert.deepEqual(socket.sent, ["0123456789", "a", "b", "c"]);
  queue.stop();
});

Deno.test("WebSocketSendQueue refuses what would exceed its limit, counting the socket's buffer", () => {
  const socket = new FakeSocket();
  const queue = new WebSocketSendQueue(socket, { limit: 20, highWater: 5 });
  assert.ok(queue.push("x".repeat(8), 8), "sent: 8 bytes in the socket");
  assert.ok(queue.push("y".repeat(8), 8), "queued: 16 bytes in all");
  assert.equal(queue.push("z".repeat(5), 5), false, "21 bytes would exceed 20");
  assert.ok(queue.push("z".repeat(4), 4), "20 bytes fit exactly");
  assert.ok(queue.push("!".repeat(9), 9, true), "a forced message goes beyond the limit");
  assert.equal(queue.queuedBytes, 29);
  queue.stop();
  assert.equal(queue.push("a", 1), false, "a stopped queue takes nothing");
  assert.equal(queue.queuedBytes, 8, "what was queued is dropped; the socket keeps its buffer");
});

Deno.test("WebSocketSendQueue.drained waits for the backlog and stop wakes it", async () => {
  const socket = new FakeSocket();
  const queue = new WebSocketSendQueue(socket, { limit: 100, highWater: 1, pollMs: 1 });
  await queue.drained();
  queue.push("ab", 2);
  queue.push("cd", 2);
  let done = false;
  const drained = queue.drained().then(() => done = true);
  await tick();
  assert.equal(done, false);
  queue.stop();
  await drained;
  assert.deepEqual(socket.sent, ["ab"]);
});
