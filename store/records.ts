/**
 * What the store keeps, as plain records shared by every store
 * implementation and by the chat core. No I/O.
 * @module
 */

/** An account. */
export interface AccountRecord {
  /** The user name, NFC-normalised. */
  readonly name: string;
  /** The encoded password hash (see server/passwords.ts); never the password. */
  readonly passwordHash: string;
  /** Where it came from: imported from globals.txt, or created by REGISTER. */
  readonly source: "globals" | "registered";
  /** A globals account no longer listed in globals.txt: kept, but cannot log in. */
  readonly disabled: boolean;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
}

/** A room. */
export interface RoomRecord {
  readonly name: string;
  /** The user who created it, or null for a room preset in globals.txt. */
  readonly createdBy: string | null;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
}

/** A message posted in a room. */
export interface MessageRecord {
  /** Unique and increasing across the whole server. */
  readonly id: number;
  readonly room: string;
  readonly sender: string;
  /** Server time, milliseconds since the epoch. */
  readonly time: number;
  readonly content: string;
}

/** A search result. */
export interface SearchHit {
  readonly id: number;
  readonly room: string;
  readonly sender: string;
  readonly time: number;
  /** An excerpt of the content with each match between `[` and `]`. */
  readonly snippet: string;
}

/** A user's relation to a room: it joined the room at least once. */
export interface MembershipRecord {
  readonly room: string;
  readonly user: string;
  readonly role: "owner" | "member";
  /** When the user first joined (ms since the epoch). */
  readonly since: number;
}

/** A ban from a room. */
export interface BanRecord {
  readonly room: string;
  readonly user: string;
  readonly bannedBy: string;
  readonly reason: string;
  readonly time: number;
}
