/**
 * The request table and its dispatcher: checks a request's method, required
 * parameters and login once, then runs the handler, which only does chat
 * logic. Every request gets exactly one response. No I/O.
 * @module
 */

import { formatCounts, formatMessageLines, formatNameList } from "../protocol/content.ts";
import type { Message } from "../protocol/message.ts";
import {
  isRequestMethod,
  Request,
  type RequestMethod,
  REQUESTS,
  Response,
  type ResponseMethod,
  Status,
  type StatusCode,
} from "../protocol/methods.ts";
import { type Chat, formatTime } from "./chat.ts";
import type { Session } from "./session.ts";

/** Settings of the dispatcher. */
export interface DispatchOptions {
  /** Most characters of message content in one NEW_MSG response. */
  maxReplyChars: number;
}

type Handler = (
  chat: Chat,
  session: Session,
  request: Message,
  options: DispatchOptions,
) => Message;

/** Builds a response with a Status and optional further parameters and content. */
export function reply(
  method: ResponseMethod,
  status: StatusCode,
  params: Record<string, string> = {},
  content?: string,
): Message {
  return { method, params: { Status: status, ...params }, content };
}

/** The ERROR response to a frame that is not a request this server knows. */
export function badRequest(reason: string, method: ResponseMethod = Response.ERROR): Message {
  return reply(method, Status.BAD_REQUEST, { Reason: reason });
}

const HANDLERS: Record<RequestMethod, Handler> = {
  LOGIN(chat, session, request) {
    const push = request.params.Push ?? "off";
    if (push !== "on" && push !== "off") {
      return badRequest(`Push must be "on" or "off"`, Response.RESP_LOGIN);
    }
    const { Username, Password } = request.params;
    return reply(Response.RESP_LOGIN, chat.login(session, Username, Password, push === "on"));
  },
  LOGOUT(chat, session) {
    return reply(Response.RESP_LOGOUT, chat.logout(session));
  },
  LIST_ROOMS(chat) {
    const rooms = chat.rooms();
    return reply(
      Response.RESP_LIST_ROOMS,
      Status.OK,
      { "Member-Counts": formatCounts(rooms.map((room) => room.members)) },
      formatNameList(rooms.map((room) => room.name)),
    );
  },
  LIST_MEMBERS(chat, session) {
    const members = chat.members(session);
    if (!members) return reply(Response.RESP_LIST_MEMBERS, Status.NOT_IN_ROOM);
    return reply(Response.RESP_LIST_MEMBERS, Status.OK, {}, formatNameList(members));
  },
  JOIN_ROOM(chat, session, request) {
    return reply(Response.RESP_JOIN_ROOM, chat.join(session, request.params["Room-Name"]));
  },
  EXIT_ROOM(chat, session) {
    return reply(Response.RESP_EXIT_ROOM, chat.exitRoom(session));
  },
  SEND_MSG(chat, session, request) {
    if (!request.content) return badRequest("empty message", Response.RESP_SEND_MSG);
    const result = chat.post(session, request.content);
    if (!("posted" in result)) return reply(Response.RESP_SEND_MSG, result.status);
    return reply(Response.RESP_SEND_MSG, Status.OK, {
      Id: String(result.posted.seq),
      Time: formatTime(result.posted.time),
    });
  },
  RECV_MSG(chat, session, _request, options) {
    const { status, messages, missed } = chat.receive(session, options.maxReplyChars);
    if (status !== Status.OK) return reply(Response.NO_NEW_MSG, status);
    const params: Record<string, string> = {};
    if (missed > 0) params.Missed = String(missed);
    const lines = messages.map((m) => ({
      from: m.from,
      time: formatTime(m.time),
      content: m.content,
    }));
    return reply(Response.NEW_MSG, Status.OK, params, formatMessageLines(lines));
  },
  CREATE_ROOM(chat, session, request) {
    const { status, reason } = chat.createRoom(session, request.params["Room-Name"]);
    return reply(Response.RESP_CREATE_ROOM, status, reason ? { Reason: reason } : {});
  },
};

/** Answers one parsed request on behalf of a session. */
export function dispatch(
  chat: Chat,
  session: Session,
  request: Message,
  options: DispatchOptions,
): Message {
  const method = request.method;
  if (!isRequestMethod(method)) {
    return badRequest(`unknown method ${JSON.stringify(method.slice(0, 40))}`);
  }
  const spec = REQUESTS[method];
  const missing = spec.required.filter((name) => request.params[name] === undefined);
  if (missing.length > 0) {
    return badRequest(`missing parameter ${missing.join(", ")}`, spec.response);
  }
  if (session.user === null && method !== Request.LOGIN) {
    return reply(spec.response, Status.NOT_LOGIN);
  }
  return HANDLERS[method](chat, session, request, options);
}
