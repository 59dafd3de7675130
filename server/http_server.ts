/**
 * The HTTP side of the server: the web client's files and the WebSocket
 * endpoint `/ws`, on `Deno.serve`, over TLS (HTTPS and WSS) when given a
 * certificate. A WebSocket upgrade is accepted only
 * from a page of the server's own origin or of an allowed origin; each
 * socket becomes a {@link WebSocketConnection} on the same chat core as TCP.
 * @module
 */

import type { ConnectionsPerAddress } from "./address_limit.ts";
import type { Chat } from "./chat.ts";
import { type StaticFiles, textResponse } from "./static_files.ts";
import type { ConnectionLimits } from "./tcp_connection.ts";
import { WebSocketConnection } from "./websocket_connection.ts";

/** The path of the WebSocket endpoint. */
export const WEBSOCKET_PATH = "/ws";

/** Seconds without an answer to a ping after which a WebSocket is closed. */
const IDLE_TIMEOUT_S = 30;

/** Settings of {@link startHttpServer}. */
export interface HttpServerOptions {
  /** Address to listen on. */
  hostname: string;
  /** Port; 0 picks a free one. */
  port: number;
  /** The chat core that WebSocket clients join. */
  chat: Chat;
  /** Limits of each WebSocket connection (the same as TCP's). */
  limits: ConnectionLimits;
  /** Origins, besides the server's own, whose pages may open a WebSocket. */
  allowOrigins: readonly string[];
  /** The web client's files. */
  files: StaticFiles;
  /** Receives one line per significant event. */
  log: (line: string) => void;
  /** The cap on connections per address, shared with the TCP listener. */
  perAddress: ConnectionsPerAddress;
  /** Serve HTTPS with this certificate chain and private key, as PEM text. Default plain HTTP. */
  tls?: { cert: string; key: string };
}

/** A running HTTP server. */
export interface HttpServerHandle {
  /** Where it listens. */
  readonly addr: Deno.NetAddr;
  /**
   * Stops answering, closes every WebSocket (telling push clients `reason`),
   * waits up to `graceMs` for them, then stops.
   */
  close(reason: string, graceMs: number): Promise<void>;
  /** Pings silent push connections and closes idle ones, as for TCP (times in ms). */
  checkLiveness(now: number, pingAfter: number, idleLimit: number): void;
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

/** The HTTP port could not be listened on; the message says where and why. */
export class HttpListenError extends Error {
  /** Always `HttpListenError`. */
  override name = "HttpListenError";
}

/**
 * Starts serving the web client and its WebSocket endpoint.
 * @throws {HttpListenError} when it cannot listen (the cause is Deno's error).
 */
export function startHttpServer(options: HttpServerOptions): HttpServerHandle {
  const { chat, limits, log, files, allowOrigins, perAddress } = options;
  const connections = new Set<WebSocketConnection>();
  let closing = false;

  const upgrade = (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Response => {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return textResponse(426, "this is the WebSocket endpoint of the Claptrap web client", {
        Upgrade: "websocket",
      });
    }
    const remote = info.remoteAddr;
    const address = `${remote.hostname}:${remote.port}`;
    const origin = request.headers.get("origin");
    if (!originAllowed(origin, request.headers.get("host"), allowOrigins)) {
      log(`websocket-refused addr=${address} origin=${JSON.stringify(origin)}`);
      return textResponse(403, "origin not allowed");
    }
    if (!perAddress.open(remote.hostname)) {
      const reason = perAddress.reason(remote.hostname);
      log(`connection-refused addr=${address} reason=${JSON.stringify(reason)}`);
      return textResponse(429, reason);
    }
    let upgraded;
    try {
      upgraded = Deno.upgradeWebSocket(request, { idleTimeout: IDLE_TIMEOUT_S });
    } catch (error) {
      perAddress.closed(remote.hostname);
      return textResponse(400, `bad WebSocket upgrade: ${(error as Error).message}`);
    }
    const connection = new WebSocketConnection(upgraded.socket, chat, limits, log, address);
    connections.add(connection);
    connection.finished.then(() => {
      connections.delete(connection);
      perAddress.closed(remote.hostname);
    });
    return upgraded.response;
  };

  const handler = (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => {
    if (closing) return textResponse(503, "server shutting down");
    if (new URL(request.url).pathname === WEBSOCKET_PATH) return upgrade(request, info);
    return files.serve(request);
  };
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: options.hostname,
      port: options.port,
      ...(options.tls ? { cert: options.tls.cert, key: options.tls.key } : {}),
      onListen: () => {},
      onError: (error) => {
        log(`http-error error=${JSON.stringify(String(error))}`);
        return textResponse(500, "internal server error");
      },
    }, handler);
  } catch (error) {
    throw new HttpListenError(
      `cannot listen for HTTP on ${options.hostname}:${options.port}: ${(error as Error).message}`,
      { cause: error },
    );
  }

  return {
    addr: server.addr,
    checkLiveness(now, pingAfter, idleLimit) {
      for (const connection of connections) connection.checkLiveness(now, pingAfter, idleLimit);
    },
    async close(reason, graceMs) {
      closing = true;
      const open = [...connections];
      for (const connection of open) connection.close(reason);
      const all = Promise.all(open.map((connection) => connection.finished));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const graceOver = new Promise<void>((resolve) => timer = setTimeout(resolve, graceMs));
      await Promise.race([all, graceOver]);
      // closes what is left: sockets of clients that never answered the close
      await server.shutdown();
      await Promise.race([all, graceOver]);
      clearTimeout(timer);
    },
  };
}
