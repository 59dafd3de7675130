/**
 * The SQLite store as the server uses it: a {@link ChatStore} whose
 * operations are queued and sent to a worker in batches. While the worker
 * commits one batch, the next one gathers, so under load one transaction
 * (and one fsync) carries many writes — group commit — and the event loop
 * never waits for the disk.
 * @module
 */

import type { OpenOptions } from "./sqlite_database.ts";
import type { MessageColumns, WorkerReply, WorkerRequest } from "./sqlite_worker.ts";
import type {
  AccountRecord,
  BanRecord,
  MessageRecord,
  RoomKind,
  RoomRecord,
  SearchHit,
} from "./records.ts";
import { StoreError } from "./schema.ts";
import type { ChatStore, HistoryRange, StoredState } from "./store.ts";

interface Queued {
  op: string;
  args: unknown[];
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** A ChatStore backed by a SQLite file (or `:memory:`) in a worker. */
export class SqliteStore implements ChatStore {
  readonly #worker: Worker;
  /** Most operations per transaction; 1 turns group commit off (for benchmarks). */
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
  #closed = false;
  #idleWaiters: (() => void)[] = [];
  /** Operations per batch of the latest (up to 1,000) batches, for benchmarks. */
  readonly batchSizes: number[] = [];
  /** Batches sent to the worker so far (one transaction each, when they write). */
  batches = 0;

  private constructor(worker: Worker, maxBatch: number) {
    this.#worker = worker;
    this.#maxBatch = maxBatch;
    worker.onmessage = (event: MessageEvent<WorkerReply>) => this.#onReply?.(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      this.#fail(`store worker failed: ${event.message}`);
    };
  }

  /**
   * Opens a database file (created when missing) or `:memory:`.
   * @throws {StoreError} when the file is corrupt, unreadable or newer.
   */
  static async open(
    path: string,
    options: OpenOptions & { maxBatch?: number } = {},
  ): Promise<SqliteStore> {
    const worker = new Worker(new URL("./sqlite_worker.ts", import.meta.url), { type: "module" });
    const store = new SqliteStore(worker, options.maxBatch ?? Infinity);
    const reply = await store.#exchange({ type: "open", path, options });
    if (reply.type === "failed") {
      worker.terminate();
      throw new StoreError(reply.error);
    }
    return store;
  }

  load(): Promise<StoredState> {
    return this.#call("load");
  }

  getAccount(name: string): Promise<AccountRecord | null> {
    return this.#call("getAccount", name);
  }

  createAccount(account: AccountRecord): Promise<boolean> {
    return this.#call("createAccount", account);
  }

  globalsSeal(): Promise<string | null> {
    return this.#call("globalsSeal");
  }

  syncGlobalsAccounts(accounts: readonly AccountRecord[], seal: string | null): Promise<void> {
    return this.#call("syncGlobalsAccounts", accounts, seal);
  }

  createRoom(room: RoomRecord): Promise<boolean> {
    return this.#call("createRoom", room);
  }

  addMembership(
    kind: RoomKind,
    room: string,
    user: string,
    since: number,
    joinedAfter = 0,
  ): Promise<void> {
    return this.#call("addMembership", kind, room, user, since, joinedAfter);
  }

  ban(ban: BanRecord): Promise<void> {
    return this.#call("ban", ban);
  }

  unban(room: string, user: string): Promise<boolean> {
    return this.#call("unban", room, user);
  }

  appendMessage(message: MessageRecord): Promise<void> {
    return this.#call("appendMessage", message);
  }

  history(kind: RoomKind, room: string, range: HistoryRange): Promise<MessageRecord[]> {
    return this.#call("history", kind, room, range);
  }

  directRooms(user: string): Promise<string[]> {
    return this.#call("directRooms", user);
  }

  search(user: string, query: string, limit: number): Promise<SearchHit[]> {
    return this.#call("search", user, query, limit);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#inFlight || this.#queue.length > 0) {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
    await this.#exchange({ type: "close" });
    this.#worker.terminate();
  }

  #call<T>(op: string, ...args: unknown[]): Promise<T> {
    if (this.#closed) return Promise.reject(new StoreError("the store is closed"));
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ op, args, resolve: resolve as (value: unknown) => void, reject });
      this.#schedule();
    });
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
    this.#onReply = (reply) => this.#settle(batch, reply);
    this.#worker.postMessage(batchRequest(batch) satisfies WorkerRequest);
  }

  #settle(batch: Queued[], reply: WorkerReply): void {
    this.#inFlight = null;
    this.#onReply = null;
    if (reply.type !== "batch") return;
    this.batches++;
    this.batchSizes.push(batch.length);
    if (this.batchSizes.length > 1000) this.batchSizes.splice(0, 500);
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

  #fail(message: string): void {
    this.#closed = true;
    const error = new StoreError(message);
    for (const queued of [...(this.#inFlight ?? []), ...this.#queue]) queued.reject(error);
    this.#queue = [];
    this.#inFlight = null;
    this.#onReply?.({ type: "failed", error: message });
    for (const wake of this.#idleWaiters.splice(0)) wake();
    this.#worker.terminate();
  }
}

/**
 * A batch as the worker takes it. Appended messages go as columns, not as
 * objects: cloning an object per message between threads cost three times
 * as much (1.5–1.7 against 0.5 µs per message, measured in batches of 100).
 */
function batchRequest(batch: readonly Queued[]): WorkerRequest {
  const ops: string[] = [];
  const args: unknown[][] = [];
  const messages: MessageColumns = {
    ids: [],
    kinds: [],
    rooms: [],
    senders: [],
    times: [],
    contents: [],
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
    messages.contents.push(message.content);
  }
  return { type: "batch", ops, args, messages };
}

const NO_ARGS: unknown[] = [];
