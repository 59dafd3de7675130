/**
 * The store's worker: owns the SQLite database and runs batches of
 * operations sent by {@link SqliteStore}, each batch in one transaction —
 * the group commit. Runs in a Web Worker, off the server's event loop.
 * @module
 */

/// <reference lib="deno.worker" />

import { SqliteDatabase } from "./sqlite_database.ts";
import type { OpenOptions } from "./sqlite_database.ts";

/** An operation: a method of SqliteDatabase and its arguments. */
export interface Operation {
  op: string;
  args: unknown[];
}

/** What the store sends to the worker. */
export type WorkerRequest =
  | { type: "open"; path: string; options: OpenOptions }
  | { type: "batch"; operations: Operation[] }
  | { type: "close" };

/** One operation's outcome. */
export type Outcome = { ok: true; value: unknown } | { ok: false; error: string };

/** What the worker answers. */
export type WorkerReply =
  | { type: "opened" }
  | { type: "failed"; error: string }
  | { type: "batch"; outcomes: Outcome[] }
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
function run(db: SqliteDatabase, operations: Operation[]): Outcome[] {
  // deno-lint-ignore no-explicit-any
  const call = (o: Operation) => (db as any)[o.op](...o.args);
  if (operations.every((o) => READS.has(o.op))) {
    return operations.map((o) => attempt(() => call(o)));
  }
  try {
    return db.transaction(() => operations.map((o): Outcome => ({ ok: true, value: call(o) })));
  } catch {
    // fall through to the careful path
  }
  try {
    return db.transaction(() => operations.map((o) => attempt(() => db.savepoint(() => call(o)))));
  } catch (error) {
    const message = `commit failed: ${(error as Error).message}`;
    return operations.map(() => ({ ok: false, error: message }));
  }
}

function attempt(work: () => unknown): Outcome {
  try {
    return { ok: true, value: work() };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
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
      reply({ type: "batch", outcomes: run(database!, request.operations) });
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
