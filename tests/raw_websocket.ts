/**
 * A WebSocket client written by hand over TCP, for tests that send what a
 * browser never would: unmasked frames, bad UTF-8, endless fragments,
 * forged `Host` and `Origin` headers.
 * @module
 */

import { concat } from "./fuzz_frames.ts";
import { withTimeout } from "./helpers.ts";

/** A frame from the server. */
export interface ServerFrame {
  fin: boolean;
  opcode: number;
  payload: Uint8Array;
}

/** How to frame what the test sends. */
export interface FrameOptions {
  /** Default true. */
  fin?: boolean;
  /** Default true: clients must mask. */
  masked?: boolean;
}

const encoder = new TextEncoder();

/** The head of an upgrade request to `/ws`. */
export function upgradeRequest(port: number, headers: Record<string, string> = {}): string {
  const all: Record<string, string> = {
    Host: `127.0.0.1:${port}`,
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
    ...headers,
  };
  const lines = Object.entries(all).map(([name, value]) => `${name}: ${value}\r\n`).join("");
  return `GET /ws HTTP/1.1\r\n${lines}\r\n`;
}

/** A client frame: header, mask and masked payload. */
export function clientFrame(
  opcode: number,
  payload: Uint8Array,
  options: FrameOptions = {},
): Uint8Array {
  const masked = options.masked ?? true;
  const length = payload.length;
  const extended = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const header = 2 + extended + (masked ? 4 : 0);
  const frame = new Uint8Array(header + length);
  frame[0] = ((options.fin ?? true) ? 0x80 : 0) | opcode;
  frame[1] = (masked ? 0x80 : 0) | (extended === 0 ? length : extended === 2 ? 126 : 127);
  const view = new DataView(frame.buffer);
  if (extended === 2) view.setUint16(2, length);
  if (extended === 8) view.setBigUint64(2, BigInt(length));
  const mask = [0x37, 0xfa, 0x21, 0x3d];
  if (masked) frame.set(mask, header - 4);
  for (let i = 0; i < length; i++) frame[header + i] = payload[i] ^ (masked ? mask[i & 3] : 0);
  return frame;
}

/** One WebSocket connection, frame by frame. */
export class RawWebSocket {
  readonly conn: Deno.Conn;
  /** The server's answer to the upgrade: its head, and for a refusal its body too. */
  readonly response: string;
  #buffer: Uint8Array;

  private constructor(conn: Deno.Conn, response: string, rest: Uint8Array) {
    this.conn = conn;
    this.response = response;
    this.#buffer = rest;
  }

  /** Sends an upgrade request and reads the answer (101, or a refusal up to the close). */
  static async open(port: number, headers: Record<string, string> = {}): Promise<RawWebSocket> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(encoder.encode(upgradeRequest(port, headers)));
    let bytes: Uint8Array = new Uint8Array(0);
    const text = () => new TextDecoder().decode(bytes);
    let end = -1;
    // a refusal is read up to the close, body included
    while (end < 0 || !text().startsWith("HTTP/1.1 101 ")) {
      const chunk = new Uint8Array(4096);
      const n = await withTimeout(conn.read(chunk), 5_000, "upgrade answer").catch(() => null);
      if (n === null) break;
      bytes = concat(bytes, chunk.subarray(0, n));
      end = text().indexOf("\r\n\r\n");
    }
    if (end < 0 || !text().startsWith("HTTP/1.1 101 ")) {
      return new RawWebSocket(conn, text(), bytes);
    }
    return new RawWebSocket(conn, text().slice(0, end + 4), bytes.subarray(end + 4));
  }

  /** Whether the server switched protocols. */
  get upgraded(): boolean {
    return this.response.startsWith("HTTP/1.1 101 ");
  }

  /** Sends one frame. */
  async send(opcode: number, payload: Uint8Array | string, options?: FrameOptions): Promise<void> {
    const bytes = typeof payload === "string" ? encoder.encode(payload) : payload;
    const frame = clientFrame(opcode, bytes, options);
    let written = 0;
    while (written < frame.length) written += await this.conn.write(frame.subarray(written));
  }

  /** The next frame from the server; null when the connection ends first. */
  async next(ms = 5_000): Promise<ServerFrame | null> {
    return await withTimeout(this.#next(), ms, "next WebSocket frame");
  }

  /** The next close frame, skipping others: its code and reason; null if the connection ends first. */
  async closeFrame(ms = 5_000): Promise<{ code: number; reason: string } | null> {
    while (true) {
      const frame = await this.next(ms);
      if (frame === null) return null;
      if (frame.opcode !== 0x8) continue;
      const view = new DataView(frame.payload.buffer, frame.payload.byteOffset);
      return {
        code: frame.payload.length >= 2 ? view.getUint16(0) : 1005,
        reason: new TextDecoder().decode(frame.payload.subarray(2)),
      };
    }
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // closed already
    }
  }

  async #next(): Promise<ServerFrame | null> {
    while (true) {
      const frame = this.#parse();
      if (frame) return frame;
      const chunk = new Uint8Array(64 * 1024);
      let n: number | null;
      try {
        n = await this.conn.read(chunk);
      } catch {
        n = null;
      }
      if (n === null) return null;
      this.#buffer = concat(this.#buffer, chunk.subarray(0, n));
    }
  }

  #parse(): ServerFrame | null {
    const bytes = this.#buffer;
    if (bytes.length < 2) return null;
    let length = bytes[1] & 0x7f;
    let offset = 2;
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    if (length === 126) {
      if (bytes.length < 4) return null;
      length = view.getUint16(2);
      offset = 4;
    } else if (length === 127) {
      if (bytes.length < 10) return null;
      length = Number(view.getBigUint64(2));
      offset = 10;
    }
    if (bytes.length < offset + length) return null;
    this.#buffer = bytes.subarray(offset + length);
    return {
      fin: (bytes[0] & 0x80) !== 0,
      opcode: bytes[0] & 0x0f,
      payload: bytes.slice(offset, offset + length),
    };
  }
}
