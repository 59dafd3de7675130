/**
 * The sample accounts of the globals.txt that comes with Claptrap, whose
 * passwords anyone can read in the repository, and the rule that keeps them
 * off the network: a server that listens on an address other machines can
 * reach refuses to start while globals.txt still gives an account its
 * sample password (unless told otherwise).
 * @module
 */

/** The accounts of the shipped globals.txt with their published passwords. */
export const SAMPLE_ACCOUNTS: ReadonlyMap<string, string> = new Map([
  ["alice", "alice123"],
  ["bob", "bob123"],
  ["carol", "carol123"],
  ["dave", "dave123"],
  ["江主席", "excited"],
  ["记者", "hongkong"],
]);

/**
 * Whether `host` is a loopback address (or `localhost`): only this machine
 * can connect to a server listening there.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLoopback } from "./sample_accounts.ts";
 * assert.ok(isLoopback("127.0.0.1") && isLoopback("::1") && isLoopback("localhost"));
 * assert.ok(!isLoopback("0.0.0.0") && !isLoopback("::") && !isLoopback("192.168.1.5"));
 * ```
 */
export function isLoopback(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return name === "localhost" || name === "::1" || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(name);
}

/** The names among `accounts` (name → password) that have their sample password. */
export function samplePasswordsIn(accounts: ReadonlyMap<string, string>): string[] {
  return [...accounts].filter(([name, password]) => SAMPLE_ACCOUNTS.get(name) === password)
    .map(([name]) => name);
}

/** The server would serve accounts with published passwords to the network. */
export class SamplePasswordsError extends Error {
  /** Always `SamplePasswordsError`. */
  override name = "SamplePasswordsError";

  /** Says which accounts keep their sample password and what to do. */
  constructor(host: string, names: readonly string[]) {
    super(
      `refusing to listen on ${host}, which other machines can reach, while globals.txt gives ` +
        `${names.join(", ")} the sample passwords anyone can read in the repository: change ` +
        "or remove those lines, listen on 127.0.0.1, or pass --allow-sample-passwords",
    );
  }
}
