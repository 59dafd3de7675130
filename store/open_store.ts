/**
 * Opens the store a `--db` value names: a `postgres://` (or
 * `postgresql://`) URL for PostgreSQL, anything else for a SQLite file.
 * @module
 */

import { StoreError } from "./schema.ts";
import { SqliteStore } from "./sqlite_store.ts";
import type { MessageRecord, PendingPayloads } from "./records.ts";
import type { ChatStore } from "./store.ts";
import type { SyncMode } from "./sqlite_database.ts";

/** How the store is opened, besides what `--db` names. */
export interface StoreOptions {
  /** SQLite only: see `OpenOptions.sync`. */
  sync?: SyncMode;
  /** Most writes per commit (group commit); 1 turns it off. */
  maxBatch?: number;
  /** PostgreSQL only: see `PostgresStoreOptions.batchWaitMs`. */
  batchWaitMs?: number;
  /** PostgreSQL only: see `PostgresStoreOptions.assignIds`. */
  assignIds?: boolean;
  /** PostgreSQL only: see `PostgresStoreOptions.announce`. */
  announce?: {
    readonly channel: string;
    payloads(messages: readonly Omit<MessageRecord, "id">[]): PendingPayloads;
  };
}

/**
 * The PostgreSQL store's module. Named through a variable, so that Deno
 * neither resolves nor downloads it (and the npm package it imports)
 * ahead: `deno task start` with a SQLite file fetches nothing.
 */
const POSTGRES_STORE = "./postgres/postgres_store.ts";

/** Whether `db` names a PostgreSQL database rather than a SQLite file. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/**
 * Opens the database `db` names.
 * @throws {StoreError} when it cannot be used (or, for PostgreSQL, Deno
 * lacks the permissions the `postgres` package needs).
 */
export async function openStore(db: string, options: StoreOptions = {}): Promise<ChatStore> {
  if (!isPostgresUrl(db)) return SqliteStore.open(db, options);
  let module;
  try {
    module = await import(POSTGRES_STORE);
  } catch (error) {
    throw new StoreError(`cannot load the PostgreSQL store: ${(error as Error).message}`);
  }
  try {
    const { maxBatch, batchWaitMs, assignIds, announce } = options;
    return await module.PostgresStore.open(db, { maxBatch, batchWaitMs, assignIds, announce });
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new StoreError(
        `a postgres:// database needs --allow-env (the postgres package reads PGHOST, PGPASSWORD, …): run deno task start:postgres (${error.message})`,
      );
    }
    throw error;
  }
}
