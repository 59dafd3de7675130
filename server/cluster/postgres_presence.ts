/**
 * Presence across the servers of a cluster, in the PostgreSQL database
 * they share (the unlogged tables and functions of the schema's migration
 * 3): each login claims its name there first, so that a name is online on
 * one server at a time and MAX_ONLINE counts every server; WHO,
 * LIST_MEMBERS and the console read who is online where from there.
 *
 * A server's claims count only while its lease lasts: it renews the lease
 * every quarter of its length, and once a server is killed its names are
 * free when the lease runs out. A server that cannot renew in time closes
 * its own sessions first (before the lease can run out in the database's
 * time, for its clock starts from when it sent the last renewal that
 * worked), so a name is never online twice; it takes a new lease once it
 * reaches the database again. Imports the `postgres` package: loaded only
 * for a cluster (see open_cluster.ts).
 * @module
 */

import type { Whereabouts } from "../../core/chat.ts";
import type { ClusterLink } from "../../core/cluster_bus.ts";
import type { Place } from "../../core/events.ts";
import {
  type ClaimStatus,
  type ClusterPresence,
  type NodeSessions,
  type PlaceWatcher,
  REPLACED_ELSEWHERE,
} from "../../core/presence_claims.ts";
import type { Session } from "../../core/session.ts";
import { connect, type Sql } from "../../store/postgres/connection.ts";
import { OrderedStatements } from "../../store/postgres/ordered_statements.ts";

/** The reason given to every session of a server that lost its lease. */
export const LEASE_LOST = "this server lost its place in the cluster; connect again";

/** Settings of {@link PostgresPresence}. */
export interface PostgresPresenceOptions {
  /** This server's name in the cluster. */
  node: string;
  /** Most users online at once on all servers together. */
  maxOnline: number;
  /** Whether a login takes a name from another server (`--duplicate-login replace`). */
  replace: boolean;
  /** Most 2.1 sessions (devices) of one user on all servers together. */
  maxDevices: number;
  /** How long a lease lasts, in milliseconds. */
  leaseMs: number;
  /** Where a name taken from another server is announced, for it to close that session. */
  link: ClusterLink;
  log: (line: string) => void;
}

/** Claims and the roster in PostgreSQL, and this server's lease. */
export class PostgresPresence implements ClusterPresence, PlaceWatcher {
  readonly #sql: Sql;
  /**
   * Claims, releases, the roster's writes and reads, in the order they were
   * made (a claim after the release of the user's last session, a place
   * left after it was entered); the lease's statements go on their own.
   */
  readonly #ordered = new OrderedStatements();
  readonly #options: PostgresPresenceOptions;
  #sessions: NodeSessions | null = null;
  /** Whether this server holds a lease (its claims count). */
  #leased = false;
  #renewing: ReturnType<typeof setInterval> | null = null;
  #watchdog: ReturnType<typeof setTimeout> | null = null;
  #closed = false;
  /** Releases that failed (the database away), by user: tried again at each renewal. */
  readonly #unreleased = new Map<string, number>();
  /** The names this server claimed, with the session that holds each and its devices here. */
  readonly #holding = new Map<string, { session: Session; push: boolean; devices: number }>();

  private constructor(sql: Sql, options: PostgresPresenceOptions) {
    this.#sql = sql;
    this.#options = options;
  }

  /**
   * Connects to the database at `url` (one connection; claims, releases and
   * the roster reach it in the order they were made, see `#ordered`) and
   * takes a lease.
   */
  static async open(url: string, options: PostgresPresenceOptions): Promise<PostgresPresence> {
    const presence = new PostgresPresence(connect(url, 1), options);
    try {
      await presence.#register();
    } catch (error) {
      await presence.#sql.end({ timeout: 1 });
      throw error;
    }
    presence.#renewing = setInterval(() => presence.#renew(), options.leaseMs / 4);
    return presence;
  }

  /** This server's name in the cluster. */
  get node(): string {
    return this.#options.node;
  }

  /** Gives this server's sessions, to close when their names are taken or the lease is lost. */
  attach(sessions: NodeSessions): this {
    this.#sessions = sessions;
    return this;
  }

  async claim(user: string, session: Session, push: boolean, devices = 0): Promise<ClaimStatus> {
    const { link } = this.#options;
    if (!this.#leased) throw new Error("this server holds no lease in the cluster now");
    const answer = await this.#claim(user, session, push, devices, this.#options.replace);
    if (answer === "NO_LEASE") throw new Error("this server's lease in the cluster ran out");
    if (answer === "ALREADY_ONLINE" || answer === "SERVER_FULL") return answer;
    this.#holding.set(user, { session, push, devices });
    if (answer === "TAKEN") {
      link.send({ kind: "change", change: { type: "replaced", user } });
    } else if (answer.startsWith("DEVICE ")) {
      // the oldest device of the user is on that server: it closes it
      link.send({ kind: "change", change: { type: "replaced", user, node: answer.slice(7) } });
    }
    return answer === "REPLACE_OLDEST" ? answer : "OK";
  }

  #claim(
    user: string,
    session: Session,
    push: boolean,
    devices: number,
    replace: boolean,
  ): Promise<string> {
    const { node, maxOnline, maxDevices } = this.#options;
    return this.#inOrder<{ answer: string }[]>`
      SELECT claptrap_claim(${user}, ${node}, ${session.id}, ${session.sink.address}, ${push},
        ${maxOnline}, ${replace}, ${devices}, ${maxDevices}) AS answer`.then(([row]) => row.answer);
  }

  release(user: string, session: Session, devices = 0): void {
    const holding = this.#holding.get(user);
    if (devices > 0 && holding) holding.devices = devices;
    else if (holding?.session === session) this.#holding.delete(user);
    this.#release(user, session.id, devices);
  }

  #release(user: string, session: number, devices = 0): void {
    const { node } = this.#options;
    this.#inOrder`SELECT claptrap_release(${user}, ${node}, ${session}, ${devices})`.catch(() => {
      if (this.#leased && devices === 0) this.#unreleased.set(user, session);
    });
  }

  entered(user: string, place: Place): void {
    this.#quietly(this.#inOrder`
      INSERT INTO claptrap_places (name, kind, place)
      SELECT ${user}, ${place.kind}, ${place.name}
      WHERE EXISTS (SELECT 1 FROM claptrap_claims WHERE name = ${user} AND node = ${this.#options.node})
      ON CONFLICT (name, kind, place) DO UPDATE SET since = excluded.since`);
  }

  arrived(user: string, places: readonly Place[]): void {
    if (places.length === 0) return;
    // a device coming online beside others of the user's keeps their order of coming in
    this.#quietly(this.#inOrder`
      INSERT INTO claptrap_places (name, kind, place)
      SELECT ${user}, kind, place
      FROM unnest(${places.map((p) => p.kind)}::text[], ${places.map((p) => p.name)}::text[])
        AS p (kind, place)
      WHERE EXISTS (SELECT 1 FROM claptrap_claims WHERE name = ${user} AND node = ${this.#options.node})
      ON CONFLICT (name, kind, place) DO NOTHING`);
  }

  left(user: string, place: Place): void {
    // whichever server tells it: a user's devices on others leave without telling the roster
    this.#quietly(this.#inOrder`
      DELETE FROM claptrap_places
      WHERE name = ${user} AND kind = ${place.kind} AND place = ${place.name}`);
  }

  async who(): Promise<Whereabouts[]> {
    const rows = await this.#inOrder<
      { name: string; kind: string; place: string; address: string }[]
    >`
      SELECT c.name, coalesce(p.kind, 'idle') AS kind, coalesce(p.place, '') AS place, c.address
      FROM claptrap_claims c
      JOIN claptrap_nodes n ON n.node = c.node AND n.lease_until > clock_timestamp()
      LEFT JOIN LATERAL (
        SELECT kind, place FROM claptrap_places WHERE name = c.name ORDER BY since DESC LIMIT 1
      ) p ON true
      ORDER BY c.since, c.name`;
    return rows.map((row) => ({
      user: row.name,
      place: row.kind as Whereabouts["place"],
      name: row.place,
      address: row.address,
    }));
  }

  async membersOf(place: Place): Promise<string[]> {
    const rows = await this.#inOrder<{ name: string }[]>`
      SELECT p.name FROM claptrap_places p
      WHERE p.kind = ${place.kind} AND p.place = ${place.name} AND EXISTS (
        SELECT 1 FROM claptrap_claims c
        JOIN claptrap_nodes n ON n.node = c.node AND n.lease_until > clock_timestamp()
        WHERE c.name = p.name)
      ORDER BY p.since, p.name`;
    return rows.map((row) => row.name);
  }

  async isOnline(user: string): Promise<boolean> {
    const rows = await this.#inOrder`
      SELECT 1 FROM claptrap_claims c
      JOIN claptrap_nodes n ON n.node = c.node AND n.lease_until > clock_timestamp()
      WHERE c.name = ${user}`;
    return rows.length > 0;
  }

  async serversIn(user: string, place: Place): Promise<string[]> {
    const rows = await this.#inOrder<{ node: string }[]>`
      SELECT c.node FROM claptrap_places p
      JOIN claptrap_claims c ON c.name = p.name
      JOIN claptrap_nodes n ON n.node = c.node AND n.lease_until > clock_timestamp()
      WHERE p.name = ${user} AND p.kind = ${place.kind} AND p.place = ${place.name}
      ORDER BY c.node`;
    return rows.map((row) => row.node);
  }

  async onlineOf(users: readonly string[]): Promise<Set<string>> {
    const rows = await this.#inOrder<{ name: string }[]>`
      SELECT c.name FROM claptrap_claims c
      JOIN claptrap_nodes n ON n.node = c.node AND n.lease_until > clock_timestamp()
      WHERE c.name = ANY(${users as string[]}::text[])`;
    return new Set(rows.map((row) => row.name));
  }

  async pushed(): Promise<number> {
    const [{ count }] = await this.#inOrder<{ count: number }[]>`
      SELECT count(*)::int AS count FROM claptrap_claims c
      JOIN claptrap_nodes n ON n.node = c.node AND n.lease_until > clock_timestamp()
      WHERE c.push`;
    return count;
  }

  /** Gives up the lease (this server's names are free at once) and disconnects. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#renewing !== null) clearInterval(this.#renewing);
    if (this.#watchdog !== null) clearTimeout(this.#watchdog);
    await this.#sql`DELETE FROM claptrap_nodes WHERE node = ${this.#options.node}`.catch(() => {});
    await this.#sql.end({ timeout: 1 });
  }

  /** Takes a new lease, holding no name. */
  async #register(): Promise<void> {
    const { node, leaseMs, log } = this.#options;
    const sentAt = performance.now();
    await this.#sql`SELECT claptrap_register(${node}, ${leaseMs})`;
    this.#leased = true;
    this.#keepUntil(sentAt);
    log(`cluster-lease taken node=${node}`);
  }

  /** Extends the lease; closes the sessions of names taken since; takes a new lease once lost. */
  async #renew(): Promise<void> {
    const { node, leaseMs, log } = this.#options;
    const sentAt = performance.now();
    try {
      if (!this.#leased) return await this.#register();
      const [{ taken }] = await this.#sql<{ taken: string[] | null }[]>`
        SELECT claptrap_renew(${node}, ${leaseMs}) AS taken`;
      if (this.#closed || !this.#leased) return;
      // gone while this server kept it in time: crash recovery emptied the tables
      if (taken === null) return await this.#retake();
      this.#keepUntil(sentAt);
      const unreleased = [...this.#unreleased];
      this.#unreleased.clear();
      for (const [user, session] of unreleased) this.#release(user, session);
      for (const user of taken) this.#sessions?.close(user, REPLACED_ELSEWHERE);
      this.#sessions?.renewed();
    } catch (error) {
      log(`cluster-lease renew-failed ${(error as Error).message}`);
    }
  }

  /**
   * Takes a new lease after the database lost this server's while it was
   * kept in time (crash recovery empties unlogged tables), and claims the
   * names held here again; a session whose name someone else took
   * meanwhile is closed.
   */
  async #retake(): Promise<void> {
    const { node, leaseMs, log } = this.#options;
    const sentAt = performance.now();
    await this.#sql`SELECT claptrap_register(${node}, ${leaseMs})`;
    this.#keepUntil(sentAt);
    this.#unreleased.clear(); // a new lease holds no name
    log(`cluster-lease retaken node=${node} names=${this.#holding.size}`);
    for (const [user, { session, push, devices }] of [...this.#holding]) {
      const answer = await this.#claim(user, session, push, devices, false);
      if (answer !== "OK") {
        this.#holding.delete(user);
        this.#sessions?.close(user, LEASE_LOST);
      }
    }
  }

  /**
   * Closes every session unless the lease is renewed in time: well before
   * it can run out, counted from when the renewal that set it was sent.
   */
  #keepUntil(sentAt: number): void {
    const { leaseMs } = this.#options;
    if (this.#watchdog !== null) clearTimeout(this.#watchdog);
    const left = sentAt + leaseMs * 0.8 - performance.now();
    this.#watchdog = setTimeout(() => this.#lose("it could not be renewed in time"), left);
  }

  /** The lease is lost: every session here is closed; the next renewal takes a new lease. */
  #lose(why: string): void {
    if (!this.#leased || this.#closed) return;
    this.#leased = false;
    this.#unreleased.clear(); // a new lease holds no name
    this.#holding.clear();
    if (this.#watchdog !== null) clearTimeout(this.#watchdog);
    this.#watchdog = null;
    this.#options.log(`cluster-lease lost node=${this.#options.node}: ${why}; closing sessions`);
    this.#sessions?.closeAll(LEASE_LOST);
  }

  /** A statement of `#sql`, run in order with the others (see `#ordered`). */
  #inOrder<T extends readonly object[] = Record<string, unknown>[]>(
    strings: TemplateStringsArray,
    ...values: unknown[]
  ): Promise<T> {
    return this.#ordered.run(() => this.#sql<T>(strings, ...(values as never[])));
  }

  /** Runs a write whose failure only needs logging (this server's lease covers it). */
  #quietly(query: Promise<unknown>): void {
    query.catch((error) =>
      this.#options.log(`cluster-presence write-failed ${(error as Error).message}`)
    );
  }
}
