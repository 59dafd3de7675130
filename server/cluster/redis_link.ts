/**
 * The link between the servers of a cluster over Redis pub/sub
 * (`--bus redis://…`), for more messages than NOTIFY carries. A server
 * publishes what it committed, once per turn of the event loop (a commit's
 * messages together). While Redis is away nothing waits for it: the bus
 * polls PostgreSQL, and compares once Redis is back. Imports the `redis`
 * package, pinned: loaded only for such a cluster (see open_cluster.ts).
 * @module
 */

// pinned here: only this optional link needs it (tests/deno.lock locks it)
// deno-lint-ignore no-import-prefix
import { createClient } from "npm:redis@6.4.0";
import type { ClusterLink, ClusterNote, ClusterReceiver } from "../../core/cluster_bus.ts";
import type { MessagePosted } from "../../core/events.ts";
import { CHANNEL, handOver, notePayload, postedPayloads } from "./announcements.ts";

/** Milliseconds between attempts to reach Redis again. */
const RECONNECT_MS = 200;

/** Pub/sub on a Redis server. */
export class RedisLink implements ClusterLink {
  readonly #publisher;
  readonly #subscriber;
  readonly #node: string;
  readonly #log: (line: string) => void;
  #posted: MessagePosted[] = [];
  #flushing = false;
  readonly #flush = () => {
    this.#flushing = false;
    const posted = this.#posted;
    this.#posted = [];
    for (const payload of postedPayloads(this.#node, posted)) this.#publish(payload);
  };
  #up = false;

  /** A link for the server `node` through the Redis at `url` (`redis://host:port`). */
  constructor(url: string, node: string, log: (line: string) => void) {
    // commands fail at once while Redis is away rather than pile up
    this.#publisher = createClient({
      url,
      disableOfflineQueue: true,
      socket: { reconnectStrategy: () => RECONNECT_MS },
    });
    this.#subscriber = this.#publisher.duplicate();
    this.#node = node;
    this.#log = log;
  }

  async start(receiver: ClusterReceiver): Promise<void> {
    const down = () => {
      if (!this.#up) return;
      this.#up = false;
      receiver.down();
    };
    for (const client of [this.#publisher, this.#subscriber]) {
      client.on("error", down);
      client.on("reconnecting", down);
    }
    await this.#publisher.connect();
    await this.#subscriber.connect();
    await this.#subscriber.subscribe(CHANNEL, (payload: string) => {
      handOver(this.#node, payload, receiver);
    });
    // after the first connection, "ready" comes on each reconnection (subscribed again)
    const ready = () => {
      if (this.#publisher.isReady && this.#subscriber.isReady && !this.#up) {
        this.#up = true;
        receiver.up();
      }
    };
    this.#publisher.on("ready", ready);
    this.#subscriber.on("ready", ready);
    ready();
  }

  announce(message: MessagePosted): void {
    this.#posted.push(message);
    if (!this.#flushing) {
      this.#flushing = true;
      queueMicrotask(this.#flush);
    }
  }

  send(note: ClusterNote): void {
    this.#publish(notePayload(this.#node, note));
  }

  #publish(payload: string): void {
    if (!this.#up) return; // the others poll meanwhile
    this.#publisher.publish(CHANNEL, payload).catch((error: Error) =>
      this.#log(`cluster-bus publish-failed ${error.message}`)
    );
  }

  async close(): Promise<void> {
    this.#up = false;
    await Promise.allSettled([this.#publisher.close(), this.#subscriber.close()]);
  }
}
