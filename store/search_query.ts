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
  /**
   * The trigrams of the terms the full-text index can find, as one FTS5
   * MATCH expression that all of them must meet; null for none. The index
   * keeps no positions, so a message with all of a term's trigrams is only
   * a candidate: `likes` and `folded` check the term itself.
   */
  match: string | null;
  /**
   * LIKE patterns (escape character `\`): of terms too short for the index,
   * found by a scan, and of the ASCII terms the index only narrows down.
   */
  likes: string[];
  /** Lower-cased non-ASCII terms the index only narrows down (LIKE folds ASCII only). */
  folded: string[];
  /** All terms, for marking matches. */
  terms: string[];
}

/**
 * The search for the words of a query (`searchTerms` of `protocol/search_text.ts`), all of
 * which must match (case-insensitively, anywhere in a message). Quotes and
 * FTS5 operators are taken literally.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSearchQuery } from "./search_query.ts";
 * const query = parseSearchQuery(["记者", "招待会", '"or"']);
 * assert.equal(query.match, '"招待会" """or" "or"""');
 * assert.deepEqual(query.likes, ["%记者%", '%"or"%']);
 * ```
 */
export function parseSearchQuery(words: readonly string[]): SearchTerms {
  const terms = [...new Set(words)];
  const trigrams = new Set<string>();
  const likes: string[] = [];
  const folded: string[] = [];
  for (const term of terms) {
    const chars = [...term];
    if (chars.length < INDEXED_TERM_LENGTH) {
      likes.push(likePattern(term));
      continue;
    }
    // the index finds candidates by a term's first characters (many
    // trigrams of a long term cost FTS5 more than checking the term)
    const indexed = Math.min(chars.length, INDEXED_PREFIX);
    for (let i = 0; i + INDEXED_TERM_LENGTH <= indexed; i++) {
      trigrams.add(chars.slice(i, i + INDEXED_TERM_LENGTH).join(""));
    }
    if (chars.length === INDEXED_TERM_LENGTH) continue; // its one trigram is the term
    if (isAscii(term)) likes.push(likePattern(term));
    else folded.push(term.toLowerCase());
  }
  return {
    match: trigrams.size > 0
      ? [...trigrams].map((t) => `"${t.replaceAll('"', '""')}"`).join(" ")
      : null,
    likes,
    folded,
    terms,
  };
}

/** Whether `content` contains `lowerCaseTerm`, ignoring case. */
export function containsFolded(content: string, lowerCaseTerm: string): boolean {
  return content.toLowerCase().includes(lowerCaseTerm);
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** A LIKE pattern (escape character `\`) that matches text containing `term`. */
export function likePattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => "\\" + c)}%`;
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
