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
  /** A message posted in the room: Room, From, Time, Id; content is the text. */
  EVT_MSG: "EVT_MSG",
  /** A user entered the room: Room, User, Time. */
  EVT_JOIN: "EVT_JOIN",
  /** A user left the room: Room, User, Time, and Reason when not by choice. */
  EVT_LEAVE: "EVT_LEAVE",
  /** The server is closing this connection: Reason, Time. */
  EVT_CLOSE: "EVT_CLOSE",
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
}

/** The request table: required parameters and response method of each request. */
export const REQUESTS: Readonly<Record<RequestMethod, RequestSpec>> = {
  LOGIN: {
    required: ["Username", "Password"],
    response: "RESP_LOGIN",
    beforeLogin: true,
    barrier: true,
  },
  LOGOUT: { required: [], response: "RESP_LOGOUT" },
  LIST_ROOMS: { required: [], response: "RESP_LIST_ROOMS" },
  LIST_MEMBERS: { required: [], response: "RESP_LIST_MEMBERS" },
  JOIN_ROOM: { required: ["Room-Name"], response: "RESP_JOIN_ROOM" },
  EXIT_ROOM: { required: [], response: "RESP_EXIT_ROOM" },
  SEND_MSG: { required: ["Content-Length"], response: "RESP_SEND_MSG" },
  RECV_MSG: { required: [], response: "NO_NEW_MSG" },
  CREATE_ROOM: { required: ["Room-Name"], response: "RESP_CREATE_ROOM" },
  REGISTER: {
    required: ["Username", "Password"],
    response: "RESP_REGISTER",
    beforeLogin: true,
    barrier: true,
  },
  HISTORY: { required: [], response: "RESP_HISTORY" },
  SEARCH: { required: ["Query"], response: "RESP_SEARCH" },
};

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
