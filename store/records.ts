/**
 * What the store keeps, as plain records shared by every store
 * implementation and by the chat core. No I/O.
 * @module
 */

/** An account. */
export interface AccountRecord {
  /** The user name, NFC-normalised. */
  readonly name: string;
  /** The encoded password hash (see core/passwords.ts); never the password. */
  readonly passwordHash: string;
  /** Where it came from: imported from globals.txt, or created by REGISTER. */
  readonly source: "globals" | "registered";
  /** A globals account no longer listed in globals.txt: kept, but cannot log in. */
  readonly disabled: boolean;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
}

/**
 * What kind of place a room is: a public `room` (listed, joinable), a
 * private peer chat `group`, or the `direct` conversation of two users.
 * Names are unique within a kind.
 */
export type RoomKind = "room" | "group" | "direct";

/** A room. */
export interface RoomRecord {
  /** Public room, peer chat or direct conversation. */
  readonly kind: RoomKind;
  /** Its name, unique within its kind. */
  readonly name: string;
  /** The user who created it (its owner), or null for a preset room or a private one. */
  readonly createdBy: string | null;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
}

/** A message posted in a room. */
export interface MessageRecord {
  /** Unique and increasing across the whole server. */
  readonly id: number;
  /** The kind of its room. */
  readonly kind: RoomKind;
  /** The name of its room. */
  readonly room: string;
  /** Who posted it. */
  readonly sender: string;
  /** Server time, milliseconds since the epoch. */
  readonly time: number;
  /** The text. */
  readonly content: string;
  /**
   * The users it mentions (protocol 2.1): stored with it, so that their
   * mention counts see it. Absent or empty when none; never read back.
   */
  readonly mentions?: readonly string[];
}

/** How much of a place one user has not read (protocol 2.1). */
export interface ReadCount {
  /** Messages after the user's read position, at most {@link MAX_COUNTED}. */
  readonly unread: number;
  /** Those of them that mention the user, at most {@link MAX_COUNTED}. */
  readonly mentions: number;
}

/** Where unread and mention counts stop: a count of this many means at least this many. */
export const MAX_COUNTED = 9_999;

/** A sign-in token (protocol 2.1), kept only as the hash of its secret. */
export interface TokenRecord {
  /** The SHA-256 of the token, hex. */
  readonly hash: string;
  /** Whose it is. */
  readonly user: string;
  /** When it was made, milliseconds since the epoch. */
  readonly createdAt: number;
}

/**
 * What a store shared by several servers made of an appended message: the
 * id it gave it (unique across the servers, increasing in each room's
 * commit order) and its number in its room's sequence (1, 2, … in commit
 * order).
 */
export interface StoredMessage {
  /** The id the store gave the message. */
  readonly id: number;
  /** Its room's sequence number. */
  readonly seq: number;
}

/** A stored message with its room's sequence number. */
export interface SequencedMessage extends MessageRecord {
  /** Its room's sequence number: 1, 2, … in commit order. */
  readonly seq: number;
}

/** A room and the sequence number of its latest message. */
export interface RoomSequence {
  /** The room's kind. */
  readonly kind: RoomKind;
  /** The room's name. */
  readonly name: string;
  /** The sequence number of its latest stored message. */
  readonly lastSeq: number;
}

/** A room's latest stored message: its sequence number and its id. */
export interface RoomLatest extends RoomSequence {
  /** The id of its latest stored message. */
  readonly lastId: number;
}

/** Rooms whose latest message came after a point, and the highest id of their latest messages. */
export interface LastSequences {
  readonly rooms: RoomLatest[];
  /** The highest id of the rooms' latest messages (the point asked about when there is none). */
  readonly lastId: number;
}

/** A search result. */
export interface SearchHit {
  /** The message's id. */
  readonly id: number;
  /** The kind of its room. */
  readonly kind: RoomKind;
  /** The name of its room. */
  readonly room: string;
  /** Who posted it. */
  readonly sender: string;
  /** Server time, milliseconds since the epoch. */
  readonly time: number;
  /** An excerpt of the content with each match between `[` and `]`. */
  readonly snippet: string;
}

/**
 * One page of search results. A page looks through a bounded number of
 * messages (see `ChatStore.search`), so a long history takes several pages.
 */
export interface SearchPage {
  /** The matches, newest first, at most the limit asked for. */
  readonly hits: SearchHit[];
  /**
   * How many messages match among those the page looked through: all that
   * match below where the page started, unless `partial`, when it is a
   * lower bound.
   */
  readonly total: number;
  /** Whether older messages were left unsearched (the page's scan limit ran out). */
  readonly partial: boolean;
  /**
   * Where the next page starts, as its `before`: the id of the oldest hit
   * when more matches were found than returned, else the oldest message
   * looked through when `partial`; null when nothing older is left.
   */
  readonly next: number | null;
}

/** A ban from a (public) room. */
export interface BanRecord {
  /** The room. */
  readonly room: string;
  /** Who is kept out. */
  readonly user: string;
  /** The owner or admin who banned them. */
  readonly bannedBy: string;
  /** Why, as given (may be empty). */
  readonly reason: string;
  /** Milliseconds since the epoch. */
  readonly time: number;
}

/**
 * Payloads of messages that have no id or sequence number yet: the
 * database gives them as it stores the messages, and ends each payload
 * with them, `,"s":[[entry, seq, id], …]}`, JSON as PostgreSQL writes it.
 * An entry the database gives nothing for (its room was not there) is
 * dropped by the receivers (server/cluster/announcements.ts).
 */
export interface PendingPayloads {
  /** Each payload but its end. */
  readonly heads: string[];
  /** For each entry that needs numbers: its payload (an index into `heads`), */
  readonly payload: number[];
  /** its place in that payload, */
  readonly entry: number[];
  /** and its message's place in the batch. */
  readonly message: number[];
}
