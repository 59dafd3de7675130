/**
 * The store's worker: owns the SQLite database and runs batches of
 * operations sent by {@link SqliteStore}, each batch in one transaction —
 * the group commit. Runs in a Web Worker, off the server's event loop.
 * @module
 */

/// <reference lib="deno.worker" />

import { SqliteDatabase } from "./sqlite_database.ts";
import type { OpenOptions } from "./sqlite_database.ts";

/** What the store sends to the worker. */
export type WorkerRequest =
  | { type: "open"; path: string; options: OpenOptions }
  | { type: "batch"; ops: string[]; args: unknown[][] }
  | { type: "close" };

/**
 * The outcomes of a batch: `values[i]` is what operation i returned, and
 * `errors` is null when every operation succeeded, else `errors[i]` is
 * operation i's error message (undefined when it succeeded). Flat arrays:
 * they cost far less to post between threads than an object per operation.
 */
export interface Outcomes {
  values: unknown[];
  errors: (string | undefined)[] | null;
}

/** What the worker answers. */
export type WorkerReply =
  | { type: "opened" }
  | { type: "failed"; error: string }
  | ({ type: "batch" } & Outcomes)
  | { type: "closed" };

/** Operations that only read. */
const READS = new Set(["load", "getAccount", "history", "search"]);

let database: SqliteDatabase | null = null;
let indexing: ReturnType<typeof setTimeout> | null = null;

/**
 * Characters of content indexed per step: about 15 ms of work here, so a
 * batch never waits long behind the indexer.
 */
const INDEX_STEP_CHARS = 256 * 1024;

/**
 * Brings the full-text index up to date in steps between batches, so that
 * indexing never delays a commit by more than one step.
 */
function scheduleIndexing(): void {
  if (indexing !== null) return;
  indexing = setTimeout(() => {
    indexing = null;
    if (!database) return;
    try {
      const added = database.transaction(() => database!.indexPending(INDEX_STEP_CHARS));
      if (added > 0) scheduleIndexing();
    } catch {
      // retried after the next batch; search indexes what is missing itself
    }
  }, 0);
}

/**
 * Runs a batch in one transaction. Fast path: no savepoints (FTS5 flushes
 * its buffer at every savepoint, which measured 7x slower). If an operation
 * fails, the batch is rolled back and run again with each operation in its
 * own savepoint, so only the failing one fails.
 */
function run(db: SqliteDatabase, ops: string[], args: unknown[][]): Outcomes {
  // deno-lint-ignore no-explicit-any
  const call = (i: number) => (db as any)[ops[i]](...args[i]);
  if (ops.every((op) => READS.has(op))) return attemptEach(ops.length, call);
  try {
    return { values: db.transaction(() => ops.map((_, i) => call(i))), errors: null };
  } catch {
    // fall through to the careful path
  }
  try {
    return db.transaction(() => attemptEach(ops.length, (i) => db.savepoint(() => call(i))));
  } catch (error) {
    const message = `commit failed: ${(error as Error).message}`;
    return { values: ops.map(() => undefined), errors: ops.map(() => message) };
  }
}

/** Runs operations 0 … count-1, each on its own: one failing does not stop the others. */
function attemptEach(count: number, work: (i: number) => unknown): Outcomes {
  const values: unknown[] = [];
  let errors: (string | undefined)[] | null = null;
  for (let i = 0; i < count; i++) {
    try {
      values.push(work(i));
    } catch (error) {
      values.push(undefined);
      errors ??= new Array(count).fill(undefined);
      errors[i] = (error as Error).message;
    }
  }
  return { values, errors };
}

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  const reply = (message: WorkerReply) => self.postMessage(message);
  switch (request.type) {
    case "open":
      try {
        database = new SqliteDatabase(request.path, request.options);
        reply({ type: "opened" });
      } catch (error) {
        reply({ type: "failed", error: (error as Error).message });
      }
      break;
    case "batch":
      reply({ type: "batch", ...run(database!, request.ops, request.args) });
      scheduleIndexing();
      break;
    case "close":
      if (indexing !== null) clearTimeout(indexing);
      indexing = null;
      database?.close();
      database = null;
      reply({ type: "closed" });
      break;
  }
};
