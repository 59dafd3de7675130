/**
 * Searching the messages a user may read on PostgreSQL, with the same
 * pages as the SQLite store's search (store/message_search.ts): newest
 * first, each page looking through a bounded number of messages.
 *
 * Every term is matched with ILIKE, which folds case by the database's
 * LC_CTYPE (a UTF-8 one such as C.UTF-8 folds every script). Terms of 3 or
 * more characters are found through the `pg_trgm` GIN index: a page's
 * candidates are the newest `scanLimit` messages that contain all of them.
 * Shorter terms have no trigram to look for; a page of them looks through
 * the newest `scanLimit` messages of the user's rooms, taken from the
 * (room_id, id) index in windows of ids, so that it never scans the whole
 * history (a plain scan for a 2-character term over 200,000 messages took
 * 135–200 ms; see docs/database-postgres.md).
 * @module
 */

import type { SearchPage } from "../records.ts";
import {
  INDEXED_TERM_LENGTH,
  likePattern,
  markMatches,
  parseSearchQuery,
} from "../search_query.ts";
import type { SearchOptions } from "../store.ts";
import type { Sql } from "./connection.ts";

/**
 * Short terms look through windows of ids, the first `scanLimit` wide,
 * each twice the last, up to this many times `scanLimit` (as the SQLite
 * store does): a quiet room's history is covered in a few steps.
 */
const MAX_WINDOW_FACTOR = 8;

/** The messages a page looks through: ids from `lowest` up to the page's `below`. */
interface Scope {
  lowest: number;
  /** Whether older messages that could match were left for the next page. */
  partial: boolean;
}

interface HitRow {
  id: number;
  kind: "room" | "group" | "direct";
  room: string;
  sender: string;
  time: number;
  content: string;
}

/**
 * One page of the messages `user` may read (rooms they have been in and are
 * not banned from; in a peer chat, those after their latest joining) that
 * contain every one of `words`, newest first (see `ChatStore.search`).
 * Reads one snapshot, so that its counts agree.
 */
export function searchMessages(
  sql: Sql,
  user: string,
  words: readonly string[],
  options: SearchOptions,
): Promise<SearchPage> {
  const { terms } = parseSearchQuery(words);
  if (terms.length === 0) {
    return Promise.resolve({ hits: [], total: 0, partial: false, next: null });
  }
  return sql.begin(
    "ISOLATION LEVEL REPEATABLE READ READ ONLY",
    (tx) => searchIn(tx as unknown as Sql, user, terms, options),
  ) as Promise<SearchPage>;
}

async function searchIn(
  sql: Sql,
  user: string,
  terms: string[],
  { limit, before, scanLimit }: SearchOptions,
): Promise<SearchPage> {
  const all = terms.map(likePattern);
  const indexed = terms.filter((t) => [...t].length >= INDEXED_TERM_LENGTH).map(likePattern);
  const readable = await sql.unsafe<{ room: number; after: number }[]>(
    `SELECT m.room_id AS room, m.joined_after AS after FROM memberships m
     WHERE m."user" = $1
       AND NOT EXISTS (SELECT 1 FROM bans b WHERE b.room_id = m.room_id AND b."user" = $1)`,
    [user],
    { prepare: true },
  );
  const rooms = readable.map((r) => r.room);
  const [{ newest }] = await sql.unsafe<{ newest: number }[]>(
    "SELECT coalesce(max(id), 0) AS newest FROM messages",
    [],
    { prepare: true },
  );
  const below = Math.min(before ?? Number.MAX_SAFE_INTEGER, newest + 1);
  const scope = indexed.length > 0
    ? await newestCandidates(sql, indexed, below, scanLimit)
    : await newestOfRooms(sql, rooms, below, scanLimit);
  // $1 rooms, $2 their joined_after, $3 lowest, $4 below, then the patterns
  const matches = all.map((_, i) => ` AND m.content ILIKE $${i + 5}`).join("");
  // room_id = ANY lets the planner read the user's rooms from their index,
  // rather than every message in the range (measured 150 against 29 ms)
  const from = `FROM messages m
    JOIN unnest($1::int8[], $2::int8[]) AS u(room_id, after) ON m.room_id = u.room_id
    WHERE m.room_id = ANY ($1::int8[]) AND m.id > u.after
      AND m.id >= $3::int8 AND m.id < $4::int8${matches}`;
  const params = [rooms, readable.map((r) => r.after), scope.lowest, below, ...all];
  // the page and how many match, in one pass over the messages looked through
  const rows = await sql.unsafe<(HitRow & { total: number })[]>(
    `SELECT m.id, r.kind, r.name AS room, m.sender, m.time, m.content, found.total
     FROM (SELECT m.id, count(*) OVER () AS total ${from} ORDER BY m.id DESC LIMIT ${limit})
       AS found
     JOIN messages m ON m.id = found.id JOIN rooms r ON r.id = m.room_id
     ORDER BY m.id DESC`,
    params,
  );
  const total = rows[0]?.total ?? 0;
  const hits = rows.map(({ content, total: _, ...hit }) => ({
    ...hit,
    snippet: markMatches(content, terms),
  }));
  const next = total > limit ? hits[hits.length - 1].id : scope.partial ? scope.lowest : null;
  return { hits, total, partial: scope.partial, next };
}

/**
 * The ids a search with indexed terms looks through: the newest
 * `scanLimit` messages below `below` that contain all of `patterns`, from
 * any room (the trigram index finds them), from `lowest` on; `partial`
 * when older ones are left.
 */
async function newestCandidates(
  sql: Sql,
  patterns: string[],
  below: number,
  scanLimit: number,
): Promise<Scope> {
  const matches = patterns.map((_, i) => ` AND content ILIKE $${i + 2}`).join("");
  const [older] = await sql.unsafe<{ id: number }[]>(
    `SELECT id FROM messages WHERE id < $1::int8${matches}
     ORDER BY id DESC OFFSET ${scanLimit} LIMIT 1`,
    [below, ...patterns],
  );
  return older ? { lowest: older.id + 1, partial: true } : { lowest: 0, partial: false };
}

/**
 * The ids a search for short terms looks through: the newest `scanLimit`
 * messages of `rooms` below `below` (see {@link MAX_WINDOW_FACTOR}), from
 * `lowest` on; `partial` when the rooms have older ones.
 */
async function newestOfRooms(
  sql: Sql,
  rooms: number[],
  below: number,
  scanLimit: number,
): Promise<Scope> {
  let high = below;
  let width = scanLimit;
  let wanted = scanLimit;
  while (high > 1) {
    const low = Math.max(1, high - width);
    const [{ n, lowest }] = await sql.unsafe<{ n: number; lowest: number | null }[]>(
      `SELECT count(*) AS n, min(id) AS lowest FROM (
         SELECT id FROM messages
         WHERE room_id = ANY ($1::int8[]) AND id >= $2::int8 AND id < $3::int8
         ORDER BY id DESC LIMIT $4::int8) AS newest`,
      [rooms, low, high, wanted],
      { prepare: true },
    );
    if (n === wanted) {
      const older = await sql.unsafe(
        "SELECT 1 FROM messages WHERE room_id = ANY ($1::int8[]) AND id < $2::int8 LIMIT 1",
        [rooms, lowest!],
        { prepare: true },
      );
      return { lowest: lowest!, partial: older.length > 0 };
    }
    wanted -= n;
    high = low;
    width = Math.min(width * 2, scanLimit * MAX_WINDOW_FACTOR);
  }
  return { lowest: 0, partial: false };
}
