/**
 * Whether a message mentions the user, for clients: the server says so of
 * the messages it pushes to a 2.1 session (`mentions`), but not of those
 * read from the history, which clients check themselves. Pure and light:
 * case and width are folded, look-alikes are not (the server's rule,
 * protocol/README.md §16.4, folds those too).
 * @module
 */

const WORD_CHAR = /[\p{L}\p{N}\p{M}]/u;

/** A name folded for comparing: NFKC, lower case. */
function fold(text: string): string {
  return text.normalize("NFKC").toLowerCase();
}

/**
 * Whether `text` has `@user` (at the start or after a character that is no
 * letter, digit or mark, and ending where a name can end), or `mentions`
 * (the names the server said the message mentions) holds `user`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mentionsUser } from "./mention.ts";
 * assert.ok(mentionsUser("hi @ANN, lunch?", "ann"));
 * assert.ok(!mentionsUser("mail ann@example.org", "ann"));
 * assert.ok(!mentionsUser("@annabel", "ann"));
 * assert.ok(mentionsUser("nothing here", "ann", ["Ann"]));
 * ```
 */
export function mentionsUser(text: string, user: string, mentions?: readonly string[]): boolean {
  const name = fold(user);
  if (mentions?.some((mentioned) => fold(mentioned) === name)) return true;
  const folded = fold(text);
  for (let at = folded.indexOf("@"); at >= 0; at = folded.indexOf("@", at + 1)) {
    if (at > 0 && WORD_CHAR.test(folded[at - 1])) continue;
    if (!folded.startsWith(name, at + 1)) continue;
    const next = folded[at + 1 + name.length];
    if (next === undefined || !WORD_CHAR.test(next)) return true;
  }
  return false;
}
