/**
 * The request table and its dispatcher: checks a request's method, required
 * parameters and login once, then runs the handler, which only does chat
 * logic. Every request gets exactly one response; a handler that needs the
 * store answers with a promise. No I/O.
 * @module
 */

import {
  formatCounts,
  formatMessageLines,
  formatNameList,
  formatRows,
} from "../../../protocol/content.ts";
import type { Message } from "../../../protocol/message.ts";
import {
  formatCtime,
  formatOriginalMemberList,
  formatOriginalMessages,
  formatOriginalRoomList,
} from "../../../protocol/original.ts";
import {
  CAPABILITIES,
  CAPABILITIES_21,
  isRequestMethod,
  PROTOCOL_VERSION,
  type RequestMethod,
  REQUESTS,
  type RequestSpec,
  Response,
  type ResponseMethod,
  Status,
  type StatusCode,
} from "../../../protocol/methods.ts";
import { StoreFailedError } from "../../../store/store.ts";
import type { Chat, LoginOutcome, MemberRow, Whereabouts } from "../../../core/chat.ts";
import type { Outcome } from "../../../core/outcome.ts";
import { formatTime } from "../../../protocol/time.ts";
import { poemNumbered, type Poems } from "../../poems.ts";
import { type Answered, StoreRead } from "../../connection/request_queue.ts";
import type { Session } from "../../../core/session.ts";

/** The answer to a request whose outcome cannot be known: none. */
const NEVER_ANSWERED: Promise<Message> = new Promise(() => {});

/** What the request table works with: the chat, and the settings of the dispatcher. */
export interface ClaptrapContext {
  /** The chat core. */
  chat: Chat;
  /** Most characters of message content in one NEW_MSG response. */
  maxReplyChars: number;
  /** Receives a line when a request fails inside the server. */
  log: (line: string) => void;
  /** The poem corpus for POEM, if the server has one. */
  poems?: Poems | null;
}

/** A connection as the request table sees it: its session, and the dialect it speaks. */
export interface ClaptrapClient {
  readonly session: Session;
  /**
   * Whether the client speaks the original protocol: it gets the original
   * server's formats (`protocol/original.ts`). A TCP session does until it
   * says HELLO with major version 2; a WebSocket session never does.
   */
  original: boolean;
  /** Makes the session one of protocol 2.1, its events told as to 2.1 sessions. */
  speak21(): void;
}

/**
 * A response, now or once the store has answered, or a large store read
 * that the connection starts when its turn comes.
 */
export type Reply = Answered<Message>;

type Handler = (
  chat: Chat,
  client: ClaptrapClient,
  request: Message,
  context: ClaptrapContext,
) => Reply;

/** Messages a HISTORY returns when it gives no Limit, and at most. */
export const HISTORY_LIMITS = { default: 50, max: 500 } as const;
/** Rooms a LIST_ROOMS page lists when it gives no Limit, and at most. */
export const LIST_ROOMS_LIMITS = { default: 1_000, max: 1_000 } as const;
/**
 * Most rooms in an original session's room list, which cannot be paged:
 * the rooms with members first.
 */
export const ORIGINAL_ROOM_ROWS = 1_000;
/** Results a SEARCH returns when it gives no Limit, and at most. */
export const SEARCH_LIMITS = { default: 20, max: 100 } as const;
/** Builds a response with a Status and optional further parameters and content. */
export function reply(
  method: ResponseMethod,
  status: StatusCode,
  params: Record<string, string> = {},
  content?: string,
): Message {
  return { method, params: { Status: status, ...params }, content };
}

/** The BAD_REQUEST response (by default an ERROR frame) with a reason. */
export function badRequest(reason: string, method: ResponseMethod = Response.ERROR): Message {
  return reply(method, Status.BAD_REQUEST, { Reason: reason });
}

/**
 * The response to an outcome: its status, and its reason and retry time
 * when it has them.
 */
function answer(method: ResponseMethod, outcome: Outcome, params: Record<string, string> = {}) {
  const extra: Record<string, string> = {};
  if (outcome.reason) extra.Reason = outcome.reason;
  if (outcome.retryAfterMs !== undefined) extra["Retry-After-Ms"] = String(outcome.retryAfterMs);
  return reply(method, outcome.status, { ...extra, ...params });
}

/** Answers now or later, whichever the outcome is. */
function answerEither<T extends Outcome>(
  outcome: T | Promise<T>,
  toMessage: (outcome: T) => Message,
): Reply {
  return outcome instanceof Promise ? outcome.then(toMessage) : toMessage(outcome);
}

/** Server protocol majors a HELLO may name: 1 (the original) and 2. */
const SPOKEN_MAJORS = new Set([1, 2]);

/** Reads an optional whole-number parameter within bounds; a string is the problem. */
function numberParam(
  request: Message,
  name: string,
  fallback: number | null,
  max: number,
): number | null | string {
  const text = request.params[name];
  if (text === undefined) return fallback;
  if (!/^\d{1,15}$/.test(text) || Number(text) < 1 || Number(text) > max) {
    return `${name} must be a whole number from 1 to ${max}`;
  }
  return Number(text);
}

function moderationHandler(action: "kick" | "ban" | "unban", method: ResponseMethod): Handler {
  return async (chat, { session }, request) => {
    const { User, Reason } = request.params;
    const room = request.params["Room-Name"] ?? (session.v21 ? request.params.Room : undefined);
    return answer(method, await chat.moderate(session, action, User, { room, reason: Reason }));
  };
}

/** Reads a `yes`/`no` parameter (absent: no); a string is the problem. */
function yesNoParam(request: Message, name: string): boolean | string {
  const value = request.params[name] ?? "no";
  if (value !== "yes" && value !== "no") return `${name} must be "yes" or "no"`;
  return value === "yes";
}

/** A status now or later as the response `method`. */
function statusReply(method: ResponseMethod, status: StatusCode | Promise<StatusCode>): Reply {
  return status instanceof Promise ? status.then((s) => reply(method, s)) : reply(method, status);
}

/** The answer to a LOGIN or a password change: with a new token when there is one. */
function loginAnswer(method: ResponseMethod) {
  return (outcome: LoginOutcome) =>
    answer(method, outcome, outcome.token === undefined ? {} : { Token: outcome.token });
}

const HANDLERS: Record<RequestMethod, Handler> = {
  LOGIN(chat, { session }, request) {
    const push = request.params.Push ?? "off";
    if (push !== "on" && push !== "off") {
      return badRequest(`Push must be "on" or "off"`, Response.RESP_LOGIN);
    }
    const { Username, Password, Token } = request.params;
    if (Password === undefined) {
      return chat.resume(session, Username, Token, push === "on")
        .then((outcome) => answer(Response.RESP_LOGIN, outcome));
    }
    return chat.login(session, Username, Password, push === "on")
      .then(loginAnswer(Response.RESP_LOGIN));
  },
  REGISTER(chat, { session }, request) {
    return chat.register(session, request.params.Username, request.params.Password)
      .then((outcome) => answer(Response.RESP_REGISTER, outcome));
  },
  LOGOUT(chat, { session }, request) {
    const everywhere = yesNoParam(request, "Everywhere");
    if (typeof everywhere === "string") return badRequest(everywhere, Response.RESP_LOGOUT);
    return statusReply(Response.RESP_LOGOUT, chat.logout(session, everywhere));
  },
  LIST_ROOMS(chat, client, request) {
    if (client.original) {
      const rooms = chat.roomsOccupiedFirst(ORIGINAL_ROOM_ROWS);
      return reply(Response.RESP_LIST_ROOMS, Status.OK, {}, formatOriginalRoomList(rooms));
    }
    const limit = numberParam(request, "Limit", LIST_ROOMS_LIMITS.default, LIST_ROOMS_LIMITS.max);
    if (typeof limit === "string") return badRequest(limit, Response.RESP_LIST_ROOMS);
    const session = client.session;
    if (session.v21) {
      return chat.roomRows(session, request.params.After ?? null, limit!).then((page) => {
        if (!page) return badRequest("After names no room", Response.RESP_LIST_ROOMS);
        const rows = page.rooms.map((room) => [
          room.name,
          String(room.members),
          room.joined ? "joined" : "-",
          String(room.unread),
          String(room.mentions),
        ]);
        const more = page.more ? "yes" : "no";
        return reply(Response.RESP_LIST_ROOMS, Status.OK, { More: more }, formatRows(rows));
      });
    }
    const page = chat.roomPage(request.params.After ?? null, limit!);
    if (!page) return badRequest("After names no room", Response.RESP_LIST_ROOMS);
    return reply(
      Response.RESP_LIST_ROOMS,
      Status.OK,
      {
        "Member-Counts": formatCounts(page.rooms.map((room) => room.members)),
        More: page.more ? "yes" : "no",
      },
      formatNameList(page.rooms.map((room) => room.name)),
    );
  },
  LIST_MEMBERS(chat, client, request) {
    const { session } = client;
    if (session.v21) {
      const answerRows = (rows: MemberRow[] | null) => {
        if (!rows) return reply(Response.RESP_LIST_MEMBERS, Status.NOT_IN_ROOM);
        const lines = rows.map((row) => [row.name, row.online ? "online" : "away"]);
        return reply(Response.RESP_LIST_MEMBERS, Status.OK, {}, formatRows(lines));
      };
      const rows = chat.memberRows(session, request.params.Room);
      return rows instanceof Promise ? rows.then(answerRows) : answerRows(rows);
    }
    const answer = (members: string[] | null) => {
      if (!members) return reply(Response.RESP_LIST_MEMBERS, Status.NOT_IN_ROOM);
      const list = client.original ? formatOriginalMemberList(members) : formatNameList(members);
      return reply(Response.RESP_LIST_MEMBERS, Status.OK, {}, list);
    };
    const members = chat.members(session);
    return members instanceof Promise ? members.then(answer) : answer(members);
  },
  JOIN_ROOM(chat, { session }, request) {
    return answerEither(
      chat.join(session, request.params["Room-Name"]),
      (outcome) => answer(Response.RESP_JOIN_ROOM, outcome),
    );
  },
  EXIT_ROOM(chat, { session }, request) {
    return statusReply(Response.RESP_EXIT_ROOM, chat.exitRoom(session, request.params.Room));
  },
  LEAVE(chat, { session }, request) {
    return statusReply(Response.RESP_LEAVE, chat.exitRoom(session, request.params.Room));
  },
  SEND_MSG(chat, { session }, request) {
    return answerEither(
      chat.post(session, request.content ?? "", request.params.Room),
      (outcome) =>
        "id" in outcome
          ? reply(Response.RESP_SEND_MSG, Status.OK, {
            Id: String(outcome.id),
            Time: formatTime(outcome.time),
          })
          : answer(Response.RESP_SEND_MSG, outcome),
    );
  },
  async RECV_MSG(chat, client, request, context) {
    const original = client.original;
    const { status, messages, missed } = await chat.receive(
      client.session,
      context.maxReplyChars,
      request.params.Room,
    );
    if (status !== Status.OK) return reply(Response.NO_NEW_MSG, status);
    if (original) {
      const records = messages.map((m) => ({
        from: m.from,
        time: formatCtime(m.time),
        content: m.content,
      }));
      return reply(Response.NEW_MSG, Status.OK, {}, formatOriginalMessages(records));
    }
    const params: Record<string, string> = {};
    if (missed > 0) params.Missed = String(missed);
    const lines = messages.map((m) => ({
      from: m.from,
      time: formatTime(m.time),
      content: m.content,
    }));
    return reply(Response.NEW_MSG, Status.OK, params, formatMessageLines(lines));
  },
  CREATE_ROOM(chat, { session }, request) {
    return chat.createRoom(session, request.params["Room-Name"]).then(({ status, reason }) =>
      reply(Response.RESP_CREATE_ROOM, status, reason ? { Reason: reason } : {})
    );
  },
  HISTORY(chat, { session }, request) {
    const limit = numberParam(request, "Limit", HISTORY_LIMITS.default, HISTORY_LIMITS.max);
    const before = numberParam(request, "Before", null, Number.MAX_SAFE_INTEGER);
    const after = numberParam(request, "After", null, Number.MAX_SAFE_INTEGER);
    for (const value of [limit, before, after]) {
      if (typeof value === "string") return badRequest(value, Response.RESP_HISTORY);
    }
    if (before !== null && after !== null) {
      return badRequest("Before and After cannot be combined", Response.RESP_HISTORY);
    }
    const range = {
      limit: limit as number,
      ...(before === null ? {} : { before: before as number }),
      ...(after === null ? {} : { after: after as number }),
    };
    return new StoreRead(async () => {
      // logged out meanwhile: the connection ended while the read waited its turn
      if (session.user === null) return reply(Response.RESP_HISTORY, Status.NOT_LOGIN);
      const page = await chat.history(session, range, request.params.With, request.params.Room);
      if (page.status !== Status.OK) return answer(Response.RESP_HISTORY, page);
      const rows = page.messages.map((m) => [
        String(m.id),
        m.sender,
        formatTime(m.time),
        m.content,
      ]);
      return reply(
        Response.RESP_HISTORY,
        Status.OK,
        { Room: page.room!, More: page.more ? "yes" : "no" },
        formatRows(rows),
      );
    });
  },
  SEARCH(chat, { session }, request) {
    const limit = numberParam(request, "Limit", SEARCH_LIMITS.default, SEARCH_LIMITS.max);
    const before = numberParam(request, "Before", null, Number.MAX_SAFE_INTEGER);
    for (const value of [limit, before]) {
      if (typeof value === "string") return badRequest(value, Response.RESP_SEARCH);
    }
    const outcome = chat.search(session, request.params.Query, {
      limit: limit as number,
      before: before as number | null,
    });
    return answerEither(outcome, ({ page, ...refused }) => {
      if (!page) return answer(Response.RESP_SEARCH, refused);
      const rows = page.hits.map((h) => [
        String(h.id),
        h.room,
        h.sender,
        formatTime(h.time),
        h.snippet,
      ]);
      const params: Record<string, string> = {
        Total: page.partial ? `${page.total}+` : String(page.total),
        More: page.next === null ? "no" : "yes",
        Partial: page.partial ? "yes" : "no",
      };
      if (page.next !== null) params.Before = String(page.next);
      return reply(Response.RESP_SEARCH, Status.OK, params, formatRows(rows));
    });
  },
  HELLO(_chat, client, request) {
    const version = request.params.Version.match(/^(\d{1,4})\.(\d{1,4})$/);
    if (!version) {
      return badRequest("Version must be MAJOR.MINOR, e.g. 2.0", Response.RESP_HELLO);
    }
    const ours = { Version: PROTOCOL_VERSION, Server: "Claptrap" };
    if (!SPOKEN_MAJORS.has(Number(version[1]))) {
      return reply(Response.RESP_HELLO, Status.VERSION_MISMATCH, {
        ...ours,
        Reason:
          `this server speaks Claptrap ${PROTOCOL_VERSION} (and 2.0) and the original protocol 1.x`,
      });
    }
    // the one place where a session leaves the original dialect, for good
    if (Number(version[1]) === 2) client.original = false;
    // a minor version is chosen before LOGIN, for the rest of the connection
    const session = client.session;
    if (Number(version[1]) === 2 && Number(version[2]) >= 1 && session.user === null) {
      client.speak21();
    }
    if (!session.v21) {
      return reply(Response.RESP_HELLO, Status.OK, {
        ...ours,
        Version: "2.0",
        Capabilities: CAPABILITIES.join(","),
      });
    }
    const capabilities = [...CAPABILITIES, ...CAPABILITIES_21].join(",");
    return reply(Response.RESP_HELLO, Status.OK, { ...ours, Capabilities: capabilities });
  },
  PING(chat, _client, request) {
    const token = request.params.Token;
    return reply(Response.PONG, Status.OK, {
      ...(token === undefined ? {} : { Token: token }),
      Time: formatTime(chat.now()),
    });
  },
  TIME(chat) {
    return reply(Response.RESP_TIME, Status.OK, { Time: formatTime(chat.now()) });
  },
  WHO(chat) {
    const answer = (who: Whereabouts[]) =>
      reply(
        Response.RESP_WHO,
        Status.OK,
        {},
        formatRows(who.map((w) => [w.user, w.place, w.name])),
      );
    const who = chat.who();
    return who instanceof Promise ? who.then(answer) : answer(who);
  },
  PEER_CONNECT(chat, { session }, request) {
    return answerEither(chat.peerConnect(session, request.params.Peer), (outcome) => {
      const params: Record<string, string> = {};
      if (outcome.room) params.Room = outcome.room;
      if (outcome.invitation) params.Expires = formatTime(outcome.invitation.expires);
      return answer(Response.RESP_PEER_CONNECT, outcome, params);
    });
  },
  PEER_BYE(chat, { session }, request) {
    return reply(Response.RESP_PEER_BYE, chat.peerBye(session, request.params.Room));
  },
  PEER_ACCEPT(chat, { session }, request) {
    return answerEither(
      chat.peerAccept(session, request.params.Peer),
      (outcome) => answer(Response.RESP_PEER_ACCEPT, outcome),
    );
  },
  PEER_DECLINE(chat, { session }, request) {
    return answerEither(
      chat.peerDecline(session, request.params.Peer),
      (outcome) => answer(Response.RESP_PEER_DECLINE, outcome),
    );
  },
  async LIST_DIRECT(chat, { session }) {
    if (session.v21) {
      const rows = (await chat.directRows(session))
        .map((row) => [row.name, String(row.unread), String(row.mentions)]);
      return reply(Response.RESP_LIST_DIRECT, Status.OK, {}, formatRows(rows));
    }
    const partners = await chat.directPartners(session);
    return reply(Response.RESP_LIST_DIRECT, Status.OK, {}, formatNameList(partners));
  },
  async LIST_GROUPS(chat, { session }) {
    const rows = (await chat.peerChatRows(session)).map((row) => [
      row.name,
      String(row.members),
      String(row.unread),
      String(row.mentions),
    ]);
    return reply(Response.RESP_LIST_GROUPS, Status.OK, {}, formatRows(rows));
  },
  MARK_READ(chat, { session }, request) {
    const id = numberParam(request, "Id", null, Number.MAX_SAFE_INTEGER);
    if (typeof id === "string") return badRequest(id, Response.RESP_MARK_READ);
    const { Room: room, With: withUser } = request.params;
    if (room !== undefined && withUser !== undefined) {
      return badRequest("Room and With cannot be combined", Response.RESP_MARK_READ);
    }
    return chat.markRead(session, { room, withUser }, id!)
      .then((outcome) => answer(Response.RESP_MARK_READ, outcome));
  },
  CHANGE_PASSWORD(chat, { session }, request) {
    return chat.changePassword(session, request.params.Old, request.params.New)
      .then(loginAnswer(Response.RESP_CHANGE_PASSWORD));
  },
  DM(chat, { session }, request) {
    return answerEither(
      chat.direct(session, request.params.To, request.content ?? ""),
      (outcome) =>
        answer(
          Response.RESP_DM,
          outcome,
          outcome.id === undefined
            ? {}
            : { Id: String(outcome.id), Time: formatTime(outcome.time!) },
        ),
    );
  },
  POEM(_chat, _client, request, options) {
    if (!options.poems) {
      return reply(Response.RESP_POEM, Status.NO_POEMS, {
        Reason: "this server has no poem corpus (--poems)",
      });
    }
    const poem = poemNumbered(options.poems, request.params.Number);
    if (!poem) {
      return reply(Response.RESP_POEM, Status.NO_SUCH_POEM, {
        Reason: `poems are numbered 1 to ${options.poems.poems.length}`,
      });
    }
    return reply(
      Response.RESP_POEM,
      Status.OK,
      { Number: String(Number(request.params.Number)), Title: poem.heading },
      poem.text,
    );
  },
  KICK: moderationHandler("kick", Response.RESP_KICK),
  BAN: moderationHandler("ban", Response.RESP_BAN),
  UNBAN: moderationHandler("unban", Response.RESP_UNBAN),
};

/** Whether later requests must wait for this one's answer (see RequestSpec.barrier). */
export function isBarrier(request: Message): boolean {
  return isRequestMethod(request.method) && REQUESTS[request.method].barrier === true;
}

/** Answers one parsed request of a client. */
export function dispatch(
  context: ClaptrapContext,
  client: ClaptrapClient,
  request: Message,
): Reply {
  const chat = context.chat;
  const session = client.session;
  const method = request.method;
  if (!isRequestMethod(method)) {
    return badRequest(`unknown method ${JSON.stringify(method.slice(0, 40))}`);
  }
  const spec = REQUESTS[method];
  const missing = missingParams(spec, request, session.v21);
  if (missing !== null) return badRequest(`missing parameter ${missing}`, spec.response);
  if (session.user === null && !spec.beforeLogin) {
    return reply(spec.response, Status.NOT_LOGIN);
  }
  if (spec.limited) {
    const refused = chat.takeMessageToken(session);
    if (refused) return answer(spec.response, refused);
  }
  const response = HANDLERS[method](chat, client, request, context);
  if (response instanceof Promise) return failureAnswered(response, method, spec, context);
  if (response instanceof StoreRead) {
    return new StoreRead(() => failureAnswered(response.start(), method, spec, context));
  }
  return response;
}

/**
 * The required parameters a request lacks, comma-separated, or null. A loop,
 * not `filter`: dispatch runs for every request.
 */
function missingParams(spec: RequestSpec, request: Message, v21: boolean): string | null {
  let missing: string | null = null;
  for (const name of spec.required) {
    if (request.params[name] !== undefined) continue;
    const alternative = v21 ? spec.alternatives?.[name] : undefined;
    if (alternative !== undefined && request.params[alternative] !== undefined) continue;
    missing = missing === null ? name : `${missing}, ${name}`;
  }
  return missing;
}

/**
 * A handler's answer, or SERVER_ERROR if it fails; no answer at all when
 * the store has failed with what is on disk unknown, for the request may
 * have been carried out (the server is stopping). A function of its own
 * because the closure it makes would otherwise cost `dispatch` a context on
 * every call, answered at once or not.
 */
function failureAnswered(
  response: Promise<Message>,
  method: string,
  spec: RequestSpec,
  options: ClaptrapContext,
): Promise<Message> {
  return response.catch((error) => {
    if (error instanceof StoreFailedError) return NEVER_ANSWERED;
    options.log(`request-failed method=${method} error=${JSON.stringify(String(error))}`);
    return reply(spec.response, Status.SERVER_ERROR, { Reason: "the server could not store this" });
  });
}
