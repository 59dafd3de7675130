/**
 * The TCP transport of a `ChatClient`: Claptrap frames over a TCP
 * connection, or over TLS. Deno only.
 * @module
 */

import { FrameDecoder } from "../protocol/frame.ts";
import { encodeMessage, type Message, parseMessage } from "../protocol/message.ts";
import type { Transport, TransportReceiver } from "./transport.ts";

/** Largest frame the client accepts from a server by default (16 MiB). */
export const CLIENT_MAX_FRAME_SIZE = 16 * 1024 * 1024;

/** Where to connect. */
export interface ConnectOptions {
  /** Server host. Default `127.0.0.1`. */
  host?: string;
  /** Server port. Default 6666. */
  port?: number;
  /** Largest frame accepted from the server. Default 16 MiB. */
  maxFrameSize?: number;
  /** Connect over TLS. Default false, unless `caCerts` is given. */
  tls?: boolean;
  /**
   * Certificates (PEM) to trust besides the system's, e.g. a server's
   * self-signed one. Giving them implies `tls`.
   */
  caCerts?: string[];
}

/**
 * The TLS handshake with the server failed. The message says why in words
 * (e.g. that the server's certificate is not trusted); `cause` is Deno's error.
 */
export class TlsError extends Error {
  /** Always `TlsError`. */
  override name = "TlsError";
  /** rustls's name of the problem, e.g. `UnknownIssuer`, when it gave one. */
  readonly problem: string | null;

  /** Describes `error`, Deno's, from connecting over TLS to `host`. */
  constructor(error: Error, host: string) {
    // e.g. "invalid peer certificate: UnknownIssuer", or "...: Other(OtherError(CaUsedAsEndEntity))"
    const problem = error.message.match(/invalid peer certificate: (?:\w+\()*(\w+)/)?.[1] ?? null;
    super(describeTlsFailure(error.message, problem, host), { cause: error });
    this.problem = problem;
  }
}

/** One line on why a TLS handshake failed, from Deno's message and rustls's problem name. */
function describeTlsFailure(message: string, problem: string | null, host: string): string {
  switch (problem) {
    case null:
      return /corrupt message|InvalidContentType|close_notify|unexpected EOF/i.test(message)
        ? `the server does not speak TLS there (${message})`
        : `TLS handshake failed: ${message}`;
    case "UnknownIssuer":
      return "the server's certificate is not trusted: it is self-signed or from an unknown " +
        "certificate authority (UnknownIssuer)";
    case "BadSignature":
      return "the server's certificate is not trusted: it is not signed by the trusted " +
        "certificate of its issuer's name (BadSignature)";
    case "CaUsedAsEndEntity":
      return "the server's certificate is a CA certificate, which cannot be a server's own " +
        "(CaUsedAsEndEntity)";
    case "NotValidForName":
      return `the server's certificate is not valid for ${host} (NotValidForName)`;
    case "Expired":
      return "the server's certificate has expired (Expired)";
    case "NotValidYet":
      return "the server's certificate is not valid yet (NotValidYet)";
    default:
      return `the server's certificate is not accepted (${problem})`;
  }
}

/**
 * Connects to a server over TCP, or over TLS when `tls` or `caCerts` is
 * given; the TLS handshake is complete when this resolves. Give the
 * transport to `ChatClient.connect`.
 * @throws {TlsError} when the TLS handshake fails, e.g. on an untrusted certificate.
 */
export async function tcp(options: ConnectOptions = {}): Promise<Transport> {
  const hostname = options.host ?? "127.0.0.1";
  const port = options.port ?? 6666;
  const maxFrameSize = options.maxFrameSize ?? CLIENT_MAX_FRAME_SIZE;
  if (!options.tls && !options.caCerts) {
    const conn = await Deno.connect({ hostname, port });
    conn.setNoDelay(true);
    return new TcpTransport(conn, maxFrameSize, false);
  }
  const conn = await Deno.connectTls({ hostname, port, caCerts: options.caCerts });
  try {
    // Deno runs the handshake lazily; run it now so that its failure is this call's
    await conn.handshake();
  } catch (error) {
    conn.close();
    throw new TlsError(error as Error, hostname);
  }
  return new TcpTransport(conn, maxFrameSize, true);
}

/** Claptrap frames over one TCP or TLS connection. */
class TcpTransport implements Transport {
  readonly #conn: Deno.Conn;
  readonly #tls: boolean;
  readonly #decoder: FrameDecoder;
  #closing = false;
  #writing: Promise<void> = Promise.resolve();

  constructor(conn: Deno.Conn, maxFrameSize: number, tls: boolean) {
    this.#conn = conn;
    this.#tls = tls;
    this.#decoder = new FrameDecoder({ maxFrameSize });
  }

  start(receiver: TransportReceiver): void {
    this.#readLoop(receiver);
  }

  send(message: Message): void {
    const bytes = encodeMessage(message);
    // a failed write means a broken connection, which the read loop reports
    this.#writing = this.#writing.then(() => this.#writeAll(bytes)).catch(() => {});
  }

  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#tls) {
      // close_notify: without it the server sees the end as an error (UnexpectedEof);
      // not awaited, so that a server that stopped reading cannot hold up the close
      this.#conn.closeWrite().catch(() => {});
    }
    this.#closeConn();
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) written += await this.#conn.write(bytes.subarray(written));
  }

  async #readLoop(receiver: TransportReceiver): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    let reason = "connection closed by server";
    try {
      while (!this.#closing) {
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        for (const payload of this.#decoder.push(buffer.subarray(0, n))) {
          receiver.message(parseMessage(payload));
        }
        if (this.#decoder.error) throw this.#decoder.error;
      }
    } catch (error) {
      if (!this.#closing) reason = `protocol error: ${(error as Error).message}`;
    }
    if (this.#closing) {
      reason = "closed by client";
    } else {
      this.#closing = true;
      this.#closeConn();
    }
    receiver.ended(reason);
  }

  #closeConn(): void {
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }
}
