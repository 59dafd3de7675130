/**
 * The server's command line: `server.ts [PORT] [MAX_ONLINE] [flags]`.
 * Pure parsing; the entry point does the I/O (reading the TLS files goes
 * through the reader it passes in).
 * @module
 */

import { parseArgs } from "node:util";
import { DEFAULT_SCRYPT_CONCURRENCY } from "./passwords.ts";
import { LOG_FORMATS, type LogFormat } from "./log_format.ts";
import { DEFAULT_SEARCH_LIMITS, type SearchLimits } from "./search_slots.ts";

/** What the command line asks for. */
export interface ServerArgs {
  host: string;
  /** Start on a non-loopback host even while globals.txt holds sample passwords. */
  allowSamplePasswords: boolean;
  port: number;
  /** HTTP port of the web client; null with --no-http. */
  httpPort: number | null;
  /** Origins besides the server's own whose pages may use the WebSocket. */
  allowOrigins: string[];
  /** Host names besides addresses and localhost under which the WebSocket is served. */
  allowHosts: string[];
  maxOnline: number;
  /** Null when not given: ./globals.txt is then read if it exists. */
  globals: string | null;
  db: string;
  dbSync: "full" | "normal";
  dbMaxBatch: number | undefined;
  scryptCost: number;
  scryptConcurrency: number;
  admins: string[];
  poems: string | null;
  duplicateLogin: "refuse" | "replace";
  pingIntervalMs: number;
  idleTimeoutMs: number;
  console: boolean;
  maxFrameSize: number;
  sendQueueBytes: number;
  maxMessageChars: number;
  /** Messages per second per user; 0 for no limit. */
  msgRate: number;
  msgBurst: number;
  /** Room changes per second per user; 0 for no limit. */
  joinRate: number;
  joinBurst: number;
  /** Accounts created per minute from one address; 0 for no limit. */
  registerRate: number;
  registerBurst: number;
  /** Accounts created per minute in the whole server; 0 for no limit. */
  registerTotalRate: number;
  /** Whether failed logins slow down further attempts. */
  loginThrottle: boolean;
  /** 0 for no cap. */
  maxConnectionsPerIp: number;
  /** Over every listener; 0 for no cap. */
  maxConnections: number;
  httpHeaderTimeoutMs: number;
  maxHttpHeaderBytes: number;
  maxRoomsPerUser: number;
  maxRooms: number;
  peerInviteTimeoutMs: number;
  maxPeerInvites: number;
  /** How many searches run at once, and how far each page looks. */
  searchLimits: SearchLimits;
  maxHistoryBytes: number;
  historyConcurrency: number;
  loginTimeoutMs: number;
  frameTimeoutMs: number;
  drainTimeoutMs: number;
  logFormat: LogFormat;
  /** The TLS certificate chain file (PEM); null for plain TCP and HTTP. */
  tlsCert: string | null;
  /** The TLS private key file (PEM); given exactly when `tlsCert` is. */
  tlsKey: string | null;
  help: boolean;
}

/** The `--help` text. */
export const SERVER_USAGE = `Usage: server.ts [PORT] [MAX_ONLINE] [options]

Claptrap chat server. PORT and MAX_ONLINE may be given as in the original
(positional) or as flags.

Options:
  --host HOST             address to listen on (default 127.0.0.1: this
                          machine only; 0.0.0.0 serves the network)
  --allow-sample-passwords
                          listen on an address other machines can reach even
                          while globals.txt keeps the sample accounts'
                          published passwords (refused by default)
  --port PORT             TCP port (default 6666; 0 picks a free port)
  --http-port PORT        HTTP port of the web client and its WebSocket
                          (default 8080; 0 picks a free port)
  --no-http               do not serve the web client
  --allow-origin ORIGIN   also let pages of ORIGIN (e.g.
                          https://chat.example.com) open a WebSocket
                          (repeatable; default: the server's own only)
  --allow-host NAME       also serve the WebSocket to pages that reached
                          the server as NAME, e.g. behind a reverse proxy
                          (repeatable; IP addresses, localhost, --host and
                          the --allow-origin hosts always are)
  --http-header-timeout SECONDS
                          an HTTP request head must arrive within this
                          time, and a kept-alive connection sends its next
                          request within it (default 10)
  --max-http-header-bytes N
                          longest HTTP request head (default 16384)
  --max-online N          most users logged in at once (default 10000)
  --globals PATH          preset accounts and rooms (default ./globals.txt,
                          skipped when that file does not exist)
  --db PATH               SQLite database (default ./claptrap.db; :memory:
                          keeps nothing), or a PostgreSQL database as
                          postgres://USER@HOST:PORT/DB (the password from
                          PGPASSWORD; run with deno task start:postgres,
                          which adds --allow-env)
  --db-sync MODE          full: every answered write is fsynced (default);
                          normal: survives a crash of the server, not of
                          the machine
  --db-max-batch N        most writes per commit (default: no limit, 1024
                          for PostgreSQL; 1 turns group commit off, for
                          benchmarks)
  --scrypt-cost N         scrypt CPU/memory cost of new password hashes, a
                          power of two (default 16384; lower makes logins
                          cheaper and hashes weaker, e.g. for benchmarks)
  --scrypt-concurrency N  password checks and hashes under way at once; 64
                          times as many wait (logins from addresses without
                          failures first), more are answered RATE_LIMITED
                          (default: the number of CPU cores less one,
                          at least 1)
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
  --max-message-chars N   longest message accepted, in characters
                          (default 16384)
  --msg-rate N            messages (and room creations, peer chats and
                          searches) per second per user; more are answered
                          RATE_LIMITED (default 10; 0: no limit)
  --msg-burst N           how many of those may come at once (default 50)
  --join-rate N           room changes (JOIN_ROOM into another room) per
                          second per user; more are answered RATE_LIMITED
                          (default 1; 0: no limit)
  --join-burst N          how many of those may come at once (default 10)
  --register-rate N       accounts REGISTER may create per minute from one
                          address; more are answered RATE_LIMITED
                          (default 3; 0: no limit)
  --register-burst N      how many of those may come at once (default 5)
  --register-total-rate N accounts REGISTER may create per minute in the
                          whole server, all of them at once if need be
                          (default 60; 0: no limit)
  --no-login-throttle     do not slow down logins after failures (by
                          default: 5 free failures per account and 20 per
                          address, then delays from 1 s doubling to 5 min)
  --max-connections-per-ip N
                          simultaneous connections from one IP address,
                          TCP, HTTP and WebSocket together (default 64;
                          0: no cap)
  --max-connections N     simultaneous connections over every port
                          (default 10000; 0: no cap)
  --max-rooms-per-user N  rooms one user may create; admins are not
                          limited (default 100)
  --max-rooms N           public rooms the server holds; CREATE_ROOM
                          beyond it is refused (default 10000)
  --peer-invite-timeout SECONDS
                          how long a request to join a peer chat waits
                          for its members' answer (default 60)
  --max-peer-invites N    requests to join one peer chat waiting at once;
                          more are answered BUSY (default 5)
  --max-searches N        searches the store works on at once, server-wide
                          (default ${DEFAULT_SEARCH_LIMITS.running})
  --search-queue N        searches that may wait for a turn beyond those;
                          more are answered RATE_LIMITED (default ${DEFAULT_SEARCH_LIMITS.waiting})
  --max-searches-per-user N
                          searches one user may have under way at once
                          (default ${DEFAULT_SEARCH_LIMITS.perUser})
  --search-scan N         messages one page of search results looks
                          through at most (default ${DEFAULT_SEARCH_LIMITS.scanLimit}); older ones are
                          left for the next page
  --max-history-bytes N   most bytes of message content in one HISTORY
                          page, at most an eighth of --send-queue-bytes
                          (default 1048576); More: yes says there is more
  --history-concurrency N HISTORY reads under way at once; 64 times as
                          many may wait, more are answered RATE_LIMITED
                          (default 4)
  --login-timeout SECONDS connections not logged in this long are closed
                          (default 60)
  --frame-timeout SECONDS connections that leave a frame unfinished this
                          long are closed (default 30)
  --drain-timeout SECONDS at shutdown, how long clients get to receive what
                          is queued for them (default 5)
  --log-format FORMAT     text (default) or json: one object per line
  --tls-cert FILE         serve TCP and HTTP over TLS (HTTPS, WSS) with the
                          certificate chain in FILE (PEM); needs --tls-key
  --tls-key FILE          the certificate's private key (PEM); needs
                          --tls-cert
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
      host: { type: "string", default: "127.0.0.1" },
      "allow-sample-passwords": { type: "boolean", default: false },
      port: { type: "string" },
      "http-port": { type: "string" },
      "no-http": { type: "boolean", default: false },
      "allow-origin": { type: "string", multiple: true, default: [] },
      "allow-host": { type: "string", multiple: true, default: [] },
      "http-header-timeout": { type: "string", default: "10" },
      "max-http-header-bytes": { type: "string", default: "16384" },
      "max-online": { type: "string" },
      globals: { type: "string" },
      db: { type: "string", default: "./claptrap.db" },
      "db-sync": { type: "string", default: "full" },
      "db-max-batch": { type: "string" },
      "scrypt-cost": { type: "string", default: "16384" },
      "scrypt-concurrency": { type: "string", default: String(DEFAULT_SCRYPT_CONCURRENCY) },
      admin: { type: "string", multiple: true, default: [] },
      poems: { type: "string" },
      "duplicate-login": { type: "string", default: "refuse" },
      "ping-interval": { type: "string", default: "30" },
      "idle-timeout": { type: "string", default: "120" },
      "no-console": { type: "boolean", default: false },
      "max-frame-size": { type: "string", default: String(1 << 20) },
      "send-queue-bytes": { type: "string", default: String(8 << 20) },
      "max-message-chars": { type: "string", default: "16384" },
      "msg-rate": { type: "string", default: "10" },
      "msg-burst": { type: "string", default: "50" },
      "join-rate": { type: "string", default: "1" },
      "join-burst": { type: "string", default: "10" },
      "register-rate": { type: "string", default: "3" },
      "register-burst": { type: "string", default: "5" },
      "register-total-rate": { type: "string", default: "60" },
      "no-login-throttle": { type: "boolean", default: false },
      "max-connections-per-ip": { type: "string", default: "64" },
      "max-connections": { type: "string", default: "10000" },
      "max-rooms-per-user": { type: "string", default: "100" },
      "max-rooms": { type: "string", default: "10000" },
      "peer-invite-timeout": { type: "string", default: "60" },
      "max-peer-invites": { type: "string", default: "5" },
      "max-searches": { type: "string", default: String(DEFAULT_SEARCH_LIMITS.running) },
      "search-queue": { type: "string", default: String(DEFAULT_SEARCH_LIMITS.waiting) },
      "max-searches-per-user": { type: "string", default: String(DEFAULT_SEARCH_LIMITS.perUser) },
      "search-scan": { type: "string", default: String(DEFAULT_SEARCH_LIMITS.scanLimit) },
      "max-history-bytes": { type: "string", default: String(1 << 20) },
      "history-concurrency": { type: "string", default: "4" },
      "login-timeout": { type: "string", default: "60" },
      "frame-timeout": { type: "string", default: "30" },
      "drain-timeout": { type: "string", default: "5" },
      "log-format": { type: "string", default: "text" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
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
  const tlsCert = values["tls-cert"] ?? null;
  const tlsKey = values["tls-key"] ?? null;
  if (tlsCert !== null && tlsKey === null) throw new TypeError("--tls-cert needs --tls-key");
  if (tlsKey !== null && tlsCert === null) throw new TypeError("--tls-key needs --tls-cert");
  return {
    host: values.host,
    allowSamplePasswords: values["allow-sample-passwords"],
    port,
    httpPort: values["no-http"]
      ? null
      : integer("http-port", values["http-port"] ?? "8080", 0, 65535),
    allowOrigins: values["allow-origin"].map(origin),
    allowHosts: values["allow-host"].map(hostName),
    httpHeaderTimeoutMs: 1000 *
      integer("http-header-timeout", values["http-header-timeout"], 1, 3_600),
    maxHttpHeaderBytes: integer(
      "max-http-header-bytes",
      values["max-http-header-bytes"],
      1024,
      1 << 20,
    ),
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
    scryptConcurrency: integer("scrypt-concurrency", values["scrypt-concurrency"], 1, 1024),
    maxFrameSize: integer("max-frame-size", values["max-frame-size"], 64, 2 ** 31),
    sendQueueBytes: integer("send-queue-bytes", values["send-queue-bytes"], 1024),
    maxMessageChars: integer("max-message-chars", values["max-message-chars"], 1, 1 << 24),
    msgRate: decimal("msg-rate", values["msg-rate"], 1_000_000),
    msgBurst: integer("msg-burst", values["msg-burst"], 1, 1_000_000),
    joinRate: decimal("join-rate", values["join-rate"], 1_000_000),
    joinBurst: integer("join-burst", values["join-burst"], 1, 1_000_000),
    registerRate: decimal("register-rate", values["register-rate"], 1_000_000),
    registerBurst: integer("register-burst", values["register-burst"], 1, 1_000_000),
    registerTotalRate: decimal("register-total-rate", values["register-total-rate"], 1_000_000),
    loginThrottle: !values["no-login-throttle"],
    maxConnectionsPerIp: integer("max-connections-per-ip", values["max-connections-per-ip"], 0),
    maxConnections: integer("max-connections", values["max-connections"], 0),
    maxRoomsPerUser: integer("max-rooms-per-user", values["max-rooms-per-user"], 0),
    maxRooms: integer("max-rooms", values["max-rooms"], 0),
    peerInviteTimeoutMs: 1000 *
      integer("peer-invite-timeout", values["peer-invite-timeout"], 1, 3_600),
    maxPeerInvites: integer("max-peer-invites", values["max-peer-invites"], 1, 1_000),
    searchLimits: {
      running: integer("max-searches", values["max-searches"], 1, 1024),
      waiting: integer("search-queue", values["search-queue"], 0, 1_000_000),
      perUser: integer("max-searches-per-user", values["max-searches-per-user"], 1, 1024),
      scanLimit: integer("search-scan", values["search-scan"], 1, 100_000_000),
    },
    maxHistoryBytes: integer("max-history-bytes", values["max-history-bytes"], 1024),
    historyConcurrency: integer("history-concurrency", values["history-concurrency"], 1, 1024),
    loginTimeoutMs: 1000 * integer("login-timeout", values["login-timeout"], 1, 86_400),
    frameTimeoutMs: 1000 * integer("frame-timeout", values["frame-timeout"], 1, 86_400),
    drainTimeoutMs: 1000 * integer("drain-timeout", values["drain-timeout"], 0, 3_600),
    logFormat: oneOf("log-format", values["log-format"], LOG_FORMATS),
    tlsCert,
    tlsKey,
    help: values.help,
  };
}

/**
 * Reads the files of --tls-cert and --tls-key, when given, and checks that
 * they hold PEM of the right kind. (Whether the key fits the certificate
 * shows only when the server starts listening.)
 *
 * @param readTextFile reads a file, e.g. `Deno.readTextFile`
 * @returns the PEM texts, or undefined without --tls-cert
 * @throws {TypeError} naming the flag, when a file cannot be read or holds the wrong thing
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseServerArgs, readTlsFiles } from "./cli.ts";
 * const files: Record<string, string> = {
 *   "cert.pem": "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n",
 *   "key.pem": "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n",
 * };
 * const args = parseServerArgs(["--tls-cert", "cert.pem", "--tls-key", "key.pem"]);
 * const tls = await readTlsFiles(args, (path) => Promise.resolve(files[path]));
 * assert.equal(tls?.cert, files["cert.pem"]);
 * ```
 */
export async function readTlsFiles(
  args: Pick<ServerArgs, "tlsCert" | "tlsKey">,
  readTextFile: (path: string) => Promise<string>,
): Promise<{ cert: string; key: string } | undefined> {
  if (args.tlsCert === null || args.tlsKey === null) return undefined;
  return {
    cert: await readPem("tls-cert", args.tlsCert, CERTIFICATE_PEM, readTextFile),
    key: await readPem("tls-key", args.tlsKey, PRIVATE_KEY_PEM, readTextFile),
  };
}

/** What a PEM file must hold: its name in messages and the first line of its block. */
interface PemKind {
  name: string;
  begins: RegExp;
}

const CERTIFICATE_PEM: PemKind = { name: "a certificate", begins: /-----BEGIN CERTIFICATE-----/ };
const PRIVATE_KEY_PEM: PemKind = {
  name: "a private key",
  begins: /-----BEGIN (RSA |EC )?PRIVATE KEY-----/,
};

async function readPem(
  flag: string,
  path: string,
  kind: PemKind,
  readTextFile: (path: string) => Promise<string>,
): Promise<string> {
  let text;
  try {
    text = await readTextFile(path);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound ? "no such file" : (error as Error).message;
    throw new TypeError(`--${flag}: cannot read ${path}: ${why}`);
  }
  if (!kind.begins.test(text)) {
    throw new TypeError(`--${flag}: ${path} does not hold ${kind.name} in PEM form`);
  }
  return text;
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

/** Checks and lower-cases an --allow-host value: a host name, without port. */
function hostName(text: string): string {
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(text)) {
    throw new TypeError(
      `--allow-host must be a host name such as chat.example.com, got ${JSON.stringify(text)}`,
    );
  }
  return text.toLowerCase();
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

function decimal(name: string, text: string, max: number): number {
  if (!/^\d{1,9}(\.\d{1,9})?$/.test(text) || Number(text) > max) {
    throw new TypeError(`--${name} must be a number from 0 to ${max}, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

function integer(name: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new TypeError(
      `--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`,
    );
  }
  return Number(text);
}
