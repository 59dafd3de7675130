/**
 * The store on PostgreSQL, for servers that share one database (cluster
 * mode) or that want a database server rather than a file.
 *
 * Writes are queued and run in batches on one connection (group commit):
 * while one batch commits, the next one gathers. A batch of messages alone
 * is one statement, which commits by itself; any other batch is one
 * transaction. The messages go in as one statement either way, each room's
 * next sequence numbers taken under the lock of the room's row (locked in
 * id order, so that two servers never deadlock), so that a room's sequence
 * order is its commit order on every server. A write resolves only after
 * its commit.
 *
 * What PostgreSQL being away does:
 * - A batch runs on one connection: its statements are sent one after
 *   the other, each once the one before is answered, and a connection
 *   that fails is never used again (the package would go on with the next
 *   statements on a new connection, outside the transaction, and can leave
 *   a statement sent while its socket was closing unanswered for ever): the
 *   next batch makes a new one. A batch that takes longer than
 *   {@link BATCH_TIMEOUT_MS} loses its connection the same way.
 * - A batch that fails before its COMMIT (or its one statement) is sent was
 *   not committed: its operations reject with a {@link StoreError} (the
 *   server answers SERVER_ERROR).
 * - A batch whose connection is lost while its COMMIT (or its one
 *   statement) is under way may have committed. Each transaction sets the
 *   writer's row of `claptrap_writers` to its own number (a batch of
 *   messages alone, with what it stored); the batch's operations are
 *   neither resolved nor rejected until that row can be read (locked, and
 *   under the writer's advisory lock, which a batch of messages takes
 *   first, so that a transaction still running on the lost connection is
 *   waited for): before the next batch and every second. Its number:
 *   committed, they resolve as if nothing had happened; another: they
 *   reject. Until then later writes are refused. So a write is never
 *   reported as failed when it may be stored, and never as done when it
 *   is not. (The transaction's id cannot tell: after a crash, an id whose
 *   WAL was lost is given to another transaction.)
 * @module
 */

import { NAME_KEY_RULES, nameKey, nameSkeleton } from "../../protocol/names.ts";
import {
  type AccountRecord,
  type BanRecord,
  type LastSequences,
  MAX_COUNTED,
  type MessageRecord,
  type PendingPayloads,
  type ReadCount,
  type RoomKind,
  type RoomRecord,
  type SearchPage,
  type SequencedMessage,
  type StoredMessage,
  type TokenRecord,
} from "../records.ts";
import { StoreError } from "../schema.ts";
import { messagesWithin } from "../history_page.ts";
import {
  type ChatStore,
  globalsClashError,
  type HistoryRange,
  type SearchOptions,
  type StoredPage,
  type StoredState,
  StoreFailedError,
} from "../store.ts";
import { connect, isLockBusy, isStatementError, neverSent, type Sql } from "./connection.ts";
import { LAST_BLOCK_BITS, migratePostgres } from "./schema.ts";
import { searchMessages } from "./postgres_search.ts";

/** Options of {@link PostgresStore.open}. */
export interface PostgresStoreOptions {
  /** Most operations per batch (one transaction); 1 turns group commit off. Default 1,024. */
  maxBatch?: number;
  /**
   * How long a message waits, in ms, for others to share its commit when
   * no batch is under way (one that is under way gathers the next batch
   * by itself). Every batch costs PostgreSQL its own statement and fsync,
   * and every server of a cluster a wake-up for its NOTIFY; at a few
   * hundred messages a second, each would otherwise go alone. A message
   * that comes after a quiet while (see {@link QUIET_WAITS}) does not wait;
   * any other operation, or a full batch, sends a waiting batch at once.
   * Default 0.
   */
  batchWaitMs?: number;
  /** Most connections searches use at once. Default 4. */
  searchConnections?: number;
  /**
   * Whether messages get their ids from the database (a sequence, taken
   * under the locks of their rooms, so that a room's ids increase in its
   * commit order) rather than keep the ids they were given: for servers
   * that share the database. Default false.
   */
  assignIds?: boolean;
  /**
   * Announces each batch's messages with NOTIFY on `channel`, in the
   * batch's transaction (so that listeners hear of them once they are
   * committed, and only then): `payloads` turns them into the payloads.
   */
  announce?: {
    readonly channel: string;
    payloads(messages: readonly Omit<MessageRecord, "id">[]): PendingPayloads;
  };
}

/** Hears the announcements of every server, this one's too (see {@link PostgresStore.listen}). */
export interface AnnouncementListener {
  /** A payload NOTIFY carried on the channel. */
  heard(payload: string): void;
  /** Listening (again): what was announced meanwhile was not heard. */
  up(): void;
  /** Not listening until `up`: the writer's connection was lost. */
  down(): void;
}

/** Operations that write nothing: a batch of these alone needs no transaction. */
const READS = new Set([
  "load",
  "getAccount",
  "accountLike",
  "globalsSeal",
  "history",
  "directRooms",
  "readCounts",
]);

/** Default of {@link PostgresStoreOptions.maxBatch}. */
const DEFAULT_MAX_BATCH = 1024;

/** How often a batch whose COMMIT's outcome is not known is asked about when idle. */
const OUTCOME_RETRY_MS = 1000;

/** How soon a lost writer's connection is made again to listen on it, when no batch does it first. */
const RELISTEN_MS = 200;

/**
 * How long a batch may take before its connection is closed (and the batch
 * fails, or waits to learn its COMMIT's outcome): a bound on waiting for a
 * connection that will not answer.
 */
const BATCH_TIMEOUT_MS = 15_000;

/** Most operators' notes read at once (see `keptNotes`): a console makes a few a minute. */
const MAX_KEPT_NOTES = 1000;

/**
 * A message that comes more than this many batch waits after the one
 * before it goes at once: in a quiet room, another would seldom come
 * within the wait, which would only make it later. At 100 messages a
 * second, 96% of them come sooner than that after the one before.
 */
const QUIET_WAITS = 4;

/**
 * The writer's session settings. A transaction left open by a connection
 * that was lost before its COMMIT arrived ends (rolled back) after 10 s
 * idle, releasing its locks (its room rows, its `claptrap_writers` row).
 * Statements are planned once: PostgreSQL otherwise planned the batch of
 * messages' statements again at every batch (their arrays' lengths make a
 * plan for the lengths look cheaper), about 60 µs of its CPU per batch
 * each for the statement and for `claptrap_number`; every statement the
 * writer runs goes by an index from its parameters.
 */
const WRITER_SETTINGS = {
  idle_in_transaction_session_timeout: "10000",
  plan_cache_mode: "force_generic_plan",
};

type Op =
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
  | "directRooms";

interface Queued {
  op: Op;
  args: unknown[];
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** Operations whose batch's COMMIT was cut off, waiting to hear whether it committed. */
interface Unresolved {
  /** The transaction's number, as it set the writer's row of `claptrap_writers`. */
  transaction: number;
  batch: Queued[];
  /** What the operations return; null for a batch of messages alone, read from the writer's row. */
  values: unknown[] | null;
  errors: (Error | undefined)[];
}

/** An operation failed on its own; the others of its batch go on. */
class OperationError extends StoreError {
  override name = "OperationError";
}

/** A Claptrap database on a PostgreSQL server. */
export class PostgresStore implements ChatStore {
  /**
   * One connection: every write, and the reads that keep their order among
   * them; it listens to the announcements too (see `listen`). Made anew for
   * the next batch once it failed or closed (`#writerLost`).
   */
  #writer!: Sql;
  #writerLost = false;
  #listener: AnnouncementListener | null = null;
  /** Whether the writer's connection (this one) has run LISTEN. */
  #listening = false;
  #listenTimer: ReturnType<typeof setTimeout> | null = null;
  readonly #url: string;
  /** This writer's row in `claptrap_writers`. */
  readonly #writerId = crypto.randomUUID();
  /** Transactions begun, numbering them. */
  #transactions = 0;
  /** A pool for searches, which run beside the writes. */
  readonly #searcher: Sql;
  /** The database, as logs may show it (no password). */
  readonly #where: string;
  readonly #maxBatch: number;
  readonly #batchWaitMs: number;
  /** While a message waits for others to share its batch (see {@link PostgresStoreOptions.batchWaitMs}). */
  #batchWait: ReturnType<typeof setTimeout> | null = null;
  /** When the latest message came (`performance.now()`). */
  #lastMessageAt = -Infinity;
  readonly #assignIds: boolean;
  readonly #announce: PostgresStoreOptions["announce"];
  /** Room ids by kind and name, of committed rooms (rooms are never removed). */
  readonly #roomIds = new Map<string, number>();
  /** Room ids created by the batch in flight, kept once it commits. */
  #newRoomIds = new Map<string, number>();
  #queue: Queued[] = [];
  #running = false;
  #scheduled = false;
  readonly #sendScheduled = () => {
    this.#scheduled = false;
    this.#batchWait = null;
    this.#next();
  };
  #batches = 0;
  /** Batches answered so far. */
  #answered = 0;
  /** Readers waiting until `#answered` reaches a batch number. */
  #answerWaiters: { batch: number; wake(): void }[] = [];
  #unresolved: Unresolved | null = null;
  #outcomeTimer: ReturnType<typeof setTimeout> | null = null;
  #closed: StoreError | null = null;
  #idleWaiters: (() => void)[] = [];
  /** Operations per batch of the latest (up to 1,000) batches, for benchmarks. */
  readonly batchSizes: number[] = [];

  /** Never resolves: this store stops for nothing (see the module's notes). */
  readonly failure: Promise<StoreFailedError> = new Promise(() => {});

  private constructor(url: string, searcher: Sql, where: string, options: PostgresStoreOptions) {
    this.#url = url;
    this.#writer = this.#connectWriter();
    this.#searcher = searcher;
    this.#where = where;
    this.#maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    this.#batchWaitMs = options.batchWaitMs ?? 0;
    this.#assignIds = options.assignIds ?? false;
    this.#announce = options.announce;
  }

  /**
   * Connects to the database at `url` (`postgres://user:password@host:port/db`;
   * what it leaves out comes from PGHOST, PGUSER, PGPASSWORD, …) and brings
   * its schema up to date.
   * @throws {StoreError} when it cannot connect, or the database cannot be used.
   */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const where = describe(url);
    const searcher = connect(url, options.searchConnections ?? 4);
    const store = new PostgresStore(url, searcher, where, options);
    const writer = store.#writer;
    try {
      await migratePostgres(writer, where);
      // the rows of writers that stopped without closing
      await writer.unsafe("DELETE FROM claptrap_writers WHERE at < now() - interval '1 day'");
      await store.#refreshNameKeys();
      if (store.#assignIds) await catchUpMessageIds(writer);
    } catch (error) {
      await Promise.all([writer.end({ timeout: 1 }), searcher.end({ timeout: 1 })]);
      if (error instanceof StoreError) throw error;
      throw new StoreError(`cannot use database ${where}: ${(error as Error).message}`);
    }
    return store;
  }

  load(): Promise<StoredState> {
    return this.#call("load", []);
  }

  getAccount(name: string): Promise<AccountRecord | null> {
    return this.#call("getAccount", [name]);
  }

  createAccount(account: AccountRecord): Promise<boolean> {
    return this.#call("createAccount", [account]);
  }

  accountLike(name: string): Promise<string | null> {
    return this.#call("accountLike", [name]);
  }

  globalsSeal(): Promise<string | null> {
    return this.#call("globalsSeal", []);
  }

  syncGlobalsAccounts(accounts: readonly AccountRecord[], seal: string | null): Promise<void> {
    return this.#call("syncGlobalsAccounts", [accounts, seal]);
  }

  createRoom(room: RoomRecord): Promise<boolean> {
    return this.#call("createRoom", [room]);
  }

  addMembership(
    kind: RoomKind,
    room: string,
    user: string,
    since: number,
    joinedAfter = 0,
  ): Promise<void> {
    return this.#call("addMembership", [kind, room, user, since, joinedAfter]);
  }

  setBelonging(room: string, user: string, belongs: boolean, since: number): Promise<void> {
    return this.#call("setBelonging", [room, user, belongs, since]);
  }

  markRead(kind: RoomKind, room: string, user: string, id: number): Promise<void> {
    return this.#call("markRead", [kind, room, user, id]);
  }

  readCounts(kind: RoomKind, rooms: readonly string[], user: string): Promise<ReadCount[]> {
    return this.#call("readCounts", [kind, rooms, user]);
  }

  saveToken(token: TokenRecord, keep: number): Promise<void> {
    return this.#call("saveToken", [token, keep]);
  }

  useToken(hash: string, now: number, maxIdleMs: number): Promise<string | null> {
    return this.#call("useToken", [hash, now, maxIdleMs]);
  }

  dropTokens(user: string, hash?: string): Promise<void> {
    return this.#call("dropTokens", [user, hash]);
  }

  changePassword(user: string, passwordHash: string): Promise<boolean> {
    return this.#call("changePassword", [user, passwordHash]);
  }

  ban(ban: BanRecord): Promise<void> {
    return this.#call("ban", [ban]);
  }

  unban(room: string, user: string): Promise<boolean> {
    return this.#call("unban", [room, user]);
  }

  /**
   * Resolves, after the COMMIT, with the message's id (its own, or with
   * `assignIds` the database's) and its sequence number in its room. Its
   * mentions and its sender's read position go in with it, in the same
   * statement as the batch's other messages.
   */
  appendMessage(message: MessageRecord): Promise<StoredMessage> {
    return this.#call("appendMessage", [message]);
  }

  history(kind: RoomKind, room: string, range: HistoryRange): Promise<StoredPage> {
    return this.#call("history", [kind, room, range]);
  }

  directRooms(user: string): Promise<string[]> {
    return this.#call("directRooms", [user]);
  }

  /** Runs on a connection of its own, beside the writes: it sees every committed message. */
  search(user: string, words: readonly string[], options: SearchOptions): Promise<SearchPage> {
    if (this.#closed) return Promise.reject(this.#closed);
    return searchMessages(this.#searcher, user, words, options).catch((error) => {
      throw this.#storeError(error);
    });
  }

  /**
   * For the cluster's fan-out: up to `limit` messages of a room with
   * sequence numbers above `afterSeq` and ids above `afterId`, in sequence
   * order (what a server fetches to fill a gap in what it delivered; a
   * room's ids increase with its sequence numbers), each with the users it
   * mentions, as announced. Empty for a room that does not exist. Reads
   * what is committed, beside the writes, and answers once the writes under
   * way by then have been answered: a message this server committed is then
   * already delivered here (its sender left out), never found first as a gap
   * to fill (and given to its sender too).
   */
  async messagesAfter(
    kind: RoomKind,
    room: string,
    afterSeq: number,
    limit: number,
    afterId = 0,
  ): Promise<SequencedMessage[]> {
    if (this.#closed) throw this.#closed;
    let rows;
    try {
      rows = await this.#searcher.unsafe<
        {
          id: number;
          seq: number;
          sender: string;
          time: number;
          content: string;
          mentions: string[];
        }[]
      >(
        `SELECT m.id, m.seq, m.sender, m.time, m.content,
           array(SELECT n."user" FROM mentions n WHERE n.room_id = m.room_id
             AND n.message_id = m.id ORDER BY n.nth) AS mentions
         FROM rooms r JOIN messages m ON m.room_id = r.id
         WHERE r.kind = $1 AND r.name = $2 AND m.seq > $3::int8
           ${afterId > 0 ? "AND m.id > $5::int8" : ""}
         ORDER BY m.seq LIMIT $4::int8`,
        // without an id floor, the statement a room's sequence index answers (not its id index)
        afterId > 0 ? [kind, room, afterSeq, limit, afterId] : [kind, room, afterSeq, limit],
        { prepare: true },
      );
    } catch (error) {
      throw this.#storeError(error);
    }
    await this.#writesAnswered();
    return rows.map(({ mentions, ...row }) => ({
      ...row,
      kind,
      room,
      ...(mentions.length > 0 ? { mentions } : {}),
    }));
  }

  /**
   * For the cluster's fan-out: every room whose latest committed message
   * has an id above `afterId`, with that message's sequence number and id (what
   * a server compares with what it delivered, after a bus reconnection and
   * every second or so), and the highest of those ids.
   */
  async lastSequences(afterId = 0): Promise<LastSequences> {
    if (this.#closed) throw this.#closed;
    try {
      const rows = await this.#searcher.unsafe<
        { kind: RoomKind; name: string; last: number; last_id: number }[]
      >(
        `SELECT kind, name, last_seq AS last, last_id FROM rooms
         WHERE last_block >= ($1::int8 >> ${LAST_BLOCK_BITS}) AND last_id > $1::int8`,
        [afterId],
        // planned for its value: a generic plan would scan every room, also for a recent id
        { prepare: false },
      );
      let lastId = afterId;
      const rooms = rows.map((row) => {
        if (row.last_id > lastId) lastId = row.last_id;
        return { kind: row.kind, name: row.name, lastSeq: row.last, lastId: row.last_id };
      });
      return { rooms, lastId };
    } catch (error) {
      throw this.#storeError(error);
    }
  }

  /**
   * For the cluster's operators' notes (see `ClusterBus`): keeps `note`
   * for the other servers to read for a minute, and sweeps those older
   * than two.
   */
  async keepNote(note: string): Promise<void> {
    if (this.#closed) throw this.#closed;
    try {
      await this.#searcher.unsafe(
        `WITH kept AS (INSERT INTO claptrap_operator_notes (note) VALUES ($1)),
           swept AS (DELETE FROM claptrap_operator_notes WHERE at < now() - interval '2 minutes')
         SELECT 1`,
        [note],
        { prepare: true },
      );
    } catch (error) {
      throw this.#storeError(error);
    }
  }

  /** The notes kept in the last minute (see {@link keepNote}), oldest first. */
  async keptNotes(): Promise<string[]> {
    if (this.#closed) throw this.#closed;
    try {
      const rows = await this.#searcher.unsafe<{ note: string }[]>(
        `SELECT note FROM claptrap_operator_notes WHERE at > now() - interval '1 minute'
         ORDER BY id LIMIT ${MAX_KEPT_NOTES}`,
        [],
        { prepare: true },
      );
      return rows.map((row) => row.note);
    } catch (error) {
      throw this.#storeError(error);
    }
  }

  /**
   * Has the writer's connection LISTEN to the announcements' channel, and
   * `listener` hear them, from then on (a lost connection is made again
   * and listens again; `listener` is told). A server hears its own
   * announcements that way with the answers to its own statements, not
   * as a wake-up of a connection of their own; the others' come between
   * its statements (PostgreSQL delivers them when a statement ends).
   * @throws {StoreError} when the store announces nothing, or cannot listen now.
   */
  async listen(listener: AnnouncementListener): Promise<void> {
    if (this.#announce === undefined) throw new StoreError("this store announces nothing");
    if (this.#closed) throw this.#closed;
    this.#listener = listener;
    while (this.#running) await delay(10);
    try {
      await this.#betweenBatches(() => this.#listen());
    } catch (error) {
      this.#listener = null;
      throw this.#storeError(error);
    }
  }

  /**
   * Runs `work` on the writer while no batch runs (it is one connection,
   * in a transaction while a batch runs), then sends what queued
   * meanwhile. What `work` throws is thrown, the writer dropped unless
   * PostgreSQL only refused a statement. Call it when `#running` is false.
   */
  async #betweenBatches(work: () => Promise<unknown>): Promise<void> {
    this.#running = true;
    try {
      this.#renewWriter();
      await work();
    } catch (error) {
      this.#writerFailed(error);
      throw error;
    } finally {
      this.#running = false;
      this.#next();
    }
  }

  /** A connection for the writer: one that tells of announcements, and of its end. */
  #connectWriter(): Sql {
    const writer: Sql = connect(this.#url, 1, WRITER_SETTINGS, {
      notified: (channel, payload) => {
        if (channel === this.#announce?.channel) this.#listener?.heard(payload);
      },
      closed: () => {
        if (this.#writer === writer) this.#dropWriter();
      },
    });
    return writer;
  }

  /** LISTEN on the writer's connection (between batches: it is one connection). */
  async #listen(): Promise<void> {
    const channel = this.#announce!.channel.replaceAll('"', '""');
    const writer = this.#writer;
    await writer.unsafe(`LISTEN "${channel}"`);
    if (this.#writerLost || this.#writer !== writer) {
      throw new StoreError(`the connection to ${this.#where} closed as it began to listen`);
    }
    this.#listening = true;
    this.#listener?.up();
  }

  /** Listens again soon, unless a batch does it first (each begins with it when needed). */
  #scheduleListen(): void {
    if (this.#listenTimer !== null || this.#listener === null || this.#closed) return;
    this.#listenTimer = setTimeout(() => {
      this.#listenTimer = null;
      if (this.#listening || this.#listener === null || this.#closed) return;
      if (this.#running) return this.#scheduleListen();
      this.#betweenBatches(() => this.#listen()).catch(() => {}).then(() => this.#scheduleListen());
    }, RELISTEN_MS);
  }

  /**
   * Finishes what is queued, waits (a few seconds at most) to hear what
   * became of batches whose COMMIT was cut off, and closes the connections.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = new StoreError("the store is closed");
    this.#listener = null;
    if (this.#listenTimer !== null) clearTimeout(this.#listenTimer);
    if (this.#batchWait !== null) this.#sendWaiting();
    while (this.#running || this.#queue.length > 0) {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
    for (let tries = 0; this.#unresolved !== null && tries < 5; tries++) {
      this.#renewWriter();
      if (!await this.#resolveOutcome().catch((error) => this.#writerFailed(error))) {
        await delay(OUTCOME_RETRY_MS);
      }
    }
    if (this.#outcomeTimer !== null) clearTimeout(this.#outcomeTimer);
    if (this.#unresolved !== null) {
      // still not known: never reported as failed (see StoreFailedError)
      const error = new StoreFailedError(
        `the database at ${this.#where} did not say whether a write was committed`,
      );
      for (const queued of this.#unresolved.batch) queued.reject(error);
    } else {
      this.#renewWriter();
      await this.#query("DELETE FROM claptrap_writers WHERE id = $1", [this.#writerId])
        .catch(() => {});
    }
    await Promise.all([this.#writer.end({ timeout: 2 }), this.#searcher.end({ timeout: 2 })]);
  }

  /** Batches sent so far. */
  get batches(): number {
    return this.#batches;
  }

  #call<T>(op: Op, args: unknown[]): Promise<T> {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ op, args, resolve: resolve as (value: unknown) => void, reject });
      const flowing = op === "appendMessage" && this.#batchWaitMs > 0 && this.#messagesFlow();
      if (
        this.#batchWait !== null && (op !== "appendMessage" || this.#queue.length >= this.#maxBatch)
      ) {
        this.#sendWaiting();
      } else if (!this.#scheduled && !this.#running) {
        this.#scheduled = true;
        if (flowing) {
          this.#batchWait = setTimeout(this.#sendScheduled, this.#batchWaitMs);
        } else queueMicrotask(this.#sendScheduled);
      }
    });
  }

  /**
   * Whether the message coming now came soon enough after the one before
   * it to wait for another; notes when it came.
   */
  #messagesFlow(): boolean {
    const now = performance.now();
    const flowing = now - this.#lastMessageAt < QUIET_WAITS * this.#batchWaitMs;
    this.#lastMessageAt = now;
    return flowing;
  }

  /** Sends the batch that waits for more messages now (see {@link PostgresStoreOptions.batchWaitMs}). */
  #sendWaiting(): void {
    clearTimeout(this.#batchWait!);
    this.#batchWait = null;
    queueMicrotask(this.#sendScheduled);
  }

  /** Resolves once the batches running or queued now have been answered (a waiting one is sent). */
  #writesAnswered(): Promise<void> {
    if (this.#batchWait !== null) this.#sendWaiting();
    const batch = this.#batches + Math.ceil(this.#queue.length / this.#maxBatch);
    if (this.#answered >= batch) return Promise.resolve();
    return new Promise((wake) => this.#answerWaiters.push({ batch, wake }));
  }

  #next(): void {
    if (this.#running) return;
    if (this.#queue.length === 0) {
      for (const wake of this.#idleWaiters.splice(0)) wake();
      return;
    }
    const batch = this.#queue.length <= this.#maxBatch
      ? this.#queue
      : this.#queue.slice(0, this.#maxBatch);
    this.#queue = batch === this.#queue ? [] : this.#queue.slice(this.#maxBatch);
    this.#running = true;
    this.#batches++;
    this.batchSizes.push(batch.length);
    if (this.batchSizes.length > 1000) this.batchSizes.splice(0, 500);
    this.#runBatch(batch).finally(() => {
      this.#running = false;
      this.#answered++;
      if (this.#answerWaiters.length > 0) {
        this.#answerWaiters = this.#answerWaiters.filter((waiter) => {
          if (waiter.batch > this.#answered) return true;
          waiter.wake();
          return false;
        });
      }
      this.#next();
    });
  }

  /** Runs a batch and settles its operations (or leaves them unresolved: see the module). */
  async #runBatch(batch: Queued[]): Promise<void> {
    const values: unknown[] = new Array(batch.length).fill(undefined);
    const errors: (Error | undefined)[] = new Array(batch.length).fill(undefined);
    this.#renewWriter();
    const watchdog = setTimeout(() => this.#dropWriter(), BATCH_TIMEOUT_MS);
    try {
      if (this.#unresolved !== null) await this.#resolveOutcome();
      if (this.#listener !== null && !this.#listening) await this.#listen();
      if (batch.every((queued) => READS.has(queued.op))) {
        await Promise.all(batch.map(async (queued, i) => {
          try {
            values[i] = await this.#perform(queued);
          } catch (error) {
            if (!(error instanceof OperationError) && !isStatementError(error)) throw error;
            errors[i] = this.#storeError(error);
          }
        }));
      } else {
        if (this.#unresolved !== null) {
          throw new StoreError(
            `whether an earlier write to ${this.#where} was committed is not known yet`,
          );
        }
        const committed = batch.every((queued) => queued.op === "appendMessage")
          ? await this.#appendAlone(batch, values, errors)
          : await this.#transaction(batch, values, errors);
        if (!committed) return; // left unresolved
      }
    } catch (error) {
      this.#writerFailed(error);
      const failed = this.#storeError(error);
      batch.forEach((queued) => queued.reject(failed));
      return;
    } finally {
      clearTimeout(watchdog);
    }
    settle(batch, values, errors);
  }

  /**
   * After an error on the writer: unless PostgreSQL refused a statement (its
   * connection answered), the connection is not used again. Returns false.
   */
  #writerFailed(error: unknown): false {
    if (!isStatementError(error) && !(error instanceof StoreError)) this.#dropWriter();
    return false;
  }

  /**
   * Closes the writer's connection at once: what was sent on it and is not
   * answered fails, and its LISTEN ends.
   */
  #dropWriter(): void {
    if (this.#writerLost) return;
    this.#writerLost = true;
    this.#writer.end({ timeout: 0 }).catch(() => {});
    if (this.#listening) {
      this.#listening = false;
      this.#listener?.down();
    }
    this.#scheduleListen();
  }

  /** A new writer connection in place of one dropped (connected when first used). */
  #renewWriter(): void {
    if (!this.#writerLost) return;
    this.#writer = this.#connectWriter();
    this.#writerLost = false;
  }

  /**
   * Stores a batch of messages alone in one statement, which commits by
   * itself: one round trip, and the rooms' rows stay locked only while
   * PostgreSQL runs and commits it. A statement PostgreSQL refused stored
   * nothing: the batch runs again as a transaction, each message alone.
   * Returns false when the outcome is not known (the batch is left
   * unresolved: the statement sets the writer's row, with what it stored).
   * Throws when nothing was stored.
   */
  async #appendAlone(
    batch: Queued[],
    values: unknown[],
    errors: (Error | undefined)[],
  ): Promise<boolean> {
    const transaction = ++this.#transactions;
    const messages = batch.map((queued) => queued.args[0] as MessageRecord);
    let stored;
    try {
      stored = await this.#appendMessages(messages, transaction);
    } catch (error) {
      if (isStatementError(error)) return await this.#transaction(batch, values, errors);
      if (neverSent(error)) throw error;
      return this.#leaveUnresolved({ transaction, batch, values: null, errors });
    }
    this.#storedInto(messages, stored, values, errors);
    return true;
  }

  /** Puts what a batch of messages alone stored into `values`, and an error for each not stored. */
  #storedInto(
    messages: readonly MessageRecord[],
    stored: readonly (StoredMessage | undefined)[],
    values: unknown[],
    errors: (Error | undefined)[],
  ): void {
    stored.forEach((one, k) => {
      if (one === undefined) errors[k] = new OperationError(this.#noRoom(messages[k]));
      else values[k] = one;
    });
  }

  /**
   * Runs the batch's operations in one transaction: all at once, and if
   * one fails, again each in a savepoint of its own, so that it fails
   * alone. Returns false when the COMMIT's outcome is not known (the batch
   * is left unresolved). Throws when nothing was committed. Each statement
   * is sent once the one before it is answered (see the module's notes).
   */
  async #transaction(
    batch: Queued[],
    values: unknown[],
    errors: (Error | undefined)[],
  ): Promise<boolean> {
    const transaction = ++this.#transactions;
    try {
      try {
        await this.#begin(transaction);
        await this.#performAll(batch, values);
      } catch (error) {
        if (!(error instanceof OperationError) && !isStatementError(error)) throw error;
        await this.#writer.unsafe("ROLLBACK");
        values.fill(undefined);
        await this.#begin(transaction);
        await this.#performEach(batch, values, errors);
      }
    } catch (error) {
      // a connection that answered must not stay in this transaction (a lost one took it along)
      if (isStatementError(error)) await this.#writer.unsafe("ROLLBACK").catch(() => {});
      throw error;
    }
    try {
      await this.#writer.unsafe("COMMIT");
    } catch (error) {
      if (isStatementError(error)) throw error; // refused: rolled back
      return this.#leaveUnresolved({ transaction, batch, values, errors });
    }
    this.#committed();
    return true;
  }

  /**
   * Leaves a batch whose commit's answer was lost to be settled once
   * PostgreSQL can say what became of it (see `#resolveOutcome`). False.
   */
  #leaveUnresolved(unresolved: Unresolved): false {
    this.#dropWriter();
    this.#unresolved = unresolved;
    this.#scheduleOutcomes();
    return false;
  }

  /**
   * Sends the BEGIN of transaction number `transaction`, which marks the
   * writer's row with its number (one message); its answer.
   */
  #begin(transaction: number): Promise<unknown> {
    this.#newRoomIds.clear();
    // both values are ours (a number, a UUID): a simple query takes no parameters
    return this.#writer.unsafe(
      `BEGIN; INSERT INTO claptrap_writers VALUES ('${this.#writerId}', ${transaction}, now())
       ON CONFLICT (id) DO UPDATE SET transaction = excluded.transaction, at = excluded.at`,
    ).execute();
  }

  #committed(): void {
    for (const [key, id] of this.#newRoomIds) this.#roomIds.set(key, id);
    this.#newRoomIds.clear();
  }

  /** Every operation of the batch, in its transaction; consecutive appended messages in one statement. */
  async #performAll(batch: Queued[], values: unknown[]): Promise<void> {
    for (let i = 0; i < batch.length;) {
      if (batch[i].op !== "appendMessage") {
        values[i] = await this.#perform(batch[i]);
        i++;
        continue;
      }
      let end = i;
      while (end < batch.length && batch[end].op === "appendMessage") end++;
      const messages = batch.slice(i, end).map((queued) => queued.args[0] as MessageRecord);
      const stored = await this.#appendMessages(messages, this.#transactions);
      for (let k = 0; k < messages.length; k++) {
        if (stored[k] === undefined) throw new OperationError(this.#noRoom(messages[k]));
        values[i + k] = stored[k];
      }
      i = end;
    }
  }

  /** Every operation of the batch in a savepoint of its own: one failing fails alone. */
  async #performEach(
    batch: Queued[],
    values: unknown[],
    errors: (Error | undefined)[],
  ): Promise<void> {
    for (let i = 0; i < batch.length; i++) {
      await this.#writer.unsafe("SAVEPOINT op");
      const rooms = new Map(this.#newRoomIds);
      try {
        values[i] = await this.#perform(batch[i]);
        await this.#writer.unsafe("RELEASE SAVEPOINT op");
      } catch (error) {
        if (!(error instanceof OperationError) && !isStatementError(error)) throw error;
        await this.#writer.unsafe("ROLLBACK TO SAVEPOINT op");
        this.#newRoomIds = rooms;
        errors[i] = this.#storeError(error);
      }
    }
  }

  #perform({ op, args }: Queued): Promise<unknown> {
    switch (op) {
      case "load":
        return this.#load();
      case "getAccount":
        return this.#getAccount(args[0] as string);
      case "createAccount":
        return this.#createAccount(args[0] as AccountRecord);
      case "accountLike":
        return this.#accountLike(args[0] as string);
      case "globalsSeal":
        return this.#globalsSeal();
      case "syncGlobalsAccounts":
        return this.#syncGlobalsAccounts(args[0] as AccountRecord[], args[1] as string | null);
      case "createRoom":
        return this.#createRoom(args[0] as RoomRecord);
      case "addMembership":
        return this.#addMembership(...(args as [RoomKind, string, string, number, number]));
      case "setBelonging":
        return this.#setBelonging(...(args as [string, string, boolean, number]));
      case "markRead":
        return this.#markRead(...(args as [RoomKind, string, string, number]));
      case "readCounts":
        return this.#readCounts(...(args as [RoomKind, string[], string]));
      case "saveToken":
        return this.#saveToken(args[0] as TokenRecord, args[1] as number);
      case "useToken":
        return this.#useToken(...(args as [string, number, number]));
      case "dropTokens":
        return this.#dropTokens(args[0] as string, args[1] as string | undefined);
      case "changePassword":
        return this.#changePassword(args[0] as string, args[1] as string);
      case "ban":
        return this.#ban(args[0] as BanRecord);
      case "unban":
        return this.#unban(args[0] as string, args[1] as string);
      case "appendMessage": {
        const message = args[0] as MessageRecord;
        return this.#appendMessages([message], this.#transactions).then(([stored]) => {
          if (stored === undefined) throw new OperationError(this.#noRoom(message));
          return stored;
        });
      }
      case "history":
        return this.#history(...(args as [RoomKind, string, HistoryRange]));
      case "directRooms":
        return this.#directRooms(args[0] as string);
    }
  }

  /** Runs one statement on the writer, prepared once. */
  #query<T>(text: string, params: unknown[] = []): Promise<T[]> {
    // deno-lint-ignore no-explicit-any
    return this.#writer.unsafe(text, params as any[], { prepare: true }) as unknown as Promise<T[]>;
  }

  async #load(): Promise<StoredState> {
    const rooms = await this.#query<
      { name: string; created_by: string | null; created_at: number }
    >(
      "SELECT name, created_by, created_at FROM rooms WHERE kind = 'room' ORDER BY id",
    );
    const bans = await this.#query<
      { room: string; user: string; banned_by: string; reason: string; time: number }
    >(
      `SELECT r.name AS room, b."user", b.banned_by, b.reason, b.time
       FROM bans b JOIN rooms r ON r.id = b.room_id ORDER BY b.time`,
    );
    const [{ last }] = await this.#query<{ last: number | null }>(
      "SELECT max(id) AS last FROM messages",
    );
    // hashes read `scrypt$N$r$p$salt$key`
    const costs = await this.#query<{ cost: number; accounts: number }>(
      `SELECT split_part(password_hash, '$', 2)::int8 AS cost, count(*) AS accounts
       FROM accounts WHERE password_hash ~ '^scrypt\\$[0-9]{1,15}\\$'
       GROUP BY cost HAVING split_part(password_hash, '$', 2)::int8 > 0`,
    );
    const belongings = await this.#query<{ room: string; user: string }>(
      `SELECT r.name AS room, m."user" FROM memberships m JOIN rooms r ON r.id = m.room_id
       WHERE m.belongs_since > 0 AND r.kind = 'room' ORDER BY m.belongs_since`,
    );
    return {
      rooms: rooms.map((r) => ({
        kind: "room" as const,
        name: r.name,
        createdBy: r.created_by,
        createdAt: r.created_at,
      })),
      bans: bans.map((b) => ({
        room: b.room,
        user: b.user,
        bannedBy: b.banned_by,
        reason: b.reason,
        time: b.time,
      })),
      lastMessageId: last ?? 0,
      passwordCosts: new Map(costs.map((c) => [c.cost, c.accounts])),
      belongings: belongings.map((b) => ({ room: b.room, user: b.user })),
    };
  }

  async #getAccount(name: string): Promise<AccountRecord | null> {
    const [row] = await this.#query<AccountRow>(
      "SELECT name, password_hash, source, disabled, created_at FROM accounts WHERE name = $1",
      [name],
    );
    return row ? accountOf(row) : null;
  }

  /**
   * Takes, until the commit, the locks of `name`'s keys: a server that
   * checks a look-alike of it at the same time waits, so that two servers
   * never both find the name free.
   */
  async #lockName(name: string): Promise<void> {
    await this.#query(
      `SELECT pg_advisory_xact_lock(h)
       FROM unnest(ARRAY[hashtext('key ' || $1), hashtext('skeleton ' || $2)]) AS h ORDER BY h`,
      [nameKey(name), nameSkeleton(name)],
    );
  }

  async #createAccount(account: AccountRecord): Promise<boolean> {
    await this.#lockName(account.name);
    if (await this.#getAccount(account.name) || await this.#lookAlike(account.name) !== undefined) {
      return false;
    }
    await this.#query(
      `INSERT INTO accounts (name, name_key, name_skeleton, password_hash, source, disabled,
         created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7::int8)`,
      [
        account.name,
        nameKey(account.name),
        nameSkeleton(account.name),
        account.passwordHash,
        account.source,
        account.disabled,
        account.createdAt,
      ],
    );
    return true;
  }

  /** An account other than `name` whose name counts as the same: equal nameKey or nameSkeleton. */
  async #accountLike(name: string): Promise<string | null> {
    return (await this.#getAccount(name))?.name ?? await this.#lookAlike(name) ?? null;
  }

  async #lookAlike(name: string): Promise<string | undefined> {
    const [row] = await this.#query<{ name: string }>(
      `SELECT name FROM accounts WHERE (name_key = $1 OR name_skeleton = $2) AND name <> $3
       LIMIT 1`,
      [nameKey(name), nameSkeleton(name), name],
    );
    return row?.name;
  }

  async #globalsSeal(): Promise<string | null> {
    const [row] = await this.#query<{ value: string }>(
      "SELECT value FROM settings WHERE name = 'globals seal'",
    );
    return row?.value ?? null;
  }

  async #syncGlobalsAccounts(accounts: readonly AccountRecord[], seal: string | null) {
    for (const account of accounts) {
      await this.#lockName(account.name);
      const clash = await this.#lookAlike(account.name);
      if (clash !== undefined) {
        throw new OperationError(globalsClashError(account.name, clash).message);
      }
      await this.#query(
        `INSERT INTO accounts (name, name_key, name_skeleton, password_hash, source, disabled,
           created_at)
         VALUES ($1, $2, $3, $4, 'globals', false, $5::int8)
         ON CONFLICT (name) DO UPDATE SET
           password_hash = excluded.password_hash, source = 'globals', disabled = false`,
        [
          account.name,
          nameKey(account.name),
          nameSkeleton(account.name),
          account.passwordHash,
          account.createdAt,
        ],
      );
    }
    await this.#query(
      `UPDATE accounts SET disabled = true
       WHERE source = 'globals' AND NOT (name = ANY ($1::text[]))`,
      [accounts.map((a) => a.name)],
    );
    if (seal === null) await this.#query("DELETE FROM settings WHERE name = 'globals seal'");
    else {
      await this.#query(
        `INSERT INTO settings VALUES ('globals seal', $1)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
        [seal],
      );
    }
  }

  /** Makes every account's name keys anew when they were made under other rules. */
  async #refreshNameKeys(): Promise<void> {
    const [row] = await this.#query<{ value: string }>(
      "SELECT value FROM settings WHERE name = 'name keys'",
    );
    if (row?.value === NAME_KEY_RULES) return;
    await this.#writer.unsafe("BEGIN");
    try {
      const accounts = await this.#query<{ name: string }>(
        "SELECT name FROM accounts FOR UPDATE",
      );
      if (accounts.length > 0) {
        await this.#query(
          `UPDATE accounts SET name_key = k.key, name_skeleton = k.skeleton
           FROM unnest($1::text[], $2::text[], $3::text[]) AS k(name, key, skeleton)
           WHERE accounts.name = k.name`,
          [
            accounts.map((a) => a.name),
            accounts.map((a) => nameKey(a.name)),
            accounts.map((a) => nameSkeleton(a.name)),
          ],
        );
      }
      await this.#query(
        `INSERT INTO settings VALUES ('name keys', $1)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
        [NAME_KEY_RULES],
      );
      await this.#writer.unsafe("COMMIT");
    } catch (error) {
      await this.#writer.unsafe("ROLLBACK").catch(() => {});
      throw error;
    }
  }

  async #createRoom(room: RoomRecord): Promise<boolean> {
    const [row] = await this.#query<{ id: number }>(
      `INSERT INTO rooms (kind, name, created_by, created_at) VALUES ($1, $2, $3, $4::int8)
       ON CONFLICT (kind, name) DO NOTHING RETURNING id`,
      [room.kind, room.name, room.createdBy, room.createdAt],
    );
    if (!row) return false;
    this.#newRoomIds.set(roomKey(room.kind, room.name), row.id);
    if (room.createdBy !== null) {
      await this.#query(
        `INSERT INTO memberships (room_id, "user", role, since) VALUES ($1::int8, $2, 'owner', $3::int8)
         ON CONFLICT ("user", room_id) DO UPDATE SET role = 'owner', since = excluded.since,
           joined_after = 0`,
        [row.id, room.createdBy, room.createdAt],
      );
    }
    return true;
  }

  /** The id of a room, or null when there is none. */
  async #findRoom(kind: RoomKind, name: string): Promise<number | null> {
    const key = roomKey(kind, name);
    const known = this.#roomIds.get(key) ?? this.#newRoomIds.get(key);
    if (known !== undefined) return known;
    const [row] = await this.#query<{ id: number }>(
      "SELECT id FROM rooms WHERE kind = $1 AND name = $2",
      [kind, name],
    );
    if (!row) return null;
    // committed: a room the batch created is in #newRoomIds (until a rollback undoes it)
    this.#roomIds.set(key, row.id);
    return row.id;
  }

  async #roomId(kind: RoomKind, name: string): Promise<number> {
    const id = await this.#findRoom(kind, name);
    if (id === null) {
      throw new OperationError(`no ${kind} ${JSON.stringify(name)} in ${this.#where}`);
    }
    return id;
  }

  async #addMembership(
    kind: RoomKind,
    room: string,
    user: string,
    since: number,
    joinedAfter = 0,
  ): Promise<void> {
    await this.#query(
      `INSERT INTO memberships (room_id, "user", role, since, joined_after)
       VALUES ($1::int8, $2, 'member', $3::int8, $4::int8)
       ON CONFLICT ("user", room_id) DO UPDATE SET joined_after = excluded.joined_after
       WHERE memberships.joined_after <> excluded.joined_after`,
      [await this.#roomId(kind, room), user, since, joinedAfter],
    );
  }

  async #ban(ban: BanRecord): Promise<void> {
    await this.#query(
      `INSERT INTO bans (room_id, "user", banned_by, reason, time)
       VALUES ($1::int8, $2, $3, $4, $5::int8)
       ON CONFLICT (room_id, "user") DO UPDATE SET banned_by = excluded.banned_by,
         reason = excluded.reason, time = excluded.time`,
      [await this.#roomId("room", ban.room), ban.user, ban.bannedBy, ban.reason, ban.time],
    );
  }

  async #unban(room: string, user: string): Promise<boolean> {
    const rows = await this.#query(
      `DELETE FROM bans WHERE room_id = $1::int8 AND "user" = $2 RETURNING 1`,
      [await this.#roomId("room", room), user],
    );
    return rows.length === 1;
  }

  async #setBelonging(room: string, user: string, belongs: boolean, since: number) {
    // since 0 would read as not belonging
    const belongsSince = belongs ? Math.max(since, 1) : 0;
    await this.#query(
      `INSERT INTO memberships (room_id, "user", role, since, belongs_since)
       VALUES ($1::int8, $2, 'member', $3::int8, $4::int8)
       ON CONFLICT ("user", room_id) DO UPDATE SET belongs_since = excluded.belongs_since
       WHERE (memberships.belongs_since > 0) <> (excluded.belongs_since > 0)`,
      [await this.#roomId("room", room), user, since, belongsSince],
    );
  }

  async #markRead(kind: RoomKind, room: string, user: string, id: number): Promise<void> {
    const roomId = await this.#findRoom(kind, room);
    if (roomId === null) return;
    await this.#query(
      `UPDATE memberships SET read_up_to = $1::int8
       WHERE "user" = $2 AND room_id = $3::int8 AND read_up_to < $1::int8`,
      [id, user, roomId],
    );
  }

  /** Every place's two counts in one statement, each a range of an index, cut off at MAX_COUNTED. */
  async #readCounts(kind: RoomKind, rooms: readonly string[], user: string) {
    const counts: ReadCount[] = rooms.map(() => ({ unread: 0, mentions: 0 }));
    if (rooms.length === 0) return counts;
    const rows = await this.#query<{ i: number; unread: number; mentions: number }>(
      `SELECT w.i::int4 AS i,
         (SELECT count(*)::int4 FROM (SELECT FROM messages
           WHERE room_id = r.id AND id > m.read_up_to LIMIT ${MAX_COUNTED}) AS u) AS unread,
         (SELECT count(*)::int4 FROM (SELECT FROM mentions
           WHERE "user" = $3 AND room_id = r.id AND message_id > m.read_up_to
           LIMIT ${MAX_COUNTED}) AS n) AS mentions
       FROM unnest($2::text[]) WITH ORDINALITY AS w(name, i)
       JOIN rooms r ON r.kind = $1 AND r.name = w.name
       JOIN memberships m ON m.room_id = r.id AND m."user" = $3`,
      [kind, rooms, user],
    );
    for (const { i, unread, mentions } of rows) counts[i - 1] = { unread, mentions };
    return counts;
  }

  async #saveToken(token: TokenRecord, keep: number): Promise<void> {
    await this.#query(
      `INSERT INTO tokens (hash, "user", created_at, used_at) VALUES ($1, $2, $3::int8, $3::int8)
       ON CONFLICT (hash) DO UPDATE SET "user" = excluded."user",
         created_at = excluded.created_at, used_at = excluded.used_at`,
      [token.hash, token.user, token.createdAt],
    );
    await this.#query(
      `DELETE FROM tokens WHERE hash IN (
         SELECT hash FROM tokens WHERE "user" = $1 ORDER BY used_at DESC OFFSET $2::int8)`,
      [token.user, keep],
    );
  }

  async #useToken(hash: string, now: number, maxIdleMs: number): Promise<string | null> {
    // one snapshot: the update leaves alone the rows the delete takes
    const [row] = await this.#query<{ user: string }>(
      `WITH idle AS (DELETE FROM tokens WHERE used_at < $2::int8)
       UPDATE tokens SET used_at = $3::int8 WHERE hash = $1 AND used_at >= $2::int8
       RETURNING "user"`,
      [hash, now - maxIdleMs, now],
    );
    return row?.user ?? null;
  }

  async #dropTokens(user: string, hash: string | undefined): Promise<void> {
    await this.#query(
      `DELETE FROM tokens WHERE "user" = $1 AND ($2::text IS NULL OR hash = $2)`,
      [user, hash ?? null],
    );
  }

  async #changePassword(user: string, passwordHash: string): Promise<boolean> {
    const rows = await this.#query(
      "UPDATE accounts SET password_hash = $2 WHERE name = $1 RETURNING 1",
      [user, passwordHash],
    );
    if (rows.length === 0) return false;
    await this.#dropTokens(user, undefined);
    return true;
  }

  /**
   * Stores messages in one statement ({@link APPEND_MESSAGES}): it locks
   * their rooms' rows in id order, numbers each room's messages on from its
   * `last_seq` (and with `assignIds` takes their ids from the sequence
   * then), inserts them, stores whom they mention, moves each sender's read
   * position up to their latest message, sets the writer's row to
   * `transaction` with what it stored and, with `announce`, NOTIFYs them
   * (heard once committed). The id and sequence number of each message, in
   * order; undefined for a message whose room does not exist.
   */
  async #appendMessages(
    messages: readonly MessageRecord[],
    transaction: number,
  ): Promise<(StoredMessage | undefined)[]> {
    const rooms = new Map<string, number>();
    const kinds: RoomKind[] = [];
    const names: string[] = [];
    const roomOf: number[] = [];
    const mentionOf: number[] = [];
    const mentioned: string[] = [];
    const nths: number[] = [];
    for (const [k, message] of messages.entries()) {
      const key = roomKey(message.kind, message.room);
      let room = rooms.get(key);
      if (room === undefined) {
        rooms.set(key, room = kinds.length);
        kinds.push(message.kind);
        names.push(message.room);
      }
      roomOf.push(room);
      for (const [nth, user] of (message.mentions ?? []).entries()) {
        mentionOf.push(k);
        mentioned.push(user);
        nths.push(nth);
      }
    }
    const announced = this.#announce?.payloads(messages) ??
      { heads: [], payload: [], entry: [], message: [] };
    const rows = await this.#query<{ i: number; id: number; seq: number }>(APPEND_MESSAGES, [
      kinds,
      names,
      roomOf,
      messages.map((m) => m.sender),
      messages.map((m) => m.time),
      messages.map((m) => m.content),
      messages.map((m) => this.#assignIds ? 0 : m.id),
      this.#assignIds,
      mentionOf,
      mentioned,
      nths,
      this.#writerId,
      transaction,
      this.#announce?.channel ?? "",
      announced.heads,
      announced.payload,
      announced.entry,
      announced.message,
    ]);
    const stored: (StoredMessage | undefined)[] = new Array(messages.length).fill(undefined);
    for (const { i, id, seq } of rows) stored[i] = { id, seq };
    return stored;
  }

  #noRoom(message: MessageRecord): string {
    return `no ${message.kind} ${JSON.stringify(message.room)} in ${this.#where}`;
  }

  /**
   * See `ChatStore.history`: first the ids and content sizes of the page
   * and one message more (no content is read for that), then the content
   * of those within `maxBytes`.
   */
  async #history(kind: RoomKind, room: string, range: HistoryRange): Promise<StoredPage> {
    // a direct conversation exists only once its first message is stored
    const roomId = await this.#findRoom(kind, room);
    if (roomId === null) return { messages: [], more: false };
    const newest = range.after === undefined;
    const sizes = await this.#query<{ id: number; size: number }>(
      `SELECT id, octet_length(content) AS size FROM messages
       WHERE room_id = $1::int8 AND id > $2::int8 AND id < $3::int8
       ORDER BY id ${newest ? "DESC" : ""} LIMIT $4::int8`,
      [
        roomId,
        Math.max(range.after ?? 0, range.floor ?? 0),
        range.before ?? Number.MAX_SAFE_INTEGER,
        range.limit + 1,
      ],
    );
    const taken = messagesWithin(sizes, range.limit, range.maxBytes);
    if (taken === 0) return { messages: [], more: false };
    const ends = [sizes[0].id, sizes[taken - 1].id];
    const rows = await this.#query<{ id: number; sender: string; time: number; content: string }>(
      `SELECT id, sender, time, content FROM messages
       WHERE room_id = $1::int8 AND id BETWEEN $2::int8 AND $3::int8 ORDER BY id`,
      [roomId, Math.min(...ends), Math.max(...ends)],
    );
    const messages = rows.map((r) => ({
      id: r.id,
      kind,
      room,
      sender: r.sender,
      time: r.time,
      content: r.content,
    }));
    return { messages, more: taken < sizes.length };
  }

  async #directRooms(user: string): Promise<string[]> {
    const rows = await this.#query<{ name: string }>(
      `SELECT r.name FROM memberships m JOIN rooms r ON r.id = m.room_id
       WHERE m."user" = $1 AND r.kind = 'direct'
       ORDER BY (SELECT max(id) FROM messages WHERE room_id = r.id) DESC NULLS LAST`,
      [user],
    );
    return rows.map((row) => row.name);
  }

  /**
   * Asks what became of the transaction whose COMMIT (or a batch of
   * messages alone, whose statement) was cut off, and settles its
   * operations once PostgreSQL knows: the writer's row, read under its
   * lock and the writer's advisory lock (so after the transaction, if it
   * still runs), holds the transaction's number if and only if it
   * committed (no later one began), and what a batch of messages stored.
   * Returns whether it is settled. Throws when PostgreSQL cannot be asked.
   */
  async #resolveOutcome(): Promise<boolean> {
    const unresolved = this.#unresolved;
    if (unresolved === null) return true;
    let rows;
    try {
      rows = await this.#query<
        { free: boolean; transaction: number | null; stored: number[] | null }
      >(
        `SELECT pg_try_advisory_xact_lock(${WRITER_LOCK_CLASS}, hashtext($1)) AS free,
           w.transaction, w.stored
         FROM (SELECT 1) AS one LEFT JOIN (SELECT transaction, stored FROM claptrap_writers
           WHERE id = $1 FOR UPDATE NOWAIT) AS w ON true`,
        [this.#writerId],
      );
    } catch (error) {
      if (isLockBusy(error)) return false; // still running, on the lost connection
      throw error;
    }
    if (!rows[0].free) return false;
    this.#unresolved = null;
    const { batch, values, errors } = unresolved;
    if (rows[0].transaction === unresolved.transaction) {
      if (values !== null) return settle(batch, values, errors), true;
      const stored: (StoredMessage | undefined)[] = new Array(batch.length).fill(undefined);
      const triples = rows[0].stored ?? [];
      for (let t = 0; t + 2 < triples.length; t += 3) {
        stored[triples[t]] = { id: triples[t + 1], seq: triples[t + 2] };
      }
      const found: unknown[] = new Array(batch.length).fill(undefined);
      const messages = batch.map((queued) => queued.args[0] as MessageRecord);
      this.#storedInto(messages, stored, found, errors);
      settle(batch, found, errors);
    } else {
      const error = new StoreError(
        `the connection to ${this.#where} was lost during a commit, which did not happen`,
      );
      for (const queued of batch) queued.reject(error);
    }
    return true;
  }

  /** Asks again about an unresolved commit every second while there is one. */
  #scheduleOutcomes(): void {
    if (this.#outcomeTimer !== null) return;
    this.#outcomeTimer = setTimeout(() => {
      this.#outcomeTimer = null;
      if (this.#unresolved === null) return;
      if (this.#running) return this.#scheduleOutcomes();
      this.#betweenBatches(() => this.#resolveOutcome()).catch(() => {}).then(() => {
        if (this.#unresolved !== null) this.#scheduleOutcomes();
      });
    }, OUTCOME_RETRY_MS);
  }

  /** The error an operation rejects with: a StoreError that says where and why. */
  #storeError(error: unknown): StoreError {
    if (error instanceof StoreError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new StoreError(`database ${this.#where}: ${message}`);
  }
}

interface AccountRow {
  name: string;
  password_hash: string;
  source: "globals" | "registered";
  disabled: boolean;
  created_at: number;
}

function accountOf(row: AccountRow): AccountRecord {
  return {
    name: row.name,
    passwordHash: row.password_hash,
    source: row.source,
    disabled: row.disabled,
    createdAt: row.created_at,
  };
}

/**
 * The first key of the advisory lock a writer holds while it stores
 * messages (the second is its id's hash); any number: "Clap" + 1.
 */
const WRITER_LOCK_CLASS = 0x436c6171;

/**
 * Stores a batch's messages: see {@link PostgresStore}'s `#appendMessages`.
 * Parameters: the rooms ($1 kinds, $2 names); each message's room (an
 * index into those), sender, time, content and given id ($3–$7), and
 * whether ids come from the sequence instead ($8); mentions ($9 message
 * index, $10 user, $11 nth); the writer's id and transaction number ($12,
 * $13); the NOTIFY channel and the payloads ($14, then $15–$18 as in
 * `PendingPayloads`). Indexes count from 0. Returns each stored message's
 * index, id and sequence number.
 *
 * The rooms are locked, the messages numbered and given their ids, and
 * the rooms' rows moved on by `claptrap_number` (schema 11; 13), which says
 * why it is a function of its own.
 */
const APPEND_MESSAGES = `WITH identified AS MATERIALIZED (
    SELECT n.i, n.room_id, n.seq, n.id, m.sender, m.time, m.content
    FROM claptrap_number(${WRITER_LOCK_CLASS}, $12, $1::text[], $2::text[], $3::int4[], $7::int8[], $8::bool) AS n
      JOIN unnest($4::text[], $5::int8[], $6::text[]) WITH ORDINALITY AS m(sender, time, content, k)
        ON m.k = n.i + 1),
  stored AS (
    INSERT INTO messages (id, room_id, seq, sender, time, content)
    SELECT id, room_id, seq, sender, time, content FROM identified),
  mentioned AS (
    INSERT INTO mentions ("user", room_id, message_id, nth)
    SELECT u."user", d.room_id, d.id, u.nth
    FROM unnest($9::int4[], $10::text[], $11::int2[]) AS u(i, "user", nth)
      JOIN identified d ON d.i = u.i
    ON CONFLICT DO NOTHING),
  read AS (
    UPDATE memberships SET read_up_to = p.id
    FROM (SELECT sender, room_id, max(id) AS id FROM identified GROUP BY sender, room_id) AS p
    WHERE memberships."user" = p.sender AND memberships.room_id = p.room_id
      AND memberships.read_up_to < p.id),
  marked AS (
    INSERT INTO claptrap_writers (id, transaction, at, stored)
    SELECT $12, $13, now(), coalesce(array_agg(x ORDER BY d.i, k), '{}')
    FROM identified d, unnest(ARRAY[d.i, d.id, d.seq]) WITH ORDINALITY AS t(x, k)
    ON CONFLICT (id) DO UPDATE
      SET transaction = excluded.transaction, at = excluded.at, stored = excluded.stored),
  notified AS MATERIALIZED (
    SELECT count(pg_notify($14, h.head || ',"s":' || coalesce((
        SELECT json_agg(json_build_array(e.k, d.seq, d.id) ORDER BY e.k)
        FROM unnest($16::int4[], $17::int4[], $18::int4[]) AS e(p, k, i)
          JOIN identified d ON d.i = e.i
        WHERE e.p = h.no - 1)::text, '[]') || '}')) AS n
    FROM unnest($15::text[]) WITH ORDINALITY AS h(head, no))
  SELECT i, id, seq, (SELECT n FROM notified) AS notified FROM identified`;

function roomKey(kind: RoomKind, name: string): string {
  return `${kind}:${name}`;
}

function settle(batch: Queued[], values: unknown[], errors: (Error | undefined)[]): void {
  batch.forEach((queued, i) => {
    const error = errors[i];
    if (error === undefined) queued.resolve(values[i]);
    else queued.reject(error);
  });
}

/**
 * Moves the message id sequence past the highest stored id, in case
 * servers that kept their own ids wrote there since.
 */
async function catchUpMessageIds(sql: Sql): Promise<void> {
  await sql.unsafe(
    `SELECT setval('message_ids', m) FROM (SELECT max(id) AS m FROM messages) AS stored
     WHERE m > (SELECT last_value FROM message_ids)`,
  );
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A database URL as logs may show it: without its password.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describe } from "./postgres_store.ts";
 * assert.equal(describe("postgres://ann:secret@db:5432/chat"), "postgres://ann@db:5432/chat");
 * ```
 */
export function describe(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = "";
    return parsed.href;
  } catch {
    return "the PostgreSQL database";
  }
}
