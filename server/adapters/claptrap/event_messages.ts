/**
 * The chat's domain events as Claptrap event messages (`EVT_*`), the same
 * for the framed TCP wire and its JSON mapping over WebSocket; and the two
 * events a connection sends of its own accord, EVT_PING and EVT_CLOSE.
 * Pure.
 * @module
 */

import type { ChatEvent, LeaveCause, Place } from "../../../core/events.ts";
import type { Message } from "../../../protocol/message.ts";
import { Event } from "../../../protocol/methods.ts";
import { formatTime } from "../../../protocol/time.ts";

/**
 * The EVT_* message telling of `event`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { eventMessage } from "./event_messages.ts";
 * const place = { kind: "room", name: "lobby" } as const;
 * assert.deepEqual(
 *   eventMessage({ type: "joined", place, user: "ann", time: 0 }),
 *   {
 *     method: "EVT_JOIN",
 *     params: { Room: "lobby", User: "ann", Time: "1970-01-01T00:00:00.000Z" },
 *   },
 * );
 * ```
 */
export function eventMessage(event: ChatEvent): Message {
  switch (event.type) {
    case "message": {
      const { place, from: From } = event;
      const Time = formatTime(event.time);
      const Id = String(event.id);
      // written out, not spread: the one event of the hot path
      const params: Record<string, string> = place.kind === "group"
        ? { Room: place.name, Kind: "group", From, Time, Id }
        : { Room: place.name, From, Time, Id };
      return { method: Event.EVT_MSG, params, content: event.text };
    }
    case "joined":
      return {
        method: Event.EVT_JOIN,
        params: placeParams(event.place, { User: event.user, Time: formatTime(event.time) }),
      };
    case "left": {
      const params: Record<string, string> = { User: event.user, Time: formatTime(event.time) };
      const reason = leaveReason(event.cause);
      if (reason) params.Reason = reason;
      return { method: Event.EVT_LEAVE, params: placeParams(event.place, params) };
    }
    case "removed":
      return {
        method: Event.EVT_KICKED,
        params: {
          Room: event.place.name,
          By: event.by,
          Reason: event.reason,
          Banned: event.banned ? "yes" : "no",
          Time: formatTime(event.time),
        },
      };
    case "peer-chat-ended":
      return {
        method: Event.EVT_GROUP_END,
        params: { Room: event.place.name, Time: formatTime(event.time) },
      };
    case "invitation-asked":
      return {
        method: Event.EVT_PEER_INVITE,
        params: placeParams(event.place, {
          From: event.from,
          Expires: formatTime(event.expires),
          Time: formatTime(event.time),
        }),
      };
    case "invitation-answered": {
      const params: Record<string, string> = { From: event.from, Answer: event.answer };
      if (event.by !== null) params.By = event.by;
      params.Time = formatTime(event.time);
      return { method: Event.EVT_PEER_ANSWER, params: placeParams(event.place, params) };
    }
    case "direct":
      return {
        method: Event.EVT_DM,
        params: {
          From: event.from,
          To: event.to,
          Time: formatTime(event.time),
          Id: String(event.id),
        },
        content: event.text,
      };
    case "read": {
      const where: Record<string, string> = event.place === null
        ? { With: event.with! }
        : placeParams(event.place, {});
      return {
        method: Event.EVT_READ,
        params: { ...where, Id: String(event.id), Time: formatTime(event.time) },
      };
    }
    case "notice":
      return {
        method: Event.EVT_NOTICE,
        params: { Time: formatTime(event.time) },
        content: event.text,
      };
  }
}

/**
 * The message telling a 2.1 session of `event`: as {@link eventMessage},
 * and a message that mentions users says whom, in `Mentions` (their names
 * separated by tabs, which no name holds). Null when it is told as to
 * every other session, so that the encoding of that is shared.
 */
export function eventMessage21(event: ChatEvent): Message | null {
  if ((event.type !== "message" && event.type !== "direct") || event.mentions.length === 0) {
    return null;
  }
  const message = eventMessage(event);
  message.params.Mentions = event.mentions.join("\t");
  return message;
}

/**
 * An event encoder for 2.1 sessions beside `encode`, the one for all
 * others: an event told to both alike is encoded once for both.
 */
export function encoding21<T>(
  encode: (event: ChatEvent) => T,
  encodeMessage: (message: Message) => T,
): (event: ChatEvent) => T {
  return (event) => {
    const message = eventMessage21(event);
    return message === null ? encode(event) : encodeMessage(message);
  };
}

/** EVT_PING, which a silent push connection is sent at `now`. */
export function pingMessage(now: number): Message {
  return { method: Event.EVT_PING, params: { Time: formatTime(now) } };
}

/** EVT_CLOSE: the server closes the connection at `now`, for `reason`. */
export function closeMessage(reason: string, now: number): Message {
  return { method: Event.EVT_CLOSE, params: { Reason: reason, Time: formatTime(now) } };
}

/** The `Reason` of EVT_LEAVE: why someone was removed or disconnected; empty otherwise. */
function leaveReason(cause: LeaveCause): string {
  switch (cause.kind) {
    case "kicked":
    case "banned":
      return `${cause.kind} by ${cause.by}${cause.reason ? `: ${cause.reason}` : ""}`;
    case "disconnected":
      return cause.reason;
    default:
      return "";
  }
}

/** `Room` and, for a peer chat, `Kind` before an event's own parameters. */
function placeParams(place: Place, params: Record<string, string>): Record<string, string> {
  return place.kind === "group"
    ? { Room: place.name, Kind: "group", ...params }
    : { Room: place.name, ...params };
}
