/**
 * The server's command line: `server.ts [PORT] [MAX_ONLINE] [flags]`, read
 * by the option table (`options.ts`). Pure parsing; the entry point does
 * the I/O (reading the TLS files goes through the reader it passes in).
 * @module
 */

import { parseArgs } from "node:util";
import { defaultArgs, integer, optionsUsage, SERVER_OPTIONS, type ServerArgs } from "./options.ts";

export type { ServerArgs };

/** The `--help` text. */
export const SERVER_USAGE = `Usage: server.ts [PORT] [MAX_ONLINE] [options]

Claptrap chat server. PORT and MAX_ONLINE may be given as in the original
(positional) or as flags.

Options:
${optionsUsage()}
`;

/** The flags as `parseArgs` takes them. */
const PARSE_OPTIONS = Object.fromEntries([
  ...SERVER_OPTIONS.map((option) => [
    option.flag,
    { type: option.read ? "string" : "boolean", multiple: option.multiple ?? false },
  ]),
  ["help", { type: "boolean", short: "h" }],
]) as Record<string, { type: "string" | "boolean"; multiple: boolean; short?: string }>;

/**
 * Parses the server's arguments.
 * @throws {TypeError} with a message fit for the user on a bad argument.
 */
export function parseServerArgs(args: string[]): ServerArgs {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: PARSE_OPTIONS,
  });
  if (positionals.length > 2) {
    throw new TypeError(`too many arguments: ${positionals.slice(2).join(" ")}`);
  }
  if (values["no-http"] && values["http-port"] !== undefined) {
    throw new TypeError("--no-http and --http-port contradict each other");
  }
  const parsed = defaultArgs();
  // as in the original: PORT and MAX_ONLINE, unless the flags say otherwise
  const [port, maxOnline] = positionals;
  if (port !== undefined) parsed.port = integer(0, 65535).parse(port, "port");
  if (maxOnline !== undefined) parsed.maxOnline = integer(1).parse(maxOnline, "max-online");
  for (const option of SERVER_OPTIONS) {
    const given = values[option.flag];
    if (given === undefined || given === false) continue;
    if (!option.read) {
      option.set(parsed, true as never);
      continue;
    }
    const texts = Array.isArray(given) ? given : [given];
    for (const text of texts) {
      option.set(parsed, option.read.parse(String(text), option.flag) as never);
    }
  }
  parsed.help = values.help === true;
  if (parsed.tlsCert !== null && parsed.tlsKey === null) {
    throw new TypeError("--tls-cert needs --tls-key");
  }
  if (parsed.tlsKey !== null && parsed.tlsCert === null) {
    throw new TypeError("--tls-key needs --tls-cert");
  }
  return parsed;
}

/**
 * Reads the files of --tls-cert and --tls-key, when given, and checks that
 * they hold PEM of the right kind. (Whether the key fits the certificate
 * shows only when the server starts listening.)
 *
 * @param readTextFile reads a file, e.g. `Deno.readTextFile`
 * @returns the PEM texts, or undefined without --tls-cert
 * @throws {TypeError} naming the flag, when a file cannot be read or holds the wrong thing
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseServerArgs, readTlsFiles } from "./cli.ts";
 * const files: Record<string, string> = {
 *   "cert.pem": "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n",
 *   "key.pem": "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n",
 * };
 * const args = parseServerArgs(["--tls-cert", "cert.pem", "--tls-key", "key.pem"]);
 * const tls = await readTlsFiles(args, (path) => Promise.resolve(files[path]));
 * assert.equal(tls?.cert, files["cert.pem"]);
 * ```
 */
export async function readTlsFiles(
  args: Pick<ServerArgs, "tlsCert" | "tlsKey">,
  readTextFile: (path: string) => Promise<string>,
): Promise<{ cert: string; key: string } | undefined> {
  if (args.tlsCert === null || args.tlsKey === null) return undefined;
  return {
    cert: await readPem("tls-cert", args.tlsCert, CERTIFICATE_PEM, readTextFile),
    key: await readPem("tls-key", args.tlsKey, PRIVATE_KEY_PEM, readTextFile),
  };
}

/** What a PEM file must hold: its name in messages and the first line of its block. */
interface PemKind {
  name: string;
  begins: RegExp;
}

const CERTIFICATE_PEM: PemKind = { name: "a certificate", begins: /-----BEGIN CERTIFICATE-----/ };
const PRIVATE_KEY_PEM: PemKind = {
  name: "a private key",
  begins: /-----BEGIN (RSA |EC )?PRIVATE KEY-----/,
};

async function readPem(
  flag: string,
  path: string,
  kind: PemKind,
  readTextFile: (path: string) => Promise<string>,
): Promise<string> {
  let text;
  try {
    text = await readTextFile(path);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound ? "no such file" : (error as Error).message;
    throw new TypeError(`--${flag}: cannot read ${path}: ${why}`);
  }
  if (!kind.begins.test(text)) {
    throw new TypeError(`--${flag}: ${path} does not hold ${kind.name} in PEM form`);
  }
  return text;
}
