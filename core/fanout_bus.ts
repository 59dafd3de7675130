/**
 * The fan-out bus: every event a session may receive is published on it,
 * addressed to a place, to a user or to everyone, and the bus hands it to
 * the sessions of this node that it is addressed to. In one process the bus
 * is a direct call ({@link InProcessBus}); a cluster of servers puts a bus
 * between them here (PostgreSQL LISTEN/NOTIFY, Redis), and the chat rules
 * do not change. Publishing allocates nothing: the event object is the one
 * every recipient shares.
 * @module
 */

import type { BanRecord, RoomRecord } from "../store/records.ts";
import type { PeerAnswer, PeerQuestion } from "./cluster_asks.ts";
import type { ChatEvent, Place } from "./events.ts";
import type { SharedBucket } from "./limits/flood_control.ts";

/** Whom an event is for. */
export type Audience =
  /** The members of a room or peer chat. */
  | { readonly kind: "place"; readonly place: Place }
  /** The sessions of one user. */
  | { readonly kind: "user"; readonly user: string }
  /** Every session that takes events. */
  | { readonly kind: "everyone" };

/** The audience of notices, made once. */
export const EVERYONE: Audience = { kind: "everyone" };

/**
 * A change of the state every server keeps, made on one of them, that the
 * others take over (stored already: they only bring what they hold in
 * memory up to date), or an operator's act on a user wherever they are.
 */
export type SharedChange =
  /** A public room was created. */
  | { readonly type: "room-created"; readonly room: RoomRecord }
  /**
   * A user was banned from a public room (and is to be taken out of it).
   * `told`: the banning server took the user out and told the room (false
   * when it did not know them to be in it: their server does). `teller`,
   * when not told: the one server that tells the room, of those where the
   * user is in it (a 2.1 user may be on several); absent when the banning
   * server found none, and then each of those tells.
   */
  | {
    readonly type: "banned";
    readonly ban: BanRecord;
    readonly told: boolean;
    readonly teller?: string;
  }
  /**
   * A moderator removed a user from a public room (whose server takes them
   * out); `told` and `teller` likewise.
   */
  | {
    readonly type: "kicked";
    readonly room: string;
    readonly user: string;
    readonly by: string;
    readonly reason: string;
    readonly told: boolean;
    readonly teller?: string;
  }
  /** A ban was lifted. */
  | { readonly type: "unbanned"; readonly room: string; readonly user: string }
  /** A user came to belong to a public room, or no longer does (2.1). */
  | {
    readonly type: "belonging";
    readonly room: string;
    readonly user: string;
    readonly belongs: boolean;
  }
  /**
   * A login on another server took the user's name (`--duplicate-login
   * replace`); with `node`, that server closes its oldest session of the
   * user (one device too many).
   */
  | { readonly type: "replaced"; readonly user: string; readonly node?: string }
  /** The user signed out everywhere (LOGOUT with `Everywhere: yes`): their sessions end. */
  | { readonly type: "signed-out"; readonly user: string }
  /**
   * The operator disconnects a user (console KICK) at `at` (ms since the
   * epoch): sessions signed in since are spared, as the note may come late
   * (held while the bus was down). Without `at`, every session.
   */
  | {
    readonly type: "operator-kick";
    readonly user: string;
    readonly reason: string;
    readonly at?: number;
  }
  /** Tokens of a per-user bucket that users spent on the sending server: user, count. */
  | {
    readonly type: "spent";
    readonly bucket: SharedBucket;
    readonly spent: readonly (readonly [string, number])[];
  }
  /** A question for the server of a user online there (see `cluster_asks.ts`). */
  | { readonly type: "peer-ask"; readonly id: string; readonly question: PeerQuestion }
  /** The answer of that server to the question `id`. */
  | { readonly type: "peer-answer"; readonly id: string; readonly answer: PeerAnswer };

/** Where the chat publishes its events. */
export interface FanoutBus {
  /**
   * Sends `event` to `to`, leaving out the session with the id
   * `exceptSession` (0 for none: the one that caused it, e.g. the poster).
   * Events reach each session in the order they were published.
   */
  publish(to: Audience, event: ChatEvent, exceptSession: number): void;
  /** Tells the other servers of a change this one made (nothing to do for one server). */
  share(change: SharedChange): void;
  /**
   * False while the other servers may not hear what this one publishes
   * (the link between them is down); absent for a single server.
   */
  linkUp?(): boolean;
  /**
   * Counts a post of `sender` to `place` in flight here (`change` 1 as it
   * goes to the store, -1 once published or failed), for a bus that may
   * read committed messages before their poster's server publishes them.
   */
  posting?(place: Place, sender: string, change: 1 | -1): void;
}

/** What a node does with the events published for its sessions. */
export interface LocalDelivery {
  /** Gives `event` to the sessions of this node in `to`, but `exceptSession`. */
  deliver(to: Audience, event: ChatEvent, exceptSession: number): void;
}

/** What a bus between servers needs of this server's chat besides delivery. */
export interface NodeChat {
  /** How many of this server's sessions are in a place (0 when it knows no such place). */
  membersOf(place: Place): number;
  /** Whether a user has a session on this server. */
  isHere(user: string): boolean;
  /**
   * Whether a user's sessions on this server are 2.1 devices, which see
   * the direct messages the user's other devices send.
   */
  hasDevicesHere(user: string): boolean;
  /** Takes over a change another server made. */
  apply(change: SharedChange): void;
  /** Takes note of a message id another server's message got. */
  sawMessage(id: number): void;
  /**
   * Takes note of an event of a peer chat that another server published,
   * once delivered here: who came into it and who left.
   */
  heard(event: ChatEvent): void;
  /**
   * The link between the servers is back after it was down: changes other
   * servers shared meanwhile may be lost, so take over what the store holds.
   */
  relinked(): void;
}

/** The bus of a single server: publishing delivers at once. */
export class InProcessBus implements FanoutBus {
  readonly #local: LocalDelivery;

  constructor(local: LocalDelivery) {
    this.#local = local;
  }

  publish(to: Audience, event: ChatEvent, exceptSession: number): void {
    this.#local.deliver(to, event, exceptSession);
  }

  share(): void {}
}
