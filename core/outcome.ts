/**
 * How the chat answers what a session asks of it: a status and, for some,
 * why. The statuses are named as the Claptrap protocol names them, so its
 * adapter passes them through; other wires map them to their own words.
 * @module
 */

/** The status of an outcome of the chat. */
export type ChatStatus =
  | "OK"
  | "AUTH_FAILED"
  | "NOT_LOGIN"
  | "NOT_IN_ROOM"
  | "NO_SUCH_ROOM"
  | "NO_NEW_MSG"
  | "BAD_REQUEST"
  | "SERVER_FULL"
  | "ALREADY_LOGIN"
  | "ALREADY_ONLINE"
  | "ROOM_EXISTS"
  | "INVALID_NAME"
  | "NAME_TAKEN"
  | "WEAK_PASSWORD"
  | "PEER_IS_SELF"
  | "PEER_OFFLINE"
  | "NOT_IN_GROUP"
  | "BUSY"
  | "INVITED"
  | "NO_INVITATION"
  | "NOT_ALLOWED"
  | "BANNED"
  | "NO_SUCH_USER"
  | "RATE_LIMITED";

/** A status with an optional explanation. */
export interface Outcome {
  status: ChatStatus;
  reason?: string;
  /** With RATE_LIMITED: how many milliseconds until trying again may succeed. */
  retryAfterMs?: number;
}

/** The RATE_LIMITED outcome: try again after `waitMs`, for `reason`. */
export function rateLimited(waitMs: number, reason: string): Outcome {
  return { status: "RATE_LIMITED", reason, retryAfterMs: waitMs };
}

/** When to try again after the server was too busy to take the work. */
export const BUSY_RETRY_MS = 1000;
