/**
 * The Claptrap server: `deno task start` or `server.ts [PORT] [MAX_ONLINE]`.
 * Run with `--help` for the flags.
 * @module
 */

import { parseServerArgs, SERVER_USAGE } from "./server/cli.ts";
import { type Globals, parseGlobals } from "./server/globals.ts";
import { StoreError } from "./store/schema.ts";
import { startServer } from "./server/server.ts";

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
  let server;
  try {
    server = await startServer({
      host: options.host,
      port: options.port,
      maxOnline: options.maxOnline,
      db: options.db,
      dbSync: options.dbSync,
      dbMaxBatch: options.dbMaxBatch,
      scryptCost: options.scryptCost,
      globals,
      maxFrameSize: options.maxFrameSize,
      sendQueueBytes: options.sendQueueBytes,
    });
  } catch (error) {
    if (error instanceof StoreError) fail(error.message);
    fail(`cannot listen on ${options.host}:${options.port}: ${(error as Error).message}`);
  }
  const stop = () => server.close();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await server.finished;
  Deno.exit(0);
}

if (import.meta.main) await main(Deno.args);
