/**
 * The SQLite schema as a list of forward migrations. The database's
 * `PRAGMA user_version` records how many have been applied.
 * @module
 */

import type { DatabaseSync } from "node:sqlite";
import { renameDirectRooms } from "./direct_rooms.ts";

/**
 * Each entry moves the schema from version i to i + 1: SQL, or a function
 * for changes SQL cannot make alone.
 */
export const MIGRATIONS: readonly (string | ((db: DatabaseSync) => void))[] = [
  // 1: accounts, rooms and messages
  `CREATE TABLE accounts (
     name TEXT PRIMARY KEY,
     name_key TEXT NOT NULL UNIQUE,
     password_hash TEXT NOT NULL,
     source TEXT NOT NULL CHECK (source IN ('globals', 'registered')),
     disabled INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL
   ) STRICT;
   CREATE TABLE rooms (
     id INTEGER PRIMARY KEY,
     kind TEXT NOT NULL CHECK (kind IN ('room', 'group', 'direct')),
     name TEXT NOT NULL,
     created_by TEXT,
     created_at INTEGER NOT NULL,
     UNIQUE (kind, name)
   ) STRICT;
   CREATE TABLE messages (
     id INTEGER PRIMARY KEY,
     room_id INTEGER NOT NULL REFERENCES rooms (id),
     sender TEXT NOT NULL,
     time INTEGER NOT NULL,
     content TEXT NOT NULL
   ) STRICT;
   CREATE INDEX messages_by_room ON messages (room_id, id);`,
  // 2: full-text index of message content; trigram, so any script (Chinese
  // included) is searchable by substring. The store indexes messages after
  // committing them, in chunks, and always before a search; index_state
  // records how far it got.
  `CREATE VIRTUAL TABLE messages_fts USING fts5 (
     content, content = 'messages', content_rowid = 'id', tokenize = 'trigram'
   );
   CREATE TABLE index_state (
     one INTEGER PRIMARY KEY CHECK (one = 1),
     indexed_up_to INTEGER NOT NULL
   ) STRICT;
   INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
   INSERT INTO index_state VALUES (1, (SELECT coalesce(max(id), 0) FROM messages));`,
  // 3: who has been in which room, with what role, and who is banned
  `CREATE TABLE memberships (
     room_id INTEGER NOT NULL REFERENCES rooms (id),
     user TEXT NOT NULL,
     role TEXT NOT NULL CHECK (role IN ('owner', 'member')),
     since INTEGER NOT NULL,
     PRIMARY KEY (user, room_id)
   ) STRICT, WITHOUT ROWID;
   INSERT OR IGNORE INTO memberships (room_id, user, role, since)
     SELECT room_id, sender, 'member', min(time) FROM messages GROUP BY room_id, sender;
   INSERT OR REPLACE INTO memberships (room_id, user, role, since)
     SELECT id, created_by, 'owner', created_at FROM rooms WHERE created_by IS NOT NULL;
   CREATE TABLE bans (
     room_id INTEGER NOT NULL REFERENCES rooms (id),
     user TEXT NOT NULL,
     banned_by TEXT NOT NULL,
     reason TEXT NOT NULL,
     time INTEGER NOT NULL,
     PRIMARY KEY (room_id, user)
   ) STRICT, WITHOUT ROWID;`,
  // 4: the full-text index without positions (detail = none): a third less
  // CPU per message indexed and half the size on disk; a search finds
  // candidates by the terms' trigrams and checks the terms in the messages
  `DROP TABLE messages_fts;
   CREATE VIRTUAL TABLE messages_fts USING fts5 (
     content, content = 'messages', content_rowid = 'id', tokenize = 'trigram', detail = 'none'
   );
   INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
   UPDATE index_state SET indexed_up_to = (SELECT coalesce(max(id), 0) FROM messages);`,
  // 5: no per-message sizes in the index (columnsize = 0): only FTS5's own
  // ranking used them, and search ranks by itself; a third less CPU per
  // short message indexed
  `DROP TABLE messages_fts;
   CREATE VIRTUAL TABLE messages_fts USING fts5 (
     content, content = 'messages', content_rowid = 'id', tokenize = 'trigram', detail = 'none',
     columnsize = 0
   );
   INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
   UPDATE index_state SET indexed_up_to = (SELECT coalesce(max(id), 0) FROM messages);`,
  // 6: named values the server keeps between starts (the globals.txt seal)
  `CREATE TABLE settings (
     name TEXT PRIMARY KEY,
     value TEXT NOT NULL
   ) STRICT, WITHOUT ROWID;`,
  // 7: names unique up to look-alike characters. The keys' rules change with
  // Unicode's data, so they are no UNIQUE column any more: the store checks
  // them when it creates an account, and recomputes them all when the rules
  // change (the 'name keys' setting), look-alikes stored before included.
  // name_skeleton is the case-keeping key (see nameSkeleton).
  `CREATE TABLE accounts_7 (
     name TEXT PRIMARY KEY,
     name_key TEXT NOT NULL,
     name_skeleton TEXT NOT NULL DEFAULT '',
     password_hash TEXT NOT NULL,
     source TEXT NOT NULL CHECK (source IN ('globals', 'registered')),
     disabled INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL
   ) STRICT;
   INSERT INTO accounts_7 (name, name_key, password_hash, source, disabled, created_at)
     SELECT name, name_key, password_hash, source, disabled, created_at FROM accounts;
   DROP TABLE accounts;
   ALTER TABLE accounts_7 RENAME TO accounts;
   CREATE INDEX accounts_by_key ON accounts (name_key);
   CREATE INDEX accounts_by_skeleton ON accounts (name_skeleton);
   DELETE FROM settings WHERE name = 'name keys';`,
  // 8: a member of a peer chat reads (HISTORY, SEARCH) only the messages
  // posted after it joined: joined_after is the last message id before
  // that. Earlier peer chat memberships get it from their join time.
  `ALTER TABLE memberships ADD COLUMN joined_after INTEGER NOT NULL DEFAULT 0;
   UPDATE memberships SET joined_after = (
     SELECT coalesce(max(m.id), 0) FROM messages m
     WHERE m.room_id = memberships.room_id AND m.time < memberships.since)
   WHERE room_id IN (SELECT id FROM rooms WHERE kind = 'group');`,
  // 9: direct conversations named so that no two pairs of users share one
  renameDirectRooms,
  // 10: protocol 2.1. Belonging to a room (since when; 0 for not) apart
  // from having been in it; each member's read position, where what was
  // there before counts as read; the users each message mentions; sign-in
  // tokens, as SHA-256 hashes, with their last use.
  `ALTER TABLE memberships ADD COLUMN belongs_since INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE memberships ADD COLUMN read_up_to INTEGER NOT NULL DEFAULT 0;
   UPDATE memberships SET read_up_to =
     (SELECT coalesce(max(id), 0) FROM messages WHERE room_id = memberships.room_id);
   CREATE TABLE mentions (
     user TEXT NOT NULL,
     room_id INTEGER NOT NULL REFERENCES rooms (id),
     message_id INTEGER NOT NULL,
     PRIMARY KEY (user, room_id, message_id)
   ) STRICT, WITHOUT ROWID;
   CREATE TABLE tokens (
     hash TEXT PRIMARY KEY,
     user TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     used_at INTEGER NOT NULL
   ) STRICT, WITHOUT ROWID;
   CREATE INDEX tokens_by_user ON tokens (user, used_at);
   CREATE INDEX tokens_by_use ON tokens (used_at);`,
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** A database that cannot be used: corrupt, unreadable, or from a newer version. */
export class StoreError extends Error {
  /** Always `StoreError`. */
  override name = "StoreError";
}

/**
 * Brings a database up to {@link SCHEMA_VERSION}, each migration in its own
 * transaction. `upTo` stops earlier (for tests of old files).
 * @throws {StoreError} when the database is newer than this code.
 */
export function migrate(db: DatabaseSync, path: string, upTo = SCHEMA_VERSION): void {
  const version = schemaVersion(db);
  if (version > SCHEMA_VERSION) {
    throw new StoreError(
      `${path} was written by a newer Claptrap (schema version ${version}; this one knows up to ${SCHEMA_VERSION})`,
    );
  }
  for (let v = version; v < upTo; v++) {
    db.exec("BEGIN IMMEDIATE");
    try {
      const migration = MIGRATIONS[v];
      if (typeof migration === "string") db.exec(migration);
      else migration(db);
      db.exec(`PRAGMA user_version = ${v + 1}`);
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  }
}

/** The schema version recorded in a database (0 for a new one). */
export function schemaVersion(db: DatabaseSync): number {
  return Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
}
