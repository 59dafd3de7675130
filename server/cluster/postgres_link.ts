/**
 * The link between the servers of a cluster over PostgreSQL's
 * LISTEN/NOTIFY, the default. Messages are announced by the store, with
 * NOTIFY in the transaction that commits them (see `PostgresStore`'s
 * `announce`): a listener hears of them once they are committed, never
 * before. The link hears on the store's writer connection (see
 * `PostgresStore.listen`), so that a server's own announcements come with
 * its statements' answers rather than wake it once more each. Notes go
 * with NOTIFY of their own, on the link's connection; one too large for a NOTIFY
 * payload is kept in the database (schema migration 8) and its NOTIFY
 * carries the row's id: the listeners read it, and hand over what they
 * hear meanwhile after it, so that notes keep their order. Imports the
 * `postgres` package: loaded only for a cluster (see open_cluster.ts).
 * @module
 */

import type { ClusterLink, ClusterNote, ClusterReceiver } from "../../core/cluster_bus.ts";
import { connect, type Sql } from "../../store/postgres/connection.ts";
import type { AnnouncementListener } from "../../store/postgres/postgres_store.ts";
import {
  CHANNEL,
  fitsNotify,
  fromOthers,
  giveTo,
  notePayload,
  type Received,
  storedNotePrefix,
} from "./announcements.ts";

/** How long reading a stored note may take before it is given up (and logged). */
const STORED_NOTE_READ_MS = 5_000;

/**
 * Most payloads held while a stored note is read; more are dropped (and
 * logged): their messages come again from the store's comparison every
 * second, their notes are lost.
 */
const MAX_HELD = 10_000;

/** What the link hears the channel through: the store (see `PostgresStore.listen`). */
export interface AnnouncementSource {
  listen(listener: AnnouncementListener): Promise<void>;
}

/** LISTEN/NOTIFY on the cluster's database. */
export class PostgresLink implements ClusterLink {
  /** Sends the notes and reads the stored ones. */
  readonly #sql: Sql;
  readonly #source: AnnouncementSource;
  readonly #node: string;
  readonly #log: (line: string) => void;
  /** What other servers sent while a stored note is read, in order; null while none is. */
  #held: Received[] | null = null;
  /** How much was dropped because {@link MAX_HELD} was reached. */
  #dropped = 0;

  /** A link for the server `node` through the database at `url`, hearing through `source`. */
  constructor(url: string, node: string, source: AnnouncementSource, log: (line: string) => void) {
    this.#sql = connect(url, 1);
    this.#source = source;
    this.#node = node;
    this.#log = log;
  }

  async start(receiver: ClusterReceiver): Promise<void> {
    await this.#source.listen({
      heard: (payload) => this.#heard(payload, receiver),
      up: () => receiver.up(),
      down: () => receiver.down(),
    });
  }

  #heard(payload: string, receiver: ClusterReceiver): void {
    try {
      const received = fromOthers(this.#node, payload);
      if (received !== null) this.#take(received, receiver);
    } catch (error) {
      // heard on the store's writer connection: nothing may be thrown into its reading
      this.#log(`cluster-bus hand-over-failed ${(error as Error).message}`);
    }
  }

  #take(received: Received, receiver: ClusterReceiver): void {
    if (this.#held !== null) {
      if (this.#held.length < MAX_HELD) this.#held.push(received);
      else this.#dropped++;
      return;
    }
    const id = received.storedNote;
    if (id === null) return giveTo(received, receiver);
    this.#held = [];
    this.#readStored(id).then((text) => {
      const stored = text === null ? null : fromOthers(this.#node, text);
      // the same server's note: ids of an unlogged table may start over after a crash
      if (stored === null || stored.node !== received.node) {
        return this.#log(`cluster-bus stored-note-missing id=${id}`);
      }
      giveTo(stored, receiver);
    }).catch((error) =>
      this.#log(`cluster-bus stored-note-failed id=${id} ${(error as Error).message}`)
    ).finally(() => {
      const held = this.#held!;
      this.#held = null;
      if (this.#dropped > 0) {
        this.#log(`cluster-bus held-payloads-dropped count=${this.#dropped}`);
        this.#dropped = 0;
      }
      for (const next of held) {
        try {
          this.#take(next, receiver);
        } catch (error) {
          this.#log(`cluster-bus hand-over-failed ${(error as Error).message}`);
        }
      }
    });
  }

  async #readStored(id: number): Promise<string | null> {
    let timer!: ReturnType<typeof setTimeout>;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timed out")), STORED_NOTE_READ_MS);
    });
    try {
      const rows = await Promise.race([
        this.#sql<{ payload: string }[]>`SELECT payload FROM claptrap_notes WHERE id = ${id}`,
        timeout,
      ]);
      return rows[0]?.payload ?? null;
    } finally {
      clearTimeout(timer);
    }
  }

  announce(): void {
    // the store announced it in its transaction
  }

  send(note: ClusterNote): void {
    const payload = notePayload(this.#node, note);
    // on the link's one connection, in order with the notes before and after it: both kinds as
    // plain queries (the package's notify() starts a microtask later: a large note went first)
    const sent = fitsNotify(payload)
      ? this.#sql`SELECT pg_notify(${CHANNEL}, ${payload})`
      : this.#sql`
        WITH kept AS (INSERT INTO claptrap_notes (payload) VALUES (${payload}) RETURNING id),
          swept AS (DELETE FROM claptrap_notes WHERE at < now() - interval '1 minute')
        SELECT pg_notify(${CHANNEL}, ${storedNotePrefix(this.#node)}::text || id::text || '}')
        FROM kept`;
    sent.catch((error) => this.#log(`cluster-bus notify-failed ${(error as Error).message}`));
  }

  async close(): Promise<void> {
    await this.#sql.end({ timeout: 1 });
  }
}
