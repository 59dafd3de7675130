/**
 * Turning what a user typed into a search, and marking matches in results.
 * Pure.
 * @module
 */

/** Terms of at least this many characters can use the trigram index. */
export const INDEXED_TERM_LENGTH = 3;
/** How many characters of a term the index looks for; the rest is checked by LIKE. */
export const INDEXED_PREFIX = 12;

/** A parsed search: every term must occur in a message. */
export interface SearchTerms {
  /** Terms the full-text index can find, as one FTS5 MATCH expression; null for none. */
  match: string | null;
  /** Shorter terms, found by a scan: LIKE patterns (escape character `\`). */
  likes: string[];
  /** All terms, for marking matches. */
  terms: string[];
}

/**
 * Splits a query into terms separated by white space or control characters, all of which must match
 * (case-insensitively, anywhere in a message). Quotes and FTS5 operators
 * are taken literally.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSearchQuery } from "./search_query.ts";
 * const query = parseSearchQuery('记者 招待会 "or"');
 * assert.equal(query.match, '"招待会" """or"""');
 * assert.deepEqual(query.likes, ["%记者%"]);
 * ```
 */
export function parseSearchQuery(query: string): SearchTerms {
  // control characters separate terms too: a NUL would end the FTS5 query string early
  const words = query.normalize("NFC").split(/[\s\p{Cc}]+/u);
  const terms = [...new Set(words.filter((t) => t !== ""))];
  const indexed = terms.filter((t) => [...t].length >= INDEXED_TERM_LENGTH);
  // the index finds candidates by a term's first characters; longer terms
  // are then checked whole by LIKE (a long phrase of repeated trigrams over
  // repetitive text cost FTS5 seconds)
  const scanned = terms.filter((t) =>
    [...t].length < INDEXED_TERM_LENGTH || [...t].length > INDEXED_PREFIX
  );
  return {
    match: indexed.length > 0
      ? indexed.map((t) => `"${[...t].slice(0, INDEXED_PREFIX).join("").replaceAll('"', '""')}"`)
        .join(" ")
      : null,
    likes: scanned.map((t) => `%${t.replace(/[\\%_]/g, (c) => "\\" + c)}%`),
    terms,
  };
}

/**
 * An excerpt of `content` around the first match of any term, at most about
 * `width` characters, with every match between `[` and `]`, and `…` where
 * text was cut.
 */
export function markMatches(content: string, terms: readonly string[], width = 80): string {
  // lower-casing can change the length of a few characters; then match exactly
  const folded = content.toLowerCase();
  const lower = folded.length === content.length ? folded : content;
  const needles = terms.map((t) => t.toLowerCase()).filter((t) => t !== "");
  const first = Math.min(...needles.map((n) => lower.indexOf(n)).filter((i) => i >= 0));
  let start = Number.isFinite(first) ? Math.max(0, first - Math.floor(width / 3)) : 0;
  let end = Math.min(content.length, start + width);
  // never cut a surrogate pair (an emoji, say) in half
  if (isLowSurrogate(content.charCodeAt(start))) start--;
  if (isLowSurrogate(content.charCodeAt(end))) end++;
  let marked = "";
  let i = start;
  while (i < end) {
    const needle = needles.find((n) => lower.startsWith(n, i));
    if (needle) {
      marked += `[${content.slice(i, i + needle.length)}]`;
      i += needle.length;
    } else {
      marked += content[i++];
    }
  }
  return (start > 0 ? "…" : "") + marked + (i < content.length ? "…" : "");
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
