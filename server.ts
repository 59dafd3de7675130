/**
 * The Claptrap server: `deno task start` or `server.ts [PORT] [MAX_ONLINE]`.
 * Run with `--help` for the flags.
 * @module
 */

import { parseServerArgs, SERVER_USAGE } from "./server/cli.ts";
import { parseGlobals } from "./server/globals.ts";
import { startServer } from "./server/server.ts";

function fail(message: string): never {
  console.error(`claptrap: ${message}`);
  Deno.exit(2);
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
  let globals;
  try {
    globals = parseGlobals(await Deno.readFile(options.globals), options.globals);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? `cannot read ${options.globals}: no such file`
      : (error as Error).message;
    fail(reason);
  }
  let server;
  try {
    server = startServer({
      host: options.host,
      port: options.port,
      maxOnline: options.maxOnline,
      accounts: globals.accounts,
      rooms: globals.rooms,
      maxFrameSize: options.maxFrameSize,
      sendQueueBytes: options.sendQueueBytes,
    });
  } catch (error) {
    fail(`cannot listen on ${options.host}:${options.port}: ${(error as Error).message}`);
  }
  const stop = () => server.close();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await server.finished;
  Deno.exit(0);
}

if (import.meta.main) await main(Deno.args);
