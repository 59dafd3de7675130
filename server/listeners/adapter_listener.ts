/**
 * What a wire adapter with a listener of its own gives the server: its
 * name, the option that turns it on with a port, its start-up work and the
 * connection it makes of each accepted socket. The server runs every one
 * the same way: its accept loop, the connection caps, liveness and
 * shutdown are the shared ones (see `server.ts`); the list is
 * `server/adapters/registry.ts`.
 * @module
 */

import type { Chat } from "../../core/chat.ts";
import type { ConnectionLimits, ServedConnection } from "../connection/connection.ts";
import type { ServerOptions } from "../server.ts";

/** An adapter's port could not be listened on; the message says which, where and why. */
export class ListenError extends Error {
  /** Always `ListenError`. */
  override name = "ListenError";
}

/** What an adapter's connections are made with. */
export interface ListenerContext {
  chat: Chat;
  limits: ConnectionLimits;
  log: (line: string) => void;
  /** The server's options, for the adapter's own (e.g. `chatroomRoom`). */
  options: ServerOptions;
}

/** One adapter's listener. */
export interface AdapterListener {
  /** Its name in the log (`listening NAME=host:port`) and in `ServerHandle.listeners`. */
  readonly name: string;
  /** Its port from the options (0 picks a free one); null or undefined: it is off. */
  port(options: ServerOptions): number | null | undefined;
  /** Gets the chat ready for it at start-up, e.g. makes a room it needs; throws to stop the start. */
  prepare?(chat: Chat, options: ServerOptions): Promise<void>;
  /** Makes the connection of an accepted socket. */
  connect(conn: Deno.Conn, context: ListenerContext): ServedConnection;
  /** Turns a connection away over a cap, with `reason`. Default: closes it. */
  refuse?(conn: Deno.Conn, reason: string): Promise<void> | void;
}
