/**
 * Process and machine statistics from Linux's /proc: CPU time, resident
 * memory, threads, open-file limit. Deno refuses to read /proc without
 * `--allow-all`, so the files are read through `cat` (`--allow-run`); the
 * parsers are pure and tested on their own.
 * @module
 */

import { parseDescriptorLimits } from "../server/listeners/fd_limit.ts";

/** CPU time and memory of one process. */
export interface ProcessSample {
  /** utime + stime, in seconds. */
  cpuSeconds: number;
  /** Resident set size now (VmRSS), in KiB. */
  rssKiB: number;
  /** Peak resident set size (VmHWM), in KiB. */
  peakRssKiB: number;
}

/** CPU time of one thread. */
export interface ThreadSample {
  /** The thread's name (`comm`), e.g. `worker-1`. */
  name: string;
  /** utime + stime, in seconds. */
  cpuSeconds: number;
}

/** CPU time of the whole machine, in clock ticks summed over all cores. */
export interface MachineSample {
  /** All ticks (user, nice, system, idle, iowait, irq, softirq, steal). */
  totalTicks: number;
  /** Ticks spent idle or waiting for I/O. */
  idleTicks: number;
}

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`; 100 on Linux). */
export const CLOCK_TICKS = 100;

/**
 * Parses a `/proc/PID/stat` or `/proc/PID/task/TID/stat` line into the
 * thread or process name and its utime + stime in seconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseStat } from "./proc.ts";
 * const line = "42 (worker-1) S 1 42 42 0 -1 4194560 0 0 0 0 150 25 0 0 20 0 1 0 0 0 0";
 * assert.deepEqual(parseStat(line), { name: "worker-1", cpuSeconds: 1.75 });
 * ```
 */
export function parseStat(line: string, ticksPerSecond = CLOCK_TICKS): ThreadSample {
  const open = line.indexOf("(");
  const close = line.lastIndexOf(")");
  if (open === -1 || close < open) throw new SyntaxError(`Cannot parse stat: ${line.slice(0, 60)}`);
  // fields after the name: state is field 3, utime field 14, stime field 15
  const fields = line.slice(close + 2).trim().split(/\s+/);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new SyntaxError(`Cannot parse stat: no utime/stime in ${line.slice(0, 60)}`);
  }
  return { name: line.slice(open + 1, close), cpuSeconds: (utime + stime) / ticksPerSecond };
}

/**
 * The CPU seconds of process `pid` and of its children, from the `stat`
 * lines of every process: its own and its live children's utime + stime,
 * and cutime + cstime for children that have ended (PostgreSQL's
 * backends are the postmaster's children).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { treeCpuSeconds } from "./proc.ts";
 * const stats = [
 *   "10 (postgres) S 1 10 10 0 -1 0 0 0 0 0 100 50 30 20 20 0 1 0 0 0 0",
 *   "11 (postgres) S 10 10 10 0 -1 0 0 0 0 0 200 100 0 0 20 0 1 0 0 0 0",
 *   "12 (deno) S 1 12 12 0 -1 0 0 0 0 0 900 900 0 0 20 0 1 0 0 0 0",
 * ].join("\n");
 * assert.equal(treeCpuSeconds(stats, 10), 5);
 * ```
 */
export function treeCpuSeconds(stats: string, pid: number, ticksPerSecond = CLOCK_TICKS): number {
  let ticks = 0;
  for (const line of stats.split("\n")) {
    const close = line.lastIndexOf(")");
    if (close === -1) continue;
    const fields = line.slice(close + 2).trim().split(/\s+/);
    if (Number(line.slice(0, line.indexOf(" "))) !== pid && Number(fields[1]) !== pid) continue;
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  }
  return ticks / ticksPerSecond;
}

/**
 * Reads VmRSS and VmHWM (KiB) from the text of `/proc/PID/status`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseStatus } from "./proc.ts";
 * assert.deepEqual(parseStatus("Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n"), {
 *   rssKiB: 1024,
 *   peakRssKiB: 2048,
 * });
 * ```
 */
export function parseStatus(text: string): { rssKiB: number; peakRssKiB: number } {
  const field = (name: string) => {
    const match = text.match(new RegExp(`^${name}:\\s+(\\d+) kB`, "m"));
    if (!match) throw new SyntaxError(`Cannot parse status: no ${name}`);
    return Number(match[1]);
  };
  return { rssKiB: field("VmRSS"), peakRssKiB: field("VmHWM") };
}

/** Parses the first (`cpu `) line of `/proc/stat`. */
export function parseMachineStat(text: string): MachineSample {
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) throw new SyntaxError("Cannot parse /proc/stat: no cpu line");
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const totalTicks = ticks.reduce((a, b) => a + b, 0);
  return { totalTicks, idleTicks: ticks[3] + (ticks[4] ?? 0) };
}

/** The soft "Max open files" limit from the text of `/proc/PID/limits`. */
export function parseOpenFileLimit(text: string): number {
  const limits = parseDescriptorLimits(text);
  if (!limits) throw new SyntaxError("Cannot parse limits: no Max open files");
  return limits.soft;
}

/** Runs a command and returns its stdout; throws with its stderr when it fails. */
async function run(command: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
    .output();
  if (!output.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed: ${new TextDecoder().decode(output.stderr).trim()}`,
    );
  }
  return new TextDecoder().decode(output.stdout);
}

/** Reads a file under /proc through `cat`. */
export function readProc(path: string): Promise<string> {
  return run("cat", [path]);
}

/** CPU time and memory of process `pid`. */
export async function sampleProcess(pid: number): Promise<ProcessSample> {
  const [stat, status] = await Promise.all([
    readProc(`/proc/${pid}/stat`),
    readProc(`/proc/${pid}/status`),
  ]);
  return { cpuSeconds: parseStat(stat).cpuSeconds, ...parseStatus(status) };
}

/** CPU time of every thread of process `pid`. */
export async function sampleThreads(pid: number): Promise<ThreadSample[]> {
  // a thread that ends meanwhile makes cat fail: the others still count
  const text = await run("sh", ["-c", `cat /proc/${pid}/task/*/stat 2>/dev/null; true`]);
  return text.split("\n").filter((line) => line.trim() !== "").map((line) => parseStat(line));
}

/** CPU seconds of process `pid` and its children (see {@link treeCpuSeconds}). */
export async function sampleTree(pid: number): Promise<number> {
  const text = await run("sh", ["-c", "cat /proc/[0-9]*/stat 2>/dev/null; true"]);
  return treeCpuSeconds(text, pid);
}

/** CPU time of the whole machine. */
export async function sampleMachine(): Promise<MachineSample> {
  return parseMachineStat(await readProc("/proc/stat"));
}

/** This process's soft limit on open files (as inherited by the `cat` child). */
export async function openFileLimit(): Promise<number> {
  return parseOpenFileLimit(await readProc("/proc/self/limits"));
}

/** The machine's CPU model, from /proc/cpuinfo. */
export async function cpuModel(): Promise<string> {
  const text = await readProc("/proc/cpuinfo");
  return text.match(/^model name\s*:\s*(.*)$/m)?.[1]?.trim() ?? "unknown";
}

/** Total memory in KiB, from /proc/meminfo. */
export async function totalMemoryKiB(): Promise<number> {
  const text = await readProc("/proc/meminfo");
  return Number(text.match(/^MemTotal:\s+(\d+) kB/m)?.[1] ?? NaN);
}
