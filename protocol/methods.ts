/**
 * Every method and status of the Claptrap protocol, with the parameters each
 * request requires. Pure data and lookups: no I/O.
 * @module
 */

/** Request methods a client may send. */
export const Request = {
  LOGIN: "LOGIN",
  LOGOUT: "LOGOUT",
  LIST_ROOMS: "LIST_ROOMS",
  LIST_MEMBERS: "LIST_MEMBERS",
  JOIN_ROOM: "JOIN_ROOM",
  EXIT_ROOM: "EXIT_ROOM",
  SEND_MSG: "SEND_MSG",
  RECV_MSG: "RECV_MSG",
  CREATE_ROOM: "CREATE_ROOM",
  /** Creates an account. */
  REGISTER: "REGISTER",
  /** Older messages of the current room, page by page. */
  HISTORY: "HISTORY",
  /** Full-text search over the rooms one has been in. */
  SEARCH: "SEARCH",
  /** States the client's protocol version and capabilities. */
  HELLO: "HELLO",
  /** Asks for a PONG: a liveness check, or the answer to EVT_PING. */
  PING: "PING",
  /** The server's time. */
  TIME: "TIME",
  /** Online users and where each is. */
  WHO: "WHO",
  /** Leaves the current room (the same as EXIT_ROOM). */
  LEAVE: "LEAVE",
  /** Starts a private peer chat with an online user, or asks to join theirs. */
  PEER_CONNECT: "PEER_CONNECT",
  /** Leaves the peer chat ("bye"). */
  PEER_BYE: "PEER_BYE",
  /** Lets a user who asked to join (EVT_PEER_INVITE) into one's peer chat. */
  PEER_ACCEPT: "PEER_ACCEPT",
  /** Turns down a user who asked to join one's peer chat. */
  PEER_DECLINE: "PEER_DECLINE",
  /** A direct message to one user. */
  DM: "DM",
  /** The users one has direct conversations with. */
  LIST_DIRECT: "LIST_DIRECT",
  /** A sonnet by number. */
  POEM: "POEM",
  /** Removes a user from a room (owners and admins). */
  KICK: "KICK",
  /** Removes a user from a room and keeps them out (owners and admins). */
  BAN: "BAN",
  /** Lets a banned user back into a room (owners and admins). */
  UNBAN: "UNBAN",
  /** 2.1: moves one's read position in a room, peer chat or direct conversation. */
  MARK_READ: "MARK_READ",
  /** 2.1: the peer chats one is in, with what one has not read there. */
  LIST_GROUPS: "LIST_GROUPS",
  /** Changes one's password; every sign-in token of the user is dropped. */
  CHANGE_PASSWORD: "CHANGE_PASSWORD",
} as const;

/** A request method. */
export type RequestMethod = typeof Request[keyof typeof Request];

/** Response methods: one per request, and two for RECV_MSG. */
export const Response = {
  RESP_LOGIN: "RESP_LOGIN",
  RESP_LOGOUT: "RESP_LOGOUT",
  RESP_LIST_ROOMS: "RESP_LIST_ROOMS",
  RESP_LIST_MEMBERS: "RESP_LIST_MEMBERS",
  RESP_JOIN_ROOM: "RESP_JOIN_ROOM",
  RESP_EXIT_ROOM: "RESP_EXIT_ROOM",
  RESP_SEND_MSG: "RESP_SEND_MSG",
  RESP_CREATE_ROOM: "RESP_CREATE_ROOM",
  RESP_REGISTER: "RESP_REGISTER",
  RESP_HISTORY: "RESP_HISTORY",
  RESP_SEARCH: "RESP_SEARCH",
  RESP_HELLO: "RESP_HELLO",
  PONG: "PONG",
  RESP_TIME: "RESP_TIME",
  RESP_WHO: "RESP_WHO",
  RESP_LEAVE: "RESP_LEAVE",
  RESP_PEER_CONNECT: "RESP_PEER_CONNECT",
  RESP_PEER_BYE: "RESP_PEER_BYE",
  RESP_PEER_ACCEPT: "RESP_PEER_ACCEPT",
  RESP_PEER_DECLINE: "RESP_PEER_DECLINE",
  RESP_DM: "RESP_DM",
  RESP_LIST_DIRECT: "RESP_LIST_DIRECT",
  RESP_POEM: "RESP_POEM",
  RESP_KICK: "RESP_KICK",
  RESP_BAN: "RESP_BAN",
  RESP_UNBAN: "RESP_UNBAN",
  RESP_MARK_READ: "RESP_MARK_READ",
  RESP_LIST_GROUPS: "RESP_LIST_GROUPS",
  RESP_CHANGE_PASSWORD: "RESP_CHANGE_PASSWORD",
  NEW_MSG: "NEW_MSG",
  NO_NEW_MSG: "NO_NEW_MSG",
  /** Answer to a frame whose method is unknown or that could not be parsed. */
  ERROR: "ERROR",
} as const;

/** A response method. */
export type ResponseMethod = typeof Response[keyof typeof Response];

/**
 * Event methods: frames the server sends without a request, only to a
 * connection logged in with `Push: on`. Their names start with `EVT_`;
 * clients ignore events they do not know.
 */
export const Event = {
  /**
   * A message posted in the room: Room, From, Time, Id, and in a 2.1
   * session Mentions when it mentions anyone; content is the text.
   */
  EVT_MSG: "EVT_MSG",
  /** A user entered the room: Room, User, Time. */
  EVT_JOIN: "EVT_JOIN",
  /** A user left the room: Room, User, Time, and Reason when not by choice. */
  EVT_LEAVE: "EVT_LEAVE",
  /** The server is closing this connection: Reason, Time. */
  EVT_CLOSE: "EVT_CLOSE",
  /** A direct message to this user: From, To, Time, Id; content is the text. */
  EVT_DM: "EVT_DM",
  /** This user was removed from a room: Room, By, Reason, Time, Banned (yes/no). */
  EVT_KICKED: "EVT_KICKED",
  /** Everyone else left the peer chat; this user is out of it too: Room, Time. */
  EVT_GROUP_END: "EVT_GROUP_END",
  /** A notice from the server operator to everyone: Time; content is the text. */
  EVT_NOTICE: "EVT_NOTICE",
  /** The server asks for any request (PING, say) to show the connection is alive: Time. */
  EVT_PING: "EVT_PING",
  /**
   * To the members of a peer chat: `From` asks to join it (PEER_ACCEPT or
   * PEER_DECLINE answer): Room, Kind, From, Expires, Time.
   */
  EVT_PEER_INVITE: "EVT_PEER_INVITE",
  /**
   * How a request to join a peer chat ended: Room, Kind, From (who asked),
   * Answer (accepted, declined, expired, withdrawn), By (who answered),
   * Time. To the one who asked, and unless accepted to the members (but
   * the one who answered).
   */
  EVT_PEER_ANSWER: "EVT_PEER_ANSWER",
  /**
   * 2.1: the user read a place up to a message on another of their
   * sessions: Room (and Kind) or With, Id, Time.
   */
  EVT_READ: "EVT_READ",
} as const;

/** An event method. */
export type EventMethod = typeof Event[keyof typeof Event];

/** The `Status` values of responses. */
export const Status = {
  OK: "OK",
  AUTH_FAILED: "AUTH_FAILED",
  NOT_LOGIN: "NOT_LOGIN",
  NOT_IN_ROOM: "NOT_IN_ROOM",
  NO_SUCH_ROOM: "NO_SUCH_ROOM",
  NO_NEW_MSG: "NO_NEW_MSG",
  /** Malformed frame or message, unknown method, missing parameter; see `Reason`. */
  BAD_REQUEST: "BAD_REQUEST",
  /** LOGIN refused: MAX_ONLINE users are logged in already. */
  SERVER_FULL: "SERVER_FULL",
  /** LOGIN on a connection that is logged in already. */
  ALREADY_LOGIN: "ALREADY_LOGIN",
  /** LOGIN as a user who is online on another connection. */
  ALREADY_ONLINE: "ALREADY_ONLINE",
  /** CREATE_ROOM of a name that exists. */
  ROOM_EXISTS: "ROOM_EXISTS",
  /** A name that is empty, too long, has control characters or surrounding white space. */
  INVALID_NAME: "INVALID_NAME",
  /** REGISTER of a name that exists, or a look-alike of one (case, width). */
  NAME_TAKEN: "NAME_TAKEN",
  /** REGISTER with a password that is too short, too long or too guessable. */
  WEAK_PASSWORD: "WEAK_PASSWORD",
  /** The server could not complete the request (storage failed); nothing was changed. */
  SERVER_ERROR: "SERVER_ERROR",
  /** HELLO from a client of another major protocol version; `Version` says the server's. */
  VERSION_MISMATCH: "VERSION_MISMATCH",
  /** PEER_CONNECT to oneself. */
  PEER_IS_SELF: "PEER_IS_SELF",
  /** PEER_CONNECT or DM to a user who does not exist or is not online. */
  PEER_OFFLINE: "PEER_OFFLINE",
  /** PEER_BYE, PEER_ACCEPT or PEER_DECLINE when not in a peer chat. */
  NOT_IN_GROUP: "NOT_IN_GROUP",
  /**
   * PEER_CONNECT to a user in a public room, or to a peer chat with too
   * many requests to join waiting; see `Reason`.
   */
  BUSY: "BUSY",
  /**
   * PEER_CONNECT to a user in a peer chat: its members were asked to let
   * the requester in; `Room` and `Expires` say where and until when, and
   * EVT_PEER_ANSWER tells how it ended.
   */
  INVITED: "INVITED",
  /** PEER_ACCEPT or PEER_DECLINE of a user whose request to join is not waiting. */
  NO_INVITATION: "NO_INVITATION",
  /** POEM with a number outside the corpus. */
  NO_SUCH_POEM: "NO_SUCH_POEM",
  /** POEM on a server started without a poem corpus. */
  NO_POEMS: "NO_POEMS",
  /** KICK, BAN or UNBAN by someone who neither owns the room nor is an admin. */
  NOT_ALLOWED: "NOT_ALLOWED",
  /** JOIN_ROOM of a room one is banned from. */
  BANNED: "BANNED",
  /** KICK of a user who is not in the room; UNBAN of one who is not banned. */
  NO_SUCH_USER: "NO_SUCH_USER",
  /**
   * Too many requests of this kind (messages too fast, too many failed
   * logins); `Retry-After-Ms` says when to try again.
   */
  RATE_LIMITED: "RATE_LIMITED",
  /** The connection was refused: too many from the same address. Then the server closes. */
  TOO_MANY_CONNECTIONS: "TOO_MANY_CONNECTIONS",
} as const;

/** A response status. */
export type StatusCode = typeof Status[keyof typeof Status];

/** What a request needs and what answers it. */
export interface RequestSpec {
  /** Parameters that must be present. */
  readonly required: readonly string[];
  /** The response method that answers it (RECV_MSG: see {@link Response}). */
  readonly response: ResponseMethod;
  /** Whether it may be sent before LOGIN. */
  readonly beforeLogin?: boolean;
  /**
   * Whether later requests on the connection wait until it is answered,
   * because they depend on what it changes (who is logged in).
   */
  readonly barrier?: boolean;
  /** Whether it spends one of the user's message-rate tokens (RATE_LIMITED when none is left). */
  readonly limited?: boolean;
  /** Required parameters that another one may stand for in a 2.1 session (LOGIN's Token). */
  readonly alternatives?: Readonly<Record<string, string>>;
}

/** The request table: required parameters and response method of each request. */
export const REQUESTS: Readonly<Record<RequestMethod, RequestSpec>> = {
  LOGIN: {
    required: ["Username", "Password"],
    response: "RESP_LOGIN",
    beforeLogin: true,
    barrier: true,
    alternatives: { Password: "Token" },
  },
  LOGOUT: { required: [], response: "RESP_LOGOUT" },
  LIST_ROOMS: { required: [], response: "RESP_LIST_ROOMS" },
  LIST_MEMBERS: { required: [], response: "RESP_LIST_MEMBERS" },
  JOIN_ROOM: { required: ["Room-Name"], response: "RESP_JOIN_ROOM" },
  EXIT_ROOM: { required: [], response: "RESP_EXIT_ROOM" },
  SEND_MSG: { required: ["Content-Length"], response: "RESP_SEND_MSG", limited: true },
  RECV_MSG: { required: [], response: "NO_NEW_MSG" },
  CREATE_ROOM: { required: ["Room-Name"], response: "RESP_CREATE_ROOM", limited: true },
  REGISTER: {
    required: ["Username", "Password"],
    response: "RESP_REGISTER",
    beforeLogin: true,
    barrier: true,
  },
  HISTORY: { required: [], response: "RESP_HISTORY" },
  SEARCH: { required: ["Query"], response: "RESP_SEARCH", limited: true },
  HELLO: { required: ["Version"], response: "RESP_HELLO", beforeLogin: true },
  PING: { required: [], response: "PONG", beforeLogin: true },
  TIME: { required: [], response: "RESP_TIME" },
  WHO: { required: [], response: "RESP_WHO" },
  LEAVE: { required: [], response: "RESP_LEAVE" },
  PEER_CONNECT: { required: ["Peer"], response: "RESP_PEER_CONNECT", limited: true },
  PEER_BYE: { required: [], response: "RESP_PEER_BYE" },
  PEER_ACCEPT: { required: ["Peer"], response: "RESP_PEER_ACCEPT" },
  PEER_DECLINE: { required: ["Peer"], response: "RESP_PEER_DECLINE" },
  DM: { required: ["To", "Content-Length"], response: "RESP_DM", limited: true },
  LIST_DIRECT: { required: [], response: "RESP_LIST_DIRECT" },
  POEM: { required: ["Number"], response: "RESP_POEM" },
  KICK: { required: ["User"], response: "RESP_KICK" },
  BAN: { required: ["User"], response: "RESP_BAN" },
  UNBAN: { required: ["User"], response: "RESP_UNBAN" },
  MARK_READ: { required: ["Id"], response: "RESP_MARK_READ" },
  LIST_GROUPS: { required: [], response: "RESP_LIST_GROUPS" },
  CHANGE_PASSWORD: {
    required: ["Old", "New"],
    response: "RESP_CHANGE_PASSWORD",
    barrier: true,
  },
};

/** The newest protocol version this code speaks: MAJOR.MINOR. */
export const PROTOCOL_VERSION = "2.1";

/** What this server can do beyond the original protocol, as HELLO lists it. */
export const CAPABILITIES: readonly string[] = [
  "push",
  "register",
  "history",
  "search",
  "ping",
  "who",
  "peer",
  "peer-invite",
  "dm",
  "poem",
  "moderation",
];

/** What a 2.1 session can do beyond {@link CAPABILITIES}, as HELLO lists it. */
export const CAPABILITIES_21: readonly string[] = [
  "rooms",
  "unread",
  "mentions",
  "devices",
  "tokens",
];

/** Whether `method` is a request method of the protocol. */
export function isRequestMethod(method: string): method is RequestMethod {
  return Object.hasOwn(REQUESTS, method);
}

/**
 * Whether `method` names an event (a frame not answering a request): any
 * method starting with `EVT_`, known or not, so that clients can skip
 * events added by later versions.
 */
export function isEventMethod(method: string): boolean {
  return method.startsWith("EVT_");
}
