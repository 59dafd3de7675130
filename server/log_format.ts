/**
 * The server's log lines. Every part of the server logs one line per event
 * as `event key=value …` (logfmt): a value is a bare word without spaces or
 * quotes, or a JSON string. This module stamps the lines with the time, as
 * text or, with `--log-format json`, as one JSON object per line. Passwords
 * and message bodies are never logged in the first place.
 * @module
 */

/** How log lines are written. */
export type LogFormat = "text" | "json";

/** The log formats, for the command line. */
export const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];

/**
 * One logfmt line as an object: `event`, then each key with its value —
 * JSON strings decoded, bare numbers and booleans as such; words that are
 * not `key=value` go to `text`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseLogLine } from "./log_format.ts";
 * assert.deepEqual(parseLogLine('disconnect session=7 reason="idle timeout" push=false'), {
 *   event: "disconnect", session: 7, reason: "idle timeout", push: false,
 * });
 * ```
 */
export function parseLogLine(line: string): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  const words: string[] = [];
  const token = /\s*([A-Za-z][\w-]*)=("(?:[^"\\]|\\.)*"|\S*)|\s*(\S+)/gy;
  let first = true;
  for (const match of line.matchAll(token)) {
    const [, key, value, word] = match;
    if (first && word !== undefined) fields.event = word;
    else if (key !== undefined) fields[key] = valueOf(value);
    else words.push(word);
    first = false;
  }
  if (words.length > 0) fields.text = words.join(" ");
  return fields;
}

function valueOf(value: string): unknown {
  if (value.startsWith('"')) {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  if (/^-?\d{1,15}(\.\d+)?$/.test(value)) return Number(value);
  if (value === "true" || value === "false") return value === "true";
  return value;
}

/**
 * The TCP port of a written `listening addr=HOST:PORT` line, as text
 * (`TIME listening addr=…`) or as JSON, or null for any other line; for
 * programs that start a server on port 0 and read its log.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listeningPort } from "./log_format.ts";
 * assert.equal(listeningPort("2026-11-23T10:54:12.345Z listening addr=127.0.0.1:40123"), 40123);
 * assert.equal(listeningPort('{"time":"…","event":"listening","addr":"[::1]:7000"}'), 7000);
 * assert.equal(listeningPort("2026-11-23T10:54:12.345Z listening http=127.0.0.1:8080"), null);
 * ```
 */
export function listeningPort(written: string): number | null {
  let fields: Record<string, unknown>;
  try {
    fields = written.startsWith("{")
      ? JSON.parse(written)
      : parseLogLine(written.slice(written.indexOf(" ") + 1));
  } catch {
    return null;
  }
  const port = fields.event === "listening" && typeof fields.addr === "string"
    ? /:(\d{1,5})$/.exec(fields.addr)?.[1]
    : undefined;
  return port === undefined ? null : Number(port);
}

/** A log line as written: the time first, then the line as text or as JSON. */
export function formatLogLine(line: string, format: LogFormat, time: Date): string {
  if (format === "text") return `${time.toISOString()} ${line}`;
  return JSON.stringify({ time: time.toISOString(), ...parseLogLine(line) });
}

/** A logger that writes to stderr in `format`. */
export function stderrLogger(format: LogFormat = "text"): (line: string) => void {
  return (line) => console.error(formatLogLine(line, format, new Date()));
}
