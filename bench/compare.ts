/**
 * `deno task bench:compare`: Claptrap against ngircd on this machine, its
 * WebSocket against its TCP, and optionally against another checkout of
 * itself (before/after). Runs every shape on each side in turn, rotating
 * the order, several times each (a fresh server and a fresh load generator
 * per run), and prints tables of medians and ratios and the verdicts on
 * the project's targets. Installs nothing: it says how to get ngircd when
 * it is missing.
 * @module
 */

import { parseArgs } from "node:util";
import { cpuModel, openFileLimit, sampleMachine, totalMemoryKiB } from "./proc.ts";
import {
  type BenchResult,
  compareRows,
  formatReport,
  type Shape,
  type ShapeRuns,
  targetVerdicts,
} from "./report.ts";
import { DEFAULT_SERVER_ROOT } from "./options.ts";
import { ngircdVersion } from "./servers.ts";

/** The shapes run by default. */
export const SHAPES: readonly Shape[] = [
  {
    name: "10x1",
    description: "10 clients in 1 room, 64 B, full speed",
    args: ["--clients", "10", "--rooms", "1"],
    kind: "throughput",
  },
  {
    name: "100x1",
    description: "100 clients in 1 room, 64 B, full speed",
    args: ["--clients", "100", "--rooms", "1"],
    kind: "throughput",
  },
  {
    name: "1000x10",
    description: "1,000 clients over 10 rooms, 64 B, full speed",
    args: ["--clients", "1000", "--rooms", "10"],
    kind: "throughput",
  },
  {
    name: "100x1-1KiB",
    description: "100 clients in 1 room, 1,024 B (3 PRIVMSG lines on IRC), full speed",
    args: ["--clients", "100", "--rooms", "1", "--size", "1024"],
    kind: "throughput",
  },
  {
    name: "100x1-5k/s",
    description:
      "100 clients in 1 room, 64 B, 5,000 messages/s in total, measured after a 10 s warm-up",
    args: ["--clients", "100", "--rooms", "1", "--rate", "5000", "--warmup", "10"],
    kind: "latency",
  },
  {
    name: "idle-5000",
    description: "5,000 clients logged in over 50 rooms, sending nothing",
    args: ["--clients", "5000", "--rooms", "50", "--idle", "--settle", "40", "--timeout", "150"],
    kind: "memory",
  },
  {
    name: "ws-10x1",
    description: "10 clients in 1 room over WebSocket, 64 B, full speed; against TCP",
    args: ["--clients", "10", "--rooms", "1"],
    kind: "throughput",
    transport: "websocket",
  },
  {
    name: "ws-100x1",
    description: "100 clients in 1 room over WebSocket, 64 B, full speed; against TCP",
    args: ["--clients", "100", "--rooms", "1"],
    kind: "throughput",
    transport: "websocket",
  },
];

/** The sides of a shape: the Claptrap under test, the baseline checkout, the anchor. */
export type Side = "claptrap" | "baseline" | "anchor";

const USAGE = `Usage: deno task bench:compare [options]

Runs each shape on each side, rotating the order, --runs times each, and
prints the medians, the ratios and the verdicts on the project's targets.
The sides: this Claptrap; with --baseline-root, another checkout of it (the
"before" of a change, run the same way); and the anchor: ngircd, or for
the WebSocket shapes (ws-…) this Claptrap over TCP with the same load.
Needs ngircd (apt-get install -y ngircd). Takes about 20 minutes with the
defaults, half as long again with a baseline.

Options:
  --runs N             runs per shape and side (default 3)
  --shapes A,B         only these shapes (default all: ${SHAPES.map((s) => s.name).join(", ")})
  --duration SECONDS   sending time of each run (default 5)
  --workers N          load-generator workers (default 2)
  --calm SECONDS       before each run, wait up to this long for the machine
                       to be idle (default 30)
  --retries N          run again (up to N times) a run during which other
                       processes took more than 15% of a core; the least
                       disturbed attempt counts (default 2)
  --json FILE          write every run's result, the tables and the verdicts as JSON
  --markdown FILE      write the tables and the verdicts as Markdown
  --server-root DIR    Claptrap checkout to run (default this one)
  --baseline-root DIR  another Claptrap checkout (a directory with its own
                       server.ts), run in the same rotation: its own column
                       and the ratio current/baseline
  --server-arg ARG     extra argument for both checkouts' server.ts (repeatable)
  --ngircd PATH        ngircd executable (default ngircd)
  -h, --help           show this help
`;

const BENCH = new URL("./bench.ts", import.meta.url).pathname;

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      runs: { type: "string", default: "3" },
      shapes: { type: "string" },
      duration: { type: "string", default: "5" },
      workers: { type: "string", default: "2" },
      calm: { type: "string", default: "30" },
      retries: { type: "string", default: "2" },
      json: { type: "string" },
      markdown: { type: "string" },
      "server-root": { type: "string", default: DEFAULT_SERVER_ROOT },
      "baseline-root": { type: "string" },
      "server-arg": { type: "string", multiple: true, default: [] },
      ngircd: { type: "string", default: "ngircd" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const runs = Number(values.runs);
  const calmSeconds = Number(values.calm);
  const retries = Number(values.retries);
  if (!Number.isInteger(runs) || runs < 1) return usage("--runs must be a whole number ≥ 1");
  const wanted = values.shapes?.split(",").map((name) => name.trim());
  const shapes = wanted ? SHAPES.filter((shape) => wanted.includes(shape.name)) : SHAPES;
  if (wanted && shapes.length !== wanted.length) {
    return usage(
      `unknown shape in ${values.shapes}; shapes: ${SHAPES.map((s) => s.name).join(", ")}`,
    );
  }
  const baselineRoot = values["baseline-root"]?.replace(/\/$/, "");
  if (baselineRoot !== undefined && !(await isFile(`${baselineRoot}/server.ts`))) {
    return usage(`--baseline-root ${baselineRoot} has no server.ts`);
  }
  const ngircd = await ngircdVersion(values.ngircd);
  if (!ngircd && shapes.some((shape) => shape.transport !== "websocket")) {
    console.error(
      `bench:compare: ngircd not found (${values.ngircd}). Install it with:\n\n` +
        `  apt-get update && apt-get install -y ngircd\n\n` +
        `(as root; the Debian package is not started as a service here), then run this again.`,
    );
    return 2;
  }
  const limit = await openFileLimit();
  const biggest = Math.max(...shapes.map((s) => Number(s.args[s.args.indexOf("--clients") + 1])));
  if (limit < biggest + 64) {
    console.error(
      `bench:compare: the open-file limit is ${limit}; ${biggest} connections need more. ` +
        `Raise it first: ulimit -n ${Math.max(65536, biggest * 2)}`,
    );
    return 2;
  }
  const machine = {
    cores: navigator.hardwareConcurrency,
    cpu: await cpuModel(),
    memoryGiB: Math.round((await totalMemoryKiB()) / 1024 / 1024),
    deno: Deno.version.deno,
    ngircd,
    serverRoot: values["server-root"],
    baselineRoot: baselineRoot ?? null,
  };
  console.log(
    `${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB; deno ${machine.deno}; ${ngircd}`,
  );
  const setting: RunSetting = {
    duration: values.duration,
    workers: values.workers,
    serverRoot: values["server-root"],
    baselineRoot: baselineRoot ?? null,
    serverArgs: values["server-arg"],
    ngircd: values.ngircd,
  };
  const sides: Side[] = baselineRoot === undefined
    ? ["claptrap", "anchor"]
    : ["claptrap", "baseline", "anchor"];
  const all: ShapeRuns[] = [];
  const total = shapes.length * runs * sides.length;
  let done = 0;
  for (const shape of shapes) {
    const bySide: Record<Side, BenchResult[]> = { claptrap: [], baseline: [], anchor: [] };
    all.push({
      shape,
      claptrap: bySide.claptrap,
      baseline: baselineRoot === undefined ? null : bySide.baseline,
      anchor: bySide.anchor,
    });
    for (let run = 0; run < runs; run++) {
      for (const side of rotation(sides, run)) {
        const label = `${sideName(shape, side)} ${shape.name}`;
        const args = [...runArgs(shape, side, setting), "--label", label];
        let best: BenchResult | null = null;
        for (let attempt = 0; attempt <= retries; attempt++) {
          const calm = await waitForCalm(calmSeconds);
          const result = await runOne(label, args);
          console.log(
            `[${done + 1}/${total}] ${label} run ${run + 1}${
              attempt > 0 ? ` (again, ${attempt})` : ""
            }: ${oneLine(shape, result)}${calm ? "" : " (machine was busy before this run)"}`,
          );
          if (best === null || disturbance(result) < disturbance(best)) best = result;
          if (disturbance(result) <= DISTURBED) break;
        }
        done++;
        bySide[side].push(best!);
      }
    }
  }
  const results = all.flatMap((r) => [...r.claptrap, ...(r.baseline ?? []), ...r.anchor]);
  const disturbed = results.filter((r) => disturbance(r) > DISTURBED).length;
  const report = formatReport(all, runs, baselineRoot !== undefined);
  console.log();
  if (disturbed > 0) {
    console.log(
      `${disturbed} of ${results.length} runs had other processes above ${DISTURBED}% CPU.\n`,
    );
  }
  console.log(report);
  const failures = results.filter((r) => r.failure !== null || r.lost !== 0 || r.errors !== 0);
  for (const failed of failures) {
    console.log(
      `problem in ${failed.label}: ${
        failed.failure ?? `${failed.lost} lost, ${failed.errors} errors`
      } ${failed.errorSamples.slice(0, 3).join("; ")}`,
    );
  }
  if (values.markdown) await Deno.writeTextFile(values.markdown, report + "\n");
  if (values.json) {
    await Deno.writeTextFile(
      values.json,
      JSON.stringify(
        {
          machine,
          shapes,
          rows: all.flatMap(compareRows),
          verdicts: targetVerdicts(all),
          runs: Object.fromEntries(all.map((r) => [r.shape.name, r])),
        },
        null,
        2,
      ) + "\n",
    );
  }
  return failures.length === 0 ? 0 : 1;
}

/** What every run of a comparison shares. */
export interface RunSetting {
  /** Sending time, seconds (text, as given). */
  duration: string;
  /** Load-generator workers (text, as given). */
  workers: string;
  /** The Claptrap checkout under test. */
  serverRoot: string;
  /** The baseline checkout, or null. */
  baselineRoot: string | null;
  /** Extra server.ts arguments, for both checkouts. */
  serverArgs: string[];
  /** The ngircd executable. */
  ngircd: string;
}

/**
 * The bench.ts arguments of one run of `shape` on `side`: Claptrap (the
 * shape's transport) from its checkout, the baseline the same way from
 * its own, and the anchor: ngircd, or Claptrap over TCP for a WebSocket
 * shape.
 */
export function runArgs(shape: Shape, side: Side, setting: RunSetting): string[] {
  const common = [
    ...shape.args,
    "--duration",
    setting.duration,
    "--workers",
    setting.workers,
    "--quiet",
  ];
  const claptrap = (root: string) => [
    "--server-root",
    root,
    ...setting.serverArgs.map((arg) => `--server-arg=${arg}`),
  ];
  const websocket = shape.transport === "websocket" ? ["--transport", "websocket"] : [];
  if (side === "claptrap") return [...common, ...claptrap(setting.serverRoot), ...websocket];
  if (side === "baseline") {
    if (setting.baselineRoot === null) throw new TypeError("no baseline checkout to run");
    return [...common, ...claptrap(setting.baselineRoot), ...websocket];
  }
  if (shape.transport === "websocket") return [...common, ...claptrap(setting.serverRoot)];
  return [...common, "--server", "ngircd", "--ngircd", setting.ngircd];
}

/**
 * The order of the sides in run `run`: rotated by one each run, so that
 * each side goes first, second… equally often (with two sides: alternating).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rotation } from "./compare.ts";
 * assert.deepEqual(rotation(["a", "b", "c"], 1), ["b", "c", "a"]);
 * assert.deepEqual(rotation(["a", "b"], 3), ["b", "a"]);
 * ```
 */
export function rotation<T>(sides: readonly T[], run: number): T[] {
  const shift = run % sides.length;
  return [...sides.slice(shift), ...sides.slice(0, shift)];
}

function sideName(shape: Shape, side: Side): string {
  if (side === "claptrap") return shape.transport === "websocket" ? "claptrap-ws" : "claptrap";
  if (side === "baseline") return shape.transport === "websocket" ? "baseline-ws" : "baseline";
  return shape.transport === "websocket" ? "claptrap-tcp" : "ngircd";
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** Other processes' CPU (percent of one core) above which a run counts as disturbed. */
const DISTURBED = 15;

/** How much other processes took during a run (memory shapes: before it). */
function disturbance(result: BenchResult): number {
  if (result.failure !== null) return Infinity;
  return result.shape.durationSeconds > 0
    ? result.machine.otherPercent
    : result.machine.backgroundPercent;
}

function usage(message: string): number {
  console.error(`bench:compare: ${message}\n\n${USAGE}`);
  return 2;
}

/** One run of bench.ts in its own process; its result from --json. */
export async function runOne(label: string, args: string[]): Promise<BenchResult> {
  const json = await Deno.makeTempFile({ prefix: "bench-", suffix: ".json" });
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net=127.0.0.1",
        "--allow-read",
        "--allow-write",
        "--allow-run",
        BENCH,
        "--json",
        json,
        ...args,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    try {
      return JSON.parse(await Deno.readTextFile(json)) as BenchResult;
    } catch {
      throw new Error(
        `bench.ts for ${label} wrote no result (exit ${output.code}):\n` +
          new TextDecoder().decode(output.stderr).slice(-2000),
      );
    }
  } finally {
    await Deno.remove(json).catch(() => {});
  }
}

function oneLine(shape: Shape, r: BenchResult): string {
  if (r.failure) return `FAILED: ${r.failure}`;
  const lostErrors = `lost ${r.lost}, errors ${r.errors}`;
  if (shape.kind === "memory") {
    const settled = r.serverStats.settledRssPerConnectionKiB;
    return `${r.serverStats.rssPerConnectionKiB?.toFixed(2)} KiB/connection${
      settled === null ? "" : ` (${settled.toFixed(2)} after ${r.shape.settleSeconds} s idle)`
    }, set-up ${r.setupSeconds.toFixed(1)} s, ${lostErrors}`;
  }
  const ms = (v: number) => v.toFixed(2);
  return `${Math.round(r.deliveriesPerSecond).toLocaleString("en-US")} deliveries/s, ${
    r.serverStats.cpuMicrosPerDelivery?.toFixed(3)
  } µs CPU/delivery, ${r.serverStats.cpuMicrosPerMessage?.toFixed(2)} µs CPU/message, p50 ${
    ms(r.latencyMs.p50)
  } p99 ${ms(r.latencyMs.p99)} ms, ${lostErrors}; ${r.bottleneck}`;
}

/** Waits until the machine is nearly idle for a second; false if it never was. */
export async function waitForCalm(seconds: number): Promise<boolean> {
  const deadline = performance.now() + seconds * 1000;
  for (;;) {
    const before = await sampleMachine();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const after = await sampleMachine();
    const total = after.totalTicks - before.totalTicks;
    const idle = after.idleTicks - before.idleTicks;
    if (total > 0 && idle / total >= 0.9) return true;
    if (performance.now() > deadline) return false;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
