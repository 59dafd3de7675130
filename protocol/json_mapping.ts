/**
 * The JSON form of Claptrap messages, as they travel over WebSocket: one
 * message per WebSocket text message, `{"method", "params", "content"}`.
 * It maps 1:1 onto the framed form: the same methods, parameters, statuses
 * and content text; only `Content-Length` is left out, because a JSON string
 * carries its own length. Pure: no I/O, usable in browsers.
 * @module
 */

import { MAX_PARAMETERS, type Message, utf8Length } from "./message.ts";

/** A message as a JSON value: what {@link messageToJson} writes. */
export interface JsonMessage {
  /** The method, e.g. `LOGIN`, `RESP_LOGIN`, `EVT_MSG`. */
  method: string;
  /** The parameters, names and values as in a frame, without `Content-Length`. */
  params: Record<string, string>;
  /** The content field, present exactly when the frame would have one. */
  content?: string;
}

const FIELDS = new Set(["method", "params", "content"]);

/**
 * Writes a message as JSON text. `params` is always written (possibly
 * `{}`); `Content-Length` is left out; `content` is written only when the
 * message has a content field. A lone surrogate becomes U+FFFD, as it would
 * in a frame's UTF-8.
 *
 * @throws {TypeError} for what {@link encodeMessage} refuses too: a newline
 * in a method, name or value, or an empty name or one containing `": "`.
 *
 * @example A response with content
 * ```ts
 * import assert from "node:assert/strict";
 * import { messageToJson } from "./json_mapping.ts";
 * const json = messageToJson({
 *   method: "RESP_LIST_MEMBERS",
 *   params: { Status: "OK", "Content-Length": "10" },
 *   content: "alice\nbob\n",
 * });
 * assert.equal(json, '{"method":"RESP_LIST_MEMBERS","params":{"Status":"OK"},"content":"alice\\nbob\\n"}');
 * ```
 */
export function messageToJson(message: Message): string {
  const method = message.method.toWellFormed();
  checkLine(method, "method", TypeError, "encode");
  const params: Record<string, string> = {};
  for (const name in message.params) {
    if (name === "Content-Length") continue;
    const value = message.params[name].toWellFormed();
    checkName(name, TypeError, "encode");
    checkLine(value, `value of ${name}`, TypeError, "encode");
    setParam(params, name.toWellFormed(), value);
  }
  const json: JsonMessage = { method, params };
  if (message.content !== undefined) json.content = message.content.toWellFormed();
  return JSON.stringify(json);
}

/**
 * Parses JSON text into the message that the equivalent frame would give
 * {@link parseMessage}: when `content` is present, a `Content-Length`
 * parameter with its UTF-8 byte count is added.
 *
 * @throws {SyntaxError} (message starting `Cannot parse message:`) for text
 * that is not JSON, a value that is not an object, a field other than
 * `method`, `params` and `content`, a method that is empty or not a string,
 * `params` that is not an object of strings, a name or value that a frame
 * cannot carry (newline, empty name, `": "` in a name), a `Content-Length`
 * parameter, content that is not a string, or a lone surrogate anywhere.
 *
 * @example A SEND_MSG request from a browser
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJsonMessage } from "./json_mapping.ts";
 * const message = parseJsonMessage('{"method":"SEND_MSG","content":"你好"}');
 * assert.deepEqual(message, { method: "SEND_MSG", params: { "Content-Length": "6" }, content: "你好" });
 * ```
 */
export function parseJsonMessage(text: string): Message {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new SyntaxError("Cannot parse message: not valid JSON");
  }
  if (!isObject(value)) throw new SyntaxError("Cannot parse message: not a JSON object");
  for (const field of Object.keys(value)) {
    if (!FIELDS.has(field)) {
      throw new SyntaxError(`Cannot parse message: unknown field ${quoteShort(field)}`);
    }
  }
  const { method, params: rawParams, content } = value;
  if (typeof method !== "string") {
    throw new SyntaxError("Cannot parse message: method must be a string");
  }
  if (method === "") throw new SyntaxError("Cannot parse message: empty method line");
  checkText(method);
  checkLine(method, "method", SyntaxError, "parse");
  const params: Record<string, string> = {};
  if (rawParams !== undefined) {
    if (!isObject(rawParams)) {
      throw new SyntaxError("Cannot parse message: params must be an object");
    }
    if (Object.keys(rawParams).length > MAX_PARAMETERS) {
      throw new SyntaxError(`Cannot parse message: more than ${MAX_PARAMETERS} parameters`);
    }
    for (const name of Object.keys(rawParams)) {
      const paramValue = rawParams[name];
      if (typeof paramValue !== "string") {
        throw new SyntaxError(`Cannot parse message: value of ${quoteShort(name)} is not a string`);
      }
      checkText(name);
      checkText(paramValue);
      checkName(name, SyntaxError, "parse");
      checkLine(paramValue, `value of ${quoteShort(name)}`, SyntaxError, "parse");
      if (name === "Content-Length") {
        throw new SyntaxError(
          "Cannot parse message: Content-Length is not sent in JSON; it follows from content",
        );
      }
      setParam(params, name, paramValue);
    }
  }
  if (content === undefined) return { method, params };
  if (typeof content !== "string") {
    throw new SyntaxError("Cannot parse message: content must be a string");
  }
  checkText(content);
  params["Content-Length"] = String(utf8Length(content));
  return { method, params, content };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Sets a parameter as own data, so that a name like `__proto__` is kept. */
function setParam(params: Record<string, string>, name: string, value: string): void {
  // defining a property turns the object into a slow dictionary: only for the one name that needs it
  if (name !== "__proto__") {
    params[name] = value;
    return;
  }
  Object.defineProperty(params, name, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** A lone surrogate cannot be UTF-8, so no frame could carry it. */
function checkText(text: string): void {
  if (!text.isWellFormed()) {
    throw new SyntaxError("Cannot parse message: lone surrogate in a string (not valid UTF-8)");
  }
}

type ErrorClass = typeof TypeError | typeof SyntaxError;

function checkLine(text: string, what: string, error: ErrorClass, verb: string): void {
  if (text.includes("\n")) throw new error(`Cannot ${verb} message: ${what} contains a newline`);
}

function checkName(name: string, error: ErrorClass, verb: string): void {
  if (name === "" || name.includes(": ")) {
    throw new error(`Cannot ${verb} message: bad parameter name ${quoteShort(name)}`);
  }
  checkLine(name, "parameter name", error, verb);
}

/** Quotes at most 40 characters of untrusted text for an error message. */
function quoteShort(text: string): string {
  return JSON.stringify(text.length > 40 ? text.slice(0, 40) + "…" : text);
}
