/**
 * How a direct conversation between two users is named, and how the two
 * users are read back from that name. Pure, and small enough for the web
 * page's bundle.
 * @module
 */

/** A user name inside a direct conversation's name: `\` and `↔` get a `\` before them. */
function escapeParticipant(name: string): string {
  return name.replace(/[\\↔]/g, "\\$&");
}

/**
 * The name of the direct conversation of two users, the same whoever
 * writes first: `ann ↔ bob`. A `↔` or `\` in a user name is escaped with
 * a `\`, so that no two pairs of users share a name (`a ↔ b` and `c`
 * give `a \↔ b ↔ c`; `a` and `b ↔ c` give `a ↔ b \↔ c`). The one function
 * that names a direct conversation.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { directRoomName } from "./direct_room_name.ts";
 * assert.equal(directRoomName("bob", "ann"), "ann ↔ bob");
 * assert.notEqual(directRoomName("a ↔ b", "c"), directRoomName("a", "b ↔ c"));
 * ```
 */
export function directRoomName(a: string, b: string): string {
  const [first, second] = a < b ? [a, b] : [b, a];
  return `${escapeParticipant(first)} ↔ ${escapeParticipant(second)}`;
}

/**
 * The two users of a direct conversation, from the name
 * {@link directRoomName} gave it; null for a name it cannot have given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { directRoomName, directRoomUsers } from "./direct_room_name.ts";
 * assert.deepEqual(directRoomUsers(directRoomName("c", "a ↔ b")), ["a ↔ b", "c"]);
 * assert.equal(directRoomUsers("lobby"), null);
 * ```
 */
export function directRoomUsers(room: string): [string, string] | null {
  const users: string[] = [];
  let current = "";
  for (let i = 0; i < room.length; i++) {
    const char = room[i];
    if (char === "\\") {
      if (i + 1 === room.length) return null;
      current += room[++i];
    } else if (char === "↔") {
      // an unescaped arrow only ever stands between the two names, with a space each side
      if (!current.endsWith(" ") || room[i + 1] !== " ") return null;
      users.push(current.slice(0, -1));
      current = "";
      i++;
    } else {
      current += char;
    }
  }
  users.push(current);
  return users.length === 2 && users[0] !== "" && users[1] !== "" ? [users[0], users[1]] : null;
}
