/**
 * Rules for user and room names, shared by the server, the client and the
 * globals.txt loader. Pure.
 * @module
 */

/** Longest user or room name, in characters (after NFC normalisation). */
export const MAX_NAME_LENGTH = 64;

/**
 * Returns why `name` is not a valid user or room name, or `null` when it is.
 * A valid name is 1 to 64 characters, NFC-normalised, of any Unicode
 * except control characters and surrounding white space.
 */
export function nameProblem(name: string): string | null {
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
 * The key under which names count as the same: NFKC-normalised and
 * case-folded, so that `Alice`, `alice` and `ａｌｉｃｅ` cannot all be
 * registered.
 */
export function nameKey(name: string): string {
  return name.normalize("NFKC").toLowerCase().normalize("NFKC");
}
