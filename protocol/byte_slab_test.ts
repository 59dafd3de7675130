import assert from "node:assert/strict";
import { allocateBytes, MAX_SLAB_ALLOCATION, sharesBuffer, SLAB_SIZE } from "./byte_slab.ts";

Deno.test("small buffers are zero-filled views that never overlap", () => {
  const buffers = Array.from({ length: 3 * SLAB_SIZE / 100 }, () => allocateBytes(100));
  buffers.forEach((bytes, i) => {
    assert.equal(bytes.length, 100);
    assert.ok(bytes.every((byte) => byte === 0));
    bytes.fill(i % 251 + 1);
  });
  buffers.forEach((bytes, i) => assert.ok(bytes.every((byte) => byte === i % 251 + 1)));
  assert.ok(buffers.every(sharesBuffer));
  assert.ok(
    new Set(buffers.map((bytes) => bytes.buffer)).size >= 3,
    "slabs are replaced when full",
  );
});

Deno.test("large buffers are buffers of their own", () => {
  const bytes = allocateBytes(MAX_SLAB_ALLOCATION + 1);
  assert.equal(bytes.length, MAX_SLAB_ALLOCATION + 1);
  assert.equal(sharesBuffer(bytes), false);
});

Deno.test("an empty buffer can be allocated", () => {
  assert.equal(allocateBytes(0).length, 0);
});
