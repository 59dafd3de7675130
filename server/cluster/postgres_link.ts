/**
 * The link between the servers of a cluster over PostgreSQL's
 * LISTEN/NOTIFY, the default. Messages are announced by the store, with
 * NOTIFY in the transaction that commits them (see `PostgresStore`'s
 * `announce`): a listener hears of them once they are committed, never
 * before. Notes go with NOTIFY of their own. Imports the `postgres`
 * package: loaded only for a cluster (see open_cluster.ts).
 * @module
 */

import type { ClusterLink, ClusterNote, ClusterReceiver } from "../../core/cluster_bus.ts";
import { connect, type Sql } from "../../store/postgres/connection.ts";
import { CHANNEL, handOver, notePayload, NOTIFY_MAX_BYTES } from "./announcements.ts";

/** LISTEN/NOTIFY on the cluster's database. */
export class PostgresLink implements ClusterLink {
  readonly #sql: Sql;
  readonly #node: string;
  readonly #log: (line: string) => void;

  /** A link for the server `node` through the database at `url`. */
  constructor(url: string, node: string, log: (line: string) => void) {
    this.#sql = connect(url, 1);
    this.#node = node;
    this.#log = log;
  }

  async start(receiver: ClusterReceiver): Promise<void> {
    // the package listens again after a lost connection, and says so with onlisten
    await this.#sql.listen(
      CHANNEL,
      (payload) => handOver(this.#node, payload, receiver),
      () => receiver.up(),
    );
  }

  announce(): void {
    // the store announced it in its transaction
  }

  send(note: ClusterNote): void {
    const payload = notePayload(this.#node, note);
    if (new TextEncoder().encode(payload).length > NOTIFY_MAX_BYTES) {
      this.#log(`cluster-bus note-too-large kind=${note.kind} bytes=${payload.length}`);
      return;
    }
    this.#sql.notify(CHANNEL, payload).catch((error) =>
      this.#log(`cluster-bus notify-failed ${(error as Error).message}`)
    );
  }

  async close(): Promise<void> {
    await this.#sql.end({ timeout: 1 });
  }
}
