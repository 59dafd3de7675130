/**
 * Rules for user and room names, shared by the server, the client and the
 * globals.txt loader: what a name may contain, when two names count as the
 * same, and the name of two users' direct conversation. Pure.
 * @module
 */

import { skeleton } from "./confusables.ts";
import { codePointName } from "./message_text.ts";

/** Longest user or room name, in characters (after NFC normalisation). */
export const MAX_NAME_LENGTH = 64;

/** Bidirectional controls: they reorder the text around them (U+202E shows `cba` for `abc`). */
const BIDI_CONTROL = /\p{Bidi_Control}/u;
/** Tag characters: invisible, and able to carry hidden ASCII text. */
const TAG = /[\u{E0000}-\u{E007F}]/u;
/**
 * Characters that show nothing: default-ignorable code points (zero-width
 * spaces and joiners, fillers such as U+3164, variation selectors, …) and
 * the blank U+2800.
 */
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\u2800]/u;

/**
 * Returns why `name` breaks the rules of form that every stored name
 * meets, or null: 1 to 64 characters, NFC-normalised, no control
 * characters, no surrounding white space. Names stored before the rules
 * of {@link nameProblem} on invisible characters may break those, but
 * not these.
 */
export function nameFormProblem(name: string): string | null {
  if (name.length === 0) return "name is empty";
  if ([...name].length > MAX_NAME_LENGTH) {
    return `name is longer than ${MAX_NAME_LENGTH} characters`;
  }
  if (/\p{Cc}|\p{Cs}|[\u2028\u2029]/u.test(name)) {
    return "name contains a control character";
  }
  if (name.trim() !== name) return "name starts or ends with white space";
  if (name.normalize("NFC") !== name) return "name is not NFC-normalised";
  return null;
}

/**
 * Returns why `name` is not a valid new user or room name, or `null` when
 * it is. A valid name meets {@link nameFormProblem}'s rules and has no
 * bidirectional control, tag or other invisible character, so that what
 * it shows is what it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nameProblem } from "./names.ts";
 * assert.equal(nameProblem("香港记者招待会"), null);
 * assert.equal(nameProblem("bob\u200b"), "name contains an invisible character (U+200B)");
 * ```
 */
export function nameProblem(name: string): string | null {
  const formProblem = nameFormProblem(name);
  if (formProblem) return formProblem;
  const bidi = BIDI_CONTROL.exec(name);
  if (bidi) return `name contains a bidirectional control character (${codePointName(bidi[0])})`;
  const tag = TAG.exec(name);
  if (tag) return `name contains a tag character (${codePointName(tag[0])})`;
  const invisible = INVISIBLE.exec(name);
  if (invisible) return `name contains an invisible character (${codePointName(invisible[0])})`;
  return null;
}

/**
 * Names the rules of {@link nameKey} and {@link nameSkeleton}: a store
 * that kept keys made under other rules makes them anew. Change it with
 * the rules (or the confusables data).
 */
export const NAME_KEY_RULES = "nfkc-lower/uts39-skeleton/confusables-13.0.0";

/** NFKC-normalised and lower-cased: `Alice`, `alice` and `ａｌｉｃｅ` fold alike. */
function fold(name: string): string {
  return name.normalize("NFKC").toLowerCase().normalize("NFKC");
}

/**
 * The key under which names count as the same up to case, width and
 * look-alike characters: the folded (NFKC, lower case) UTS #39 skeleton of
 * the folded name. So `Alice`, `alice`, `ａｌｉｃｅ`, `аlice` (Cyrillic а)
 * and `al\u200bice` share one key. Two names count as the same (an
 * account or room of one takes the other) when their keys or their
 * {@link nameSkeleton}s are equal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nameKey } from "./names.ts";
 * assert.equal(nameKey("ALICE"), nameKey("\u0430lice"));
 * assert.notEqual(nameKey("alice"), nameKey("alina"));
 * ```
 */
export function nameKey(name: string): string {
  return fold(skeleton(fold(name)));
}

/**
 * The UTS #39 skeleton of a name, case kept: it catches look-alikes that
 * folding case first hides, such as a capital `I` for a small `l`
 * (`Ian` and `lan`), which {@link nameKey} reads as `ian`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nameKey, nameSkeleton } from "./names.ts";
 * assert.equal(nameSkeleton("Ian"), nameSkeleton("lan"));
 * assert.notEqual(nameKey("Ian"), nameKey("lan"));
 * assert.notEqual(nameSkeleton("ian"), nameSkeleton("lan"));
 * ```
 */
export function nameSkeleton(name: string): string {
  return skeleton(name.normalize("NFKC"));
}

/**
 * The keys under which a name counts as taken by another: `k:` and its
 * {@link nameKey}, `s:` and its {@link nameSkeleton}. Two names count as
 * the same when they share a key.
 */
export function likenessKeys(name: string): [string, string] {
  return [`k:${nameKey(name)}`, `s:${nameSkeleton(name)}`];
}
