/**
 * A small poem corpus in the layout of AllSonnets.txt, written by the tests
 * themselves so that they run in a fresh clone: a title line, then each poem
 * under its number in Roman numerals (`II.`), the lines after a poem's first
 * indented by one space, poems three blank lines apart.
 * @module
 */

import { parsePoems, type Poems } from "../server/poems.ts";

/** How many poems the corpus holds: enough for three-letter numerals (CLIV). */
export const POEM_COUNT = 154;

/** The second poem, whole, as `parsePoems` returns its text. */
export const SECOND_POEM = [
  "When the kettle sings before the dawn,",
  " And frost writes ferns across the pane,",
  " The cat reclaims the chair I warmed,",
  " And sleeps as if I never came.",
].join("\n");

/** The Roman numeral of a number from 1 to 3999. */
export function romanNumeral(value: number): string {
  const steps: [number, string][] = [
    [1000, "M"],
    [900, "CM"],
    [500, "D"],
    [400, "CD"],
    [100, "C"],
    [90, "XC"],
    [50, "L"],
    [40, "XL"],
    [10, "X"],
    [9, "IX"],
    [5, "V"],
    [4, "IV"],
    [1, "I"],
  ];
  let rest = value;
  let numeral = "";
  for (const [step, letters] of steps) {
    while (rest >= step) {
      numeral += letters;
      rest -= step;
    }
  }
  return numeral;
}

/** The text of poem `n`: the second is {@link SECOND_POEM}, the others say their number. */
function poemText(n: number): string {
  if (n === 2) return SECOND_POEM;
  return [
    `Verse ${n} begins where the last one slept,`,
    ` Counting the hours the lamplight kept;`,
    ` It ends, as every verse must do,`,
    ` With line ${n} of a page or two.`,
  ].join("\n");
}

/** The corpus file's text, with a trailing space on one line as the original has. */
export function poemCorpusText(): string {
  const parts = ["All Verses", "", ""];
  for (let n = 1; n <= POEM_COUNT; n++) {
    parts.push(`${romanNumeral(n)}.`, "", poemText(n) + (n === 3 ? " " : ""), "", "");
  }
  return parts.join("\n") + "\n";
}

/** The corpus, parsed. */
export function testPoems(): Poems {
  return parsePoems(poemCorpusText(), "verses.txt");
}

/** Writes the corpus to a new temporary file and returns its path. */
export async function writePoemCorpus(): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "claptrap-verses-", suffix: ".txt" });
  await Deno.writeTextFile(path, poemCorpusText());
  return path;
}
