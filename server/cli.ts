/**
 * The server's command line: `server.ts [PORT] [MAX_ONLINE] [flags]`.
 * Pure parsing; the entry point does the I/O.
 * @module
 */

import { parseArgs } from "node:util";

/** What the command line asks for. */
export interface ServerArgs {
  host: string;
  port: number;
  /** HTTP port of the web client; null with --no-http. */
  httpPort: number | null;
  /** Origins besides the server's own whose pages may use the WebSocket. */
  allowOrigins: string[];
  maxOnline: number;
  /** Null when not given: ./globals.txt is then read if it exists. */
  globals: string | null;
  db: string;
  dbSync: "full" | "normal";
  dbMaxBatch: number | undefined;
  scryptCost: number;
  admins: string[];
  poems: string | null;
  duplicateLogin: "refuse" | "replace";
  pingIntervalMs: number;
  idleTimeoutMs: number;
  console: boolean;
  maxFrameSize: number;
  sendQueueBytes: number;
  help: boolean;
}

/** The `--help` text. */
export const SERVER_USAGE = `Usage: server.ts [PORT] [MAX_ONLINE] [options]

Claptrap chat server. PORT and MAX_ONLINE may be given as in the original
(positional) or as flags.

Options:
  --host HOST             address to listen on (default 0.0.0.0)
  --port PORT             TCP port (default 6666; 0 picks a free port)
  --http-port PORT        HTTP port of the web client and its WebSocket
                          (default 8080; 0 picks a free port)
  --no-http               do not serve the web client
  --allow-origin ORIGIN   also let pages of ORIGIN (e.g.
                          https://chat.example.com) open a WebSocket
                          (repeatable; default: the server's own only)
  --max-online N          most users logged in at once (default 10000)
  --globals PATH          preset accounts and rooms (default ./globals.txt,
                          skipped when that file does not exist)
  --db PATH               SQLite database (default ./claptrap.db; :memory:
                          keeps nothing)
  --db-sync MODE          full: every answered write is fsynced (default);
                          normal: survives a crash of the server, not of
                          the machine
  --db-max-batch N        most writes per commit (default: no limit; 1 turns
                          group commit off, for benchmarks)
  --scrypt-cost N         scrypt CPU/memory cost of new password hashes, a
                          power of two (default 16384; lower makes logins
                          cheaper and hashes weaker, e.g. for benchmarks)
  --admin NAME            a user who may kick and ban in every room
                          (repeatable; also "name password admin" lines
                          in globals.txt)
  --poems PATH            the sonnets for POEM, in the AllSonnets.txt
                          layout (default: none)
  --duplicate-login MODE  refuse (default): a second login of an online
                          user gets ALREADY_ONLINE; replace: the older
                          connection is closed instead
  --ping-interval SECONDS push connections silent this long get EVT_PING
                          (default 30)
  --idle-timeout SECONDS  connections silent this long are closed
                          (default 120)
  --no-console            no operator console on stdin (it is off anyway
                          when stdin is not a terminal)
  --max-frame-size BYTES  largest request frame accepted (default 1048576)
  --send-queue-bytes N    bytes queued for a client before it is dropped
                          for not reading (default 8388608)
  -h, --help              show this help
`;

/**
 * Parses the server's arguments.
 * @throws {TypeError} with a message fit for the user on a bad argument.
 */
export function parseServerArgs(args: string[]): ServerArgs {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      host: { type: "string", default: "0.0.0.0" },
      port: { type: "string" },
      "http-port": { type: "string" },
      "no-http": { type: "boolean", default: false },
      "allow-origin": { type: "string", multiple: true, default: [] },
      "max-online": { type: "string" },
      globals: { type: "string" },
      db: { type: "string", default: "./claptrap.db" },
      "db-sync": { type: "string", default: "full" },
      "db-max-batch": { type: "string" },
      "scrypt-cost": { type: "string", default: "16384" },
      admin: { type: "string", multiple: true, default: [] },
      poems: { type: "string" },
      "duplicate-login": { type: "string", default: "refuse" },
      "ping-interval": { type: "string", default: "30" },
      "idle-timeout": { type: "string", default: "120" },
      "no-console": { type: "boolean", default: false },
      "max-frame-size": { type: "string", default: String(1 << 20) },
      "send-queue-bytes": { type: "string", default: String(8 << 20) },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (positionals.length > 2) {
    throw new TypeError(`too many arguments: ${positionals.slice(2).join(" ")}`);
  }
  const port = integer("port", values.port ?? positionals[0] ?? "6666", 0, 65535);
  const maxOnline = integer("max-online", values["max-online"] ?? positionals[1] ?? "10000", 1);
  if (values["no-http"] && values["http-port"] !== undefined) {
    throw new TypeError("--no-http and --http-port contradict each other");
  }
  return {
    host: values.host,
    port,
    httpPort: values["no-http"]
      ? null
      : integer("http-port", values["http-port"] ?? "8080", 0, 65535),
    allowOrigins: values["allow-origin"].map(origin),
    maxOnline,
    globals: values.globals ?? null,
    db: values.db,
    dbSync: oneOf("db-sync", values["db-sync"], ["full", "normal"] as const),
    dbMaxBatch: values["db-max-batch"] === undefined
      ? undefined
      : integer("db-max-batch", values["db-max-batch"], 1),
    admins: values.admin,
    poems: values.poems ?? null,
    duplicateLogin: oneOf(
      "duplicate-login",
      values["duplicate-login"],
      ["refuse", "replace"] as const,
    ),
    pingIntervalMs: 1000 * integer("ping-interval", values["ping-interval"], 1, 86_400),
    idleTimeoutMs: 1000 * integer("idle-timeout", values["idle-timeout"], 2, 86_400),
    console: !values["no-console"],
    scryptCost: powerOfTwo("scrypt-cost", values["scrypt-cost"], 2, 1 << 20),
    maxFrameSize: integer("max-frame-size", values["max-frame-size"], 64, 2 ** 31),
    sendQueueBytes: integer("send-queue-bytes", values["send-queue-bytes"], 1024),
    help: values.help,
  };
}

/** Checks and normalises an --allow-origin value: scheme, host and port only. */
function origin(text: string): string {
  let url: URL | null = null;
  try {
    url = new URL(text);
  } catch {
    // reported below
  }
  if (
    !url || (url.protocol !== "http:" && url.protocol !== "https:") || url.pathname !== "/" ||
    url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== ""
  ) {
    throw new TypeError(
      `--allow-origin must be an origin such as https://chat.example.com, got ${
        JSON.stringify(text)
      }`,
    );
  }
  return url.origin;
}

function oneOf<T extends string>(name: string, text: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(text)) {
    throw new TypeError(
      `--${name} must be one of ${choices.join(", ")}, got ${JSON.stringify(text)}`,
    );
  }
  return text as T;
}

function powerOfTwo(name: string, text: string, min: number, max: number): number {
  const value = integer(name, text, min, max);
  if ((value & (value - 1)) !== 0) {
    throw new TypeError(`--${name} must be a power of two, got ${value}`);
  }
  return value;
}

function integer(name: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new TypeError(
      `--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`,
    );
  }
  return Number(text);
}
