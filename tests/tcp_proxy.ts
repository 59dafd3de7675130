/**
 * A TCP proxy on 127.0.0.1 for fault tests: it forwards connections to a
 * port of 127.0.0.1, and can cut them at a chosen point of what the client
 * sends, or refuse new ones, as a network or a server going away would.
 * @module
 */

/**
 * What to do with a chunk the client sent: pass it on; pass it on and then
 * cut the client off before any answer reaches it (the server goes on);
 * or drop it and cut both sides.
 */
export type ChunkVerdict = "pass" | "pass-then-cut-client" | "drop-and-cut";

/** A proxy to one port. */
export class TcpProxy {
  #listener: Deno.TcpListener | null;
  readonly #port: number;
  readonly #target: number;
  readonly #connections = new Set<Deno.Conn>();
  /** Decides the fate of each chunk clients send; null passes everything. */
  watch: ((chunk: Uint8Array) => ChunkVerdict) | null = null;

  private constructor(listener: Deno.TcpListener, target: number) {
    this.#listener = listener;
    this.#port = (listener.addr as Deno.NetAddr).port;
    this.#target = target;
    this.#accept(listener);
  }

  /** A proxy on a free port of 127.0.0.1 to `targetPort`. */
  static start(targetPort: number): TcpProxy {
    return new TcpProxy(Deno.listen({ hostname: "127.0.0.1", port: 0 }), targetPort);
  }

  /** The proxy's port. */
  get port(): number {
    return this.#port;
  }

  /** Whether connections to the port are refused (nothing listens on it). */
  get refusing(): boolean {
    return this.#listener === null;
  }

  set refusing(refuse: boolean) {
    if (refuse === this.refusing) return;
    if (refuse) {
      this.#listener!.close();
      this.#listener = null;
    } else {
      this.#listener = Deno.listen({ hostname: "127.0.0.1", port: this.#port });
      this.#accept(this.#listener);
    }
  }

  /** Stops listening and cuts every connection. */
  close(): void {
    this.refusing = true;
    for (const conn of this.#connections) closeQuietly(conn);
  }

  async #accept(listener: Deno.TcpListener): Promise<void> {
    try {
      for await (const client of listener) this.#serve(client);
    } catch {
      // closed
    }
  }

  async #serve(client: Deno.Conn): Promise<void> {
    let server: Deno.Conn;
    try {
      server = await Deno.connect({ hostname: "127.0.0.1", port: this.#target });
    } catch {
      closeQuietly(client);
      return;
    }
    this.#connections.add(client);
    this.#connections.add(server);
    const end = () => {
      closeQuietly(client);
      closeQuietly(server);
      this.#connections.delete(client);
      this.#connections.delete(server);
    };
    const upstream = (async () => {
      const buffer = new Uint8Array(64 * 1024);
      for (;;) {
        const n = await client.read(buffer).catch(() => null);
        if (n === null) return end();
        const chunk = buffer.slice(0, n);
        const verdict = this.watch?.(chunk) ?? "pass";
        if (verdict === "drop-and-cut") return end();
        if (!await writeAll(server, chunk)) return end();
        if (verdict === "pass-then-cut-client") {
          closeQuietly(client);
          this.#connections.delete(client);
          // the server reads what it got, then finds the connection closed
          setTimeout(end, 500);
          return;
        }
      }
    })();
    const downstream = (async () => {
      const buffer = new Uint8Array(64 * 1024);
      for (;;) {
        const n = await server.read(buffer).catch(() => null);
        if (n === null || !await writeAll(client, buffer.subarray(0, n))) return end();
      }
    })();
    await Promise.all([upstream, downstream]);
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<boolean> {
  try {
    for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
    return true;
  } catch {
    return false;
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // closed already
  }
}

/** Whether `chunk` holds the bytes of `text` (ASCII). */
export function chunkHas(chunk: Uint8Array, text: string): boolean {
  return new TextDecoder().decode(chunk).includes(text);
}
