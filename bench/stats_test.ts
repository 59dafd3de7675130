import assert from "node:assert/strict";
import { bucketOf, bucketUpperBound, LatencyHistogram, median, pairedRatios } from "./stats.ts";

Deno.test("bucketOf is exact below 256 µs and within 1/128 above", () => {
  for (let v = 0; v < 256; v++) assert.equal(bucketUpperBound(bucketOf(v)), v);
  for (let v = 256; v < 50_000_000; v = Math.ceil(v * 1.013) + 1) {
    const upper = bucketUpperBound(bucketOf(v));
    assert.ok(upper >= v, `${v} ≤ ${upper}`);
    assert.ok((upper - v) / v <= 1 / 128, `${v} → ${upper}`);
  }
});

Deno.test("bucketOf is monotonic and clamps negative and huge values", () => {
  let last = -1;
  for (let v = 0; v < 1_000_000; v += 37) {
    const bucket = bucketOf(v);
    assert.ok(bucket >= last);
    last = bucket;
  }
  assert.equal(bucketOf(-5), 0);
  assert.equal(bucketOf(1e12), bucketOf(2 ** 31 - 1));
});

Deno.test("LatencyHistogram percentiles of a uniform distribution", () => {
  const histogram = new LatencyHistogram();
  for (let us = 1; us <= 10_000; us++) histogram.record(us);
  assert.equal(histogram.total, 10_000);
  const p50 = histogram.percentile(50);
  const p99 = histogram.percentile(99);
  assert.ok(Math.abs(p50 - 5000) / 5000 < 0.01, `p50 ${p50}`);
  assert.ok(Math.abs(p99 - 9900) / 9900 < 0.01, `p99 ${p99}`);
  assert.equal(histogram.percentile(100), 10_000);
  assert.equal(histogram.min, 1);
  assert.equal(histogram.mean, 5000.5);
});

Deno.test("LatencyHistogram merges data from other workers", () => {
  const a = new LatencyHistogram();
  const b = new LatencyHistogram();
  a.recordMany(100, 99);
  b.record(50_000);
  a.merge(structuredClone(b.toData()));
  assert.equal(a.total, 100);
  assert.equal(a.percentile(99), 100);
  assert.equal(a.max, 50_000);
  assert.ok(a.percentile(100) <= 50_000);
});

Deno.test("an empty histogram reports zeros", () => {
  const histogram = new LatencyHistogram();
  assert.equal(histogram.percentile(99), 0);
  assert.equal(histogram.mean, 0);
});

Deno.test("median ignores NaN and handles odd, even and empty lists", () => {
  assert.equal(median([5, NaN, 1, 3]), 3);
  assert.equal(median([2, 1]), 1.5);
  assert.ok(Number.isNaN(median([])));
});

Deno.test("pairedRatios pairs run i with run i, and leaves out pairs that cannot be divided", () => {
  assert.deepEqual(pairedRatios([33, 44, 30], [30, 22, 30]), [1.1, 2, 1]);
  assert.deepEqual(pairedRatios([1, NaN, 5, 6], [2, 3, 0, 3]), [0.5, 2]);
  assert.deepEqual(pairedRatios([1, 2], [1]), [1], "a run without its pair is left out");
  // the median of the pairs is not the ratio of the medians
  const values = [33.8, 30.3, 41.9];
  const baselines = [26.1, 29.1, 31.1];
  assert.notEqual(median(pairedRatios(values, baselines)), median(values) / median(baselines));
});
