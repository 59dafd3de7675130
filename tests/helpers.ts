/**
 * Shared pieces of the end-to-end tests: a server on a free port of
 * 127.0.0.1 and a raw protocol connection that shows every frame.
 * @module
 */

import { FrameDecoder } from "../protocol/frame.ts";
import { encodeMessage, type Message, parseMessage } from "../protocol/message.ts";
import { type ServerHandle, type ServerOptions, startServer } from "../server/server.ts";

/** The accounts every test server has. */
export const ACCOUNTS: ReadonlyMap<string, string> = new Map([
  ["ann", "ann-pw"],
  ["bob", "bob-pw"],
  ["carol", "carol-pw"],
  ["江主席", "excited"],
]);

/** The rooms every test server starts with. */
export const ROOMS = ["lobby", "random", "香港记者招待会"];

/** scrypt cost for tests: cheap, so that logins are fast. */
export const TEST_SCRYPT_COST = 1024;

/**
 * Starts a quiet server on a free port of 127.0.0.1 with the test accounts
 * and rooms and an in-memory SQLite database.
 */
export function startTestServer(options: ServerOptions = {}): Promise<ServerHandle> {
  return startServer({
    host: "127.0.0.1",
    port: 0,
    globals: { accounts: new Map(ACCOUNTS), rooms: ROOMS },
    scryptCost: TEST_SCRYPT_COST,
    log: () => {},
    ...options,
  });
}

/**
 * A raw connection to a test server, logged in as `user` (with push on
 * unless told otherwise) and, with `room`, in that room.
 */
export async function online(
  port: number,
  user: string,
  options: { push?: boolean; room?: string } = {},
): Promise<RawConnection> {
  const c = await RawConnection.open(port);
  await c.login(user, { push: options.push ?? true });
  if (options.room) {
    const joined = await c.request("JOIN_ROOM", { "Room-Name": options.room });
    if (joined.params.Status !== "OK") {
      throw new Error(`join ${options.room}: ${joined.params.Status}`);
    }
  }
  return c;
}

/** A token rate with practically no refill during a test: what is spent stays spent. */
export const NEVER = 0.000_001;

/** A raw connection logged in as `user` (a test account) and in `room`. */
export async function inRoom(port: number, user: string, room = "lobby"): Promise<RawConnection> {
  const connection = await RawConnection.open(port);
  await connection.login(user);
  const joined = await connection.request("JOIN_ROOM", { "Room-Name": room });
  if (joined.params.Status !== "OK") {
    throw new Error(`${user} joining ${room}: ${joined.params.Status}`);
  }
  return connection;
}

/** Rejects after `ms` unless `promise` settles first. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A connection that speaks the protocol frame by frame, for tests that
 * check exact responses, events, and what the server does with bad bytes.
 * It says `HELLO Version: 2.0` first, so that the server speaks today's
 * protocol, unless opened as an original session.
 */
export class RawConnection {
  readonly conn: Deno.Conn;
  readonly #decoder = new FrameDecoder({ maxFrameSize: 64 * 1024 * 1024 });
  readonly #frames: Message[] = [];
  #eof = false;
  readonly #wakers = new Set<() => void>();
  #paused: Promise<void> | null = null;
  #resume: (() => void) | null = null;
  readonly #reading: Promise<void>;

  private constructor(conn: Deno.Conn) {
    this.conn = conn;
    this.#reading = this.#readLoop();
  }

  /**
   * Connects to a test server and says HELLO 2.0; with `original`, says
   * nothing, so that the server treats it as the original client.
   */
  static async open(
    server: ServerHandle | number,
    options: { original?: boolean } = {},
  ): Promise<RawConnection> {
    const port = typeof server === "number" ? server : server.addr.port;
    const connection = new RawConnection(await Deno.connect({ hostname: "127.0.0.1", port }));
    if (!options.original) await connection.#hello();
    return connection;
  }

  /**
   * Says HELLO 2.0 and takes its answer. Anything else that comes instead
   * (an ERROR sent on connecting) stays queued for the test to read.
   */
  async #hello(): Promise<void> {
    await this.send("HELLO", { Version: "2.0" }).catch(() => {});
    const answer = await this.#take((m) => !m.method.startsWith("EVT_"), 5_000, "RESP_HELLO")
      .catch(() => null);
    if (answer !== null && answer.method !== "RESP_HELLO") this.#frames.unshift(answer);
  }

  /** Writes raw bytes. */
  async write(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) written += await this.conn.write(bytes.subarray(written));
  }

  /** Sends a request without waiting for anything. */
  send(method: string, params: Record<string, string> = {}, content?: string): Promise<void> {
    return this.write(encodeMessage({ method, params, content }));
  }

  /** Sends a request and returns its response; events before it stay queued for next(). */
  async request(
    method: string,
    params: Record<string, string> = {},
    content?: string,
  ): Promise<Message> {
    await this.send(method, params, content);
    return await this.#take((m) => !m.method.startsWith("EVT_"), 5_000, `response to ${method}`);
  }

  /** Logs in and checks the response is OK. */
  async login(user: string, options: { push?: boolean } = {}): Promise<void> {
    const response = await this.request("LOGIN", {
      Username: user,
      Password: ACCOUNTS.get(user)!,
      Push: options.push ? "on" : "off",
    });
    if (response.params.Status !== "OK") {
      throw new Error(`login ${user}: ${response.params.Status}`);
    }
  }

  /** The next frame from the server; fails after `ms` or at end of stream. */
  next(ms = 5_000): Promise<Message> {
    return this.#take(() => true, ms, "next frame");
  }

  /** The next frame whose method is `method`, skipping others. */
  async nextOf(method: string, ms = 5_000): Promise<Message> {
    while (true) {
      const frame = await this.next(ms);
      if (frame.method === method) return frame;
    }
  }

  /** Resolves once the server has closed the connection, with the frames left unread. */
  untilClosed(ms = 5_000): Promise<Message[]> {
    return withTimeout(
      this.#reading.then(() => this.#frames.splice(0)),
      ms,
      "server closing the connection",
    );
  }

  /** The next frame if one arrives within `ms`, else null (for checking that none does). */
  async frameWithin(ms: number): Promise<Message | null> {
    try {
      return await this.next(ms);
    } catch {
      return null;
    }
  }

  /** Stops reading from the socket (as a stalled client would) until close. */
  pause(): void {
    this.#paused ??= new Promise((resolve) => this.#resume = resolve);
  }

  /** Reads again after {@link pause}. */
  resume(): void {
    this.#resume?.();
    this.#paused = null;
    this.#resume = null;
  }

  /** Closes the connection and waits for the reader to stop. */
  async close(): Promise<void> {
    this.#resume?.();
    try {
      this.conn.close();
    } catch {
      // closed already
    }
    await this.#reading;
  }

  /**
   * The first frame that `wanted` accepts, within `ms`; the frames before it
   * stay queued. A wait that times out takes nothing later.
   */
  async #take(wanted: (message: Message) => boolean, ms: number, what: string): Promise<Message> {
    const deadline = Date.now() + ms;
    while (true) {
      const index = this.#frames.findIndex(wanted);
      if (index !== -1) return this.#frames.splice(index, 1)[0];
      if (this.#eof) throw new Error("connection closed by server");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms: ${what}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wakers.add(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  #wakeAll(): void {
    const wakers = [...this.#wakers];
    this.#wakers.clear();
    for (const wake of wakers) wake();
  }

  async #readLoop(): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    while (true) {
      if (this.#paused) await this.#paused;
      const n = await this.conn.read(buffer).catch(() => null);
      if (n === null) break;
      for (const payload of this.#decoder.push(buffer.subarray(0, n))) {
        this.#frames.push(parseMessage(payload));
      }
      this.#wakeAll();
    }
    this.#eof = true;
    this.#wakeAll();
  }
}
