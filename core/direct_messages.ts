/**
 * Direct messages between two users: stored in their direct conversation,
 * pushed to the recipient once on disk; and the list of one's direct
 * conversations. No I/O but through the store.
 * @module
 */

import { directRoomName, directRoomUsers } from "../protocol/direct_room_name.ts";
import { nameKey } from "../protocol/names.ts";
import type { ChatStore } from "../store/store.ts";
import { NO_MENTIONS } from "./events.ts";
import type { FanoutBus } from "./fanout_bus.ts";
import { findMentions } from "./mentions.ts";
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
    if (presence.sessionOf(to)) return this.#send(session, from, to, text);
    if (!roster) return { status: "PEER_OFFLINE", reason: offlineReason(to) };
    return roster.isOnline(to).then((online) =>
      online
        ? this.#send(session, from, to, text)
        : { status: "PEER_OFFLINE", reason: offlineReason(to) }
    );
  }

  /** Stores a direct message, then pushes it to the recipient. */
  #send(session: Session, from: string, to: string, text: string): Promise<DirectOutcome> {
    const { store, bus, messaging } = this.#options;
    const name = directRoomName(from, to);
    const toKey = text.includes("@") ? nameKey(to) : "";
    const mentions = toKey === ""
      ? NO_MENTIONS
      : findMentions(text, (key) => key === toKey ? to : undefined, from);
    const record = messaging.record("direct", name, from, text, mentions);
    const time = record.time;
    const stored = Promise.all([
      store.createRoom({ kind: "direct", name, createdBy: null, createdAt: time }),
      store.addMembership("direct", name, from, time),
      store.addMembership("direct", name, to, time),
      store.appendMessage(record),
    ]);
    return stored.then(([, , , appended]) => {
      const id = appended ? appended.id : record.id;
      const seq = appended ? appended.seq : 0;
      const event = { type: "direct", id, seq, from, to, time, text, mentions } as const;
      bus.publish({ kind: "user", user: to }, event, 0);
      // the sender's other devices (2.1) see what was sent from this one
      if (session.v21) bus.publish({ kind: "user", user: from }, event, session.id);
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
