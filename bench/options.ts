/**
 * The load generator's command line and the plan it implies: which client
 * is in which room, how many deliveries each message makes. Pure.
 * @module
 */

import { parseArgs } from "node:util";
import { ARRIVALS, type Arrivals } from "./arrivals.ts";
import { MAX_STAMP, STAMP_BYTES } from "./payload.ts";

/** This checkout of Claptrap, whose server.ts is started by default. */
export const DEFAULT_SERVER_ROOT: string = new URL("../", import.meta.url).pathname.replace(
  /\/$/,
  "",
);

/** The wire protocol spoken to the server under test. */
export type Protocol = "claptrap" | "irc";

/**
 * How Claptrap clients reach the server: framed messages over TCP, or the
 * JSON mapping over WebSocket on the HTTP port (`/ws`).
 */
export type Transport = "tcp" | "websocket";

/** What one benchmark run does. */
export interface BenchOptions {
  /** The protocol: Claptrap, or IRC for ngircd. */
  protocol: Protocol;
  /** Claptrap: TCP or WebSocket (IRC: always TCP). */
  transport: Transport;
  /** Start the server as a child (true) or attach to `port` (false). */
  spawn: boolean;
  /** Port of the server to attach to (when not spawning). */
  port: number;
  /** Pid of the attached server, for its CPU and memory; 0 when unknown. */
  pid: number;
  /**
   * Claptrap servers to start (a cluster when `serverArgs` name one shared
   * `--db postgres://…`); client i connects to server i mod nodes.
   */
  nodes: number;
  /**
   * A database server's pid (PostgreSQL's postmaster) whose CPU, its
   * children's included, is measured beside the servers'; 0 for none.
   */
  enginePid: number;
  /** Client connections. */
  clients: number;
  /** Rooms (IRC channels); client i joins room i mod rooms. */
  rooms: number;
  /**
   * Rooms each Claptrap client is in at once (protocol 2.1 when more than
   * one): room i mod rooms and the ones after it.
   */
  roomsEach: number;
  /** Messages to send in total; 0 for as many as `duration` allows. */
  messages: number;
  /** Bytes of each message's text. */
  size: number;
  /** Messages per second in total; 0 for as fast as the window allows. */
  rate: number;
  /** At a fixed rate: messages evenly spaced, or at random (see bench/arrivals.ts). */
  arrivals: Arrivals;
  /** Longest sending phase, in seconds; 0 sends nothing (memory shapes). */
  duration: number;
  /**
   * Seconds of sending, at the same rate, before the measured phase:
   * deliveries of messages sent then are not timed, and the CPU counts
   * from its end.
   */
  warmup: number;
  /** Web Workers that run the clients. */
  workers: number;
  /**
   * Unlimited rate: deliveries in flight allowed per client, for messages of
   * 64 bytes; scaled down for larger messages so the bytes in flight stay
   * the same (ngircd drops a reader with more than 32 KiB it cannot write).
   */
  window: number;
  /** Unlimited rate: deliveries in flight allowed in total, whatever the clients. */
  maxInFlight: number;
  /** Unlimited rate: most messages one client sends in one write. */
  batch: number;
  /** Hard limit on the whole run, in seconds. */
  timeout: number;
  /** Longest wait for deliveries after sending stops, in seconds. */
  drain: number;
  /** Seconds to wait idle before the baseline and after set-up to measure memory at rest (0: not at all). */
  settle: number;
  /** Where to write the JSON result. */
  json?: string;
  /** A name for this run in reports. */
  label: string;
  /** Extra arguments for `server.ts`, e.g. `--db :memory:`. */
  serverArgs: string[];
  /** Extra flags for `deno run` of the server, e.g. `--cpu-prof`. */
  denoFlags: string[];
  /** The Claptrap checkout whose server.ts is started. */
  serverRoot: string;
  /** The ngircd executable. */
  ngircd: string;
  /** The ngircd configuration to start from. */
  ngircdConf: string;
  /** Write the accounts and rooms file for these clients and rooms, then exit. */
  writeGlobals?: string;
  /** No progress line. */
  quiet: boolean;
  /** Show the usage. */
  help: boolean;
}

/** The `--help` text. */
export const BENCH_USAGE = `Usage: deno task bench [options]

Load generator for Claptrap (and ngircd, as an anchor): opens --clients
connections on 127.0.0.1, spreads them over --rooms rooms, then has them send
messages while every client reads everything, and reports deliveries per
second, latency, server CPU and memory, and lost messages.

Server (default: start server.ts as a child):
  --server claptrap|ngircd   which server to start (default claptrap)
  --target URL               attach instead: claptrap://127.0.0.1:PORT or
                             irc://127.0.0.1:PORT (loopback only)
  --pid PID                  pid of the attached server, for /proc stats
  --nodes N                  Claptrap servers to start (default 1); client i
                             connects to server i mod N: a cluster when they
                             share --server-arg=--db --server-arg=postgres://…
  --engine-pid PID           also measure the CPU of this process and its
                             children (PostgreSQL's postmaster)
  --server-arg ARG           extra argument for server.ts (repeatable),
                             e.g. --server-arg=--db --server-arg=:memory:
  --deno-flag FLAG           extra flag for deno run of server.ts (repeatable),
                             e.g. --deno-flag=--cpu-prof
  --server-root DIR          Claptrap checkout whose server.ts is started
                             (default this one), e.g. an older commit
  --transport tcp|websocket  how Claptrap clients connect: framed messages
                             over TCP (default), or the JSON mapping over
                             WebSocket on the server's HTTP port (/ws)
  --ngircd PATH              ngircd executable (default ngircd)
  --ngircd-conf PATH         ngircd configuration (default bench/ngircd.conf)
  --write-globals FILE       write the accounts and rooms for --clients and
                             --rooms (users u0.., passwords p0.., rooms r0..)
                             and exit, for a server started by hand

Load:
  --clients N                connections (default 100)
  --rooms N                  rooms; client i joins room i mod N (default 1)
  --rooms-each N             Claptrap: each client is in N rooms at once (protocol
                             2.1), room i mod --rooms and the N-1 after it (default 1)
  --size BYTES               message text size (default 64, at least 11)
  --rate N                   messages per second in total (default 0: as fast
                             as the window allows)
  --arrivals even|random     at a --rate: messages evenly spaced (each worker
                             its own schedule), or at random like independent
                             people posting (a Poisson process) (default even)
  --messages N               messages in total (default 0: until --duration)
  --duration SECONDS         longest sending phase (default 5)
  --warmup SECONDS           send this long first, at the same rate, and
                             measure only after it (default 0)
  --idle                     send nothing: connect, log in, join, measure memory
  --settle SECONDS           also measure memory at rest: this long after start-up
                             (before any client) and after set-up (default 0:
                             only right before and 1 s after set-up)
  --workers N                Web Workers running the clients (default 2)
  --window N                 deliveries in flight per client at full speed,
                             for 64-byte messages; larger messages get
                             proportionally fewer (default 2048)
  --max-in-flight N          deliveries in flight in total at full speed
                             (default 262144)
  --batch N                  messages per write at full speed (default 8)

Run:
  --timeout SECONDS          hard limit on the whole run (default 60)
  --drain SECONDS            wait for deliveries after sending (default 5)
  --json FILE                write the result as JSON
  --label TEXT               name of the run in reports
  --quiet                    no progress line
  -h, --help                 show this help
`;

/**
 * Parses the load generator's arguments.
 * @throws {TypeError} with a message fit for the user on a bad argument.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseBenchArgs } from "./options.ts";
 * const options = parseBenchArgs(["--target", "irc://127.0.0.1:6667", "--clients", "10"]);
 * assert.equal(options.protocol, "irc");
 * assert.equal(options.port, 6667);
 * assert.equal(options.spawn, false);
 * ```
 */
export function parseBenchArgs(args: string[]): BenchOptions {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      server: { type: "string", default: "claptrap" },
      transport: { type: "string", default: "tcp" },
      target: { type: "string" },
      pid: { type: "string", default: "0" },
      nodes: { type: "string", default: "1" },
      "engine-pid": { type: "string", default: "0" },
      "server-arg": { type: "string", multiple: true, default: [] },
      "deno-flag": { type: "string", multiple: true, default: [] },
      "server-root": { type: "string", default: DEFAULT_SERVER_ROOT },
      ngircd: { type: "string", default: "ngircd" },
      "ngircd-conf": {
        type: "string",
        default: new URL("./ngircd.conf", import.meta.url).pathname,
      },
      "write-globals": { type: "string" },
      clients: { type: "string", default: "100" },
      rooms: { type: "string", default: "1" },
      "rooms-each": { type: "string", default: "1" },
      size: { type: "string", default: "64" },
      rate: { type: "string", default: "0" },
      arrivals: { type: "string", default: "even" },
      messages: { type: "string", default: "0" },
      duration: { type: "string", default: "5" },
      warmup: { type: "string", default: "0" },
      idle: { type: "boolean", default: false },
      settle: { type: "string", default: "0" },
      workers: { type: "string", default: "2" },
      window: { type: "string", default: "2048" },
      "max-in-flight": { type: "string", default: String(1 << 18) },
      batch: { type: "string", default: "8" },
      timeout: { type: "string", default: "60" },
      drain: { type: "string", default: "5" },
      json: { type: "string" },
      label: { type: "string" },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (positionals.length > 0) throw new TypeError(`unexpected argument: ${positionals[0]}`);
  let protocol: Protocol;
  let spawn = true;
  let port = 0;
  if (values.target !== undefined) {
    ({ protocol, port } = parseTarget(values.target));
    spawn = false;
  } else if (values.server === "claptrap" || values.server === "ngircd") {
    protocol = values.server === "claptrap" ? "claptrap" : "irc";
  } else {
    throw new TypeError(
      `--server must be claptrap or ngircd, got ${JSON.stringify(values.server)}`,
    );
  }
  if (values.transport !== "tcp" && values.transport !== "websocket") {
    throw new TypeError(
      `--transport must be tcp or websocket, got ${JSON.stringify(values.transport)}`,
    );
  }
  const transport = values.transport;
  if (transport === "websocket" && (protocol !== "claptrap" || !spawn)) {
    throw new TypeError("--transport websocket needs a Claptrap server started by the bench");
  }
  const clients = integer("clients", values.clients, 1, 100_000);
  const rooms = integer("rooms", values.rooms, 1, clients);
  const duration = values.idle ? 0 : number("duration", values.duration, 0, 3600);
  const timeout = number("timeout", values.timeout, 1, 86_400);
  const warmup = number("warmup", values.warmup, 0, 3600);
  if (warmup > 0 && duration === 0) throw new TypeError("--warmup needs a sending phase");
  const arrivals = ARRIVALS.find((kind) => kind === values.arrivals);
  if (arrivals === undefined) {
    throw new TypeError(
      `--arrivals must be even or random, got ${JSON.stringify(values.arrivals)}`,
    );
  }
  const options: BenchOptions = {
    protocol,
    transport,
    spawn,
    port,
    pid: integer("pid", values.pid, 0, 2 ** 31),
    nodes: integer("nodes", values.nodes, 1, 16),
    enginePid: integer("engine-pid", values["engine-pid"], 0, 2 ** 31),
    clients,
    rooms,
    roomsEach: integer("rooms-each", values["rooms-each"], 1, rooms),
    messages: integer("messages", values.messages, 0, 2 ** 31),
    size: integer("size", values.size, STAMP_BYTES, 1 << 20),
    rate: number("rate", values.rate, 0, 1e8),
    arrivals,
    duration,
    warmup,
    workers: integer("workers", values.workers, 1, 64),
    window: integer("window", values.window, 1, 1 << 20),
    maxInFlight: integer("max-in-flight", values["max-in-flight"], 1, 2 ** 30),
    batch: integer("batch", values.batch, 1, 1024),
    timeout,
    drain: number("drain", values.drain, 0, 600),
    settle: number("settle", values.settle, 0, 600),
    json: values.json,
    label: values.label ?? defaultLabel(protocol, transport, clients, rooms, values.idle),
    serverArgs: values["server-arg"],
    denoFlags: values["deno-flag"],
    serverRoot: values["server-root"].replace(/\/$/, ""),
    ngircd: values.ngircd,
    ngircdConf: values["ngircd-conf"],
    writeGlobals: values["write-globals"],
    quiet: values.quiet,
    help: values.help,
  };
  if ((duration + warmup) * 1e6 > MAX_STAMP / 2) {
    throw new TypeError("--duration and --warmup are too long");
  }
  if (options.nodes > 1 && (!options.spawn || protocol !== "claptrap")) {
    throw new TypeError("--nodes needs Claptrap servers started by the bench");
  }
  if (arrivals === "random" && options.rate === 0) {
    throw new TypeError("--arrivals random needs a --rate");
  }
  if (!options.spawn && options.serverArgs.length + options.denoFlags.length > 0) {
    throw new TypeError("--server-arg and --deno-flag need a server started by the bench");
  }
  return options;
}

/**
 * Parses `claptrap://127.0.0.1:PORT` or `irc://127.0.0.1:PORT`. Only
 * loopback targets are accepted.
 * @throws {TypeError} for another scheme, host or a missing port.
 */
export function parseTarget(target: string): { protocol: Protocol; port: number } {
  const match = target.match(/^(claptrap|irc):\/\/([^/:]+|\[[^\]]+\]):(\d+)\/?$/);
  if (!match) {
    throw new TypeError(
      `--target must be claptrap://127.0.0.1:PORT or irc://127.0.0.1:PORT, got ${
        JSON.stringify(target)
      }`,
    );
  }
  const [, scheme, host, portText] = match;
  if (host !== "127.0.0.1" && host !== "localhost") {
    throw new TypeError(`--target must be on 127.0.0.1 (loopback only), got ${host}`);
  }
  return {
    protocol: scheme === "claptrap" ? "claptrap" : "irc",
    port: integer("target port", portText, 1, 65535),
  };
}

function defaultLabel(
  protocol: Protocol,
  transport: Transport,
  clients: number,
  rooms: number,
  idle: boolean,
): string {
  const server = protocol === "claptrap" ? "claptrap" : "ngircd";
  return `${server}${transport === "websocket" ? " ws" : ""} ${clients}x${rooms}${
    idle ? " idle" : ""
  }`;
}

function integer(name: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new TypeError(
      `--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`,
    );
  }
  return Number(text);
}

function number(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < min || value > max) {
    throw new TypeError(
      `--${name} must be a number from ${min} to ${max}, got ${JSON.stringify(text)}`,
    );
  }
  return value;
}

/**
 * Whether server.ts run with these extra arguments fsyncs every answered
 * write: a file database (not `--db :memory:`) with `--db-sync full`, which
 * is the default and what the `start` task does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { durableCommits } from "./options.ts";
 * assert.equal(durableCommits([]), true);
 * assert.equal(durableCommits(["--db", ":memory:"]), false);
 * assert.equal(durableCommits(["--db-sync=normal"]), false);
 * ```
 */
export function durableCommits(serverArgs: readonly string[]): boolean {
  const { values } = parseArgs({
    args: [...serverArgs],
    strict: false,
    options: { db: { type: "string" }, "db-sync": { type: "string" } },
  });
  return values.db !== ":memory:" && (values["db-sync"] ?? "full") === "full";
}

/** Deliveries in flight allowed in total at full speed. */
export function inFlightLimit(
  options: Pick<BenchOptions, "window" | "maxInFlight" | "clients" | "size">,
): number {
  const perClient = Math.max(16, Math.floor(options.window * Math.min(1, 64 / options.size)));
  return Math.min(perClient * options.clients, options.maxInFlight);
}

/** The room of client `index`: clients are dealt to rooms in turn. */
export function roomOf(index: number, rooms: number): number {
  return index % rooms;
}

/** How many clients each room gets. */
export function roomSizes(clients: number, rooms: number): number[] {
  return Array.from({ length: rooms }, (_, room) => Math.floor((clients - room - 1) / rooms) + 1);
}

/** The clients run by worker `worker` of `workers`: every workers-th one. */
export function clientsOfWorker(worker: number, workers: number, clients: number): number[] {
  const mine: number[] = [];
  for (let i = worker; i < clients; i += workers) mine.push(i);
  return mine;
}

/** User name, password and room name of client `index` (the globals file's). */
export function account(index: number): { user: string; password: string } {
  return { user: `u${index}`, password: `p${index}` };
}

/** The name of room `room`; IRC channels get a `#` in front. */
export function roomName(room: number): string {
  return `r${room}`;
}

/** The account that asks for the closing search (bench/index_probe.ts): the one after the clients'. */
export function probeAccount(clients: number): { user: string; password: string } {
  return account(clients);
}

/**
 * The globals file (server/globals.ts format) holding the bench accounts
 * and rooms: `u0 p0` … (one per client and one for the probe), a blank
 * line, `r0` … .
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { globalsText } from "./options.ts";
 * assert.equal(globalsText(2, 1), "u0 p0\nu1 p1\nu2 p2\n\nr0\n");
 * ```
 */
export function globalsText(clients: number, rooms: number): string {
  const lines: string[] = [];
  for (let i = 0; i <= clients; i++) {
    const { user, password } = account(i);
    lines.push(`${user} ${password}`);
  }
  lines.push("");
  for (let room = 0; room < rooms; room++) lines.push(roomName(room));
  return lines.join("\n") + "\n";
}
