/**
 * The original Claptrap client's side of the wire, for tests: it writes
 * each request exactly as the original Python 2 client does (no trailing
 * newline, its parameter order) and reads every answer with the original
 * client's rules, which raise where the original raises. Facts from the
 * original's code, written anew (see protocol/README.md §15).
 * @module
 */

import { frame } from "../protocol/frame.ts";
import type { ServerHandle } from "../server/server.ts";

const text = new TextEncoder();
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The original client's uncaught `ValueError`: its GUI dies or the action fails. */
export class OriginalValueError extends Error {
  override name = "OriginalValueError";
}

/** The original client's `Bad Status`: a status it does not know for the request. */
export class BadStatus extends Error {
  override name = "BadStatus";
}

/** A response as the original parser reads it. */
export interface OriginalResponse {
  method: string;
  params: Record<string, string>;
  /** Everything after the first empty line; "" when there is none. */
  content: string;
}

/** The response methods the original parser knows. */
const RESPONSE_METHODS = new Set([
  "RESP_LOGIN",
  "RESP_LOGOUT",
  "RESP_LIST_ROOMS",
  "RESP_LIST_MEMBERS",
  "RESP_JOIN_ROOM",
  "RESP_EXIT_ROOM",
  "RESP_SEND_MSG",
  "NEW_MSG",
  "NO_NEW_MSG",
]);

/** Methods whose answer needs Status, Content-Length and non-empty content of that length. */
const WITH_CONTENT = new Set(["RESP_LIST_ROOMS", "RESP_LIST_MEMBERS", "NEW_MSG"]);

/**
 * The original request payload: the method, `Name: value` lines and, when
 * there is content, `Content-Length`, a blank line and the content; lines
 * joined by LF and nothing after the last.
 */
export function originalRequest(
  method: string,
  params: [string, string][] = [],
  content?: string,
): Uint8Array {
  const lines = [method, ...params.map(([name, value]) => `${name}: ${value}`)];
  if (content) {
    lines.push(`Content-Length: ${text.encode(content).length}`, `\n${content}`);
  }
  return frame(text.encode(lines.join("\n")));
}

/**
 * Parses a payload with the original rules; null where the original
 * returns nothing (an unknown method, a list answer without its content).
 * @throws {OriginalValueError} where the original raises: a header line
 * that does not split at `": "` into exactly two parts (a value holding
 * `": "`, an empty value).
 */
export function parseOriginal(payload: Uint8Array): OriginalResponse | null {
  const lines = utf8.decode(payload).split("\n");
  const method = lines[0].trim();
  if (!RESPONSE_METHODS.has(method)) return null;
  const params: Record<string, string> = {};
  let i = 1;
  for (; i < lines.length && lines[i] !== ""; i++) {
    const parts = lines[i].trim().split(": ");
    if (parts.length !== 2) {
      throw new OriginalValueError(`header line ${JSON.stringify(lines[i])} needs 2 parts`);
    }
    params[parts[0]] = parts[1];
  }
  const content = i < lines.length ? lines.slice(i + 1).join("\n") : "";
  if (WITH_CONTENT.has(method) && params.Status === "OK") {
    const length = params["Content-Length"];
    if (length === undefined || content === "" || Number(length) !== text.encode(content).length) {
      return null;
    }
  }
  return { method, params, content };
}

/** A frame as it came, for tests that compare bytes. */
export interface RawFrame {
  /** The whole frame, header included. */
  bytes: Uint8Array;
  /** The payload, decoded as UTF-8. */
  payload: string;
}

/** One connection of the original client. */
export class OriginalClient {
  readonly #conn: Deno.Conn;
  #buffer = new Uint8Array(0);

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Connects to a test server, as the login dialog does. */
  static async open(server: ServerHandle): Promise<OriginalClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    return new OriginalClient(conn);
  }

  /** Sends one request and reads one frame, as the original's every call does. */
  async exchange(request: Uint8Array): Promise<RawFrame> {
    for (let at = 0; at < request.length;) at += await this.#conn.write(request.subarray(at));
    return await this.#readFrame();
  }

  /** Sends a request and parses the answer with the original rules. */
  async call(
    method: string,
    params: [string, string][] = [],
    content?: string,
  ): Promise<OriginalResponse | null> {
    const answer = await this.exchange(originalRequest(method, params, content));
    return parseOriginal(answer.bytes.subarray(12));
  }

  /** `login`: true when logged in, false for AUTH_FAILED. */
  async login(user: string, password: string): Promise<boolean> {
    const status = expect(
      await this.call("LOGIN", [["Username", user], ["Password", password]]),
      "RESP_LOGIN",
      ["OK", "AUTH_FAILED"],
    );
    return status === "OK";
  }

  /** `logout`: the status. */
  async logout(): Promise<string | null> {
    return expect(await this.call("LOGOUT"), "RESP_LOGOUT", ["OK", "NOT_LOGIN"]);
  }

  /** `list_rooms`: `[name, count]` rows, or null for no list. */
  async listRooms(): Promise<[string, string][] | null> {
    const response = await this.call("LIST_ROOMS");
    if (expect(response, "RESP_LIST_ROOMS", ["OK", "NOT_LOGIN"]) !== "OK") return null;
    return response!.content.split("\n").map((row) => {
      const fields = row.split("\t");
      if (fields.length !== 2) {
        throw new OriginalValueError(`room row ${JSON.stringify(row)} needs 2 fields`);
      }
      return [fields[0], fields[1]];
    });
  }

  /** `list_members`: the names, or null for no list. */
  async listMembers(): Promise<string[] | null> {
    const response = await this.call("LIST_MEMBERS");
    const status = expect(response, "RESP_LIST_MEMBERS", ["OK", "NOT_IN_ROOM", "NOT_LOGIN"]);
    return status === "OK" ? response!.content.split("\n") : null;
  }

  /** `join_room`: true when joined. */
  async joinRoom(room: string): Promise<boolean> {
    const response = await this.call("JOIN_ROOM", [["Room-Name", room]]);
    return expect(response, "RESP_JOIN_ROOM", ["OK", "NO_SUCH_ROOM", "NOT_LOGIN"]) === "OK";
  }

  /** `exit_room`: the status. */
  async exitRoom(): Promise<string | null> {
    return expect(await this.call("EXIT_ROOM"), "RESP_EXIT_ROOM", [
      "OK",
      "NOT_IN_ROOM",
      "NOT_LOGIN",
    ]);
  }

  /** `send_msg`, with the GUI's TAB to four spaces: the status (the GUI ignores it). */
  async sendMsg(message: string): Promise<string | null> {
    const response = await this.call("SEND_MSG", [], message.replaceAll("\t", "    "));
    return expect(response, "RESP_SEND_MSG", ["OK", "NOT_IN_ROOM", "NOT_LOGIN"]);
  }

  /** `recv_msg`: `[from, time, text]` records, or null for none. */
  async recvMsg(): Promise<[string, string, string][] | null> {
    const response = await this.call("RECV_MSG");
    if (response?.method === "NO_NEW_MSG") {
      expect(response, "NO_NEW_MSG", ["NOT_IN_ROOM", "NO_NEW_MSG", "NOT_LOGIN"]);
      return null;
    }
    if (expect(response, "NEW_MSG", ["OK"]) !== "OK") return null;
    return response!.content.split("\t\t").map((record) => {
      const fields = record.split("\t");
      if (fields.length !== 3) {
        throw new OriginalValueError(`message record needs 3 fields, has ${fields.length}`);
      }
      return [fields[0], fields[1], fields[2]];
    });
  }

  /** Closes the connection, as closing the window does. */
  close(): void {
    try {
      this.#conn.close();
    } catch {
      // closed already
    }
  }

  async #readFrame(): Promise<RawFrame> {
    const header = await this.#read(12);
    if (utf8.decode(header.subarray(0, 8)) !== "CLAPTRAP") throw new Error("Bad Protocol");
    const length = new DataView(header.buffer, header.byteOffset).getUint32(8);
    const payload = await this.#read(length - 12);
    const bytes = new Uint8Array(length);
    bytes.set(header);
    bytes.set(payload, 12);
    return { bytes, payload: utf8.decode(payload) };
  }

  async #read(n: number): Promise<Uint8Array> {
    const chunk = new Uint8Array(64 * 1024);
    while (this.#buffer.length < n) {
      const got = await this.#conn.read(chunk);
      if (got === null) throw new Error("Socket recv EOF");
      const joined = new Uint8Array(this.#buffer.length + got);
      joined.set(this.#buffer);
      joined.set(chunk.subarray(0, got), this.#buffer.length);
      this.#buffer = joined;
    }
    const taken = this.#buffer.slice(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return taken;
  }
}

/**
 * The original's check of an answer: null (nothing) unless it has the
 * expected method; its status, which must be one the client lists.
 * @throws {BadStatus} for any other status.
 */
function expect(
  response: OriginalResponse | null,
  method: string,
  statuses: string[],
): string | null {
  if (response === null || response.method !== method) return null;
  const status = response.params.Status;
  if (!statuses.includes(status)) throw new BadStatus(`Bad Status ${status} for ${method}`);
  return status;
}
