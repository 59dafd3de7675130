/**
 * Starting and stopping a Claptrap server: the chat core plus its TCP
 * listener and, when asked for, its HTTP server (web client and WebSocket).
 * @module
 */

import { DEFAULT_MAX_FRAME_SIZE } from "../protocol/frame.ts";
import type { SyncMode } from "../store/sqlite_database.ts";
import { SqliteStore } from "../store/sqlite_store.ts";
import type { ChatStore } from "../store/store.ts";
import { Chat, type DuplicateLoginPolicy } from "./chat.ts";
import { type ConsoleResult, runConsoleCommand } from "./console.ts";
import type { Globals } from "./globals.ts";
import { importGlobals } from "./globals_import.ts";
import { type HttpServerHandle, startHttpServer } from "./http_server.ts";
import { DEFAULT_SCRYPT_COST } from "./passwords.ts";
import type { Poems } from "./poems.ts";
import { StaticFiles } from "./static_files.ts";
import { type ConnectionLimits, TcpConnection } from "./tcp_connection.ts";

/** Settings of {@link startServer}; every field has a default. */
export interface ServerOptions {
  /** Address to listen on. Default `0.0.0.0`. */
  host?: string;
  /** TCP port; 0 picks a free one. Default 6666. */
  port?: number;
  /**
   * HTTP port of the web client and its WebSocket endpoint `/ws`, on the
   * same host; 0 picks a free one; null serves no HTTP. Default null.
   */
  httpPort?: number | null;
  /**
   * Origins besides the server's own whose pages may open a WebSocket, e.g.
   * `https://chat.example.com`. Default none.
   */
  allowOrigins?: readonly string[];
  /** Most users logged in at once. Default 10,000. */
  maxOnline?: number;
  /** Users who may kick and ban in every room (besides the admins of globals.txt). */
  admins?: Iterable<string>;
  /** A second login of an online user: `refuse` (default) or `replace` the older one. */
  duplicateLogin?: DuplicateLoginPolicy;
  /** The poem corpus POEM reads from. Default none. */
  poems?: Poems;
  /** A push connection silent this long is sent EVT_PING, in ms. Default 30,000. */
  pingIntervalMs?: number;
  /** A connection silent this long is closed, in ms. Default 120,000. */
  idleTimeoutMs?: number;
  /**
   * The SQLite database file, created when missing; `:memory:` for one that
   * vanishes with the server. Default `:memory:`. Ignored when `store` is given.
   */
  db?: string;
  /** How commits reach the disk: `full` (fsync, default) or `normal`. */
  dbSync?: SyncMode;
  /** Most writes per transaction; 1 turns group commit off (benchmarks). Default no limit. */
  dbMaxBatch?: number;
  /** A store to use instead of opening `db`; the server closes it when it stops. */
  store?: ChatStore;
  /** Preset accounts and rooms, brought into the store at start-up. Default none. */
  globals?: Globals;
  /** scrypt cost N for password hashes. Default 16384. */
  scryptCost?: number;
  /** Largest request frame, in bytes. Default 1 MiB. */
  maxFrameSize?: number;
  /** Most bytes queued for one client before it is dropped. Default 8 MiB. */
  sendQueueBytes?: number;
  /** Most messages a room keeps for polling (RECV_MSG) members. Default 10,000. */
  pollLogMessages?: number;
  /** Most characters of content a room keeps for polling members. Default 16 Mi. */
  pollLogChars?: number;
  /** How long closing connections may take to flush, in ms. Default 2,000. */
  closeGraceMs?: number;
  /** Receives one line per significant event. Default: stderr with a timestamp. */
  log?: (line: string) => void;
}

/** A running server. */
export interface ServerHandle {
  /** Where it listens. */
  readonly addr: Deno.NetAddr;
  /** Where it serves HTTP, or null when it does not. */
  readonly httpAddr: Deno.NetAddr | null;
  /** Stops accepting, tells connected push clients, closes every connection. */
  close(): Promise<void>;
  /** Runs an operator console command (HELP, LIST_USERS, KICK, BROADCAST, EXIT). */
  console(line: string): ConsoleResult;
  /** Resolves once the server has stopped. */
  readonly finished: Promise<void>;
}

/** Writes a log line to stderr, prefixed with the time. */
export function logToStderr(line: string): void {
  console.error(`${new Date().toISOString()} ${line}`);
}

/**
 * Opens the store, brings globals.txt into it, and starts listening on TCP.
 * @throws {StoreError} when the database cannot be used.
 *
 * @example A server on a free port of 127.0.0.1
 * ```ts
 * import assert from "node:assert/strict";
 * import { startServer } from "./server.ts";
 * const server = await startServer({ host: "127.0.0.1", port: 0, log: () => {} });
 * assert.ok(server.addr.port > 0);
 * await server.close();
 * ```
 */
export async function startServer(options: ServerOptions = {}): Promise<ServerHandle> {
  const log = options.log ?? logToStderr;
  const scryptCost = options.scryptCost ?? DEFAULT_SCRYPT_COST;
  const store = options.store ??
    await SqliteStore.open(options.db ?? ":memory:", {
      sync: options.dbSync,
      maxBatch: options.dbMaxBatch,
    });
  const limits: ConnectionLimits = {
    maxFrameSize: options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE,
    sendQueueBytes: options.sendQueueBytes ?? 8 * 1024 * 1024,
    closeGraceMs: options.closeGraceMs ?? 2_000,
    poems: options.poems ?? null,
  };
  let listener: Deno.TcpListener | undefined;
  let chat: Chat;
  let http: HttpServerHandle | null = null;
  try {
    if (options.globals) {
      await importGlobals(store, options.globals, { scryptCost, now: Date.now() });
    }
    chat = new Chat({
      store,
      state: await store.load(),
      maxOnline: options.maxOnline ?? 10_000,
      admins: new Set([...(options.globals?.admins ?? []), ...(options.admins ?? [])]),
      duplicateLogin: options.duplicateLogin,
      pollLog: {
        messages: options.pollLogMessages ?? 10_000,
        chars: options.pollLogChars ?? 16 * 1024 * 1024,
      },
      scryptCost,
      log,
    });
    listener = Deno.listen({ hostname: options.host ?? "0.0.0.0", port: options.port ?? 6666 });
    if (options.httpPort != null) {
      http = startHttpServer({
        hostname: options.host ?? "0.0.0.0",
        port: options.httpPort,
        chat,
        limits,
        allowOrigins: options.allowOrigins ?? [],
        files: await StaticFiles.load(),
        log,
      });
    }
  } catch (error) {
    listener?.close();
    await store.close();
    throw error;
  }
  const addr = listener.addr as Deno.NetAddr;
  log(`listening addr=${addr.hostname}:${addr.port}`);
  if (http) log(`listening http=${http.addr.hostname}:${http.addr.port}`);

  const connections = new Map<TcpConnection, Promise<void>>();
  const accepting = (async () => {
    for await (const conn of listener) {
      conn.setNoDelay(true);
      const connection = new TcpConnection(conn, chat, limits, log);
      connections.set(connection, connection.run().finally(() => connections.delete(connection)));
    }
  })().catch(() => {
    // the listener was closed
  });

  const pingAfter = options.pingIntervalMs ?? 30_000;
  const idleLimit = options.idleTimeoutMs ?? 120_000;
  const liveness = setInterval(() => {
    const now = Date.now();
    for (const connection of connections.keys()) {
      connection.checkLiveness(now, pingAfter, idleLimit);
    }
    http?.checkLiveness(now, pingAfter, idleLimit);
  }, Math.max(10, Math.min(pingAfter, idleLimit) / 4));

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      clearInterval(liveness);
      listener.close();
      await accepting;
      for (const connection of connections.keys()) connection.close("server shutting down");
      await Promise.all([
        ...connections.values(),
        http?.close("server shutting down", limits.closeGraceMs),
      ]);
      await store.close();
      log("stopped");
    })();
    return closing;
  };
  let resolveFinished!: () => void;
  const finished = new Promise<void>((resolve) => resolveFinished = resolve);
  return {
    addr,
    httpAddr: http?.addr ?? null,
    close: () => close().then(resolveFinished),
    console: (line) => runConsoleCommand(chat, line),
    finished,
  };
}
