/**
 * A server's part of a cluster: the PostgreSQL store the servers share
 * (message ids from the database, each commit announced), the link
 * between them — PostgreSQL's LISTEN/NOTIFY unless `--bus` names a Redis —
 * presence across them (claims of names under a lease), and the limits
 * they hold together.
 * The links' modules are named through variables, so that Deno neither
 * resolves nor downloads them (and their npm packages) for a server on
 * SQLite.
 * @module
 */

import type { ClusterLink, SequencedLog } from "../../core/cluster_bus.ts";
import type { FloodLimits } from "../../core/limits/flood_control.ts";
import type { LimitsNode, SharedLimits } from "../../core/limits/shared_limits.ts";
import type { DuplicateLoginPolicy } from "../../core/presence.ts";
import type { ClusterPresence, NodeSessions, PlaceWatcher } from "../../core/presence_claims.ts";
import { StoreError } from "../../store/schema.ts";
import { openStore } from "../../store/open_store.ts";
import type { ChatStore } from "../../store/store.ts";
import { CHANNEL, pendingPayloads } from "./announcements.ts";

const POSTGRES_LINK = "./postgres_link.ts";
const REDIS_LINK = "./redis_link.ts";
const POSTGRES_PRESENCE = "./postgres_presence.ts";
const POSTGRES_LIMITS = "./postgres_limits.ts";

/** Presence across the servers (see postgres_presence.ts), leased already. */
export interface NodePresence extends ClusterPresence, PlaceWatcher {
  /** Gives this server's sessions, to close when their names are taken or the lease lost. */
  attach(sessions: NodeSessions): NodePresence;
  /** Gives up the lease and disconnects. */
  close(): Promise<void>;
}

/** The limits the servers hold together (see postgres_limits.ts). */
export interface NodeLimits extends SharedLimits {
  /** Takes the chat's flood limits, and has it share what its users spend. */
  attach(limits: FloodLimits, node: LimitsNode): NodeLimits;
  /** Stops sharing and disconnects. */
  close(): Promise<void>;
}

/** What a server of a cluster runs on. */
export interface ClusterNode {
  /** This server's name on the link (random, made at start). */
  readonly node: string;
  /** The shared store. */
  readonly store: ChatStore & SequencedLog;
  /** The link to the other servers, not started yet. */
  readonly link: ClusterLink;
  /** Who is online on which server. */
  readonly presence: NodePresence;
  /** The limits held with the other servers. */
  readonly limits: NodeLimits;
}

/** Options of {@link openCluster}. */
export interface ClusterOptions {
  /** `postgres` (default) or a `redis://` URL. */
  bus?: string;
  /** Most writes per commit. */
  maxBatch?: number;
  /** How long a message waits for others to share its commit, in ms (see `PostgresStoreOptions`). */
  batchWaitMs?: number;
  /** Most users online at once on all servers together. */
  maxOnline: number;
  /** What a login of a user online on another server does. */
  duplicateLogin: DuplicateLoginPolicy;
  /** Most 2.1 sessions (devices) of one user on all servers together. */
  maxDevices: number;
  /** How long a server's claims outlast its last renewal, in milliseconds. */
  leaseMs: number;
  log: (line: string) => void;
}

/** Whether `bus` names a Redis server. */
function isRedisUrl(bus: string): boolean {
  return /^rediss?:\/\//i.test(bus);
}

/**
 * Opens the shared store at the `postgres://` URL `db` and makes the link.
 * @throws {StoreError} when the store cannot be opened, or `bus` is
 * neither `postgres` nor a `redis://` URL.
 */
export async function openCluster(db: string, options: ClusterOptions): Promise<ClusterNode> {
  const bus = options.bus ?? "postgres";
  if (bus !== "postgres" && !isRedisUrl(bus)) {
    throw new StoreError(`--bus takes postgres or a redis:// URL, not ${JSON.stringify(bus)}`);
  }
  const node = crypto.randomUUID().slice(0, 8);
  const store = await openStore(db, {
    maxBatch: options.maxBatch,
    batchWaitMs: options.batchWaitMs,
    assignIds: true,
    announce: bus === "postgres"
      ? { channel: CHANNEL, payloads: (messages) => pendingPayloads(node, messages) }
      : undefined,
  }) as ChatStore & SequencedLog;
  try {
    const link: ClusterLink = bus === "postgres"
      ? new (await import(POSTGRES_LINK)).PostgresLink(db, node, store, options.log)
      : new (await import(REDIS_LINK)).RedisLink(bus, node, options.log);
    const presence: NodePresence = await (await import(POSTGRES_PRESENCE)).PostgresPresence.open(
      db,
      {
        node,
        maxOnline: options.maxOnline,
        replace: options.duplicateLogin === "replace",
        maxDevices: options.maxDevices,
        leaseMs: options.leaseMs,
        link,
        log: options.log,
      },
    );
    const limits: NodeLimits = new (await import(POSTGRES_LIMITS)).PostgresLimits(db, {
      node,
      log: options.log,
    });
    return { node, store, link, presence, limits };
  } catch (error) {
    await store.close();
    throw new StoreError(`cannot make the cluster's link: ${(error as Error).message}`);
  }
}
