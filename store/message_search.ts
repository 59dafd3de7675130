/**
 * Searching the stored messages a user may read: newest first, a page at a
 * time, each page looking through a bounded number of messages so that no
 * search costs more than a few milliseconds, however long the history.
 * Runs on any connection to a Claptrap database (the store's own, or a
 * read-only one beside it), synchronously (node:sqlite).
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { SearchHit, SearchPage } from "./records.ts";
import { Statements } from "./statements.ts";
import { containsFolded, markMatches, parseSearchQuery } from "./search_query.ts";
import type { SearchOptions } from "./store.ts";

/** Rooms a user may search: those they have been in, less those they are banned from. */
const READABLE = `SELECT room_id FROM memberships WHERE user = :user
  EXCEPT SELECT room_id FROM bans WHERE user = :user`;

/**
 * Messages of those rooms the user may read: in a peer chat, only those
 * after the user's latest joining (`joined_after`, 0 for other rooms).
 */
const VISIBLE =
  "m.id > (SELECT joined_after FROM memberships WHERE user = :user AND room_id = m.room_id)";

/**
 * Short terms look through the newest messages of the user's rooms in
 * windows of message ids, the first `scanLimit` ids wide, each twice the
 * last, up to this many times `scanLimit`: each window is read from the
 * rooms' index alone (about 0.05 µs per message), so that a window that
 * turns out full costs little, and a quiet room's history is covered in a
 * few steps.
 */
const MAX_WINDOW_FACTOR = 8;

/** Searches over one database connection. */
export class MessageSearch {
  readonly #db: DatabaseSync;
  readonly #statements: Statements;

  /** Uses `db` (and gives it the `contains_folded` function searches need). */
  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#statements = new Statements(db);
    db.function(
      "contains_folded",
      { deterministic: true },
      (content, term) => containsFolded(String(content), String(term)) ? 1 : 0,
    );
  }

  /**
   * The messages the user may read that contain every one of `words`
   * (see {@link parseSearchQuery}), newest first: up to `limit` of them,
   * how many there are among the messages looked through, and where the
   * next page starts. Call with the full-text index up to date. Reads in
   * one transaction (unless called inside one), so its counts agree.
   */
  search(user: string, words: readonly string[], options: SearchOptions): SearchPage {
    const { match, likes, folded, terms } = parseSearchQuery(words);
    if (terms.length === 0) return { hits: [], total: 0, partial: false, next: null };
    if (this.#db.isTransaction) return this.#search(user, match, likes, folded, terms, options);
    this.#db.exec("BEGIN");
    try {
      return this.#search(user, match, likes, folded, terms, options);
    } finally {
      this.#db.exec("COMMIT");
    }
  }

  #search(
    user: string,
    match: string | null,
    likes: string[],
    folded: string[],
    terms: string[],
    { limit, before, scanLimit }: SearchOptions,
  ): SearchPage {
    const below = Math.min(before ?? Number.MAX_SAFE_INTEGER, this.#newestId() + 1);
    const scope = match === null
      ? this.#newestOfRooms(user, below, scanLimit)
      : this.#newestCandidates(match, below, scanLimit);
    const params: Record<string, string | number> = { user, lowest: scope.lowest, below };
    likes.forEach((like, i) => params[`like${i}`] = like);
    folded.forEach((term, i) => params[`folded${i}`] = term);
    if (match !== null) params.match = match;
    const checks = likes.map((_, i) => ` AND m.content LIKE :like${i} ESCAPE '\\'`).join("") +
      folded.map((_, i) => ` AND contains_folded(m.content, :folded${i})`).join("");
    const order = match === null ? "m.id" : "f.rowid";
    const from = match === null
      ? `FROM messages m WHERE m.room_id IN (${READABLE}) AND ${VISIBLE}
         AND m.id >= :lowest AND m.id < :below${checks}`
      : `FROM messages_fts f JOIN messages m ON m.id = f.rowid
         WHERE messages_fts MATCH :match AND f.rowid >= :lowest AND f.rowid < :below
         AND m.room_id IN (${READABLE}) AND ${VISIBLE}${checks}`;
    // one more than the page holds: when there is none, the page is every match
    const rows = this.#statement(
      `SELECT m.id, r.kind, r.name AS room, m.sender, m.time, m.content
       FROM (SELECT m.id ${from} ORDER BY ${order} DESC LIMIT :limit + 1) AS found
       JOIN messages m ON m.id = found.id JOIN rooms r ON r.id = m.room_id
       ORDER BY m.id DESC`,
    ).all({ ...params, limit }) as (Omit<SearchHit, "snippet"> & { content: string })[];
    const total = rows.length <= limit
      ? rows.length
      : (this.#statement(`SELECT count(*) AS n ${from}`).get(params) as { n: number }).n;
    const hits = rows.slice(0, limit).map(({ content, ...hit }) => ({
      ...hit,
      snippet: markMatches(content, terms),
    }));
    const next = total > limit ? hits[hits.length - 1].id : scope.partial ? scope.lowest : null;
    return { hits, total, partial: scope.partial, next };
  }

  /**
   * The ids a full-text search looks through: the newest `scanLimit`
   * candidates below `below`, from `lowest` on; `partial` when older ones
   * are left. Candidates come from the index alone (no message is read),
   * from every room.
   */
  #newestCandidates(match: string, below: number, scanLimit: number): Scope {
    const older = this.#statement(
      `SELECT rowid AS id FROM messages_fts WHERE messages_fts MATCH :match AND rowid < :below
       ORDER BY rowid DESC LIMIT 1 OFFSET :scanLimit`,
    ).get({ match, below, scanLimit }) as { id: number } | undefined;
    return older ? { lowest: older.id + 1, partial: true } : { lowest: 0, partial: false };
  }

  /**
   * The ids a search for short terms looks through: the newest `scanLimit`
   * messages of the user's rooms below `below` (see
   * {@link MAX_WINDOW_FACTOR}), from `lowest` on; `partial` when the user's
   * rooms have older ones.
   */
  #newestOfRooms(user: string, below: number, scanLimit: number): Scope {
    const window = this.#statement(
      `SELECT count(*) AS n, min(id) AS low FROM (
         SELECT id FROM messages WHERE room_id IN (${READABLE}) AND id >= :low AND id < :high
         ORDER BY id DESC LIMIT :wanted)`,
    );
    let high = below;
    let width = scanLimit;
    let wanted = scanLimit;
    while (high > 1) {
      const low = Math.max(1, high - width);
      const { n, low: lowest } = window.get({ user, low, high, wanted }) as unknown as IdWindow;
      if (n === wanted) {
        const older = this.#statement(
          `SELECT 1 AS found FROM messages WHERE room_id IN (${READABLE}) AND id < :lowest LIMIT 1`,
        ).get({ user, lowest });
        return { lowest: lowest!, partial: older !== undefined };
      }
      wanted -= n;
      high = low;
      width = Math.min(width * 2, scanLimit * MAX_WINDOW_FACTOR);
    }
    return { lowest: 0, partial: false };
  }

  #newestId(): number {
    const row = this.#statement("SELECT max(id) AS id FROM messages").get() as {
      id: number | null;
    };
    return row.id ?? 0;
  }

  #statement(sql: string): StatementSync {
    return this.#statements.of(sql);
  }
}

/** The messages a page looks through: ids from `lowest` up to the page's `below`. */
interface Scope {
  lowest: number;
  /** Whether older messages that could match were left for the next page. */
  partial: boolean;
}

interface IdWindow {
  n: number;
  low: number | null;
}

/**
 * A read-only connection to a database file for searches, beside the
 * store's own: in WAL mode it reads the last commit while the writer goes
 * on, so that a search never delays a commit.
 */
export class SearchReader {
  readonly #db: DatabaseSync;
  readonly #search: MessageSearch;

  /** Opens `path`, which the store has opened (and migrated) already. */
  constructor(path: string) {
    this.#db = new DatabaseSync(path, { readOnly: true });
    this.#db.exec("PRAGMA busy_timeout = 5000");
    this.#search = new MessageSearch(this.#db);
  }

  /** See {@link MessageSearch.search}. */
  search(user: string, words: readonly string[], options: SearchOptions): SearchPage {
    return this.#search.search(user, words, options);
  }

  /** Closes the connection. */
  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
