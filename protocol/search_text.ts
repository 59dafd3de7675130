/**
 * The words of a SEARCH query and the matches marked in its snippets
 * (protocol/README.md SEARCH and §9.6), read the same way by every client.
 * Pure.
 * @module
 */

/**
 * The terms of a SEARCH `Query`: NFC-normalised, split at white space and
 * control characters (a NUL would end an FTS5 query string early). The one
 * rule, for the server (which bounds a query by its words and searches for
 * them) and for clients (which mark them).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { searchTerms } from "./search_text.ts";
 * assert.deepEqual(searchTerms("  quick\tfox\u0000quick "), ["quick", "fox", "quick"]);
 * ```
 */
export function searchTerms(query: string): string[] {
  return query.normalize("NFC").split(/[\s\p{Cc}]+/u).filter((word) => word !== "");
}

/** A piece of a search snippet: plain text or a match of the query. */
export interface SnippetPart {
  /** The text, without the brackets that marked a match. */
  text: string;
  /** Whether it is a match of one of the query's terms. */
  match: boolean;
}

/**
 * Splits a search snippet into plain text and the matches the server put
 * between `[` and `]`. Only a bracketed term of `query` (ignoring case)
 * counts as a match, so brackets typed in a message stay text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitSnippet } from "./search_text.ts";
 * const parts = splitSnippet("[x] the [Quick] fox", "quick");
 * assert.deepEqual(parts.map((p) => p.match), [false, true, false]);
 * assert.ok(parts[1].text === "Quick");
 * ```
 */
export function splitSnippet(snippet: string, query: string): SnippetPart[] {
  const terms = searchTerms(query).map((term) => term.toLowerCase())
    .sort((a, b) => b.length - a.length);
  const parts: SnippetPart[] = [];
  let plain = "";
  let i = 0;
  while (i < snippet.length) {
    const term = snippet[i] !== "["
      ? undefined
      : terms.find((t) =>
        snippet[i + 1 + t.length] === "]" &&
        snippet.slice(i + 1, i + 1 + t.length).toLowerCase() === t
      );
    if (term === undefined) {
      plain += snippet[i++];
      continue;
    }
    if (plain !== "") parts.push({ text: plain, match: false });
    plain = "";
    parts.push({ text: snippet.slice(i + 1, i + 1 + term.length), match: true });
    i += term.length + 2;
  }
  if (plain !== "") parts.push({ text: plain, match: false });
  return parts;
}
