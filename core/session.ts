/**
 * A session: one client connection as the chat core sees it, whatever the
 * transport. No I/O.
 * @module
 */

import type { ChatEvent } from "./events.ts";
import type { Room } from "./room.ts";

/** What an adapter gives the core to reach one connection: where the session's events go. */
export interface SessionSink {
  /** A printable address for logs, e.g. `127.0.0.1:50412`. */
  readonly address: string;
  /** Queues an event for the connection, in its wire format; never blocks. */
  deliver(event: ChatEvent): void;
  /** Closes the connection after telling the client why. */
  close(reason: string): void;
}

let lastId = 0;

/** One connection's chat state. */
export class Session {
  /** Unique per process, for logs. */
  readonly id: number = ++lastId;
  readonly sink: SessionSink;
  /** The logged-in user, or null before LOGIN and after LOGOUT. */
  user: string | null = null;
  /** Whether events are pushed to this connection (`Push: on` at LOGIN). */
  push = false;
  /** The room the user is in, if any. */
  room: Room | null = null;
  /** For a polling session: sequence number of the next message to read. */
  cursor = 0;
  /**
   * The last message id given out before this session entered its room:
   * messages up to it were posted before the join, so it never gets them,
   * even when they reach the room (on disk) after the join.
   */
  joinedAfter = 0;

  constructor(sink: SessionSink) {
    this.sink = sink;
  }

  /** The client's IP address: the sink's address without its port. */
  get ip(): string {
    const address = this.sink.address;
    const colon = address.lastIndexOf(":");
    return colon < 0 ? address : address.slice(0, colon);
  }
}
