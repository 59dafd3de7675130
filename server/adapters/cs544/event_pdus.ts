/**
 * The chat's domain events as CS 544 responses, in the words of the
 * original server where it had them: a message is a `140` whose payload is
 * `(sender) text`, comings and goings are `180` and `190`, removals `191`
 * and `192`, and what the protocol has no code for is a `100`, which its
 * client prints as it is. Pure.
 * @module
 */

import type { ChatEvent, LeaveCause, RemovedFromRoom } from "../../../core/events.ts";
import { Cs544Code, type Cs544Response } from "../../../protocol/cs544_pdu.ts";

/** A chat line as the CS 544 client writes and shows it: `(sender) text`. */
export function chatLine(from: string, text: string): string {
  return `(${from}) ${text}`;
}

/** `190`: `user` left the group (its client waits for one naming it after LEVE). */
export function leftPdu(user: string): Cs544Response {
  return {
    code: Cs544Code.LEFT,
    channel: "CC",
    parameters: { username: user },
    payload: `${user} has left the chat room`,
  };
}

/** `180`: `user` came into `group`. */
export function joinedPdu(user: string, group: string, peerChat = false): Cs544Response {
  return {
    code: Cs544Code.JOINED,
    channel: "CC",
    parameters: { username: user, chat_name: group },
    payload: `${user} has joined the ${peerChat ? "peer chat" : "group"}`,
  };
}

/** `192` or `191`: `user` was kicked or banned, with the moderator's reason if any. */
export function removalPdu(user: string, banned: boolean, reason: string): Cs544Response {
  const why = reason === "" ? "" : ` (${reason})`;
  return banned
    ? {
      code: Cs544Code.BANNED,
      channel: "AC",
      parameters: { banned_user: user },
      payload: `${user} has been banned from the group${why}`,
    }
    : {
      code: Cs544Code.KICKED,
      channel: "AC",
      parameters: { kicked_user: user },
      payload: `${user} has been kicked from the group${why}`,
    };
}

/** `100`: text the client prints as it is. */
export function noticePdu(text: string): Cs544Response {
  return { code: Cs544Code.NOTICE, channel: "CC", parameters: {}, payload: text };
}

/**
 * The response telling any CS 544 client of `event`, or null when it is not
 * told: the same for every connection, so encoded once. A removal of the
 * client itself needs its own spelling: see {@link removedPdu}.
 */
export function eventPdu(event: ChatEvent): Cs544Response | null {
  switch (event.type) {
    case "message":
      return {
        code: Cs544Code.MESSAGE,
        channel: "DC",
        parameters: {},
        payload: chatLine(event.from, event.text),
      };
    case "joined":
      return joinedPdu(event.user, event.place.name, event.place.kind === "group");
    case "left":
      return departurePdu(event.user, event.cause);
    case "notice":
      return noticePdu(event.text);
    case "direct":
      return noticePdu(`(${event.from}, to you only) ${event.text}`);
    case "peer-chat-ended":
      return noticePdu(
        "Your peer chat has ended: everyone else left it. Type -moveout, then join a group",
      );
    case "invitation-asked":
      return noticePdu(
        `${event.from} asks to join this peer chat; a Claptrap client can let them in`,
      );
    case "removed":
    case "invitation-answered":
    case "read":
      return null;
  }
}

/** `190`, `191` or `192` for a member who left the group, by the cause. */
function departurePdu(user: string, cause: LeaveCause): Cs544Response {
  return cause.kind === "kicked" || cause.kind === "banned"
    ? removalPdu(user, cause.kind === "banned", cause.reason)
    : leftPdu(user);
}

/** The receiver was kicked or banned: `192` or `191` naming it as it spells its name. */
export function removedPdu(event: RemovedFromRoom, spelling: string): Cs544Response {
  return removalPdu(spelling, event.banned, event.reason);
}
