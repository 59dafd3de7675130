/**
 * What the cluster tests share: servers as processes on one new database
 * of the test module's private PostgreSQL, members of the lobby that
 * record the messages pushed to them, and checks of what was stored and
 * delivered.
 * @module
 */

import { ChatClient, tcp, type Transport } from "../mod.ts";
import { START_POSTGRES_FLAGS, startPostgres } from "./engines.ts";
import { ACCOUNTS, TEST_SCRYPT_COST } from "./helpers.ts";
import { type ServerProcess, spawnServer } from "./server_process.ts";

/**
 * Servers on a new database, each a process; `bus` as --bus (PostgreSQL's
 * NOTIFY when absent); with `http`, each serves WebSocket too.
 */
export async function cluster(
  count: number,
  options: { bus?: string; http?: boolean } = {},
): Promise<ServerProcess[]> {
  const url = await (await startPostgres()).createDatabase();
  const args = ["--db", url, "--scrypt-cost", String(TEST_SCRYPT_COST), "--msg-rate", "0"];
  if (options.bus) args.push("--bus", options.bus);
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

/** The ids of the lobby messages pushed to a client, in arrival order, as they come. */
export function received(client: ChatClient): number[] {
  const ids: number[] = [];
  (async () => {
    for await (const event of client.events()) {
      if (event.type === "message" && event.room === "lobby") ids.push(event.id);
    }
  })();
  return ids;
}

/** Waits until `condition` holds, for up to `ms`. */
export async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
