/**
 * `deno task bench:compare`: Claptrap against ngircd on this machine. Runs
 * every shape against both servers, alternating, several times each (a
 * fresh server and a fresh load generator per run), and prints one table of
 * medians and ratios. Installs nothing: it says how to get ngircd when it
 * is missing.
 * @module
 */

import { parseArgs } from "node:util";
import { cpuModel, openFileLimit, sampleMachine, totalMemoryKiB } from "./proc.ts";
import {
  type BenchResult,
  type CompareRow,
  compareRows,
  formatCompareTable,
  type Shape,
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
    description: "100 clients in 1 room, 64 B, 5,000 messages/s in total",
    args: ["--clients", "100", "--rooms", "1", "--rate", "5000"],
    kind: "latency",
  },
  {
    name: "idle-5000",
    description: "5,000 clients logged in over 50 rooms, sending nothing",
    args: ["--clients", "5000", "--rooms", "50", "--idle", "--settle", "40", "--timeout", "150"],
    kind: "memory",
  },
];

const USAGE = `Usage: deno task bench:compare [options]

Runs each shape against Claptrap and ngircd, alternating, --runs times each,
and prints the medians and the ratio Claptrap/ngircd. Needs ngircd
(apt-get install -y ngircd). Takes about 15 minutes with the defaults.

Options:
  --runs N             runs per shape and server (default 3)
  --shapes A,B         only these shapes (default all: ${SHAPES.map((s) => s.name).join(", ")})
  --duration SECONDS   sending time of each run (default 5)
  --workers N          load-generator workers (default 2)
  --calm SECONDS       before each run, wait up to this long for the machine
                       to be idle (default 30)
  --retries N          run again (up to N times) a run during which other
                       processes took more than 15% of a core; the least
                       disturbed attempt counts (default 2)
  --json FILE          write every run's result and the table as JSON
  --markdown FILE      write the table as Markdown
  --server-root DIR    Claptrap checkout to run (default this one)
  --server-arg ARG     extra argument for server.ts (repeatable)
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
  const ngircd = await ngircdVersion(values.ngircd);
  if (!ngircd) {
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
  };
  console.log(
    `${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB; deno ${machine.deno}; ${ngircd}`,
  );
  const common = [
    "--duration",
    values.duration,
    "--workers",
    values.workers,
    "--quiet",
    "--server-root",
    values["server-root"],
    ...values["server-arg"].map((arg) => `--server-arg=${arg}`),
  ];
  const results = new Map<string, { claptrap: BenchResult[]; ngircd: BenchResult[] }>();
  const total = shapes.length * runs * 2;
  let done = 0;
  for (const shape of shapes) {
    const byServer = { claptrap: [] as BenchResult[], ngircd: [] as BenchResult[] };
    results.set(shape.name, byServer);
    for (let run = 0; run < runs; run++) {
      // alternate which server goes first
      const order = run % 2 === 0
        ? ["claptrap", "ngircd"] as const
        : ["ngircd", "claptrap"] as const;
      for (const server of order) {
        const serverArgs = server === "claptrap"
          ? common
          : [...common.filter((a) => !a.startsWith("--server-arg=")), "--ngircd", values.ngircd];
        let best: BenchResult | null = null;
        for (let attempt = 0; attempt <= retries; attempt++) {
          const calm = await waitForCalm(calmSeconds);
          const result = await runOne(shape, server, serverArgs);
          console.log(
            `[${done + 1}/${total}] ${shape.name} ${server} run ${run + 1}${
              attempt > 0 ? ` (again, ${attempt})` : ""
            }: ${oneLine(shape, result)}${calm ? "" : " (machine was busy before this run)"}`,
          );
          if (best === null || disturbance(result) < disturbance(best)) best = result;
          if (disturbance(result) <= DISTURBED) break;
        }
        done++;
        byServer[server].push(best!);
      }
    }
  }
  const rows: CompareRow[] = [];
  for (const shape of shapes) {
    const { claptrap, ngircd } = results.get(shape.name)!;
    rows.push(...compareRows(shape, claptrap, ngircd));
  }
  const table = formatCompareTable(rows);
  const all = [...results.values()].flatMap((r) => [...r.claptrap, ...r.ngircd]);
  const disturbed = all.filter((r) => disturbance(r) > DISTURBED).length;
  console.log(`\nMedians of ${runs} run(s) per shape and server; ratio = Claptrap / ngircd.`);
  if (disturbed > 0) {
    console.log(`${disturbed} of ${all.length} runs had other processes above ${DISTURBED}% CPU.`);
  }
  console.log();
  console.log(table);
  const failures = all.filter((r) => r.failure !== null || r.lost !== 0 || r.errors !== 0);
  for (const failed of failures) {
    console.log(
      `problem in ${failed.label}: ${
        failed.failure ?? `${failed.lost} lost, ${failed.errors} errors`
      } ${failed.errorSamples.slice(0, 3).join("; ")}`,
    );
  }
  if (values.markdown) await Deno.writeTextFile(values.markdown, table + "\n");
  if (values.json) {
    await Deno.writeTextFile(
      values.json,
      JSON.stringify({ machine, shapes, rows, runs: Object.fromEntries(results) }, null, 2) + "\n",
    );
  }
  return failures.length === 0 ? 0 : 1;
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
async function runOne(shape: Shape, server: "claptrap" | "ngircd", common: string[]) {
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
        "--server",
        server,
        "--label",
        `${server} ${shape.name}`,
        "--json",
        json,
        ...shape.args,
        ...common,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    try {
      return JSON.parse(await Deno.readTextFile(json)) as BenchResult;
    } catch {
      throw new Error(
        `bench.ts for ${server} ${shape.name} wrote no result (exit ${output.code}):\n` +
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
  } µs CPU/delivery, p50 ${ms(r.latencyMs.p50)} p99 ${
    ms(r.latencyMs.p99)
  } ms, ${lostErrors}; ${r.bottleneck}`;
}

/** Waits until the machine is nearly idle for a second; false if it never was. */
async function waitForCalm(seconds: number): Promise<boolean> {
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
