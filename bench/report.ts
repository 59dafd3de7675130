/**
 * What a benchmark run reports, and its text forms: the summary of one run,
 * the progress line, and the comparison table of `bench:compare`. Pure.
 * @module
 */

import type { Arrivals } from "./arrivals.ts";
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
    /** How messages at a rate were spaced (absent in results before it was recorded: even). */
    arrivals?: Arrivals;
    /** Message limit; 0 for none. */
    messages: number;
    durationSeconds: number;
    /** Seconds of sending before the measured phase (0: none). */
    warmupSeconds: number;
    /** Seconds idle after set-up before the second memory sample (0: none). */
    settleSeconds: number;
    workers: number;
    /** Servers started, client i on server i mod nodes (absent: 1). */
    nodes?: number;
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
  /**
   * With `--engine-pid`: the database server (PostgreSQL, its backends
   * included) during the measured time, beside the servers' own CPU.
   */
  engine?: { cpuSeconds: number; cpuMicrosPerDelivery: number; cpuMicrosPerMessage: number };
  /** The server processes (all nodes summed); null values when the pid is unknown. */
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
      r.shape.rate > 0
        ? `${formatNumber(r.shape.rate)} msg/s offered${
          r.shape.arrivals === "random" ? " at random" : ""
        }`
        : "full speed"
    }, ${r.shape.workers} workers${r.transport === "websocket" ? ", over WebSocket" : ""}${
      (r.shape.nodes ?? 1) > 1 ? `, ${r.shape.nodes} servers` : ""
    }`,
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
      ...(r.engine === undefined ? [] : [
        `  database CPU    ${formatNumber(r.engine.cpuSeconds, 2)} s, ${
          formatNumber(r.engine.cpuMicrosPerDelivery, 3)
        } µs/delivery, ${formatNumber(r.engine.cpuMicrosPerMessage, 2)} µs/message posted`,
      ]),
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
  /** Arguments for bench.ts (without `--transport`). */
  args: string[];
  /** The kind of numbers that matter: throughput, latency or memory. */
  kind: "throughput" | "latency" | "memory";
  /**
   * `websocket`: Claptrap's clients connect over WebSocket, and the anchor
   * is Claptrap over TCP with the same load instead of ngircd. Default tcp.
   */
  transport?: Transport;
}

/** The runs of one shape: the current Claptrap, an optional baseline checkout, and the anchor. */
export interface ShapeRuns {
  shape: Shape;
  /** The Claptrap under test. */
  claptrap: readonly BenchResult[];
  /** Another Claptrap checkout run with the same load (`--baseline-root`), or null. */
  baseline: readonly BenchResult[] | null;
  /** ngircd, or for a WebSocket shape the current Claptrap over TCP. */
  anchor: readonly BenchResult[];
}

/** What a metric of a row is, for the target verdicts. */
export type MetricKey =
  | "deliveriesPerSecond"
  | "cpuPerDelivery"
  | "cpuPerMessage"
  | "p50"
  | "p99"
  | "max"
  | "sentPerSecond"
  | "cpuPercent"
  | "peakMiB"
  | "idleKiB"
  | "restKiB"
  | "setupSeconds"
  | "problems";

/** One row of the comparison: a metric of a shape, median of each side's runs. */
export interface CompareRow {
  shape: string;
  metric: string;
  key: MetricKey;
  /** The Claptrap under test. */
  claptrap: number;
  /** The baseline checkout; null without one. */
  baseline: number | null;
  /** ngircd, or Claptrap over TCP for a WebSocket shape. */
  anchor: number;
  /** claptrap / anchor. */
  ratio: number;
  /** claptrap / baseline; null without a baseline. */
  baselineRatio: number | null;
  /** Whether a larger value is better. */
  higherIsBetter: boolean;
  digits: number;
}

interface Metric {
  key: MetricKey;
  metric: string;
  pick: (r: BenchResult) => number | null;
  higher: boolean;
  digits: number;
}

const CPU_PER_DELIVERY: Metric = {
  key: "cpuPerDelivery",
  metric: "server CPU µs/delivery",
  pick: (r) => r.serverStats.cpuMicrosPerDelivery,
  higher: false,
  digits: 3,
};
const CPU_PER_MESSAGE: Metric = {
  key: "cpuPerMessage",
  metric: "server CPU µs/message posted",
  pick: (r) => r.serverStats.cpuMicrosPerMessage,
  higher: false,
  digits: 2,
};
const PEAK_RSS: Metric = {
  key: "peakMiB",
  metric: "peak RSS MiB",
  pick: (r) => kib(r.serverStats.peakRssKiB),
  higher: false,
  digits: 1,
};
const PROBLEMS: Metric = {
  key: "problems",
  metric: "lost + errors",
  pick: (r) => Math.max(0, r.lost) + r.errors,
  higher: false,
  digits: 0,
};

/** The metrics shown for each kind of shape. */
const METRICS: Record<Shape["kind"], Metric[]> = {
  throughput: [
    {
      key: "deliveriesPerSecond",
      metric: "deliveries/s",
      pick: (r) => r.deliveriesPerSecond,
      higher: true,
      digits: 0,
    },
    CPU_PER_DELIVERY,
    CPU_PER_MESSAGE,
    {
      key: "p99",
      metric: "latency p99 ms",
      pick: (r) => r.latencyMs.p99,
      higher: false,
      digits: 2,
    },
    PEAK_RSS,
    PROBLEMS,
  ],
  latency: [
    {
      key: "p50",
      metric: "latency p50 ms",
      pick: (r) => r.latencyMs.p50,
      higher: false,
      digits: 2,
    },
    {
      key: "p99",
      metric: "latency p99 ms",
      pick: (r) => r.latencyMs.p99,
      higher: false,
      digits: 2,
    },
    {
      key: "max",
      metric: "latency max ms",
      pick: (r) => r.latencyMs.max,
      higher: false,
      digits: 2,
    },
    {
      key: "sentPerSecond",
      metric: "messages/s sent",
      pick: (r) => r.messagesPerSecond,
      higher: true,
      digits: 0,
    },
    {
      key: "cpuPercent",
      metric: "server CPU %",
      pick: (r) => r.serverStats.cpuPercent,
      higher: false,
      digits: 0,
    },
    CPU_PER_DELIVERY,
    CPU_PER_MESSAGE,
    PROBLEMS,
  ],
  memory: [
    {
      key: "idleKiB",
      metric: "RSS KiB per idle connection",
      pick: (r) => r.serverStats.rssPerConnectionKiB,
      higher: false,
      digits: 2,
    },
    {
      key: "restKiB",
      metric: "… at rest (after --settle)",
      pick: (r) => r.serverStats.settledRssPerConnectionKiB,
      higher: false,
      digits: 2,
    },
    PEAK_RSS,
    {
      key: "setupSeconds",
      metric: "set-up s",
      pick: (r) => r.setupSeconds,
      higher: false,
      digits: 2,
    },
    { key: "problems", metric: "errors", pick: (r) => r.errors, higher: false, digits: 0 },
  ],
};

function kib(value: number | null): number | null {
  return value === null ? null : value / 1024;
}

function medianOf(runs: readonly BenchResult[], pick: Metric["pick"]): number {
  return median(runs.map((r) => pick(r) ?? NaN));
}

/**
 * The comparison rows of one shape: for each metric, the median over each
 * side's runs and the ratios to the anchor and to the baseline.
 */
export function compareRows(runs: ShapeRuns): CompareRow[] {
  return METRICS[runs.shape.kind].map(({ key, metric, pick, higher, digits }) => {
    const claptrap = medianOf(runs.claptrap, pick);
    const anchor = medianOf(runs.anchor, pick);
    const baseline = runs.baseline ? medianOf(runs.baseline, pick) : null;
    return {
      shape: runs.shape.name,
      metric,
      key,
      claptrap,
      baseline,
      anchor,
      ratio: claptrap / anchor,
      baselineRatio: baseline === null ? null : claptrap / baseline,
      higherIsBetter: higher,
      digits,
    };
  });
}

/** The names of a comparison table's columns. */
export interface ColumnNames {
  /** The Claptrap under test, e.g. `Claptrap`. */
  current: string;
  /** The anchor, e.g. `ngircd`. */
  anchor: string;
}

/** Names of the table of TCP shapes. */
export const AGAINST_NGIRCD: ColumnNames = { current: "Claptrap", anchor: "ngircd" };
/** Names of the table of WebSocket shapes. */
export const WEBSOCKET_AGAINST_TCP: ColumnNames = { current: "WebSocket", anchor: "TCP" };

/** The column names of a shape's table: WebSocket shapes are compared with TCP. */
export function columnNames(shape: Shape): ColumnNames {
  return shape.transport === "websocket" ? WEBSOCKET_AGAINST_TCP : AGAINST_NGIRCD;
}

function ratioText(ratio: number | null): string {
  return ratio !== null && Number.isFinite(ratio) ? ratio.toFixed(2) : "–";
}

/**
 * A Markdown table of comparison rows. The ratio is current / anchor (and
 * current / baseline when there is a baseline column); "better" says which
 * of current and anchor wins on that metric.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatCompareTable } from "./report.ts";
 * const table = formatCompareTable([{
 *   shape: "100x1", metric: "deliveries/s", key: "deliveriesPerSecond", claptrap: 2e6,
 *   baseline: null, anchor: 1e6, ratio: 2, baselineRatio: null, higherIsBetter: true, digits: 0,
 * }]);
 * assert.match(table, /\| 100x1 \| deliveries\/s \| 2,000,000 \| 1,000,000 \| 2\.00 \| Claptrap \|/);
 * ```
 */
export function formatCompareTable(
  rows: readonly CompareRow[],
  names: ColumnNames = AGAINST_NGIRCD,
): string {
  const withBaseline = rows.some((row) => row.baseline !== null);
  const { current, anchor } = names;
  const header = withBaseline
    ? [
      `| shape | metric | ${current} | baseline | ${anchor} | ${current}/${anchor} | ${current}/baseline | better |`,
      "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    : [
      `| shape | metric | ${current} | ${anchor} | ${current}/${anchor} | better |`,
      "| --- | --- | ---: | ---: | ---: | --- |",
    ];
  const body = rows.map((row) => {
    let better = "–";
    if (Number.isFinite(row.ratio) && row.claptrap !== row.anchor) {
      const currentWins = row.higherIsBetter ? row.ratio > 1 : row.ratio < 1;
      better = currentWins ? current : anchor;
    } else if (row.claptrap === row.anchor && Number.isFinite(row.claptrap)) better = "tie";
    const cells = [
      row.shape,
      row.metric,
      formatNumber(row.claptrap, row.digits),
      ...(withBaseline ? [formatNumber(row.baseline, row.digits)] : []),
      formatNumber(row.anchor, row.digits),
      ratioText(row.ratio),
      ...(withBaseline ? [ratioText(row.baselineRatio)] : []),
      better,
    ];
    return `| ${cells.join(" | ")} |`;
  });
  return [...header, ...body].join("\n");
}

/** The project's targets, as `bench:compare` judges them. */
export const TARGETS = {
  /** Server CPU per delivery at least this many times better than ngircd's. */
  cpuBetterThanNgircd: 1.5,
  /** A room of at most this many members is small: judged per message posted instead. */
  smallRoom: 10,
  /** Small rooms: server CPU µs per message posted, store and index included. */
  smallRoomMicrosPerMessage: 9,
  /** Fixed offered load: the least warm-up, in seconds, for a latency verdict. */
  latencyWarmupSeconds: 10,
  /** Fixed offered load: p50 at most this share of ngircd's (p99: at most ngircd's). */
  p50ShareOfNgircd: 0.6,
  /** Idle connections at rest: KiB each at most. */
  restKiBPerConnection: 8,
  /** WebSocket: server CPU per delivery at most this many times TCP's. */
  websocketShareOfTcp: 2,
  /** Against the baseline: server CPU per delivery at most this much worse. */
  baselineCpuTolerance: 1.05,
} as const;

/** One target judged on one shape. */
export interface Verdict {
  /** The target, in words. */
  target: string;
  shape: string;
  /** What was measured (medians), in words. */
  measured: string;
  /** Whether it is met; null when the runs cannot tell (the reason is in `measured`). */
  met: boolean | null;
}

/**
 * Judges the project's targets ({@link TARGETS}) on medians of the runs:
 * CPU per delivery against ngircd (per message posted for small rooms),
 * latency at a fixed offered load after a warm-up with durable commits,
 * memory per idle connection at rest, WebSocket against TCP and, with a
 * baseline, the before/after gate (CPU per delivery at most 5% worse,
 * memory per idle connection not higher).
 */
export function targetVerdicts(all: readonly ShapeRuns[]): Verdict[] {
  const verdicts: Verdict[] = [];
  for (const runs of all) {
    const { shape } = runs;
    const rows = new Map(compareRows(runs).map((row) => [row.key, row]));
    const add = (target: string, measured: string, met: boolean | null) =>
      verdicts.push({ target, shape: shape.name, measured, met });
    const cpu = rows.get("cpuPerDelivery");
    const websocket = shape.transport === "websocket";
    if (websocket && cpu) {
      add(
        `server CPU per delivery over WebSocket ≤ ${TARGETS.websocketShareOfTcp}× TCP's`,
        `${formatNumber(cpu.claptrap, 3)} µs against ${formatNumber(cpu.anchor, 3)} µs: ${
          ratioText(cpu.ratio)
        }×`,
        cpu.ratio <= TARGETS.websocketShareOfTcp,
      );
    } else if (cpu) {
      const room = roomSize(runs.claptrap);
      const perMessage = rows.get("cpuPerMessage")!;
      if (room !== null && room <= TARGETS.smallRoom) {
        add(
          `small room: server CPU per message posted ≤ ${TARGETS.smallRoomMicrosPerMessage} µs`,
          `${formatNumber(perMessage.claptrap, 2)} µs (ngircd ${
            formatNumber(perMessage.anchor, 2)
          } µs)`,
          perMessage.claptrap <= TARGETS.smallRoomMicrosPerMessage,
        );
      } else {
        add(
          `server CPU per delivery ≥ ${TARGETS.cpuBetterThanNgircd}× better than ngircd`,
          `${formatNumber(cpu.claptrap, 3)} µs against ${formatNumber(cpu.anchor, 3)} µs: ${
            timesBetter(cpu.ratio)
          }`,
          cpu.ratio * TARGETS.cpuBetterThanNgircd <= 1,
        );
      }
    }
    if (shape.kind === "latency") {
      const p50 = rows.get("p50")!;
      const p99 = rows.get("p99")!;
      const warm = runs.claptrap.every((r) =>
        r.shape.warmupSeconds >= TARGETS.latencyWarmupSeconds && r.durableCommits === true
      );
      const unjudged = warm
        ? null
        : `not judged: needs --warmup ${TARGETS.latencyWarmupSeconds} and durable commits`;
      add(
        "fixed load: latency p99 ≤ ngircd's",
        unjudged ?? `${formatNumber(p99.claptrap, 2)} ms against ${formatNumber(p99.anchor, 2)} ms`,
        warm ? p99.claptrap <= p99.anchor : null,
      );
      add(
        `fixed load: latency p50 ≤ ${TARGETS.p50ShareOfNgircd}× ngircd's`,
        unjudged ??
          `${formatNumber(p50.claptrap, 2)} ms against ${formatNumber(p50.anchor, 2)} ms: ${
            ratioText(p50.ratio)
          }×`,
        warm ? p50.ratio <= TARGETS.p50ShareOfNgircd : null,
      );
    }
    const rest = rows.get("restKiB");
    if (rest) {
      const measured = Number.isFinite(rest.claptrap);
      add(
        `≤ ${TARGETS.restKiBPerConnection} KiB per idle connection at rest`,
        measured
          ? `${formatNumber(rest.claptrap, 2)} KiB (ngircd ${formatNumber(rest.anchor, 2)} KiB)`
          : "not judged: needs --settle",
        measured ? rest.claptrap <= TARGETS.restKiBPerConnection : null,
      );
    }
    if (runs.baseline) verdicts.push(...baselineVerdicts(shape, rows));
  }
  return verdicts;
}

/** The before/after gate of one shape against the baseline checkout. */
function baselineVerdicts(shape: Shape, rows: Map<MetricKey, CompareRow>): Verdict[] {
  const verdicts: Verdict[] = [];
  const cpu = rows.get("cpuPerDelivery");
  if (cpu?.baseline != null) {
    verdicts.push({
      target: `against the baseline: server CPU per delivery at most ${
        Math.round((TARGETS.baselineCpuTolerance - 1) * 100)
      }% worse`,
      shape: shape.name,
      measured: `${formatNumber(cpu.claptrap, 3)} µs against ${formatNumber(cpu.baseline, 3)} µs: ${
        percentChange(cpu.baselineRatio!)
      }`,
      met: cpu.baselineRatio! <= TARGETS.baselineCpuTolerance,
    });
  }
  for (const key of ["idleKiB", "restKiB"] as const) {
    const row = rows.get(key);
    if (row?.baseline == null || !Number.isFinite(row.claptrap)) continue;
    verdicts.push({
      target: `against the baseline: ${
        key === "idleKiB" ? "memory per idle connection" : "… at rest"
      } not higher`,
      shape: shape.name,
      measured: `${formatNumber(row.claptrap, 2)} KiB against ${formatNumber(row.baseline, 2)} KiB`,
      met: row.claptrap <= row.baseline,
    });
  }
  return verdicts;
}

/** Members per room of a shape's runs (the larger rooms when they differ), or null. */
function roomSize(runs: readonly BenchResult[]): number | null {
  const shape = runs[0]?.shape;
  return shape ? Math.ceil(shape.clients / shape.rooms) : null;
}

function timesBetter(ratio: number): string {
  if (!Number.isFinite(ratio) || ratio <= 0) return "–";
  return ratio <= 1 ? `${(1 / ratio).toFixed(2)}× better` : `${ratio.toFixed(2)}× worse`;
}

function percentChange(ratio: number): string {
  const percent = (ratio - 1) * 100;
  return `${percent >= 0 ? "+" : ""}${percent.toFixed(1)}%`;
}

/**
 * The verdicts as a Markdown table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatVerdicts } from "./report.ts";
 * const text = formatVerdicts([{ target: "t", shape: "s", measured: "m", met: false }]);
 * assert.match(text, /\| t \| s \| m \| no \|/);
 * ```
 */
export function formatVerdicts(verdicts: readonly Verdict[]): string {
  const met = (v: boolean | null) => v === null ? "–" : v ? "yes" : "no";
  return [
    "| target | shape | measured (medians) | met? |",
    "| --- | --- | --- | --- |",
    ...verdicts.map((v) => `| ${v.target} | ${v.shape} | ${v.measured} | ${met(v.met)} |`),
  ].join("\n");
}

/**
 * Every run's headline figures per shape and side, in the order run:
 * CPU µs per delivery (throughput), p50/p99 ms (latency), KiB per idle
 * connection right after set-up and at rest (memory). A Markdown table.
 */
export function formatEveryRun(all: readonly ShapeRuns[]): string {
  const withBaseline = all.some((runs) => runs.baseline !== null);
  const figures = (kind: Shape["kind"], results: readonly BenchResult[] | null) => {
    if (!results) return "–";
    return results.map((r) => {
      if (r.failure) return "failed";
      const s = r.serverStats;
      if (kind === "throughput") return formatNumber(s.cpuMicrosPerDelivery, 3);
      if (kind === "latency") return `${r.latencyMs.p50.toFixed(2)}/${r.latencyMs.p99.toFixed(2)}`;
      return `${formatNumber(s.rssPerConnectionKiB, 2)}/${
        formatNumber(s.settledRssPerConnectionKiB, 2)
      }`;
    }).join(", ");
  };
  const unit = { throughput: "CPU µs/delivery", latency: "p50/p99 ms", memory: "KiB idle/at rest" };
  return [
    `| shape | figure | Claptrap | ${withBaseline ? "baseline | " : ""}anchor |`,
    `| --- | --- | --- | ${withBaseline ? "--- | " : ""}--- |`,
    ...all.map((runs) => {
      const kind = runs.shape.kind;
      const cells = [
        runs.shape.name,
        unit[kind],
        figures(kind, runs.claptrap),
        ...(withBaseline ? [figures(kind, runs.baseline)] : []),
        `${columnNames(runs.shape).anchor}: ${figures(kind, runs.anchor)}`,
      ];
      return `| ${cells.join(" | ")} |`;
    }),
  ].join("\n");
}

/**
 * The whole report in Markdown: the table against ngircd, the table of
 * WebSocket against TCP, the verdicts on the targets, and every run.
 */
export function formatReport(all: readonly ShapeRuns[], runs: number, baseline: boolean): string {
  const tcp = all.filter((r) => r.shape.transport !== "websocket");
  const websocket = all.filter((r) => r.shape.transport === "websocket");
  const parts: string[] = [];
  const side = baseline ? ", the baseline checkout" : "";
  if (tcp.length > 0) {
    parts.push(
      `Claptrap against ngircd: medians of ${runs} run(s) per shape of Claptrap${side} and ngircd.`,
      formatCompareTable(tcp.flatMap(compareRows), AGAINST_NGIRCD),
    );
  }
  if (websocket.length > 0) {
    parts.push(
      `Claptrap over WebSocket against Claptrap over TCP, same load: medians of ${runs} run(s).`,
      formatCompareTable(websocket.flatMap(compareRows), WEBSOCKET_AGAINST_TCP),
    );
  }
  parts.push("Against the targets:", formatVerdicts(targetVerdicts(all)));
  parts.push("Every run, in the order run:", formatEveryRun(all));
  return parts.join("\n\n");
}
