/**
 * The SQLite store as the server uses it: a {@link ChatStore} whose
 * operations are queued and sent to a worker in batches. While the worker
 * commits one batch, the next one gathers, so under load one transaction
 * (and one fsync) carries many writes — group commit — and the event loop
 * never waits for the disk.
 * @module
 */

import type { OpenOptions } from "./sqlite_database.ts";
import type {
  MessageColumns,
  OperationName,
  StoreOperations,
  WorkerReply,
  WorkerRequest,
} from "./sqlite_worker.ts";
import type {
  AccountRecord,
  BanRecord,
  MessageRecord,
  ReadCount,
  RoomKind,
  RoomRecord,
  SearchPage,
  TokenRecord,
} from "./records.ts";
import { StoreError } from "./schema.ts";
import {
  type ChatStore,
  type HistoryRange,
  type SearchOptions,
  type StoredPage,
  type StoredState,
  StoreFailedError,
} from "./store.ts";

/**
 * A ChatStore backed by a SQLite file (or `:memory:`) in a worker. For a
 * file in WAL mode, searches run in a second worker on a read-only
 * connection of their own, so that no search delays a commit.
 */
export class SqliteStore implements ChatStore {
  readonly #writer: WorkerQueue;
  readonly #reader: WorkerQueue | null;

  private constructor(writer: WorkerQueue, reader: WorkerQueue | null) {
    this.#writer = writer;
    this.#reader = reader;
  }

  /**
   * Opens a database file (created when missing) or `:memory:`.
   * @throws {StoreError} when the file is corrupt, unreadable or newer.
   */
  static async open(
    path: string,
    options: OpenOptions & { maxBatch?: number } = {},
  ): Promise<SqliteStore> {
    const writer = await WorkerQueue.open({ type: "open", path, options }, true, options.maxBatch);
    let reader = null;
    if (writer.wal) {
      // one search at a time, each answered as soon as it is done
      reader = await WorkerQueue.open({ type: "open", path, options, reader: true }, false, 1)
        .catch(async (error) => {
          await writer.close();
          throw error;
        });
    }
    return new SqliteStore(writer, reader);
  }

  /** Resolves if the writer stops, unable to tell what is on disk (see {@link StoreFailedError}). */
  get failure(): Promise<StoreFailedError> {
    return this.#writer.failure;
  }

  /** Operations per batch of the latest (up to 1,000) batches, for benchmarks. */
  get batchSizes(): readonly number[] {
    return this.#writer.batchSizes;
  }

  /** Batches sent to the worker so far (one transaction each, when they write). */
  get batches(): number {
    return this.#writer.batches;
  }

  load(): Promise<StoredState> {
    return this.#writer.call("load");
  }

  getAccount(name: string): Promise<AccountRecord | null> {
    return this.#writer.call("getAccount", name);
  }

  createAccount(account: AccountRecord): Promise<boolean> {
    return this.#writer.call("createAccount", account);
  }

  accountLike(name: string): Promise<string | null> {
    return this.#writer.call("accountLike", name);
  }

  globalsSeal(): Promise<string | null> {
    return this.#writer.call("globalsSeal");
  }

  syncGlobalsAccounts(accounts: readonly AccountRecord[], seal: string | null): Promise<void> {
    return this.#writer.call("syncGlobalsAccounts", accounts, seal);
  }

  createRoom(room: RoomRecord): Promise<boolean> {
    return this.#writer.call("createRoom", room);
  }

  addMembership(
    kind: RoomKind,
    room: string,
    user: string,
    since: number,
    joinedAfter = 0,
  ): Promise<void> {
    return this.#writer.call("addMembership", kind, room, user, since, joinedAfter);
  }

  setBelonging(room: string, user: string, belongs: boolean, since: number): Promise<void> {
    return this.#writer.call("setBelonging", room, user, belongs, since);
  }

  markRead(kind: RoomKind, room: string, user: string, id: number): Promise<void> {
    return this.#writer.call("markRead", kind, room, user, id);
  }

  readCounts(kind: RoomKind, rooms: readonly string[], user: string): Promise<ReadCount[]> {
    return this.#writer.call("readCounts", kind, rooms, user);
  }

  saveToken(token: TokenRecord, keep: number): Promise<void> {
    return this.#writer.call("saveToken", token, keep);
  }

  useToken(hash: string, now: number, maxIdleMs: number): Promise<string | null> {
    return this.#writer.call("useToken", hash, now, maxIdleMs);
  }

  dropTokens(user: string, hash?: string): Promise<void> {
    return this.#writer.call("dropTokens", user, hash);
  }

  changePassword(user: string, passwordHash: string): Promise<boolean> {
    return this.#writer.call("changePassword", user, passwordHash);
  }

  ban(ban: BanRecord): Promise<void> {
    return this.#writer.call("ban", ban);
  }

  unban(room: string, user: string): Promise<boolean> {
    return this.#writer.call("unban", room, user);
  }

  appendMessage(message: MessageRecord): Promise<void> {
    return this.#writer.call("appendMessage", message);
  }

  history(kind: RoomKind, room: string, range: HistoryRange): Promise<StoredPage> {
    return this.#writer.call("history", kind, room, range);
  }

  directRooms(user: string): Promise<string[]> {
    return this.#writer.call("directRooms", user);
  }

  /**
   * Searches on the reader when there is one, after the writer has indexed
   * the messages answered since the last search; a search does not wait
   * for messages still being written.
   */
  search(user: string, words: readonly string[], options: SearchOptions): Promise<SearchPage> {
    const reader = this.#reader;
    if (reader === null) return this.#writer.call("search", user, words, options);
    if (!this.#writer.storedMessages) return reader.call("search", user, words, options);
    this.#writer.storedMessages = false;
    return this.#writer.call("indexAll").then(() => reader.call("search", user, words, options));
  }

  async close(): Promise<void> {
    await Promise.all([this.#writer.close(), this.#reader?.close()]);
  }
}

interface Queued {
  op: OperationName;
  args: unknown[];
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * A store worker and its operations: queued, and sent in batches. While
 * the worker runs one batch, the next one gathers.
 */
class WorkerQueue {
  readonly #worker: Worker;
  /** Whether this is the writer, whose failing leaves what is on disk unknown. */
  readonly #writes: boolean;
  /** Most operations per batch; 1 turns group commit off (for benchmarks). */
  readonly #maxBatch: number;
  #queue: Queued[] = [];
  #inFlight: Queued[] | null = null;
  #scheduled = false;
  /** Made once, so that `#schedule` (called per request) allocates no closure. */
  readonly #sendScheduled = () => {
    this.#scheduled = false;
    this.#send();
  };
  #onReply: ((reply: WorkerReply) => void) | null = null;
  /** What calls are refused with: null while open. */
  #refusal: Error | null = null;
  /** Whether the worker is gone (closed, failed or crashed). */
  #terminated = false;
  #idleWaiters: (() => void)[] = [];
  /** Whether the database is in WAL mode (as the worker said when it opened it). */
  wal = false;
  /** Whether a batch that appended messages has been answered since this was last cleared. */
  storedMessages = false;
  /** Operations per batch of the latest (up to 1,000) batches. */
  readonly batchSizes: number[] = [];
  /** Batches sent so far. */
  batches = 0;
  #failed!: (error: StoreFailedError) => void;
  /** See {@link ChatStore.failure}; for the writer only. */
  readonly failure = new Promise<StoreFailedError>((resolve) => this.#failed = resolve);

  private constructor(worker: Worker, writes: boolean, maxBatch: number) {
    this.#worker = worker;
    this.#writes = writes;
    this.#maxBatch = maxBatch;
    worker.onmessage = (event: MessageEvent<WorkerReply>) => {
      const reply = event.data;
      if (reply.type === "fatal") this.#fail(`the database failed: ${reply.error}`);
      else this.#onReply?.(reply);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.#fail(`store worker failed: ${event.message}`);
    };
  }

  /**
   * Starts a worker and has it open the database; `writes` for the writer
   * (not the search reader), whose failure stops the store.
   * @throws {StoreError} when it cannot.
   */
  static async open(
    request: WorkerRequest & { type: "open" },
    writes: boolean,
    maxBatch = Infinity,
  ): Promise<WorkerQueue> {
    const worker = new Worker(new URL("./sqlite_worker.ts", import.meta.url), { type: "module" });
    const queue = new WorkerQueue(worker, writes, maxBatch);
    const reply = await queue.#exchange(request);
    if (reply.type !== "opened") {
      worker.terminate();
      throw new StoreError(reply.type === "failed" ? reply.error : "the store worker did not open");
    }
    queue.wal = reply.wal;
    return queue;
  }

  /** Queues an operation; it is sent with the others of this turn. */
  call<Op extends OperationName>(
    op: Op,
    ...args: Parameters<StoreOperations[Op]>
  ): Promise<ReturnType<StoreOperations[Op]>> {
    if (this.#refusal) return Promise.reject(this.#refusal);
    return new Promise((resolve, reject) => {
      this.#queue.push({ op, args, resolve: resolve as (value: unknown) => void, reject });
      this.#schedule();
    });
  }

  /** Finishes what is queued, then closes the database and stops the worker. */
  async close(): Promise<void> {
    if (this.#refusal) return;
    this.#refusal = new StoreError("the store is closed");
    while (this.#inFlight || this.#queue.length > 0) {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
    if (this.#terminated) return; // it failed meanwhile
    await this.#exchange({ type: "close" });
    this.#terminated = true;
    this.#worker.terminate();
  }

  /** Sends what is queued once the current turn's calls are all in. */
  #schedule(): void {
    if (this.#scheduled || this.#inFlight) return;
    this.#scheduled = true;
    queueMicrotask(this.#sendScheduled);
  }

  #send(): void {
    if (this.#inFlight) return;
    if (this.#queue.length === 0) {
      for (const wake of this.#idleWaiters.splice(0)) wake();
      return;
    }
    const batch = this.#queue.length <= this.#maxBatch
      ? this.#queue
      : this.#queue.slice(0, this.#maxBatch);
    this.#queue = batch === this.#queue ? [] : this.#queue.slice(this.#maxBatch);
    this.#inFlight = batch;
    const request = batchRequest(batch);
    const appends = request.messages.ids.length > 0;
    this.#onReply = (reply) => this.#settle(batch, reply, appends);
    this.#worker.postMessage(request satisfies WorkerRequest);
  }

  #settle(batch: Queued[], reply: WorkerReply, appends: boolean): void {
    this.#inFlight = null;
    this.#onReply = null;
    if (reply.type !== "batch") return;
    this.batches++;
    this.batchSizes.push(batch.length);
    if (this.batchSizes.length > 1000) this.batchSizes.splice(0, 500);
    if (appends) this.storedMessages = true;
    const { values, errors } = reply;
    batch.forEach((queued, i) => {
      const error = errors?.[i];
      if (error === undefined) queued.resolve(values[i]);
      else queued.reject(new StoreError(error));
    });
    this.#send();
  }

  #exchange(request: WorkerRequest): Promise<WorkerReply> {
    return new Promise((resolve) => {
      this.#onReply = (reply) => {
        this.#onReply = null;
        resolve(reply);
      };
      this.#worker.postMessage(request);
    });
  }

  /**
   * Stops for good: what is queued or in flight is rejected — for the
   * writer with a {@link StoreFailedError}, as it may be on disk.
   */
  #fail(message: string): void {
    if (this.#terminated) return;
    this.#terminated = true;
    const error = this.#writes ? new StoreFailedError(message) : new StoreError(message);
    this.#refusal = error;
    for (const queued of [...(this.#inFlight ?? []), ...this.#queue]) queued.reject(error);
    this.#queue = [];
    this.#inFlight = null;
    this.#onReply?.({ type: "failed", error: message });
    for (const wake of this.#idleWaiters.splice(0)) wake();
    this.#worker.terminate();
    if (error instanceof StoreFailedError) this.#failed(error);
  }
}

/**
 * A batch as the worker takes it. Appended messages go as columns, not as
 * objects: cloning an object per message between threads cost three times
 * as much (1.5–1.7 against 0.5 µs per message, measured in batches of 100).
 */
function batchRequest(batch: readonly Queued[]): WorkerRequest & { type: "batch" } {
  const ops: OperationName[] = [];
  const args: unknown[][] = [];
  const messages: MessageColumns = {
    ids: [],
    kinds: [],
    rooms: [],
    senders: [],
    times: [],
    contents: [],
    mentionsAt: [],
    mentions: [],
  };
  for (const { op, args: opArgs } of batch) {
    ops.push(op);
    if (op !== "appendMessage") {
      args.push(opArgs);
      continue;
    }
    args.push(NO_ARGS);
    const message = opArgs[0] as MessageRecord;
    messages.ids.push(message.id);
    messages.kinds.push(message.kind);
    messages.rooms.push(message.room);
    messages.senders.push(message.sender);
    messages.times.push(message.time);
    if (message.mentions?.length) {
      messages.mentionsAt.push(messages.ids.length - 1);
      messages.mentions.push(message.mentions);
    }
    messages.contents.push(message.content);
  }
  return { type: "batch", ops, args, messages };
}

const NO_ARGS: unknown[] = [];
