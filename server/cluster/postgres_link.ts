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
 * hear meanwhile after it, so that notes keep their order. The link sends
 * one statement at a time, with every note that waited meanwhile: the
 * `postgres` package does not keep the order of queries that wait for a
 * connection (see `send`). Imports the `postgres` package: loaded only for
 * a cluster (see open_cluster.ts).
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

/**
 * Most notes waiting to be sent (while PostgreSQL does not answer); more
 * are dropped, and logged: notes are best effort.
 */
const MAX_OUTBOX = 10_000;

/** Most notes sent in one statement. */
const NOTES_PER_STATEMENT = 256;

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
  /** Notes' payloads not sent yet, oldest first. */
  #outbox: string[] = [];
  /** A statement of notes is under way (or about to be): the others wait in the outbox. */
  #sending = false;
  /** Notes sent, numbering their payloads (see `notePayload`). */
  #noted = 0;
  /** Notes dropped because {@link MAX_OUTBOX} was reached since that was last logged. */
  #overflow = 0;
  /** Woken once the outbox is empty and no statement is under way. */
  #drained: (() => void)[] = [];

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

  /**
   * Sends a note after those before it, in order. The `postgres` package
   * (3.4.10) does not keep that order by itself: of the queries that wait
   * for a connection being made it sends part once the connection is
   * ready, then one made meanwhile, then the rest (a server's joining and
   * leaving once reached the others reversed). So the link keeps its own
   * queue, one statement at a time; all that waited meanwhile goes in the
   * next, as one transaction (each payload numbered: identical ones would
   * be delivered once).
   */
  send(note: ClusterNote): void {
    if (this.#outbox.length >= MAX_OUTBOX) {
      if (this.#overflow++ === 0) this.#log("cluster-bus notes-dropped: too many waiting");
      return;
    }
    this.#outbox.push(notePayload(this.#node, note, ++this.#noted));
    if (this.#sending) return;
    this.#sending = true;
    queueMicrotask(() => this.#sendNext()); // with the other notes of this turn
  }

  /** Sends what waits in the outbox, one statement at a time, until it is empty. */
  #sendNext(): void {
    if (this.#overflow > 0 && this.#outbox.length < MAX_OUTBOX) {
      this.#log(`cluster-bus notes-dropped count=${this.#overflow}`);
      this.#overflow = 0;
    }
    if (this.#outbox.length === 0) {
      this.#sending = false;
      for (const wake of this.#drained.splice(0)) wake();
      return;
    }
    let statement: Promise<unknown>;
    if (!fitsNotify(this.#outbox[0])) {
      const payload = this.#outbox.shift()!;
      statement = this.#sql`
        WITH kept AS (INSERT INTO claptrap_notes (payload) VALUES (${payload}) RETURNING id),
          swept AS (DELETE FROM claptrap_notes WHERE at < now() - interval '1 minute')
        SELECT pg_notify(${CHANNEL}, ${storedNotePrefix(this.#node)}::text || id::text || '}')
        FROM kept`;
    } else {
      let count = 1;
      while (
        count < Math.min(this.#outbox.length, NOTES_PER_STATEMENT) &&
        fitsNotify(this.#outbox[count])
      ) count++;
      const payloads = this.#outbox.splice(0, count);
      // a function scan is read in order: NOTIFYs in the order of the notes
      statement = this.#sql`
        SELECT count(pg_notify(${CHANNEL}, p)) FROM unnest(${payloads}::text[]) AS p`;
    }
    statement.catch((error) => this.#log(`cluster-bus notify-failed ${(error as Error).message}`))
      .finally(() => this.#sendNext());
  }

  /** Sends what waits (for a second at most), then disconnects. */
  async close(): Promise<void> {
    if (this.#sending) {
      let timer!: ReturnType<typeof setTimeout>;
      await Promise.race([
        new Promise<void>((wake) => this.#drained.push(wake)),
        new Promise((resolve) => timer = setTimeout(resolve, 1000)),
      ]);
      clearTimeout(timer);
    }
    await this.#sql.end({ timeout: 1 });
  }
}
