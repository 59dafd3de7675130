/**
 * A CS168 Chat client written from its protocol, for tests: every message
 * each way is 200 bytes, padded with spaces. It sends its name first, then
 * each line with its `\n`, as the course's client does, and reads frames as
 * the receiver does: 200 bytes each, trailing white space stripped.
 * @module
 */

import { StreamReader } from "./stream_reader.ts";

/** Bytes in every message. */
export const FRAME = 200;

/** `text` padded with spaces to `FRAME` bytes (longer text goes out whole, as the original's). */
export function pad(text: string | Uint8Array): Uint8Array {
  const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
  const frame = new Uint8Array(Math.max(FRAME, bytes.length)).fill(0x20);
  frame.set(bytes);
  return frame;
}

/** One CS168 client connection. */
export class Cs168Client {
  readonly conn: Deno.Conn;
  readonly reader: StreamReader;

  private constructor(conn: Deno.Conn) {
    this.conn = conn;
    this.reader = new StreamReader(conn);
  }

  /** Connects and sends the name frame. */
  static async connect(port: number, name: string): Promise<Cs168Client> {
    const client = await Cs168Client.open(port);
    await client.write(pad(name));
    return client;
  }

  /** Connects without a word. */
  static async open(port: number): Promise<Cs168Client> {
    return new Cs168Client(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Sends a typed line: its text and `\n`, padded. */
  async line(text: string): Promise<void> {
    await this.write(pad(`${text}\n`));
  }

  /** Sends raw bytes. */
  async write(bytes: Uint8Array): Promise<void> {
    for (let at = 0; at < bytes.length;) at += await this.conn.write(bytes.subarray(at));
  }

  /** The whole frames received so far, each as the client prints it (trailing white space stripped). */
  frames(): string[] {
    const bytes = this.reader.bytes;
    const frames: string[] = [];
    for (let at = 0; at + FRAME <= bytes.length; at += FRAME) {
      frames.push(new TextDecoder().decode(bytes.subarray(at, at + FRAME)).trimEnd());
    }
    return frames;
  }

  /** Waits until a frame reads `text`, then gives every frame so far. */
  async waitFor(text: string, ms = 10_000): Promise<string[]> {
    return await this.reader.until(
      () => {
        const frames = this.frames();
        return frames.includes(text) ? frames : undefined;
      },
      JSON.stringify(text),
      ms,
    );
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // closed already
    }
  }
}
