/**
 * Requests to join a peer chat: a user asks to come into a peer chat whose
 * members decide (PEER_CONNECT to a user in one). Each waits for an answer
 * within a time limit, a few at most per peer chat, one per session. No
 * I/O.
 * @module
 */

import type { InvitationAnswer, InvitationAnswered, Place } from "./events.ts";
import type { FanoutBus } from "./fanout_bus.ts";
import type { Outcome } from "./outcome.ts";
import type { Room } from "./room.ts";
import type { Session } from "./session.ts";

/** Bounds of requests to join peer chats. */
export interface InvitationLimits {
  /** How long a request waits for an answer, in ms. */
  readonly timeoutMs: number;
  /** Most requests waiting at once to join one peer chat. */
  readonly perChat: number;
}

/** A request to join a peer chat expires after 60 s; at most 5 wait per peer chat. */
export const DEFAULT_INVITATION_LIMITS: InvitationLimits = { timeoutMs: 60_000, perChat: 5 };

/** The outcome of PEER_CONNECT. */
export interface PeerOutcome extends Outcome {
  /** With OK, the peer chat the requester is in; with INVITED, the one it asked to join. */
  room?: string;
  /**
   * With INVITED: when the request expires (ms since the epoch), and how it
   * ended, once it has (with `accepted`, the requester is in the peer chat).
   */
  invitation?: { expires: number; answer: Promise<InvitationAnswer> };
}

/** A request to join a peer chat, waiting for one of its members to answer. */
export interface Invitation {
  /** Who asked; each session has at most one request waiting. */
  readonly requester: Session;
  /** The requester's user name. */
  readonly user: string;
  readonly peerChat: Room;
  readonly expires: number;
  readonly answer: Promise<InvitationAnswer>;
  readonly settle: (answer: InvitationAnswer) => void;
  timer?: ReturnType<typeof setTimeout>;
}

/** Who answered a request: a session here, or (id 0) a member on another server. */
export interface Answerer {
  readonly user: string | null;
  readonly id: number;
}

/** Settings of {@link Invitations}. */
export interface InvitationsOptions {
  bus: FanoutBus;
  limits: InvitationLimits;
  /** Forgets a peer chat nobody here is in once no request waits to join it. */
  forget: (peerChat: Room) => void;
  now: () => number;
  log: (line: string) => void;
}

/** A settled promise's outcome, not wanted. */
function ignore(): void {}

/** The requests to join peer chats that wait for an answer. */
export class Invitations {
  readonly #options: InvitationsOptions;
  /** By who asked. */
  readonly #waiting = new Map<Session, Invitation>();

  constructor(options: InvitationsOptions) {
    this.#options = options;
  }

  /** The session's request waiting for an answer, if any. */
  of(session: Session): Invitation | undefined {
    return this.#waiting.get(session);
  }

  /**
   * Asks the members of a peer chat to let the session in; a request of the
   * session's to join another one is withdrawn. BUSY when too many wait.
   */
  ask(session: Session, peerChat: Room): PeerOutcome {
    const earlier = this.#waiting.get(session);
    if (earlier?.peerChat === peerChat) return invitedOutcome(earlier);
    const { bus, limits, now, log } = this.#options;
    let waiting = 0;
    for (const invitation of this.#waiting.values()) {
      if (invitation.peerChat === peerChat) waiting++;
    }
    if (waiting >= limits.perChat) {
      return {
        status: "BUSY",
        reason: `that peer chat has ${waiting} requests to join waiting; try again later`,
      };
    }
    if (earlier) this.answer(earlier, "withdrawn");
    let settle: (answer: InvitationAnswer) => void = ignore;
    const answer = new Promise<InvitationAnswer>((resolve) => settle = resolve);
    const user = session.user!;
    const invitation: Invitation = {
      requester: session,
      user,
      peerChat,
      expires: now() + limits.timeoutMs,
      answer,
      settle,
    };
    invitation.timer = setTimeout(() => this.answer(invitation, "expired"), limits.timeoutMs);
    this.#waiting.set(session, invitation);
    bus.publish(peerChat.audience, {
      type: "invitation-asked",
      place: peerChat.place,
      from: user,
      expires: invitation.expires,
      time: now(),
    }, 0);
    log(`peer-invite room=${JSON.stringify(peerChat.name)} by=${JSON.stringify(user)}`);
    return invitedOutcome(invitation);
  }

  /** Whether a request waits to join `peerChat`. */
  awaits(peerChat: Room): boolean {
    for (const invitation of this.#waiting.values()) {
      if (invitation.peerChat === peerChat) return true;
    }
    return false;
  }

  /**
   * Ends a waiting request, telling the requester and, unless accepted
   * (then their coming in tells them), the members but the one who answered
   * — unless `membersTold`: a member on another server answered, and their
   * server tells the members.
   */
  answer(
    invitation: Invitation,
    answer: InvitationAnswer,
    by?: Answerer,
    membersTold = false,
  ): void {
    const { requester, peerChat } = invitation;
    if (this.#waiting.get(requester) !== invitation) return;
    this.#waiting.delete(requester);
    clearTimeout(invitation.timer);
    const { bus, now, log } = this.#options;
    const event = answeredEvent(peerChat.place, invitation.user, answer, by?.user ?? null, now());
    bus.publish({ kind: "user", user: invitation.user }, event, 0);
    if (answer !== "accepted" && !membersTold) bus.publish(peerChat.audience, event, by?.id ?? 0);
    if (answer !== "accepted" && peerChat.size === 0 && !this.awaits(peerChat)) {
      this.#options.forget(peerChat);
    }
    log(
      `peer-answer room=${JSON.stringify(peerChat.name)} from=${
        JSON.stringify(invitation.user)
      } answer=${answer}`,
    );
    invitation.settle(answer);
  }

  /** Withdraws the session's waiting request, if it has one. */
  withdrawRequestOf(session: Session): void {
    if (this.#waiting.size === 0) return;
    const request = this.#waiting.get(session);
    if (request) this.answer(request, "withdrawn");
  }

  /** Withdraws the waiting requests to join a peer chat that ended. */
  withdrawRequestsTo(peerChat: Room): void {
    if (this.#waiting.size === 0) return;
    for (const invitation of this.#waiting.values()) {
      if (invitation.peerChat === peerChat) this.answer(invitation, "withdrawn");
    }
  }
}

/** The event of a request of `from` to join a peer chat that ended. */
export function answeredEvent(
  place: Place,
  from: string,
  answer: InvitationAnswer,
  by: string | null,
  time: number,
): InvitationAnswered {
  return { type: "invitation-answered", place, from, answer, by, time };
}

/** The INVITED outcome of a waiting request to join a peer chat. */
function invitedOutcome(invitation: Invitation): PeerOutcome {
  const { peerChat, expires, answer } = invitation;
  return { status: "INVITED", room: peerChat.name, invitation: { expires, answer } };
}
