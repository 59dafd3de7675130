/**
 * What the cluster tests share: servers as processes (or in this process,
 * with their consoles) on one new database of the test module's private
 * PostgreSQL, members of the lobby that
 * record the messages pushed to them, and checks of what was stored and
 * delivered.
 * @module
 */

import {
  ChatClient,
  type ChatEvent,
  type ServerHandle,
  type ServerOptions,
  startServer,
  tcp,
  type Transport,
} from "../mod.ts";
import { START_POSTGRES_FLAGS, startPostgres } from "./engines.ts";
import { ACCOUNTS, ROOMS, TEST_SCRYPT_COST, withTimeout } from "./helpers.ts";
import { type ServerProcess, spawnServer } from "./server_process.ts";
import { TcpProxy } from "./tcp_proxy.ts";

/**
 * Servers on a new database, each a process; `bus` as --bus (PostgreSQL's
 * NOTIFY when absent); with `http`, each serves WebSocket too; `args`: more
 * flags for each.
 */
export async function cluster(
  count: number,
  options: { bus?: string; http?: boolean; args?: string[] } = {},
): Promise<ServerProcess[]> {
  const url = await (await startPostgres()).createDatabase();
  const args = ["--db", url, "--scrypt-cost", String(TEST_SCRYPT_COST), "--msg-rate", "0"];
  if (options.bus) args.push("--bus", options.bus);
  args.push(...options.args ?? []);
  // one after the other: the first creates the schema and imports the globals
  const servers: ServerProcess[] = [];
  for (let i = 0; i < count; i++) {
    servers.push(
      await spawnServer(args, { denoFlags: START_POSTGRES_FLAGS, http: options.http }),
    );
  }
  return servers;
}

/** Stops the servers (SIGTERM) and waits for them to exit. */
export async function stop(servers: ServerProcess[]): Promise<void> {
  for (const server of servers) {
    try {
      server.kill("SIGTERM");
    } catch {
      // already gone (killed by the test)
    }
  }
  await Promise.all(servers.map((server) => server.exited));
}

/** A user logged in on the server at `port` (or through `transport`), in the lobby, push on. */
export async function member(
  to: number | Promise<Transport>,
  user: string,
): Promise<ChatClient> {
  const client = await ChatClient.connect(typeof to === "number" ? tcp({ port: to }) : to);
  await client.login(user, ACCOUNTS.get(user)!, { push: true });
  await client.join("lobby");
  return client;
}

/**
 * The ids of the lobby messages pushed to a client, in arrival order, as
 * they come; and those of its direct messages into `dms`, when given.
 */
export function received(client: ChatClient, dms?: number[]): number[] {
  const ids: number[] = [];
  (async () => {
    for await (const event of client.events()) {
      if (event.type === "message" && event.room === "lobby") ids.push(event.id);
      else if (event.type === "dm") dms?.push(event.id);
    }
  })();
  return ids;
}

/** Joins a room made on another server, trying again until its note has arrived (up to 10 s). */
export async function joinWhenThere(client: ChatClient, room: string): Promise<void> {
  for (let tries = 0;; tries++) {
    try {
      return void await client.join(room);
    } catch (error) {
      if (tries > 200) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Waits until `condition` holds, for up to `ms`. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * `count` servers in this process, with `options` more each, and
 * `each(i)` more for server i; with `proxyFirst`, the first reaches
 * PostgreSQL through a proxy (to cut it off).
 */
export async function startCluster(
  count: number,
  options: ServerOptions & { proxyFirst?: boolean; each?: (i: number) => ServerOptions } = {},
): Promise<{ servers: ServerHandle[]; proxy: TcpProxy | null }> {
  const { proxyFirst, each, ...more } = options;
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
        ...each?.(i),
      }),
    );
  }
  return { servers, proxy };
}

/**
 * The next pushed event of a type, waiting up to 10 s. It is listened to
 * from the start, so that a test failing before it awaits the event fails
 * with its own error, not with this one left unhandled.
 */
export function nextEvent(client: ChatClient, type: ChatEvent["type"]): Promise<ChatEvent> {
  const found = (async () => {
    for await (const event of client.events()) if (event.type === type) return event;
    throw new Error("connection ended");
  })();
  const event = withTimeout(found, 10_000, `a ${type} event`);
  event.catch(() => {});
  return event;
}
