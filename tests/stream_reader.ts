/**
 * Reads a connection in the background and keeps every read, for tests of
 * wires without framing, or with fixed-size frames: wait until what has
 * arrived says something, or until the server closes.
 * @module
 */

import { withTimeout } from "./helpers.ts";

/** Everything a connection has received so far, read by read. */
export class StreamReader {
  /** Each read, as it came. */
  readonly reads: Uint8Array[] = [];
  #ended = false;
  #wake: (() => void)[] = [];

  constructor(conn: Deno.Conn) {
    this.#loop(conn);
  }

  /** Whether the server has closed (or the connection failed). */
  get ended(): boolean {
    return this.#ended;
  }

  /** Every byte received so far. */
  get bytes(): Uint8Array {
    const all = new Uint8Array(this.reads.reduce((sum, read) => sum + read.length, 0));
    let at = 0;
    for (const read of this.reads) {
      all.set(read, at);
      at += read.length;
    }
    return all;
  }

  /** Every byte received so far, as text. */
  get text(): string {
    return new TextDecoder().decode(this.bytes);
  }

  /** Waits until `test` gives something other than undefined, or fails after `ms`. */
  async until<T>(test: () => T | undefined, what: string, ms = 10_000): Promise<T> {
    return await withTimeout(
      (async () => {
        while (true) {
          const result = test();
          if (result !== undefined) return result;
          if (this.#ended) throw new Error(`the connection ended before ${what}`);
          await new Promise<void>((resolve) => this.#wake.push(resolve));
        }
      })(),
      ms,
      what,
    );
  }

  /** Waits until the server closes the connection. */
  async end(ms = 10_000): Promise<void> {
    await this.until(() => this.#ended || undefined, "the end", ms);
  }

  async #loop(conn: Deno.Conn): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    while (true) {
      let n: number | null;
      try {
        n = await conn.read(buffer);
      } catch {
        n = null;
      }
      if (n === null) this.#ended = true;
      else this.reads.push(buffer.slice(0, n));
      for (const wake of this.#wake.splice(0)) wake();
      if (n === null) return;
    }
  }
}
