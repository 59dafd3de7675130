/**
 * The rooms of one server: the public rooms (listed page by page in the
 * order they were created, created by users within bounds, no two with
 * names that look the same) and the peer chats under way. No I/O but
 * through the store.
 * @module
 */

import { likenessKeys, nameProblem } from "../protocol/names.ts";
import type { RoomRecord } from "../store/records.ts";
import type { ChatStore } from "../store/store.ts";
import type { Place } from "./events.ts";
import type { SharedChange } from "./fanout_bus.ts";
import type { Outcome } from "./outcome.ts";
import { type PollLogLimits, Room } from "./room.ts";

/** Most rooms a user may own unless told otherwise. */
export const DEFAULT_MAX_ROOMS_PER_USER = 100;
/** Most public rooms a server holds unless told otherwise. */
export const DEFAULT_MAX_ROOMS = 10_000;

/** A public room and how many users are in it now. */
export interface RoomCount {
  name: string;
  members: number;
}

/** Settings of {@link Rooms}. */
export interface RoomsOptions {
  store: ChatStore;
  /** The public rooms stored, in the order they were created. */
  stored: readonly RoomRecord[];
  /** Bounds of each room's log for polling members. */
  pollLog: PollLogLimits;
  /** Most public rooms. */
  maxRooms: number;
  /** Most rooms one user may own (create), unless `isAdmin` says they are an admin. */
  maxRoomsPerUser: number;
  /** Whether a user is an admin, whom `maxRoomsPerUser` does not bound. */
  isAdmin: (user: string) => boolean;
  /** Tells the other servers of a change (a room created here). */
  share: (change: SharedChange) => void;
  now: () => number;
  log: (line: string) => void;
}

/** The public rooms and the peer chats. */
export class Rooms {
  readonly #options: RoomsOptions;
  readonly #rooms = new Map<string, Room>();
  /** The public rooms in the order they were created (stored), for listing page by page. */
  readonly #listed: Room[] = [];
  /** Where each public room is in {@link Rooms.#listed}, by name. */
  readonly #listedAt = new Map<string, number>();
  /**
   * The public rooms by `k:` and their name's nameKey, and by `s:` and its
   * nameSkeleton: {@link Rooms.create} refuses a look-alike of a room.
   */
  readonly #byKey = new Map<string, Room>();
  /**
   * The peer chats that members here are in, by name (events of a peer
   * chat from another server of a cluster name it); one that nobody here is
   * in any more is forgotten (see {@link Rooms.forget}).
   */
  readonly #peerChats = new Map<string, Room>();
  /** Makes peer chat names of this server differ from those of others sharing its store. */
  readonly #tag = Math.random().toString(36).slice(2, 6);
  /** How many rooms guests made since start, per client address. */
  readonly #byGuests = new Map<string, number>();
  #peerChatsMade = 0;

  constructor(options: RoomsOptions) {
    this.#options = options;
    for (const { name, createdBy } of options.stored) {
      const room = new Room("room", name, createdBy, options.pollLog);
      this.#add(room);
      this.#list(room);
    }
  }

  /** The public room of a name (NFC-normalised first). */
  get(name: string): Room | undefined {
    return this.#rooms.get(name.normalize("NFC"));
  }

  /** The public room or peer chat of a place, if it exists. */
  at(place: Place): Room | undefined {
    return (place.kind === "room" ? this.#rooms : this.#peerChats).get(place.name);
  }

  /** A new peer chat, with no members yet. */
  newPeerChat(): Room {
    const made = ++this.#peerChatsMade;
    return this.peerChat(`peer chat ${this.#options.now().toString(36)}.${this.#tag}${made}`);
  }

  /** The peer chat of a name that members here are in, or a new one without members here. */
  peerChat(name: string): Room {
    let room = this.#peerChats.get(name);
    if (room === undefined) {
      room = new Room("group", name, null, this.#options.pollLog);
      this.#peerChats.set(name, room);
    }
    return room;
  }

  /** The peer chats that members here are in (or wait to join). */
  peerChats(): IterableIterator<Room> {
    return this.#peerChats.values();
  }

  /** Forgets a peer chat once nobody here is in it. */
  forget(peerChat: Room): void {
    if (peerChat.size === 0 && this.#peerChats.get(peerChat.name) === peerChat) {
      this.#peerChats.delete(peerChat.name);
    }
  }

  /**
   * One page of the public rooms, in creation order, with their member
   * counts: at most `limit` rooms after the one named `after` (from the
   * first when null), and whether more follow. Null when `after` names no
   * room.
   */
  page(after: string | null, limit: number): { rooms: RoomCount[]; more: boolean } | null {
    let start = 0;
    if (after !== null) {
      const at = this.#listedAt.get(after.normalize("NFC"));
      if (at === undefined) return null;
      start = at + 1;
    }
    const end = Math.min(start + limit, this.#listed.length);
    const rooms: RoomCount[] = [];
    for (let i = start; i < end; i++) rooms.push(countOf(this.#listed[i]));
    return { rooms, more: end < this.#listed.length };
  }

  /**
   * At most `limit` public rooms with their member counts: the rooms that
   * have members first, then empty ones, each in creation order.
   */
  occupiedFirst(limit: number): RoomCount[] {
    const occupied: RoomCount[] = [];
    const empty: RoomCount[] = [];
    for (const room of this.#listed) {
      if (room.size > 0) {
        occupied.push(countOf(room));
        if (occupied.length === limit) break;
      } else if (empty.length < limit) {
        empty.push(countOf(room));
      }
    }
    return occupied.concat(empty.slice(0, limit - occupied.length));
  }

  /**
   * Creates a public room owned by `createdBy` (the name is NFC-normalised
   * first); null: by the server, owned by nobody and within no user's bound.
   * A guest's room (`guestAddress` given: the guest's address) is owned by
   * nobody, since the name may be someone else's later; the rooms guests
   * create count against `maxRoomsPerUser` per address instead.
   */
  async create(createdBy: string | null, name: string, guestAddress?: string): Promise<Outcome> {
    const normalised = name.normalize("NFC");
    const problem = nameProblem(normalised);
    if (problem) return { status: "INVALID_NAME", reason: problem };
    if (this.#rooms.has(normalised)) return { status: "ROOM_EXISTS" };
    const alike = likenessKeys(normalised).map((key) => this.#byKey.get(key)).find(Boolean);
    if (alike) {
      return {
        status: "ROOM_EXISTS",
        reason: `the room ${JSON.stringify(alike.name)} has a name that looks the same`,
      };
    }
    const { maxRooms, maxRoomsPerUser } = this.#options;
    if (guestAddress !== undefined) {
      if ((this.#byGuests.get(guestAddress) ?? 0) >= maxRoomsPerUser) {
        return {
          status: "NOT_ALLOWED",
          reason: `guests from your address made ${maxRoomsPerUser} rooms, the most they may`,
        };
      }
    } else if (
      createdBy !== null && !this.#options.isAdmin(createdBy) &&
      this.#ownedBy(createdBy) >= maxRoomsPerUser
    ) {
      return {
        status: "NOT_ALLOWED",
        reason: `you own ${maxRoomsPerUser} rooms, the most one user may`,
      };
    }
    if (this.#rooms.size >= maxRooms) {
      return {
        status: "NOT_ALLOWED",
        reason: `this server has ${maxRooms} rooms, the most it holds`,
      };
    }
    const owner = guestAddress === undefined ? createdBy : null;
    // taken at once, so that a second CREATE_ROOM meanwhile sees it
    const room = new Room("room", normalised, owner, this.#options.pollLog);
    this.#add(room);
    if (guestAddress !== undefined) this.#countGuestRoom(guestAddress, 1);
    const record = {
      kind: "room" as const,
      name: normalised,
      createdBy: owner,
      createdAt: this.#options.now(),
    };
    let created;
    try {
      created = await this.#options.store.createRoom(record);
    } catch (error) {
      this.#remove(room);
      if (guestAddress !== undefined) this.#countGuestRoom(guestAddress, -1);
      throw error;
    }
    if (!created) {
      // another server sharing the store created it meanwhile
      this.#remove(room);
      if (guestAddress !== undefined) this.#countGuestRoom(guestAddress, -1);
      return { status: "ROOM_EXISTS" };
    }
    this.#list(room);
    this.#options.share({ type: "room-created", room: record });
    this.#options.log(
      `room-created room=${JSON.stringify(normalised)} by=${JSON.stringify(createdBy ?? "")}` +
        (owner === null ? " guest=true" : ""),
    );
    return { status: "OK" };
  }

  /**
   * Takes over a public room another server created (see
   * {@link Rooms.create}); false when one of the name is known already.
   */
  adopt(record: RoomRecord): boolean {
    if (this.#rooms.has(record.name)) return false;
    const room = new Room("room", record.name, record.createdBy, this.#options.pollLog);
    this.#add(room);
    this.#list(room);
    return true;
  }

  #countGuestRoom(address: string, change: number): void {
    const count = (this.#byGuests.get(address) ?? 0) + change;
    if (count > 0) this.#byGuests.set(address, count);
    else this.#byGuests.delete(address);
  }

  #add(room: Room): void {
    this.#rooms.set(room.name, room);
    for (const key of likenessKeys(room.name)) {
      if (!this.#byKey.has(key)) this.#byKey.set(key, room);
    }
  }

  #remove(room: Room): void {
    this.#rooms.delete(room.name);
    for (const key of likenessKeys(room.name)) {
      if (this.#byKey.get(key) === room) this.#byKey.delete(key);
    }
  }

  /** Adds a stored public room to the end of the listing. */
  #list(room: Room): void {
    this.#listedAt.set(room.name, this.#listed.length);
    this.#listed.push(room);
  }

  #ownedBy(user: string): number {
    let owned = 0;
    for (const room of this.#rooms.values()) if (room.owner === user) owned++;
    return owned;
  }
}

/** A room's name and member count, for listing. */
function countOf(room: Room): RoomCount {
  return { name: room.name, members: room.users };
}
