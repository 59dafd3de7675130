import assert from "node:assert/strict";
import { ArrivalSchedule } from "./arrivals.ts";

/** A repeatable stand-in for Math.random (mulberry32). */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** The gaps between the messages a schedule makes due, looked at each millisecond. */
function gapsOf(schedule: ArrivalSchedule, ms: number): number[] {
  const times: number[] = [];
  let due = 0;
  for (let now = 0; now <= ms; now++) {
    const next = schedule.dueBy(now);
    for (; due < next; due++) times.push(now);
  }
  return times.slice(1).map((time, i) => time - times[i]);
}

Deno.test("even arrivals are due at exactly the rate, one every 1000/rate ms", () => {
  const schedule = new ArrivalSchedule("even", 300);
  assert.equal(schedule.dueBy(0), 0);
  assert.equal(schedule.dueBy(3.3), 0);
  assert.equal(schedule.dueBy(3.34), 1);
  assert.equal(schedule.dueBy(1000), 300);
  assert.equal(schedule.dueBy(10_000), 3000);
});

Deno.test("random arrivals keep the rate, with gaps as spread as a Poisson process's", () => {
  const schedule = new ArrivalSchedule("random", 100, seeded(21));
  const gaps = gapsOf(schedule, 200_000);
  // 20,000 expected: a Poisson count's standard deviation is about 141
  assert.ok(Math.abs(gaps.length + 1 - 20_000) < 600, `${gaps.length + 1} arrivals`);
  const mean = gaps.reduce((sum, gap) => sum + gap, 0) / gaps.length;
  assert.ok(Math.abs(mean - 10) < 0.3, `mean gap ${mean} ms`);
  const sd = Math.sqrt(gaps.reduce((sum, gap) => sum + (gap - mean) ** 2, 0) / gaps.length);
  // an exponential gap's deviation equals its mean (evenly spaced: 0)
  assert.ok(Math.abs(sd / mean - 1) < 0.05, `deviation/mean ${sd / mean}`);
  // P(gap < 8 ms) = 1 - e^-0.8 ≈ 0.55 at 100/s; evenly spaced gaps of 10 ms: 0
  const short = gaps.filter((gap) => gap < 8).length / gaps.length;
  assert.ok(Math.abs(short - 0.55) < 0.03, `share of gaps under 8 ms ${short}`);
});

Deno.test("random arrivals never take back a message already due", () => {
  const schedule = new ArrivalSchedule("random", 5000, seeded(7));
  let before = 0;
  for (const now of [0, 1, 1, 5, 4, 100, 100.5, 2000]) {
    const due = schedule.dueBy(now);
    assert.ok(due >= before);
    before = due;
  }
  assert.ok(before > 9000, `${before} due after 2 s at 5000/s`);
});

Deno.test("a schedule needs a rate above 0", () => {
  assert.throws(() => new ArrivalSchedule("even", 0), /rate must be above 0, got 0/);
  assert.throws(() => new ArrivalSchedule("random", NaN), /rate must be above 0/);
});
