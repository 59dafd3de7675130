/**
 * The TLS handshake of accepted connections, before they are served: for the
 * chat port and the HTTPS port alike.
 * @module
 */

import { closeQuietly } from "../connection/socket.ts";

/**
 * TLS connections accepted but not yet through their handshake. Deno runs
 * the handshake lazily, so the accept loop never sees it fail; running it
 * here, before a session exists, keeps a plain-TCP client, garbage, or a
 * client that distrusts the certificate to one log line and one closed
 * socket, and keeps the accept loop going.
 */
export class TlsHandshakes {
  readonly #serve: (conn: Deno.TlsConn) => void;
  readonly #dropped: (conn: Deno.TlsConn) => void;
  readonly #timeoutMs: number;
  readonly #log: (line: string) => void;
  readonly #pending = new Map<Deno.TlsConn, Promise<void>>();
  #closed = false;

  /**
   * @param serve takes each connection whose handshake succeeded
   * @param dropped is told of each connection closed without being served
   * @param timeoutMs how long a handshake may take
   */
  constructor(
    serve: (conn: Deno.TlsConn) => void,
    dropped: (conn: Deno.TlsConn) => void,
    timeoutMs: number,
    log: (line: string) => void,
  ) {
    this.#serve = serve;
    this.#dropped = dropped;
    this.#timeoutMs = timeoutMs;
    this.#log = log;
  }

  /** Runs the handshake of `conn`, then serves it, or logs why not and closes it. */
  add(conn: Deno.TlsConn): void {
    this.#pending.set(conn, this.#run(conn).finally(() => this.#pending.delete(conn)));
  }

  /** Closes the connections still in their handshake and waits for them. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const conn of this.#pending.keys()) closeQuietly(conn);
    await Promise.all(this.#pending.values());
  }

  async #run(conn: Deno.TlsConn): Promise<void> {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      closeQuietly(conn);
    }, this.#timeoutMs);
    try {
      await conn.handshake();
    } catch (error) {
      if (!this.#closed) {
        const why = timedOut
          ? `no handshake within ${this.#timeoutMs} ms`
          : (error as Error).message;
        const { hostname, port } = conn.remoteAddr;
        this.#log(`tls-handshake-failed addr=${hostname}:${port} error=${JSON.stringify(why)}`);
      }
      closeQuietly(conn);
      this.#dropped(conn);
      return;
    } finally {
      clearTimeout(timer);
    }
    if (!this.#closed) return this.#serve(conn);
    closeQuietly(conn);
    this.#dropped(conn);
  }
}
