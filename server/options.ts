/**
 * The server's options, each once: its flag, how the flag is read (type
 * and bounds), its default, its help text, and the {@link ServerArgs}
 * field it sets. The command-line parser (`cli.ts`), `--help`, the
 * library's defaults ({@link serverDefault}) and the flag table of the
 * docs (a test checks it) all come from {@link SERVER_OPTIONS}.
 * @module
 */

import { DEFAULT_MAX_JOINED_ROOMS } from "../core/chat.ts";
import { DEFAULT_FLOOD_LIMITS } from "../core/limits/flood_control.ts";
import { DEFAULT_INVITATION_LIMITS } from "../core/invitations.ts";
import { DEFAULT_HISTORY_CONCURRENCY, DEFAULT_MAX_HISTORY_BYTES } from "../core/messaging.ts";
import { DEFAULT_SCRYPT_CONCURRENCY, DEFAULT_SCRYPT_COST } from "../core/passwords.ts";
import { DEFAULT_MAX_DEVICES } from "../core/presence.ts";
import { DEFAULT_MAX_ROOMS, DEFAULT_MAX_ROOMS_PER_USER } from "../core/rooms.ts";
import { DEFAULT_SEARCH_LIMITS, type SearchLimits } from "../core/search.ts";
import { DEFAULT_MAX_FRAME_SIZE } from "../protocol/frame.ts";
import { DEFAULT_MAX_MESSAGE_CHARS } from "../protocol/message_text.ts";
import { DEFAULT_LIVENESS_RULES } from "./connection/liveness.ts";
import { LOG_FORMATS, type LogFormat } from "./log_format.ts";
import type { ServerOptions } from "./server.ts";

/** What the command line asks for. */
export interface ServerArgs {
  host: string;
  /** Start on a non-loopback host even while globals.txt holds sample passwords. */
  allowSamplePasswords: boolean;
  port: number;
  /** HTTP port of the web client; null with --no-http. */
  httpPort: number | null;
  /** Port of the CS 544 Chat Service Protocol listener; null when not given. */
  cs544Port: number | null;
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
  dbBatchWaitMs: number;
  /** Undefined when not given: PostgreSQL's LISTEN/NOTIFY for a postgres:// database. */
  bus: string | undefined;
  clusterLeaseMs: number;
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
  maxConnectionsPerAddress: number;
  /** Over every listener; 0 for no cap. */
  maxConnections: number;
  httpHeaderTimeoutMs: number;
  maxHttpHeaderBytes: number;
  maxRoomsPerUser: number;
  maxRooms: number;
  maxDevices: number;
  maxJoinedRooms: number;
  peerInviteTimeoutMs: number;
  maxPeerInvites: number;
  /** How many searches run at once, and how far each page looks. */
  searchLimits: SearchLimits;
  maxHistoryBytes: number;
  historyConcurrency: number;
  loginTimeoutMs: number;
  frameTimeoutMs: number;
  closeGraceMs: number;
  logFormat: LogFormat;
  /** Port of the Multi-Client Chatroom listener; null: off. */
  chatroomPort: number | null;
  /** The Multi-Client Chatroom listener's one room. */
  chatroomRoom: string;
  /** Port of the CS168 Chat listener; null: off. */
  cs168Port: number | null;
  /** Port of the ICS chat listener; null: off. */
  icsPort: number | null;
  /** The TLS certificate chain file (PEM); null for plain TCP and HTTP. */
  tlsCert: string | null;
  /** The TLS private key file (PEM); given exactly when `tlsCert` is. */
  tlsKey: string | null;
  help: boolean;
}

/** How a flag's text becomes a value, and a value is shown. */
export interface Reader<T> {
  /** @throws {TypeError} with a message fit for the user, naming `--flag` */
  parse(text: string, flag: string): T;
  /** The value as it is given on the command line. */
  show(value: T): string;
}

/** One option of the server. */
export interface ServerOption {
  /** The flag without its dashes, e.g. `max-online`. */
  readonly flag: string;
  /** What the flag takes, e.g. `N`; none for a switch. */
  readonly arg?: string;
  /** The help text, without the default. */
  readonly help: string;
  /** Whether it may be given more than once (each value is kept). */
  readonly multiple?: boolean;
  /** The default (in the units of {@link ServerArgs}); a switch is off by default. */
  readonly default?: unknown;
  /** How `--help` and the docs show the default when not as {@link Reader.show} does. */
  readonly shown?: string;
  /** How the flag is read; none for a switch. */
  readonly read?: Reader<unknown>;
  /** Puts the flag's value (true for a switch) into the arguments. */
  readonly set: (args: ServerArgs, value: never) => void;
  /** The field of {@link ServerOptions} with the same value and units, whose default this is. */
  readonly field?: keyof ServerOptions;
}

/** The options of one kind of value, typed for their `set`. */
function option<T>(
  spec: Omit<ServerOption, "read" | "set" | "default"> & {
    read: Reader<T>;
    default?: T;
    set: (args: ServerArgs, value: T) => void;
  },
): ServerOption {
  return spec as ServerOption;
}

/** A switch: a flag without a value. */
function flagSwitch(flag: string, help: string, set: (args: ServerArgs) => void): ServerOption {
  return { flag, help, set };
}

/** Whole numbers from `min` to `max`. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): Reader<number> {
  return {
    parse(text, flag) {
      if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
        throw new TypeError(
          `--${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`,
        );
      }
      return Number(text);
    },
    show: String,
  };
}

/** Whole seconds from `min` to `max` on the command line, milliseconds in the value. */
function seconds(min: number, max: number): Reader<number> {
  const whole = integer(min, max);
  return { parse: (text, flag) => 1000 * whole.parse(text, flag), show: (ms) => String(ms / 1000) };
}

/** Numbers from 0 to `max` with up to 9 decimals. */
function decimal(max: number): Reader<number> {
  return {
    parse(text, flag) {
      if (!/^\d{1,9}(\.\d{1,9})?$/.test(text) || Number(text) > max) {
        throw new TypeError(
          `--${flag} must be a number from 0 to ${max}, got ${JSON.stringify(text)}`,
        );
      }
      return Number(text);
    },
    show: String,
  };
}

/** Powers of two from `min` to `max`. */
function powerOfTwo(min: number, max: number): Reader<number> {
  const whole = integer(min, max);
  return {
    parse(text, flag) {
      const value = whole.parse(text, flag);
      if ((value & (value - 1)) !== 0) {
        throw new TypeError(`--${flag} must be a power of two, got ${value}`);
      }
      return value;
    },
    show: String,
  };
}

/** One of `choices`. */
function oneOf<T extends string>(choices: readonly T[]): Reader<T> {
  return {
    parse(text, flag) {
      if (!(choices as readonly string[]).includes(text)) {
        throw new TypeError(
          `--${flag} must be one of ${choices.join(", ")}, got ${JSON.stringify(text)}`,
        );
      }
      return text as T;
    },
    show: String,
  };
}

/** Any text. */
const TEXT: Reader<string> = { parse: (text) => text, show: String };

/** An origin (`--allow-origin`), normalised: scheme, host and port only. */
const ORIGIN: Reader<string> = {
  parse(text, flag) {
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
        `--${flag} must be an origin such as https://chat.example.com, got ${JSON.stringify(text)}`,
      );
    }
    return url.origin;
  },
  show: String,
};

/** A host name without port (`--allow-host`), in lower case. */
const HOST_NAME: Reader<string> = {
  parse(text, flag) {
    if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(text)) {
      throw new TypeError(
        `--${flag} must be a host name such as chat.example.com, got ${JSON.stringify(text)}`,
      );
    }
    return text.toLowerCase();
  },
  show: String,
};

const PORT = integer(0, 65535);
const MINUTE = 60;
const MILLION = 1_000_000;

/** The address a server listens on unless told otherwise: this machine only. */
export const DEFAULT_HOST = "127.0.0.1";

/** Most connections from one address unless told otherwise. */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 64;

/** Most connections over every listener unless told otherwise. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;

/** The default flood limits, as the flags give them. */
const FLOOD = DEFAULT_FLOOD_LIMITS;

/** Every option of the server, in the order `--help` lists them. */
export const SERVER_OPTIONS: readonly ServerOption[] = [
  option({
    flag: "host",
    arg: "HOST",
    help: "address to listen on: this machine only unless told; 0.0.0.0 serves the network",
    read: TEXT,
    default: DEFAULT_HOST,
    set: (args, value) => args.host = value,
    field: "host",
  }),
  flagSwitch(
    "allow-sample-passwords",
    "listen on an address other machines can reach even while globals.txt keeps the sample " +
      "accounts' published passwords, which is refused by default",
    (args) => args.allowSamplePasswords = true,
  ),
  option({
    flag: "port",
    arg: "PORT",
    help: "TCP port; 0 picks a free port",
    read: PORT,
    default: 6666,
    set: (args, value) => args.port = value,
    field: "port",
  }),
  option({
    flag: "http-port",
    arg: "PORT",
    help: "HTTP port of the web client and its WebSocket; 0 picks a free port; " +
      "the library serves no HTTP unless given one",
    read: PORT,
    default: 8080,
    set: (args, value) => args.httpPort = value,
  }),
  flagSwitch("no-http", "do not serve the web client", (args) => args.httpPort = null),
  option({
    flag: "cs544-port",
    arg: "PORT",
    help: "serve the CS 544 Chat Service Protocol's own client on this port (docs/cs544.md); " +
      "0 picks a free port",
    read: PORT,
    shown: "off",
    set: (args, value) => args.cs544Port = value,
  }),
  option({
    flag: "allow-origin",
    arg: "ORIGIN",
    help: "also let pages of ORIGIN, e.g. https://chat.example.com, open a WebSocket",
    multiple: true,
    read: ORIGIN,
    shown: "own origin",
    set: (args, value) => args.allowOrigins.push(value),
  }),
  option({
    flag: "allow-host",
    arg: "NAME",
    help: "also serve the WebSocket to pages that reached the server as NAME, e.g. behind a " +
      "reverse proxy; IP addresses, localhost, --host and the --allow-origin hosts always are",
    multiple: true,
    read: HOST_NAME,
    shown: "none",
    set: (args, value) => args.allowHosts.push(value),
  }),
  option({
    flag: "http-header-timeout",
    arg: "SECONDS",
    help: "an HTTP request head must arrive within this time, and a kept-alive connection " +
      "sends its next request within it",
    read: seconds(1, 3_600),
    default: 10_000,
    set: (args, value) => args.httpHeaderTimeoutMs = value,
    field: "httpHeaderTimeoutMs",
  }),
  option({
    flag: "max-http-header-bytes",
    arg: "N",
    help: "longest HTTP request head",
    read: integer(1024, 1 << 20),
    default: 16 * 1024,
    set: (args, value) => args.maxHttpHeaderBytes = value,
    field: "maxHttpHeaderBytes",
  }),
  option({
    flag: "max-online",
    arg: "N",
    help: "most users logged in at once",
    read: integer(1),
    default: 10_000,
    set: (args, value) => args.maxOnline = value,
    field: "maxOnline",
  }),
  option({
    flag: "globals",
    arg: "PATH",
    help: "preset accounts and rooms; ./globals.txt is skipped when it does not exist",
    read: TEXT,
    shown: "./globals.txt",
    set: (args, value) => args.globals = value,
  }),
  option({
    flag: "db",
    arg: "PATH",
    help: "SQLite database; :memory: keeps nothing, and is the library's default; or a " +
      "PostgreSQL database as postgres://USER@HOST:PORT/DB (the password from PGPASSWORD; run " +
      "with deno task start:postgres, which adds --allow-env)",
    read: TEXT,
    default: "./claptrap.db",
    set: (args, value) => args.db = value,
  }),
  option<"full" | "normal">({
    flag: "db-sync",
    arg: "MODE",
    help: "full: every answered write is fsynced; normal: survives a crash of the server, " +
      "not of the machine",
    read: oneOf(["full", "normal"] as const),
    default: "full",
    set: (args, value) => args.dbSync = value,
    field: "dbSync",
  }),
  option({
    flag: "db-max-batch",
    arg: "N",
    help: "most writes per commit; 1 turns group commit off, for benchmarks; PostgreSQL's " +
      "default is 1024",
    read: integer(1),
    shown: "no limit",
    set: (args, value) => args.dbMaxBatch = value,
  }),
  option({
    flag: "db-batch-wait",
    arg: "MS",
    help: "with --db postgres://, how long a message waits for others to share its commit when " +
      "none is under way; 0 commits each at once",
    read: integer(0, 1000),
    default: 8,
    set: (args, value) => args.dbBatchWaitMs = value,
    field: "dbBatchWaitMs",
  }),
  option({
    flag: "bus",
    arg: "URL",
    help: "with --db postgres://, how the servers sharing it hear of each other's messages: " +
      "postgres (LISTEN/NOTIFY) or a redis:// URL (pub/sub)",
    read: TEXT,
    shown: "postgres",
    set: (args, value) => args.bus = value,
  }),
  option({
    flag: "cluster-lease",
    arg: "SECONDS",
    help: "with --db postgres://, how long a server's claims of its users' names outlast its " +
      "last renewal: a killed server's users may log in elsewhere after it",
    read: seconds(2, 3600),
    default: 10_000,
    set: (args, value) => args.clusterLeaseMs = value,
    field: "clusterLeaseMs",
  }),
  option({
    flag: "scrypt-cost",
    arg: "N",
    help: "scrypt CPU/memory cost of new password hashes, a power of two; lower makes logins " +
      "cheaper and hashes weaker, e.g. for benchmarks",
    read: powerOfTwo(2, 1 << 20),
    default: DEFAULT_SCRYPT_COST,
    set: (args, value) => args.scryptCost = value,
    field: "scryptCost",
  }),
  option({
    flag: "scrypt-concurrency",
    arg: "N",
    help: "password checks and hashes under way at once; 64 times as many wait (logins from " +
      "addresses without failures first), more are answered RATE_LIMITED",
    read: integer(1, 1024),
    default: DEFAULT_SCRYPT_CONCURRENCY,
    shown: "cores − 1",
    set: (args, value) => args.scryptConcurrency = value,
    field: "scryptConcurrency",
  }),
  option({
    flag: "admin",
    arg: "NAME",
    help: 'a user who may kick and ban in every room; "name password admin" lines ' +
      "in globals.txt do the same",
    multiple: true,
    read: TEXT,
    set: (args, value) => args.admins.push(value),
  }),
  option({
    flag: "poems",
    arg: "PATH",
    help: "the sonnets for POEM, in the AllSonnets.txt layout",
    read: TEXT,
    shown: "none",
    set: (args, value) => args.poems = value,
  }),
  option<"refuse" | "replace">({
    flag: "duplicate-login",
    arg: "MODE",
    help: "refuse: a second login of an online user gets ALREADY_ONLINE; replace: the older " +
      "connection is closed instead",
    read: oneOf(["refuse", "replace"] as const),
    default: "refuse",
    set: (args, value) => args.duplicateLogin = value,
    field: "duplicateLogin",
  }),
  option({
    flag: "ping-interval",
    arg: "SECONDS",
    help: "push connections silent this long get EVT_PING",
    read: seconds(1, 86_400),
    default: DEFAULT_LIVENESS_RULES.pingAfter,
    set: (args, value) => args.pingIntervalMs = value,
    field: "pingIntervalMs",
  }),
  option({
    flag: "idle-timeout",
    arg: "SECONDS",
    help: "connections silent this long are closed",
    read: seconds(2, 86_400),
    default: DEFAULT_LIVENESS_RULES.idleLimit,
    set: (args, value) => args.idleTimeoutMs = value,
    field: "idleTimeoutMs",
  }),
  flagSwitch(
    "no-console",
    "no operator console on stdin; it is off anyway when stdin is not a terminal",
    (args) => args.console = false,
  ),
  option({
    flag: "max-frame-size",
    arg: "BYTES",
    help: "largest request frame accepted",
    read: integer(64, 2 ** 31),
    default: DEFAULT_MAX_FRAME_SIZE,
    set: (args, value) => args.maxFrameSize = value,
    field: "maxFrameSize",
  }),
  option({
    flag: "send-queue-bytes",
    arg: "N",
    help: "bytes queued for a client before it is dropped for not reading",
    read: integer(1024),
    default: 8 << 20,
    set: (args, value) => args.sendQueueBytes = value,
    field: "sendQueueBytes",
  }),
  option({
    flag: "max-message-chars",
    arg: "N",
    help: "longest message accepted, in characters",
    read: integer(1, 1 << 24),
    default: DEFAULT_MAX_MESSAGE_CHARS,
    set: (args, value) => args.maxMessageChars = value,
    field: "maxMessageChars",
  }),
  option({
    flag: "msg-rate",
    arg: "N",
    help: "messages (and room creations, peer chats and searches) per second per user; more " +
      "are answered RATE_LIMITED; 0: no limit",
    read: decimal(MILLION),
    default: FLOOD.messages.perSecond,
    set: (args, value) => args.msgRate = value,
  }),
  option({
    flag: "msg-burst",
    arg: "N",
    help: "how many of those may come at once",
    read: integer(1, MILLION),
    default: FLOOD.messages.burst,
    set: (args, value) => args.msgBurst = value,
  }),
  option({
    flag: "join-rate",
    arg: "N",
    help: "room changes (JOIN_ROOM into another room) per second per user; more are answered " +
      "RATE_LIMITED; 0: no limit",
    read: decimal(MILLION),
    default: FLOOD.joins.perSecond,
    set: (args, value) => args.joinRate = value,
  }),
  option({
    flag: "join-burst",
    arg: "N",
    help: "how many of those may come at once",
    read: integer(1, MILLION),
    default: FLOOD.joins.burst,
    set: (args, value) => args.joinBurst = value,
  }),
  option({
    flag: "register-rate",
    arg: "N",
    help: "accounts REGISTER may create per minute from one address; more are answered " +
      "RATE_LIMITED; 0: no limit",
    read: decimal(MILLION),
    default: Math.round(FLOOD.registrationsPerAddress.perSecond * MINUTE * 1e9) / 1e9,
    set: (args, value) => args.registerRate = value,
  }),
  option({
    flag: "register-burst",
    arg: "N",
    help: "how many of those may come at once",
    read: integer(1, MILLION),
    default: FLOOD.registrationsPerAddress.burst,
    set: (args, value) => args.registerBurst = value,
  }),
  option({
    flag: "register-total-rate",
    arg: "N",
    help: "accounts REGISTER may create per minute in the whole server, all of them at once " +
      "if need be; 0: no limit",
    read: decimal(MILLION),
    default: Math.round(FLOOD.registrations.perSecond * MINUTE * 1e9) / 1e9,
    set: (args, value) => args.registerTotalRate = value,
  }),
  flagSwitch(
    "no-login-throttle",
    "do not slow down logins after failures; by default 5 failures per account and 20 " +
      "per address are free, then delays from 1 s double up to 5 min",
    (args) => args.loginThrottle = false,
  ),
  option({
    flag: "max-connections-per-ip",
    arg: "N",
    help: "simultaneous connections from one IP address, TCP, HTTP and WebSocket together; " +
      "0: no cap",
    read: integer(0),
    default: DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
    set: (args, value) => args.maxConnectionsPerAddress = value,
    field: "maxConnectionsPerAddress",
  }),
  option({
    flag: "max-connections",
    arg: "N",
    help: "simultaneous connections over every port; 0: no cap",
    read: integer(0),
    default: DEFAULT_MAX_CONNECTIONS,
    set: (args, value) => args.maxConnections = value,
    field: "maxConnections",
  }),
  option({
    flag: "max-rooms-per-user",
    arg: "N",
    help: "rooms one user may create; admins are not limited",
    read: integer(0),
    default: DEFAULT_MAX_ROOMS_PER_USER,
    set: (args, value) => args.maxRoomsPerUser = value,
    field: "maxRoomsPerUser",
  }),
  option({
    flag: "max-rooms",
    arg: "N",
    help: "public rooms the server holds; CREATE_ROOM beyond it is refused",
    read: integer(0),
    default: DEFAULT_MAX_ROOMS,
    set: (args, value) => args.maxRooms = value,
    field: "maxRooms",
  }),
  option({
    flag: "max-devices",
    arg: "N",
    help: "protocol 2.1 sessions (devices) of one user online at once",
    read: integer(1),
    default: DEFAULT_MAX_DEVICES,
    set: (args, value) => args.maxDevices = value,
    field: "maxDevices",
  }),
  option({
    flag: "max-joined-rooms",
    arg: "N",
    help: "public rooms one user belongs to at once (protocol 2.1)",
    read: integer(1),
    default: DEFAULT_MAX_JOINED_ROOMS,
    set: (args, value) => args.maxJoinedRooms = value,
    field: "maxJoinedRooms",
  }),
  option({
    flag: "peer-invite-timeout",
    arg: "SECONDS",
    help: "how long a request to join a peer chat waits for its members' answer",
    read: seconds(1, 3_600),
    default: DEFAULT_INVITATION_LIMITS.timeoutMs,
    set: (args, value) => args.peerInviteTimeoutMs = value,
    field: "peerInviteTimeoutMs",
  }),
  option({
    flag: "max-peer-invites",
    arg: "N",
    help: "requests to join one peer chat waiting at once; more are answered BUSY",
    read: integer(1, 1_000),
    default: DEFAULT_INVITATION_LIMITS.perChat,
    set: (args, value) => args.maxPeerInvites = value,
    field: "maxPeerInvites",
  }),
  option({
    flag: "max-searches",
    arg: "N",
    help: "searches the store works on at once, server-wide",
    read: integer(1, 1024),
    default: DEFAULT_SEARCH_LIMITS.running,
    set: (args, value) => args.searchLimits.running = value,
  }),
  option({
    flag: "search-queue",
    arg: "N",
    help: "searches that may wait for a turn beyond those; more are answered RATE_LIMITED",
    read: integer(0, MILLION),
    default: DEFAULT_SEARCH_LIMITS.waiting,
    set: (args, value) => args.searchLimits.waiting = value,
  }),
  option({
    flag: "max-searches-per-user",
    arg: "N",
    help: "searches one user may have under way at once",
    read: integer(1, 1024),
    default: DEFAULT_SEARCH_LIMITS.perUser,
    set: (args, value) => args.searchLimits.perUser = value,
  }),
  option({
    flag: "search-scan",
    arg: "N",
    help: "messages one page of search results looks through at most; older ones are left " +
      "for the next page",
    read: integer(1, 100 * MILLION),
    default: DEFAULT_SEARCH_LIMITS.scanLimit,
    set: (args, value) => args.searchLimits.scanLimit = value,
  }),
  option({
    flag: "max-history-bytes",
    arg: "N",
    help: "most bytes of message content in one HISTORY page, at most an eighth of " +
      "--send-queue-bytes; More: yes says there is more",
    read: integer(1024),
    default: DEFAULT_MAX_HISTORY_BYTES,
    set: (args, value) => args.maxHistoryBytes = value,
    field: "maxHistoryBytes",
  }),
  option({
    flag: "history-concurrency",
    arg: "N",
    help: "HISTORY reads under way at once; 64 times as many may wait, more are answered " +
      "RATE_LIMITED",
    read: integer(1, 1024),
    default: DEFAULT_HISTORY_CONCURRENCY,
    set: (args, value) => args.historyConcurrency = value,
    field: "historyConcurrency",
  }),
  option({
    flag: "login-timeout",
    arg: "SECONDS",
    help: "connections not logged in this long are closed",
    read: seconds(1, 86_400),
    default: DEFAULT_LIVENESS_RULES.loginTimeout,
    set: (args, value) => args.loginTimeoutMs = value,
    field: "loginTimeoutMs",
  }),
  option({
    flag: "frame-timeout",
    arg: "SECONDS",
    help: "connections that leave a frame unfinished this long are closed",
    read: seconds(1, 86_400),
    default: DEFAULT_LIVENESS_RULES.frameTimeout,
    set: (args, value) => args.frameTimeoutMs = value,
    field: "frameTimeoutMs",
  }),
  option({
    flag: "drain-timeout",
    arg: "SECONDS",
    help: "when a connection is closed (and at shutdown), how long it gets to receive what " +
      "is queued for it",
    read: seconds(0, 3_600),
    default: 5_000,
    set: (args, value) => args.closeGraceMs = value,
    field: "closeGraceMs",
  }),
  option<LogFormat>({
    flag: "log-format",
    arg: "FORMAT",
    help: "text, or json: one object per line",
    read: oneOf(LOG_FORMATS),
    default: "text",
    set: (args, value) => args.logFormat = value,
  }),
  option({
    flag: "chatroom-port",
    arg: "PORT",
    help: "serve the Multi-Client Chatroom's GUI client (guests, one room) on PORT; 0 picks a " +
      "free port",
    read: PORT,
    shown: "off",
    set: (args, value) => args.chatroomPort = value,
  }),
  option({
    flag: "chatroom-room",
    arg: "NAME",
    help: "the room of the Multi-Client Chatroom listener, made if missing",
    read: TEXT,
    default: "lobby",
    set: (args, value) => args.chatroomRoom = value,
    field: "chatroomRoom",
  }),
  option({
    flag: "cs168-port",
    arg: "PORT",
    help: "serve the CS168 Chat client (guests, channels are rooms) on PORT; 0 picks a free port",
    read: PORT,
    shown: "off",
    set: (args, value) => args.cs168Port = value,
  }),
  option({
    flag: "ics-port",
    arg: "PORT",
    help: "serve the ICS chat client (guests, its groups are peer chats) on PORT; 0 picks a free " +
      "port",
    read: PORT,
    shown: "off",
    set: (args, value) => args.icsPort = value,
  }),
  option({
    flag: "tls-cert",
    arg: "FILE",
    help: "serve TCP and HTTP over TLS (HTTPS, WSS) with the certificate chain in FILE (PEM); " +
      "needs --tls-key",
    read: TEXT,
    shown: "none",
    set: (args, value) => args.tlsCert = value,
  }),
  option({
    flag: "tls-key",
    arg: "FILE",
    help: "the certificate's private key (PEM); needs --tls-cert",
    read: TEXT,
    shown: "none",
    set: (args, value) => args.tlsKey = value,
  }),
];

/** The arguments when none are given: every option at its default. */
export function defaultArgs(): ServerArgs {
  const args: ServerArgs = {
    host: "",
    allowSamplePasswords: false,
    port: 0,
    httpPort: null,
    cs544Port: null,
    allowOrigins: [],
    allowHosts: [],
    maxOnline: 0,
    globals: null,
    db: "",
    dbSync: "full",
    dbMaxBatch: undefined,
    dbBatchWaitMs: 0,
    bus: undefined,
    clusterLeaseMs: 0,
    scryptCost: 0,
    scryptConcurrency: 0,
    admins: [],
    poems: null,
    duplicateLogin: "refuse",
    pingIntervalMs: 0,
    idleTimeoutMs: 0,
    console: true,
    maxFrameSize: 0,
    sendQueueBytes: 0,
    maxMessageChars: 0,
    msgRate: 0,
    msgBurst: 0,
    joinRate: 0,
    joinBurst: 0,
    registerRate: 0,
    registerBurst: 0,
    registerTotalRate: 0,
    loginThrottle: true,
    maxConnectionsPerAddress: 0,
    maxConnections: 0,
    httpHeaderTimeoutMs: 0,
    maxHttpHeaderBytes: 0,
    maxRoomsPerUser: 0,
    maxRooms: 0,
    maxDevices: 0,
    maxJoinedRooms: 0,
    peerInviteTimeoutMs: 0,
    maxPeerInvites: 0,
    searchLimits: { ...DEFAULT_SEARCH_LIMITS },
    maxHistoryBytes: 0,
    historyConcurrency: 0,
    loginTimeoutMs: 0,
    frameTimeoutMs: 0,
    closeGraceMs: 0,
    logFormat: "text",
    chatroomPort: null,
    chatroomRoom: "",
    cs168Port: null,
    icsPort: null,
    tlsCert: null,
    tlsKey: null,
    help: false,
  };
  for (const option of SERVER_OPTIONS) {
    if (option.default !== undefined) option.set(args, option.default as never);
  }
  return args;
}

/** The options by the field of {@link ServerOptions} they give the default of. */
const BY_FIELD = new Map(
  SERVER_OPTIONS.filter((option) => option.field).map((option) => [option.field!, option]),
);

/**
 * The default of a field of {@link ServerOptions}: the one its flag has.
 * @throws {TypeError} for a field no flag gives a default for
 */
export function serverDefault<K extends keyof ServerOptions>(
  field: K,
): NonNullable<ServerOptions[K]> {
  const option = BY_FIELD.get(field);
  if (option?.default === undefined) throw new TypeError(`no option gives ${field} a default`);
  return option.default as NonNullable<ServerOptions[K]>;
}

/** How `--help` and the docs show an option's default; empty when it has none. */
export function shownDefault(option: ServerOption): string {
  if (option.shown !== undefined) return option.shown;
  return option.default === undefined ? "" : option.read!.show(option.default);
}

/** Where the help text of an option starts in `--help`. */
const HELP_COLUMN = 26;
/** The width of `--help`. */
const WIDTH = 78;

/** The `--help` text of the options. */
export function optionsUsage(): string {
  const lines: string[] = [];
  for (const option of SERVER_OPTIONS) {
    const name = `  --${option.flag}${option.arg ? ` ${option.arg}` : ""}`;
    const notes = [
      option.multiple ? "repeatable" : "",
      // a no-break space, so that the default stays with its word when lines wrap
      shownDefault(option) ? `default\u00a0${shownDefault(option)}` : "",
    ].filter(Boolean);
    const text = option.help + (notes.length > 0 ? ` (${notes.join("; ")})` : "");
    const wrapped = wrap(text, WIDTH - HELP_COLUMN).map((line) => line.replaceAll("\u00a0", " "));
    if (name.length < HELP_COLUMN - 1) {
      lines.push(name.padEnd(HELP_COLUMN) + wrapped[0]);
      wrapped.shift();
    } else {
      lines.push(name);
    }
    for (const line of wrapped) lines.push(" ".repeat(HELP_COLUMN) + line);
  }
  lines.push("  -h, --help".padEnd(HELP_COLUMN) + "show this help");
  return lines.join("\n");
}

/** Words of `text` in lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines;
}
