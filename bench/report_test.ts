import assert from "node:assert/strict";
import { type BenchResult, compareRows, formatCompareTable, formatCount } from "./report.ts";

function result(deliveriesPerSecond: number, cpuMicros: number, p99: number): BenchResult {
  return {
    deliveriesPerSecond,
    latencyMs: { p50: 1, p90: 1, p99, max: p99, mean: 1, samples: 1 },
    serverStats: { cpuMicrosPerDelivery: cpuMicros, peakRssKiB: 10240 },
    lost: 0,
    errors: 0,
  } as unknown as BenchResult;
}

Deno.test("compareRows takes medians and the ratio Claptrap / ngircd", () => {
  const shape = { name: "100x1", description: "", args: [], kind: "throughput" as const };
  const rows = compareRows(
    shape,
    [result(3e6, 0.2, 5), result(1e6, 0.3, 9), result(2e6, 0.25, 7)],
    [result(1e6, 0.5, 20), result(1e6, 0.4, 10)],
  );
  const throughput = rows.find((row) => row.metric === "deliveries/s")!;
  assert.equal(throughput.claptrap, 2e6);
  assert.equal(throughput.ngircd, 1e6);
  assert.equal(throughput.ratio, 2);
  const cpu = rows.find((row) => row.metric === "server CPU µs/delivery")!;
  assert.ok(Math.abs(cpu.ratio - 0.25 / 0.45) < 1e-9);
  const table = formatCompareTable(rows);
  assert.match(
    table,
    /\| 100x1 \| server CPU µs\/delivery \| 0\.250 \| 0\.450 \| 0\.56 \| Claptrap \|/,
  );
  assert.match(table, /\| 100x1 \| latency p99 ms \| 7\.00 \| 15\.00 \| 0\.47 \| Claptrap \|/);
  assert.match(table, /\| 100x1 \| lost \+ errors \| 0 \| 0 \| – \| tie \|/);
});

Deno.test("formatCount abbreviates large numbers", () => {
  assert.equal(formatCount(1_234_567), "1.23M");
  assert.equal(formatCount(45_600), "45.6k");
  assert.equal(formatCount(999), "999");
  assert.equal(formatCount(null), "–");
});
