/**
 * The confusable skeleton of Unicode Technical Standard #39 (Unicode
 * Security Mechanisms, §4): two strings that look alike, such as `alice`
 * in Latin letters and `аlice` with a Cyrillic `а`, have the same skeleton.
 * Pure.
 *
 * The mapping, `confusables.json` beside this file, is Unicode's
 * `confusables.txt` (version 13.0.0) as the npm package `unhomoglyph` 1.0.6
 * ships it in its `data.json` (a test checks that the two are the same), so
 * that the server needs no package at run time. That data is © 1991–2020
 * Unicode, Inc., distributed under the Unicode License (Unicode Terms of Use,
 * https://www.unicode.org/copyright.html); the package is under the MIT
 * license.
 * @module
 */

import prototypes from "./confusables.json" with { type: "json" };

/** Each confusable character (one code point) and the prototype it looks like. */
const PROTOTYPES: ReadonlyMap<string, string> = new Map(
  Object.entries(prototypes as Record<string, string>),
);

/** Code points that are not displayed: UTS #39 drops them from skeletons. */
const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;

/**
 * The UTS #39 skeleton of `text`: NFD, without default-ignorable code
 * points, each character replaced by its prototype, NFD again. Case
 * counts (`I` becomes `l`, `i` stays `i`); see `nameKey` for names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { skeleton } from "./confusables.ts";
 * assert.equal(skeleton("\u0430lice"), skeleton("alice")); // Cyrillic а
 * assert.equal(skeleton("paypa1"), skeleton("paypal"));
 * assert.equal(skeleton("b\u200bob"), "bob");
 * assert.notEqual(skeleton("bob"), skeleton("rob"));
 * ```
 */
export function skeleton(text: string): string {
  let mapped = "";
  for (const char of text.normalize("NFD").replace(IGNORABLE, "")) {
    mapped += PROTOTYPES.get(char) ?? char;
  }
  return mapped.normalize("NFD");
}
