/**
 * The servers of one cluster for tests, on one new database of the
 * private PostgreSQL: as processes, as operators run them, or in this
 * process, with their consoles.
 * @module
 */

import { type ServerHandle, type ServerOptions, startServer } from "../mod.ts";
import { START_POSTGRES_FLAGS, startPostgres } from "./engines.ts";
import { ACCOUNTS, ROOMS, TEST_SCRYPT_COST } from "./helpers.ts";
import { type ServerProcess, spawnServer } from "./server_process.ts";
import { TcpProxy } from "./tcp_proxy.ts";

/** `count` servers on a new database, with `args` more flags each. */
export async function spawnCluster(count: number, args: string[] = []): Promise<ServerProcess[]> {
  const url = await (await startPostgres()).createDatabase();
  const flags = ["--db", url, "--scrypt-cost", String(TEST_SCRYPT_COST), ...args];
  // one after the other: the first creates the schema and imports the globals
  const servers: ServerProcess[] = [];
  for (let i = 0; i < count; i++) {
    servers.push(await spawnServer(flags, { denoFlags: START_POSTGRES_FLAGS }));
  }
  return servers;
}

/** Stops servers (SIGTERM) and waits for them to exit. */
export async function stopServers(servers: ServerProcess[]): Promise<void> {
  for (const server of servers) server.kill("SIGTERM");
  await Promise.all(servers.map((server) => server.exited));
}

/**
 * `count` servers in this process, with `options` more each; with
 * `proxyFirst`, the first reaches PostgreSQL through a proxy (to cut it off).
 */
export async function startCluster(
  count: number,
  options: ServerOptions & { proxyFirst?: boolean } = {},
): Promise<{ servers: ServerHandle[]; proxy: TcpProxy | null }> {
  const { proxyFirst, ...more } = options;
  const url = await (await startPostgres()).createDatabase();
  const port = Number(new URL(url).port);
  const proxy = proxyFirst ? TcpProxy.start(port) : null;
  const servers: ServerHandle[] = [];
  for (let i = 0; i < count; i++) {
    servers.push(
      await startServer({
        host: "127.0.0.1",
        port: 0,
        db: i === 0 && proxy ? url.replace(`:${port}/`, `:${proxy.port}/`) : url,
        scryptCost: TEST_SCRYPT_COST,
        globals: { accounts: new Map(ACCOUNTS), rooms: ROOMS },
        log: () => {},
        ...more,
      }),
    );
  }
  return { servers, proxy };
}
