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
  RoomKind,
  RoomRecord,
  SearchHit,
} from "./records.ts";

/** Which messages of a room {@link ChatStore.history} returns. */
export interface HistoryRange {
  /** Only messages with smaller ids, the newest of them. */
  before?: number;
  /** Only messages with greater ids, the oldest of them; not with `before`. */
  after?: number;
  /** No message with this id or a smaller one (what a peer chat's newcomer may not read). */
  floor?: number;
  /** Most messages. */
  limit: number;
}

/** What the server needs at start-up. */
export interface StoredState {
  /** Every public room, in creation order. */
  rooms: RoomRecord[];
  /** Every ban from a public room. */
  bans: BanRecord[];
  /** The highest message id used so far (0 for none). */
  lastMessageId: number;
}

/**
 * Durable storage. Every write resolves once it is on disk; writes and
 * reads are carried out in the order they were called.
 */
export interface ChatStore {
  /** Loads the rooms and the last message id. */
  load(): Promise<StoredState>;
  /** The account of a user name (NFC), or null. */
  getAccount(name: string): Promise<AccountRecord | null>;
  /** Creates an account; false when its name, or a look-alike of it, is taken. */
  createAccount(account: AccountRecord): Promise<boolean>;
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
  /** Bans a user from a public room (replacing an earlier ban). */
  ban(ban: BanRecord): Promise<void>;
  /** Lifts a ban; false when there was none. */
  unban(room: string, user: string): Promise<boolean>;
  /** Stores a posted message. */
  appendMessage(message: MessageRecord): Promise<void>;
  /**
   * Up to `limit` messages of a room in ascending id order: with `after`,
   * the oldest ones with greater ids; otherwise the newest ones with ids
   * below `before` (all when absent). Never one with an id at or below
   * `floor`.
   */
  history(kind: RoomKind, room: string, range: HistoryRange): Promise<MessageRecord[]>;
  /** The names of the direct conversations of `user`, the one with the newest message first. */
  directRooms(user: string): Promise<string[]>;
  /**
   * Full-text search over the messages of the rooms `user` has been in and
   * is not banned from (in a peer chat, those after the user's latest
   * joining); best matches first.
   */
  search(user: string, query: string, limit: number): Promise<SearchHit[]>;
  /** Finishes pending writes and releases the storage. */
  close(): Promise<void>;
}
