/**
 * One WebSocket connection to the Claptrap server, speaking the JSON form
 * of the protocol (protocol/README.md §14): requests resolve to their
 * responses, matched first-in first-out as on TCP; frames whose method
 * starts with `EVT_` go to the event callback.
 * @module
 */

import { messageToJson, parseJsonMessage } from "../../protocol/json_mapping.ts";
import type { Message } from "../../protocol/message.ts";
import type { RequestMethod } from "../../protocol/methods.ts";

/** The connection ended before the response came. */
export class ConnectionLost extends Error {
  override name = "ConnectionLost";
}

interface Pending {
  resolve(response: Message): void;
  reject(error: Error): void;
}

/** Callbacks of a {@link Connection}. */
export interface ConnectionHandlers {
  /** An event (method `EVT_...`). */
  onEvent(event: Message): void;
  /** The connection ended; `deliberate` when {@link Connection.close} was called. */
  onClose(info: { code: number; reason: string; deliberate: boolean }): void;
}

/** The WebSocket URL of the page's own server. */
export function webSocketUrl(location: Location): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}

/** An open connection. */
export class Connection {
  readonly #socket: WebSocket;
  readonly #pending: Pending[] = [];
  #deliberate = false;
  #closed = false;

  private constructor(socket: WebSocket, handlers: ConnectionHandlers) {
    this.#socket = socket;
    socket.onmessage = (event) => {
      let message: Message;
      try {
        message = parseJsonMessage(String(event.data));
      } catch (error) {
        console.error("claptrap: unreadable message from the server", error);
        return;
      }
      if (message.method.startsWith("EVT_")) handlers.onEvent(message);
      else this.#pending.shift()?.resolve(message);
    };
    socket.onclose = (event) => {
      this.#closed = true;
      for (const pending of this.#pending.splice(0)) {
        pending.reject(new ConnectionLost(event.reason || "connection lost"));
      }
      handlers.onClose({ code: event.code, reason: event.reason, deliberate: this.#deliberate });
    };
  }

  /**
   * Opens a connection.
   * @throws {ConnectionLost} when it cannot be opened within `timeoutMs`.
   */
  static open(url: string, handlers: ConnectionHandlers, timeoutMs = 10_000): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      const timer = setTimeout(() => {
        socket.close();
        reject(new ConnectionLost("the server did not answer"));
      }, timeoutMs);
      socket.onopen = () => {
        clearTimeout(timer);
        resolve(new Connection(socket, handlers));
      };
      socket.onclose = () => {
        clearTimeout(timer);
        reject(new ConnectionLost("cannot reach the server"));
      };
    });
  }

  /** Whether the connection has ended. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends a request; resolves with its response, whatever its status.
   * @throws {ConnectionLost} when the connection ends first.
   */
  request(
    method: RequestMethod,
    params: Record<string, string> = {},
    content?: string,
  ): Promise<Message> {
    if (this.#closed) return Promise.reject(new ConnectionLost("not connected"));
    return new Promise((resolve, reject) => {
      this.#pending.push({ resolve, reject });
      this.#socket.send(messageToJson({ method, params, content }));
    });
  }

  /** Closes the connection on purpose (logging out). */
  close(): void {
    this.#deliberate = true;
    this.#socket.close(1000, "bye");
  }
}
