/**
 * Summarises a V8 `.cpuprofile` (as written by `deno run --cpu-prof`): the
 * functions with the most self time, and self time per file.
 *
 * ```sh
 * deno run --allow-read bench/profile_summary.ts /tmp/prof/CPU.*.cpuprofile [--top 25]
 * ```
 * @module
 */

import { parseArgs } from "node:util";

/** The parts of a `.cpuprofile` this summary reads. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }[];
  /** Node id of each sample. */
  samples: number[];
  /** Microseconds before each sample. */
  timeDeltas: number[];
}

/** Self time of one function (or file). */
export interface SelfTime {
  /** `function file:line`, or the file. */
  name: string;
  /** Self time in ms. */
  ms: number;
  /** Share of all sampled time, percent. */
  percent: number;
}

/** Where time went, heaviest first. */
export interface ProfileSummary {
  /** All sampled time, ms. */
  totalMs: number;
  /** Self time by function. */
  functions: SelfTime[];
  /** Self time by file (`(native)` for V8 and runtime frames without one). */
  files: SelfTime[];
}

/**
 * Adds up the self time of each function and each file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summariseProfile } from "./profile_summary.ts";
 * const frame = (functionName: string) => ({ functionName, url: "file:///a.ts", lineNumber: 0 });
 * const summary = summariseProfile({
 *   nodes: [{ id: 1, callFrame: frame("hot") }, { id: 2, callFrame: frame("cold") }],
 *   samples: [1, 1, 1, 2],
 *   timeDeltas: [100, 100, 100, 100],
 * });
 * assert.equal(summary.functions[0].name, "hot a.ts:1");
 * assert.equal(summary.functions[0].percent, 75);
 * ```
 */
export function summariseProfile(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const functions = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    // a sample stands for the time since the previous one
    const us = profile.timeDeltas[i] ?? 0;
    const frame = byId.get(profile.samples[i]);
    if (!frame) continue;
    total += us;
    const file = shortFile(frame.url);
    const name = `${frame.functionName || "(anonymous)"}${
      file ? ` ${file}:${frame.lineNumber + 1}` : ""
    }`;
    functions.set(name, (functions.get(name) ?? 0) + us);
    const fileKey = file || "(native)";
    files.set(fileKey, (files.get(fileKey) ?? 0) + us);
  }
  const rank = (map: Map<string, number>): SelfTime[] =>
    [...map].map(([name, us]) => ({
      name,
      ms: us / 1000,
      percent: total > 0 ? (us / total) * 100 : 0,
    })).sort((a, b) => b.ms - a.ms);
  return { totalMs: total / 1000, functions: rank(functions), files: rank(files) };
}

/** The last two path segments of a URL (`server/chat.ts`), or "" for none. */
function shortFile(url: string): string {
  if (!url) return "";
  const parts = url.replace(/^[a-z]+:\/*/, "").split("/");
  return parts.slice(-2).join("/");
}

/** The summary as text, `top` functions. */
export function formatProfileSummary(summary: ProfileSummary, top = 25): string {
  const line = (t: SelfTime) =>
    `${t.percent.toFixed(1).padStart(5)}%  ${t.ms.toFixed(0).padStart(7)} ms  ${t.name}`;
  return [
    `sampled ${summary.totalMs.toFixed(0)} ms`,
    "",
    `top ${top} functions by self time:`,
    ...summary.functions.slice(0, top).map(line),
    "",
    "self time by file:",
    ...summary.files.slice(0, 15).map(line),
  ].join("\n");
}

if (import.meta.main) {
  const { values, positionals: files } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: { top: { type: "string", default: "25" } },
  });
  const top = Number(values.top);
  if (files.length === 0 || !(top > 0)) {
    console.error("usage: profile_summary.ts FILE.cpuprofile... [--top N]");
    Deno.exit(2);
  }
  for (const file of files) {
    const profile = JSON.parse(await Deno.readTextFile(file)) as CpuProfile;
    console.log(`${file}\n${formatProfileSummary(summariseProfile(profile), top)}\n`);
  }
}
