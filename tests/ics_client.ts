/**
 * A client of the ICS chat's wire for the tests, written from its
 * description (docs/ics.md) rather than from the server's codec: requests
 * as Python's `json.dumps` writes them behind a 5-digit length, and every
 * frame the server sends checked to be ASCII, its length its byte count.
 * @module
 */

import { withTimeout } from "./helpers.ts";

/** A frame from the server: its JSON text and what it says. */
export interface IcsFrame {
  text: string;
  json: Record<string, string>;
}

/** One request as the original client writes it: Python's JSON, then its length in front. */
export function icsRequestBytes(fields: Record<string, string>): Uint8Array {
  const json = "{" +
    Object.entries(fields).map(([key, value]) => `${quote(key)}: ${quote(value)}`).join(", ") +
    "}";
  return new TextEncoder().encode(String(json.length).padStart(5, "0") + json);
}

function quote(text: string): string {
  return JSON.stringify(text).replace(
    /[\u0080-\uffff]/g,
    (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"),
  );
}

/** A raw ICS connection that shows every frame. */
export class IcsConnection {
  readonly conn: Deno.Conn;
  #buffer: Uint8Array = new Uint8Array(0);
  readonly #frames: IcsFrame[] = [];
  #eof = false;
  #problem: string | null = null;
  readonly #wakers = new Set<() => void>();
  #paused = false;
  readonly #reading: Promise<void>;

  private constructor(conn: Deno.Conn, paused: boolean) {
    this.conn = conn;
    this.#paused = paused;
    this.#reading = paused ? Promise.resolve() : this.#readLoop();
  }

  /** Connects; with `paused`, never reads from the socket. */
  static async open(port: number, options: { paused?: boolean } = {}): Promise<IcsConnection> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    return new IcsConnection(conn, options.paused ?? false);
  }

  /** Connects and logs in as `name`, checking the answer is `ok`. */
  static async login(port: number, name: string): Promise<IcsConnection> {
    const connection = await IcsConnection.open(port);
    const answer = await connection.request({ action: "login", name });
    if (answer.json.status !== "ok") throw new Error(`login ${name}: ${answer.text}`);
    return connection;
  }

  /** Writes raw bytes. */
  async write(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) written += await this.conn.write(bytes.subarray(written));
  }

  /** Sends a request without waiting for anything. */
  send(fields: Record<string, string>): Promise<void> {
    return this.write(icsRequestBytes(fields));
  }

  /** Sends a request and returns the very next frame, as the original client does. */
  async request(fields: Record<string, string>, ms = 5_000): Promise<IcsFrame> {
    await this.send(fields);
    return await this.next(ms);
  }

  /** The next frame; fails after `ms` or at the end of the stream. */
  async next(ms = 5_000): Promise<IcsFrame> {
    const deadline = Date.now() + ms;
    while (true) {
      if (this.#problem) throw new Error(this.#problem);
      const frame = this.#frames.shift();
      if (frame) return frame;
      if (this.#eof) throw new Error("the server closed the connection");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms: the next ICS frame`);
      // woken by a frame or the deadline, whichever comes first; a frame is never taken late
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, left);
        this.#wakers.add(() => {
          clearTimeout(timer);
          wake();
        });
      });
    }
  }

  /** The next frame if one comes within `ms`, else null (for checking that none does). */
  async frameWithin(ms: number): Promise<IcsFrame | null> {
    try {
      return await this.next(ms);
    } catch {
      return null;
    }
  }

  /** Resolves once the server has closed the connection, with the frames left unread. */
  async untilClosed(ms = 5_000): Promise<IcsFrame[]> {
    await withTimeout(this.#reading, ms, "the server closing the connection");
    return this.#frames.splice(0);
  }

  /** Bytes that came after the last whole frame, when the connection ended. */
  get leftover(): number {
    return this.#buffer.length;
  }

  /** Closes the connection. */
  close(): void {
    try {
      this.conn.close();
    } catch {
      // closed already
    }
  }

  async #readLoop(): Promise<void> {
    const chunk = new Uint8Array(64 * 1024);
    try {
      while (!this.#paused) {
        const n = await this.conn.read(chunk);
        if (n === null) break;
        this.#buffer = concat(this.#buffer, chunk.subarray(0, n));
        this.#split();
        this.#wake();
      }
    } catch {
      // reset: the end of the stream as well
    }
    this.#eof = true;
    this.#wake();
  }

  #split(): void {
    while (this.#buffer.length >= 5) {
      const digits = new TextDecoder().decode(this.#buffer.subarray(0, 5));
      if (!/^\d{5}$/.test(digits)) {
        this.#problem = `bad length ${JSON.stringify(digits)}`;
        return;
      }
      const length = Number(digits);
      if (this.#buffer.length < 5 + length) return;
      const body = this.#buffer.subarray(5, 5 + length);
      if (body.some((byte) => byte >= 0x80)) this.#problem = "a frame that is not ASCII";
      const text = new TextDecoder().decode(body);
      this.#frames.push({ text, json: JSON.parse(text) });
      this.#buffer = this.#buffer.slice(5 + length);
    }
  }

  #wake(): void {
    for (const wake of this.#wakers) wake();
    this.#wakers.clear();
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}
