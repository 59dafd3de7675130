/**
 * `deno task bench`: one load-generator run against Claptrap or ngircd on
 * 127.0.0.1. Run with `--help` for the options; BENCHMARKS.md has the
 * results and the exact commands.
 * @module
 */

import { BENCH_USAGE, globalsText, parseBenchArgs } from "./options.ts";
import { formatSummary } from "./report.ts";
import { type ProgressSink, runBench } from "./run.ts";

/** Progress on stderr: rewritten in place on a terminal, one line a second otherwise. */
export function stderrProgress(): ProgressSink {
  const encoder = new TextEncoder();
  const tty = Deno.stderr.isTerminal();
  let open = false;
  return (line, final) => {
    if (tty) {
      const text = line === "" ? (open ? "\n" : "") : `\r\x1b[2K${line}${final ? "\n" : ""}`;
      Deno.stderr.writeSync(encoder.encode(text));
      open = line !== "" && !final;
    } else if (line !== "") {
      Deno.stderr.writeSync(encoder.encode(line + "\n"));
    }
  };
}

async function main(args: string[]): Promise<number> {
  let options;
  try {
    options = parseBenchArgs(args);
  } catch (error) {
    console.error(`bench: ${(error as Error).message}\n\n${BENCH_USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(BENCH_USAGE);
    return 0;
  }
  if (options.writeGlobals) {
    await Deno.writeTextFile(options.writeGlobals, globalsText(options.clients, options.rooms));
    console.log(
      `wrote ${options.clients} accounts and ${options.rooms} rooms to ${options.writeGlobals}`,
    );
    return 0;
  }
  const result = await runBench(options, options.quiet ? undefined : stderrProgress());
  console.log(formatSummary(result));
  if (options.json) await Deno.writeTextFile(options.json, JSON.stringify(result, null, 2) + "\n");
  const clean = result.failure === null && result.lost === 0 && result.errors === 0;
  return clean ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
