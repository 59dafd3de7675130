/**
 * The HTTP side of the server: the web client's files and the WebSocket
 * endpoint `/ws`, a small HTTP/1.1 server of our own over the connections
 * the HTTP listener accepts (plain or TLS). Each request head is bounded in
 * bytes and in time; only GET and HEAD are served, and no request body is
 * read. A WebSocket upgrade is accepted only from a page of the server's
 * own origin or of an allowed origin, at a host name the server serves
 * (no DNS rebinding); each socket becomes a WebSocket connection, made by
 * the WebSocket adapter, on the same chat core as TCP.
 * @module
 */

import { headEnd, HttpRequestError, listsToken, parseRequestHead } from "./http_request.ts";
import type { RequestHead } from "./http_request.ts";
import { type StaticFiles, textResponse } from "./static_files.ts";
import type { ServedConnection } from "../connection/connection.ts";
import type { LivenessRules } from "../connection/liveness.ts";
import { closeQuietly, remoteAddress } from "../connection/socket.ts";
import { acceptKey } from "./websocket_frames.ts";

/** The path of the WebSocket endpoint. */
export const WEBSOCKET_PATH = "/ws";

/** How long a request head may take to arrive, unless told otherwise, in ms. */
export const DEFAULT_HEADER_TIMEOUT_MS = 10_000;
/** The most bytes of a request head (request line and header fields), unless told otherwise. */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;

/** Settings of an {@link HttpServer}. */
export interface HttpServerOptions {
  /** Makes the connection of an accepted WebSocket upgrade, from the client at `address`. */
  websocket: (conn: Deno.Conn, address: string) => ServedConnection;
  /** How long a closing connection may take to flush, in milliseconds. */
  closeGraceMs: number;
  /** Origins, besides the server's own, whose pages may open a WebSocket. */
  allowOrigins: readonly string[];
  /**
   * Host names, besides IP addresses, `localhost` and the hosts of
   * `allowOrigins`, under which the server's own pages may open a WebSocket.
   */
  allowHosts: readonly string[];
  /** The web client's files. */
  files: StaticFiles;
  /** Receives one line per significant event. */
  log: (line: string) => void;
  /** How long a request head may take, from the first byte awaited, in ms. */
  headerTimeoutMs?: number;
  /** The most bytes of a request head. */
  maxHeaderBytes?: number;
}

/** The HTTP port could not be listened on; the message says where and why. */
export class HttpListenError extends Error {
  /** Always `HttpListenError`. */
  override name = "HttpListenError";
}

/**
 * Whether a WebSocket upgrade with this `Origin` may proceed. A request
 * without `Origin` does not come from a browser page and is let through
 * (any program can open a TCP connection anyway); a browser always sends
 * it, so pages of other sites are refused unless listed.
 *
 * @param host the request's `Host` header
 * @param allowOrigins origins allowed besides the server's own, e.g. `https://chat.example.com`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { originAllowed } from "./http_server.ts";
 * assert.ok(originAllowed("http://127.0.0.1:8080", "127.0.0.1:8080", []));
 * assert.ok(!originAllowed("https://evil.example", "127.0.0.1:8080", []));
 * assert.ok(originAllowed("https://chat.example", "10.0.0.5:8080", ["https://chat.example"]));
 * ```
 */
export function originAllowed(
  origin: string | null,
  host: string | null,
  allowOrigins: readonly string[],
): boolean {
  if (origin === null) return true;
  if (allowOrigins.includes(origin)) return true;
  if (host === null) return false;
  try {
    const url = new URL(origin);
    if (url.protocol !== "http:" && url.protocol !== "https:") return false;
    return url.host === new URL(`${url.protocol}//${host}`).host;
  } catch {
    return false; // "null", or a Host that is not a host
  }
}

/**
 * Whether the `Host` of a request names the server: an IP address,
 * `localhost`, or one of `names`. A page whose own name was made to point
 * at the server (DNS rebinding) passes the origin check, as its `Origin`
 * and `Host` agree, but names a host the server does not serve.
 *
 * @param names host names served besides addresses and `localhost`, in lower case
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hostServed } from "./http_server.ts";
 * assert.ok(hostServed("127.0.0.1:8080", new Set()));
 * assert.ok(hostServed("[::1]:8080", new Set()));
 * assert.ok(hostServed("localhost:8080", new Set()));
 * assert.ok(!hostServed("evil.example:8080", new Set()));
 * assert.ok(hostServed("Chat.Example", new Set(["chat.example"])));
 * ```
 */
export function hostServed(host: string | null, names: ReadonlySet<string>): boolean {
  if (host === null) return false;
  let hostname;
  try {
    hostname = new URL(`http://${host}`).hostname;
  } catch {
    return false;
  }
  if (hostname.endsWith(".")) hostname = hostname.slice(0, -1);
  return hostname.startsWith("[") || /^\d+\.\d+\.\d+\.\d+$/.test(hostname) ||
    hostname === "localhost" || names.has(hostname);
}

/** Reason phrases of the statuses the server sends. */
const REASONS: Readonly<Record<number, string>> = {
  101: "Switching Protocols",
  200: "OK",
  304: "Not Modified",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Content Too Large",
  426: "Upgrade Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

const encoder = new TextEncoder();

/** The bytes of a response's status line and header fields, ending with the blank line. */
function responseHead(status: number, headers: Iterable<[string, string]>): Uint8Array {
  let head = `HTTP/1.1 ${status} ${REASONS[status] ?? "Unknown"}\r\n`;
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
  return encoder.encode(head + "\r\n");
}

/** Writes all of `bytes`. */
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

/**
 * Closes a connection after what was written reaches the client: shuts the
 * sending side, then reads and drops what the client still sends until it
 * closes too or `graceMs` pass. Closing with unread bytes would reset the
 * connection, and the client could lose the answer.
 */
async function closeGently(conn: Deno.Conn, graceMs: number): Promise<void> {
  const timer = setTimeout(() => closeQuietly(conn), graceMs);
  try {
    await conn.closeWrite();
    const sink = new Uint8Array(4096);
    while (await conn.read(sink) !== null) {
      // dropped
    }
  } catch {
    // closed by the timer, or by the client
  } finally {
    clearTimeout(timer);
    closeQuietly(conn);
  }
}

/**
 * Writes `response` (saying that the connection closes), then closes the
 * connection gently.
 * @param head whether the request was HEAD: the body is not sent
 */
async function answerAndClose(
  conn: Deno.Conn,
  response: Response,
  head: boolean,
  graceMs: number,
): Promise<void> {
  try {
    await writeAll(conn, await serialize(response, head, true));
  } catch {
    closeQuietly(conn); // the client is gone
    return;
  }
  await closeGently(conn, graceMs);
}

/**
 * Answers a connection refused at accept with a short plain-text response,
 * then closes it.
 * @param status 429 for the per-address cap, 503 for the total cap
 */
export function refuseHttp(
  conn: Deno.Conn,
  status: number,
  reason: string,
  graceMs: number,
): Promise<void> {
  return answerAndClose(conn, textResponse(status, reason), false, graceMs);
}

/** A response as bytes; without its body for HEAD. */
async function serialize(response: Response, head: boolean, close: boolean): Promise<Uint8Array> {
  const body = response.body === null ? null : new Uint8Array(await response.arrayBuffer());
  const headers = [...response.headers];
  if (body !== null) headers.push(["content-length", String(body.length)]);
  if (close) headers.push(["connection", "close"]);
  const bytes = responseHead(response.status, headers);
  if (body === null || head || body.length === 0) return bytes;
  const all = new Uint8Array(bytes.length + body.length);
  all.set(bytes);
  all.set(body, bytes.length);
  return all;
}

/** What one HTTP connection is doing, for shutdown. */
interface Served {
  conn: Deno.Conn;
  websocket: ServedConnection | null;
}

/** Serves HTTP on the connections it is given; also their WebSockets. */
export class HttpServer {
  readonly #options: HttpServerOptions;
  readonly #headerTimeoutMs: number;
  readonly #maxHeaderBytes: number;
  readonly #hosts: ReadonlySet<string>;
  readonly #served = new Map<Served, Promise<void>>();
  #closing = false;

  constructor(options: HttpServerOptions) {
    this.#options = options;
    this.#headerTimeoutMs = options.headerTimeoutMs ?? DEFAULT_HEADER_TIMEOUT_MS;
    this.#maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
    const hosts = new Set(options.allowHosts.map((name) => name.toLowerCase()));
    for (const origin of options.allowOrigins) hosts.add(new URL(origin).hostname);
    this.#hosts = hosts;
  }

  /** Serves one accepted connection until it ends (as HTTP, then perhaps as a WebSocket). */
  serve(conn: Deno.Conn): Promise<void> {
    const served: Served = { conn, websocket: null };
    const done = this.#serve(served).catch((error) => {
      this.#options.log(`http-error error=${JSON.stringify(String(error))}`);
    }).finally(() => {
      closeQuietly(conn);
      this.#served.delete(served);
    });
    this.#served.set(served, done);
    return done;
  }

  /** Pings silent WebSocket push connections and closes idle ones, as for TCP. */
  checkLiveness(now: number, rules: LivenessRules): void {
    for (const { websocket } of this.#served.keys()) websocket?.checkLiveness(now, rules);
  }

  /**
   * Stops answering, closes every WebSocket (telling push clients `reason`)
   * and every other connection, waits up to `graceMs` for them, then closes
   * what is left.
   */
  async close(reason: string, graceMs: number): Promise<void> {
    this.#closing = true;
    const open = [...this.#served.keys()];
    for (const served of open) {
      if (served.websocket) served.websocket.close(reason);
      else closeQuietly(served.conn);
    }
    const all = Promise.all(this.#served.values());
    let timer: ReturnType<typeof setTimeout> | undefined;
    const graceOver = new Promise<void>((resolve) => timer = setTimeout(resolve, graceMs));
    await Promise.race([all, graceOver]);
    // sockets of clients that never answered the close
    for (const served of this.#served.keys()) closeQuietly(served.conn);
    await all;
    clearTimeout(timer);
  }

  async #serve(served: Served): Promise<void> {
    const { conn } = served;
    const address = remoteAddress(conn);
    let pending: Uint8Array = new Uint8Array(0);
    while (!this.#closing) {
      const read = await this.#readHead(conn, pending);
      if (read === null) return;
      if ("status" in read) {
        return this.#fail(conn, read.status, read.message);
      }
      pending = read.rest;
      let head: RequestHead;
      try {
        head = parseRequestHead(read.head);
      } catch (error) {
        if (!(error instanceof HttpRequestError)) throw error;
        return this.#fail(conn, error.status, error.message);
      }
      if (head.method !== "GET" && head.method !== "HEAD") {
        const response = textResponse(405, "method not allowed", { Allow: "GET, HEAD" });
        return this.#finalAnswer(conn, response, head);
      }
      if (
        head.headers.has("transfer-encoding") ||
        Number(head.headers.get("content-length") ?? "0") !== 0
      ) {
        return this.#fail(conn, 413, "request bodies are not accepted");
      }
      if (this.#closing) return this.#fail(conn, 503, "server shutting down");
      const path = new URL(`http://server${head.target}`).pathname;
      if (path === WEBSOCKET_PATH) {
        const upgraded = this.#upgrade(head, address);
        if (upgraded instanceof Response) return this.#finalAnswer(conn, upgraded, head);
        const websocket = this.#options.websocket(conn, address);
        served.websocket = websocket;
        return websocket.run(upgraded, pending);
      }
      let request;
      try {
        request = new Request(`http://server${head.target}`, {
          method: head.method,
          headers: [...head.headers],
        });
      } catch (error) {
        return this.#fail(conn, 400, (error as Error).message);
      }
      const response = this.#options.files.serve(request);
      const close = head.version === "1.0" || listsToken(head.headers.get("connection"), "close");
      if (close) return this.#finalAnswer(conn, response, head);
      await writeAll(conn, await serialize(response, head.method === "HEAD", false));
    }
  }

  /**
   * Reads until a whole request head is in: the head and the bytes after
   * it, an error status when the head is too long (the connection is then
   * to be answered and closed), or null when the connection ended. A head
   * not complete within the header timeout is answered 408 from here and
   * the connection closed.
   */
  async #readHead(
    conn: Deno.Conn,
    pending: Uint8Array,
  ): Promise<{ head: Uint8Array; rest: Uint8Array } | { status: number; message: string } | null> {
    let bytes = pending;
    let end = headEnd(bytes);
    if (end >= 0) return { head: bytes.subarray(0, end), rest: bytes.subarray(end) };
    let timedOut = false;
    let closeTimer: ReturnType<typeof setTimeout> | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      // the read below goes on, dropping what comes, until the client or closeTimer closes
      const message = `no complete request within ${this.#headerTimeoutMs} ms`;
      serialize(textResponse(408, message), false, true)
        .then((bytes) => writeAll(conn, bytes))
        .then(() => conn.closeWrite())
        .catch(() => {})
        .finally(() => {
          closeTimer = setTimeout(() => closeQuietly(conn), this.#options.closeGraceMs);
        });
    }, this.#headerTimeoutMs);
    const chunk = new Uint8Array(4096);
    try {
      while (true) {
        let n: number | null;
        try {
          n = await conn.read(chunk);
        } catch {
          n = null;
        }
        if (n === null) return null;
        if (timedOut) continue;
        const from = bytes.length;
        const grown = new Uint8Array(from + n);
        grown.set(bytes);
        grown.set(chunk.subarray(0, n), from);
        bytes = grown;
        end = headEnd(bytes, from - 3);
        if (end >= 0 && end <= this.#maxHeaderBytes) {
          return { head: bytes.subarray(0, end), rest: bytes.subarray(end) };
        }
        if (bytes.length > this.#maxHeaderBytes) {
          return { status: 431, message: `request head exceeds ${this.#maxHeaderBytes} bytes` };
        }
      }
    } finally {
      clearTimeout(timer);
      clearTimeout(closeTimer);
    }
  }

  /**
   * Checks an upgrade request to the WebSocket endpoint; returns the
   * `101 Switching Protocols` answer, or the response refusing it.
   */
  #upgrade(head: RequestHead, address: string): Uint8Array | Response {
    const { headers } = head;
    if (!listsToken(headers.get("upgrade"), "websocket")) {
      return textResponse(426, "this is the WebSocket endpoint of the Claptrap web client", {
        Upgrade: "websocket",
      });
    }
    if (!listsToken(headers.get("connection"), "upgrade")) {
      return textResponse(400, "bad WebSocket upgrade: Connection must list Upgrade");
    }
    if (headers.get("sec-websocket-version") !== "13") {
      return textResponse(426, "bad WebSocket upgrade: only version 13 is spoken", {
        "Sec-WebSocket-Version": "13",
      });
    }
    const key = headers.get("sec-websocket-key") ?? "";
    if (!/^[A-Za-z0-9+/]{22}==$/.test(key)) {
      return textResponse(
        400,
        "bad WebSocket upgrade: Sec-WebSocket-Key must be 16 bytes in base64",
      );
    }
    const origin = headers.get("origin") ?? null;
    const host = headers.get("host") ?? null;
    const { allowOrigins, log } = this.#options;
    if (
      !originAllowed(origin, host, allowOrigins) ||
      (origin !== null && !allowOrigins.includes(origin) && !hostServed(host, this.#hosts))
    ) {
      log(
        `websocket-refused addr=${address} origin=${JSON.stringify(origin)} host=${
          JSON.stringify(host)
        }`,
      );
      return textResponse(403, "origin not allowed");
    }
    return responseHead(101, [
      ["Upgrade", "websocket"],
      ["Connection", "Upgrade"],
      ["Sec-WebSocket-Accept", acceptKey(key)],
    ]);
  }

  /** Answers with `response`, then closes the connection. */
  #finalAnswer(conn: Deno.Conn, response: Response, head: RequestHead | null): Promise<void> {
    const graceMs = this.#options.closeGraceMs;
    return answerAndClose(conn, response, head?.method === "HEAD", graceMs);
  }

  /** Answers a request that cannot be served with `status` and `message`, then closes. */
  #fail(conn: Deno.Conn, status: number, message: string): Promise<void> {
    return this.#finalAnswer(conn, textResponse(status, message), null);
  }
}
