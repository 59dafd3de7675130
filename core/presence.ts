/**
 * Presence: who is connected and logged in, as which session. It holds the
 * rules of coming online — the most users at once, and what a second login
 * of an online user does — apart from membership (who is in which room).
 * Today a user has at most one session; a cluster of servers will keep
 * presence across its nodes behind the same methods. It also holds the
 * names of guests (logged in by name alone), which are theirs while they
 * are connected: no one else may go by the name or a look-alike then.
 * No I/O.
 * @module
 */

import { likenessKeys, nameProblem } from "../protocol/names.ts";
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
  /**
   * How many online users, and guest logins under way, go by a name of each
   * `k:`nameKey and `s:`nameSkeleton: a guest may not take a look-alike.
   */
  readonly #held = new Map<string, number>();
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

  /**
   * Whether someone online, or a guest logging in, goes by `user` or a name
   * that counts as the same (equal nameKey or nameSkeleton).
   */
  isHeld(user: string): boolean {
    return likenessKeys(user).some((key) => this.#held.has(key));
  }

  /** Holds `user` for a guest login under way, until {@link Presence.release}. */
  hold(user: string): void {
    for (const key of likenessKeys(user)) this.#held.set(key, (this.#held.get(key) ?? 0) + 1);
  }

  /** Lets go of a name held by {@link Presence.hold} (or by an online user). */
  release(user: string): void {
    for (const key of likenessKeys(user)) {
      const holders = this.#held.get(key)! - 1;
      if (holders > 0) this.#held.set(key, holders);
      else this.#held.delete(key);
    }
  }

  /**
   * Makes `user` the session's user, if the rules allow it; the status says.
   * A guest never replaces anyone, and takes no name that someone online goes
   * by or that looks the same.
   */
  admit(session: Session, user: string, push: boolean, guest = false): ChatStatus {
    if (session.user !== null) return "ALREADY_LOGIN";
    if (this.#gone.has(session)) return "AUTH_FAILED"; // nobody hears it
    const earlier = this.#online.get(user);
    if (guest ? this.isHeld(user) : earlier && this.#options.duplicateLogin === "refuse") {
      return "ALREADY_ONLINE";
    }
    if (!earlier && this.#online.size >= this.#options.maxOnline) {
      this.#options.log(`login-refused session=${session.id} reason=server-full`);
      return "SERVER_FULL";
    }
    if (earlier) this.#options.replace(earlier, REPLACED);
    session.user = user;
    session.push = push;
    session.guest = guest;
    this.#online.set(user, session);
    this.hold(user);
    this.#options.log(
      `login session=${session.id} user=${JSON.stringify(user)} push=${push}` +
        (guest ? " guest=true" : ""),
    );
    return "OK";
  }

  /** Takes the session's user offline (its user is still set). */
  remove(session: Session): void {
    if (this.#online.get(session.user!) !== session) return;
    this.#online.delete(session.user!);
    this.release(session.user!);
  }

  /** The session's connection is gone: a login of it still being checked will not log it in. */
  gone(session: Session): void {
    this.#gone.add(session);
  }
}
