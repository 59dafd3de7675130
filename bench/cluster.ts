/**
 * `deno task bench:cluster`: what cluster mode costs. One room of
 * `--clients` members posting at fixed rates (at random by default, see
 * bench/arrivals.ts), against one server on SQLite, one on PostgreSQL,
 * and 2 and 3 servers sharing a PostgreSQL (NOTIFY as the bus) with the
 * clients dealt to the servers in turn, so that most deliveries cross
 * servers. Each run is a fresh `bench.ts` process with fresh servers and
 * a fresh database on a private PostgreSQL (tests/engines.ts, fsync on);
 * setups take turns in a rotating order, `--runs` times each. Reports
 * medians: the servers' CPU per delivery and per message posted (all
 * servers summed), PostgreSQL's own CPU beside it, and delivery latency.
 * @module
 */

import { parseArgs } from "node:util";
import {
  type PostgresEngine,
  postmasterPid,
  START_POSTGRES_FLAGS,
  startPostgres,
} from "../tests/engines.ts";
import { ARRIVALS } from "./arrivals.ts";
import { rotation, runOne, waitForCalm } from "./compare.ts";
import { DEFAULT_SERVER_ROOT } from "./options.ts";
import type { BenchResult } from "./report.ts";
import { median, pairedRatios } from "./stats.ts";

/** A way to run the servers. */
interface Setup {
  readonly name: string;
  /** Servers started. */
  readonly nodes: number;
  /** On a shared PostgreSQL (else each server on its own SQLite file). */
  readonly postgres: boolean;
}

const SETUPS: readonly Setup[] = [
  { name: "1 server, SQLite", nodes: 1, postgres: false },
  { name: "1 server, PostgreSQL", nodes: 1, postgres: true },
  { name: "2 servers", nodes: 2, postgres: true },
  { name: "3 servers", nodes: 3, postgres: true },
];

const USAGE = `Usage: deno task bench:cluster [options]

Measures cluster mode's cost: --clients members of one room posting at each
of --rates messages/s in total, against 1 server on SQLite, 1 on PostgreSQL,
and 2 and 3 servers on one PostgreSQL (clients dealt to them in turn), each
--runs times in a rotating order; prints the medians.

Options:
  --runs N            runs per setup and rate (default 5)
  --rates A,B         offered messages/s in total (default 300,1500)
  --clients N         members of the room (default 40)
  --setups A,B        setups by server count and store: sqlite,1,2,3 (default all)
  --duration SECONDS  measured sending time of each run (default 5); a run is stopped
                      after 120 s, or its warm-up and duration and a minute more
  --warmup SECONDS    sending before the measurement (default 10, as latency at a
                      fixed offered load is measured after a 10 s warm-up)
  --arrivals KIND     random (default: independent people posting, a Poisson
                      process) or even (evenly spaced by each load worker, whose
                      schedules line up differently from run to run)
  --calm SECONDS      before each run, wait up to this long for an idle machine (default 10)
  --server-root DIR   Claptrap checkout to run (default this one)
  --baseline-root DIR another checkout, run in the same rotation (before/after)
  --deno-flag FLAG    extra flag for the servers' deno run (repeatable), e.g. --cpu-prof
  --json FILE         write every run's result as JSON
  -h, --help          show this help
`;

const SETUP_KEYS: Record<string, number> = { sqlite: 0, "1": 1, "2": 2, "3": 3 };

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      runs: { type: "string", default: "5" },
      rates: { type: "string", default: "300,1500" },
      clients: { type: "string", default: "40" },
      setups: { type: "string", default: "sqlite,1,2,3" },
      duration: { type: "string", default: "5" },
      warmup: { type: "string", default: "10" },
      arrivals: { type: "string", default: "random" },
      calm: { type: "string", default: "10" },
      "server-root": { type: "string", default: DEFAULT_SERVER_ROOT },
      "baseline-root": { type: "string" },
      "deno-flag": { type: "string", multiple: true, default: [] },
      json: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const runs = Number(values.runs);
  const rates = values.rates.split(",").map(Number);
  const setups = values.setups.split(",").map((key) => SETUPS[SETUP_KEYS[key.trim()]]);
  if (
    !Number.isInteger(runs) || runs < 1 || rates.some((r) => !(r > 0)) ||
    setups.includes(undefined!) || !(ARRIVALS as readonly string[]).includes(values.arrivals)
  ) {
    console.error(`bench:cluster: bad --runs, --rates, --setups or --arrivals\n\n${USAGE}`);
    return 2;
  }
  const checkouts: Checkout[] = [{ name: "this", root: values["server-root"].replace(/\/$/, "") }];
  if (values["baseline-root"]) {
    checkouts.push({ name: "baseline", root: values["baseline-root"].replace(/\/$/, "") });
  }
  const engine = await startPostgres();
  if (setups.some((setup) => setup.postgres)) await steadyWal(engine);
  const postmaster = await postmasterPid(engine);
  const timeout = String(runTimeout(Number(values.warmup), Number(values.duration)));
  const turns = setups.flatMap((setup) => checkouts.map((checkout) => ({ setup, checkout })));
  const results = new Map<string, BenchResult[]>();
  const total = rates.length * runs * turns.length;
  let done = 0;
  for (const rate of rates) {
    for (let run = 0; run < runs; run++) {
      for (const { setup, checkout } of rotation(turns, run)) {
        const label = runLabel(setup, checkout, rate);
        const benchArgs = [
          ...["--clients", values.clients, "--rooms", "1", "--rate", String(rate)],
          ...["--duration", values.duration, "--warmup", values.warmup],
          ...["--timeout", timeout],
          ...["--arrivals", values.arrivals],
          ...["--server-root", checkout.root, "--nodes", String(setup.nodes), "--label", label],
          ...values["deno-flag"].map((flag) => `--deno-flag=${flag}`),
        ];
        if (setup.postgres) {
          const url = await engine.createDatabase();
          benchArgs.push(
            ...["--server-arg=--db", `--server-arg=${url}`, "--engine-pid", String(postmaster)],
            ...START_POSTGRES_FLAGS.map((flag) =>
              `--deno-flag=${flag.replace("=tests/", `=${checkout.root}/tests/`)}`
            ),
          );
        }
        await waitForCalm(Number(values.calm));
        const result = await runOne(label, benchArgs);
        done++;
        console.log(`[${done}/${total}] ${label} run ${run + 1}: ${summary(result)}`);
        if (!results.has(label)) results.set(label, []);
        results.get(label)!.push(result);
      }
    }
  }
  console.log();
  console.log(clusterTable(setups, checkouts, rates, results));
  if (values.json) {
    const json = JSON.stringify(Object.fromEntries(results), null, 2);
    await Deno.writeTextFile(values.json, json + "\n");
  }
  const failed = [...results.values()].flat().filter((r) =>
    r.failure !== null || r.lost !== 0 || r.errors !== 0
  );
  for (const r of failed) {
    console.log(
      `problem in ${r.label}: ${r.failure ?? `${r.lost} lost, ${r.errors} errors`} ${
        r.errorSamples.slice(0, 3).join("; ")
      }`,
    );
  }
  return failed.length === 0 ? 0 : 1;
}

/**
 * The hard limit on one run, in seconds: 120, or more for a longer run
 * (its sending time and a minute for logins, setup and draining).
 */
export function runTimeout(warmupSeconds: number, durationSeconds: number): number {
  return Math.max(120, Math.ceil(warmupSeconds + durationSeconds) + 60);
}

/** Rows written before the runs: about 560 MiB of WAL, 35 segments of 16 MiB. */
const PRIMING_ROWS = 2_000_000;

/**
 * Puts the new PostgreSQL where one that has been running is: with WAL
 * segments to reuse. A new one creates each segment as it first needs it
 * (16 MiB written and fsynced by the backend that crosses into it, while
 * it holds its rooms' rows: a 30–40 ms stall every few seconds at
 * 1,500 msg/s); one past its first checkpoints recycles the old ones. So:
 * some WAL, then a CHECKPOINT, which turns its segments into future ones.
 */
async function steadyWal(engine: PostgresEngine): Promise<void> {
  await engine.command(
    `CREATE TABLE claptrap_wal_primer AS
       SELECT g, repeat('x', 100) AS pad FROM generate_series(1, ${PRIMING_ROWS}) AS g`,
  );
  await engine.command("DROP TABLE claptrap_wal_primer");
  await engine.command("CHECKPOINT");
}

/** A Claptrap checkout whose servers are run. */
interface Checkout {
  /** `this`, or `baseline` (--baseline-root). */
  readonly name: string;
  readonly root: string;
}

function runLabel(setup: Setup, checkout: Checkout, rate: number): string {
  return `${checkout.name === "this" ? "" : `${checkout.name} `}${setup.name} ${rate}/s`;
}

function summary(r: BenchResult): string {
  if (r.failure) return `FAILED: ${r.failure}`;
  const s = r.serverStats;
  return `${s.cpuMicrosPerDelivery?.toFixed(2)} µs/delivery, ${
    s.cpuMicrosPerMessage?.toFixed(1)
  } µs/message, PostgreSQL ${
    r.engine ? r.engine.cpuMicrosPerDelivery.toFixed(2) : "-"
  } µs/delivery, p50 ${r.latencyMs.p50.toFixed(2)} p99 ${r.latencyMs.p99.toFixed(2)} ms, ${
    Math.round(r.messagesPerSecond)
  } msg/s, lost ${r.lost}, errors ${r.errors}, other processes ${
    Math.round(r.machine.otherPercent)
  }%`;
}

/**
 * The table of medians: one row per rate, setup and checkout; CPU per
 * delivery also as a multiple of the same checkout's SQLite server's, as
 * the ratio of the medians and as the median (and range) of the ratios of
 * the runs made in the same round.
 */
function clusterTable(
  setups: readonly Setup[],
  checkouts: readonly Checkout[],
  rates: readonly number[],
  results: ReadonlyMap<string, readonly BenchResult[]>,
): string {
  const lines = [
    `| ${checkouts.length > 1 ? "checkout | " : ""}setup | msg/s | servers' CPU µs/delivery | ` +
    "vs SQLite | run by run | µs/message | PostgreSQL µs/delivery | p50 ms | p99 ms |",
    `| ${
      checkouts.length > 1 ? "--- | " : ""
    }--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
  ];
  for (const rate of rates) {
    for (const checkout of checkouts) {
      let sqlite = NaN;
      let sqliteRuns: number[] = [];
      for (const setup of setups) {
        const runs = results.get(runLabel(setup, checkout, rate)) ?? [];
        const pick = (f: (r: BenchResult) => number | null | undefined) =>
          median(runs.filter((r) => r.failure === null).map((r) => f(r) ?? NaN));
        // run by run, a failed run as NaN, so that each stays paired with its round
        const eachRun = runs.map((r) =>
          r.failure === null ? r.serverStats.cpuMicrosPerDelivery ?? NaN : NaN
        );
        const perDelivery = median(eachRun);
        if (!setup.postgres) [sqlite, sqliteRuns] = [perDelivery, eachRun];
        const paired = pairedRatios(eachRun, sqliteRuns);
        const engine = pick((r) => r.engine?.cpuMicrosPerDelivery);
        const cells = [
          ...(checkouts.length > 1 ? [checkout.name] : []),
          setup.name,
          String(rate),
          perDelivery.toFixed(2),
          Number.isNaN(sqlite) ? "" : `${(perDelivery / sqlite).toFixed(2)}×`,
          paired.length === 0
            ? ""
            : `${median(paired).toFixed(2)}× (${Math.min(...paired).toFixed(2)}–${
              Math.max(...paired).toFixed(2)
            })`,
          pick((r) => r.serverStats.cpuMicrosPerMessage).toFixed(1),
          Number.isNaN(engine) ? "" : engine.toFixed(2),
          pick((r) => r.latencyMs.p50).toFixed(2),
          pick((r) => r.latencyMs.p99).toFixed(2),
        ];
        lines.push(`| ${cells.join(" | ")} |`);
      }
    }
  }
  return lines.join("\n");
}

if (import.meta.main) Deno.exit(await main(Deno.args));
