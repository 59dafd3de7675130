/**
 * A {@link ChatStore} in memory: what the SQLite store keeps, in maps, and
 * gone when the process ends. For tests of the chat core, which then run in
 * milliseconds without a worker or a file; the contract tests
 * (`store_contract.ts`) hold it to the same behaviour as the SQLite store.
 * @module
 */

import { nameKey, nameSkeleton } from "../protocol/names.ts";
import {
  type AccountRecord,
  type BanRecord,
  MAX_COUNTED,
  type MessageRecord,
  type ReadCount,
  type RoomKind,
  type RoomRecord,
  type SearchPage,
  type TokenRecord,
} from "./records.ts";
import { StoreError } from "./schema.ts";
import { INDEXED_TERM_LENGTH, markMatches } from "./search_query.ts";
import {
  type ChatStore,
  globalsClashError,
  type HistoryRange,
  type SearchOptions,
  type StoredPage,
  type StoredState,
  type StoreFailedError,
} from "./store.ts";

/** A room with what belongs to it. */
interface StoredRoom {
  readonly record: RoomRecord;
  /** The last message id before each member's latest joining (0 where anyone may read). */
  readonly members: Map<string, number>;
  readonly bans: Map<string, BanRecord>;
  /** Its messages in ascending id order. */
  readonly messages: MessageRecord[];
  /** Each member's read position: the id of the last message they have read. */
  readonly readUpTo: Map<string, number>;
  /** Since when each user who belongs to it does (protocol 2.1). */
  readonly belongs: Map<string, number>;
  /** The ids of the messages that mention each user, ascending. */
  readonly mentions: Map<string, number[]>;
}

/** A token as kept: its record and its last use. */
interface StoredToken {
  readonly record: TokenRecord;
  usedAt: number;
}

const encoder = new TextEncoder();

/** A store that keeps everything in memory. */
export class MemoryStore implements ChatStore {
  readonly #accounts = new Map<string, AccountRecord>();
  /** Rooms by kind and name, in the order they were created. */
  readonly #rooms = new Map<string, StoredRoom>();
  /** Every message, in ascending id order. */
  readonly #messages: MessageRecord[] = [];
  /** Tokens by hash. */
  readonly #tokens = new Map<string, StoredToken>();
  #seal: string | null = null;
  #closed = false;

  /** Never settles: nothing can leave what is in memory unknown. */
  readonly failure: Promise<StoreFailedError> = new Promise(() => {});

  load(): Promise<StoredState> {
    return this.#do(() => {
      const rooms = [...this.#rooms.values()].map((room) => room.record)
        .filter((room) => room.kind === "room");
      const bans = [...this.#rooms.values()].flatMap((room) => [...room.bans.values()])
        .sort((a, b) => a.time - b.time);
      const passwordCosts = new Map<number, number>();
      for (const { passwordHash } of this.#accounts.values()) {
        const cost = Number(/^scrypt\$(\d+)\$/.exec(passwordHash)?.[1] ?? 0);
        if (cost > 0) passwordCosts.set(cost, (passwordCosts.get(cost) ?? 0) + 1);
      }
      const lastMessageId = this.#messages.at(-1)?.id ?? 0;
      const belongings = [...this.#rooms.values()]
        .flatMap((room) =>
          [...room.belongs].map(([user, since]) => ({ room: room.record.name, user, since }))
        )
        .sort((a, b) => a.since - b.since)
        .map(({ room, user }) => ({ room, user }));
      return { rooms, bans, lastMessageId, passwordCosts, belongings };
    });
  }

  getAccount(name: string): Promise<AccountRecord | null> {
    return this.#do(() => this.#accounts.get(name) ?? null);
  }

  createAccount(account: AccountRecord): Promise<boolean> {
    return this.#do(() => {
      if (this.#accounts.has(account.name) || this.#lookAlike(account.name)) return false;
      this.#accounts.set(account.name, account);
      return true;
    });
  }

  accountLike(name: string): Promise<string | null> {
    return this.#do(() => this.#accounts.has(name) ? name : this.#lookAlike(name) ?? null);
  }

  globalsSeal(): Promise<string | null> {
    return this.#do(() => this.#seal);
  }

  syncGlobalsAccounts(accounts: readonly AccountRecord[], seal: string | null): Promise<void> {
    return this.#do(() => {
      // all or nothing: the accounts as they will be, kept only when no name clashes
      const before = new Map(this.#accounts);
      try {
        for (const account of accounts) {
          const clash = this.#lookAlike(account.name);
          if (clash !== undefined) throw globalsClashError(account.name, clash);
          const stored = this.#accounts.get(account.name);
          this.#accounts.set(account.name, {
            name: account.name,
            passwordHash: account.passwordHash,
            source: "globals",
            disabled: false,
            createdAt: stored?.createdAt ?? account.createdAt,
          });
        }
      } catch (error) {
        this.#accounts.clear();
        for (const [name, account] of before) this.#accounts.set(name, account);
        throw error;
      }
      const listed = new Set(accounts.map((account) => account.name));
      for (const [name, stored] of this.#accounts) {
        if (stored.source === "globals" && !listed.has(name)) {
          this.#accounts.set(name, { ...stored, disabled: true });
        }
      }
      this.#seal = seal;
    });
  }

  createRoom(room: RoomRecord): Promise<boolean> {
    return this.#do(() => {
      const key = roomKey(room.kind, room.name);
      if (this.#rooms.has(key)) return false;
      const stored: StoredRoom = {
        record: room,
        members: new Map(),
        bans: new Map(),
        messages: [],
        readUpTo: new Map(),
        belongs: new Map(),
        mentions: new Map(),
      };
      if (room.createdBy !== null) stored.members.set(room.createdBy, 0);
      this.#rooms.set(key, stored);
      return true;
    });
  }

  addMembership(
    kind: RoomKind,
    room: string,
    user: string,
    _since: number,
    joinedAfter = 0,
  ): Promise<void> {
    return this.#do(() => {
      this.#room(kind, room).members.set(user, joinedAfter);
    });
  }

  setBelonging(room: string, user: string, belongs: boolean, since: number): Promise<void> {
    return this.#do(() => {
      const stored = this.#room("room", room);
      if (!stored.members.has(user)) stored.members.set(user, 0);
      if (!belongs) stored.belongs.delete(user);
      else if (!stored.belongs.has(user)) stored.belongs.set(user, since);
    });
  }

  markRead(kind: RoomKind, room: string, user: string, id: number): Promise<void> {
    return this.#do(() => {
      const stored = this.#rooms.get(roomKey(kind, room));
      if (stored?.members.has(user)) this.#read(stored, user, id);
    });
  }

  readCounts(kind: RoomKind, rooms: readonly string[], user: string): Promise<ReadCount[]> {
    return this.#do(() =>
      rooms.map((name) => {
        const stored = this.#rooms.get(roomKey(kind, name));
        if (!stored?.members.has(user)) return { unread: 0, mentions: 0 };
        const read = stored.readUpTo.get(user) ?? 0;
        const after = (ids: number[]) =>
          Math.min(MAX_COUNTED, ids.filter((id) => id > read).length);
        return {
          unread: after(stored.messages.map((message) => message.id)),
          mentions: after(stored.mentions.get(user) ?? []),
        };
      })
    );
  }

  saveToken(token: TokenRecord, keep: number): Promise<void> {
    return this.#do(() => {
      this.#tokens.set(token.hash, { record: token, usedAt: token.createdAt });
      const own = [...this.#tokens.values()].filter((t) => t.record.user === token.user)
        .sort((a, b) => b.usedAt - a.usedAt);
      for (const dropped of own.slice(keep)) this.#tokens.delete(dropped.record.hash);
    });
  }

  useToken(hash: string, now: number, maxIdleMs: number): Promise<string | null> {
    return this.#do(() => {
      for (const [key, token] of this.#tokens) {
        if (token.usedAt < now - maxIdleMs) this.#tokens.delete(key);
      }
      const token = this.#tokens.get(hash);
      if (!token) return null;
      token.usedAt = now;
      return token.record.user;
    });
  }

  dropTokens(user: string, hash?: string): Promise<void> {
    return this.#do(() => {
      for (const [key, token] of this.#tokens) {
        if (token.record.user === user && (hash === undefined || key === hash)) {
          this.#tokens.delete(key);
        }
      }
    });
  }

  changePassword(user: string, passwordHash: string): Promise<boolean> {
    return this.#do(() => {
      const account = this.#accounts.get(user);
      if (!account) return false;
      this.#accounts.set(user, { ...account, passwordHash });
      for (const [key, token] of this.#tokens) {
        if (token.record.user === user) this.#tokens.delete(key);
      }
      return true;
    });
  }

  ban(ban: BanRecord): Promise<void> {
    return this.#do(() => {
      this.#room("room", ban.room).bans.set(ban.user, ban);
    });
  }

  unban(room: string, user: string): Promise<boolean> {
    return this.#do(() => this.#room("room", room).bans.delete(user));
  }

  appendMessage(message: MessageRecord): Promise<void> {
    return this.#do(() => {
      const room = this.#room(message.kind, message.room);
      insertById(this.#messages, message);
      insertById(room.messages, message);
      for (const user of message.mentions ?? []) {
        const ids = room.mentions.get(user);
        if (ids) ids.push(message.id);
        else room.mentions.set(user, [message.id]);
      }
      if (room.members.has(message.sender)) this.#read(room, message.sender, message.id);
    });
  }

  history(kind: RoomKind, room: string, range: HistoryRange): Promise<StoredPage> {
    return this.#do(() => {
      const stored = this.#rooms.get(roomKey(kind, room));
      if (!stored) return { messages: [], more: false };
      const above = Math.max(range.after ?? 0, range.floor ?? 0);
      const below = range.before ?? Number.MAX_SAFE_INTEGER;
      const inRange = stored.messages.filter((m) => m.id > above && m.id < below);
      // the oldest with `after`, else the newest; one more than the page says whether more exist
      const candidates = range.after === undefined
        ? inRange.slice(-(range.limit + 1)).reverse()
        : inRange.slice(0, range.limit + 1);
      const maxBytes = range.maxBytes ?? Infinity;
      let taken = 0;
      let bytes = 0;
      while (taken < Math.min(candidates.length, range.limit)) {
        bytes += encoder.encode(candidates[taken].content).length;
        if (bytes > maxBytes && taken > 0) break;
        taken++;
      }
      const messages = candidates.slice(0, taken).sort((a, b) => a.id - b.id);
      return { messages, more: taken < candidates.length };
    });
  }

  directRooms(user: string): Promise<string[]> {
    return this.#do(() => {
      const rooms = [...this.#rooms.values()]
        .filter((room) => room.record.kind === "direct" && room.members.has(user));
      const newest = (room: StoredRoom) => room.messages.at(-1)?.id ?? -1;
      return rooms.sort((a, b) => newest(b) - newest(a)).map((room) => room.record.name);
    });
  }

  /**
   * Looks through the newest `scanLimit` messages the user may read below
   * `before` for those that contain every one of `words`, ignoring case.
   */
  search(user: string, words: readonly string[], options: SearchOptions): Promise<SearchPage> {
    return this.#do(() => {
      const terms = [...new Set(words)];
      if (terms.length === 0) return { hits: [], total: 0, partial: false, next: null };
      const folded = terms.map((term) => term.toLowerCase());
      // as with a trigram index, terms long enough for one narrow the candidates looked through
      const indexed = folded.filter((term) => [...term].length >= INDEXED_TERM_LENGTH);
      const below = options.before ?? Number.MAX_SAFE_INTEGER;
      const matches: MessageRecord[] = [];
      let looked = 0;
      let lowest = 0;
      let partial = false;
      for (let i = this.#messages.length - 1; i >= 0; i--) {
        const message = this.#messages[i];
        if (message.id >= below || !this.#readable(user, message)) continue;
        const content = message.content.toLowerCase();
        if (!indexed.every((term) => content.includes(term))) continue;
        if (looked === options.scanLimit) {
          partial = true;
          break;
        }
        looked++;
        lowest = message.id;
        if (folded.every((term) => content.includes(term))) matches.push(message);
      }
      const hits = matches.slice(0, options.limit).map((m) => ({
        id: m.id,
        kind: m.kind,
        room: m.room,
        sender: m.sender,
        time: m.time,
        snippet: markMatches(m.content, terms),
      }));
      const total = matches.length;
      const next = total > options.limit ? hits[hits.length - 1].id : partial ? lowest : null;
      return { hits, total, partial, next };
    });
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  /** Moves a member's read position up to `id`, never down. */
  #read(room: StoredRoom, user: string, id: number): void {
    if ((room.readUpTo.get(user) ?? 0) < id) room.readUpTo.set(user, id);
  }

  /** Whether `user` may find `message`: in a room they have been in and are not banned from. */
  #readable(user: string, message: MessageRecord): boolean {
    const room = this.#rooms.get(roomKey(message.kind, message.room))!;
    const joinedAfter = room.members.get(user);
    return joinedAfter !== undefined && message.id > joinedAfter && !room.bans.has(user);
  }

  /** Another account whose name counts as the same: equal nameKey or nameSkeleton. */
  #lookAlike(name: string): string | undefined {
    const key = nameKey(name);
    const skeleton = nameSkeleton(name);
    for (const other of this.#accounts.keys()) {
      if (other !== name && (nameKey(other) === key || nameSkeleton(other) === skeleton)) {
        return other;
      }
    }
    return undefined;
  }

  #room(kind: RoomKind, name: string): StoredRoom {
    const room = this.#rooms.get(roomKey(kind, name));
    if (!room) throw new StoreError(`no ${kind} ${JSON.stringify(name)} in memory`);
    return room;
  }

  /** Runs an operation as the store's answer, as a store in another thread would. */
  #do<T>(operation: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new StoreError("the store is closed"));
    try {
      return Promise.resolve(operation());
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/** Puts a message in its place in ascending id order; its id must be new. */
function insertById(messages: MessageRecord[], message: MessageRecord): void {
  let at = messages.length;
  while (at > 0 && messages[at - 1].id > message.id) at--;
  if (at > 0 && messages[at - 1].id === message.id) {
    throw new StoreError(`a message with id ${message.id} is stored already`);
  }
  messages.splice(at, 0, message);
}

function roomKey(kind: RoomKind, name: string): string {
  return `${kind}:${name}`;
}
