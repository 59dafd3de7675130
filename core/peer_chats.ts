/**
 * Peer chats: private conversations that two online users start
 * (PEER_CONNECT), which others may ask to join (see `invitations.ts`), and
 * which end when everyone else has left (PEER_BYE). In a cluster a peer
 * chat spans servers: a request about a user on another server is that
 * server's to take (see `cluster_asks.ts`), and each server keeps who of
 * its peer chats is on the others, as their servers tell. No I/O but
 * through the store and the bus.
 * @module
 */

import { nameProblem } from "../protocol/names.ts";
import type { ChatStore } from "../store/store.ts";
import type { ClusterAsks, PeerAnswer, PeerQuestion } from "./cluster_asks.ts";
import { type ChatEvent, LEFT } from "./events.ts";
import type { FanoutBus, LocalDelivery } from "./fanout_bus.ts";
import {
  answeredEvent,
  type Invitation,
  type Invitations,
  type PeerOutcome,
} from "./invitations.ts";
import type { Memberships } from "./memberships.ts";
import type { Room } from "./room.ts";
import type { ChatStatus, Outcome } from "./outcome.ts";
import { offlineReason, type Presence } from "./presence.ts";
import type { ClusterRoster } from "./presence_claims.ts";
import type { Rooms } from "./rooms.ts";
import type { Membership, Session } from "./session.ts";

/** Settings of {@link PeerChats}. */
export interface PeerChatsOptions {
  store: ChatStore;
  presence: Presence;
  rooms: Rooms;
  memberships: Memberships;
  invitations: Invitations;
  bus: FanoutBus;
  /** Delivery to the sessions here alone (of what only this server finds out). */
  local: LocalDelivery;
  /**
   * Who is online on the other servers of a cluster, and the questions put
   * to them; null for a server alone.
   */
  cluster: { roster: ClusterRoster; asks: ClusterAsks } | null;
  now: () => number;
  log: (line: string) => void;
}

/** A request to join a peer chat that the server of the user who asked keeps. */
interface RequestElsewhere {
  readonly across: Room;
  readonly user: string;
}

/** BUSY: the server of `user` did not answer. */
function unanswered(user: string): PeerAnswer {
  return { status: "BUSY", reason: `${user}'s server did not answer; try again later` };
}

/** The outcome another server's answer comes to here. */
function outcomeOf(answer: PeerAnswer): Outcome {
  return answer.reason === undefined
    ? { status: answer.status }
    : { status: answer.status, reason: answer.reason };
}

/** BUSY: the peer's client takes no peer chats. */
function noPeerChats(peer: string): Outcome {
  return { status: "BUSY", reason: `${peer}'s client has no peer chats` };
}

/** BUSY: the peer is in a public room. */
function inPublicRoom(peer: string): Outcome {
  return { status: "BUSY", reason: `${peer} is in a public room; try again later` };
}

/** Why PEER_ACCEPT or PEER_DECLINE found nothing to answer. */
function noInvitationReason(user: string): string {
  return nameProblem(user)
    ? "no such request to join is waiting"
    : `${user} is not waiting to join this peer chat`;
}

/** Why a user of a peer chat whose server is gone left, to its members on other servers. */
export const SERVER_GONE = "their server left the cluster";

/** Starting, joining and leaving peer chats. */
export class PeerChats {
  readonly #options: PeerChatsOptions;
  /** The users of peer chats here that the roster did not show at the last sweep. */
  #missing = new Map<Room, Set<string>>();

  constructor(options: PeerChatsOptions) {
    this.#options = options;
  }

  /**
   * Connects the session with an online peer in a private peer chat. A
   * peer in no room is moved into a new peer chat of the two; a peer in a
   * public room is BUSY (nobody is taken out of a public room by someone
   * else); a peer in another peer chat gets the requester's request to join
   * it (INVITED), which its members answer with {@link PeerChats.accept} or
   * {@link PeerChats.decline}, or which expires. Resolves once the
   * memberships are stored.
   */
  connect(session: Session, peerName: string): PeerOutcome | Promise<PeerOutcome> {
    const { presence, invitations } = this.#options;
    const peer = peerName.normalize("NFC");
    if (peer === session.user) return { status: "PEER_IS_SELF" };
    const target = presence.sessionOf(peer);
    if (!target) {
      if (this.#options.cluster) return this.#connectAcross(session, peer);
      return { status: "PEER_OFFLINE", reason: offlineReason(peer) };
    }
    if (!target.peerChats) return noPeerChats(peer);
    // a 2.1 user is in many places at once: never busy, never taken out of one
    const shared = this.#sharedPeerChat(session, target);
    if (shared) return { status: "OK", room: shared.name };
    const place = target.v21 ? null : target.room;
    if (place?.kind === "room") return inPublicRoom(peer);
    if (place && place === session.room) return { status: "OK", room: place.name };
    if (place) return invitations.ask(session, place);
    const { peerChat, created } = this.#newPeerChat(session.user!);
    const entered = [this.#enter(target, peerChat, false), this.#enter(session, peerChat, true)];
    return Promise.all([created, ...entered]).then(() => ({
      status: "OK",
      room: peerChat.name,
    }));
  }

  /**
   * PEER_CONNECT to a user online on another server of the cluster: that
   * server takes its part (see {@link PeerChats.answer}) and says which
   * peer chat the session is to come into, or ask to join; BUSY when it
   * does not answer in time.
   */
  async #connectAcross(session: Session, peer: string): Promise<PeerOutcome> {
    const { invitations, cluster, log } = this.#options;
    const { roster, asks } = cluster!;
    for (const { room } of session.memberships.values()) {
      if (room.kind === "group" && room.elsewhere.has(peer)) {
        return { status: "OK", room: room.name };
      }
    }
    if (!(await roster.isOnline(peer))) {
      return { status: "PEER_OFFLINE", reason: offlineReason(peer) };
    }
    const user = session.user!;
    const answer = await asks.ask({ kind: "connect", from: user, peer }, unanswered(peer));
    if (answer.room === undefined || (answer.status !== "OK" && answer.status !== "INVITED")) {
      return outcomeOf(answer);
    }
    if (session.user !== user) {
      this.late({ kind: "connect", from: user, peer }, answer); // gone meanwhile
      return { status: "NOT_LOGIN" };
    }
    const peerChat = this.#heardOf(answer.room, answer.members ?? []);
    if (answer.status === "INVITED") {
      const asked = invitations.ask(session, peerChat);
      if (asked.status !== "INVITED") this.#forgetIfIdle(peerChat);
      return asked;
    }
    log(`peer-chat-across room=${JSON.stringify(peerChat.name)} by=${JSON.stringify(user)}`);
    await this.#enter(session, peerChat, true);
    return { status: "OK", room: peerChat.name };
  }

  /**
   * Takes this server's part of a question of another server of the
   * cluster. PEER_CONNECT of a user there to a user here: a peer in no room
   * is moved into a new peer chat (as by {@link PeerChats.connect}; resolves
   * once it and the membership are stored), the asker asks to join the
   * peer chat of a peer in one (INVITED: its server keeps the request).
   * PEER_ACCEPT or PEER_DECLINE of a member there of a request of a user
   * here. Null when the user asked about is not online here (another
   * server answers).
   */
  async answer(question: PeerQuestion): Promise<PeerAnswer | null> {
    const { presence, invitations } = this.#options;
    if (question.kind === "answer") {
      const { requester, room, answer, by } = question;
      const sessions = presence.sessionsOf(requester);
      if (sessions.length === 0) return null;
      for (const session of sessions) {
        const invitation = invitations.of(session);
        if (invitation?.peerChat.name !== room) continue;
        invitations.answer(invitation, answer, { user: by, id: 0 }, true);
        if (answer === "accepted") await this.#enter(session, invitation.peerChat, true);
        return { status: "OK" };
      }
      return { status: "NO_INVITATION", reason: noInvitationReason(requester) };
    }
    const { from, peer } = question;
    const target = presence.sessionOf(peer);
    if (!target) return null;
    if (!target.peerChats) return noPeerChats(peer);
    for (const { room } of target.memberships.values()) {
      if (room.kind === "group" && room.elsewhere.has(from)) {
        return { status: "OK", room: room.name };
      }
    }
    const place = target.v21 ? null : target.room;
    if (place?.kind === "room") return inPublicRoom(peer);
    if (place) return { status: "INVITED", room: place.name, members: place.userNames() };
    const { peerChat, created } = this.#newPeerChat(from);
    peerChat.elsewhere.add(from);
    await Promise.all([created, this.#enter(target, peerChat, false)]);
    return { status: "OK", room: peerChat.name, members: [peer] };
  }

  /**
   * Undoes what another server did for a session that no longer waits for
   * its answer (it was given up on, or the session is gone): a new peer
   * chat made with the asker as its other member is left, and ends there.
   */
  late(question: PeerQuestion, answer: PeerAnswer): void {
    if (question.kind !== "connect" || answer.status !== "OK" || answer.members === undefined) {
      return;
    }
    const place = { kind: "group", name: answer.room! } as const;
    this.#options.bus.publish({ kind: "place", place }, {
      type: "left",
      place,
      user: question.from,
      time: this.#options.now(),
      cause: LEFT,
    }, 0);
  }

  /** Takes note of who came into, left and asks to join a peer chat on another server. */
  heard(event: ChatEvent): void {
    const peerChat = event.type === "joined" || event.type === "left" ||
        event.type === "invitation-asked" || event.type === "invitation-answered"
      ? this.#options.rooms.at(event.place)
      : undefined;
    if (!peerChat) return;
    switch (event.type) {
      case "joined":
        peerChat.elsewhere.add(event.user);
        peerChat.asking.delete(event.user);
        break;
      case "left":
        this.#leftElsewhere(peerChat, event.user);
        break;
      case "invitation-asked":
        peerChat.asking.add(event.from);
        break;
      case "invitation-answered":
        peerChat.asking.delete(event.from);
        break;
    }
  }

  /**
   * Looks for the users of the peer chats here who are on other servers
   * in the roster of the cluster: one not online there twice in a row
   * (their server is gone and its lease ran out, or the note of their
   * leaving was lost) has left for the members here, and a peer chat left
   * with one member here ends. Twice: a crash of PostgreSQL empties the
   * roster until each server's next renewal.
   */
  async sweep(): Promise<void> {
    const { rooms, cluster, local, now } = this.#options;
    const spanning = [...rooms.peerChats()].filter((peerChat) => peerChat.elsewhere.size > 0);
    if (spanning.length === 0 && this.#missing.size === 0) return;
    const users = new Set(spanning.flatMap((peerChat) => [...peerChat.elsewhere]));
    const online = await cluster!.roster.onlineOf([...users]);
    const missing = new Map<Room, Set<string>>();
    for (const peerChat of spanning) {
      if (rooms.at(peerChat.place) !== peerChat) continue; // it ended meanwhile
      for (const user of peerChat.elsewhere) {
        if (online.has(user)) continue;
        if (!this.#missing.get(peerChat)?.has(user)) {
          missing.get(peerChat)?.add(user) ?? missing.set(peerChat, new Set([user]));
          continue;
        }
        local.deliver(peerChat.audience, {
          type: "left",
          place: peerChat.place,
          user,
          time: now(),
          cause: { kind: "disconnected", reason: SERVER_GONE },
        }, 0);
        this.#leftElsewhere(peerChat, user);
      }
    }
    this.#missing = missing;
  }

  /**
   * A user on another server left a peer chat: one left with one member
   * here ends; one left with one member elsewhere ends there, and the
   * requests here to join it are withdrawn.
   */
  #leftElsewhere(peerChat: Room, user: string): void {
    if (!peerChat.elsewhere.delete(user)) return;
    this.#options.memberships.endIfAlone(peerChat);
    if (peerChat.size === 0 && peerChat.elsewhere.size < 2) {
      this.#options.invitations.withdrawRequestsTo(peerChat);
      this.#forgetIfIdle(peerChat);
    }
  }

  /**
   * The peer chat of a name that another server told of, with its users
   * there (those elsewhere, when nobody here is in it yet).
   */
  #heardOf(name: string, users: readonly string[]): Room {
    const peerChat = this.#options.rooms.peerChat(name);
    if (peerChat.size > 0) return peerChat;
    for (const user of users) {
      if (this.#options.presence.sessionsOf(user).length === 0) peerChat.elsewhere.add(user);
    }
    return peerChat;
  }

  /** Forgets a peer chat that nobody here is in, or waits to join. */
  #forgetIfIdle(peerChat: Room): void {
    if (peerChat.size === 0 && !this.#options.invitations.awaits(peerChat)) {
      this.#options.rooms.forget(peerChat);
    }
  }

  /** A new peer chat that `by` asked for, and its storing. */
  #newPeerChat(by: string): { peerChat: Room; created: Promise<boolean> } {
    const { rooms, store, now, log } = this.#options;
    const peerChat = rooms.newPeerChat();
    const created = store.createRoom({
      kind: "group",
      name: peerChat.name,
      createdBy: null,
      createdAt: now(),
    });
    log(`peer-chat room=${JSON.stringify(peerChat.name)} by=${JSON.stringify(by)}`);
    return { peerChat, created };
  }

  /**
   * Lets a user who asked to join (PEER_CONNECT) into the session's peer
   * chat: they leave where they are and come in. Resolves once their
   * membership is stored (on their server, when it is another).
   */
  accept(session: Session, userName: string): Outcome | Promise<Outcome> {
    const invitation = this.#invitationTo(session, userName);
    if ("across" in invitation) return this.#answerAcross(session, invitation, "accepted");
    if (!("peerChat" in invitation)) return invitation;
    this.#options.invitations.answer(invitation, "accepted", session);
    return this.#enter(invitation.requester, invitation.peerChat, true)
      .then(() => ({ status: "OK" }));
  }

  /** Turns down a user who asked to join the session's peer chat. */
  decline(session: Session, userName: string): Outcome | Promise<Outcome> {
    const invitation = this.#invitationTo(session, userName);
    if ("across" in invitation) return this.#answerAcross(session, invitation, "declined");
    if (!("peerChat" in invitation)) return invitation;
    this.#options.invitations.answer(invitation, "declined", session);
    return { status: "OK" };
  }

  /**
   * Answers the request of a user on another server to join a peer chat:
   * their server ends it (and lets them in); the members here and on other
   * servers but the session are told of a decline.
   */
  async #answerAcross(
    session: Session,
    { across: peerChat, user }: RequestElsewhere,
    answer: "accepted" | "declined",
  ): Promise<Outcome> {
    const { bus, cluster, now } = this.#options;
    const by = session.user!;
    const question = { kind: "answer", by, requester: user, room: peerChat.name, answer } as const;
    const answered = await cluster!.asks.ask(question, unanswered(user));
    if (answered.status === "OK") {
      peerChat.asking.delete(user);
      if (answer === "declined") {
        const event = answeredEvent(peerChat.place, user, answer, by, now());
        bus.publish(peerChat.audience, event, session.id);
      }
    }
    return outcomeOf(answered);
  }

  /** Leaves a peer chat ("bye"): the session's current place, or (2.1) the one named. */
  bye(session: Session, membership: Membership | null): ChatStatus {
    if (membership?.room.kind !== "group") return "NOT_IN_GROUP";
    if (session.v21) {
      this.#options.memberships.remove(session.user!, membership.room, LEFT, session);
    } else this.#options.memberships.leave(membership, LEFT);
    return "OK";
  }

  /**
   * The waiting request of `userName` to join a peer chat of the session
   * (its current place, or any of a 2.1 session's) — kept here, or by the
   * server of a user elsewhere — or why there is none.
   */
  #invitationTo(session: Session, userName: string): Invitation | RequestElsewhere | Outcome {
    if (session.room?.kind !== "group" && !this.#sharedPeerChat(session, null)) {
      return { status: "NOT_IN_GROUP" };
    }
    const user = userName.normalize("NFC");
    const isOurs = (peerChat: Room) =>
      session.v21 ? session.memberships.has(peerChat) : peerChat === session.room;
    for (const requester of this.#options.presence.sessionsOf(user)) {
      const invitation = this.#options.invitations.of(requester);
      if (invitation && isOurs(invitation.peerChat)) return invitation;
    }
    for (const { room } of session.memberships.values()) {
      if (room.asking.has(user) && isOurs(room)) return { across: room, user };
    }
    return { status: "NO_INVITATION", reason: noInvitationReason(user) };
  }

  /** A peer chat the session is in, and `other` too (when not null). */
  #sharedPeerChat(session: Session, other: Session | null): Room | null {
    for (const { room } of session.memberships.values()) {
      if (room.kind === "group" && (other === null || other.memberships.has(room))) return room;
    }
    return null;
  }

  /** A session comes into a peer chat: a 2.1 user's sessions beside where they are. */
  #enter(session: Session, peerChat: Room, current: boolean): Promise<void> {
    const { memberships } = this.#options;
    return session.v21
      ? memberships.join(session, peerChat, current)
      : memberships.moveTo(session, peerChat);
  }
}
