/**
 * The pieces of the soak test (`soak_test.ts`): a seeded random number
 * generator, a ledger of every message sent and seen, and a simulated user
 * that chats over {@link ChatClient} and reconnects with bounded backoff
 * whenever the server goes away.
 * @module
 */

import { ChatClient, ChatError } from "../client/chat_client.ts";
import { tcp } from "../client/tcp_transport.ts";
import { Status } from "../protocol/methods.ts";
import { withTimeout } from "./helpers.ts";

/** How long any one request, connect or login may take before it counts as a hang. */
export const REQUEST_TIMEOUT_MS = 20_000;

/** How long a client keeps trying to reconnect before it gives up. */
export const RECONNECT_LIMIT_MS = 45_000;

/** Longest pause between two reconnection attempts. */
const MAX_BACKOFF_MS = 1_000;

/**
 * Each client's message rate: below the server's per-user flood limit
 * (10 a second, bursts of 50), so that load never turns into RATE_LIMITED.
 */
const MESSAGES_PER_SECOND = 8;
const MESSAGE_BURST = 20;

/**
 * Messages each client sends at once in a storm, regardless of its pace
 * (the server's flood limit allows bursts of 50), so that a kill can land
 * with many messages in flight.
 */
const STORM_MESSAGES = 8;

/**
 * A small seeded pseudo-random generator (mulberry32): the same seed gives
 * the same numbers in [0, 1).
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What became of one SEND_MSG. */
export interface SentMessage {
  readonly content: string;
  readonly user: string;
  readonly room: string;
  /** The server generation the sender was connected to. */
  readonly generation: number;
  /**
   * `pending` until answered; `ok` when answered OK (with `id`); `refused`
   * when answered with another status; `unanswered` when the connection
   * ended (or the request hung) before the answer.
   */
  outcome: "pending" | "ok" | "refused" | "unanswered";
  id?: number;
  status?: string;
}

/** A message some other client received, by EVT_MSG (with its id) or by RECV_MSG. */
export interface SeenMessage {
  readonly content: string;
  readonly room: string;
  readonly id?: number;
  readonly by: string;
}

/** Every message sent and every message seen during a soak run. */
export class Ledger {
  /** By content, which is unique per message; in the order sent. */
  readonly sent = new Map<string, SentMessage>();
  readonly seen: SeenMessage[] = [];

  /** Records a message about to be sent. */
  send(content: string, user: string, room: string, generation: number): SentMessage {
    if (this.sent.has(content)) throw new Error(`content sent twice: ${content}`);
    const message: SentMessage = { content, user, room, generation, outcome: "pending" };
    this.sent.set(content, message);
    return message;
  }

  /** How many messages are sent and not yet answered. */
  pending(): number {
    let count = 0;
    for (const message of this.sent.values()) if (message.outcome === "pending") count++;
    return count;
  }

  /** The messages with an outcome. */
  count(outcome: SentMessage["outcome"]): number {
    let count = 0;
    for (const message of this.sent.values()) if (message.outcome === outcome) count++;
    return count;
  }
}

/** What a {@link SoakClient} needs to know about the run. */
export interface SoakWorld {
  /** The port the server listens on now. */
  port(): number;
  /** Which server process is running: 0 for the first, +1 at each restart. */
  generation(): number;
  /** Whether the run is over: clients send one final message and close. */
  stopping(): boolean;
  readonly rooms: readonly string[];
  readonly ledger: Ledger;
}

/** Flood control's refusal (spelled out: not every server version has it). */
const RATE_LIMITED = "RATE_LIMITED";

/** Whether an error says the connection ended (as opposed to a refusal by the server). */
function isConnectionLoss(error: unknown): boolean {
  return !(error instanceof ChatError);
}

/**
 * A simulated user: logs in (push or polling), joins a room, sends bursts of
 * pipelined messages, switches rooms, leaves and comes back, polls, reads
 * some history; when the connection drops it reconnects with exponential
 * backoff, logs in again and rejoins a room.
 */
export class SoakClient {
  readonly user: string;
  readonly #password: string;
  readonly #push: boolean;
  readonly #random: () => number;
  readonly #world: SoakWorld;
  #client: ChatClient | null = null;
  #draining: Promise<void> | null = null;
  #room: string | null = null;
  #next = 0;
  /** The generation of each server this client logged in to and joined a room on, in order. */
  readonly generations: number[] = [];
  /** Requests that got no answer within {@link REQUEST_TIMEOUT_MS}. */
  readonly hangs: string[] = [];
  /** Anything else that should not happen (refusals, giving up). */
  readonly problems: string[] = [];
  /** Messages refused RATE_LIMITED (flood control), which the pacing should avoid. */
  rateLimited = 0;
  /**
   * Logins refused RATE_LIMITED or ALREADY_ONLINE: both say "try again
   * later", and the client does.
   */
  loginRetries = 0;
  #tokens = MESSAGE_BURST;
  #tokensAt = Date.now();
  /** Between leaving a room and being in the next: no room to post to. */
  #moving = false;
  /** The outcomes of storms still being recorded. */
  #storming: Promise<void> = Promise.resolve();
  /** Whether the final message, sent after the last restart, was answered OK. */
  finalOk = false;

  constructor(
    user: string,
    password: string,
    options: { push: boolean; random: () => number; world: SoakWorld },
  ) {
    this.user = user;
    this.#password = password;
    this.#push = options.push;
    this.#random = options.random;
    this.#world = options.world;
  }

  /** The generation this client last logged in to, or -1. */
  get generation(): number {
    return this.generations.at(-1) ?? -1;
  }

  /** Chats until the world stops, then sends a final message and closes. */
  async run(): Promise<void> {
    while (!this.#world.stopping()) {
      if (!this.#client) {
        if (!await this.#connect()) return;
        continue;
      }
      try {
        await this.#step();
      } catch (error) {
        await this.#failed(error);
      }
      await sleep(5 + this.#random() * 40);
    }
    for (let attempt = 0; attempt < 3 && !this.finalOk; attempt++) {
      if (!this.#client && !await this.#connect()) return;
      try {
        await this.#sendBurst(1, "final");
        this.finalOk = true;
      } catch (error) {
        await this.#failed(error);
      }
    }
    await this.#disconnect();
    await this.#storming;
  }

  /**
   * Sends a storm of messages at once, pipelined behind whatever this
   * client has in flight, without waiting for its pace. Returns false,
   * sending nothing, when the client is not settled in a room (connecting,
   * joining, leaving, stopping).
   */
  storm(): boolean {
    if (!this.#client || this.#room === null || this.#moving || this.#world.stopping()) {
      return false;
    }
    this.#tokens -= STORM_MESSAGES;
    const posted = this.#post(STORM_MESSAGES, "storm").catch(() => {
      // outcomes are recorded; the client's own requests notice a lost connection
    });
    this.#storming = Promise.all([this.#storming, posted]).then(() => {});
    return true;
  }

  /** One random action on a live connection. */
  async #step(): Promise<void> {
    const client = this.#client!;
    const dice = this.#random();
    if (dice < 0.75) {
      await this.#sendBurst(1 + Math.floor(this.#random() * 4));
    } else if (dice < 0.85) {
      await this.#join(client, this.#otherRoom());
    } else if (dice < 0.9) {
      this.#moving = true;
      await this.#timed(client.leave(), "EXIT_ROOM");
      this.#room = null;
      await sleep(this.#random() * 20);
      await this.#join(client, this.#otherRoom());
    } else if (dice < 0.95 && !this.#push) {
      const lines = await this.#timed(client.recv(), "RECV_MSG");
      for (const line of lines) {
        this.#world.ledger.seen.push({ content: line.content, room: this.#room!, by: this.user });
      }
    } else {
      const page = await this.#timed(client.history({ limit: 20 }), "HISTORY");
      const ids = page.messages.map((message) => message.id);
      if (ids.some((id, i) => i > 0 && id <= ids[i - 1])) {
        this.problems.push(`${this.user}: HISTORY page ids not increasing: ${ids.join(",")}`);
      }
    }
  }

  /** Sends `count` messages pipelined to the current room, at this client's pace. */
  async #sendBurst(count: number, tag?: string): Promise<void> {
    await this.#pace(count);
    await this.#post(count, tag);
  }

  /**
   * Sends `count` messages pipelined to the current room and records each
   * outcome. Everything up to the sends runs at once, before the first
   * await. Throws the first connection loss or hang, after recording every
   * outcome.
   */
  async #post(count: number, tag?: string): Promise<void> {
    const client = this.#client!;
    const room = this.#room!;
    const generation = this.generation;
    const messages = Array.from({ length: count }, () => {
      const filler = "x".repeat(Math.floor(this.#random() * this.#random() * 300));
      const content = `${this.user} #${this.#next++}${tag ? ` ${tag}` : ""} ${filler}`.trimEnd();
      return this.#world.ledger.send(content, this.user, room, generation);
    });
    const replies = messages.map((message) => client.send(message.content));
    const settled = await this.#timed(Promise.allSettled(replies), `${count} SEND_MSG`)
      .catch((error) => {
        for (const message of messages) {
          if (message.outcome === "pending") message.outcome = "unanswered";
        }
        throw error;
      });
    let loss: unknown = null;
    settled.forEach((result, i) => {
      const message = messages[i];
      if (result.status === "fulfilled") {
        message.outcome = "ok";
        message.id = result.value.id;
      } else if (isConnectionLoss(result.reason)) {
        message.outcome = "unanswered";
        loss ??= result.reason;
      } else {
        message.outcome = "refused";
        message.status = (result.reason as ChatError).status;
        if (message.status === RATE_LIMITED) this.rateLimited++;
        else this.problems.push(`${this.user}: SEND_MSG refused: ${result.reason.message}`);
      }
    });
    if (loss) throw loss;
  }

  /** Waits until `count` messages fit in this client's rate. */
  async #pace(count: number): Promise<void> {
    const time = Date.now();
    this.#tokens = Math.min(
      MESSAGE_BURST,
      this.#tokens + (time - this.#tokensAt) * MESSAGES_PER_SECOND / 1000,
    );
    this.#tokensAt = time;
    if (this.#tokens < count) {
      await sleep((count - this.#tokens) * 1000 / MESSAGES_PER_SECOND);
      this.#tokens = count;
      this.#tokensAt = Date.now();
    }
    this.#tokens -= count;
  }

  /** Joins `room`; while the answer is awaited, the client is moving. */
  async #join(client: ChatClient, room: string): Promise<void> {
    this.#moving = true;
    try {
      await this.#timed(client.join(room), `JOIN_ROOM ${room}`);
      this.#room = room;
    } finally {
      this.#moving = false;
    }
  }

  #otherRoom(): string {
    const others = this.#world.rooms.filter((room) => room !== this.#room);
    return others[Math.floor(this.#random() * others.length)];
  }

  /** Bounds a request's wait; a request that hangs counts as one and fails. */
  async #timed<T>(promise: Promise<T>, what: string): Promise<T> {
    const started = Date.now();
    try {
      return await withTimeout(promise, REQUEST_TIMEOUT_MS, `${this.user} ${what}`);
    } catch (error) {
      if ((error as Error).message.startsWith("timed out")) {
        this.hangs.push(
          `${this.user}: ${what} unanswered after ${Date.now() - started} ms ` +
            `(generation ${this.generation})`,
        );
      }
      throw error;
    }
  }

  /** Handles a failed step: a lost connection is dropped, a refusal is noted. */
  async #failed(error: unknown): Promise<void> {
    if (isConnectionLoss(error)) {
      await this.#disconnect();
    } else {
      this.problems.push(`${this.user}: ${(error as Error).message}`);
    }
  }

  async #disconnect(): Promise<void> {
    const client = this.#client;
    this.#client = null;
    this.#room = null;
    this.#moving = false;
    if (client) await client.close();
    await this.#draining;
    this.#draining = null;
  }

  /**
   * Connects, logs in and joins a room, retrying with exponential backoff
   * (with jitter) for up to {@link RECONNECT_LIMIT_MS}. Returns false when
   * it gives up.
   */
  async #connect(): Promise<boolean> {
    const giveUp = Date.now() + RECONNECT_LIMIT_MS;
    let backoff = 25;
    let lastError = "";
    while (Date.now() < giveUp) {
      const generation = this.#world.generation();
      const connecting = ChatClient.connect(tcp({ port: this.#world.port() }));
      let client: ChatClient | null = null;
      try {
        client = await withTimeout(connecting, REQUEST_TIMEOUT_MS, `${this.user} connect`);
        await this.#timed(client.login(this.user, this.#password, { push: this.#push }), "LOGIN");
        const room = this.#world.rooms[Math.floor(this.#random() * this.#world.rooms.length)];
        await this.#join(client, room);
        this.#client = client;
        // The server answered, so it is the one started at or after the
        // generation read before connecting; if a restart came in between,
        // count the newer one (at worst a dying server's last answer is
        // credited to its successor, and the next request reconnects).
        this.generations.push(Math.max(generation, this.#world.generation()));
        if (this.#push) this.#draining = this.#drain(client);
        return true;
      } catch (error) {
        lastError = (error as Error).message;
        if (!client) connecting.then((late) => late.close(), () => {});
        await client?.close();
        if (error instanceof ChatError) {
          if (error.status === Status.ALREADY_ONLINE || error.status === RATE_LIMITED) {
            this.loginRetries++;
          } else {
            this.problems.push(`${this.user}: reconnecting: ${lastError}`);
          }
        }
      }
      await sleep(backoff * (0.5 + this.#random()));
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
    this.problems.push(
      `${this.user}: gave up reconnecting after ${RECONNECT_LIMIT_MS} ms: ${lastError}`,
    );
    return false;
  }

  /** Reads a push connection's events until it ends, noting the messages. */
  async #drain(client: ChatClient): Promise<void> {
    for await (const event of client.events()) {
      if (event.type === "message") {
        this.#world.ledger.seen.push({
          content: event.content,
          room: event.room,
          id: event.id,
          by: this.user,
        });
      }
    }
  }
}
