/**
 * Content formats: the newline-separated name lists of RESP_LIST_ROOMS and
 * RESP_LIST_MEMBERS, and the `From\tTime\tContent` lines of NEW_MSG. Pure.
 * @module
 */

/** One chat message as listed in NEW_MSG. */
export interface MessageLine {
  /** The sender's user name. */
  from: string;
  /** When the server accepted it: ISO 8601 UTC, e.g. `2026-11-23T09:10:32.123Z`. */
  time: string;
  /** The text, any Unicode, tabs and newlines included. */
  content: string;
}

const ESCAPES: Record<string, string> = {
  "\\": "\\\\",
  "\n": "\\n",
  "\t": "\\t",
  "\r": "\\r",
};
const UNESCAPES: Record<string, string> = { "\\": "\\", n: "\n", t: "\t", r: "\r" };

/**
 * Escapes a field of a NEW_MSG line so that it holds no tab, newline or CR:
 * `\` becomes `\\`, newline `\n`, tab `\t`, carriage return `\r`.
 */
export function escapeField(text: string): string {
  return /[\\\n\t\r]/.test(text) ? text.replace(/[\\\n\t\r]/g, (c) => ESCAPES[c]) : text;
}

/** Reverses {@link escapeField}; an unknown escape keeps its character. */
export function unescapeField(text: string): string {
  return text.includes("\\") ? text.replace(/\\(.)/gs, (_, c: string) => UNESCAPES[c] ?? c) : text;
}

/**
 * Formats rows of fields as lines: fields escaped with {@link escapeField}
 * and joined by tabs, each row ending with a newline.
 */
export function formatRows(rows: readonly (readonly string[])[]): string {
  let text = "";
  for (const row of rows) text += row.map(escapeField).join("\t") + "\n";
  return text;
}

/**
 * Parses lines of `fields` tab-separated, escaped fields.
 * @throws {SyntaxError} for a line with another number of fields.
 */
export function parseRows(text: string, fields: number): string[][] {
  return splitLines(text).map((line) => {
    const row = line.split("\t");
    if (row.length !== fields) {
      throw new SyntaxError(
        `Cannot parse line: expected ${fields} tab-separated fields, got ${row.length}`,
      );
    }
    return row.map(unescapeField);
  });
}

/**
 * Formats NEW_MSG content: one `From\tTime\tContent\n` line per message,
 * each field escaped with {@link escapeField}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatMessageLines } from "./content.ts";
 * const text = formatMessageLines([{ from: "ann", time: "2026-01-01T00:00:00.000Z", content: "a\tb" }]);
 * assert.ok(text === "ann\t2026-01-01T00:00:00.000Z\ta\\tb\n");
 * ```
 */
export function formatMessageLines(messages: readonly MessageLine[]): string {
  return formatRows(messages.map((m) => [m.from, m.time, m.content]));
}

/**
 * Parses NEW_MSG content back into messages.
 * @throws {SyntaxError} for a line without three tab-separated fields.
 */
export function parseMessageLines(text: string): MessageLine[] {
  return parseRows(text, 3).map(([from, time, content]) => ({ from, time, content }));
}

/** Formats a name list: each name followed by a newline. */
export function formatNameList(names: Iterable<string>): string {
  let text = "";
  for (const name of names) text += name + "\n";
  return text;
}

/** Parses a name list (a missing final newline is tolerated). */
export function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** Formats the `Member-Counts` parameter of RESP_LIST_ROOMS: `3,0,1`. */
export function formatCounts(counts: readonly number[]): string {
  return counts.join(",");
}

/** Parses the `Member-Counts` parameter; an absent one gives an empty list. */
export function parseCounts(value: string | undefined): number[] {
  if (!value) return [];
  return value.split(",").map((n) => {
    if (!/^\d+$/.test(n)) throw new SyntaxError(`Cannot parse Member-Counts: ${JSON.stringify(n)}`);
    return Number(n);
  });
}
