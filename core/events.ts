/**
 * The chat's domain events: what happened, as plain typed objects with
 * structured fields and no wire format. The core makes one event object per
 * happening and hands that same object to every session it reaches; each
 * adapter renders it in its own wire format, once per format (see
 * `server/connection/event_encoding.ts`). Times are milliseconds since the
 * epoch.
 * @module
 */

/**
 * A place where people talk together: a public room, or a peer chat (whose
 * kind is `group`, as the store and the wire call it).
 */
export interface Place {
  readonly kind: "room" | "group";
  readonly name: string;
}

/** Why a member left a place. */
export type LeaveCause =
  /** Left on purpose (EXIT_ROOM, LEAVE, PEER_BYE). */
  | { readonly kind: "left" }
  /** Went into another room or peer chat. */
  | { readonly kind: "moved" }
  /** Logged out (LOGOUT). */
  | { readonly kind: "logged-out" }
  /** The connection ended or was closed by the server; `reason` says why. */
  | { readonly kind: "disconnected"; readonly reason: string }
  /** Removed by a moderator, `by`, with the reason they gave (may be empty). */
  | { readonly kind: "kicked" | "banned"; readonly by: string; readonly reason: string };

/** How a request to join a peer chat ended. */
export type InvitationAnswer = "accepted" | "declined" | "expired" | "withdrawn";

/** A message was posted in a place. */
export interface MessagePosted {
  readonly type: "message";
  readonly place: Place;
  /** Unique and increasing across the server. */
  readonly id: number;
  /**
   * Its number in the place's sequence (1, 2, … in commit order) when the
   * store keeps one, as a store that servers share does; 0 otherwise.
   */
  readonly seq: number;
  readonly from: string;
  readonly time: number;
  readonly text: string;
  /** The users it mentions (see `mentions.ts`); told to 2.1 sessions only. */
  readonly mentions: readonly string[];
}

/** Someone came into a place (to its other members). */
export interface MemberJoined {
  readonly type: "joined";
  readonly place: Place;
  readonly user: string;
  readonly time: number;
}

/** Someone left a place (to its remaining members). */
export interface MemberLeft {
  readonly type: "left";
  readonly place: Place;
  readonly user: string;
  readonly time: number;
  readonly cause: LeaveCause;
}

/** The receiver was removed from a public room by a moderator. */
export interface RemovedFromRoom {
  readonly type: "removed";
  readonly place: Place;
  readonly by: string;
  /** As the moderator gave it; may be empty. */
  readonly reason: string;
  /** Whether they are kept out too. */
  readonly banned: boolean;
  readonly time: number;
}

/** The receiver's peer chat ended: everyone else left it. */
export interface PeerChatEnded {
  readonly type: "peer-chat-ended";
  readonly place: Place;
  readonly time: number;
}

/** Someone asks the members of a peer chat to let them in. */
export interface InvitationAsked {
  readonly type: "invitation-asked";
  readonly place: Place;
  /** Who asks. */
  readonly from: string;
  /** When the request expires. */
  readonly expires: number;
  readonly time: number;
}

/** A request to join a peer chat ended (to the one who asked, and to the members). */
export interface InvitationAnswered {
  readonly type: "invitation-answered";
  readonly place: Place;
  /** Who asked. */
  readonly from: string;
  readonly answer: InvitationAnswer;
  /** The member who accepted or declined; null when it expired or was withdrawn. */
  readonly by: string | null;
  readonly time: number;
}

/** A direct message to the receiver. */
export interface DirectMessage {
  readonly type: "direct";
  readonly id: number;
  /**
   * Its number in the conversation, for a cluster's servers to find one
   * that did not reach them (0 from a store that gives none); no wire shows it.
   */
  readonly seq: number;
  readonly from: string;
  readonly to: string;
  readonly time: number;
  readonly text: string;
  /** The recipient when the text mentions them, else none; told to 2.1 sessions only. */
  readonly mentions: readonly string[];
}

/**
 * The receiver's user has read a place up to a message, on another of
 * their sessions (protocol 2.1).
 */
export interface ReadMoved {
  readonly type: "read";
  /** The room or peer chat; null for a direct conversation. */
  readonly place: Place | null;
  /** The other user of a direct conversation; null for a room or peer chat. */
  readonly with: string | null;
  /** The id of the last message read. */
  readonly id: number;
  readonly time: number;
}

/** A notice from the operator to everyone connected. */
export interface Notice {
  readonly type: "notice";
  readonly time: number;
  readonly text: string;
}

/** Everything a session may be told. */
export type ChatEvent =
  | MessagePosted
  | MemberJoined
  | MemberLeft
  | RemovedFromRoom
  | PeerChatEnded
  | InvitationAsked
  | InvitationAnswered
  | DirectMessage
  | ReadMoved
  | Notice;

/** The mentions of a message that mentions nobody, made once. */
export const NO_MENTIONS: readonly string[] = Object.freeze([]);

/** The causes without fields, made once. */
export const LEFT: LeaveCause = { kind: "left" };
/** See {@link LeaveCause}. */
export const MOVED: LeaveCause = { kind: "moved" };
/** See {@link LeaveCause}. */
export const LOGGED_OUT: LeaveCause = { kind: "logged-out" };
