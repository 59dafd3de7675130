/**
 * Small byte buffers carved out of shared slabs. A new `Uint8Array` costs
 * the runtime a separate allocation outside the JavaScript heap (measured
 * 0.5–1.4 µs here, plus garbage-collector work later), ten to twenty times
 * a view into an existing buffer; a server encodes several small frames per
 * message, so those are taken from slabs.
 *
 * The price: a view keeps its whole slab alive. Whoever holds small buffers
 * for long (a send queue behind a slow reader) should copy them together
 * (see {@link sharesBuffer}).
 * @module
 */

/** Bytes per slab. Small, so that a view kept alive holds little else. */
export const SLAB_SIZE = 8192;

/** Larger requests get a buffer of their own. */
export const MAX_SLAB_ALLOCATION = 1024;

let slab = new ArrayBuffer(SLAB_SIZE);
let slabBytes = new Uint8Array(slab);
let used = 0;

function newSlab(): void {
  slab = new ArrayBuffer(SLAB_SIZE);
  slabBytes = new Uint8Array(slab);
  used = 0;
}

/**
 * A zero-filled buffer of `size` bytes: a view into the current slab when
 * `size` is at most {@link MAX_SLAB_ALLOCATION}, else a buffer of its own.
 * Views never overlap.
 *
 * @example Two small buffers from one slab
 * ```ts
 * import assert from "node:assert/strict";
 * import { allocateBytes } from "./byte_slab.ts";
 * const a = allocateBytes(100);
 * const b = allocateBytes(100);
 * a.fill(1);
 * assert.ok(b.every((byte) => byte === 0) && a.length === 100);
 * ```
 */
export function allocateBytes(size: number): Uint8Array {
  if (size > MAX_SLAB_ALLOCATION) return new Uint8Array(size);
  slabToWrite(size);
  return takeWritten(slabFreeFrom() + size);
}

/**
 * For writing a buffer whose size is known only at the end, up to `max`
 * bytes (at most {@link MAX_SLAB_ALLOCATION}): returns the current slab,
 * with at least `max` zero bytes free from {@link slabFreeFrom}. Write
 * there, then take what was written with {@link takeWritten}, before any
 * other allocation.
 *
 * @example Writing three bytes, then taking them
 * ```ts
 * import assert from "node:assert/strict";
 * import { slabFreeFrom, slabToWrite, takeWritten } from "./byte_slab.ts";
 * const slab = slabToWrite(16);
 * const start = slabFreeFrom();
 * slab.set([1, 2, 3], start);
 * assert.deepEqual([...takeWritten(start + 3)], [1, 2, 3]);
 * ```
 */
export function slabToWrite(max: number): Uint8Array {
  if (max > MAX_SLAB_ALLOCATION) throw new RangeError(`${max} bytes do not fit in a slab`);
  if (used + max > SLAB_SIZE) newSlab();
  return slabBytes;
}

/** Where the free part of the slab from {@link slabToWrite} begins. */
export function slabFreeFrom(): number {
  return used;
}

/** The bytes written into the slab from {@link slabFreeFrom} up to `end`, as their own view. */
export function takeWritten(end: number): Uint8Array {
  const bytes = new Uint8Array(slab, used, end - used);
  used = end;
  return bytes;
}

/** Whether `bytes` is a view that shares its buffer with others (keeps more alive than itself). */
export function sharesBuffer(bytes: Uint8Array): boolean {
  return bytes.byteLength !== bytes.buffer.byteLength;
}
