/**
 * A TCP relay on 127.0.0.1 that delays each direction by a fixed time, as
 * a real network does: every chunk read is written on `delayMs` after it
 * arrived, in order, and an end is passed on after the bytes before it.
 * @module
 */

/** A relay in front of a port, delaying both directions. */
export class DelayRelay {
  readonly #listener: Deno.TcpListener;
  readonly #targetPort: number;
  readonly #delayMs: number;
  readonly #conns = new Set<Deno.Conn>();
  readonly #pipes = new Set<Promise<void>>();
  readonly #accepting: Promise<void>;

  /** Listens on a free port of 127.0.0.1 and forwards to `targetPort`. */
  constructor(targetPort: number, delayMs: number) {
    const listener = this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#targetPort = targetPort;
    this.#delayMs = delayMs;
    this.#accepting = (async () => {
      for await (const conn of listener) await this.#forward(conn);
    })().catch(() => {});
  }

  /** The port to connect to. */
  get port(): number {
    return this.#listener.addr.port;
  }

  /** Stops listening and closes every connection through the relay. */
  async close(): Promise<void> {
    this.#listener.close();
    await this.#accepting;
    for (const conn of this.#conns) closeQuietly(conn);
    await Promise.all(this.#pipes);
  }

  async #forward(client: Deno.Conn): Promise<void> {
    let server: Deno.Conn;
    try {
      server = await Deno.connect({ hostname: "127.0.0.1", port: this.#targetPort });
    } catch {
      return closeQuietly(client);
    }
    this.#conns.add(client).add(server);
    const both = [this.#pipe(client, server), this.#pipe(server, client)];
    const ended = Promise.all(both).then(() => {
      for (const conn of [client, server]) {
        this.#conns.delete(conn);
        closeQuietly(conn);
      }
    });
    this.#pipes.add(ended);
    ended.finally(() => this.#pipes.delete(ended));
  }

  /** Copies `from` to `to`, each chunk `delayMs` after it arrived; then half-closes `to`. */
  async #pipe(from: Deno.Conn, to: Deno.Conn): Promise<void> {
    let writes = Promise.resolve(true);
    const buffer = new Uint8Array(64 * 1024);
    while (true) {
      let n: number | null;
      try {
        n = await from.read(buffer);
      } catch {
        n = null;
      }
      const due = Date.now() + this.#delayMs;
      if (n === null) {
        await writes;
        await later(due);
        await to.closeWrite().catch(() => {});
        return;
      }
      const chunk = buffer.slice(0, n);
      writes = writes.then(async (open) => {
        if (!open) return false;
        await later(due);
        try {
          for (let at = 0; at < chunk.length;) at += await to.write(chunk.subarray(at));
          return true;
        } catch {
          return false;
        }
      });
    }
  }
}

function later(due: number): Promise<void> {
  const wait = due - Date.now();
  return wait > 0 ? new Promise((resolve) => setTimeout(resolve, wait)) : Promise.resolve();
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // closed already
  }
}
