/**
 * The globals.txt format of the original server: `username password` lines,
 * a blank line, then one room name per line; UTF-8. Pure parsing; the
 * caller reads the file.
 * @module
 */

import { nameProblem } from "../protocol/names.ts";

/** Preset accounts and rooms. */
export interface Globals {
  /** User name → password. */
  accounts: Map<string, string>;
  /** Room names in file order. */
  rooms: string[];
  /** Users marked `admin` (a third field on their line): they may moderate every room. */
  admins?: Set<string>;
}

/** A globals file that cannot be used; the message names file and line. */
export class GlobalsError extends SyntaxError {
  /** Always `GlobalsError`. */
  override name = "GlobalsError";
}

/**
 * Parses the text of a globals file. Names are NFC-normalised; a CR before
 * a newline and a leading byte-order mark are ignored.
 *
 * @param text the file's content, as text or as UTF-8 bytes
 * @param file the file name used in error messages
 * @throws {GlobalsError} "globals.txt:3: …" for a malformed line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseGlobals } from "./globals.ts";
 * const globals = parseGlobals("ann secret\n\nlobby\n", "globals.txt");
 * assert.ok(globals.accounts.get("ann") === "secret" && globals.rooms[0] === "lobby");
 * ```
 */
export function parseGlobals(text: string | Uint8Array, file: string): Globals {
  const lines = typeof text === "string" ? text.split("\n") : decodeLines(text, file);
  lines[0] = lines[0].replace(/^\uFEFF/, "");
  const accounts = new Map<string, string>();
  const rooms: string[] = [];
  const admins = new Set<string>();
  let section: "accounts" | "rooms" = "accounts";
  lines.map((line) => line.replace(/\r$/, "")).forEach((line, index) => {
    const fail = (why: string) => {
      throw new GlobalsError(`${file}:${index + 1}: ${why}`);
    };
    if (line.trim() === "") {
      section = "rooms";
      return;
    }
    if (section === "accounts") {
      const fields = line.trim().split(/[ \t]+/);
      if (fields.length < 2 || fields.length > 3) {
        fail(`expected "username password [admin]", got ${fields.length} fields`);
      }
      if (fields.length === 3) {
        if (fields[2] !== "admin") {
          fail(`third field must be "admin", got ${JSON.stringify(fields[2])}`);
        }
        admins.add(fields[0].normalize("NFC"));
      }
      const [user, password] = [fields[0].normalize("NFC"), fields[1]];
      const problem = nameProblem(user);
      if (problem) fail(`bad user name: ${problem}`);
      if (accounts.has(user)) fail(`user ${JSON.stringify(user)} is listed twice`);
      accounts.set(user, password);
    } else {
      const room = line.normalize("NFC");
      const problem = nameProblem(room);
      if (problem) fail(`bad room name: ${problem}`);
      if (rooms.includes(room)) fail(`room ${JSON.stringify(room)} is listed twice`);
      rooms.push(room);
    }
  });
  return { accounts, rooms, admins };
}

function decodeLines(bytes: Uint8Array, file: string): string[] {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const lines: string[] = [];
  let start = 0;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end === -1) end = bytes.length;
    try {
      lines.push(decoder.decode(bytes.subarray(start, end)));
    } catch {
      throw new GlobalsError(`${file}:${lines.length + 1}: not valid UTF-8`);
    }
    start = end + 1;
  }
  return lines;
}
