/**
 * Presence: who is connected and logged in, as which session. It holds the
 * rules of coming online — the most users at once, and what a second login
 * of an online user does — apart from membership (who is in which room).
 * A user has one session, or several 2.1 sessions (devices); a cluster of
 * servers will keep presence across its nodes behind the same methods.
 * It also holds the names of guests (logged in by name alone), which are
 * theirs while they are connected: no one else may go by the name or a
 * look-alike then.
 * No I/O.
 * @module
 */

import { likenessKeys, nameProblem } from "../protocol/names.ts";
import type { ChatStatus } from "./outcome.ts";
import type { ClaimStatus, PresenceClaims } from "./presence_claims.ts";
import type { Session } from "./session.ts";

/** What to do when a user logs in who is online on another connection. */
export type DuplicateLoginPolicy = "refuse" | "replace";

/** Settings of {@link Presence}. */
export interface PresenceOptions {
  /** Most users logged in at once. */
  maxOnline: number;
  /**
   * `refuse`: ALREADY_ONLINE; `replace`: the older session is closed. For
   * a 2.1 session beside the user's other 2.1 sessions, only once they are
   * `maxDevices`.
   */
  duplicateLogin: DuplicateLoginPolicy;
  /** Most 2.1 sessions (devices) of one user online at once. */
  maxDevices: number;
  /** Closes and logs out a session that a login replaces, for `reason`. */
  replace: (earlier: Session, reason: string) => void;
  /** Receives one line per significant event. */
  log: (line: string) => void;
  /** Claims of names across the servers of a cluster; none for a server alone. */
  claims?: PresenceClaims;
  /** The clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** Why a user is not reachable; never repeats an absurd name back at length. */
export function offlineReason(user: string): string {
  return nameProblem(user) ? "no such user" : `${user} is not online`;
}

/** The reason an older session is closed under the `replace` policy. */
const REPLACED = "logged in from elsewhere";

/** Most sessions (devices) of one user at once, unless told otherwise. */
export const DEFAULT_MAX_DEVICES = 10;

const NO_SESSIONS: readonly Session[] = [];

/** The online users and their sessions. */
export class Presence {
  /** Each online user's sessions, the earliest first; an array is replaced, never changed. */
  readonly #online = new Map<string, readonly Session[]>();
  /** Sessions whose connection is gone. */
  readonly #gone = new WeakSet<Session>();
  /**
   * How many guests online, and guest logins under way, go by a name of each
   * `k:`nameKey and `s:`nameSkeleton: a guest may not take a look-alike, nor
   * a registration. Users with accounts are not counted: no name like an
   * account's is let in as a guest (the chat asks the store), so this costs
   * an idle connection nothing unless it is a guest's.
   */
  readonly #held = new Map<string, number>();
  readonly #options: PresenceOptions;
  /** Sessions whose claim is taken, being let in (cluster), and what the claim answered. */
  readonly #claimed = new WeakMap<Session, ClaimStatus>();
  /** The claim under way for each user (cluster): one at a time per name. */
  readonly #claiming = new Map<string, Promise<unknown>>();
  /** The session whose claim holds each user's name here (cluster), for its release. */
  readonly #claimHolders = new Map<string, Session>();

  constructor(options: PresenceOptions) {
    this.#options = options;
  }

  /** How many users are online. */
  get count(): number {
    return this.#online.size;
  }

  /** The (earliest) session of an online user. */
  sessionOf(user: string): Session | undefined {
    return this.#online.get(user)?.[0];
  }

  /** Every session of a user, the earliest first: none when offline. */
  sessionsOf(user: string): readonly Session[] {
    return this.#online.get(user) ?? NO_SESSIONS;
  }

  /** The sessions of the online users. */
  *sessions(): IterableIterator<Session> {
    for (const sessions of this.#online.values()) yield* sessions;
  }

  /**
   * Whether a guest online, or one logging in, goes by `user` or a name
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
   * by or that looks the same. In a cluster, a user's first session here,
   * and every 2.1 session (their devices are counted on every server),
   * claims the name first (see {@link PresenceClaims}).
   */
  admit(
    session: Session,
    user: string,
    push: boolean,
    guest = false,
  ): ChatStatus | Promise<ChatStatus> {
    if (session.user !== null) return "ALREADY_LOGIN";
    if (this.#gone.has(session)) return "AUTH_FAILED"; // nobody hears it
    const { duplicateLogin, maxDevices, maxOnline } = this.#options;
    const earlier = this.sessionsOf(user);
    // a guest replaces nobody, and may not take a look-alike of another guest online
    if (guest && (earlier.length > 0 || this.isHeld(user))) return "ALREADY_ONLINE";
    // 2.1 sessions of a user live side by side, up to maxDevices; any other pair is a duplicate
    const devices = session.v21 && !guest && earlier.every((other) => other.v21);
    const claims = this.#options.claims;
    const claimed = claims && this.#claimed.get(session);
    if (claimed) this.#claimed.delete(session);
    let replaced = earlier;
    if (devices && claims) {
      // in a cluster the claim counts the user's devices on every server, and says which goes
      replaced = claimed === "REPLACE_OLDEST" ? earlier.slice(0, 1) : NO_SESSIONS;
    } else if (devices) {
      replaced = earlier.slice(0, Math.max(0, earlier.length - maxDevices + 1));
    }
    if (replaced.length > 0 && duplicateLogin === "refuse") return "ALREADY_ONLINE";
    if (earlier.length === 0 && this.#online.size >= maxOnline) {
      this.#options.log(`login-refused session=${session.id} reason=server-full`);
      return "SERVER_FULL";
    }
    if (claims && !claimed && (devices || replaced.length === earlier.length)) {
      const held = devices ? earlier.length + 1 : session.v21 ? 1 : 0;
      return this.#claim(claims, session, user, push, guest, held);
    }
    if (claimed) this.#claimHolders.set(user, session);
    session.user = user;
    session.loggedInAt = (this.#options.now ?? Date.now)();
    session.push = push;
    session.guest = guest;
    // a literal of one, not a spread: a spread array keeps room for 17 (128 bytes more per user)
    if (earlier.length > 0) this.#online.delete(user); // the latest login last, as on its own
    this.#online.set(user, earlier.length === 0 ? [session] : [...earlier, session]);
    // in first, so that the claim's count of devices here holds once the replaced are gone
    for (const other of replaced) this.#options.replace(other, REPLACED);
    if (guest) this.hold(user);
    this.#options.log(
      `login session=${session.id} user=${JSON.stringify(user)} push=${push}` +
        (guest ? " guest=true" : ""),
    );
    return "OK";
  }

  /** Takes the session's user offline (its user is still set). */
  remove(session: Session): void {
    const user = session.user!;
    const sessions = this.sessionsOf(user);
    if (!sessions.includes(session)) return;
    if (sessions.length === 1) this.#online.delete(user);
    else this.#online.set(user, sessions.filter((other) => other !== session));
    if (session.guest) this.release(user);
    const claims = this.#options.claims;
    if (sessions.length === 1 && claims) {
      // the name is this server's until the user's last session here goes
      claims.release(user, this.#claimHolders.get(user) ?? session);
      this.#claimHolders.delete(user);
    } else if (session.v21 && claims) {
      claims.release(user, session, sessions.length - 1);
    }
  }

  /** Claims the name, then lets the session in if the rules still allow it (or gives it up). */
  #claim(
    claims: PresenceClaims,
    session: Session,
    user: string,
    push: boolean,
    guest: boolean,
    devices: number,
  ): Promise<ChatStatus> {
    const before = this.#claiming.get(user);
    const again = () => this.admit(session, user, push, guest);
    if (before) return before.then(again, again);
    const claimed = claims.claim(user, session, push, devices).then((status) => {
      if (status !== "OK" && status !== "REPLACE_OLDEST") return status;
      this.#claimed.set(session, status);
      const admitted = this.admit(session, user, push, guest) as ChatStatus;
      if (admitted !== "OK") {
        this.#claimed.delete(session);
        const left = this.sessionsOf(user).length;
        if (left === 0) claims.release(user, session);
        else {
          // the claim names this session now: the last one here to go gives it up by it
          this.#claimHolders.set(user, session);
          if (devices > 0) claims.release(user, session, left);
        }
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
