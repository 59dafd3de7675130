/**
 * Starting and stopping a Claptrap server: the chat core plus its TCP
 * listener and, when asked for, its HTTP server (web client and WebSocket),
 * both optionally over TLS.
 * @module
 */

import type { SyncMode } from "../store/sqlite_database.ts";
import { isPostgresUrl, openStore } from "../store/open_store.ts";
import { StoreError } from "../store/schema.ts";
import { ClusterBus } from "../core/cluster_bus.ts";
import { openCluster } from "./cluster/open_cluster.ts";
import type { ChatStore } from "../store/store.ts";
import { ConnectionsPerAddress } from "./listeners/address_limit.ts";
import { Chat } from "../core/chat.ts";
import type { DuplicateLoginPolicy } from "../core/presence.ts";
import { type ConsoleResult, runConsoleCommand } from "./console.ts";
import type { Globals } from "./globals.ts";
import { type GlobalsImport, importGlobals } from "./globals_import.ts";
import { HttpListenError, HttpServer, refuseHttp } from "./http/http_server.ts";
import type { FloodLimits } from "../core/limits/flood_control.ts";
import type { ConnectionLimits, ServedConnection } from "./connection/connection.ts";
import type { LivenessRules } from "./connection/liveness.ts";
import { closeQuietly } from "./connection/socket.ts";
import { logDescriptorLimits, readDescriptorLimits } from "./listeners/fd_limit.ts";
import { stderrLogger } from "./log_format.ts";
import type { Poems } from "./poems.ts";
import { isLoopback, SamplePasswordsError, samplePasswordsIn } from "./sample_accounts.ts";
import type { SearchLimits } from "../core/search.ts";
import { StaticFiles } from "./http/static_files.ts";
import type { ClaptrapContext } from "./adapters/claptrap/dispatcher.ts";
import { claptrapTcpConnection, refuseConnection } from "./adapters/claptrap/tcp_wire.ts";
import { webSocketConnection } from "./adapters/websocket/websocket_wire.ts";
import { listen, Listening, TlsConfigError } from "./listeners/listening.ts";
import {
  type AdapterListener,
  type ListenerContext,
  ListenError,
} from "./listeners/adapter_listener.ts";
import { ADAPTER_LISTENERS } from "./adapters/registry.ts";
import {
  DEFAULT_HOST,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  serverDefault,
} from "./options.ts";

export {
  DEFAULT_HOST,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  ListenError,
  TlsConfigError,
};

/** Settings of {@link startServer}; every field has a default. */
export interface ServerOptions {
  /** Address to listen on. Default `127.0.0.1`: this machine only. */
  host?: string;
  /**
   * Start even when `host` is not a loopback address while `globals` gives
   * an account its published sample password (see server/sample_accounts.ts).
   * Default false: such a start throws {@link SamplePasswordsError}.
   */
  allowSamplePasswords?: boolean;
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
   * vanishes with the server; or a `postgres://` URL (see
   * store/open_store.ts). Default `:memory:`. Ignored when `store` is given.
   */
  db?: string;
  /** How commits reach the disk: `full` (fsync, default) or `normal`. */
  dbSync?: SyncMode;
  /**
   * Most writes per transaction; 1 turns group commit off (benchmarks).
   * Default no limit for SQLite, 1,024 for PostgreSQL.
   */
  dbMaxBatch?: number;
  /**
   * With a `postgres://` `db`, how long a message waits, in ms, for others
   * to share its commit when none is under way (see
   * `PostgresStoreOptions.batchWaitMs`). Default 8.
   */
  dbBatchWaitMs?: number;
  /**
   * With a `postgres://` `db`, how the servers sharing it hear of each
   * other's messages (cluster mode): `postgres` (LISTEN/NOTIFY, the
   * default) or a `redis://` URL (pub/sub). Not for SQLite.
   */
  bus?: string;
  /**
   * In a cluster, how long a server's claims of its users' names outlast
   * its last renewal of its lease (renewed every quarter of it), in ms: a
   * killed server's users may log in elsewhere once it has run out.
   * Default 10,000.
   */
  clusterLeaseMs?: number;
  /** A store to use instead of opening `db`; the server closes it when it stops. */
  store?: ChatStore;
  /** Preset accounts and rooms, brought into the store at start-up. Default none. */
  globals?: Globals;
  /** scrypt cost N for password hashes. Default 16384. */
  scryptCost?: number;
  /**
   * Password checks and hashes under way at once; 64 times as many may
   * wait, those from addresses without failed logins first. Default: the
   * number of CPU cores less one, at least 1.
   */
  scryptConcurrency?: number;
  /** Largest request frame, in bytes. Default 1 MiB. */
  maxFrameSize?: number;
  /** Most bytes queued for one client before it is dropped. Default 8 MiB. */
  sendQueueBytes?: number;
  /** Most messages a room keeps for polling (RECV_MSG) members. Default 10,000. */
  pollLogMessages?: number;
  /** Most characters of content a room keeps for polling members. Default 16 Mi. */
  pollLogChars?: number;
  /**
   * How long closing connections may take to flush what is queued for them,
   * at shutdown and when one is closed, in ms. Default 5,000.
   */
  closeGraceMs?: number;
  /** Longest message content, in characters. Default 16,384. */
  maxMessageChars?: number;
  /** Message rate and failed-login limits. Default {@link DEFAULT_FLOOD_LIMITS}. */
  floodLimits?: FloodLimits;
  /** Most rooms one user may create (admins are not limited). Default 100. */
  maxRoomsPerUser?: number;
  /** Most public rooms; CREATE_ROOM beyond it gets NOT_ALLOWED. Default 10,000. */
  maxRooms?: number;
  /** Most protocol 2.1 sessions (devices) of one user at once. Default 10. */
  maxDevices?: number;
  /** Most public rooms one user belongs to (protocol 2.1). Default 100. */
  maxJoinedRooms?: number;
  /** How long a request to join a peer chat waits for an answer, in ms. Default 60,000. */
  peerInviteTimeoutMs?: number;
  /** Most requests to join one peer chat waiting at once. Default 5. */
  maxPeerInvites?: number;
  /**
   * Searches at once (per user, server-wide, waiting) and messages one page
   * of results looks through. Default {@link DEFAULT_SEARCH_LIMITS}.
   */
  searchLimits?: SearchLimits;
  /**
   * Most bytes of message content in one HISTORY page, the first message
   * whole; at most an eighth of `sendQueueBytes`. Default 1 MiB.
   */
  maxHistoryBytes?: number;
  /** Most HISTORY reads under way at once; 64 times as many may wait. Default 4. */
  historyConcurrency?: number;
  /** Most simultaneous connections (TCP, HTTP and WebSocket) from one IP address; 0 for no cap. Default 64. */
  maxConnectionsPerAddress?: number;
  /**
   * Most simultaneous connections over every listener; 0 for no cap.
   * Default {@link DEFAULT_MAX_CONNECTIONS}.
   */
  maxConnections?: number;
  /**
   * Host names under which the server's own pages may open a WebSocket,
   * besides IP addresses, `localhost`, `host` and the hosts of
   * `allowOrigins` (e.g. the name a reverse proxy serves it as). Default none.
   */
  allowHosts?: readonly string[];
  /**
   * How long an HTTP request head may take to arrive (and a keep-alive
   * connection may wait for its next request), in ms. Default 10,000.
   */
  httpHeaderTimeoutMs?: number;
  /** Most bytes of an HTTP request head (request line and header fields). Default 16 KiB. */
  maxHttpHeaderBytes?: number;
  /** Connections not logged in for this long are closed, in ms. Default 60,000. */
  loginTimeoutMs?: number;
  /** Connections that leave a frame unfinished this long are closed, in ms. Default 30,000. */
  frameTimeoutMs?: number;
  /**
   * Port of the Multi-Client Chatroom listener (guests, one room); 0 picks a
   * free one; null or none: off. See docs/chatroom.md.
   */
  chatroomPort?: number | null;
  /** The one room of the Multi-Client Chatroom listener, made if missing. Default `lobby`. */
  chatroomRoom?: string;
  /** Port of the CS168 Chat listener (guests); 0 picks a free one; null or none: off. */
  cs168Port?: number | null;
  /**
   * Port of the CS 544 Chat Service Protocol listener (accounts; see
   * docs/cs544.md); 0 picks a free one; null or none: off.
   */
  cs544Port?: number | null;
  /**
   * Port of the ICS chat listener (guests, peer chats; see docs/ics.md); 0
   * picks a free one; null or none: off.
   */
  icsPort?: number | null;
  /**
   * Receives one line per significant event, `event key=value …` (see
   * server/log_format.ts). Default: stderr with a timestamp.
   */
  log?: (line: string) => void;
  /**
   * TLS for the TCP listener and the HTTP server (HTTPS, so the WebSocket is
   * WSS): the certificate chain and its private key as PEM text. Default
   * none: plain TCP and HTTP.
   */
  tls?: { cert: string; key: string };
}

/** A running server. */
export interface ServerHandle {
  /** Where it listens. */
  readonly addr: Deno.NetAddr;
  /** Where it serves HTTP, or null when it does not. */
  readonly httpAddr: Deno.NetAddr | null;
  /** Where each adapter listener that is on listens, by its name (e.g. `chatroom`). */
  readonly listeners: ReadonlyMap<string, Deno.NetAddr>;
  /** Stops accepting, tells connected push clients, closes every connection. */
  close(): Promise<void>;
  /**
   * Runs an operator console command (HELP, LIST_USERS, KICK, BROADCAST,
   * EXIT); in a cluster, LIST_USERS, KICK and BROADCAST read the shared
   * presence first.
   */
  console(line: string): Promise<ConsoleResult>;
  /** Resolves once the server has stopped. */
  readonly finished: Promise<void>;
  /**
   * Why the server stopped by itself, or null: its store failed, unable to
   * tell what is on disk (see `StoreFailedError`); it then closes every
   * connection, telling push clients why, without answering the requests
   * that were waiting for the store.
   */
  readonly failure: string | null;
}

/** Writes a log line to stderr, prefixed with the time. */
export const logToStderr: (line: string) => void = stderrLogger("text");

/**
 * The web page's address as a person would open it: `localhost` for a
 * loopback or wildcard address, which a browser on this machine reaches.
 */
function pageUrl(addr: Deno.NetAddr, tls: boolean): string {
  const { hostname } = addr;
  const host = hostname === "0.0.0.0" || hostname === "::" || isLoopback(hostname)
    ? "localhost"
    : hostname.includes(":")
    ? `[${hostname}]`
    : hostname;
  return `${tls ? "https" : "http"}://${host}:${addr.port}/`;
}

/**
 * Opens the store, brings globals.txt into it, and starts listening on TCP.
 * @throws {SamplePasswordsError} when `host` is reachable from other
 * machines and `globals` holds a sample password (see `allowSamplePasswords`).
 * @throws {StoreError} when the database cannot be used.
 * @throws {TlsConfigError} when the TLS certificate or key cannot be used.
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
  const host = options.host ?? serverDefault("host");
  if (!options.allowSamplePasswords && !isLoopback(host) && options.globals) {
    const exposed = samplePasswordsIn(options.globals.accounts);
    if (exposed.length > 0) throw new SamplePasswordsError(host, exposed);
  }
  const log = options.log ?? logToStderr;
  const scryptCost = options.scryptCost ?? serverDefault("scryptCost");
  const db = options.db ?? ":memory:";
  if (options.bus !== undefined && (options.store || !isPostgresUrl(db))) {
    throw new StoreError("--bus needs --db postgres://… (servers sharing a PostgreSQL database)");
  }
  const batchWaitMs = options.dbBatchWaitMs ?? serverDefault("dbBatchWaitMs");
  const cluster = !options.store && isPostgresUrl(db)
    ? await openCluster(db, {
      bus: options.bus,
      maxBatch: options.dbMaxBatch,
      batchWaitMs,
      maxOnline: options.maxOnline ?? serverDefault("maxOnline"),
      duplicateLogin: options.duplicateLogin ?? serverDefault("duplicateLogin"),
      maxDevices: options.maxDevices ?? serverDefault("maxDevices"),
      leaseMs: options.clusterLeaseMs ?? serverDefault("clusterLeaseMs"),
      log,
    })
    : null;
  let clusterBus = null as ClusterBus | null; // made by the chat, below
  const store = options.store ?? cluster?.store ??
    await openStore(db, { sync: options.dbSync, maxBatch: options.dbMaxBatch, batchWaitMs });
  const sendQueueBytes = options.sendQueueBytes ?? serverDefault("sendQueueBytes");
  const limits: ConnectionLimits = {
    maxFrameSize: options.maxFrameSize ?? serverDefault("maxFrameSize"),
    sendQueueBytes,
    closeGraceMs: options.closeGraceMs ?? serverDefault("closeGraceMs"),
  };
  const maxConnections = options.maxConnections ?? serverDefault("maxConnections");
  const perAddress = new ConnectionsPerAddress(
    options.maxConnectionsPerAddress ?? serverDefault("maxConnectionsPerAddress"),
    maxConnections,
  );
  let listener: Deno.TcpListener | Deno.TlsListener | undefined;
  let httpListener: Deno.TcpListener | Deno.TlsListener | undefined;
  const adapterListeners: { adapter: AdapterListener; listener: Deno.TcpListener }[] = [];
  let chat: Chat;
  let claptrap: ClaptrapContext;
  let http: HttpServer | null = null;
  let imported: GlobalsImport | null = null;
  try {
    // bound first, so that a port in use or an unusable TLS key is reported at
    // once, not after a slow globals.txt import; connections wait to be accepted
    listener = listen(host, options.port ?? serverDefault("port"), options.tls);
    for (const adapter of ADAPTER_LISTENERS) {
      const port = adapter.port(options);
      if (port == null) continue;
      try {
        adapterListeners.push({ adapter, listener: Deno.listen({ hostname: host, port }) });
      } catch (error) {
        throw new ListenError(
          `cannot listen for ${adapter.name} on ${host}:${port}: ${(error as Error).message}`,
          { cause: error },
        );
      }
    }
    if (options.globals) {
      imported = await importGlobals(store, options.globals, { scryptCost, now: Date.now() });
    }
    chat = new Chat({
      store,
      state: await store.load(),
      maxOnline: options.maxOnline ?? serverDefault("maxOnline"),
      admins: new Set([...(options.globals?.admins ?? []), ...(options.admins ?? [])]),
      duplicateLogin: options.duplicateLogin,
      pollLog: {
        messages: options.pollLogMessages ?? 10_000,
        chars: options.pollLogChars ?? 16 * 1024 * 1024,
      },
      scryptCost,
      scryptConcurrency: options.scryptConcurrency,
      floodLimits: options.floodLimits,
      maxRoomsPerUser: options.maxRoomsPerUser,
      maxRooms: options.maxRooms,
      maxDevices: options.maxDevices,
      maxJoinedRooms: options.maxJoinedRooms,
      invitationLimits: {
        timeoutMs: options.peerInviteTimeoutMs ?? serverDefault("peerInviteTimeoutMs"),
        perChat: options.maxPeerInvites ?? serverDefault("maxPeerInvites"),
      },
      searchLimits: options.searchLimits,
      // a page, escaped for the wire (at most four times its size in JSON),
      // must fit in a send queue that holds a quarter already
      maxHistoryBytes: Math.min(
        options.maxHistoryBytes ?? serverDefault("maxHistoryBytes"),
        Math.floor(sendQueueBytes / 8),
      ),
      historyConcurrency: options.historyConcurrency,
      maxMessageChars: options.maxMessageChars,
      bus: cluster
        ? (local, node) =>
          clusterBus = new ClusterBus(local, node, cluster.link, cluster.store, {
            log,
            places: cluster.presence,
          })
        : undefined,
      presence: cluster ? (sessions) => cluster.presence.attach(sessions) : undefined,
      sharedLimits: cluster ? (limits, node) => cluster.limits.attach(limits, node) : undefined,
      log,
    });
    if (clusterBus) {
      await clusterBus.start();
      log(`cluster node=${cluster!.node} bus=${options.bus ?? "postgres"}`);
    }
    for (const { adapter } of adapterListeners) await adapter.prepare?.(chat, options);
    claptrap = {
      chat,
      maxReplyChars: limits.maxFrameSize / 8,
      log,
      poems: options.poems ?? null,
    };
    if (options.httpPort != null) {
      try {
        httpListener = listen(host, options.httpPort, options.tls);
      } catch (error) {
        throw new HttpListenError(
          `cannot listen for HTTP on ${host}:${options.httpPort}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      http = new HttpServer({
        websocket: (conn, address) => webSocketConnection(conn, claptrap, limits, address),
        closeGraceMs: limits.closeGraceMs,
        allowOrigins: options.allowOrigins ?? [],
        allowHosts: [...(options.allowHosts ?? []), host],
        files: await StaticFiles.load(),
        log,
        headerTimeoutMs: options.httpHeaderTimeoutMs,
        maxHeaderBytes: options.maxHttpHeaderBytes,
      });
    }
  } catch (error) {
    listener?.close();
    httpListener?.close();
    await clusterBus?.close();
    for (const { listener } of adapterListeners) listener.close();
    await cluster?.limits.close();
    await cluster?.presence.close();
    await store.close();
    throw error;
  }
  const addr = listener.addr as Deno.NetAddr;
  const httpAddr = (httpListener?.addr ?? null) as Deno.NetAddr | null;
  log(`listening addr=${addr.hostname}:${addr.port}`);
  if (httpAddr) {
    log(`listening http=${httpAddr.hostname}:${httpAddr.port}`);
    log(`web-client url=${pageUrl(httpAddr, options.tls !== undefined)}`);
  }
  const listeners = new Map<string, Deno.NetAddr>();
  for (const { adapter, listener } of adapterListeners) {
    const { hostname, port } = listener.addr;
    listeners.set(adapter.name, listener.addr);
    log(`listening ${adapter.name}=${hostname}:${port}`);
  }
  if (options.tls) log("tls on");
  logDescriptorLimits(readDescriptorLimits(), maxConnections, log);
  if (imported) {
    const { accounts, checked, hashed } = imported;
    log(`globals accounts=${accounts} checked=${checked} hashed=${hashed}`);
  }

  const rules: LivenessRules = {
    pingAfter: options.pingIntervalMs ?? serverDefault("pingIntervalMs"),
    idleLimit: options.idleTimeoutMs ?? serverDefault("idleTimeoutMs"),
    loginTimeout: options.loginTimeoutMs ?? serverDefault("loginTimeoutMs"),
    frameTimeout: options.frameTimeoutMs ?? serverDefault("frameTimeoutMs"),
  };
  const connections = new Map<ServedConnection, Promise<void>>();
  const serveConnection = (connection: ServedConnection) => {
    const ended = connection.run().finally(() => connections.delete(connection));
    connections.set(connection, ended);
    return ended;
  };
  const serveTcp = (conn: Deno.Conn) =>
    serveConnection(claptrapTcpConnection(conn, claptrap, limits));
  const context: ListenerContext = { chat, limits, log, options };
  const adapterPorts = adapterListeners.map(({ adapter, listener }) =>
    new Listening(listener, adapter.name, perAddress, rules.loginTimeout, log, {
      serve: (conn) => serveConnection(adapter.connect(conn, context)),
      refuse: (conn, reason) => adapter.refuse ? adapter.refuse(conn, reason) : closeQuietly(conn),
    })
  );
  const chatPort = new Listening(listener, "tcp", perAddress, rules.loginTimeout, log, {
    serve: serveTcp,
    refuse: (conn, reason, plain) => refuseConnection(conn, reason, plain),
  });
  const httpPort = http && httpListener
    ? new Listening(httpListener, "http", perAddress, rules.loginTimeout, log, {
      serve: (conn) => http.serve(conn),
      refuse: (conn, reason, plain) => {
        if (!plain) return closeQuietly(conn);
        return refuseHttp(conn, perAddress.full() ? 503 : 429, reason, limits.closeGraceMs);
      },
    })
    : null;
  const liveness = setInterval(() => {
    const now = Date.now();
    for (const connection of connections.keys()) connection.checkLiveness(now, rules);
    http?.checkLiveness(now, rules);
  }, livenessInterval(rules));

  let closing: Promise<void> | null = null;
  const close = (reason = "server shutting down") => {
    closing ??= (async () => {
      clearInterval(liveness);
      await Promise.all([
        chatPort.close(),
        httpPort?.close(),
        ...adapterPorts.map((p) => p.close()),
      ]);
      for (const connection of connections.keys()) connection.close(reason);
      await Promise.all([...connections.values(), http?.close(reason, limits.closeGraceMs)]);
      await Promise.all([
        chatPort.finished(),
        httpPort?.finished(),
        ...adapterPorts.map((port) => port.finished()),
      ]);
      await clusterBus?.close();
      await cluster?.limits.close();
      await cluster?.presence.close();
      await store.close();
      log("stopped");
    })();
    return closing;
  };
  let resolveFinished!: () => void;
  const finished = new Promise<void>((resolve) => resolveFinished = resolve);
  let failure: string | null = null;
  store.failure.then((error) => {
    failure = error.message;
    log(`store-failed error=${JSON.stringify(failure)}`);
    close(`server stopping: ${failure}`).then(resolveFinished);
  });
  return {
    addr,
    httpAddr,
    listeners,
    close: () => close().then(resolveFinished),
    console: async (line) => await runConsoleCommand(chat, line),
    finished,
    get failure() {
      return failure;
    },
  };
}

/** How often to check connections' liveness: often enough for the shortest limit. */
function livenessInterval(rules: LivenessRules): number {
  return Math.max(10, Math.min(1_000, Math.min(...Object.values(rules)) / 4));
}
