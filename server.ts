/**
 * The Claptrap server: `deno task start` or `server.ts [PORT] [MAX_ONLINE]`.
 * Run with `--help` for the flags.
 * @module
 */

import { parseServerArgs, readTlsFiles, SERVER_USAGE } from "./server/cli.ts";
import { type Globals, parseGlobals } from "./server/globals.ts";
import { DEFAULT_FLOOD_LIMITS, NO_FLOOD_LIMITS } from "./core/limits/flood_control.ts";
import { stderrLogger } from "./server/log_format.ts";
import { parsePoems, type Poems } from "./server/poems.ts";
import { StoreError } from "./store/schema.ts";
import { HttpListenError } from "./server/http/http_server.ts";
import { SamplePasswordsError } from "./server/sample_accounts.ts";
import { ListenError, type ServerHandle, startServer, TlsConfigError } from "./server/server.ts";

/** How long a shutdown may take beyond the drain timeout before the process exits anyway. */
const SHUTDOWN_SLACK_MS = 15_000;

function fail(message: string): never {
  console.error(`claptrap: ${message}`);
  Deno.exit(2);
}

/** Reads the globals file: the one named, or ./globals.txt when it exists. */
async function readGlobals(path: string | null): Promise<Globals | undefined> {
  const file = path ?? "./globals.txt";
  try {
    return parseGlobals(await Deno.readFile(file), file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      if (path === null) return undefined;
      fail(`cannot read ${file}: no such file`);
    }
    fail((error as Error).message);
  }
}

/** Reads the poem corpus named by --poems. */
async function readPoems(path: string | null): Promise<Poems | undefined> {
  if (path === null) return undefined;
  try {
    return parsePoems(await Deno.readTextFile(path), path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) fail(`cannot read ${path}: no such file`);
    fail((error as Error).message);
  }
}

/** Reads operator commands from the terminal until EXIT or end of input. */
async function runConsole(server: ServerHandle): Promise<void> {
  console.error("operator console ready; type HELP");
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  let partial = "";
  for await (const chunk of lines) {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop()!;
    for (const line of parts) {
      const result = await server.console(line);
      for (const output of result.output) console.error(output);
      if (result.exit) {
        await server.close();
        return;
      }
    }
  }
}

async function main(args: string[]): Promise<void> {
  let options;
  try {
    options = parseServerArgs(args);
  } catch (error) {
    fail(`${(error as Error).message}\n\n${SERVER_USAGE}`);
  }
  if (options.help) {
    console.log(SERVER_USAGE);
    return;
  }
  const globals = await readGlobals(options.globals);
  const poems = await readPoems(options.poems);
  let tls;
  try {
    tls = await readTlsFiles(options, Deno.readTextFile);
  } catch (error) {
    fail((error as Error).message);
  }
  let server;
  try {
    server = await startServer({
      host: options.host,
      allowSamplePasswords: options.allowSamplePasswords,
      port: options.port,
      httpPort: options.httpPort,
      allowOrigins: options.allowOrigins,
      allowHosts: options.allowHosts,
      httpHeaderTimeoutMs: options.httpHeaderTimeoutMs,
      maxHttpHeaderBytes: options.maxHttpHeaderBytes,
      maxOnline: options.maxOnline,
      db: options.db,
      dbSync: options.dbSync,
      dbMaxBatch: options.dbMaxBatch,
      dbBatchWaitMs: options.dbBatchWaitMs,
      bus: options.bus,
      clusterLeaseMs: options.clusterLeaseMs,
      scryptCost: options.scryptCost,
      scryptConcurrency: options.scryptConcurrency,
      globals,
      poems,
      admins: options.admins,
      duplicateLogin: options.duplicateLogin,
      pingIntervalMs: options.pingIntervalMs,
      idleTimeoutMs: options.idleTimeoutMs,
      maxFrameSize: options.maxFrameSize,
      sendQueueBytes: options.sendQueueBytes,
      maxMessageChars: options.maxMessageChars,
      floodLimits: {
        ...(options.loginThrottle ? DEFAULT_FLOOD_LIMITS : NO_FLOOD_LIMITS),
        messages: { perSecond: options.msgRate, burst: options.msgBurst },
        joins: { perSecond: options.joinRate, burst: options.joinBurst },
        registrationsPerAddress: {
          perSecond: options.registerRate / 60,
          burst: options.registerBurst,
        },
        registrations: {
          perSecond: options.registerTotalRate / 60,
          burst: Math.max(1, options.registerTotalRate),
        },
      },
      maxConnectionsPerAddress: options.maxConnectionsPerAddress,
      maxConnections: options.maxConnections,
      maxRoomsPerUser: options.maxRoomsPerUser,
      maxDevices: options.maxDevices,
      maxJoinedRooms: options.maxJoinedRooms,
      maxRooms: options.maxRooms,
      peerInviteTimeoutMs: options.peerInviteTimeoutMs,
      maxPeerInvites: options.maxPeerInvites,
      searchLimits: options.searchLimits,
      maxHistoryBytes: options.maxHistoryBytes,
      historyConcurrency: options.historyConcurrency,
      loginTimeoutMs: options.loginTimeoutMs,
      frameTimeoutMs: options.frameTimeoutMs,
      closeGraceMs: options.closeGraceMs,
      chatroomPort: options.chatroomPort,
      chatroomRoom: options.chatroomRoom,
      cs168Port: options.cs168Port,
      cs544Port: options.cs544Port,
      icsPort: options.icsPort,
      log: stderrLogger(options.logFormat),
      tls,
    });
  } catch (error) {
    if (error instanceof StoreError || error instanceof HttpListenError) fail(error.message);
    if (error instanceof ListenError) fail(error.message);
    if (error instanceof TlsConfigError || error instanceof SamplePasswordsError) {
      fail(error.message);
    }
    fail(`cannot listen on ${options.host}:${options.port}: ${(error as Error).message}`);
  }
  const stop = () => {
    // bounded: a store or bus that never answers its close must not keep the process alive
    const limitMs = options.closeGraceMs + SHUTDOWN_SLACK_MS;
    setTimeout(() => {
      console.error(`shutdown did not finish within ${limitMs / 1000} s; exiting`);
      Deno.exit(1);
    }, limitMs);
    return server.close();
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  if (options.console && Deno.stdin.isTerminal()) runConsole(server);
  await server.finished;
  Deno.exit(server.failure === null ? 0 : 1);
}

if (import.meta.main) await main(Deno.args);
