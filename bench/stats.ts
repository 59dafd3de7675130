/**
 * Latency statistics for the load generator: a fixed-size log-linear
 * histogram of integer microseconds (at most 0.8% relative error, constant
 * memory however many samples), and the median used to summarise runs.
 * Pure: no I/O.
 * @module
 */

/** Values below this are counted exactly, one bucket per microsecond. */
const EXACT = 256;
/** Buckets per power of two above {@link EXACT}: relative error < 1/128. */
const SUB_BUCKETS = 128;
/** Largest power-of-two exponent covered: 2^31 µs, about 36 minutes. */
const MAX_EXPONENT = 31;
const BUCKETS = EXACT + (MAX_EXPONENT - 7) * SUB_BUCKETS;
const LARGEST = 2 ** MAX_EXPONENT - 1;

/** A histogram in a form that survives `postMessage` and `JSON.stringify`. */
export interface HistogramData {
  /** Count per bucket, see {@link LatencyHistogram}. */
  counts: number[] | Float64Array;
  /** Number of samples. */
  total: number;
  /** Sum of the samples, in µs. */
  sum: number;
  /** Smallest sample, in µs (Infinity when empty). */
  min: number;
  /** Largest sample, in µs (0 when empty). */
  max: number;
}

/** The bucket a value (integer µs, clamped to 0..2^31-1) falls in. */
export function bucketOf(value: number): number {
  const v = value <= 0 ? 0 : value >= LARGEST ? LARGEST : Math.floor(value);
  if (v < EXACT) return v;
  const shift = 31 - Math.clz32(v) - 7;
  return EXACT + (shift - 1) * SUB_BUCKETS + ((v >>> shift) - SUB_BUCKETS);
}

/** The largest value that falls in `bucket`. */
export function bucketUpperBound(bucket: number): number {
  if (bucket < EXACT) return bucket;
  const shift = Math.floor((bucket - EXACT) / SUB_BUCKETS) + 1;
  const mantissa = (bucket - EXACT) % SUB_BUCKETS + SUB_BUCKETS;
  return (mantissa + 1) * 2 ** shift - 1;
}

/**
 * A histogram of latencies in integer microseconds: exact below 256 µs,
 * then 128 buckets per power of two. Recording is a few integer operations
 * and no allocation, so a load generator can record every delivery.
 *
 * @example Percentiles of recorded latencies
 * ```ts
 * import assert from "node:assert/strict";
 * import { LatencyHistogram } from "./stats.ts";
 * const histogram = new LatencyHistogram();
 * for (let us = 1; us <= 100; us++) histogram.record(us);
 * assert.equal(histogram.percentile(50), 50);
 * assert.equal(histogram.percentile(99), 99);
 * assert.equal(histogram.max, 100);
 * ```
 */
export class LatencyHistogram {
  /** Count per bucket. */
  readonly counts: Float64Array = new Float64Array(BUCKETS);
  /** Number of samples. */
  total = 0;
  /** Sum of the samples, in µs. */
  sum = 0;
  /** Smallest sample, in µs (Infinity when empty). */
  min = Infinity;
  /** Largest sample, in µs (0 when empty). */
  max = 0;

  /** Records one latency, in µs; negative values count as 0. */
  record(us: number): void {
    this.recordMany(us, 1);
  }

  /** Records `count` samples of the same latency, in µs. */
  recordMany(us: number, count: number): void {
    const v = us < 0 ? 0 : us;
    this.counts[bucketOf(v)] += count;
    this.total += count;
    this.sum += v * count;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** Adds the samples of another histogram (e.g. from another worker). */
  merge(other: HistogramData): void {
    const counts = other.counts;
    for (let i = 0; i < counts.length && i < BUCKETS; i++) this.counts[i] += counts[i];
    this.total += other.total;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }

  /**
   * The latency below or at which `p` percent of the samples fall, as the
   * upper bound of its bucket (never above the largest sample); 0 when empty.
   */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(bucketUpperBound(i), this.max);
    }
    return this.max;
  }

  /** The mean latency in µs; 0 when empty. */
  get mean(): number {
    return this.total === 0 ? 0 : this.sum / this.total;
  }

  /** A copy for `postMessage`. */
  toData(): HistogramData {
    return {
      counts: this.counts.slice(),
      total: this.total,
      sum: this.sum,
      min: this.min,
      max: this.max,
    };
  }
}

/**
 * The median of some numbers (the mean of the middle two for an even
 * count); NaN when there are none. NaN values are ignored.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { median } from "./stats.ts";
 * assert.equal(median([3, 1, 2]), 2);
 * assert.equal(median([4, 1, 3, 2]), 2.5);
 * ```
 */
export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * The ratios of runs made side by side, `values[i] / baselines[i]` (run i
 * of each in the same round of a rotation, so on a machine in about the
 * same state), leaving out pairs with a NaN or a baseline of 0: their
 * median moves less with the machine than the ratio of the two medians.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pairedRatios } from "./stats.ts";
 * assert.deepEqual(pairedRatios([30, 40, NaN], [20, 40, 10]), [1.5, 1]);
 * ```
 */
export function pairedRatios(values: readonly number[], baselines: readonly number[]): number[] {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(values.length, baselines.length); i++) {
    const ratio = values[i] / baselines[i];
    if (Number.isFinite(ratio)) ratios.push(ratio);
  }
  return ratios;
}
