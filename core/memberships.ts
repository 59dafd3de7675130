/**
 * Coming into places and leaving them: what the others are told, what is
 * stored, and what ends with it — a peer chat left with one member ends,
 * and a session that moves withdraws its request to join a peer chat.
 * Today a session is in one place at a time: coming into one leaves the
 * others. No I/O but through the store.
 * @module
 */

import type { ChatStore } from "../store/store.ts";
import { type LeaveCause, MOVED } from "./events.ts";
import type { FanoutBus } from "./fanout_bus.ts";
import type { Invitations } from "./invitations.ts";
import type { MessageIds } from "./message_ids.ts";
import type { Room } from "./room.ts";
import { Membership, type Session } from "./session.ts";

/** Settings of {@link Memberships}. */
export interface MembershipsOptions {
  store: ChatStore;
  bus: FanoutBus;
  invitations: Invitations;
  ids: MessageIds;
  now: () => number;
}

/** Who is in which place. */
export class Memberships {
  readonly #options: MembershipsOptions;

  constructor(options: MembershipsOptions) {
    this.#options = options;
  }

  /**
   * Moves a session into a room or peer chat, leaving where it was; resolves
   * once the membership is stored (for a peer chat, with the last message id
   * before the coming in: the session reads only what comes after).
   */
  moveTo(session: Session, room: Room): Promise<void> {
    const { store, bus, ids, now } = this.#options;
    this.leaveAll(session, MOVED);
    const membership = new Membership(session, room, ids.last);
    room.add(membership);
    session.memberships.set(room, membership);
    session.current = membership;
    bus.publish(room.audience, {
      type: "joined",
      place: room.place,
      user: session.user!,
      time: now(),
    }, session.id);
    const joinedAfter = room.kind === "group" ? membership.joinedAfter : 0;
    return store.addMembership(room.kind, room.name, session.user!, now(), joinedAfter);
  }

  /** Takes the session out of every place, and withdraws its request to join a peer chat. */
  leaveAll(session: Session, cause: LeaveCause): void {
    this.#options.invitations.withdrawRequestOf(session);
    for (const membership of session.memberships.values()) this.#leave(membership, cause);
  }

  /** Takes a session out of one place, and withdraws its request to join a peer chat. */
  leave(membership: Membership, cause: LeaveCause): void {
    this.#options.invitations.withdrawRequestOf(membership.session);
    this.#leave(membership, cause);
  }

  /** Takes a member out, telling the rest; a peer chat of one ends. */
  #leave(membership: Membership, cause: LeaveCause): void {
    const { bus, now } = this.#options;
    const { session, room } = membership;
    this.#remove(membership);
    bus.publish(room.audience, {
      type: "left",
      place: room.place,
      user: session.user!,
      time: now(),
      cause,
    }, 0);
    if (room.kind === "group" && room.size === 1) this.#end(room);
  }

  /** Ends a peer chat left with one member, telling them. */
  #end(peerChat: Room): void {
    const [last] = peerChat.members;
    this.#remove(last);
    this.#options.invitations.withdrawRequestsTo(peerChat);
    this.#options.bus.publish(
      { kind: "user", user: last.session.user! },
      { type: "peer-chat-ended", place: peerChat.place, time: this.#options.now() },
      0,
    );
  }

  #remove(membership: Membership): void {
    const { session, room } = membership;
    room.remove(membership);
    session.memberships.delete(room);
    if (session.current === membership) session.current = null;
  }
}
