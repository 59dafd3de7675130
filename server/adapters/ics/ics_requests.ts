/**
 * The ICS chat's requests on the chat core: login by name (a guest), time,
 * who, connect (a peer chat), exchange, disconnect, search and poem, each
 * answered with the frame its client reads, or with nothing for exchange and
 * disconnect, which the client never waits for. No I/O.
 * @module
 */

import type { Chat, Whereabouts } from "../../../core/chat.ts";
import type { Outcome } from "../../../core/outcome.ts";
import type { SearchOutcome } from "../../../core/search.ts";
import type { Session } from "../../../core/session.ts";
import { encodeIcsFrame, formatIcsTime, type IcsRequest } from "../../../protocol/ics.ts";
import { searchTerms, splitSnippet } from "../../../protocol/search_text.ts";
import { poemNumbered, type Poems } from "../../poems.ts";
import { storeSafe } from "../store_safe.ts";

/** What the ICS requests work with. */
export interface IcsContext {
  chat: Chat;
  /** Receives a line when a request fails inside the server. */
  log: (line: string) => void;
  /** The poem corpus, if the server has one. */
  poems?: Poems | null;
}

/** The bytes of an answer; {@link NO_REPLY} for none. */
export type IcsAnswer = Uint8Array;

/** What exchange and disconnect get: nothing. */
export const NO_REPLY: IcsAnswer = new Uint8Array(0);

/** Search results an ICS search shows at most: the best ones, oldest first. */
export const ICS_SEARCH_RESULTS = 20;

/** An ICS client as the request table sees it. */
export interface IcsClient {
  readonly session: Session;
  /**
   * Whether the client is chatting (in a peer chat) as far as it knows: it
   * then prints exchanges, and sends every line it reads as one.
   */
  chatting: boolean;
}

/** The frame of a problem that is not the client's usual request: only other clients get it. */
export function icsError(status: "bad-request" | "not-logged-in", reason: string): IcsAnswer {
  return encodeIcsFrame({ action: "error", status, reason });
}

/** A line a chatting client prints as it is: `from` and `message` are printed together. */
export function icsNotice(text: string): IcsAnswer {
  return encodeIcsFrame({ action: "exchange", from: "*** ", message: text }, "message");
}

/** Answers one request of a client. */
export function answerIcs(
  context: IcsContext,
  client: IcsClient,
  request: IcsRequest,
): IcsAnswer | Promise<IcsAnswer> {
  const session = client.session;
  if (request.action === "login") {
    return guarded(login(context.chat, session, request.name), context, request);
  }
  if (session.user === null) return icsError("not-logged-in", "log in first");
  const answer = answerLoggedIn(context, client, request);
  return answer instanceof Promise ? guarded(answer, context, request) : answer;
}

function answerLoggedIn(
  context: IcsContext,
  client: IcsClient,
  request: Exclude<IcsRequest, { action: "login" }>,
): IcsAnswer | Promise<IcsAnswer> {
  const { chat } = context;
  const session = client.session;
  switch (request.action) {
    case "time":
      return encodeIcsFrame({ action: "time", results: formatIcsTime(chat.now()) });
    case "list":
      return Promise.resolve(chat.who()).then((who) =>
        encodeIcsFrame({ action: "list", results: whoText(who) }, "results")
      );
    case "connect":
      return connect(chat, client, request.target);
    case "exchange":
      return exchange(chat, client, request.message);
    case "disconnect":
      chat.peerBye(session);
      client.chatting = false;
      return NO_REPLY;
    case "search":
      return search(chat, session, request.target);
    case "poem": {
      const poem = context.poems ? poemNumbered(context.poems, request.target) : null;
      const results = poem ? `${poem.heading}\n\n${poem.text}` : "";
      return encodeIcsFrame({ action: "poem", results }, "results");
    }
  }
}

/** Login statuses the client prints: the others make it ask for a name again, silently. */
const DUPLICATE = new Set(["ALREADY_ONLINE", "NAME_TAKEN", "INVALID_NAME"]);

async function login(chat: Chat, session: Session, name: string): Promise<IcsAnswer> {
  const outcome = await chat.loginGuest(session, name, true);
  if (outcome.status === "OK") return encodeIcsFrame({ action: "login", status: "ok" });
  if (DUPLICATE.has(outcome.status)) {
    return encodeIcsFrame({ action: "login", status: "duplicate" });
  }
  return encodeIcsFrame({ action: "login", status: "refused", reason: reasonOf(outcome) });
}

function reasonOf(outcome: Outcome): string {
  if (outcome.reason) return outcome.reason;
  return outcome.status === "ALREADY_LOGIN"
    ? "already logged in"
    : outcome.status.toLowerCase().replaceAll("_", " ");
}

/** The connect statuses the client tells apart; everything else it takes as "not online". */
function connectStatus(status: string): string {
  if (status === "OK") return "success";
  if (status === "PEER_IS_SELF") return "self";
  if (status === "PEER_OFFLINE") return "no-user";
  return "busy";
}

function connect(chat: Chat, client: IcsClient, target: string): IcsAnswer | Promise<IcsAnswer> {
  const session = client.session;
  const answer = (outcome: Outcome) => {
    const status = connectStatus(outcome.status);
    if (status === "success") client.chatting = true;
    return encodeIcsFrame({ action: "connect", status });
  };
  if (chat.takeMessageToken(session)) return answer({ status: "RATE_LIMITED" });
  const outcome = chat.peerConnect(session, target);
  return outcome instanceof Promise ? outcome.then(answer) : answer(outcome);
}

/**
 * Posts a line to the client's peer chat. Nothing answers it, unless it was
 * refused while the client is chatting: a notice then says why. Outside a
 * peer chat it is dropped, as the original server did.
 */
function exchange(chat: Chat, client: IcsClient, text: string): IcsAnswer | Promise<IcsAnswer> {
  const session = client.session;
  if (session.room?.kind !== "group") return NO_REPLY;
  const refused = chat.takeMessageToken(session);
  const told = (outcome: Outcome) =>
    outcome.status === "OK" || !client.chatting
      ? NO_REPLY
      : icsNotice(`not sent: ${reasonOf(outcome)}`);
  if (refused) return told(refused);
  const posted = chat.post(session, text);
  return posted instanceof Promise ? posted.then(told) : told(posted);
}

async function search(chat: Chat, session: Session, query: string): Promise<IcsAnswer> {
  const refused = chat.takeMessageToken(session);
  const { page, ...outcome }: SearchOutcome = refused ??
    await chat.search(session, query, { limit: ICS_SEARCH_RESULTS, before: null });
  let results = "";
  if (page) {
    results = [...page.hits].sort((a, b) => a.id - b.id).map((hit) => {
      const text = splitSnippet(hit.snippet, query).map((part) => part.text).join("");
      return `(${formatIcsTime(hit.time)}) ${hit.sender} : ${text}`;
    }).join("\n");
  } else if (searchTerms(query).length > 0) {
    results = `search refused: ${reasonOf(outcome)}`;
  }
  return encodeIcsFrame({ action: "search", results }, "results");
}

/** A name as Python's repr shows it, as the original server listed users. */
function pythonRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  return quote + text.replaceAll("\\", "\\\\").replaceAll(quote, "\\" + quote) + quote;
}

/**
 * WHO in the shape of the original server's list: users with 0 for idle
 * and 1 for in a peer chat or room, then the peer chats and the rooms with
 * their members.
 */
export function whoText(whereabouts: readonly Whereabouts[]): string {
  const places = { group: new Map<string, string[]>(), room: new Map<string, string[]>() };
  const users: string[] = [];
  for (const { user, place, name } of whereabouts) {
    users.push(`${pythonRepr(user)}: ${place === "idle" ? 0 : 1}`);
    if (place === "idle") continue;
    const members = places[place].get(name) ?? [];
    if (members.length === 0) places[place].set(name, members);
    members.push(pythonRepr(user));
  }
  const dict = (map: Map<string, string[]>) =>
    `{${
      [...map].map(([name, members]) => `${pythonRepr(name)}: [${members.join(", ")}]`).join(", ")
    }}`;
  return `Users: ------------\n{${users.join(", ")}}\n` +
    `Groups: -----------\n${dict(places.group)}\n` +
    `Rooms: ------------\n${dict(places.room)}\n`;
}

/** An answer, or a clear one when the request failed inside the server. */
function guarded(
  answer: Promise<IcsAnswer>,
  context: IcsContext,
  request: IcsRequest,
): Promise<IcsAnswer> {
  const failed = encodeIcsFrame({ action: request.action, status: "error", results: "" });
  return storeSafe(answer, context.log, `ics-${request.action}`, failed);
}
