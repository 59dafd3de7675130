/**
 * A poem corpus in the layout of AllSonnets.txt: a title line, then each
 * poem under a heading of its number in Roman numerals (`II.`). Pure
 * parsing; the caller reads the file.
 * @module
 */

/** A parsed corpus. */
export interface Poems {
  /** The corpus title (its first line). */
  title: string;
  /** Poem n is at index n - 1: its heading and its text. */
  poems: { heading: string; text: string }[];
}

const ROMAN: Record<string, number> = { I: 1, V: 5, X: 10, L: 50, C: 100, D: 500, M: 1000 };

/** The value of a Roman numeral, or NaN when it is not one. */
export function romanValue(numeral: string): number {
  if (!/^[IVXLCDM]+$/.test(numeral)) return NaN;
  let total = 0;
  for (let i = 0; i < numeral.length; i++) {
    const value = ROMAN[numeral[i]];
    const next = ROMAN[numeral[i + 1]] ?? 0;
    total += value < next ? -value : value;
  }
  return total;
}

/**
 * Parses a corpus. Headings must count up from I without gaps.
 * @throws {SyntaxError} "FILE:LINE: …" when they do not, or when there is no poem.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePoems } from "./poems.ts";
 * const corpus = parsePoems("Two Poems\n\nI.\n\nRoses are red\n\nII.\n\nViolets are blue\n", "p.txt");
 * assert.equal(corpus.poems[1].text, "Violets are blue");
 * ```
 */
export function parsePoems(text: string, file: string): Poems {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const title = lines.find((line) => line.trim() !== "")?.trim() ?? "";
  const poems: { heading: string; text: string }[] = [];
  let body: string[] = [];
  const finish = () => {
    if (poems.length > 0) poems[poems.length - 1].text = body.join("\n").replace(/^\n+|\s+$/g, "");
    body = [];
  };
  lines.forEach((line, index) => {
    const heading = line.trim().match(/^([IVXLCDM]+)\.$/);
    if (!heading) {
      if (poems.length > 0) body.push(line.trimEnd());
      return;
    }
    const number = romanValue(heading[1]);
    if (number !== poems.length + 1) {
      throw new SyntaxError(
        `${file}:${index + 1}: heading ${heading[0]} should be poem ${poems.length + 1}`,
      );
    }
    finish();
    poems.push({ heading: heading[0], text: "" });
  });
  finish();
  if (poems.length === 0) throw new SyntaxError(`${file}: no poem headings such as "I." found`);
  return { title, poems };
}

/**
 * The poem whose number `number` gives in ASCII digits, or null when the
 * corpus has none of that number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePoems, poemNumbered } from "./poems.ts";
 * const corpus = parsePoems("One Poem\n\nI.\n\nRoses are red\n", "p.txt");
 * assert.equal(poemNumbered(corpus, "1")?.heading, "I.");
 * assert.equal(poemNumbered(corpus, "²"), null);
 * ```
 */
export function poemNumbered(corpus: Poems, number: string): Poems["poems"][number] | null {
  const n = /^\d{1,9}$/.test(number) ? Number(number) : NaN;
  return n >= 1 && n <= corpus.poems.length ? corpus.poems[n - 1] : null;
}
