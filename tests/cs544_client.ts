/**
 * A CS 544 Chat Service Protocol client for tests, written from the
 * protocol's description: it sends requests as the original client does,
 * one JSON object per line, and keeps every response line with the time it
 * arrived, for tests to take in order.
 * @module
 */

import {
  type Cs544CodeValue,
  type Cs544Response,
  encodeCs544Request,
  parseCs544Response,
} from "../protocol/cs544_pdu.ts";
import { ACCOUNTS, withTimeout } from "./helpers.ts";

/** A response and when it arrived (performance.now()). */
export interface Received {
  readonly response: Cs544Response;
  readonly at: number;
}

/** The channel the original client sends each command on. */
const CHANNELS: Record<string, string> = { MSSG: "DC", KICK: "AC", BANN: "AC" };

/** A connection speaking CS 544 to a test server (or a relay before it). */
export class Cs544TestClient {
  readonly conn: Deno.Conn;
  /** The name the client logged in as, as typed; "" before. */
  username = "";
  readonly #received: Received[] = [];
  readonly #wakers = new Set<() => void>();
  readonly #reading: Promise<void>;
  #ended = false;
  #paused: Promise<void> | null = null;
  #resume: (() => void) | null = null;

  private constructor(conn: Deno.Conn) {
    this.conn = conn;
    this.#reading = this.#readLoop();
  }

  /** Connects to `port` on 127.0.0.1. */
  static async open(port: number): Promise<Cs544TestClient> {
    return new Cs544TestClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Connects and logs in as a test account; the 110 is taken. */
  static async loggedIn(port: number, user: string): Promise<Cs544TestClient> {
    const client = await Cs544TestClient.open(port);
    await client.auth(user, ACCOUNTS.get(user)!);
    return client;
  }

  /** Writes raw bytes. */
  async write(bytes: Uint8Array | string): Promise<void> {
    const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
    for (let at = 0; at < data.length;) at += await this.conn.write(data.subarray(at));
  }

  /**
   * Sends a request as the original client does: `username` and `chat_name`
   * are filled in as it fills them unless given.
   * @returns when it was written (performance.now())
   */
  async send(
    command: string,
    parameters: Record<string, string> = {},
    payload = "",
  ): Promise<number> {
    await this.write(encodeCs544Request(command, {
      channel: CHANNELS[command] ?? "CC",
      parameters: { username: this.username, chat_name: "", ...parameters },
      payload,
    }));
    return performance.now();
  }

  /** AUTH (or NWUA); resolves to the code that ended the wait, 110 or 200. */
  async auth(user: string, password: string, command = "AUTH"): Promise<Cs544CodeValue> {
    await this.send(command, { username: user, password, chat_name: "" });
    const { code } = await this.nextOf(["110", "200"]);
    if (code === "110") this.username = user;
    return code;
  }

  /** A chat line as the client sends it: `(name) text`. */
  say(text: string): Promise<number> {
    return this.send("MSSG", { chat_name: "" }, `(${this.username}) ${text}`);
  }

  /** The next response; fails after `ms` or when the server closes first. */
  async next(ms = 5_000): Promise<Cs544Response> {
    return (await this.nextReceived(ms)).response;
  }

  /** The next response with when it arrived; fails after `ms`, taking none. */
  async nextReceived(ms = 5_000): Promise<Received> {
    const deadline = performance.now() + ms;
    while (this.#received.length === 0) {
      if (this.#ended) throw new Error("the server closed the connection");
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms: a CS 544 response`);
      let wake!: () => void;
      const woken = new Promise<void>((resolve) => this.#wakers.add(wake = resolve));
      const timer = setTimeout(wake, left);
      await woken;
      clearTimeout(timer);
      this.#wakers.delete(wake);
    }
    return this.#received.shift()!;
  }

  /** The next response with one of `codes`, skipping others (as the client's waits do). */
  async nextOf(codes: readonly string[], ms = 5_000): Promise<Cs544Response> {
    while (true) {
      const response = await this.next(ms);
      if (codes.includes(response.code)) return response;
    }
  }

  /** The next response if one arrives within `ms`, else null (to check that none does). */
  async within(ms: number): Promise<Cs544Response | null> {
    try {
      return await this.next(ms);
    } catch {
      return null;
    }
  }

  /** Resolves once the server has closed the connection, with the responses left unread. */
  async untilClosed(ms = 5_000): Promise<Cs544Response[]> {
    await withTimeout(this.#reading, ms, "the server closing the connection");
    return this.#received.splice(0).map((received) => received.response);
  }

  /** Stops reading from the socket, as a client that never reads, until closed. */
  pause(): void {
    this.#paused ??= new Promise((resolve) => this.#resume = resolve);
  }

  /** Closes the connection (as `-logout` does). */
  close(): Promise<void> {
    this.#closeConn();
    this.#resume?.();
    return this.#reading;
  }

  #closeConn(): void {
    try {
      this.conn.close();
    } catch {
      // closed already
    }
  }

  async #readLoop(): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    const decoder = new TextDecoder();
    let partial = "";
    try {
      while (true) {
        if (this.#paused) await this.#paused;
        const n = await this.conn.read(buffer);
        if (n === null) break;
        const at = performance.now();
        const lines = (partial + decoder.decode(buffer.subarray(0, n), { stream: true }))
          .split("\n");
        partial = lines.pop()!;
        for (const line of lines) this.#received.push({ response: parseCs544Response(line), at });
        this.#wake();
      }
    } catch {
      // closed by the test, or reset
    } finally {
      // as the original client does when the server closes
      this.#closeConn();
      this.#ended = true;
      this.#wake();
    }
  }

  #wake(): void {
    for (const wake of this.#wakers) wake();
    this.#wakers.clear();
  }
}
