/**
 * The migration of stored direct conversations to the names that
 * {@link directRoomName} gives now. Before, a conversation was named
 * `a ↔ b` with nothing escaped, so the users `a ↔ b` and `c` shared one
 * with the users `a` and `b ↔ c`: their messages and memberships are
 * split by sender and member here.
 * @module
 */

import type { DatabaseSync } from "node:sqlite";
import { directRoomName } from "../protocol/direct_room_name.ts";

const SEPARATOR = " ↔ ";

/**
 * The pairs of users (in the order the old name put them) that an old
 * direct conversation's name may stand for.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { oldDirectPairs } from "./direct_rooms.ts";
 * assert.deepEqual(oldDirectPairs("ann ↔ bob"), [["ann", "bob"]]);
 * assert.deepEqual(oldDirectPairs("a ↔ b ↔ c"), [["a", "b ↔ c"], ["a ↔ b", "c"]]);
 * ```
 */
export function oldDirectPairs(name: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (let at = name.indexOf(SEPARATOR); at !== -1; at = name.indexOf(SEPARATOR, at + 1)) {
    const [a, b] = [name.slice(0, at), name.slice(at + SEPARATOR.length)];
    if (a < b) pairs.push([a, b]);
  }
  return pairs;
}

/**
 * Renames every direct conversation whose name is not what
 * {@link directRoomName} gives for its users, splitting one that several
 * pairs of users shared: each message goes with its sender's pair, each
 * membership with its user's (what fits no pair goes with the first).
 * Call inside a transaction.
 */
export function renameDirectRooms(db: DatabaseSync): void {
  const rooms = (db.prepare("SELECT id, name, created_at FROM rooms WHERE kind = 'direct'")
    .all() as { id: number; name: string; created_at: number }[])
    .map((room) => ({ ...room, pairs: oldDirectPairs(room.name) }))
    .filter(({ name, pairs }) =>
      pairs.length > 1 || (pairs.length === 1 && directRoomName(...pairs[0]) !== name)
    );
  // out of the way first, so that a new name never lands on an old room of another pair
  const park = db.prepare("UPDATE rooms SET name = ? WHERE id = ?");
  for (const room of rooms) park.run(`\u0000${room.id}`, room.id);
  const create = db.prepare(
    "INSERT OR IGNORE INTO rooms (kind, name, created_by, created_at) VALUES ('direct', ?, NULL, ?)",
  );
  const idOf = db.prepare("SELECT id FROM rooms WHERE kind = 'direct' AND name = ?");
  const moveMessages = db.prepare(
    "UPDATE messages SET room_id = ? WHERE room_id = ? AND (? OR sender IN (?, ?))",
  );
  const copyMembers = db.prepare(
    `INSERT OR IGNORE INTO memberships (room_id, user, role, since, joined_after)
     SELECT ?, user, role, since, joined_after FROM memberships
     WHERE room_id = ? AND (? OR user IN (?, ?))`,
  );
  const dropMembers = db.prepare(
    "DELETE FROM memberships WHERE room_id = ? AND (? OR user IN (?, ?))",
  );
  for (const room of rooms) {
    // the first pair last: it takes whatever is left
    for (const [i, [a, b]] of [...room.pairs.entries()].reverse()) {
      const name = directRoomName(a, b);
      create.run(name, room.created_at);
      const { id } = idOf.get(name) as { id: number };
      const rest = i === 0 ? 1 : 0;
      moveMessages.run(id, room.id, rest, a, b);
      copyMembers.run(id, room.id, rest, a, b);
      dropMembers.run(room.id, rest, a, b);
    }
    db.prepare("DELETE FROM rooms WHERE id = ?").run(room.id);
  }
}
