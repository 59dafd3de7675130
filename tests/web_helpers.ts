/**
 * Shared pieces of the web client's tests: a server with HTTP on a free
 * port, and a WebSocket connection that speaks the JSON form of the
 * protocol message by message, as the browser does.
 * @module
 */

import { messageToJson, parseJsonMessage } from "../protocol/json_mapping.ts";
import type { Message } from "../protocol/message.ts";
import type { ServerHandle, ServerOptions } from "../server/server.ts";
import { ACCOUNTS, startTestServer, withTimeout } from "./helpers.ts";
import type { Browser } from "./playwright.ts";

/** A test server (see startTestServer) that also serves HTTP on a free port. */
export function startWebTestServer(options: ServerOptions = {}): Promise<ServerHandle> {
  return startTestServer({ httpPort: 0, ...options });
}

/** The base URL of a server's HTTP side, e.g. `http://127.0.0.1:41234`. */
export function httpUrl(server: ServerHandle): string {
  return `http://127.0.0.1:${server.httpAddr!.port}`;
}

/** A WebSocket to the server's `/ws`, one JSON message per WebSocket message. */
export class JsonSocket {
  readonly socket: WebSocket;
  readonly #messages: Message[] = [];
  #wake: (() => void) | null = null;
  #closed: CloseEvent | null = null;
  readonly closed: Promise<CloseEvent>;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.onmessage = (event) => {
      this.#messages.push(parseJsonMessage(event.data));
      this.#wake?.();
    };
    this.closed = new Promise((resolve) => {
      socket.onclose = (event) => {
        this.#closed = event;
        this.#wake?.();
        resolve(event);
      };
    });
  }

  /** Connects, with an `Origin` header when given. */
  static open(server: ServerHandle, options: { origin?: string } = {}): Promise<JsonSocket> {
    const headers: Record<string, string> = options.origin ? { origin: options.origin } : {};
    const socket = new WebSocket(`ws://127.0.0.1:${server.httpAddr!.port}/ws`, { headers });
    return withTimeout(
      new Promise((resolve, reject) => {
        socket.onopen = () => resolve(new JsonSocket(socket));
        socket.onerror = (event) => reject(new Error((event as ErrorEvent).message));
      }),
      5_000,
      "WebSocket open",
    );
  }

  /** Sends a request without waiting. */
  send(method: string, params: Record<string, string> = {}, content?: string): void {
    this.socket.send(messageToJson({ method, params, content }));
  }

  /** Sends raw text as one WebSocket message. */
  sendText(text: string): void {
    this.socket.send(text);
  }

  /** Sends a request and returns the next message. */
  request(method: string, params: Record<string, string> = {}, content?: string) {
    this.send(method, params, content);
    return this.next();
  }

  /** Logs in as a test account with push on, and checks the answer is OK. */
  async login(user: string): Promise<void> {
    const response = await this.request("LOGIN", {
      Username: user,
      Password: ACCOUNTS.get(user)!,
      Push: "on",
    });
    if (response.params.Status !== "OK") {
      throw new Error(`login ${user}: ${response.params.Status}`);
    }
  }

  /** The next message; fails after `ms` or when the socket closes. */
  next(ms = 5_000): Promise<Message> {
    return withTimeout(this.#next(), ms, "next WebSocket message");
  }

  /** The next message with this method, skipping others. */
  async nextOf(method: string, ms = 5_000): Promise<Message> {
    while (true) {
      const message = await this.next(ms);
      if (message.method === method) return message;
    }
  }

  /** The next message if one arrives within `ms`, else null. */
  async within(ms: number): Promise<Message | null> {
    try {
      return await this.next(ms);
    } catch {
      return null;
    }
  }

  /** Closes and waits for the close to complete. */
  async close(): Promise<void> {
    if (!this.#closed) this.socket.close();
    await withTimeout(this.closed, 5_000, "WebSocket close");
  }

  async #next(): Promise<Message> {
    while (this.#messages.length === 0) {
      if (this.#closed) {
        throw new Error(`WebSocket closed: ${this.#closed.code} ${this.#closed.reason}`);
      }
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    return this.#messages.shift()!;
  }
}

/**
 * Sends an HTTP/1.1 request as raw bytes and returns the status line and
 * headers: for what `fetch` would not send (`..` in a path, forged headers).
 */
export async function rawHttp(port: number, head: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(head));
    const buffer = new Uint8Array(16 * 1024);
    let text = "";
    while (!text.includes("\r\n\r\n")) {
      const n = await withTimeout(conn.read(buffer), 5_000, "HTTP answer");
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    return text.slice(0, text.indexOf("\r\n\r\n") + 2);
  } finally {
    conn.close();
  }
}

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/**
 * Starts headless Chromium through playwright-core. Fails, never skips,
 * when it cannot: the error says why and how to install the browser.
 */
export async function launchChromium(): Promise<Browser> {
  // playwright-core's bundled `is-wsl` probes /proc/sys/fs/binfmt_misc at
  // import time, which Deno allows only with --allow-all. With this variable
  // it defers the probe to calls that launching Chromium never makes (they
  // open URLs in a desktop browser), so the tests keep narrow permissions.
  Deno.env.set("__IS_WSL_TEST__", "1");
  const { chromium } = await import("./playwright.ts");
  try {
    return await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-quic",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
      ],
      timeout: 30_000,
    });
  } catch (error) {
    throw new Error(
      `cannot start Chromium at ${CHROMIUM_PATH} (install it with ` +
        `"apt-get install -y chromium"; .ci/run does): ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/**
 * A TCP proxy on 127.0.0.1 in front of a port, whose connections a test can
 * cut (a dropped network), whose new connections it can refuse for a while
 * (the network still down) or hold unanswered until it releases them (a
 * slow network).
 */
export class TcpProxy {
  readonly #listener: Deno.TcpListener;
  readonly #targetPort: number;
  readonly #conns = new Set<Deno.Conn>();
  readonly #pipes = new Set<Promise<unknown>>();
  readonly #held: Deno.Conn[] = [];
  readonly #accepting: Promise<void>;
  /** While true, new connections are closed at once. */
  refusing = false;
  /** While true, new connections wait, unanswered, for {@link TcpProxy.release}. */
  holding = false;

  /** Listens on a free port of 127.0.0.1 and forwards to `targetPort`. */
  constructor(targetPort: number) {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#listener = listener;
    this.#targetPort = targetPort;
    this.#accepting = (async () => {
      for await (const conn of listener) {
        if (this.refusing) conn.close();
        else if (this.holding) this.#held.push(conn);
        else await this.#forward(conn);
      }
    })().catch(() => {});
  }

  /** How many connections wait to be released. */
  get held(): number {
    return this.#held.length;
  }

  /** Stops holding new connections and forwards those held. */
  async release(): Promise<void> {
    this.holding = false;
    for (const conn of this.#held.splice(0)) await this.#forward(conn);
  }

  /** The port to connect to. */
  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  /** Closes every connection through the proxy, both ways. */
  async cut(): Promise<void> {
    for (const conn of [...this.#conns]) this.#drop(conn);
    await Promise.all([...this.#pipes]);
  }

  /** Cuts everything and stops listening. */
  async close(): Promise<void> {
    this.#listener.close();
    await this.#accepting;
    for (const conn of this.#held.splice(0)) conn.close();
    await this.cut();
  }

  async #forward(conn: Deno.Conn): Promise<void> {
    const target = await Deno.connect({ hostname: "127.0.0.1", port: this.#targetPort });
    this.#conns.add(conn);
    this.#conns.add(target);
    for (const [from, to] of [[conn, target], [target, conn]]) {
      const pipe = from.readable.pipeTo(to.writable).catch(() => {}).finally(() => {
        this.#drop(from);
        this.#drop(to);
      });
      this.#pipes.add(pipe);
      pipe.finally(() => this.#pipes.delete(pipe));
    }
  }

  #drop(conn: Deno.Conn): void {
    if (!this.#conns.delete(conn)) return;
    try {
      conn.close();
    } catch {
      // closed already
    }
  }
}
