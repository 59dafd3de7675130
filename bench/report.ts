/**
 * What a benchmark run reports, and its text forms: the summary of one run,
 * the progress line, and the comparison table of `bench:compare`. Pure.
 * @module
 */

import type { Transport } from "./options.ts";
import { median } from "./stats.ts";

/** The result of one run, as written by `--json`. */
export interface BenchResult {
  /** Name of the run. */
  label: string;
  /** `claptrap` or `ngircd` (IRC). */
  server: "claptrap" | "ngircd";
  /** How the clients connected: `tcp`, or `websocket` (Claptrap's JSON mapping on `/ws`). */
  transport: Transport;
  /**
   * Claptrap started by the bench: whether every answered write was
   * fsynced (a file database with `--db-sync full`, the default); else null.
   */
  durableCommits: boolean | null;
  /** Whether the bench started the server. */
  spawned: boolean;
  /** When the run started, ISO 8601. */
  startedAt: string;
  /** The load. */
  shape: {
    clients: number;
    rooms: number;
    size: number;
    /** Messages/s in total; 0 for as fast as possible. */
    rate: number;
    /** Message limit; 0 for none. */
    messages: number;
    durationSeconds: number;
    /** Seconds of sending before the measured phase (0: none). */
    warmupSeconds: number;
    /** Seconds idle after set-up before the second memory sample (0: none). */
    settleSeconds: number;
    workers: number;
    /** Deliveries in flight allowed in total at full speed. */
    window: number;
    batch: number;
  };
  /** Seconds to connect, log in and join every client. */
  setupSeconds: number;
  /** Messages sent, warm-up included. */
  sent: number;
  /** Deliveries those messages should make. */
  expected: number;
  /** Deliveries received, warm-up included. */
  delivered: number;
  /** Messages sent after the warm-up (all of them without one): what the CPU is divided by. */
  measuredSent: number;
  /** Deliveries received after the warm-up, until the end of the drain. */
  measuredDelivered: number;
  /** Expected deliveries not received (negative: more than expected). */
  lost: number;
  /** Errors seen by the clients. */
  errors: number;
  /** The first error messages. */
  errorSamples: string[];
  /** Claptrap: RESP_SEND_MSG OK received; IRC: null. */
  acked: number | null;
  /** Seconds from the end of the warm-up (the start of sending) until the last delivery (or the drain timeout). */
  measuredSeconds: number;
  /** Seconds spent sending after the warm-up. */
  sendSeconds: number;
  /**
   * Claptrap: seconds from the last delivery until the closing search was
   * answered (the full-text index caught up); counted in the server CPU. IRC: null.
   */
  indexedSeconds: number | null;
  /** Deliveries per second over {@link BenchResult.measuredSeconds}. */
  deliveriesPerSecond: number;
  /** Messages sent per second over {@link BenchResult.sendSeconds}. */
  messagesPerSecond: number;
  /** Send→receive latency of every delivery of a message sent after the warm-up, in ms. */
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number; samples: number };
  /** Deliveries stamped after they were read (clock skew between workers). */
  negativeLatencies: number;
  /** The server process; null values when its pid is unknown. */
  serverStats: {
    pid: number | null;
    /** CPU seconds (utime+stime) during the measured time. */
    cpuSeconds: number | null;
    /** CPU percent of one core during the measured time. */
    cpuPercent: number | null;
    /** Its busiest thread, percent of one core. */
    busiestThreadPercent: number | null;
    /** Server CPU µs per delivery. */
    cpuMicrosPerDelivery: number | null;
    /**
     * Server CPU µs per message posted: all its threads (Claptrap: the
     * store worker and, through the closing search, the index too).
     */
    cpuMicrosPerMessage: number | null;
    /** Deliveries per server CPU second. */
    deliveriesPerCpuSecond: number | null;
    /** RSS before any client connected, KiB. */
    baselineRssKiB: number | null;
    /** RSS with every client logged in and idle, KiB. */
    readyRssKiB: number | null;
    /** (ready − baseline) / clients, KiB. */
    rssPerConnectionKiB: number | null;
    /** RSS `--settle` seconds after the baseline, still without clients, KiB (null without --settle). */
    settledBaselineRssKiB: number | null;
    /** RSS `--settle` seconds after every client was ready, KiB (null without --settle). */
    settledRssKiB: number | null;
    /** (settled − settled baseline) / clients, KiB. */
    settledRssPerConnectionKiB: number | null;
    /** VmHWM at the end, KiB. */
    peakRssKiB: number | null;
    /** Lines the server logged during the run (when started by the bench). */
    logLines: number | null;
  };
  /** The load generator itself. */
  generator: {
    cpuSeconds: number;
    cpuPercent: number;
    /** Busiest worker thread, percent of one core. */
    busiestWorkerPercent: number;
  };
  /** The machine during the measured time. */
  machine: {
    cores: number;
    /** Idle percent of all cores. */
    idlePercent: number;
    /** CPU used by neither the server nor the generator, percent of one core. */
    otherPercent: number;
    /** CPU busy before the run started (server idle, no clients), percent of one core. */
    backgroundPercent: number;
  };
  /** What limited throughput, in words. */
  bottleneck: string;
  /** Versions of the programs involved. */
  versions: { deno: string; ngircd: string | null };
  /** Set when the run failed (hard timeout, set-up error...). */
  failure: string | null;
}

/** CPU percentages during the measured time, for {@link bottleneck}. */
export interface CpuUse {
  /** The server's busiest thread, percent of one core (null when unknown). */
  serverThread: number | null;
  /** The generator's busiest worker thread, percent of one core. */
  generatorThread: number;
  /** Idle percent of the whole machine. */
  machineIdle: number;
  /** CPU used by other processes, percent of one core. */
  other: number;
}

/**
 * Says what limited a full-speed run: the server's own thread, the
 * generator's, or the machine's cores shared between them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bottleneck } from "./report.ts";
 * const use = { generatorThread: 60, machineIdle: 10, other: 0 };
 * assert.match(bottleneck({ ...use, serverThread: 99 }), /^server/);
 * assert.match(bottleneck({ ...use, serverThread: 70, generatorThread: 97 }), /^generator/);
 * assert.match(bottleneck({ ...use, serverThread: 70, machineIdle: 1 }), /^cores/);
 * assert.match(bottleneck({ ...use, serverThread: 70, other: 40 }), /other processes/);
 * ```
 */
export function bottleneck(use: CpuUse): string {
  const pct = (v: number) => `${Math.round(v)}%`;
  const server = use.serverThread === null ? "unknown" : pct(use.serverThread);
  const facts = `server thread ${server}, generator worker ${
    pct(use.generatorThread)
  }, machine idle ${pct(use.machineIdle)}, other processes ${pct(use.other)}`;
  const disturbed = use.other >= 15 ? "; other processes took CPU: disturbed" : "";
  if (use.serverThread !== null && use.serverThread >= 90) {
    return `server-bound (${facts})${disturbed}`;
  }
  if (use.generatorThread >= 90) return `generator-bound (${facts})${disturbed}`;
  if (use.machineIdle < 5) {
    return `cores-bound: server and generator share the CPU (${facts})${disturbed}`;
  }
  return `not CPU-bound (${facts})${disturbed}`;
}

/** Formats a number with thousands separators and `digits` decimals. */
export function formatNumber(value: number | null, digits = 0): string {
  if (value === null || !Number.isFinite(value)) return "–";
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** Formats a large count compactly: 1.23M, 45.6k. */
export function formatCount(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return "–";
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(1)}k`;
  return formatNumber(value, abs < 10 && value % 1 !== 0 ? 2 : 0);
}

/** The human summary of one run. */
export function formatSummary(r: BenchResult): string {
  const s = r.serverStats;
  const warmup = r.shape.warmupSeconds;
  const lines = [
    `${r.label}: ${r.shape.clients} clients in ${r.shape.rooms} room(s), ${r.shape.size}-byte messages, ${
      r.shape.rate > 0 ? `${formatNumber(r.shape.rate)} msg/s offered` : "full speed"
    }, ${r.shape.workers} workers${r.transport === "websocket" ? ", over WebSocket" : ""}`,
    `  set-up          ${r.setupSeconds.toFixed(2)} s`,
  ];
  if (r.durableCommits !== null) {
    lines.push(
      `  store           ${
        r.durableCommits ? "durable commits (file database, --db-sync full)" : "not durable"
      }`,
    );
  }
  if (r.shape.durationSeconds > 0) {
    lines.push(
      `  sent            ${formatNumber(r.sent)} messages${
        warmup > 0 ? `, ${formatNumber(r.measuredSent)} after a ${warmup} s warm-up` : ""
      } (${formatCount(r.messagesPerSecond)}/s over ${r.sendSeconds.toFixed(2)} s)`,
      `  delivered       ${formatNumber(r.delivered)} of ${formatNumber(r.expected)} (${
        formatCount(r.deliveriesPerSecond)
      }/s over ${r.measuredSeconds.toFixed(2)} s)`,
      ...(r.indexedSeconds === null ? [] : [
        `  search index    up to date ${r.indexedSeconds.toFixed(2)} s after the last delivery`,
      ]),
      `  lost, errors    ${formatNumber(r.lost)}, ${formatNumber(r.errors)}`,
      `  latency         p50 ${r.latencyMs.p50.toFixed(2)} ms, p90 ${
        r.latencyMs.p90.toFixed(2)
      } ms, p99 ${r.latencyMs.p99.toFixed(2)} ms, max ${r.latencyMs.max.toFixed(2)} ms`,
      `  server CPU      ${formatNumber(s.cpuSeconds, 2)} s (${formatNumber(s.cpuPercent)}%), ${
        formatNumber(s.cpuMicrosPerDelivery, 3)
      } µs/delivery, ${formatNumber(s.cpuMicrosPerMessage, 2)} µs/message posted, ${
        formatCount(s.deliveriesPerCpuSecond)
      } deliveries/CPU-s`,
      `  generator CPU   ${r.generator.cpuSeconds.toFixed(2)} s (${
        formatNumber(r.generator.cpuPercent)
      }%, busiest worker ${formatNumber(r.generator.busiestWorkerPercent)}%)`,
      `  machine         ${r.machine.cores} cores, ${
        formatNumber(r.machine.idlePercent)
      }% idle, other processes ${formatNumber(r.machine.otherPercent)}% (before the run ${
        formatNumber(r.machine.backgroundPercent)
      }%)`,
      `  bottleneck      ${r.bottleneck}`,
    );
  }
  lines.push(
    `  server RSS      baseline ${formatNumber(s.baselineRssKiB)} KiB, ready ${
      formatNumber(s.readyRssKiB)
    } KiB, peak ${formatNumber(s.peakRssKiB)} KiB, ${
      formatNumber(s.rssPerConnectionKiB, 2)
    } KiB per idle connection`,
  );
  if (s.settledRssKiB !== null) {
    lines.push(
      `  settled (${r.shape.settleSeconds} s idle) baseline ${
        formatNumber(s.settledBaselineRssKiB)
      } KiB, ready ${formatNumber(s.settledRssKiB)} KiB, ${
        formatNumber(s.settledRssPerConnectionKiB, 2)
      } KiB per idle connection`,
    );
  }
  if (s.logLines !== null) lines.push(`  server log      ${formatNumber(s.logLines)} lines`);
  for (const error of r.errorSamples.slice(0, 5)) lines.push(`  error: ${error}`);
  if (r.failure) lines.push(`  FAILED: ${r.failure}`);
  return lines.join("\n");
}

/** A load shape of `bench:compare`. */
export interface Shape {
  /** Short name used in the table. */
  name: string;
  /** What it shows. */
  description: string;
  /** Arguments for bench.ts. */
  args: string[];
  /** The kind of numbers that matter: throughput, latency or memory. */
  kind: "throughput" | "latency" | "memory";
}

/** One row of the comparison: a metric of a shape, median of each server's runs. */
export interface CompareRow {
  shape: string;
  metric: string;
  claptrap: number;
  ngircd: number;
  /** claptrap / ngircd. */
  ratio: number;
  /** Whether a larger value is better. */
  higherIsBetter: boolean;
  digits: number;
}

/** The metrics shown for each kind of shape. */
const METRICS: Record<
  Shape["kind"],
  { metric: string; pick: (r: BenchResult) => number | null; higher: boolean; digits: number }[]
> = {
  throughput: [
    { metric: "deliveries/s", pick: (r) => r.deliveriesPerSecond, higher: true, digits: 0 },
    {
      metric: "server CPU µs/delivery",
      pick: (r) => r.serverStats.cpuMicrosPerDelivery,
      higher: false,
      digits: 3,
    },
    { metric: "latency p99 ms", pick: (r) => r.latencyMs.p99, higher: false, digits: 2 },
    {
      metric: "peak RSS MiB",
      pick: (r) => kib(r.serverStats.peakRssKiB),
      higher: false,
      digits: 1,
    },
    {
      metric: "lost + errors",
      pick: (r) => Math.max(0, r.lost) + r.errors,
      higher: false,
      digits: 0,
    },
  ],
  latency: [
    { metric: "latency p50 ms", pick: (r) => r.latencyMs.p50, higher: false, digits: 2 },
    { metric: "latency p99 ms", pick: (r) => r.latencyMs.p99, higher: false, digits: 2 },
    { metric: "latency max ms", pick: (r) => r.latencyMs.max, higher: false, digits: 2 },
    { metric: "messages/s sent", pick: (r) => r.messagesPerSecond, higher: true, digits: 0 },
    { metric: "server CPU %", pick: (r) => r.serverStats.cpuPercent, higher: false, digits: 0 },
    {
      metric: "lost + errors",
      pick: (r) => Math.max(0, r.lost) + r.errors,
      higher: false,
      digits: 0,
    },
  ],
  memory: [
    {
      metric: "RSS KiB per idle connection",
      pick: (r) => r.serverStats.rssPerConnectionKiB,
      higher: false,
      digits: 2,
    },
    {
      metric: "… after 40 s idle",
      pick: (r) => r.serverStats.settledRssPerConnectionKiB,
      higher: false,
      digits: 2,
    },
    {
      metric: "peak RSS MiB",
      pick: (r) => kib(r.serverStats.peakRssKiB),
      higher: false,
      digits: 1,
    },
    { metric: "set-up s", pick: (r) => r.setupSeconds, higher: false, digits: 2 },
    { metric: "errors", pick: (r) => r.errors, higher: false, digits: 0 },
  ],
};

function kib(value: number | null): number | null {
  return value === null ? null : value / 1024;
}

/**
 * The comparison rows of one shape: for each metric, the median over each
 * server's runs and their ratio.
 */
export function compareRows(
  shape: Shape,
  claptrap: readonly BenchResult[],
  ngircd: readonly BenchResult[],
): CompareRow[] {
  return METRICS[shape.kind].map(({ metric, pick, higher, digits }) => {
    const c = median(claptrap.map((r) => pick(r) ?? NaN));
    const n = median(ngircd.map((r) => pick(r) ?? NaN));
    return {
      shape: shape.name,
      metric,
      claptrap: c,
      ngircd: n,
      ratio: c / n,
      higherIsBetter: higher,
      digits,
    };
  });
}

/**
 * A Markdown table of comparison rows. The ratio is Claptrap / ngircd;
 * "better" says which side wins on that metric.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatCompareTable } from "./report.ts";
 * const table = formatCompareTable([{
 *   shape: "100x1", metric: "deliveries/s", claptrap: 2e6, ngircd: 1e6, ratio: 2,
 *   higherIsBetter: true, digits: 0,
 * }]);
 * assert.match(table, /\| 100x1 \| deliveries\/s \| 2,000,000 \| 1,000,000 \| 2\.00 \| Claptrap \|/);
 * ```
 */
export function formatCompareTable(rows: readonly CompareRow[]): string {
  const header = [
    "| shape | metric | Claptrap | ngircd | Claptrap/ngircd | better |",
    "| --- | --- | ---: | ---: | ---: | --- |",
  ];
  const body = rows.map((row) => {
    let better = "–";
    if (Number.isFinite(row.ratio) && row.claptrap !== row.ngircd) {
      const claptrapWins = row.higherIsBetter ? row.ratio > 1 : row.ratio < 1;
      better = claptrapWins ? "Claptrap" : "ngircd";
    } else if (row.claptrap === row.ngircd && Number.isFinite(row.claptrap)) better = "tie";
    const ratio = Number.isFinite(row.ratio) ? row.ratio.toFixed(2) : "–";
    return `| ${row.shape} | ${row.metric} | ${formatNumber(row.claptrap, row.digits)} | ${
      formatNumber(row.ngircd, row.digits)
    } | ${ratio} | ${better} |`;
  });
  return [...header, ...body].join("\n");
}
