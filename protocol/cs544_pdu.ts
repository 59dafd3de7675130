/**
 * The PDUs of the CS 544 Chat Service Protocol (Drexel, group 5): one JSON
 * object per line. A request has `version` (1.0), a four-letter `command`,
 * a `channel` (`CC`, `DC` or `AC`, informational), `parameters` and a
 * `payload`; a response has a three-digit `response_code` (a string),
 * `version`, `channel`, `parameters` and a `payload` (a string, or for
 * `130` a list of names). Pure: no I/O.
 * @module
 */

/** The protocol version both sides speak; JSON does not tell 1 from 1.0. */
export const CS544_VERSION = 1;

/** The response codes the client acts on, by what they say. */
export const Cs544Code = {
  /** Printed as it is (the original: `REDY` answered `Ready`). */
  NOTICE: "100",
  /** AUTH or NWUA succeeded: logged in. */
  LOGGED_IN: "110",
  /** The groups, a list of names, to LIST. */
  GROUPS: "130",
  /** A chat line; its payload is `(sender) text`. */
  MESSAGE: "140",
  /** CHAT made the group, and its maker is in it. */
  GROUP_CREATED: "170",
  /** Someone (`username`) came into `chat_name`. */
  JOINED: "180",
  /** Someone (`username`) left the group. */
  LEFT: "190",
  /** `banned_user` was banned from the group. */
  BANNED: "191",
  /** `kicked_user` was kicked from the group. */
  KICKED: "192",
  /** AUTH or NWUA refused. */
  LOGIN_REFUSED: "200",
  /** CHAT refused. */
  GROUP_REFUSED: "230",
  /** LIST found no group, or JOIN was refused. */
  JOIN_REFUSED: "240",
  /** BANN refused. */
  BAN_REFUSED: "250",
  /** KICK refused. */
  KICK_REFUSED: "260",
  /** The request's version is not 1.0; the client prints the payload and disconnects. */
  VERSION_MISMATCH: "330",
} as const;

/** A response code. */
export type Cs544CodeValue = typeof Cs544Code[keyof typeof Cs544Code];

/** What a channel field may say; `""` as the original server writes for some answers. */
export type Cs544Channel = "CC" | "DC" | "AC" | "";

/** A request as parsed: its fields checked for type, not for meaning. */
export interface Cs544Request {
  /** Whatever `version` held (a number when well-formed). */
  readonly version: unknown;
  readonly command: string;
  readonly channel: string;
  /** The `parameters` object; its values are not checked. */
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly payload: string;
}

/** A response, to be encoded as one line. */
export interface Cs544Response {
  readonly code: Cs544CodeValue;
  readonly channel: Cs544Channel;
  readonly parameters: Readonly<Record<string, string>>;
  readonly payload: string | readonly string[];
}

const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/**
 * Parses one request line (without its LF).
 * @throws {SyntaxError} when the line is not UTF-8, not a JSON object, or
 * a field has the wrong type (`command` and `channel` strings, `parameters`
 * an object, `payload` a string); `channel`, `parameters` and `payload` may
 * be left out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCs544Request } from "./cs544_pdu.ts";
 * const line = new TextEncoder().encode(
 *   '{"version": 1.0, "command": "LIST", "channel": "CC", "parameters": {"username": "bob"}, "payload": ""}',
 * );
 * const request = parseCs544Request(line);
 * assert.equal(request.command, "LIST");
 * assert.equal(request.parameters.username, "bob");
 * ```
 */
export function parseCs544Request(line: Uint8Array): Cs544Request {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(line));
  } catch (error) {
    const what = error instanceof TypeError ? "not UTF-8" : "not JSON";
    throw new SyntaxError(`Cannot parse request: ${what}`);
  }
  if (!isObject(value)) throw new SyntaxError("Cannot parse request: not a JSON object");
  const { version, command, channel = "", parameters = {}, payload = "" } = value;
  if (typeof command !== "string") {
    throw new SyntaxError("Cannot parse request: command must be a string");
  }
  if (typeof channel !== "string") {
    throw new SyntaxError("Cannot parse request: channel must be a string");
  }
  if (!isObject(parameters)) {
    throw new SyntaxError("Cannot parse request: parameters must be an object");
  }
  if (typeof payload !== "string") {
    throw new SyntaxError("Cannot parse request: payload must be a string");
  }
  return { version, command, channel, parameters, payload };
}

/** A string parameter of a request, or null when it is missing or not a string. */
export function stringParameter(request: Cs544Request, name: string): string | null {
  const value = Object.hasOwn(request.parameters, name) ? request.parameters[name] : undefined;
  return typeof value === "string" ? value : null;
}

/**
 * Responses as lines, each ending in LF, in one buffer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Cs544Code, encodeCs544Responses } from "./cs544_pdu.ts";
 * const bytes = encodeCs544Responses([{
 *   code: Cs544Code.LOGGED_IN,
 *   channel: "CC",
 *   parameters: {},
 *   payload: "",
 * }]);
 * assert.equal(
 *   new TextDecoder().decode(bytes),
 *   '{"response_code":"110","version":1,"channel":"CC","parameters":{},"payload":""}\n',
 * );
 * ```
 */
export function encodeCs544Responses(responses: readonly Cs544Response[]): Uint8Array {
  let text = "";
  for (const response of responses) {
    text += JSON.stringify({
      response_code: response.code,
      version: CS544_VERSION,
      channel: response.channel,
      parameters: response.parameters,
      payload: response.payload,
    }) + "\n";
  }
  return encoder.encode(text);
}

/** One response as a line, LF included. */
export function encodeCs544Response(response: Cs544Response): Uint8Array {
  return encodeCs544Responses([response]);
}

/** A request as the original client writes it, as one line, LF included. */
export function encodeCs544Request(
  command: string,
  request: { channel: string; parameters: Record<string, string>; payload?: string },
): Uint8Array {
  return encoder.encode(
    JSON.stringify({
      version: CS544_VERSION,
      command,
      channel: request.channel,
      parameters: request.parameters,
      payload: request.payload ?? "",
    }) + "\n",
  );
}

/** Parses one response line (without its LF), as a client does. */
export function parseCs544Response(line: string): Cs544Response {
  const value: unknown = JSON.parse(line);
  if (!isObject(value) || typeof value.response_code !== "string") {
    throw new SyntaxError("Cannot parse response: no response_code");
  }
  const { response_code, channel, parameters, payload } = value;
  if (!Object.values(Cs544Code).includes(response_code as Cs544CodeValue)) {
    throw new SyntaxError(`Cannot parse response: unknown code ${response_code}`);
  }
  if (!isObject(parameters)) throw new SyntaxError("Cannot parse response: no parameters");
  return {
    code: response_code as Cs544CodeValue,
    channel: channel as Cs544Channel,
    parameters: parameters as Record<string, string>,
    payload: payload as string | string[],
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
