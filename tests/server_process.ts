/**
 * Runs `server.ts` as a child process, as a user would, for tests of the
 * command line, start-up errors, signals and memory.
 * @module
 */

import { listeningPort } from "../server/log_format.ts";
import { ACCOUNTS, ROOMS, withTimeout } from "./helpers.ts";

/** A server child process. */
export interface ServerProcess {
  readonly pid: number;
  readonly port: number;
  /** The HTTP port, when started with `http`; else 0. */
  readonly httpPort: number;
  /** Log lines read from stderr so far. */
  readonly log: string[];
  /** Resolves with the exit code. */
  readonly exited: Promise<number>;
  kill(signal?: Deno.Signal): void;
}

const ROOT = new URL("../", import.meta.url).pathname;

/** How to run the server child. */
export interface ServerCommandOptions {
  stdin?: "null" | "piped";
  /** Run it with this limit on open descriptors (soft and hard), through `sh -c 'ulimit -n'`. */
  descriptorLimit?: number;
  /** Run it with `--allow-all` rather than the task's permissions (Deno reads /proc only so). */
  allowAll?: boolean;
  /** More flags for `deno run`, e.g. those `deno task start:postgres` adds. */
  denoFlags?: string[];
  /** More environment variables for it (it inherits the test's). */
  env?: Record<string, string>;
}

/** The command that runs `server.ts` with the task's permissions. */
export function serverCommand(args: string[], options: ServerCommandOptions = {}): Deno.Command {
  const deno = [
    Deno.execPath(),
    "run",
    ...(options.allowAll ? ["--allow-all"] : ["--allow-net", "--allow-read", "--allow-write"]),
    ...(options.denoFlags ?? []),
    `${ROOT}server.ts`,
    ...args,
  ];
  const [command, ...commandArgs] = options.descriptorLimit === undefined
    ? deno
    : ["sh", "-c", 'ulimit -n "$0" && exec "$@"', String(options.descriptorLimit), ...deno];
  return new Deno.Command(command, {
    args: commandArgs,
    cwd: ROOT,
    env: options.env,
    stdin: options.stdin ?? "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs `server.ts` to completion and returns its exit code and output. */
export async function runServer(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await withTimeout(
    serverCommand(args).output(),
    30_000,
    `server.ts ${args.join(" ")}`,
  );
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

/** Writes the test accounts and rooms as a globals file; returns its path. */
export async function writeTestGlobals(): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "globals-", suffix: ".txt" });
  const accounts = [...ACCOUNTS].map(([user, password]) => `${user} ${password}\n`).join("");
  await Deno.writeTextFile(path, `${accounts}\n${ROOMS.join("\n")}\n`);
  return path;
}

/**
 * Starts `server.ts` on a free port of 127.0.0.1 with the test accounts and
 * rooms, and waits until it listens; with `http`, on a free HTTP port too.
 */
export async function spawnServer(
  args: string[],
  options: ServerCommandOptions & { http?: boolean } = {},
): Promise<ServerProcess> {
  const globals = await writeTestGlobals();
  const child = serverCommand([
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--globals",
    globals,
    "--db",
    ":memory:",
    ...(options.http ? ["--http-port", "0"] : ["--no-http"]),
    ...args,
  ], options)
    .spawn();
  const log: string[] = [];
  let listening!: (port: number) => void;
  const port = new Promise<number>((resolve) => listening = resolve);
  let chatPort = 0;
  let httpPort = 0;
  const reading = (async () => {
    const lines = child.stderr.pipeThrough(new TextDecoderStream());
    let partial = "";
    for await (const chunk of lines) {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop()!;
      for (const line of parts) {
        log.push(line);
        // the listening line, as text or as JSON (--log-format json)
        const port = listeningPort(line);
        if (port !== null) chatPort = port;
        httpPort ||= Number(line.match(/listening http=[^ ]*:(\d+)$/)?.[1] ?? 0);
        if (chatPort && (httpPort || !options.http)) listening(chatPort);
      }
    }
  })();
  const stdout = child.stdout.cancel();
  const exited = Promise.all([child.status, reading, stdout]).then(async ([status]) => {
    await Deno.remove(globals);
    return status.code;
  });
  let boundPort: number;
  try {
    boundPort = await withTimeout(
      Promise.race([
        port,
        exited.then(() => {
          throw new Error(`server exited before listening:\n${log.join("\n")}`);
        }),
      ]),
      30_000,
      "server to listen",
    );
  } catch (error) {
    child.kill("SIGKILL"); // never leave a server behind
    throw error;
  }
  return {
    pid: child.pid,
    port: boundPort,
    httpPort,
    log,
    exited,
    kill: (signal = "SIGTERM") => child.kill(signal),
  };
}

/**
 * Peak resident memory of a process in KiB (VmHWM from /proc; read through
 * `cat` because Deno reads /proc only with all permissions).
 */
export async function peakRssKiB(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("cat", { args: [`/proc/${pid}/status`] }).output();
  const status = new TextDecoder().decode(stdout);
  return Number(status.match(/VmHWM:\s+(\d+) kB/)![1]);
}
