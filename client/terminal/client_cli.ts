/**
 * The terminal client's command line:
 * `client.ts [--host HOST] [--port PORT] [--tls] [--ca FILE] [--user NAME] [--password PW]
 * [--register] [--no-push] [--no-reconnect] [--no-bell]`.
 * Pure parsing; the entry point does the I/O.
 * @module
 */

import { parseArgs } from "node:util";

/** What the command line asks for. */
export interface ClientArgs {
  /** Server host. */
  host: string;
  /** Server port. */
  port: number;
  /** Connect over TLS (set by --tls and by --ca; absent for plain TCP). */
  tls?: true;
  /** A PEM file of certificates to trust besides the system's, when given. */
  ca?: string;
  /** User name, when given (otherwise the client asks for it). */
  user?: string;
  /** Password, when given (otherwise the client asks for it). */
  password?: string;
  /** Whether to create the account (REGISTER) before logging in. */
  register: boolean;
  /** Whether the server should push messages and notices (false: poll). */
  push: boolean;
  /** Whether to connect again after losing the connection (false: exit). */
  reconnect: boolean;
  /** Whether a message that mentions the user rings the terminal bell (at a terminal). */
  bell: boolean;
  /** Whether to show the help and exit. */
  help: boolean;
}

/** The `--help` text. */
export const CLIENT_USAGE = `Usage: client.ts [options]

Claptrap terminal client; speaks protocol 2.1 (several rooms at once, unread
counts, mentions). Asks for the user name and password when they are
not given (and reads them as the first two lines of stdin when it is not a
terminal). When a login fails at a terminal, it asks for the password again
(three tries) and offers once to register the name as a new user. Type /help
once logged in for the commands.

Options:
  --host HOST      server address (default 127.0.0.1)
  --port PORT      server port (default 6666)
  --tls            connect over TLS
  --ca FILE        trust the certificate(s) in FILE (PEM), e.g. the server's
                   self-signed one; implies --tls
  --user NAME      log in as NAME
  --password PW    password (visible to other local users, and printed by
                   deno task: prefer the prompt, or stdin when piped)
  --register       create the account NAME first (at a terminal: tells the
                   password rules, asks for the password twice, and again
                   if the server refuses it)
  --no-push        poll for messages instead of having them pushed
  --no-reconnect   exit when the connection is lost (by default the client
                   connects again, keeping the room: at a keyboard until you
                   quit, from a script for about 45 s)
  --no-bell        do not ring the terminal bell when a message mentions you
  -h, --help       show this help
`;

/**
 * Parses the client's arguments.
 * @throws {TypeError} with a message fit for the user on a bad argument.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseClientArgs } from "./client_cli.ts";
 * const args = parseClientArgs(["--port", "7000", "--user", "ann"]);
 * assert.ok(args.port === 7000 && args.user === "ann" && args.push && !args.register);
 * ```
 */
export function parseClientArgs(args: string[]): ClientArgs {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "6666" },
      tls: { type: "boolean", default: false },
      ca: { type: "string" },
      user: { type: "string" },
      password: { type: "string" },
      register: { type: "boolean", default: false },
      "no-push": { type: "boolean", default: false },
      "no-reconnect": { type: "boolean", default: false },
      "no-bell": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (positionals.length > 0) {
    throw new TypeError(`unexpected argument: ${positionals.join(" ")}`);
  }
  if (values.host === "") throw new TypeError("--host must not be empty");
  if (values.ca === "") throw new TypeError("--ca must name a file");
  return {
    host: values.host,
    port: port(values.port),
    ...(values.tls || values.ca !== undefined ? { tls: true as const } : {}),
    ...(values.ca !== undefined ? { ca: values.ca } : {}),
    ...(values.user !== undefined ? { user: values.user } : {}),
    ...(values.password !== undefined ? { password: values.password } : {}),
    register: values.register,
    push: !values["no-push"],
    reconnect: !values["no-reconnect"],
    bell: !values["no-bell"],
    help: values.help,
  };
}

function port(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw new TypeError(
      `--port must be a whole number from 1 to 65535, got ${JSON.stringify(text)}`,
    );
  }
  return Number(text);
}
