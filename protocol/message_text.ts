/**
 * What message text may contain: a length bound, and no control
 * characters except tab and line breaks (so that text can never drive a
 * reader's terminal). Shared by the server and clients. Pure.
 * @module
 */

/** Longest message, in characters (code points), unless the server says otherwise. */
export const DEFAULT_MAX_MESSAGE_CHARS = 16 * 1024;

/** C0 and C1 control characters, DEL, except tab, line feed and carriage return. */
// deno-lint-ignore no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

/**
 * Returns why `content` cannot be a message, or null when it can.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { messageProblem } from "./message_text.ts";
 * assert.equal(messageProblem("hello\nworld", 100), null);
 * assert.equal(messageProblem("\u001b[2J", 100), "message contains the control character U+001B");
 * assert.equal(messageProblem("ab", 1), "message is longer than 1 characters");
 * ```
 */
export function messageProblem(content: string, maxChars: number): string | null {
  if (content.length === 0) return "empty message";
  // UTF-16 length bounds the code points from above: count them only when needed
  if (content.length > maxChars && [...content].length > maxChars) {
    return `message is longer than ${maxChars} characters`;
  }
  const forbidden = FORBIDDEN.exec(content);
  if (forbidden) return `message contains the control character ${codePointName(forbidden[0])}`;
  return null;
}

/**
 * How an error names a character: `U+` and its code point in hex.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { codePointName } from "./message_text.ts";
 * assert.equal(codePointName("\u001b"), "U+001B");
 * assert.equal(codePointName("\u{E0041}"), "U+E0041");
 * ```
 */
export function codePointName(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
}
