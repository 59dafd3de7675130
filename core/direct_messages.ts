/**
 * Direct messages between two users: stored in their direct conversation,
 * pushed to the recipient once on disk; and the list of one's direct
 * conversations. No I/O but through the store.
 * @module
 */

import { directRoomName, directRoomUsers } from "../protocol/direct_room_name.ts";
import type { ChatStore } from "../store/store.ts";
import type { FanoutBus } from "./fanout_bus.ts";
import type { Messaging } from "./messaging.ts";
import type { Outcome } from "./outcome.ts";
import { offlineReason, type Presence } from "./presence.ts";
import type { ClusterRoster } from "./presence_claims.ts";
import type { Session } from "./session.ts";

/** The outcome of a direct message: its id and time when it was sent. */
export type DirectOutcome = Outcome & { id?: number; time?: number };

/** Settings of {@link DirectMessages}. */
export interface DirectMessagesOptions {
  store: ChatStore;
  bus: FanoutBus;
  presence: Presence;
  /** Who is online on the other servers of a cluster, if any. */
  roster?: ClusterRoster | null;
  /** Where messages get their ids, and text its rules. */
  messaging: Messaging;
}

/** Direct messages. */
export class DirectMessages {
  readonly #options: DirectMessagesOptions;

  constructor(options: DirectMessagesOptions) {
    this.#options = options;
  }

  /**
   * Sends a direct message to an online user (in a cluster, on any
   * server): stored in their direct conversation, pushed to the recipient
   * once on disk.
   */
  send(session: Session, toName: string, text: string): DirectOutcome | Promise<DirectOutcome> {
    const { presence, messaging, roster } = this.#options;
    const refused = messaging.refusal(text);
    if (refused) return refused;
    const to = toName.normalize("NFC");
    const from = session.user!;
    if (to === from) return { status: "PEER_IS_SELF" };
    if (presence.sessionOf(to)) return this.#send(from, to, text);
    if (!roster) return { status: "PEER_OFFLINE", reason: offlineReason(to) };
    return roster.isOnline(to).then((online) =>
      online ? this.#send(from, to, text) : { status: "PEER_OFFLINE", reason: offlineReason(to) }
    );
  }

  /** Stores a direct message, then pushes it to the recipient. */
  #send(from: string, to: string, text: string): Promise<DirectOutcome> {
    const { store, bus, messaging } = this.#options;
    const name = directRoomName(from, to);
    const record = messaging.record("direct", name, from, text);
    const time = record.time;
    const stored = Promise.all([
      store.createRoom({ kind: "direct", name, createdBy: null, createdAt: time }),
      store.addMembership("direct", name, from, time),
      store.addMembership("direct", name, to, time),
      store.appendMessage(record),
    ]);
    return stored.then(([, , , appended]) => {
      const id = appended ? appended.id : record.id;
      bus.publish({ kind: "user", user: to }, { type: "direct", id, from, to, time, text }, 0);
      return { status: "OK", id, time };
    });
  }

  /** The users the session's user has direct conversations with, the latest first. */
  async partners(session: Session): Promise<string[]> {
    const me = session.user!;
    const partners: string[] = [];
    for (const room of await this.#options.store.directRooms(me)) {
      const users = directRoomUsers(room);
      if (users) partners.push(users[0] === me ? users[1] : users[0]);
    }
    return partners;
  }
}
