/**
 * The little of IRC (RFC 2812) the load generator needs: parsing a line
 * into prefix, command and parameters, and finding the text of a relayed
 * PRIVMSG without decoding the line. Pure: no I/O.
 * @module
 */

/** One IRC message. */
export interface IrcMessage {
  /** The origin without its leading `:`, or "" when absent. */
  prefix: string;
  /** The command or three-digit numeric, e.g. `PRIVMSG` or `001`. */
  command: string;
  /** The parameters; the trailing one (after ` :`) is the last, spaces kept. */
  params: string[];
}

/**
 * Parses one IRC line (without CR LF).
 * @throws {SyntaxError} when the line has no command.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseIrcLine } from "./irc.ts";
 * const message = parseIrcLine(":u1!~u1@127.0.0.1 PRIVMSG #r0 :hello there");
 * assert.deepEqual(message, {
 *   prefix: "u1!~u1@127.0.0.1",
 *   command: "PRIVMSG",
 *   params: ["#r0", "hello there"],
 * });
 * ```
 */
export function parseIrcLine(line: string): IrcMessage {
  let rest = line;
  let prefix = "";
  if (rest.startsWith(":")) {
    const space = rest.indexOf(" ");
    if (space === -1) throw new SyntaxError(`Cannot parse IRC line: no command in ${quote(line)}`);
    prefix = rest.slice(1, space);
    rest = rest.slice(space + 1);
  }
  rest = rest.replace(/^ +/, "");
  const params: string[] = [];
  let trailing: string | undefined;
  const colon = rest.startsWith(":") ? 0 : rest.indexOf(" :");
  if (colon !== -1) {
    trailing = rest.slice(colon === 0 ? 1 : colon + 2);
    rest = rest.slice(0, colon);
  }
  const words = rest.split(" ").filter((word) => word !== "");
  const command = words.shift();
  if (command === undefined) {
    throw new SyntaxError(`Cannot parse IRC line: no command in ${quote(line)}`);
  }
  params.push(...words);
  if (trailing !== undefined) params.push(trailing);
  return { prefix, command: command.toUpperCase(), params };
}

const SPACE = 0x20;
const COLON = 0x3a;
const PRIVMSG = new TextEncoder().encode("PRIVMSG ");

/**
 * Where the text of a relayed PRIVMSG starts within `line[start..end)`
 * (`:prefix PRIVMSG target :text`), or -1 when the line is something else.
 * Looks at bytes only: this is the load generator's hot path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { privmsgTextOffset } from "./irc.ts";
 * const line = new TextEncoder().encode(":u1!~u1@h PRIVMSG #r0 :T0000000042x");
 * assert.equal(privmsgTextOffset(line, 0, line.length), 23);
 * const ping = new TextEncoder().encode("PING :x");
 * assert.equal(privmsgTextOffset(ping, 0, ping.length), -1);
 * ```
 */
export function privmsgTextOffset(line: Uint8Array, start: number, end: number): number {
  if (line[start] !== COLON) return -1;
  const space = line.indexOf(SPACE, start);
  if (space === -1 || space + PRIVMSG.length >= end) return -1;
  for (let i = 0; i < PRIVMSG.length; i++) {
    if (line[space + 1 + i] !== PRIVMSG[i]) return -1;
  }
  const colon = line.indexOf(COLON, space + 1 + PRIVMSG.length);
  if (colon === -1 || colon >= end || line[colon - 1] !== SPACE) return -1;
  return colon + 1;
}

/** Whether an IRC numeric reply is an error (400–599). */
export function isErrorNumeric(command: string): boolean {
  return /^[45]\d\d$/.test(command);
}

function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? text.slice(0, 60) + "…" : text);
}
