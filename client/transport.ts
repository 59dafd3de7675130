/**
 * What carries a `ChatClient`'s messages: a connection to a Claptrap
 * server that sends and receives whole messages, each transport with its own
 * framing (Claptrap frames over TCP, JSON over a WebSocket). Browser-safe.
 * @module
 */

import type { Message } from "../protocol/message.ts";

/** Where a transport hands what arrives. */
export interface TransportReceiver {
  /** A message from the server, a response or an event, in the order they came. */
  message(message: Message): void;
  /** The connection has ended, saying why; called once, after every message. */
  ended(reason: string): void;
}

/** An open connection that carries messages; the `ChatClient` over it starts it. */
export interface Transport {
  /** Starts handing what arrives to `receiver`; called once, before anything is sent. */
  start(receiver: TransportReceiver): void;
  /** Sends a request; requests leave in the order given. A failure ends the connection. */
  send(message: Message): void;
  /** Closes the connection; `ended` follows once it is closed. */
  close(): void;
}

/** The connection ended: a request sent before or after that gets no answer. */
export class ConnectionClosedError extends Error {
  /** Always `ConnectionClosedError`. */
  override name = "ConnectionClosedError";
  /** Why it ended, e.g. `server shutting down` or `closed by client`. */
  readonly reason: string;

  /** The connection ended for `reason`. */
  constructor(reason: string) {
    super(`connection closed: ${reason}`);
    this.reason = reason;
  }
}
