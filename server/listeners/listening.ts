/**
 * One listener of the server: its socket (plain or TLS), its accept loop,
 * the connection caps all listeners share, and the TLS handshake of each
 * connection before it is served.
 * @module
 */

import { AcceptLoop } from "./accept_loop.ts";
import type { ConnectionsPerAddress } from "./address_limit.ts";
import { TlsHandshakes } from "./tls_handshakes.ts";

/** The TLS certificate or key cannot be used; the message says why. */
export class TlsConfigError extends Error {
  /** Always `TlsConfigError`. */
  override name = "TlsConfigError";
}

/** A listener of another protocol cannot listen on its port; the message names it. */
export class ListenError extends Error {
  /** Always `ListenError`. */
  override name = "ListenError";
}

/** What a {@link Listening} does with the connections it accepts. */
export interface ListeningHandlers {
  /** Serves a connection within the caps (after its TLS handshake); resolves when it ends. */
  serve(conn: Deno.Conn): Promise<void>;
  /**
   * Turns away a connection over a cap, with `reason`; `plain` is false for
   * a TLS connection, whose handshake has not run.
   */
  refuse(conn: Deno.Conn, reason: string, plain: boolean): Promise<void> | void;
}

/**
 * One listener of the server: its accept loop, the connection caps shared
 * by all listeners, and the TLS handshake; counts each connection from
 * accept until it ends.
 */
export class Listening {
  readonly #loop: AcceptLoop<Deno.Conn>;
  readonly #handshakes: TlsHandshakes;
  /** Connections being served or refused, until they end. */
  readonly #open = new Set<Promise<void>>();

  constructor(
    listener: Deno.TcpListener | Deno.TlsListener,
    name: string,
    perAddress: ConnectionsPerAddress,
    handshakeTimeoutMs: number,
    log: (line: string) => void,
    handlers: ListeningHandlers,
  ) {
    const serve = (conn: Deno.Conn) => {
      const ended = handlers.serve(conn).finally(() => {
        perAddress.closed((conn.remoteAddr as Deno.NetAddr).hostname);
        this.#open.delete(ended);
      });
      this.#open.add(ended);
    };
    this.#handshakes = new TlsHandshakes(
      serve,
      (conn) => perAddress.closed(conn.remoteAddr.hostname),
      handshakeTimeoutMs,
      log,
    );
    const accept = (conn: Deno.Conn) => {
      const { hostname, port } = conn.remoteAddr as Deno.NetAddr;
      const plain = "setNoDelay" in conn;
      if (!perAddress.open(hostname)) {
        const reason = perAddress.reason(hostname);
        log(`connection-refused addr=${hostname}:${port} reason=${JSON.stringify(reason)}`);
        const refused = handlers.refuse(conn, reason, plain);
        if (refused) {
          this.#open.add(refused);
          refused.finally(() => this.#open.delete(refused));
        }
        return;
      }
      if (plain) {
        (conn as Deno.TcpConn).setNoDelay(true);
        serve(conn);
      } else {
        // Deno's TlsConn has no setNoDelay, so Nagle stays on: cheap, as the
        // send queue writes at most once per turn of the event loop
        this.#handshakes.add(conn as Deno.TlsConn);
      }
    };
    this.#loop = new AcceptLoop<Deno.Conn>(listener, accept, name, log);
  }

  /** Stops accepting and drops the connections still in their TLS handshake. */
  async close(): Promise<void> {
    await this.#loop.close();
    await this.#handshakes.close();
  }

  /** Resolves when every connection served has ended. */
  async finished(): Promise<void> {
    await Promise.all(this.#open);
  }
}

/**
 * Listens on TCP, over TLS when `tls` is given.
 * @throws {TlsConfigError} when the certificate or key cannot be used.
 */
export function listen(
  hostname: string,
  port: number,
  tls: { cert: string; key: string } | undefined,
): Deno.TcpListener | Deno.TlsListener {
  if (!tls) return Deno.listen({ hostname, port });
  try {
    return Deno.listenTls({ hostname, port, cert: tls.cert, key: tls.key });
  } catch (error) {
    if (isListenError(error)) throw error;
    throw new TlsConfigError(
      `cannot use the TLS certificate and key: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** Whether an error of Deno.listenTls is about the address rather than the certificate. */
function isListenError(error: unknown): boolean {
  return error instanceof Deno.errors.AddrInUse ||
    error instanceof Deno.errors.AddrNotAvailable ||
    error instanceof Deno.errors.PermissionDenied ||
    error instanceof Deno.errors.NotCapable;
}

/**
 * Listens on plain TCP for the listener of another protocol, `name` (e.g.
 * `CS 544`), whose clients do not speak TLS.
 * @throws {ListenError} naming the listener when it cannot
 */
export function listenPlain(name: string, hostname: string, port: number): Deno.TcpListener {
  try {
    return Deno.listen({ hostname, port });
  } catch (error) {
    throw new ListenError(
      `cannot listen for ${name} on ${hostname}:${port}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
