/**
 * Starting the servers under test as child processes on 127.0.0.1: the
 * Claptrap server (`server.ts`, with the permissions of the `start` task and
 * a generated globals file) and ngircd (with a copy of `bench/ngircd.conf`
 * on a free port). Their output is drained continuously so that logging
 * never blocks them.
 * @module
 */

import { listeningPort } from "../server/log_format.ts";
import { globalsText } from "./options.ts";

/** A server started by the bench. */
export interface ServerProcess {
  /** Its pid, for /proc. */
  readonly pid: number;
  /** The port it listens on, on 127.0.0.1. */
  readonly port: number;
  /** Claptrap started with its HTTP listener: that port (WebSocket at `/ws`); else null. */
  readonly httpPort: number | null;
  /** Lines it has written to stdout and stderr so far. */
  readonly logLines: () => number;
  /** Bytes it has written to stdout and stderr so far. */
  readonly logBytes: () => number;
  /** Its last lines of output, for error messages. */
  readonly tail: () => string[];
  /** Stops it (SIGTERM, then SIGKILL after `graceMs`); resolves with its exit code. */
  stop(graceMs?: number): Promise<number>;
}

const START_FLAGS_FALLBACK = ["--allow-net", "--allow-read=."];

/**
 * The `deno run` flags of a task line such as
 * `deno run --allow-net --allow-read=. server.ts`: what comes between `run`
 * and the script.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { taskRunFlags } from "./servers.ts";
 * assert.deepEqual(taskRunFlags("deno run --allow-net --allow-read=. server.ts"), [
 *   "--allow-net",
 *   "--allow-read=.",
 * ]);
 * assert.equal(taskRunFlags("echo hi"), null);
 * ```
 */
export function taskRunFlags(task: string): string[] | null {
  const words = task.trim().split(/\s+/);
  const run = words.indexOf("run");
  const script = words.findIndex((word, i) => i > run && /(^|\/)server\.ts$/.test(word));
  if (words[0] !== "deno" || run !== 1 || script === -1) return null;
  return words.slice(run + 1, script);
}

/**
 * Rewrites the path lists of scoped permission flags for a server that runs
 * in `dir` instead of `root`: `.` becomes both (the sources stay readable,
 * files the server makes land in `dir`), other relative paths are resolved
 * against `root`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rescopeFlags } from "./servers.ts";
 * assert.deepEqual(rescopeFlags(["--allow-net", "--allow-read=.,data"], "/src", "/tmp/x"), [
 *   "--allow-net",
 *   "--allow-read=/src,/tmp/x,/src/data",
 * ]);
 * ```
 */
export function rescopeFlags(flags: readonly string[], root: string, dir: string): string[] {
  return flags.map((flag) => {
    const match = flag.match(/^(--allow-(?:read|write))=(.*)$/);
    if (!match) return flag;
    const paths = match[2].split(",").flatMap((path) => {
      if (path === "." || path === "./") return [root, dir];
      return path.startsWith("/") ? [path] : [`${root}/${path.replace(/^\.\//, "")}`];
    });
    return `${match[1]}=${paths.join(",")}`;
  });
}

/**
 * The port of the server's `listening http=HOST:PORT` line (text log
 * format, the default), or null for any other line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { httpListeningPort } from "./servers.ts";
 * assert.equal(httpListeningPort("2026-11-23T10:54:12.345Z listening http=127.0.0.1:8080"), 8080);
 * assert.equal(httpListeningPort("2026-11-23T10:54:12.345Z listening addr=127.0.0.1:6666"), null);
 * ```
 */
export function httpListeningPort(line: string): number | null {
  const match = / listening http=\S*:(\d{1,5})$/.exec(line);
  return match ? Number(match[1]) : null;
}

/**
 * A copy of an ngircd configuration listening on 127.0.0.1:`port` only.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ngircdConfig } from "./servers.ts";
 * const text = ngircdConfig("[Global]\n\tPorts = 16667\n\tListen = 0.0.0.0\n", 7000);
 * assert.equal(text, "[Global]\n\tPorts = 7000\n\tListen = 127.0.0.1\n");
 * ```
 */
export function ngircdConfig(template: string, port: number): string {
  if (!/^\s*Ports\s*=/m.test(template)) {
    throw new SyntaxError("Cannot use ngircd configuration: no Ports line in [Global]");
  }
  return template
    .replace(/^(\s*)Ports\s*=.*$/m, `$1Ports = ${port}`)
    .replace(/^(\s*)Listen\s*=.*$/m, "$1Listen = 127.0.0.1");
}

/** The flags of deno.json's `start` task, which is how the project runs its server. */
async function startTaskFlags(root: string): Promise<string[]> {
  try {
    const config = JSON.parse(await Deno.readTextFile(`${root}/deno.json`));
    return taskRunFlags(String(config?.tasks?.start ?? "")) ?? START_FLAGS_FALLBACK;
  } catch {
    return START_FLAGS_FALLBACK;
  }
}

/** Options of {@link startClaptrap}. */
export interface ClaptrapStart {
  /** The Claptrap checkout whose server.ts runs. */
  root: string;
  /** Accounts u0.. to create. */
  clients: number;
  /** Rooms r0.. to create. */
  rooms: number;
  /** Extra arguments for server.ts. */
  serverArgs: string[];
  /** Extra flags for deno run. */
  denoFlags: string[];
  /** Also serve HTTP (and WebSocket) on a free port, for WebSocket clients. */
  http: boolean;
  /** Longest wait for the server to listen, in ms. */
  startTimeoutMs: number;
}

/**
 * Starts `server.ts` of `root` on a free port of 127.0.0.1, with the flags
 * of its `start` task, in a temporary directory holding the generated
 * `globals.txt`: whatever the server writes (a database, say) stays there
 * and is removed afterwards. Waits for its `listening` line (and, with
 * `http`, its `listening http=` line).
 */
export async function startClaptrap(options: ClaptrapStart): Promise<ServerProcess> {
  const { root } = options;
  const dir = await Deno.makeTempDir({ prefix: "claptrap-bench-" });
  await Deno.writeTextFile(`${dir}/globals.txt`, globalsText(options.clients, options.rooms));
  const args = [
    "run",
    "--config",
    `${root}/deno.json`,
    ...rescopeFlags(await startTaskFlags(root), root, dir),
    ...options.denoFlags,
    `${root}/server.ts`,
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--globals",
    `${dir}/globals.txt`,
    // no web page unless asked, no console; cheap password hashes so thousands of bench users log in fast
    ...(await benchFlags(root, options.http)),
    ...(options.clients > 10_000 ? ["--max-online", String(options.clients)] : []),
    ...options.serverArgs,
  ];
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: dir,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let listening!: (port: number) => void;
  let httpListening!: (port: number) => void;
  const port = new Promise<number>((resolve) => listening = resolve);
  const httpPort = new Promise<number>((resolve) => httpListening = resolve);
  const output = drainOutput(child, (line) => {
    const port = listeningPort(line);
    if (port !== null) listening(port);
    const http = httpListeningPort(line);
    if (http !== null) httpListening(http);
  });
  const ports = options.http
    ? Promise.all([port, httpPort]).then(([tcp, http]) => ({ port: tcp, httpPort: http }))
    : port.then((tcp) => ({ port: tcp, httpPort: null }));
  return await started(child, dir, output, ports, options.startTimeoutMs, "server.ts");
}

/** Options of {@link startNgircd}. */
export interface NgircdStart {
  /** The ngircd executable. */
  ngircd: string;
  /** The configuration to copy. */
  conf: string;
  /** Longest wait for ngircd to accept connections, in ms. */
  startTimeoutMs: number;
}

/** Starts ngircd in the foreground with a copy of the configuration on a free port. */
export async function startNgircd(options: NgircdStart): Promise<ServerProcess> {
  const dir = await Deno.makeTempDir({ prefix: "ngircd-bench-" });
  const port = freePort();
  const conf = `${dir}/ngircd.conf`;
  await Deno.writeTextFile(conf, ngircdConfig(await Deno.readTextFile(options.conf), port));
  const child = new Deno.Command(options.ngircd, {
    args: ["--nodaemon", "--passive", "--config", conf],
    cwd: dir,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = drainOutput(child, () => {});
  const accepting = waitForPort(port, options.startTimeoutMs).then((port) => ({
    port,
    httpPort: null,
  }));
  return await started(child, dir, output, accepting, options.startTimeoutMs, "ngircd");
}

/** The first line of `ngircd --version`, or null when ngircd cannot be run. */
export async function ngircdVersion(ngircd = "ngircd"): Promise<string | null> {
  try {
    const output = await new Deno.Command(ngircd, {
      args: ["--version"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return new TextDecoder().decode(output.stdout).split("\n")[0].trim() || null;
  } catch {
    return null;
  }
}

interface Output {
  lines: number;
  bytes: number;
  tail: string[];
  done: Promise<void>;
}

/** Reads a child's stdout and stderr to the end, counting lines. */
function drainOutput(child: Deno.ChildProcess, onLine: (line: string) => void): Output {
  const output: Output = { lines: 0, bytes: 0, tail: [], done: Promise.resolve() };
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    let partial = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      output.bytes += chunk.length;
      const parts = (partial + chunk).split("\n");
      partial = parts.pop()!;
      for (const line of parts) {
        output.lines++;
        output.tail.push(line);
        if (output.tail.length > 20) output.tail.shift();
        onLine(line);
      }
    }
  };
  output.done = Promise.all([drain(child.stdout), drain(child.stderr)]).then(() => {});
  return output;
}

async function started(
  child: Deno.ChildProcess,
  dir: string,
  output: Output,
  ports: Promise<{ port: number; httpPort: number | null }>,
  timeoutMs: number,
  name: string,
): Promise<ServerProcess> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = child.status.then((status) => status.code);
  const outcome = await Promise.race([
    ports,
    exited.then((code) => ({ exited: code })),
    new Promise<{ timeout: true }>((resolve) => {
      timer = setTimeout(() => resolve({ timeout: true }), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  let stopping: Promise<number> | null = null;
  const stop = (graceMs = 5_000) => {
    stopping ??= (async () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      let kill: ReturnType<typeof setTimeout> | undefined;
      const code = await Promise.race([
        exited,
        new Promise<number>((resolve) => {
          kill = setTimeout(() => {
            try {
              child.kill("SIGKILL");
            } catch {
              // already gone
            }
            resolve(exited);
          }, graceMs);
        }),
      ]);
      clearTimeout(kill);
      await output.done;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      return code;
    })();
    return stopping;
  };
  if (!("port" in outcome)) {
    await stop(1_000);
    const why = "exited" in outcome
      ? `exited with code ${outcome.exited}`
      : "did not start in time";
    throw new Error(`${name} ${why}:\n${output.tail.join("\n")}`);
  }
  return {
    pid: child.pid,
    port: outcome.port,
    httpPort: outcome.httpPort,
    logLines: () => output.lines,
    logBytes: () => output.bytes,
    tail: () => [...output.tail],
    stop,
  };
}

/** A port that was free a moment ago on 127.0.0.1. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Resolves with `port` once something accepts connections on it; never after `timeoutMs`. */
async function waitForPort(port: number, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return port;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return new Promise<number>(() => {}); // the caller's timeout reports it
}

/**
 * The flags a benchmark wants, for a server.ts that has them (older
 * checkouts, `--server-root`, lack some): no web page (or, with `http`,
 * one on a free port) and no console, cheap password hashes, and no flood
 * control (message rate, connections per address, login brake), since a
 * benchmark floods on purpose, from one address. What the server has is
 * read from its `--help`, and from `server/cli.ts` where older checkouts
 * kept the flags.
 */
async function benchFlags(root: string, http: boolean): Promise<string[]> {
  // the flags are in --help, in cli.ts, or (since the option table) in options.ts
  const read = (path: string) => Deno.readTextFile(`${root}/${path}`).catch(() => "");
  const [help, cli, options] = await Promise.all([
    serverHelp(root),
    read("server/cli.ts"),
    read("server/options.ts"),
  ]);
  const source = cli + options;
  const has = (flag: string) => help.includes(`--${flag}`) || source.includes(`"${flag}"`);
  return [
    ...(http ? ["--http-port", "0"] : has("no-http") ? ["--no-http"] : []),
    ...(has("no-console") ? ["--no-console"] : []),
    ...(has("scrypt-cost") ? ["--scrypt-cost", "16"] : []),
    ...(has("msg-rate")
      ? ["--msg-rate", "0", "--max-connections-per-ip", "0", "--no-login-throttle"]
      : []),
  ];
}

/** What `server.ts --help` of `root` prints, or "" when it cannot be run. */
async function serverHelp(root: string): Promise<string> {
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--config", `${root}/deno.json`, "--allow-read", `${root}/server.ts`, "--help"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    return new TextDecoder().decode(output.stdout);
  } catch {
    return "";
  }
}
