/**
 * The last step of the fan-out: events from the bus to the sessions of
 * this server that they are addressed to. No I/O but the sessions' sinks.
 * @module
 */

import type { ChatEvent } from "./events.ts";
import type { Audience, LocalDelivery } from "./fanout_bus.ts";
import type { Presence } from "./presence.ts";
import type { Rooms } from "./rooms.ts";
import type { Session } from "./session.ts";

/**
 * Delivers events to the members of this server's rooms and to its online
 * users. A session that drops out while an event is being delivered (its
 * connection could not take it) leaves once the delivery has ended (see
 * {@link SessionDelivery.afterDelivery}): every member is told of the event
 * first, and of the leaving after.
 */
export class SessionDelivery implements LocalDelivery {
  readonly #rooms: Rooms;
  readonly #presence: Presence;
  #delivering = false;
  #after: (() => void)[] = [];

  constructor(rooms: Rooms, presence: Presence) {
    this.#rooms = rooms;
    this.#presence = presence;
  }

  /** Does `action` now, or once the delivery under way has ended. */
  afterDelivery(action: () => void): void {
    if (this.#delivering) this.#after.push(action);
    else action();
  }

  deliver(to: Audience, event: ChatEvent, exceptSession: number): void {
    if (this.#delivering) return this.#give(to, event, exceptSession);
    this.#delivering = true;
    try {
      this.#give(to, event, exceptSession);
    } finally {
      this.#delivering = false;
    }
    if (this.#after.length > 0) {
      const after = this.#after;
      this.#after = [];
      for (const action of after) action();
    }
  }

  #give(to: Audience, event: ChatEvent, exceptSession: number): void {
    switch (to.kind) {
      case "place":
        this.#rooms.at(to.place)?.deliver(event, exceptSession);
        break;
      case "user":
        for (const session of this.#presence.sessionsOf(to.user)) {
          give(session, event, exceptSession);
        }
        break;
      case "everyone":
        for (const session of this.#presence.sessions()) give(session, event, exceptSession);
        break;
    }
  }
}

/** Gives an event to a session that takes events, unless it is the one left out. */
function give(session: Session, event: ChatEvent, exceptSession: number): void {
  if (session.push && session.id !== exceptSession) session.sink.deliver(event);
}
