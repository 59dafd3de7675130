import assert from "node:assert/strict";
import {
  type BenchResult,
  compareRows,
  formatCompareTable,
  formatCount,
  formatEveryRun,
  formatReport,
  formatSummary,
  formatVerdicts,
  type Shape,
  type ShapeRuns,
  targetVerdicts,
  WEBSOCKET_AGAINST_TCP,
} from "./report.ts";

interface Figures {
  deliveries?: number;
  cpu?: number;
  perMessage?: number;
  p50?: number;
  p99?: number;
  idle?: number;
  rest?: number | null;
  clients?: number;
  rooms?: number;
  warmup?: number;
  durable?: boolean | null;
}

function result(f: Figures): BenchResult {
  return {
    label: "run",
    transport: "tcp",
    durableCommits: f.durable ?? null,
    deliveriesPerSecond: f.deliveries ?? 1e6,
    messagesPerSecond: 5000,
    setupSeconds: 1,
    shape: {
      clients: f.clients ?? 100,
      rooms: f.rooms ?? 1,
      warmupSeconds: f.warmup ?? 0,
      settleSeconds: 40,
    },
    latencyMs: { p50: f.p50 ?? 1, p90: 1, p99: f.p99 ?? 1, max: f.p99 ?? 1, mean: 1, samples: 1 },
    serverStats: {
      cpuMicrosPerDelivery: f.cpu ?? 1,
      cpuMicrosPerMessage: f.perMessage ?? 100,
      cpuPercent: 50,
      peakRssKiB: 10240,
      rssPerConnectionKiB: f.idle ?? 10,
      settledRssPerConnectionKiB: f.rest === undefined ? 5 : f.rest,
    },
    lost: 0,
    errors: 0,
    failure: null,
  } as unknown as BenchResult;
}

const THROUGHPUT: Shape = { name: "100x1", description: "", args: [], kind: "throughput" };
const SMALL: Shape = { name: "10x1", description: "", args: [], kind: "throughput" };
const LATENCY: Shape = { name: "100x1-5k/s", description: "", args: [], kind: "latency" };
const IDLE: Shape = { name: "idle-5000", description: "", args: [], kind: "memory" };
const WS: Shape = {
  name: "ws-100x1",
  description: "",
  args: [],
  kind: "throughput",
  transport: "websocket",
};

function runs(
  shape: Shape,
  claptrap: Figures[],
  anchor: Figures[],
  baseline: Figures[] | null = null,
): ShapeRuns {
  return {
    shape,
    claptrap: claptrap.map(result),
    baseline: baseline?.map(result) ?? null,
    anchor: anchor.map(result),
  };
}

function verdict(all: ShapeRuns[], target: RegExp) {
  const found = targetVerdicts(all).filter((v) => target.test(v.target));
  assert.equal(found.length, 1, `one verdict matching ${target}`);
  return found[0];
}

Deno.test("compareRows takes medians and the ratios to the anchor and the baseline", () => {
  const rows = compareRows(runs(
    THROUGHPUT,
    [{ deliveries: 3e6, cpu: 0.2, p99: 5 }, { deliveries: 1e6, cpu: 0.3, p99: 9 }, {
      deliveries: 2e6,
      cpu: 0.25,
      p99: 7,
    }],
    [{ deliveries: 1e6, cpu: 0.5, p99: 20 }, { deliveries: 1e6, cpu: 0.4, p99: 10 }],
    [{ cpu: 0.2 }, { cpu: 0.2 }, { cpu: 0.4 }],
  ));
  const throughput = rows.find((row) => row.key === "deliveriesPerSecond")!;
  assert.equal(throughput.claptrap, 2e6);
  assert.equal(throughput.anchor, 1e6);
  assert.equal(throughput.ratio, 2);
  const cpu = rows.find((row) => row.key === "cpuPerDelivery")!;
  assert.ok(Math.abs(cpu.ratio - 0.25 / 0.45) < 1e-9);
  assert.equal(cpu.baseline, 0.2);
  assert.equal(cpu.baselineRatio, 1.25);
  const table = formatCompareTable(rows);
  assert.match(
    table,
    /\| Claptrap \| baseline \| ngircd \| Claptrap\/ngircd \| Claptrap\/baseline/,
  );
  assert.match(
    table,
    /\| 100x1 \| server CPU µs\/delivery \| 0\.250 \| 0\.200 \| 0\.450 \| 0\.56 \| 1\.25 \| Claptrap \|/,
  );
  assert.match(table, /\| 100x1 \| server CPU µs\/message posted \| 100\.00 \|/);
  assert.match(table, /\| 100x1 \| lost \+ errors \| 0 \| 0 \| 0 \| – \| – \| tie \|/);
});

Deno.test("formatCompareTable leaves the baseline columns out without a baseline", () => {
  const rows = compareRows(runs(WS, [{ cpu: 1.2 }], [{ cpu: 1 }]));
  const table = formatCompareTable(rows, WEBSOCKET_AGAINST_TCP);
  assert.match(table, /^\| shape \| metric \| WebSocket \| TCP \| WebSocket\/TCP \| better \|$/m);
  assert.match(
    table,
    /\| ws-100x1 \| server CPU µs\/delivery \| 1\.200 \| 1\.000 \| 1\.20 \| TCP \|/,
  );
  assert.doesNotMatch(table, /baseline/);
});

Deno.test("CPU per delivery must be 1.5 times better than ngircd's on a large room", () => {
  const met = verdict([runs(THROUGHPUT, [{ cpu: 0.3 }], [{ cpu: 0.46 }])], /than ngircd/);
  assert.equal(met.met, true);
  assert.match(met.measured, /1\.53× better/);
  const missed = verdict([runs(THROUGHPUT, [{ cpu: 0.34 }], [{ cpu: 0.5 }])], /than ngircd/);
  assert.equal(missed.met, false, "1.47× better is not enough");
});

Deno.test("a small room is judged by CPU per message posted, at most 9 µs", () => {
  const small = (perMessage: number) =>
    runs(SMALL, [{ clients: 10, perMessage, cpu: 5 }], [{ clients: 10, cpu: 0.5 }]);
  assert.equal(verdict([small(8.9)], /per message posted/).met, true);
  assert.equal(verdict([small(9.5)], /per message posted/).met, false);
  assert.equal(targetVerdicts([small(8)]).some((v) => /than ngircd/.test(v.target)), false);
});

Deno.test("latency is judged only after a 10 s warm-up with durable commits", () => {
  const warm = { warmup: 10, durable: true };
  const judged = [runs(LATENCY, [{ ...warm, p50: 3, p99: 19 }], [{ p50: 6, p99: 20 }])];
  assert.equal(verdict(judged, /p99/).met, true);
  assert.equal(verdict(judged, /p50/).met, true);
  const slow = [runs(LATENCY, [{ ...warm, p50: 4, p99: 21 }], [{ p50: 6, p99: 20 }])];
  assert.equal(verdict(slow, /p99/).met, false);
  assert.equal(verdict(slow, /p50/).met, false, "4 ms is above 0.6 × 6 ms");
  for (const bad of [{ warmup: 5, durable: true }, { warmup: 10, durable: false }]) {
    const unjudged = [runs(LATENCY, [{ ...bad, p50: 1, p99: 1 }], [{ p50: 6, p99: 20 }])];
    assert.equal(verdict(unjudged, /p99/).met, null);
    assert.match(verdict(unjudged, /p50/).measured, /not judged/);
  }
});

Deno.test("idle memory is judged at rest, at most 8 KiB per connection", () => {
  assert.equal(verdict([runs(IDLE, [{ rest: 7.9 }], [{ rest: 2.9 }])], /at rest/).met, true);
  assert.equal(verdict([runs(IDLE, [{ rest: 9 }], [{ rest: 2.9 }])], /at rest/).met, false);
  assert.equal(verdict([runs(IDLE, [{ rest: null }], [{ rest: null }])], /at rest/).met, null);
});

Deno.test("WebSocket CPU per delivery must stay within twice TCP's", () => {
  assert.equal(verdict([runs(WS, [{ cpu: 1.9 }], [{ cpu: 1 }])], /WebSocket/).met, true);
  assert.equal(verdict([runs(WS, [{ cpu: 2.1 }], [{ cpu: 1 }])], /WebSocket/).met, false);
  assert.equal(targetVerdicts([runs(WS, [{ cpu: 9 }], [{ cpu: 1 }])]).length, 1);
});

Deno.test("against a baseline, CPU may be 5% worse and idle memory not higher", () => {
  const cpu = (current: number) =>
    verdict(
      [runs(THROUGHPUT, [{ cpu: current }], [{ cpu: 1 }], [{ cpu: 1 }])],
      /baseline: server CPU/,
    );
  assert.equal(cpu(1.05).met, true);
  assert.match(cpu(1.05).measured, /\+5\.0%/);
  assert.equal(cpu(1.06).met, false);
  assert.match(cpu(0.9).measured, /-10\.0%/);
  const idle = [runs(IDLE, [{ idle: 10, rest: 6 }], [{}], [{ idle: 11, rest: 5.5 }])];
  assert.equal(verdict(idle, /memory per idle connection not higher/).met, true);
  assert.equal(verdict(idle, /… at rest not higher/).met, false);
  assert.equal(
    targetVerdicts([runs(THROUGHPUT, [{}], [{}])]).some((v) => /baseline/.test(v.target)),
    false,
  );
});

Deno.test("formatVerdicts says yes, no or – for each target", () => {
  const text = formatVerdicts([
    { target: "a", shape: "s", measured: "m1", met: true },
    { target: "b", shape: "s", measured: "m2", met: false },
    { target: "c", shape: "s", measured: "m3", met: null },
  ]);
  assert.match(
    text,
    /\| a \| s \| m1 \| yes \|\n\| b \| s \| m2 \| no \|\n\| c \| s \| m3 \| – \|/,
  );
});

Deno.test("formatReport puts WebSocket shapes in a table of their own, with every run", () => {
  const report = formatReport(
    [
      runs(THROUGHPUT, [{ cpu: 0.3 }, { cpu: 0.31 }], [{ cpu: 0.5 }, { cpu: 0.52 }]),
      runs(WS, [{ cpu: 1.1 }, { cpu: 1.2 }], [{ cpu: 0.3 }, { cpu: 0.31 }]),
    ],
    2,
    false,
  );
  assert.match(report, /Claptrap against ngircd: medians of 2 run\(s\)/);
  assert.match(report, /\| WebSocket \| TCP \| WebSocket\/TCP \|/);
  assert.match(report, /Against the targets:/);
  assert.match(
    report,
    /\| 100x1 \| CPU µs\/delivery \| 0\.300, 0\.310 \| ngircd: 0\.500, 0\.520 \|/,
  );
  assert.match(
    report,
    /\| ws-100x1 \| CPU µs\/delivery \| 1\.100, 1\.200 \| TCP: 0\.300, 0\.310 \|/,
  );
  const every = formatEveryRun([runs(IDLE, [{ idle: 10, rest: 6 }], [{}], [{ idle: 11 }])]);
  assert.match(every, /\| idle-5000 \| KiB idle\/at rest \| 10\.00\/6\.00 \| 11\.00\/5\.00 \|/);
});

Deno.test("formatSummary shows the warm-up, CPU per message and durable commits", () => {
  const r = {
    ...result({ warmup: 10, durable: true, perMessage: 12.5 }),
    label: "claptrap ws 100x1",
    transport: "websocket",
    sent: 75_000,
    measuredSent: 25_000,
    delivered: 7_425_000,
    expected: 7_425_000,
    measuredSeconds: 5.1,
    sendSeconds: 5,
    indexedSeconds: 0.1,
    generator: { cpuSeconds: 1, cpuPercent: 20, busiestWorkerPercent: 10 },
    machine: { cores: 2, idlePercent: 50, otherPercent: 1, backgroundPercent: 0 },
    bottleneck: "fixed offered rate",
    errorSamples: [],
    shape: {
      clients: 100,
      rooms: 1,
      size: 64,
      rate: 5000,
      arrivals: "random",
      messages: 0,
      durationSeconds: 5,
      warmupSeconds: 10,
      settleSeconds: 0,
      workers: 2,
      window: 0,
      batch: 8,
    },
  } as BenchResult;
  r.serverStats = { ...r.serverStats, settledRssKiB: null, logLines: null };
  const text = formatSummary(r);
  assert.match(text, /5,000 msg\/s offered at random, 2 workers, over WebSocket$/m);
  assert.match(text, /store +durable commits \(file database, --db-sync full\)/);
  assert.match(
    text,
    /sent +75,000 messages, 25,000 after a 10 s warm-up \(5,000\/s over 5\.00 s\)/,
  );
  assert.match(text, /12\.50 µs\/message posted/);
});

Deno.test("formatCount abbreviates large numbers", () => {
  assert.equal(formatCount(1_234_567), "1.23M");
  assert.equal(formatCount(45_600), "45.6k");
  assert.equal(formatCount(999), "999");
  assert.equal(formatCount(null), "–");
});
