/**
 * What the server pushes, as typed events: the one decoding of `EVT_*`
 * messages for every client. Pure.
 * @module
 */

import type { Message } from "../protocol/message.ts";
import { Event } from "../protocol/methods.ts";

/**
 * Whether a room event happened in a public room (`room`) or in a peer chat
 * (`group`).
 */
export type PlaceKind = "room" | "group";

/** How a request to join a peer chat ended. */
export type PeerAnswer = "accepted" | "declined" | "expired" | "withdrawn";

/**
 * Something the server pushed.
 *
 * - `message`, `join`, `leave`: in the user's room or peer chat (`kind`
 *   says which; the client always sets it, `room` when the server did not
 *   say). A `leave` has a `reason` when the user did not leave by choice.
 * - `dm`: a direct message to this user.
 * - `kicked`: this user was removed from `room` (and `banned` from it).
 * - `groupEnd`: everyone else left the peer chat, so this user is out of it too.
 * - `peerInvite`: `from` asks to join this user's peer chat `room`, until
 *   `expires`; `ChatClient.peerAccept` or `ChatClient.peerDecline` answer.
 * - `peerAnswer`: how `from`'s request to join the peer chat `room` ended,
 *   and `by` whom when a member answered; to the one who asked (who is in
 *   `room` once `accepted`) and to the members (unless accepted).
 * - `read` (2.1): the user read `room` (or the direct conversation
 *   `with` a user) up to `id` on another of their sessions.
 * - `notice`: a notice from the server's operator to everyone.
 * - `close`: the server is closing the connection, saying why.
 *
 * In a 2.1 session, `message` and `dm` carry `mentions` when the text
 * mentions anyone, and every room the user belongs to sends `message`s.
 */
export type ChatEvent =
  | {
    type: "message";
    room: string;
    kind?: PlaceKind;
    from: string;
    time: string;
    id: number;
    content: string;
    /** 2.1: the users the message mentions, when any. */
    mentions?: string[];
  }
  | { type: "join"; room: string; kind?: PlaceKind; user: string; time: string }
  | { type: "leave"; room: string; kind?: PlaceKind; user: string; time: string; reason?: string }
  | {
    type: "dm";
    from: string;
    to: string;
    time: string;
    id: number;
    content: string;
    /** 2.1: the recipient, when the message mentions them. */
    mentions?: string[];
  }
  | {
    type: "read";
    /** The room or peer chat read; absent for a direct conversation. */
    room?: string;
    kind?: PlaceKind;
    /** The other user of the direct conversation read. */
    with?: string;
    id: number;
    time: string;
  }
  | { type: "kicked"; room: string; by: string; reason: string; banned: boolean; time: string }
  | { type: "groupEnd"; room: string; time: string }
  | { type: "peerInvite"; room: string; from: string; expires: string; time: string }
  | {
    type: "peerAnswer";
    room: string;
    from: string;
    answer: PeerAnswer;
    by?: string;
    time: string;
  }
  | { type: "notice"; time: string; content: string }
  | { type: "close"; reason: string };

/**
 * The typed event of an `EVT_*` message; null for `EVT_PING` (which the
 * client answers itself) and for events this client does not know, which
 * the protocol says to ignore.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeEvent } from "./chat_event.ts";
 * const event = decodeEvent({
 *   method: "EVT_JOIN",
 *   params: { Room: "lobby", User: "ann", Time: "2026-11-23T09:14:44.266Z" },
 * });
 * assert.deepEqual(event, {
 *   type: "join",
 *   room: "lobby",
 *   kind: "room",
 *   user: "ann",
 *   time: "2026-11-23T09:14:44.266Z",
 * });
 * ```
 */
export function decodeEvent(message: Message): ChatEvent | null {
  const p = message.params;
  const kind: PlaceKind = p.Kind === "group" ? "group" : "room";
  switch (message.method) {
    case Event.EVT_MSG:
      return {
        type: "message",
        room: p.Room,
        kind,
        from: p.From,
        time: p.Time,
        id: Number(p.Id),
        content: message.content ?? "",
        ...mentionsOf(p.Mentions),
      };
    case Event.EVT_JOIN:
      return { type: "join", room: p.Room, kind, user: p.User, time: p.Time };
    case Event.EVT_LEAVE:
      return {
        type: "leave",
        room: p.Room,
        kind,
        user: p.User,
        time: p.Time,
        ...(p.Reason ? { reason: p.Reason } : {}),
      };
    case Event.EVT_DM:
      return {
        type: "dm",
        from: p.From,
        to: p.To,
        time: p.Time,
        id: Number(p.Id),
        content: message.content ?? "",
        ...mentionsOf(p.Mentions),
      };
    case Event.EVT_READ:
      return {
        type: "read",
        ...(p.With === undefined ? { room: p.Room, kind } : { with: p.With }),
        id: Number(p.Id),
        time: p.Time,
      };
    case Event.EVT_KICKED:
      return {
        type: "kicked",
        room: p.Room,
        by: p.By ?? "",
        reason: p.Reason ?? "",
        banned: p.Banned === "yes",
        time: p.Time,
      };
    case Event.EVT_GROUP_END:
      return { type: "groupEnd", room: p.Room, time: p.Time };
    case Event.EVT_NOTICE:
      return { type: "notice", time: p.Time, content: message.content ?? "" };
    case Event.EVT_PEER_INVITE:
      return {
        type: "peerInvite",
        room: p.Room,
        from: p.From,
        expires: p.Expires ?? "",
        time: p.Time,
      };
    case Event.EVT_PEER_ANSWER:
      return {
        type: "peerAnswer",
        room: p.Room,
        from: p.From,
        answer: p.Answer as PeerAnswer,
        ...(p.By ? { by: p.By } : {}),
        time: p.Time,
      };
    case Event.EVT_CLOSE:
      return { type: "close", reason: p.Reason ?? "" };
    default:
      return null;
  }
}

/** The `mentions` of an event with a `Mentions` parameter (names separated by TAB). */
function mentionsOf(value: string | undefined): { mentions?: string[] } {
  return value ? { mentions: value.split("\t") } : {};
}
