/**
 * Mentions: which users a message names after `@`. A name is compared as
 * names are (nameKey: case, width and look-alikes folded), may contain
 * spaces, and ends at the end of the text or before a character that
 * cannot go on a word (not a letter, digit or mark); the longest name that
 * fits wins. Pure.
 * @module
 */

import { MAX_NAME_LENGTH, nameKey } from "../protocol/names.ts";
import { NO_MENTIONS } from "./events.ts";

/** Most `@` of one message looked at: each costs up to a few dozen name lookups. */
export const MAX_MENTION_MARKS = 16;

const WORD_CHAR = /[\p{L}\p{N}\p{M}]/u;

/**
 * The users `text` mentions, each once, in the order first mentioned:
 * `lookup` gives the user whose nameKey is its argument among those who
 * may be mentioned, or undefined. `sender` is never among them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nameKey } from "../protocol/names.ts";
 * import { findMentions } from "./mentions.ts";
 * const users = new Map(["Ann Lee", "bob"].map((name) => [nameKey(name), name]));
 * const lookup = (key: string) => users.get(key);
 * assert.deepEqual(findMentions("@ann lee, ask @BOB.", lookup, "carol"), ["Ann Lee", "bob"]);
 * assert.deepEqual(findMentions("mail ann@bob.example", lookup, "carol"), []);
 * ```
 */
export function findMentions(
  text: string,
  lookup: (key: string) => string | undefined,
  sender: string,
): readonly string[] {
  let found: string[] | null = null;
  let marks = 0;
  for (
    let at = text.indexOf("@");
    at >= 0 && marks < MAX_MENTION_MARKS;
    at = text.indexOf("@", at + 1)
  ) {
    // an @ inside a word (an address) mentions nobody
    if (at > 0 && WORD_CHAR.test(text[at - 1])) continue;
    marks++;
    const user = longestName(text, at + 1, lookup);
    if (user === undefined || user === sender || found?.includes(user)) continue;
    (found ??= []).push(user);
  }
  return found ?? NO_MENTIONS;
}

/** The user whose name starts at `start`, the longest that fits, if any. */
function longestName(
  text: string,
  start: number,
  lookup: (key: string) => string | undefined,
): string | undefined {
  // one character past the longest name, to see where a name of that length would end
  const chars = [...text.slice(start, start + 2 * MAX_NAME_LENGTH + 2)]
    .slice(0, MAX_NAME_LENGTH + 1);
  for (let end = Math.min(chars.length, MAX_NAME_LENGTH); end > 0; end--) {
    if (end < chars.length && WORD_CHAR.test(chars[end])) continue;
    if (/\s/u.test(chars[end - 1])) continue; // no name ends with white space
    const user = lookup(nameKey(chars.slice(0, end).join("")));
    if (user !== undefined) return user;
  }
  return undefined;
}
