/**
 * The room list of `RESP_LIST_ROOMS`, which comes in pages: reading one
 * page, and reading page after page until the last. Pure: the pages come
 * from a function the caller gives.
 * @module
 */

import { parseCounts, splitLines } from "./content.ts";
import type { Message } from "./message.ts";

/** A room as listed, with the number of users in it. */
export interface ListedRoom {
  /** The room's name. */
  name: string;
  /** Users in it when it was listed. */
  members: number;
}

/** One page of the room list. */
export interface RoomPage {
  /** The rooms of the page, in the server's order. */
  rooms: ListedRoom[];
  /** Whether rooms follow the last of this page (`More: yes`). */
  more: boolean;
}

/**
 * Reads one `RESP_LIST_ROOMS` page: the names of its content with the
 * counts of its `Member-Counts`, and its `More`.
 * @throws {SyntaxError} for a malformed `Member-Counts`.
 */
export function parseRoomPage(response: Message): RoomPage {
  const counts = parseCounts(response.params["Member-Counts"]);
  const rooms = splitLines(response.content ?? "").map((name, i) => ({
    name,
    members: counts[i] ?? 0,
  }));
  return { rooms, more: response.params.More === "yes" };
}

/**
 * Reads the room list page by page: `fetchPage` sends `LIST_ROOMS` (with
 * `After` when it is given a name) and resolves to the OK response. Stops
 * after the page that says no more follow, or after `maxPages` pages.
 *
 * @returns the rooms, and whether the list is complete (false when
 * `maxPages` cut it short).
 *
 * @example Two pages
 * ```ts
 * import assert from "node:assert/strict";
 * import { readRoomPages } from "./room_list.ts";
 * const pages: Record<string, { params: Record<string, string>; content: string; method: string }> = {
 *   "": { method: "RESP_LIST_ROOMS", params: { "Member-Counts": "2", More: "yes" }, content: "a\n" },
 *   a: { method: "RESP_LIST_ROOMS", params: { "Member-Counts": "0", More: "no" }, content: "b\n" },
 * };
 * const list = await readRoomPages((after) => Promise.resolve(pages[after ?? ""]), 10);
 * assert.deepEqual(list.rooms, [{ name: "a", members: 2 }, { name: "b", members: 0 }]);
 * assert.ok(list.complete);
 * ```
 */
export async function readRoomPages(
  fetchPage: (after?: string) => Promise<Message>,
  maxPages: number,
): Promise<{ rooms: ListedRoom[]; complete: boolean }> {
  const rooms: ListedRoom[] = [];
  let after: string | undefined;
  for (let pages = 0; pages < maxPages; pages++) {
    const page = parseRoomPage(await fetchPage(after));
    rooms.push(...page.rooms);
    if (!page.more) return { rooms, complete: true };
    if (page.rooms.length === 0) break; // no name to go on from

    after = page.rooms[page.rooms.length - 1].name;
  }
  return { rooms, complete: false };
}
