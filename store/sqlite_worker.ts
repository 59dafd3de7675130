/**
 * The store's worker: owns the SQLite database and runs batches of
 * operations sent by {@link SqliteStore}, each batch in one transaction —
 * the group commit. Runs in a Web Worker, off the server's event loop.
 * @module
 */

/// <reference lib="deno.worker" />

import { SearchReader } from "./message_search.ts";
import { leavesStateUnknown, type OpenOptions, SqliteDatabase } from "./sqlite_database.ts";
import type { MessageRecord, RoomKind } from "./records.ts";
import { StoreError } from "./schema.ts";

/**
 * The operations a batch may run: methods of {@link SqliteDatabase}, by
 * name, each with its own arguments and result. A search reader runs
 * `search` only.
 */
export type StoreOperations = Pick<
  SqliteDatabase,
  | "load"
  | "getAccount"
  | "createAccount"
  | "accountLike"
  | "globalsSeal"
  | "syncGlobalsAccounts"
  | "createRoom"
  | "addMembership"
  | "setBelonging"
  | "markRead"
  | "readCounts"
  | "saveToken"
  | "useToken"
  | "dropTokens"
  | "changePassword"
  | "ban"
  | "unban"
  | "appendMessage"
  | "history"
  | "directRooms"
  | "search"
  | "indexAll"
>;

/** The name of a store operation. */
export type OperationName = keyof StoreOperations;

/**
 * The messages a batch appends, field by field: the i-th `appendMessage`
 * of the batch is the i-th entry of every column.
 */
export interface MessageColumns {
  ids: number[];
  kinds: RoomKind[];
  rooms: string[];
  senders: string[];
  times: number[];
  contents: string[];
  /** The mentions of the messages that have any: `mentions[j]` is of the `mentionsAt[j]`-th. */
  mentionsAt: number[];
  mentions: (readonly string[])[];
}

/**
 * What the store sends to the worker. In a batch, `args[i]` are operation
 * i's arguments, except for `appendMessage`, whose message is in `messages`.
 * A worker opened as a `reader` only searches (see {@link SearchReader}).
 */
export type WorkerRequest =
  | { type: "open"; path: string; options: OpenOptions; reader?: boolean }
  | { type: "batch"; ops: OperationName[]; args: unknown[][]; messages: MessageColumns }
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

/**
 * What the worker answers. `fatal` answers a batch, or comes unasked after
 * an indexing step, when what is on disk is not known any more (see
 * {@link leavesStateUnknown}): the worker has stopped writing, and the
 * operations in flight may or may not have been stored.
 */
export type WorkerReply =
  | { type: "opened"; wal: boolean }
  | { type: "failed"; error: string }
  | { type: "fatal"; error: string }
  | ({ type: "batch" } & Outcomes)
  | { type: "closed" };

/**
 * Operations that need no transaction of their own: reads, and bringing
 * the full-text index up to date (which commits without waiting for the disk).
 */
const READS: ReadonlySet<OperationName> = new Set<OperationName>([
  "load",
  "getAccount",
  "accountLike",
  "globalsSeal",
  "history",
  "directRooms",
  "readCounts",
  "search",
  "indexAll",
]);

let database: SqliteDatabase | SearchReader | null = null;
/** Why the writer stopped, once what is on disk is not known any more. */
let failure: string | null = null;
let indexing: ReturnType<typeof setTimeout> | null = null;
/** Whether the scheduled indexing step runs at once rather than after INDEX_DELAY_MS. */
let indexingAtOnce = false;

/**
 * Most characters of content, and most messages, indexed per step. FTS5
 * costs less per message the more it indexes at once (measured 25 µs per
 * short message at 100 per step, 18 at 500, 13 at 2,000); a step delays
 * the next batch, by up to ~50 ms for 4,096 short messages, which only a
 * server at full load accumulates between two batches.
 */
const INDEX_STEP_CHARS = 256 * 1024;
const INDEX_STEP_ROWS = 4096;

/**
 * Fewer messages than this waiting are indexed only after INDEX_DELAY_MS:
 * at light load each message would otherwise be indexed in a transaction
 * of its own right after the one that stored it, and FTS5 costs several
 * times more per message indexed one at a time (when each step also waited
 * for an fsync: 410 against 260 µs of CPU per message, measured).
 */
const INDEX_AT_ONCE_ROWS = 256;
const INDEX_DELAY_MS = 100;

/**
 * Brings the full-text index up to date in steps between batches, so that
 * indexing never delays a commit by more than one step.
 */
function scheduleIndexing(): void {
  if (!(database instanceof SqliteDatabase)) return;
  const waiting = database.unindexedMessages;
  if (waiting === 0) return;
  const atOnce = waiting >= INDEX_AT_ONCE_ROWS;
  if (indexing !== null) {
    if (indexingAtOnce || !atOnce) return;
    clearTimeout(indexing);
  }
  indexingAtOnce = atOnce;
  indexing = setTimeout(indexStep, atOnce ? 0 : INDEX_DELAY_MS);
}

function indexStep(): void {
  indexing = null;
  const db = database;
  if (!(db instanceof SqliteDatabase)) return;
  try {
    db.transactionNotFlushed(() => db.indexPending(INDEX_STEP_CHARS, INDEX_STEP_ROWS));
  } catch (error) {
    if (leavesStateUnknown(error)) stop(error);
    return; // else retried after the next batch; search indexes what is missing itself
  }
  scheduleIndexing();
}

/** Stops writing for good, and says why (see {@link WorkerReply}). */
function stop(error: unknown): void {
  if (indexing !== null) clearTimeout(indexing);
  indexing = null;
  failure ??= (error as Error).message;
  self.postMessage({ type: "fatal", error: failure } satisfies WorkerReply);
}

/**
 * Runs a batch in one transaction. Fast path: no savepoints (FTS5 flushes
 * its buffer at every savepoint, which measured 7x slower). If an operation
 * fails, the batch is rolled back and run again with each operation in its
 * own savepoint, so only the failing one fails — unless the failure leaves
 * what is on disk unknown: then nothing is tried again, and it is thrown.
 */
function run(db: SqliteDatabase | SearchReader, ops: OperationName[], args: unknown[][]): Outcomes {
  const call = (i: number) => perform(db, ops[i], args[i]);
  if (!(db instanceof SqliteDatabase) || ops.every((op) => READS.has(op))) {
    return attemptEach(ops.length, call);
  }
  try {
    return { values: db.transaction(() => runAll(db, ops, args, call)), errors: null };
  } catch (error) {
    if (leavesStateUnknown(error)) throw error;
    // else the careful path
  }
  try {
    return db.transaction(() => attemptEach(ops.length, (i) => db.savepoint(() => call(i))));
  } catch (error) {
    if (leavesStateUnknown(error)) throw error;
    const message = `commit failed: ${(error as Error).message}`;
    return { values: ops.map(() => undefined), errors: ops.map(() => message) };
  }
}

/**
 * Runs one operation with its arguments (as the store sent them, checked by
 * its types there); a search reader only searches.
 */
function perform(db: SqliteDatabase | SearchReader, op: OperationName, args: unknown[]): unknown {
  if (db instanceof SearchReader && op !== "search") {
    throw new StoreError(`a search reader does not ${op}`);
  }
  const operation = (db as StoreOperations)[op] as (...args: unknown[]) => unknown;
  return operation.apply(db, args);
}

/** Runs every operation; consecutive appended messages go in together. */
function runAll(
  db: SqliteDatabase,
  ops: OperationName[],
  args: unknown[][],
  call: (i: number) => unknown,
): unknown[] {
  const values: unknown[] = new Array(ops.length).fill(undefined);
  for (let i = 0; i < ops.length;) {
    if (ops[i] !== "appendMessage") {
      values[i] = call(i);
      i++;
      continue;
    }
    const messages: MessageRecord[] = [];
    for (; i < ops.length && ops[i] === "appendMessage"; i++) {
      messages.push(args[i][0] as MessageRecord);
    }
    db.appendMessages(messages);
  }
  return values;
}

/** Gives each `appendMessage` of the batch its message as its argument. */
function putMessagesInArgs({ ops, args, messages }: WorkerRequest & { type: "batch" }): void {
  const { ids, kinds, rooms, senders, times, contents, mentionsAt, mentions } = messages;
  let k = 0;
  let j = 0;
  for (let i = 0; i < ops.length; i++) {
    if (ops[i] !== "appendMessage") continue;
    const message: MessageRecord = {
      id: ids[k],
      kind: kinds[k],
      room: rooms[k],
      sender: senders[k],
      time: times[k],
      content: contents[k],
      mentions: mentionsAt[j] === k ? mentions[j++] : undefined,
    };
    args[i] = [message];
    k++;
  }
}

/**
 * Runs operations 0 … count-1, each on its own: one failing does not stop
 * the others, unless it leaves the writer's database in an unknown state.
 */
function attemptEach(count: number, work: (i: number) => unknown): Outcomes {
  const values: unknown[] = [];
  let errors: (string | undefined)[] | null = null;
  for (let i = 0; i < count; i++) {
    try {
      values.push(work(i));
    } catch (error) {
      if (database instanceof SqliteDatabase && leavesStateUnknown(error)) throw error;
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
        database = request.reader
          ? new SearchReader(request.path)
          : new SqliteDatabase(request.path, request.options);
        reply({ type: "opened", wal: database instanceof SqliteDatabase && database.wal });
      } catch (error) {
        reply({ type: "failed", error: (error as Error).message });
      }
      break;
    case "batch":
      if (failure !== null) {
        reply({ type: "fatal", error: failure });
        break;
      }
      putMessagesInArgs(request);
      try {
        reply({ type: "batch", ...run(database!, request.ops, request.args) });
      } catch (error) {
        stop(error);
        break;
      }
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
