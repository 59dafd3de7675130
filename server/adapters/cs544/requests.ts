/**
 * The CS 544 requests mapped onto the chat core: AUTH is a login, NWUA
 * registers an account and logs in, LIST lists the rooms, CHAT creates a
 * room (its maker owns it) and joins it, JOIN joins one, MSSG posts in the
 * current room, KICK and BANN are the owner's moderation, LEVE leaves.
 * Every answer goes to the requester alone, and carries the name its
 * client filters on as that client spelled it; every request its client
 * waits on gets one of the codes it waits for, a refusal included. Where
 * the client would print something misleading for a refusal (it says
 * "Username already exists" for any refused NWUA), a `100` with the real
 * reason comes first. The `username` and `chat_name` parameters are not
 * trusted: the session's own user and room are. No I/O.
 * @module
 */

import type { Chat } from "../../../core/chat.ts";
import type { Outcome } from "../../../core/outcome.ts";
import type { Session } from "../../../core/session.ts";
import {
  Cs544Code,
  type Cs544CodeValue,
  type Cs544Request,
  type Cs544Response,
  stringParameter,
} from "../../../protocol/cs544_pdu.ts";
import { chatLine, joinedPdu, leftPdu, noticePdu, removalPdu } from "./event_pdus.ts";

/** What a request is answered with: responses in order, maybe none. */
export type Cs544Answer = readonly Cs544Response[];

/** A CS 544 connection as the requests see it. */
export interface Cs544Client {
  readonly session: Session;
  /**
   * The user name as the client typed it at login, which its client
   * compares names with; null before login.
   */
  spelling: string | null;
}

/** Most groups LIST names: the rooms with members first. */
export const LIST_GROUPS = 1_000;

/** The answer to a request whose version is not 1.0 (after which the connection closes). */
export const VERSION_MISMATCH: Cs544Response = {
  code: Cs544Code.VERSION_MISMATCH,
  channel: "",
  parameters: {},
  payload: "Server is running on a different protocol version",
};

type Handler = (chat: Chat, client: Cs544Client, request: Cs544Request) => Answered;
type Answered = Cs544Answer | Promise<Cs544Answer>;

/** The codes that answer each request when it is refused, and whether it may come before login. */
interface RequestSpec {
  readonly refusal: Cs544CodeValue;
  readonly beforeLogin?: boolean;
}

const SPECS: Readonly<Record<string, RequestSpec>> = {
  REDY: { refusal: Cs544Code.NOTICE, beforeLogin: true },
  AUTH: { refusal: Cs544Code.LOGIN_REFUSED, beforeLogin: true },
  NWUA: { refusal: Cs544Code.LOGIN_REFUSED, beforeLogin: true },
  LIST: { refusal: Cs544Code.JOIN_REFUSED },
  JOIN: { refusal: Cs544Code.JOIN_REFUSED },
  CHAT: { refusal: Cs544Code.GROUP_REFUSED },
  MSSG: { refusal: Cs544Code.NOTICE },
  KICK: { refusal: Cs544Code.KICK_REFUSED },
  BANN: { refusal: Cs544Code.BAN_REFUSED },
  // always answered 190, logged in or not: its client waits for one
  LEVE: { refusal: Cs544Code.LEFT, beforeLogin: true },
};

/** Longest piece of the client's own input repeated in an answer, in characters. */
const MAX_ECHO = 64;

/** Answers one request of a client. */
export function answerRequest(chat: Chat, client: Cs544Client, request: Cs544Request): Answered {
  const command = request.command;
  const spec = Object.hasOwn(SPECS, command) ? SPECS[command] : undefined;
  if (!spec) return [noticePdu(`Unknown command ${echo(command)}`)];
  if (client.session.user === null && !spec.beforeLogin) {
    return refuse(client, spec.refusal, "Log in first");
  }
  return HANDLERS[command](chat, client, request);
}

const HANDLERS: Readonly<Record<string, Handler>> = {
  REDY: () => [noticePdu("Ready")],
  AUTH: (chat, client, request) => logIn(chat, client, request, false),
  NWUA: (chat, client, request) => logIn(chat, client, request, true),
  LIST(chat, client) {
    const names = chat.roomsOccupiedFirst(LIST_GROUPS).map((room) => room.name);
    if (names.length === 0) {
      return refuse(client, Cs544Code.JOIN_REFUSED, "There are currently no groups");
    }
    return [{
      code: Cs544Code.GROUPS,
      channel: "",
      parameters: { username: client.spelling! },
      payload: names,
    }];
  },
  JOIN(chat, client, request) {
    const name = stringParameter(request, "chat_name");
    if (!name) return refuse(client, Cs544Code.JOIN_REFUSED, "Name the group to join");
    return either(chat.join(client.session, name), (outcome) => {
      if (outcome.status === "OK") return [joined(client)];
      const text = outcome.status === "BANNED"
        ? "You are banned from joining this group"
        : outcome.status === "NO_SUCH_ROOM"
        ? `There is no group named ${echo(name)}`
        : sentence(outcome);
      return refuse(client, Cs544Code.JOIN_REFUSED, text, { chat_name: name });
    });
  },
  async CHAT(chat, client, request) {
    const name = stringParameter(request, "chat_name");
    if (!name || name.trim() === "") {
      return refuse(client, Cs544Code.GROUP_REFUSED, "Group name cannot be empty");
    }
    const session = client.session;
    const created = chat.takeMessageToken(session) ?? await chat.createRoom(session, name);
    if (created.status === "ROOM_EXISTS" && !created.reason) {
      // the client's own words say it
      return [refusal(client, Cs544Code.GROUP_REFUSED, "Group name already exists")];
    }
    if (created.status !== "OK") {
      return refuse(
        client,
        Cs544Code.GROUP_REFUSED,
        `Cannot create the group: ${sentence(created)}`,
      );
    }
    const entered = await chat.join(session, name);
    if (entered.status !== "OK") {
      return refuse(
        client,
        Cs544Code.GROUP_REFUSED,
        `The group was created, but you could not join it: ${sentence(entered)}`,
      );
    }
    return [{
      code: Cs544Code.GROUP_CREATED,
      channel: "CC",
      parameters: { username: client.spelling!, chat_name: session.room!.name },
      payload: "Group created",
    }];
  },
  MSSG(chat, client, request) {
    const session = client.session;
    if (!session.room) {
      return [noticePdu("You are not in a group; join one first, and your message was not sent")];
    }
    const refused = chat.takeMessageToken(session);
    if (refused) return [noticePdu(`Your message was not sent: ${sentence(refused)}`)];
    return either(
      chat.post(session, messageText(request.payload, client.spelling!)),
      (outcome) =>
        "id" in outcome ? [] : [noticePdu(`Your message was not sent: ${sentence(outcome)}`)],
    );
  },
  KICK: (chat, client, request) => moderate(chat, client, request, false),
  BANN: (chat, client, request) => moderate(chat, client, request, true),
  LEVE(chat, client, request) {
    if (client.session.user !== null) chat.exitRoom(client.session);
    return [leftPdu(client.spelling ?? stringParameter(request, "username") ?? "")];
  },
};

/** AUTH, or with `register` NWUA: the account is created first. */
async function logIn(
  chat: Chat,
  client: Cs544Client,
  request: Cs544Request,
  register: boolean,
): Promise<Cs544Answer> {
  const session = client.session;
  const username = stringParameter(request, "username");
  const password = stringParameter(request, "password");
  if (username === null || password === null) {
    return refuseLogin("Give a username and a password");
  }
  if (session.user !== null) return refuseLogin(`You are logged in already as ${client.spelling}`);
  if (register) {
    const created = await chat.register(session, username, password);
    // the client says "Username already exists" to every refusal: right for this one only
    if (created.status === "NAME_TAKEN") return refuseLogin(null);
    if (created.status !== "OK") {
      return refuseLogin(`Your account was not created: ${sentence(created)}`);
    }
  }
  const outcome = await chat.login(session, username, password, true);
  switch (outcome.status) {
    case "OK":
      client.spelling = username;
      return [{
        code: Cs544Code.LOGGED_IN,
        channel: "CC",
        parameters: { username },
        payload: "",
      }];
    case "AUTH_FAILED":
      // the client's own words say it
      return refuseLogin(null);
    case "ALREADY_ONLINE":
      return refuseLogin(`${username} is logged in on another connection`);
    case "SERVER_FULL":
      return refuseLogin("The server is full; try again later");
    default:
      return refuseLogin(sentence(outcome));
  }
}

/** KICK, or with `ban` BANN, of the user the request names, in the session's room. */
async function moderate(
  chat: Chat,
  client: Cs544Client,
  request: Cs544Request,
  ban: boolean,
): Promise<Cs544Answer> {
  const refusal = ban ? Cs544Code.BAN_REFUSED : Cs544Code.KICK_REFUSED;
  const target = stringParameter(request, ban ? "banned_user" : "kicked_user");
  const action = ban ? "ban" : "kick";
  if (!target) return refuse(client, refusal, `Name the user to ${action}`);
  const outcome = await chat.moderate(client.session, action, target, {});
  switch (outcome.status) {
    case "OK":
      return [removalPdu(target.normalize("NFC"), ban, "")];
    case "NOT_ALLOWED":
      return refuse(
        client,
        refusal,
        outcome.reason?.startsWith("you cannot")
          ? `You cannot ${action} yourself`
          : "You are not the admin of this group",
      );
    case "NO_SUCH_USER":
      return refuse(
        client,
        refusal,
        ban ? `No user is named ${echo(target)}` : `${echo(target)} is not in this group`,
      );
    case "NOT_IN_ROOM":
      return refuse(client, refusal, "You are not in a group");
    default:
      return refuse(client, refusal, sentence(outcome));
  }
}

/** `180` to the joiner, naming it as it spells itself. */
function joined(client: Cs544Client): Cs544Response {
  return joinedPdu(client.spelling!, client.session.room!.name);
}

/**
 * A refusal with `code`, naming the client as it spells itself; for `230`,
 * whose payload the client does not print, the text goes first in a `100`.
 */
function refuse(
  client: Cs544Client,
  code: Cs544CodeValue,
  text: string,
  parameters: Record<string, string> = {},
): Cs544Answer {
  if (code === Cs544Code.NOTICE) return [noticePdu(text)];
  const answer = refusal(client, code, text, parameters);
  return code === Cs544Code.GROUP_REFUSED ? [noticePdu(text), answer] : [answer];
}

/** One refusal with `code`, naming the client as it spells itself. */
function refusal(
  client: Cs544Client,
  code: Cs544CodeValue,
  text: string,
  parameters: Record<string, string> = {},
): Cs544Response {
  const username = client.spelling ?? "";
  return { code, channel: "CC", parameters: { username, ...parameters }, payload: text };
}

/** `200`, after a `100` saying why when the client's own words would not. */
function refuseLogin(text: string | null): Cs544Answer {
  const refusal: Cs544Response = {
    code: Cs544Code.LOGIN_REFUSED,
    channel: "CC",
    parameters: {},
    payload: text ?? "",
  };
  return text === null ? [refusal] : [noticePdu(text), refusal];
}

/** The text of a chat line: without the `(name) ` its client puts before it, if it did. */
function messageText(payload: string, spelling: string): string {
  const prefix = chatLine(spelling, "");
  return payload.startsWith(prefix) ? payload.slice(prefix.length) : payload;
}

/** An outcome in words: its reason, else its status. */
function sentence(outcome: Outcome): string {
  return outcome.reason ?? outcome.status.toLowerCase().replaceAll("_", " ");
}

/** The client's own input in an answer: quoted, and cut when long. */
function echo(text: string): string {
  const chars = [...text.slice(0, MAX_ECHO * 2)];
  return JSON.stringify(chars.length > MAX_ECHO ? chars.slice(0, MAX_ECHO).join("") + "…" : text);
}

/** Answers now or later, whichever the outcome is. */
function either<T>(outcome: T | Promise<T>, answer: (outcome: T) => Cs544Answer): Answered {
  return outcome instanceof Promise ? outcome.then(answer) : answer(outcome);
}
