/**
 * Presence: who is connected and logged in, as which session. It holds the
 * rules of coming online — the most users at once, and what a second login
 * of an online user does — apart from membership (who is in which room).
 * Today a user has at most one session; a cluster of servers will keep
 * presence across its nodes behind the same methods. No I/O.
 * @module
 */

import { nameProblem } from "../protocol/names.ts";
import type { ChatStatus } from "./outcome.ts";
import type { PresenceClaims } from "./presence_claims.ts";
import type { Session } from "./session.ts";

/** What to do when a user logs in who is online on another connection. */
export type DuplicateLoginPolicy = "refuse" | "replace";

/** Settings of {@link Presence}. */
export interface PresenceOptions {
  /** Most users logged in at once. */
  maxOnline: number;
  /** `refuse`: ALREADY_ONLINE; `replace`: the older session is closed. */
  duplicateLogin: DuplicateLoginPolicy;
  /** Closes and logs out a session that a login replaces, for `reason`. */
  replace: (earlier: Session, reason: string) => void;
  /** Receives one line per significant event. */
  log: (line: string) => void;
  /** Claims of names across the servers of a cluster; none for a server alone. */
  claims?: PresenceClaims;
}

/** Why a user is not reachable; never repeats an absurd name back at length. */
export function offlineReason(user: string): string {
  return nameProblem(user) ? "no such user" : `${user} is not online`;
}

/** The reason an older session is closed under the `replace` policy. */
const REPLACED = "logged in from elsewhere";

/** The online users and their sessions. */
export class Presence {
  readonly #online = new Map<string, Session>();
  /** Sessions whose connection is gone. */
  readonly #gone = new WeakSet<Session>();
  readonly #options: PresenceOptions;
  /** Sessions whose claim is taken, being let in (cluster). */
  readonly #claimed = new WeakSet<Session>();
  /** The claim under way for each user (cluster): one at a time per name. */
  readonly #claiming = new Map<string, Promise<unknown>>();

  constructor(options: PresenceOptions) {
    this.#options = options;
  }

  /** How many users are online. */
  get count(): number {
    return this.#online.size;
  }

  /** The session of an online user. */
  sessionOf(user: string): Session | undefined {
    return this.#online.get(user);
  }

  /** The sessions of the online users. */
  sessions(): IterableIterator<Session> {
    return this.#online.values();
  }

  /**
   * Makes `user` the session's user, if the rules allow it; the status says.
   * In a cluster, once the name is claimed (see {@link PresenceClaims}).
   */
  admit(session: Session, user: string, push: boolean): ChatStatus | Promise<ChatStatus> {
    if (session.user !== null) return "ALREADY_LOGIN";
    if (this.#gone.has(session)) return "AUTH_FAILED"; // nobody hears it
    const earlier = this.#online.get(user);
    if (earlier && this.#options.duplicateLogin === "refuse") return "ALREADY_ONLINE";
    if (!earlier && this.#online.size >= this.#options.maxOnline) {
      this.#options.log(`login-refused session=${session.id} reason=server-full`);
      return "SERVER_FULL";
    }
    const claims = this.#options.claims;
    if (claims && !this.#claimed.delete(session)) return this.#claim(claims, session, user, push);
    if (earlier) this.#options.replace(earlier, REPLACED);
    session.user = user;
    session.push = push;
    this.#online.set(user, session);
    this.#options.log(`login session=${session.id} user=${JSON.stringify(user)} push=${push}`);
    return "OK";
  }

  /** Takes the session's user offline (its user is still set). */
  remove(session: Session): void {
    if (this.#online.get(session.user!) === session) this.#online.delete(session.user!);
    this.#options.claims?.release(session.user!, session);
  }

  /** Claims the name, then lets the session in if the rules still allow it (or gives it up). */
  #claim(
    claims: PresenceClaims,
    session: Session,
    user: string,
    push: boolean,
  ): Promise<ChatStatus> {
    const before = this.#claiming.get(user);
    const again = () => this.admit(session, user, push);
    if (before) return before.then(again, again);
    const claimed = claims.claim(user, session, push).then((status) => {
      if (status !== "OK") return status;
      this.#claimed.add(session);
      const admitted = this.admit(session, user, push) as ChatStatus;
      if (admitted !== "OK") {
        this.#claimed.delete(session);
        claims.release(user, session);
      }
      return admitted;
    });
    const done = () => {
      if (this.#claiming.get(user) === claimed) this.#claiming.delete(user);
    };
    this.#claiming.set(user, claimed);
    claimed.then(done, done);
    return claimed;
  }

  /** The session's connection is gone: a login of it still being checked will not log it in. */
  gone(session: Session): void {
    this.#gone.add(session);
  }
}
