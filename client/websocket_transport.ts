/**
 * The WebSocket transport of a `ChatClient`: the JSON form of the protocol
 * (protocol/README.md §14), one message per WebSocket message, over the
 * WebSocket API of browsers (and of Deno).
 * @module
 */

import { messageToJson, parseJsonMessage } from "../protocol/json_mapping.ts";
import type { Message } from "../protocol/message.ts";
import { ConnectionClosedError, type Transport, type TransportReceiver } from "./transport.ts";

/** How long {@link webSocket} waits for the connection to open by default, in ms. */
export const WEBSOCKET_OPEN_TIMEOUT_MS = 10_000;

/** The WebSocket URL of the Claptrap server that served a page at `location`. */
export function webSocketUrl(location: { protocol: string; host: string }): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}

/**
 * Opens a WebSocket to a Claptrap server's `/ws`, e.g. `ws://127.0.0.1:8080/ws`.
 * Give the transport to `ChatClient.connect`.
 * @throws {ConnectionClosedError} when it does not open within `timeoutMs`
 * (default {@link WEBSOCKET_OPEN_TIMEOUT_MS}) or cannot open at all.
 */
export function webSocket(
  url: string,
  options: { timeoutMs?: number } = {},
): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const timer = setTimeout(() => {
      socket.close();
      reject(new ConnectionClosedError("the server did not answer"));
    }, options.timeoutMs ?? WEBSOCKET_OPEN_TIMEOUT_MS);
    socket.onopen = () => {
      clearTimeout(timer);
      resolve(new WebSocketTransport(socket));
    };
    socket.onclose = () => {
      clearTimeout(timer);
      reject(new ConnectionClosedError("cannot reach the server"));
    };
  });
}

/** JSON messages over one open WebSocket. */
class WebSocketTransport implements Transport {
  readonly #socket: WebSocket;
  #closing = false;

  constructor(socket: WebSocket) {
    this.#socket = socket;
  }

  start(receiver: TransportReceiver): void {
    const socket = this.#socket;
    let unreadable: string | null = null;
    socket.onmessage = (event) => {
      if (unreadable !== null) return;
      let message: Message;
      try {
        message = parseJsonMessage(String(event.data));
      } catch (error) {
        // a response that cannot be read would be taken for the next one's
        unreadable = `protocol error: ${(error as Error).message}`;
        this.close();
        return;
      }
      receiver.message(message);
    };
    socket.onclose = (event) => {
      receiver.ended(
        unreadable ?? (this.#closing ? "closed by client" : event.reason || "connection lost"),
      );
    };
  }

  send(message: Message): void {
    // sending on a socket that is closing drops the message; onclose reports the end
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.send(messageToJson(message));
  }

  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#socket.close(1000, "bye");
  }
}
