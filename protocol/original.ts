/**
 * The original dialect: the bytes the original Python 2 Claptrap server
 * wrote, which its client parses strictly. A session that never says
 * `HELLO` with major version 2 gets these answers to the eight requests
 * the original client sends: only `Status` and `Content-Length`, no final
 * newline, the original content formats, and only the statuses the
 * original client knows for each request. Pure: no I/O.
 * @module
 */

import { frame } from "./frame.ts";
import type { MessageLine } from "./content.ts";
import { utf8Length } from "./message.ts";
import {
  Request,
  REQUESTS,
  Response,
  type ResponseMethod,
  Status,
  type StatusCode,
} from "./methods.ts";

/** The requests the original client sends. */
export type OriginalRequest =
  | typeof Request.LOGIN
  | typeof Request.LOGOUT
  | typeof Request.LIST_ROOMS
  | typeof Request.LIST_MEMBERS
  | typeof Request.JOIN_ROOM
  | typeof Request.EXIT_ROOM
  | typeof Request.SEND_MSG
  | typeof Request.RECV_MSG;

/** How the original client takes the answers to one request. */
export interface OriginalAnswerRule {
  /** The statuses it knows; any other one makes it raise `Bad Status`. */
  readonly statuses: readonly StatusCode[];
  /** What every other status becomes: a failure the client shows as such. */
  readonly fallback: StatusCode;
}

/**
 * Per request, the statuses the original client accepts and the failure
 * every other status is sent as. E.g. `ALREADY_ONLINE`, `SERVER_FULL` and
 * `RATE_LIMITED` on LOGIN are sent as `AUTH_FAILED` (the dialog's text
 * covers them: "Wrong username/password. Or the user has already logged
 * in."); `BANNED` on JOIN_ROOM as `NO_SUCH_ROOM`; a refused SEND_MSG as
 * `NOT_IN_ROOM`, which the client ignores.
 */
export const ORIGINAL_ANSWERS: Readonly<Record<OriginalRequest, OriginalAnswerRule>> = {
  LOGIN: { statuses: [Status.OK, Status.AUTH_FAILED], fallback: Status.AUTH_FAILED },
  LOGOUT: { statuses: [Status.OK, Status.NOT_LOGIN], fallback: Status.NOT_LOGIN },
  LIST_ROOMS: { statuses: [Status.OK, Status.NOT_LOGIN], fallback: Status.NOT_LOGIN },
  LIST_MEMBERS: {
    statuses: [Status.OK, Status.NOT_IN_ROOM, Status.NOT_LOGIN],
    fallback: Status.NOT_IN_ROOM,
  },
  JOIN_ROOM: {
    statuses: [Status.OK, Status.NO_SUCH_ROOM, Status.NOT_LOGIN],
    fallback: Status.NO_SUCH_ROOM,
  },
  EXIT_ROOM: {
    statuses: [Status.OK, Status.NOT_IN_ROOM, Status.NOT_LOGIN],
    fallback: Status.NOT_IN_ROOM,
  },
  SEND_MSG: {
    statuses: [Status.OK, Status.NOT_IN_ROOM, Status.NOT_LOGIN],
    fallback: Status.NOT_IN_ROOM,
  },
  RECV_MSG: {
    statuses: [Status.OK, Status.NO_NEW_MSG, Status.NOT_IN_ROOM, Status.NOT_LOGIN],
    fallback: Status.NO_NEW_MSG,
  },
};

/** Whether `method` is one of the eight requests the original client sends. */
export function isOriginalRequest(method: string): method is OriginalRequest {
  return Object.hasOwn(ORIGINAL_ANSWERS, method);
}

/**
 * The answer the original client gets for a request answered with
 * `status`: the response method (for RECV_MSG `NEW_MSG` with OK, else
 * `NO_NEW_MSG`) and the status, mapped by {@link ORIGINAL_ANSWERS}.
 *
 * @example A second login of an online user
 * ```ts
 * import assert from "node:assert/strict";
 * import { originalAnswer } from "./original.ts";
 * const answer = originalAnswer("LOGIN", "ALREADY_ONLINE");
 * assert.ok(answer.method === "RESP_LOGIN" && answer.status === "AUTH_FAILED");
 * ```
 */
export function originalAnswer(
  request: OriginalRequest,
  status: string,
): { method: ResponseMethod; status: StatusCode } {
  const rule = ORIGINAL_ANSWERS[request];
  const known = rule.statuses.find((known) => known === status) ?? rule.fallback;
  // RECV_MSG is the one request with two answers: NEW_MSG with OK, else NO_NEW_MSG
  const recvOk = request === Request.RECV_MSG && known === Status.OK;
  return { method: recvOk ? Response.NEW_MSG : REQUESTS[request].response, status: known };
}

const encoder = new TextEncoder();

/**
 * Encodes an answer as the original server wrote it, as a whole frame: the
 * method line and `Status: …`; when there is content (not empty), then
 * `Content-Length: …`, a blank line and the content. Lines are joined by
 * LF and nothing follows the last one. Empty content is left out, as the
 * original did: its client takes an empty list for no list.
 *
 * @example An answer without content, and one with
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeOriginalMessage } from "./original.ts";
 * const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes.subarray(12));
 * assert.ok(text(encodeOriginalMessage("RESP_LOGIN", "OK")) === "RESP_LOGIN\nStatus: OK");
 * const list = encodeOriginalMessage("RESP_LIST_MEMBERS", "OK", "ann\nbob");
 * assert.ok(text(list) === "RESP_LIST_MEMBERS\nStatus: OK\nContent-Length: 7\n\nann\nbob");
 * ```
 */
export function encodeOriginalMessage(
  method: ResponseMethod,
  status: StatusCode,
  content?: string,
): Uint8Array {
  const head = `${method}\nStatus: ${status}`;
  const payload = content ? `${head}\nContent-Length: ${utf8Length(content)}\n\n${content}` : head;
  return frame(encoder.encode(payload));
}

/**
 * The original room list: one `name TAB count` row per room, rows joined by
 * LF, no final LF (the client splits every row into exactly two fields).
 */
export function formatOriginalRoomList(
  rooms: Iterable<{ readonly name: string; readonly members: number }>,
): string {
  let text = "";
  for (const room of rooms) text += `${text === "" ? "" : "\n"}${room.name}\t${room.members}`;
  return text;
}

/** The original member list: names joined by LF, no final LF. */
export function formatOriginalMemberList(names: readonly string[]): string {
  return names.join("\n");
}

/**
 * The original NEW_MSG content: one `from TAB time TAB text` record per
 * message, records joined by two TABs, nothing escaped and no final
 * separator. The client splits the content at every `\t\t` and each record
 * into exactly three fields, so every TAB of the text becomes four spaces,
 * as the original client does to what it sends (names hold no TAB).
 *
 * @example Two messages, one with a TAB and a newline
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatOriginalMessages } from "./original.ts";
 * const text = formatOriginalMessages([
 *   { from: "ann", time: "Sun Dec  6 10:27:42 2026", content: "a\tb" },
 *   { from: "bob", time: "Sun Dec  6 10:27:43 2026", content: "c\nd" },
 * ]);
 * assert.ok(text === "ann\tSun Dec  6 10:27:42 2026\ta    b\t\tbob\tSun Dec  6 10:27:43 2026\tc\nd");
 * ```
 */
export function formatOriginalMessages(messages: readonly MessageLine[]): string {
  let text = "";
  for (const { from, time, content } of messages) {
    if (text !== "") text += "\t\t";
    text += `${from}\t${time}\t${
      content.includes("\t") ? content.replaceAll("\t", "    ") : content
    }`;
  }
  return text;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Minutes east of UTC of this process's time zone at `ms` (e.g. 60 for CET). */
function localOffsetMinutes(ms: number): number {
  return -new Date(ms).getTimezoneOffset();
}

/**
 * A time as C's `ctime()` writes it, 24 characters with the day padded by a
 * space: `Sun Dec  6 10:27:42 2026`. In the time zone `offsetMinutes` east
 * of UTC; by default this process's local time, as the original server's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatCtime } from "./original.ts";
 * const ms = Date.UTC(2026, 11, 6, 9, 27, 42);
 * assert.ok(formatCtime(ms, 60) === "Sun Dec  6 10:27:42 2026");
 * ```
 */
export function formatCtime(ms: number, offsetMinutes: number = localOffsetMinutes(ms)): string {
  const t = new Date(ms + offsetMinutes * 60_000);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${DAYS[t.getUTCDay()]} ${MONTHS[t.getUTCMonth()]} ${
    String(t.getUTCDate()).padStart(2, " ")
  } ${two(t.getUTCHours())}:${two(t.getUTCMinutes())}:${
    two(t.getUTCSeconds())
  } ${t.getUTCFullYear()}`;
}
