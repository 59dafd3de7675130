/**
 * The PostgreSQL schema as a list of forward migrations, applied by the
 * first node that opens the database (under an advisory lock, so that
 * nodes starting together apply each one once). `claptrap_schema` records
 * how many have been applied.
 * @module
 */

import { StoreError } from "../schema.ts";
import type { Sql } from "./connection.ts";

/**
 * A room's `last_block` is its `last_id` shifted right by this many bits
 * (schema 13): the comparisons find the rooms with messages since an id
 * through its index.
 */
export const LAST_BLOCK_BITS = 10;

/**
 * How `claptrap_number` moves a room's row on to its largest new id `top`
 * since schema 13 (see {@link numberingFunction}).
 */
function lastIdAndBlock(top: string): string {
  return `last_id = greatest(rooms.last_id, ${top}),
         last_block = greatest(rooms.last_block, ${top} >> ${LAST_BLOCK_BITS})`;
}

/**
 * How `claptrap_number` numbers a batch of one room (schema 14): its
 * variables, and the statements that come after the writer's lock.
 */
const ONE_ROOM = {
  declare: `DECLARE
     v_room bigint;
     v_seq bigint;
     v_count integer;
     v_top bigint;
   `,
  first: `
     IF cardinality(p_names) = 1 THEN
       SELECT r.id, r.last_seq INTO v_room, v_seq FROM rooms r
         WHERE r.kind = p_kinds[1] AND r.name = p_names[1] FOR NO KEY UPDATE;
       IF NOT FOUND THEN RETURN; END IF;
       v_count := cardinality(p_rooms);
       RETURN QUERY SELECT (k - 1)::integer, v_room, v_seq + k,
           CASE WHEN p_take_ids THEN nextval('message_ids') ELSE p_given[k] END
         FROM generate_series(1, v_count) AS k;
       -- the ids taken increase: the last is the largest
       v_top := CASE WHEN p_take_ids THEN currval('message_ids')
         ELSE (SELECT max(g) FROM unnest(p_given) AS g) END;
       UPDATE rooms SET last_seq = v_seq + v_count, ${lastIdAndBlock("v_top")}
         WHERE rooms.id = v_room;
       RETURN;
     END IF;`,
};

/** Each entry moves the schema from version i to i + 1. */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  // 1: everything the SQLite schema holds at its version 9, plus what a
  // cluster of servers needs: each room's messages numbered 1, 2, … in
  // commit order (seq, with the room's last_seq), and a trigram index for
  // search (pg_trgm is a trusted extension: the database's owner may create
  // it). Times are milliseconds since the epoch, as the records have them.
  `CREATE EXTENSION IF NOT EXISTS pg_trgm;
   CREATE TABLE accounts (
     name text PRIMARY KEY,
     name_key text NOT NULL,
     name_skeleton text NOT NULL,
     password_hash text NOT NULL,
     source text NOT NULL CHECK (source IN ('globals', 'registered')),
     disabled boolean NOT NULL DEFAULT false,
     created_at bigint NOT NULL
   );
   CREATE INDEX accounts_by_key ON accounts (name_key);
   CREATE INDEX accounts_by_skeleton ON accounts (name_skeleton);
   CREATE TABLE settings (
     name text PRIMARY KEY,
     value text NOT NULL
   );
   CREATE TABLE rooms (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     kind text NOT NULL CHECK (kind IN ('room', 'group', 'direct')),
     name text NOT NULL,
     created_by text,
     created_at bigint NOT NULL,
     last_seq bigint NOT NULL DEFAULT 0,
     UNIQUE (kind, name)
   );
   CREATE TABLE messages (
     id bigint PRIMARY KEY,
     room_id bigint NOT NULL REFERENCES rooms (id),
     seq bigint NOT NULL,
     sender text NOT NULL,
     time bigint NOT NULL,
     content text NOT NULL,
     UNIQUE (room_id, seq)
   );
   CREATE INDEX messages_by_room ON messages (room_id, id);
   CREATE INDEX messages_trigrams ON messages USING gin (content gin_trgm_ops);
   CREATE TABLE memberships (
     room_id bigint NOT NULL REFERENCES rooms (id),
     "user" text NOT NULL,
     role text NOT NULL CHECK (role IN ('owner', 'member')),
     since bigint NOT NULL,
     joined_after bigint NOT NULL DEFAULT 0,
     PRIMARY KEY ("user", room_id)
   );
   CREATE TABLE bans (
     room_id bigint NOT NULL REFERENCES rooms (id),
     "user" text NOT NULL,
     banned_by text NOT NULL,
     reason text NOT NULL,
     time bigint NOT NULL,
     PRIMARY KEY (room_id, "user")
   );`,
  // 2: message ids from the database, for servers that share it (the
  // store's assignIds), going on from the highest stored one
  `CREATE SEQUENCE message_ids AS bigint OWNED BY messages.id;
   SELECT setval('message_ids', max(id)) FROM messages HAVING max(id) IS NOT NULL;`,
  // 3: protocol 2.1, as the SQLite schema's version 10: belonging to a room
  // (since when; 0 for not) apart from having been in it; each member's
  // read position, where what was there before counts as read; the users
  // each message mentions (by user for mention counts; by message, in the
  // order the text mentions them, for the cluster's gap fills); sign-in
  // tokens, as SHA-256 hashes, with their last use.
  `ALTER TABLE memberships ADD COLUMN belongs_since bigint NOT NULL DEFAULT 0,
     ADD COLUMN read_up_to bigint NOT NULL DEFAULT 0;
   UPDATE memberships SET read_up_to = last.id
   FROM (SELECT room_id, max(id) AS id FROM messages GROUP BY room_id) AS last
   WHERE last.room_id = memberships.room_id;
   CREATE TABLE mentions (
     "user" text NOT NULL,
     room_id bigint NOT NULL REFERENCES rooms (id),
     message_id bigint NOT NULL,
     nth smallint NOT NULL,
     PRIMARY KEY ("user", room_id, message_id)
   );
   CREATE INDEX mentions_by_message ON mentions (room_id, message_id, nth) INCLUDE ("user");
   CREATE TABLE tokens (
     hash text PRIMARY KEY,
     "user" text NOT NULL,
     created_at bigint NOT NULL,
     used_at bigint NOT NULL
   );
   CREATE INDEX tokens_by_user ON tokens ("user", used_at);
   CREATE INDEX tokens_by_use ON tokens (used_at);`,
  // 4: presence across servers (server/cluster/postgres_presence.ts), in
  // unlogged tables (no WAL, no fsync; emptied by crash recovery, which
  // ends every lease): each server's lease and how many names it holds,
  // each online name's claim, the places its session is in, and the names
  // a replacing login took from a server (told to it when it renews).
  // Claims are taken one at a time, under an advisory lock, so that
  // MAX_ONLINE holds across servers.
  `CREATE UNLOGGED TABLE claptrap_nodes (
     node text PRIMARY KEY,
     lease_until timestamptz NOT NULL,
     online integer NOT NULL DEFAULT 0
   );
   CREATE UNLOGGED TABLE claptrap_claims (
     name text PRIMARY KEY,
     node text NOT NULL REFERENCES claptrap_nodes (node) ON DELETE CASCADE,
     session bigint NOT NULL,
     address text NOT NULL,
     push boolean NOT NULL,
     since timestamptz NOT NULL DEFAULT clock_timestamp()
   );
   CREATE INDEX claptrap_claims_by_node ON claptrap_claims (node);
   CREATE UNLOGGED TABLE claptrap_places (
     name text NOT NULL REFERENCES claptrap_claims (name) ON DELETE CASCADE,
     kind text NOT NULL,
     place text NOT NULL,
     since timestamptz NOT NULL DEFAULT clock_timestamp(),
     PRIMARY KEY (name, kind, place)
   );
   CREATE INDEX claptrap_places_by_place ON claptrap_places (kind, place);
   CREATE UNLOGGED TABLE claptrap_taken (
     node text NOT NULL REFERENCES claptrap_nodes (node) ON DELETE CASCADE,
     name text NOT NULL
   );
   CREATE FUNCTION claptrap_register(p_node text, p_lease_ms integer) RETURNS void
   LANGUAGE plpgsql AS $$
   BEGIN
     DELETE FROM claptrap_nodes WHERE node = p_node;
     INSERT INTO claptrap_nodes (node, lease_until)
       VALUES (p_node, clock_timestamp() + p_lease_ms * interval '1 millisecond');
   END $$;
   CREATE FUNCTION claptrap_renew(p_node text, p_lease_ms integer) RETURNS text[]
   LANGUAGE plpgsql AS $$
   DECLARE
     taken text[];
   BEGIN
     UPDATE claptrap_nodes SET lease_until = clock_timestamp() + p_lease_ms * interval '1 millisecond'
       WHERE node = p_node AND lease_until > clock_timestamp();
     IF NOT FOUND THEN
       RETURN NULL;
     END IF;
     WITH gone AS (DELETE FROM claptrap_taken WHERE node = p_node RETURNING name)
       SELECT coalesce(array_agg(name), '{}') INTO taken FROM gone;
     DELETE FROM claptrap_nodes WHERE lease_until < clock_timestamp() - interval '1 minute';
     RETURN taken;
   END $$;
   CREATE FUNCTION claptrap_claim(
     p_name text, p_node text, p_session bigint, p_address text, p_push boolean,
     p_max integer, p_replace boolean
   ) RETURNS text
   LANGUAGE plpgsql AS $$
   DECLARE
     holder text;
     live boolean;
     total bigint;
   BEGIN
     PERFORM pg_advisory_xact_lock(1131176305);
     PERFORM 1 FROM claptrap_nodes WHERE node = p_node AND lease_until > clock_timestamp();
     IF NOT FOUND THEN
       RETURN 'NO_LEASE';
     END IF;
     SELECT c.node, n.lease_until > clock_timestamp() INTO holder, live
       FROM claptrap_claims c JOIN claptrap_nodes n ON n.node = c.node WHERE c.name = p_name;
     IF holder = p_node THEN
       UPDATE claptrap_claims SET session = p_session, address = p_address, push = p_push
         WHERE name = p_name;
       RETURN 'OK';
     END IF;
     IF live AND NOT p_replace THEN
       RETURN 'ALREADY_ONLINE';
     END IF;
     IF live IS NOT TRUE THEN
       SELECT coalesce(sum(online), 0) INTO total FROM claptrap_nodes
         WHERE lease_until > clock_timestamp();
       IF total >= p_max THEN
         RETURN 'SERVER_FULL';
       END IF;
     END IF;
     IF holder IS NOT NULL THEN
       DELETE FROM claptrap_claims WHERE name = p_name;
       UPDATE claptrap_nodes SET online = online - 1 WHERE node = holder;
       IF live THEN
         INSERT INTO claptrap_taken VALUES (holder, p_name);
       END IF;
     END IF;
     INSERT INTO claptrap_claims (name, node, session, address, push)
       VALUES (p_name, p_node, p_session, p_address, p_push);
     UPDATE claptrap_nodes SET online = online + 1 WHERE node = p_node;
     RETURN CASE WHEN live THEN 'TAKEN' ELSE 'OK' END;
   END $$;
   CREATE FUNCTION claptrap_release(p_name text, p_node text, p_session bigint) RETURNS void
   LANGUAGE plpgsql AS $$
   BEGIN
     DELETE FROM claptrap_claims WHERE name = p_name AND node = p_node AND session = p_session;
     IF FOUND THEN
       UPDATE claptrap_nodes SET online = online - 1 WHERE node = p_node;
     END IF;
   END $$;`,
  // 5: the limits the servers hold together (server/cluster/postgres_limits.ts),
  // unlogged as presence is: failures per key (an account, an address) with
  // the time of the last, in the servers' milliseconds; login attempts under
  // way per address and server (gone with the server's lease); token
  // buckets per key, with when each will be full again (to sweep them).
  // The policies come with each call; an attempt takes advisory locks of
  // its account and address, so that attempts in parallel count one by one.
  // A failure within the free ones makes no one wait, whatever the servers'
  // clocks say.
  `CREATE UNLOGGED TABLE claptrap_failures (
     key text PRIMARY KEY,
     count integer NOT NULL,
     last bigint NOT NULL
   );
   CREATE UNLOGGED TABLE claptrap_attempts (
     address text NOT NULL,
     node text NOT NULL REFERENCES claptrap_nodes (node) ON DELETE CASCADE,
     count integer NOT NULL,
     PRIMARY KEY (address, node)
   );
   CREATE UNLOGGED TABLE claptrap_buckets (
     key text PRIMARY KEY,
     tokens double precision NOT NULL,
     updated bigint NOT NULL,
     full_at bigint NOT NULL
   );
   CREATE FUNCTION claptrap_delay(p_count integer, p_free integer, p_first bigint, p_max bigint)
   RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
     SELECT CASE WHEN p_count <= p_free THEN 0
       ELSE least(p_max, p_first * power(2, least(p_count - p_free - 1, 30)))::bigint END
   $$;
   CREATE FUNCTION claptrap_failures_of(p_key text, p_now bigint, p_forget bigint)
   RETURNS TABLE (count integer, last bigint) LANGUAGE sql STABLE AS $$
     SELECT coalesce(max(f.count), 0), coalesce(max(f.last), 0) FROM claptrap_failures f
     WHERE f.key = p_key AND p_now - f.last < p_forget
   $$;
   CREATE FUNCTION claptrap_failure_wait(
     p_key text, p_now bigint, p_free integer, p_first bigint, p_max bigint, p_forget bigint
   ) RETURNS bigint LANGUAGE sql STABLE AS $$
     SELECT CASE WHEN d.delay = 0 THEN 0 ELSE greatest(0, f.last + d.delay - p_now) END
     FROM claptrap_failures_of(p_key, p_now, p_forget) f,
       LATERAL (SELECT claptrap_delay(f.count, p_free, p_first, p_max) AS delay) d
   $$;
   CREATE FUNCTION claptrap_failed(p_key text, p_now bigint, p_forget bigint) RETURNS void
   LANGUAGE sql AS $$
     INSERT INTO claptrap_failures AS f (key, count, last) VALUES (p_key, 1, p_now)
     ON CONFLICT (key) DO UPDATE
       SET count = CASE WHEN p_now - f.last >= p_forget THEN 1 ELSE f.count + 1 END,
         last = greatest(f.last, p_now)
   $$;
   CREATE FUNCTION claptrap_login_begin(
     p_account text, p_address text, p_node text, p_now bigint,
     a_free integer, a_first bigint, a_max bigint, a_forget bigint,
     i_free integer, i_first bigint, i_max bigint, i_forget bigint
   ) RETURNS bigint
   LANGUAGE plpgsql AS $$
   DECLARE
     wait bigint;
     failures integer;
     under integer;
   BEGIN
     PERFORM pg_advisory_xact_lock(1131176306, hashtext(p_account));
     PERFORM pg_advisory_xact_lock(1131176307, hashtext(p_address));
     wait := greatest(
       claptrap_failure_wait(p_account, p_now, a_free, a_first, a_max, a_forget),
       claptrap_failure_wait(p_address, p_now, i_free, i_first, i_max, i_forget));
     IF wait > 0 THEN
       RETURN wait;
     END IF;
     SELECT coalesce(sum(a.count), 0) INTO under FROM claptrap_attempts a
       JOIN claptrap_nodes n ON n.node = a.node AND n.lease_until > clock_timestamp()
       WHERE a.address = p_address;
     SELECT f.count INTO failures FROM claptrap_failures_of(p_address, p_now, i_forget) f;
     IF under > 0 AND claptrap_delay(failures + under, i_free, i_first, i_max) > 0 THEN
       RETURN -1;
     END IF;
     PERFORM claptrap_failed(p_account, p_now, a_forget);
     INSERT INTO claptrap_attempts AS a (address, node, count) VALUES (p_address, p_node, 1)
       ON CONFLICT (address, node) DO UPDATE SET count = a.count + 1;
     RETURN 0;
   END $$;
   CREATE FUNCTION claptrap_login_end(
     p_account text, p_address text, p_node text, p_end text, p_now bigint, i_forget bigint
   ) RETURNS void
   LANGUAGE plpgsql AS $$
   BEGIN
     DELETE FROM claptrap_attempts WHERE address = p_address AND node = p_node AND count <= 1;
     UPDATE claptrap_attempts SET count = count - 1 WHERE address = p_address AND node = p_node;
     IF p_end = 'succeeded' THEN
       DELETE FROM claptrap_failures WHERE key = p_account;
     ELSIF p_end = 'failed' THEN
       PERFORM claptrap_failed(p_address, p_now, i_forget);
     ELSE
       DELETE FROM claptrap_failures WHERE key = p_account AND count <= 1;
       UPDATE claptrap_failures SET count = count - 1 WHERE key = p_account;
     END IF;
   END $$;
   CREATE FUNCTION claptrap_take(
     p_key text, p_rate double precision, p_burst double precision, p_now bigint, p_count integer
   ) RETURNS bigint
   LANGUAGE plpgsql AS $$
   DECLARE
     t double precision;
   BEGIN
     INSERT INTO claptrap_buckets AS b (key, tokens, updated, full_at)
       VALUES (p_key, p_burst, p_now, p_now)
     ON CONFLICT (key) DO UPDATE
       SET tokens = least(p_burst, b.tokens + greatest(0, p_now - b.updated) / 1000.0 * p_rate),
         updated = greatest(b.updated, p_now)
     RETURNING tokens INTO t;
     IF p_count > 0 AND t < p_count THEN
       RETURN ceil((p_count - t) / p_rate * 1000);
     END IF;
     t := least(p_burst, t - p_count);
     UPDATE claptrap_buckets
       SET tokens = t, full_at = updated + ceil((p_burst - t) / p_rate * 1000)::bigint
       WHERE key = p_key;
     RETURN 0;
   END $$;`,
  // 6: a user's 2.1 sessions (devices) on several servers: a claim per name
  // and server, with how many devices the server holds (0: one session of
  // 2.0 or the original protocol, which has the name alone). A user counts
  // once towards MAX_ONLINE: by the claim that is `counted` (a server's
  // `online` counts its counted claims), which passes to another server's
  // claim when it goes. Where a user is no longer hangs on one claim: the
  // places go with the name's last claim, or with a server whose lease ran
  // out a minute ago.
  `DROP TABLE claptrap_places;
   DROP TABLE claptrap_claims;
   CREATE UNLOGGED TABLE claptrap_claims (
     name text NOT NULL,
     node text NOT NULL REFERENCES claptrap_nodes (node) ON DELETE CASCADE,
     session bigint NOT NULL,
     address text NOT NULL,
     push boolean NOT NULL,
     devices integer NOT NULL,
     counted boolean NOT NULL,
     since timestamptz NOT NULL DEFAULT clock_timestamp(),
     PRIMARY KEY (name, node)
   );
   CREATE INDEX claptrap_claims_by_node ON claptrap_claims (node);
   CREATE INDEX claptrap_claims_uncounted ON claptrap_claims (node) WHERE NOT counted;
   CREATE UNLOGGED TABLE claptrap_places (
     name text NOT NULL,
     kind text NOT NULL,
     place text NOT NULL,
     since timestamptz NOT NULL DEFAULT clock_timestamp(),
     PRIMARY KEY (name, kind, place)
   );
   CREATE INDEX claptrap_places_by_place ON claptrap_places (kind, place);
   UPDATE claptrap_nodes SET online = 0;
   DROP FUNCTION claptrap_claim(text, text, bigint, text, boolean, integer, boolean);
   DROP FUNCTION claptrap_release(text, text, bigint);
   CREATE FUNCTION claptrap_count_again(p_name text) RETURNS void
   LANGUAGE plpgsql AS $$
   DECLARE
     heir text;
   BEGIN
     PERFORM 1 FROM claptrap_claims c JOIN claptrap_nodes n ON n.node = c.node
       WHERE c.name = p_name AND c.counted AND n.lease_until > clock_timestamp();
     IF FOUND THEN
       RETURN;
     END IF;
     UPDATE claptrap_claims c SET counted = true
       FROM claptrap_nodes n
       WHERE c.name = p_name AND n.node = c.node AND n.lease_until > clock_timestamp()
         AND c.node = (SELECT min(o.node) FROM claptrap_claims o JOIN claptrap_nodes m
           ON m.node = o.node AND m.lease_until > clock_timestamp() WHERE o.name = p_name)
       RETURNING c.node INTO heir;
     UPDATE claptrap_nodes SET online = online + 1 WHERE node = heir;
   END $$;
   CREATE FUNCTION claptrap_drop_claim(p_name text, p_node text) RETURNS void
   LANGUAGE plpgsql AS $$
   DECLARE
     was_counted boolean;
   BEGIN
     DELETE FROM claptrap_claims WHERE name = p_name AND node = p_node
       RETURNING counted INTO was_counted;
     IF was_counted THEN
       UPDATE claptrap_nodes SET online = online - 1 WHERE node = p_node;
       PERFORM claptrap_count_again(p_name);
     END IF;
     PERFORM 1 FROM claptrap_claims WHERE name = p_name;
     IF NOT FOUND THEN
       DELETE FROM claptrap_places WHERE name = p_name;
     END IF;
   END $$;
   CREATE FUNCTION claptrap_claim(
     p_name text, p_node text, p_session bigint, p_address text, p_push boolean,
     p_max integer, p_replace boolean, p_devices integer, p_max_devices integer
   ) RETURNS text
   LANGUAGE plpgsql AS $$
   DECLARE
     single integer;
     devices integer;
     mine boolean;
     first boolean;
     oldest text;
     total bigint;
     answer text := 'OK';
     other record;
   BEGIN
     PERFORM pg_advisory_xact_lock(1131176305);
     PERFORM 1 FROM claptrap_nodes WHERE node = p_node AND lease_until > clock_timestamp();
     IF NOT FOUND THEN
       RETURN 'NO_LEASE';
     END IF;
     SELECT count(*) FILTER (WHERE c.devices = 0), coalesce(sum(c.devices), 0)
       INTO single, devices
       FROM claptrap_claims c JOIN claptrap_nodes n ON n.node = c.node
       WHERE c.name = p_name AND c.node <> p_node AND n.lease_until > clock_timestamp();
     IF single > 0 OR (devices > 0 AND p_devices = 0) THEN
       -- another server's session and this one may not be online together
       IF NOT p_replace THEN
         RETURN 'ALREADY_ONLINE';
       END IF;
       FOR other IN SELECT c.node FROM claptrap_claims c JOIN claptrap_nodes n ON n.node = c.node
         WHERE c.name = p_name AND c.node <> p_node AND n.lease_until > clock_timestamp()
       LOOP
         INSERT INTO claptrap_taken VALUES (other.node, p_name);
       END LOOP;
       answer := 'TAKEN';
     ELSIF devices + p_devices > p_max_devices THEN
       -- as many devices as one user may have: the oldest server's oldest goes, if any does
       IF NOT p_replace THEN
         RETURN 'ALREADY_ONLINE';
       END IF;
       SELECT c.node INTO oldest FROM claptrap_claims c JOIN claptrap_nodes n ON n.node = c.node
         WHERE c.name = p_name AND n.lease_until > clock_timestamp() AND c.devices > 0
         ORDER BY c.since, c.node LIMIT 1;
       answer := CASE WHEN oldest = p_node THEN 'REPLACE_OLDEST' ELSE 'DEVICE ' || oldest END;
     END IF;
     -- a dead server's claim of the name goes; when taking, every other server's
     FOR other IN SELECT c.node FROM claptrap_claims c JOIN claptrap_nodes n ON n.node = c.node
       WHERE c.name = p_name AND c.node <> p_node
         AND (answer = 'TAKEN' OR n.lease_until <= clock_timestamp())
     LOOP
       PERFORM claptrap_drop_claim(p_name, other.node);
     END LOOP;
     SELECT counted INTO mine FROM claptrap_claims WHERE name = p_name AND node = p_node;
     IF mine IS NULL THEN
       first := NOT EXISTS (SELECT 1 FROM claptrap_claims WHERE name = p_name);
       IF first THEN
         SELECT coalesce(sum(online), 0) INTO total FROM claptrap_nodes
           WHERE lease_until > clock_timestamp();
         IF total >= p_max THEN
           RETURN 'SERVER_FULL';
         END IF;
         UPDATE claptrap_nodes SET online = online + 1 WHERE node = p_node;
       END IF;
       INSERT INTO claptrap_claims (name, node, session, address, push, devices, counted)
         VALUES (p_name, p_node, p_session, p_address, p_push, p_devices, first);
     ELSE
       UPDATE claptrap_claims SET session = p_session, address = p_address, push = p_push,
         devices = p_devices WHERE name = p_name AND node = p_node;
     END IF;
     RETURN answer;
   END $$;
   CREATE FUNCTION claptrap_release(
     p_name text, p_node text, p_session bigint, p_devices integer
   ) RETURNS void
   LANGUAGE plpgsql AS $$
   BEGIN
     IF p_devices > 0 THEN
       UPDATE claptrap_claims SET devices = p_devices
         WHERE name = p_name AND node = p_node AND devices > 0;
       RETURN;
     END IF;
     -- a device's claim goes with the last device here; a single session's only with it
     PERFORM 1 FROM claptrap_claims WHERE name = p_name AND node = p_node
       AND (session = p_session OR devices > 0);
     IF FOUND THEN
       PERFORM claptrap_drop_claim(p_name, p_node);
     END IF;
   END $$;
   CREATE OR REPLACE FUNCTION claptrap_renew(p_node text, p_lease_ms integer) RETURNS text[]
   LANGUAGE plpgsql AS $$
   DECLARE
     taken text[];
     orphan record;
   BEGIN
     UPDATE claptrap_nodes SET lease_until = clock_timestamp() + p_lease_ms * interval '1 millisecond'
       WHERE node = p_node AND lease_until > clock_timestamp();
     IF NOT FOUND THEN
       RETURN NULL;
     END IF;
     WITH gone AS (DELETE FROM claptrap_taken WHERE node = p_node RETURNING name)
       SELECT coalesce(array_agg(name), '{}') INTO taken FROM gone;
     -- a user counted by a server whose lease ran out is counted here
     FOR orphan IN SELECT c.name FROM claptrap_claims c
       WHERE c.node = p_node AND NOT c.counted
     LOOP
       PERFORM claptrap_count_again(orphan.name);
     END LOOP;
     DELETE FROM claptrap_nodes WHERE lease_until < clock_timestamp() - interval '1 minute';
     IF FOUND THEN
       DELETE FROM claptrap_places p
         WHERE NOT EXISTS (SELECT 1 FROM claptrap_claims c WHERE c.name = p.name);
     END IF;
     RETURN taken;
   END $$;`,
  // 7: each writer's latest transaction (a store's writer, while it is
  // open, by a random id): a transaction sets it to its own number, so
  // that after a lost COMMIT the row says whether it committed (a
  // transaction id cannot: one whose WAL a crash lost is given out again).
  `CREATE TABLE claptrap_writers (
     id text PRIMARY KEY,
     transaction bigint NOT NULL,
     at timestamptz NOT NULL
   );`,
  // 8: notes between servers too large for a NOTIFY payload (a direct
  // message or a notice of thousands of characters): the NOTIFY carries
  // the row's id and the listeners read it (server/cluster/postgres_link.ts);
  // a row is swept a minute later. Unlogged, as the NOTIFY itself is lost
  // in a crash.
  `CREATE UNLOGGED TABLE claptrap_notes (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     payload text NOT NULL,
     at timestamptz NOT NULL DEFAULT now()
   );
   CREATE INDEX claptrap_notes_by_time ON claptrap_notes (at);`,
  // 9: each room's latest message id, so that the servers of a cluster
  // compare only the rooms with messages since a point with what they
  // delivered, not every room every second (core/cluster_bus.ts).
  `ALTER TABLE rooms ADD COLUMN last_id bigint NOT NULL DEFAULT 0;
   UPDATE rooms SET last_id = m.last
     FROM (SELECT room_id, max(id) AS last FROM messages GROUP BY room_id) AS m
     WHERE m.room_id = rooms.id;
   CREATE INDEX rooms_by_last_id ON rooms (last_id);`,
  // 10: a batch of messages commits in one statement, which also sets the
  // writer's row; the row keeps what it stored (each message's place in
  // the batch, id and sequence number), read when that statement's answer
  // was lost (store/postgres/postgres_store.ts).
  `ALTER TABLE claptrap_writers ADD COLUMN stored bigint[];`,
  // 11: a batch's messages are numbered in a function of their own. A
  // room's row locked in the batch's statement, when another server's batch
  // had changed it meanwhile, had PostgreSQL set up that whole statement's
  // plan again to recheck it (EvalPlanQual): a quarter of a writer's CPU
  // with three servers posting to one room. Here the rooms are locked by a
  // statement alone, and the next statements, with a snapshot taken after
  // the locks, read and move each room's row as it now is. The writer's
  // advisory lock comes first (see #resolveOutcome in postgres_store.ts);
  // rooms' rows in id order, so that two servers never deadlock; then the
  // ids, so that a room's ids increase in its sequence order.
  numberingFunction("CREATE", "last_id = greatest(rooms.last_id, x.id)"),
  // 12: the operators' notes (a KICK, a BROADCAST from the console), kept
  // for a minute for the servers whose link lost them (core/cluster_bus.ts);
  // unlogged, as a NOTIFY is lost in a crash too.
  `CREATE UNLOGGED TABLE claptrap_operator_notes (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     note text NOT NULL,
     at timestamptz NOT NULL DEFAULT now()
   );
   CREATE INDEX claptrap_operator_notes_by_time ON claptrap_operator_notes (at);`,
  // 13: every batch moves its rooms' rows on. With an index on a column it
  // changes (last_id, for the comparisons), each move was a new version of
  // the row with new entries in all three of its indexes, the old one dead
  // until autovacuum: 10,367 moves of one room's row (24 s of posts at
  // 1,500 messages a second on three servers) left its table at 296 KiB
  // instead of 8, which each numbering then read through. Now the index is
  // on last_block (last_id with its low 10 bits cut off), which changes
  // once per 1,024 ids, and a move changes no indexed column otherwise: a
  // HOT update, the old version pruned on its page.
  `ALTER TABLE rooms ADD COLUMN last_block bigint NOT NULL DEFAULT 0;
   UPDATE rooms SET last_block = last_id >> ${LAST_BLOCK_BITS};
   DROP INDEX rooms_by_last_id;
   CREATE INDEX rooms_by_last_block ON rooms (last_block);
   ${numberingFunction("CREATE OR REPLACE", lastIdAndBlock("x.id"))}`,
  // 14: a batch of one room (nearly every batch) is numbered by three
  // simple statements: the room's row locked and read as it now is, the
  // ids taken in order, the row moved on. The statements for any number
  // of rooms (a window function, two joins, an aggregate) set up larger
  // plans at every batch. Batches of several rooms are numbered as before.
  numberingFunction("CREATE OR REPLACE", lastIdAndBlock("x.id"), ONE_ROOM),
];

/**
 * The function that numbers a batch's messages (schema 11; 13 made again
 * with `last_block`; 14 with `oneRoom`), moving its rooms' rows on with
 * `lastId` beside `last_seq`.
 */
function numberingFunction(
  create: "CREATE" | "CREATE OR REPLACE",
  lastId: string,
  oneRoom = { declare: "", first: "" },
): string {
  return `${create} FUNCTION claptrap_number(
     p_lock_class integer, p_writer text, p_kinds text[], p_names text[],
     p_rooms integer[], p_given bigint[], p_take_ids boolean
   ) RETURNS TABLE (i integer, room_id bigint, seq bigint, id bigint)
   LANGUAGE plpgsql AS $$
   ${oneRoom.declare}BEGIN
     PERFORM pg_advisory_xact_lock(p_lock_class, hashtext(p_writer));${oneRoom.first}
     PERFORM FROM rooms r JOIN unnest(p_kinds, p_names) AS w(kind, name)
       ON r.kind = w.kind AND r.name = w.name
       ORDER BY r.id FOR NO KEY UPDATE OF r;
     RETURN QUERY
     WITH numbered AS MATERIALIZED (
       SELECT (m.i - 1)::integer AS i, r.id AS room_id, m.given,
         r.last_seq + row_number() OVER (PARTITION BY r.id ORDER BY m.i) AS seq
       FROM unnest(p_rooms, p_given) WITH ORDINALITY AS m(room, given, i)
         JOIN unnest(p_kinds, p_names) WITH ORDINALITY AS w(kind, name, i) ON w.i = m.room + 1
         JOIN rooms r ON r.kind = w.kind AND r.name = w.name),
     identified AS MATERIALIZED (
       SELECT n.i, n.room_id, n.seq,
         CASE WHEN p_take_ids THEN nextval('message_ids') ELSE n.given END AS id
       FROM (SELECT * FROM numbered ORDER BY numbered.i) AS n),
     moved_on AS (
       UPDATE rooms SET last_seq = x.seq, ${lastId}
       FROM (SELECT d.room_id, max(d.seq) AS seq, max(d.id) AS id
             FROM identified d GROUP BY d.room_id) AS x
       WHERE rooms.id = x.room_id)
     SELECT d.i, d.room_id, d.seq, d.id FROM identified d;
   END $$;`;
}

/** The schema version this code writes. */
export const POSTGRES_SCHEMA_VERSION = POSTGRES_MIGRATIONS.length;

/** Any number: the advisory lock that nodes take to migrate one at a time. */
const MIGRATION_LOCK = 0x436c6170; // "Clap"

/**
 * Brings the database up to {@link POSTGRES_SCHEMA_VERSION}, all pending
 * migrations in one transaction. `upTo` stops earlier (for tests).
 * @throws {StoreError} when the database is newer than this code, or
 * cannot hold and search what Claptrap stores (not UTF-8).
 */
export async function migratePostgres(
  sql: Sql,
  where: string,
  upTo = POSTGRES_SCHEMA_VERSION,
): Promise<void> {
  const [{ encoding, ctype }] = await sql.unsafe<{ encoding: string; ctype: string }[]>(
    `SELECT pg_encoding_to_char(encoding) AS encoding, datctype AS ctype
     FROM pg_database WHERE datname = current_database()`,
  );
  // under a ctype that is not UTF-8, pg_trgm takes no Chinese character for a letter
  if (encoding !== "UTF8" || !/utf-?8/i.test(ctype)) {
    throw new StoreError(
      `${where} has the encoding ${encoding} and LC_CTYPE ${ctype}; Claptrap needs UTF8 and a UTF-8 LC_CTYPE (createdb --encoding UTF8 --locale C.UTF-8 --template template0 NAME)`,
    );
  }
  await sql.unsafe("BEGIN");
  try {
    await sql.unsafe("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await sql.unsafe(
      "CREATE TABLE IF NOT EXISTS claptrap_schema (one int PRIMARY KEY CHECK (one = 1), version int NOT NULL)",
    );
    const rows = await sql.unsafe<{ version: number }[]>("SELECT version FROM claptrap_schema");
    const version = rows[0]?.version ?? 0;
    if (version > POSTGRES_SCHEMA_VERSION) {
      throw new StoreError(
        `${where} was written by a newer Claptrap (schema version ${version}; this one knows up to ${POSTGRES_SCHEMA_VERSION})`,
      );
    }
    for (let v = version; v < upTo; v++) await sql.unsafe(POSTGRES_MIGRATIONS[v]);
    if (upTo > version) {
      await sql.unsafe(
        `INSERT INTO claptrap_schema VALUES (1, $1)
         ON CONFLICT (one) DO UPDATE SET version = excluded.version`,
        [upTo],
      );
    }
    await sql.unsafe("COMMIT");
  } catch (error) {
    await sql.unsafe("ROLLBACK").catch(() => {});
    throw error;
  }
}
