/**
 * A {@link ChatStore} in memory: what the SQLite store keeps, in maps, and
 * gone when the process ends. For tests of the chat core, which then run in
 * milliseconds without a worker or a file; the contract tests
 * (`store_contract.ts`) hold it to the same behaviour as the SQLite store.
 * @module
 */

import { nameKey, nameSkeleton } from "../protocol/names.ts";
import type {
  AccountRecord,
  BanRecord,
  MessageRecord,
  RoomKind,
  RoomRecord,
  SearchPage,
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
}

const encoder = new TextEncoder();

/** A store that keeps everything in memory. */
export class MemoryStore implements ChatStore {
  readonly #accounts = new Map<string, AccountRecord>();
  /** Rooms by kind and name, in the order they were created. */
  readonly #rooms = new Map<string, StoredRoom>();
  /** Every message, in ascending id order. */
  readonly #messages: MessageRecord[] = [];
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
      return { rooms, bans, lastMessageId, passwordCosts };
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
