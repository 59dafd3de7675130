/**
 * Presence across the servers of a cluster: what {@link Presence} and the
 * chat ask of it, and what it asks of the chat. A server alone has none of
 * this (its presence is its own sessions, at no cost); servers sharing a
 * PostgreSQL database claim each user's name in it before letting them in
 * (see `server/cluster/postgres_presence.ts`), so that a name is online on
 * one server at a time and MAX_ONLINE counts every server, and read from
 * it who is online where. No I/O.
 * @module
 */

import type { Whereabouts } from "./chat.ts";
import type { Place } from "./events.ts";
import type { Session } from "./session.ts";

/** The reason given to a session whose name a login on another server took. */
export const REPLACED_ELSEWHERE = "logged in from elsewhere";

/**
 * What a claim of a name answers; REPLACE_OLDEST: OK, once this server's
 * oldest session of the user is replaced (the user has as many devices as
 * one may, and the oldest of them is here).
 */
export type ClaimStatus = "OK" | "ALREADY_ONLINE" | "SERVER_FULL" | "REPLACE_OLDEST";

/**
 * Claims of names, asked by {@link Presence}: a claim before a login is let
 * in, a release once that session is offline. A claim of a name that this
 * server holds for another session moves it to the new one (the older
 * session is being replaced), so that release of the older session is then
 * nothing to do. A user's 2.1 sessions (devices) may be on several servers,
 * each holding a claim of the name: every device's login claims, with how
 * many devices the server will hold, and every device's logout says how
 * many are left.
 */
export interface PresenceClaims {
  /**
   * Claims `user` for `session` (whose address and `push` are recorded for
   * WHO and BROADCAST): OK, ALREADY_ONLINE while another server holds it
   * (unless logins replace older ones) or the user has as many devices as
   * one may, SERVER_FULL at the cluster's MAX_ONLINE. `devices`: the 2.1
   * sessions of the user this server holds once `session` is in (0 for a
   * session of 2.0 or the original protocol, which holds the name alone).
   * Rejects when the claims cannot be reached.
   */
  claim(user: string, session: Session, push: boolean, devices?: number): Promise<ClaimStatus>;
  /**
   * Gives up the claim of `user` for `session`, if it still holds it; with
   * `devices` (more than 0), keeps it for that many devices left here.
   */
  release(user: string, session: Session, devices?: number): void;
}

/** Who is online on every server of a cluster, and where. */
export interface ClusterRoster {
  /** Every online user and where each is, by name. */
  who(): Promise<Whereabouts[]>;
  /** The users in a public room on any server, in the order they came in. */
  membersOf(place: Place): Promise<string[]>;
  /** Whether `user` is online on some server. */
  isOnline(user: string): Promise<boolean>;
  /**
   * The servers (their nodes) where `user` is in `place`, in the same order
   * whichever server asks; empty when on none.
   */
  serversIn(user: string, place: Place): Promise<string[]>;
  /** Those of `users` who are online on some server. */
  onlineOf(users: readonly string[]): Promise<Set<string>>;
  /** How many online users take pushed events, on every server. */
  pushed(): Promise<number>;
  /**
   * A 2.1 session of `user` came online here, into `places` (the rooms
   * its user belongs to), telling nobody: the bus carries no event of it,
   * so the roster is told here. Best effort, in the background.
   */
  arrived(user: string, places: readonly Place[]): void;
}

/** What a session's coming into and leaving places tells the roster (see `ClusterBus`). */
export interface PlaceWatcher {
  /** `user` came into `place` on this server. */
  entered(user: string, place: Place): void;
  /** `user` left `place` on this server. */
  left(user: string, place: Place): void;
}

/** Presence across servers: claims and the roster. */
export interface ClusterPresence extends PresenceClaims, ClusterRoster {
  /** This server's name in the cluster (a note for one server names it). */
  readonly node: string;
}

/** What presence across servers may ask of this server's chat. */
export interface NodeSessions {
  /** Closes the sessions of `user` here: another server holds the name now. */
  close(user: string, reason: string): void;
  /** Closes every session here: this server may no longer hold any name. */
  closeAll(reason: string): void;
  /**
   * This server's lease was renewed: the roster is as current as it gets,
   * and the users of servers whose leases ran out are in it no more.
   */
  renewed(): void;
}
