/**
 * The head of an HTTP/1.x request (RFC 9112 §2–5): the request line and the
 * header fields, parsed strictly from bytes. Pure; no I/O.
 * @module
 */

/** A request that cannot be served; `status` is the 4xx to answer with. */
export class HttpRequestError extends Error {
  /** Always `HttpRequestError`. */
  override name = "HttpRequestError";
  /** The HTTP status to answer with. */
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** A parsed request head. */
export interface RequestHead {
  method: string;
  /** The request target as sent, e.g. `/app.js?v=2`. */
  target: string;
  /** `1.0` or `1.1`. */
  version: "1.0" | "1.1";
  /** The header fields, names in lower case; repeated fields joined with `, `. */
  headers: Map<string, string>;
}

/** Where the head ends in `bytes` (after its blank line), or -1 when it has not ended yet. */
export function headEnd(bytes: Uint8Array, from = 0): number {
  for (let i = Math.max(from, 3); i < bytes.length; i++) {
    if (
      bytes[i] === 0x0a && bytes[i - 1] === 0x0d && bytes[i - 2] === 0x0a && bytes[i - 3] === 0x0d
    ) {
      return i + 1;
    }
  }
  return -1;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Visible ASCII, spaces and tabs, and obs-text (bytes 0x80–0xFF, however decoded). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\uffff]*$/;
const latin1 = new TextDecoder("latin1");

/**
 * Parses a request head: the bytes up to and including its blank line.
 * @throws {HttpRequestError} with status 400 for a malformed head, 505 for
 * another HTTP version.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRequestHead } from "./http_request.ts";
 * const head = parseRequestHead(
 *   new TextEncoder().encode("GET /app.js HTTP/1.1\r\nHost: example\r\nAccept: text/html\r\n\r\n"),
 * );
 * assert.equal(head.target, "/app.js");
 * assert.equal(head.headers.get("host"), "example");
 * ```
 */
export function parseRequestHead(bytes: Uint8Array): RequestHead {
  const lines = latin1.decode(bytes).split("\r\n");
  // a client may send empty lines before the request line (RFC 9112 §2.2)
  while (lines.length > 0 && lines[0] === "") lines.shift();
  const requestLine = lines.shift() ?? "";
  const parts = requestLine.split(" ");
  if (parts.length !== 3 || !TOKEN.test(parts[0]) || parts[1] === "") {
    throw new HttpRequestError(400, "malformed request line");
  }
  const [method, target, protocol] = parts;
  if (protocol !== "HTTP/1.1" && protocol !== "HTTP/1.0") {
    if (!/^HTTP\/\d\.\d$/.test(protocol)) throw new HttpRequestError(400, "malformed request line");
    throw new HttpRequestError(505, `${protocol} is not supported`);
  }
  if (!target.startsWith("/") || /[^\x21-\x7e]/.test(target)) {
    throw new HttpRequestError(400, "malformed request target");
  }
  const headers = new Map<string, string>();
  for (const line of lines) {
    if (line === "") continue; // the blank line that ends the head
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).toLowerCase();
    if (colon <= 0 || !TOKEN.test(name)) throw new HttpRequestError(400, "malformed header field");
    const value = line.slice(colon + 1).trim();
    if (!FIELD_VALUE.test(value)) throw new HttpRequestError(400, "malformed header field");
    const earlier = headers.get(name);
    headers.set(name, earlier === undefined ? value : `${earlier}, ${value}`);
  }
  const version = protocol === "HTTP/1.1" ? "1.1" : "1.0";
  if (version === "1.1" && !headers.has("host")) throw new HttpRequestError(400, "missing Host");
  return { method, target, version, headers };
}

/** Whether a comma-separated header value lists `token` (case-insensitive). */
export function listsToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  return value.split(",").some((item) => item.trim().toLowerCase() === token);
}
