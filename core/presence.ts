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

  /** Makes `user` the session's user, if the rules allow it; the status says. */
  admit(session: Session, user: string, push: boolean): ChatStatus {
    if (session.user !== null) return "ALREADY_LOGIN";
    if (this.#gone.has(session)) return "AUTH_FAILED"; // nobody hears it
    const earlier = this.#online.get(user);
    if (earlier && this.#options.duplicateLogin === "refuse") return "ALREADY_ONLINE";
    if (!earlier && this.#online.size >= this.#options.maxOnline) {
      this.#options.log(`login-refused session=${session.id} reason=server-full`);
      return "SERVER_FULL";
    }
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
  }

  /** The session's connection is gone: a login of it still being checked will not log it in. */
  gone(session: Session): void {
    this.#gone.add(session);
  }
}
