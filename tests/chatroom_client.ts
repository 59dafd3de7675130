/**
 * A Multi-Client Chatroom client written from its protocol, for tests: it
 * sends a name, takes the acknowledgement and the user list as the GUI
 * does (two reads), then sends raw messages and reads what comes, split
 * into the server's messages by their `[HH:MM:SS] ` starts.
 * @module
 */

import { StreamReader } from "./stream_reader.ts";

/** A server message's time stamp: `[HH:MM:SS] `. */
const STAMP = /\[\d\d:\d\d:\d\d\] /;

/** One Multi-Client Chatroom connection. */
export class ChatroomClient {
  readonly conn: Deno.Conn;
  readonly reader: StreamReader;

  private constructor(conn: Deno.Conn) {
    this.conn = conn;
    this.reader = new StreamReader(conn);
  }

  /** Connects without saying anything. */
  static async open(port: number): Promise<ChatroomClient> {
    return new ChatroomClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /**
   * Connects and sends `name`: the acknowledgement (`OK` or `NOT_UNIQUE`) and,
   * after `OK`, the user list, each as the text of the reads it came in.
   */
  static async join(
    port: number,
    name: string,
  ): Promise<{ client: ChatroomClient; ack: string; list: string | null }> {
    const client = await ChatroomClient.open(port);
    await client.send(name);
    const reader = client.reader;
    const ack = await reader.until(() => reader.reads.length > 0 || undefined, "the ack")
      .then(() => new TextDecoder().decode(reader.reads[0]));
    if (ack !== "OK") return { client, ack, list: null };
    await reader.until(() => reader.reads.length > 1 || undefined, "the user list");
    return { client, ack, list: new TextDecoder().decode(reader.reads[1]) };
  }

  /** Sends raw text (or bytes), as one write. */
  async send(text: string | Uint8Array): Promise<void> {
    const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
    for (let at = 0; at < bytes.length;) at += await this.conn.write(bytes.subarray(at));
  }

  /** The messages after the handshake, each without its time stamp. */
  messages(): string[] {
    const text = new TextDecoder().decode(this.reader.bytes);
    const after = text.search(STAMP);
    if (after < 0) return [];
    return text.slice(after).split(/(?=\[\d\d:\d\d:\d\d\] )/).map((m) => m.replace(STAMP, ""));
  }

  /** Waits until the messages include `message`, then gives them all. */
  async waitFor(message: string, ms = 10_000): Promise<string[]> {
    return await this.reader.until(
      () => {
        const messages = this.messages();
        return messages.includes(message) ? messages : undefined;
      },
      JSON.stringify(message),
      ms,
    );
  }

  /** Closes the sending side, as the GUI's Disconnect does. */
  async disconnect(): Promise<void> {
    await this.conn.closeWrite();
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // closed already
    }
  }
}
