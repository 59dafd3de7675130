/**
 * The store interface: everything the chat core asks of durable storage.
 * The core never writes SQL; an implementation (SQLite now, a networked
 * database later) lives behind this interface.
 * @module
 */

import type {
  AccountRecord,
  BanRecord,
  MessageRecord,
  ReadCount,
  RoomKind,
  RoomRecord,
  SearchPage,
  StoredMessage,
  TokenRecord,
} from "./records.ts";
import { StoreError } from "./schema.ts";

/** What one search asks for. */
export interface SearchOptions {
  /** Most results in the page. */
  limit: number;
  /** Only messages with smaller ids (the `next` of the page before); null for the newest. */
  before: number | null;
  /**
   * Most messages the page looks through: candidates of the full-text index
   * when a term has 3 or more characters, else messages of the user's rooms
   * (so that a page costs little however long the history).
   */
  scanLimit: number;
}

/** Which messages of a room {@link ChatStore.history} returns. */
export interface HistoryRange {
  /** Only messages with smaller ids; the newest of them unless `after` is given. */
  before?: number;
  /** Only messages with greater ids, the oldest of them. */
  after?: number;
  /** No message with this id or a smaller one (what a peer chat's newcomer may not read). */
  floor?: number;
  /** Most messages. */
  limit: number;
  /**
   * Most bytes of content (UTF-8) in all; the first message comes whole
   * whatever its size. Default no bound.
   */
  maxBytes?: number;
}

/** What {@link ChatStore.history} returns. */
export interface StoredPage {
  /** In ascending id order. */
  messages: MessageRecord[];
  /** Whether messages beyond the page exist in the direction of paging. */
  more: boolean;
}

/** What the server needs at start-up. */
export interface StoredState {
  /** Every public room, in creation order. */
  rooms: RoomRecord[];
  /** Every ban from a public room. */
  bans: BanRecord[];
  /** The highest message id used so far (0 for none). */
  lastMessageId: number;
  /** How many accounts have a password hash of each scrypt cost N. */
  passwordCosts: Map<number, number>;
  /**
   * Who belongs to which public room (protocol 2.1 memberships, see
   * {@link ChatStore.setBelonging}), in the order they came to belong.
   */
  belongings: { room: string; user: string }[];
}

/**
 * The store has stopped because it cannot tell any more what is on disk:
 * an I/O error at a commit (an fsync that failed may have written it or
 * not), or the database file deleted or replaced while open. Every call
 * in flight and every later one rejects with it. A write rejected with it
 * may be on disk: whoever asked must not be told that it failed.
 */
export class StoreFailedError extends StoreError {
  /** Always `StoreFailedError`. */
  override name = "StoreFailedError";
}

/** The error of a globals.txt account whose name looks like that of an existing account. */
export function globalsClashError(name: string, existing: string): StoreError {
  return new StoreError(
    `globals account ${JSON.stringify(name)} looks like the existing account ${
      JSON.stringify(existing)
    }`,
  );
}

/**
 * Durable storage. Every write resolves once it is on disk; writes and
 * reads are carried out in the order they were called (searches may run
 * beside the writes: see {@link ChatStore.search}).
 */
export interface ChatStore {
  /**
   * Resolves, with the error every call then rejects with, if the store
   * stops because it cannot tell what is on disk (see
   * {@link StoreFailedError}); never otherwise.
   */
  readonly failure: Promise<StoreFailedError>;
  /** Loads the rooms and the last message id. */
  load(): Promise<StoredState>;
  /** The account of a user name (NFC), or null. */
  getAccount(name: string): Promise<AccountRecord | null>;
  /** Creates an account; false when its name, or a look-alike of it, is taken. */
  createAccount(account: AccountRecord): Promise<boolean>;
  /**
   * The name of an account (disabled ones included) that is `name` (NFC) or
   * counts as the same (equal nameKey or nameSkeleton), or null: whether a
   * guest may go by `name`.
   */
  accountLike(name: string): Promise<string | null>;
  /**
   * What {@link ChatStore.syncGlobalsAccounts} last kept as `seal`: a hash
   * that lets the next start see that globals.txt and the stored accounts
   * are as they were, without checking each password again. Null when none.
   */
  globalsSeal(): Promise<string | null>;
  /**
   * Creates or replaces the globals.txt accounts, disables the globals
   * accounts not among them, and keeps `seal` (null removes it), all at
   * once. Throws when a name clashes with a look-alike registered account.
   */
  syncGlobalsAccounts(accounts: readonly AccountRecord[], seal: string | null): Promise<void>;
  /**
   * Creates a room (and its creator's owner membership); false when one of
   * that kind and name exists.
   */
  createRoom(room: RoomRecord): Promise<boolean>;
  /**
   * Records that a user has been in a room since `since` (kept from the
   * first time). `joinedAfter`, the last message id before this joining
   * (default 0), replaces the one recorded: the user's SEARCH covers the
   * room's messages after it (peer chats; 0 for rooms anyone may read).
   */
  addMembership(
    kind: RoomKind,
    room: string,
    user: string,
    since: number,
    joinedAfter?: number,
  ): Promise<void>;
  /**
   * Records whether `user` belongs to the public room `room` now (protocol
   * 2.1: the rooms a user joined, until they leave, are kicked or banned).
   * Apart from having been in it ({@link ChatStore.addMembership}, whose
   * record it makes, since `since`, when there is none): leaving ends
   * belonging, not what the user's SEARCH covers.
   */
  setBelonging(room: string, user: string, belongs: boolean, since: number): Promise<void>;
  /**
   * Moves the read position of `user` in a place up to the message `id`,
   * never down; nothing when the user has never been in it.
   */
  markRead(kind: RoomKind, room: string, user: string, id: number): Promise<void>;
  /**
   * For each of `rooms` (of `kind`), how many messages follow the read
   * position of `user`, and how many of those mention them; zeros for a
   * place they have never been in. Each count stops at `MAX_COUNTED`.
   */
  readCounts(kind: RoomKind, rooms: readonly string[], user: string): Promise<ReadCount[]>;
  /**
   * Keeps a sign-in token, and drops the user's least recently used tokens
   * beyond the newest `keep`.
   */
  saveToken(token: TokenRecord, keep: number): Promise<void>;
  /**
   * The user of the token with this hash, its last use now `now`; null when
   * there is none. Drops every token unused for longer than `maxIdleMs`
   * first.
   */
  useToken(hash: string, now: number, maxIdleMs: number): Promise<string | null>;
  /** Drops the token with this hash if it is `user`'s, or with no hash all of `user`'s tokens. */
  dropTokens(user: string, hash?: string): Promise<void>;
  /** Replaces an account's password hash and drops its tokens; false when there is no account. */
  changePassword(user: string, passwordHash: string): Promise<boolean>;
  /** Bans a user from a public room (replacing an earlier ban). */
  ban(ban: BanRecord): Promise<void>;
  /** Lifts a ban; false when there was none. */
  unban(room: string, user: string): Promise<boolean>;
  /**
   * Stores a posted message with its mentions, and moves the sender's read
   * position in its place up to it. A store that several servers share
   * gives it an id of its own and its room's sequence number, and resolves
   * with them; the others keep its id and resolve with nothing.
   */
  appendMessage(message: MessageRecord): Promise<StoredMessage | void>;
  /**
   * Up to `limit` messages of a room and `maxBytes` of their content, with
   * ids between `after` and `before` (each optional) and above `floor`:
   * with `after`, the oldest of them; otherwise the newest. Loads no
   * content beyond what it returns.
   */
  history(kind: RoomKind, room: string, range: HistoryRange): Promise<StoredPage>;
  /** The names of the direct conversations of `user`, the one with the newest message first. */
  directRooms(user: string): Promise<string[]>;
  /**
   * Full-text search for the messages holding every one of `words` (see
   * `searchTerms`) in the rooms `user` has been in and is not banned from
   * (in a peer chat, only those after the user's latest joining), newest
   * first, one page at a time: the page looks through at most
   * `options.scanLimit` messages below `options.before`. Sees every
   * message whose write had resolved before the call; it need not wait for
   * writes still in flight.
   */
  search(user: string, words: readonly string[], options: SearchOptions): Promise<SearchPage>;
  /** Finishes pending writes and releases the storage. */
  close(): Promise<void>;
}
