/**
 * Connections to PostgreSQL through the `postgres` npm package, pinned.
 * Only the PostgreSQL store imports this file, and the server imports that
 * store only when a `postgres://` database is asked for (see
 * server/open_store.ts), so that a default start fetches no package.
 * @module
 */

// pinned here, not in deno.json: only this optional store needs it (tests/deno.lock locks it)
// deno-lint-ignore no-import-prefix
import postgres from "npm:postgres@3.4.10";

/** A pool of connections (one connection when opened with `max: 1`). */
export type Sql = postgres.Sql;

/** An error PostgreSQL answered with. */
export const PostgresError = postgres.PostgresError;

/** How long a connection attempt may take before it fails (seconds). */
const CONNECT_TIMEOUT_S = 5;

/**
 * Seconds between attempts to connect again. The package's own delay grows
 * with each failure up to 20 s, and a request waits for it: while
 * PostgreSQL was down, requests took up to that long to fail, and as long
 * to work again once it was back.
 */
const RECONNECT_DELAY_S = 0.2;

/** What a connection tells as it goes (see {@link connect}). */
export interface ConnectionWatch {
  /** A NOTIFY on a channel the session listens on. */
  notified(channel: string, payload: string): void;
  /** The connection closed, for whatever reason. */
  closed(): void;
}

/**
 * Connections to the database at `url` (a `postgres://` or `postgresql://`
 * URL; what it leaves out comes from PGHOST, PGUSER, PGPASSWORD, …), at
 * most `max` at once. Connections are made when first needed and made
 * again after they are lost. `bigint` columns arrive as numbers (ids and
 * times stay below 2^53). `settings` are PostgreSQL settings for each
 * connection's session. Watched connections (`watch`) are kept for good
 * rather than replaced now and then, as a session's LISTEN would go with
 * them.
 */
export function connect(
  url: string,
  max: number,
  settings: Record<string, string> = {},
  watch?: ConnectionWatch,
): Sql {
  return postgres(url, {
    max,
    connect_timeout: CONNECT_TIMEOUT_S,
    backoff: () => RECONNECT_DELAY_S,
    onnotice: () => {},
    ...(watch && {
      max_lifetime: null,
      onnotify: (channel: string, payload: string) => watch.notified(channel, payload),
      onclose: () => watch.closed(),
    }),
    types: {
      bigint: {
        to: 20,
        from: [20],
        serialize: (value: number) => String(value),
        parse: (value: string) => Number(value),
      },
    },
    connection: { application_name: "claptrap", ...settings },
  });
}

/**
 * Whether `error` is PostgreSQL refusing one statement, its session going
 * on (severity ERROR). Anything else — the connection lost, the server
 * shutting down (FATAL), a timeout — leaves the transaction in flight
 * behind: rolled back unless its COMMIT had been sent.
 */
export function isStatementError(error: unknown): boolean {
  return error instanceof PostgresError && error.severity === "ERROR";
}

/** Whether `error` is a `NOWAIT` lock request refused because another transaction holds the lock. */
export function isLockBusy(error: unknown): boolean {
  return error instanceof PostgresError && error.code === "55P03";
}

/** Errors of a connection that was never made: whatever waited for it was never sent. */
const CONNECT_ERRORS = new Set([
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "57P03", // the database system is starting up (or shutting down)
  "28P01", // password authentication failed
  "28000",
  "3D000", // no such database
]);

/** Whether `error` says the connection could not be made, so that the statement waiting for it was never sent. */
export function neverSent(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && CONNECT_ERRORS.has(code);
}
