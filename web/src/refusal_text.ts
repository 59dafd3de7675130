/**
 * What the page says when the server refuses a request: a sentence per
 * status, with the server's reason. No DOM.
 * @module
 */

import type { ChatError } from "../../client/chat_client.ts";

/** A sentence per status the page may meet. */
export const STATUS_TEXT: Readonly<Record<string, string>> = {
  AUTH_FAILED: "Wrong user name or password.",
  ALREADY_ONLINE: "This user is signed in elsewhere.",
  ALREADY_LOGIN: "Already signed in.",
  SERVER_FULL: "The server is full; try again later.",
  NAME_TAKEN: "That user name is taken.",
  WEAK_PASSWORD: "That password is too weak",
  INVALID_NAME: "That name is not allowed",
  ROOM_EXISTS: "A room of that name exists already.",
  NO_SUCH_ROOM: "There is no such room.",
  BANNED: "You are banned from that room.",
  NOT_IN_ROOM: "Join a room first.",
  NOT_LOGIN: "Not signed in.",
  PEER_OFFLINE: "Not delivered",
  PEER_IS_SELF: "That is you.",
  NO_SUCH_USER: "There is no such user.",
  RATE_LIMITED: "Too fast: wait a moment",
  SERVER_ERROR: "The server could not store this; try again.",
  BAD_REQUEST: "The server refused the request",
};

/** A human sentence for a refused request. */
export function describe(refusal: ChatError): string {
  const text = STATUS_TEXT[refusal.status] ?? `Failed (${refusal.status})`;
  return refusal.reason ? `${text.replace(/\.$/, "")}: ${refusal.reason}.` : text;
}
