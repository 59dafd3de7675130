/**
 * SEARCH over the wire: pages of results newest first with how many match,
 * the bound on how far one page looks, and how many searches run at once.
 * @module
 */

import assert from "node:assert/strict";
import { parseRows } from "../protocol/content.ts";
import { encodeMessage } from "../protocol/message.ts";
import { NO_FLOOD_LIMITS } from "../core/limits/flood_control.ts";
import { DEFAULT_SEARCH_LIMITS } from "../core/search.ts";
import { SqliteStore } from "../store/sqlite_store.ts";
import { RawConnection, startTestServer, withTimeout } from "./helpers.ts";

/** A connection that said HELLO 2.0 and logged in (and joined `room`). */
async function connected(port: number, user: string, room?: string): Promise<RawConnection> {
  const c = await RawConnection.open(port);
  assert.equal((await c.request("HELLO", { Version: "2.0" })).params.Status, "OK");
  await c.login(user);
  if (room) assert.equal((await c.request("JOIN_ROOM", { "Room-Name": room })).params.Status, "OK");
  return c;
}

/** Posts each text, in order; returns their ids. */
async function post(c: RawConnection, texts: string[]): Promise<number[]> {
  const ids: number[] = [];
  for (const text of texts) {
    const reply = await c.request("SEND_MSG", {}, text);
    assert.equal(reply.params.Status, "OK");
    ids.push(Number(reply.params.Id));
  }
  return ids;
}

/** A SEARCH's parameters that page, and the ids and snippets of its rows. */
async function search(c: RawConnection, params: Record<string, string>) {
  const reply = await c.request("SEARCH", params);
  assert.deepEqual([reply.method, reply.params.Status], ["RESP_SEARCH", "OK"]);
  const { Total, More, Partial, Before } = reply.params;
  const rows = parseRows(reply.content ?? "", 5);
  return {
    paging: { Total, More, Partial, Before },
    ids: rows.map(([id]) => Number(id)),
    snippets: rows.map((row) => row[4]),
  };
}

Deno.test("SEARCH answers newest first, says how many match, and Before pages on", async () => {
  const server = await startTestServer({ floodLimits: NO_FLOOD_LIMITS });
  const ann = await connected(server.addr.port, "ann", "lobby");
  const ids = await post(ann, Array.from({ length: 51 }, (_, i) => `kettle ${i + 1}`));
  const newest = ids.toReversed();

  const first = await search(ann, { Query: "kettle" });
  assert.deepEqual(first.ids, newest.slice(0, 20));
  assert.equal(first.snippets[0], "[kettle] 51");
  assert.deepEqual(first.paging, { Total: "51", More: "yes", Partial: "no", Before: `${ids[31]}` });
  const second = await search(ann, { Query: "kettle", Before: first.paging.Before! });
  assert.deepEqual(second.ids, newest.slice(20, 40));
  assert.deepEqual(second.paging, {
    Total: "31",
    More: "yes",
    Partial: "no",
    Before: `${ids[11]}`,
  });
  const last = await search(ann, { Query: "kettle", Before: second.paging.Before!, Limit: "50" });
  assert.deepEqual(last.ids, newest.slice(40));
  assert.deepEqual(last.paging, { Total: "11", More: "no", Partial: "no", Before: undefined });

  const bad = await ann.request("SEARCH", { Query: "kettle", Before: "0" });
  assert.deepEqual([bad.params.Status, bad.params.Reason], [
    "BAD_REQUEST",
    `Before must be a whole number from 1 to ${Number.MAX_SAFE_INTEGER}`,
  ]);
  await ann.close();
  await server.close();
});

Deno.test("a SEARCH page looks through at most the scan limit, says Partial and where to go on", async () => {
  const server = await startTestServer({
    searchLimits: { ...DEFAULT_SEARCH_LIMITS, scanLimit: 3 },
  });
  const ann = await connected(server.addr.port, "ann", "lobby");
  const ids = await post(ann, ["ab 1", "ab 2", "none", "ab 3", "still none", "ab 4"]);
  const first = await search(ann, { Query: "ab" });
  assert.deepEqual(first.ids, [ids[5], ids[3]]);
  assert.deepEqual(first.paging, { Total: "2+", More: "yes", Partial: "yes", Before: `${ids[3]}` });
  const second = await search(ann, { Query: "ab", Before: first.paging.Before! });
  assert.deepEqual(second.ids, [ids[1], ids[0]]);
  assert.deepEqual(second.paging, { Total: "2", More: "no", Partial: "no", Before: undefined });
  await ann.close();
  await server.close();
});

Deno.test("a user's second SEARCH under way is RATE_LIMITED, and so is one beyond the server's bound", async () => {
  const store = await SqliteStore.open(":memory:");
  let release!: () => void;
  const held = new Promise<void>((resolve) => release = resolve);
  const asked: string[] = [];
  const storeSearch = store.search.bind(store);
  store.search = async (user, words, options) => {
    asked.push(words.join(" "));
    await held;
    return storeSearch(user, words, options);
  };
  const server = await startTestServer({
    store,
    searchLimits: { perUser: 1, running: 1, waiting: 0, scanLimit: 1000 },
  });
  const [ann, bob] = await Promise.all(["ann", "bob"].map((u) => connected(server.addr.port, u)));
  // in one write, so that the server takes both before the first is answered
  const frame = (Query: string) => encodeMessage({ method: "SEARCH", params: { Query } });
  await ann.write(new Uint8Array([...frame("first"), ...frame("second")]));
  await withTimeout(
    (async () => {
      while (asked.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    })(),
    5_000,
    "the first search reaching the store",
  );
  const refused = await bob.request("SEARCH", { Query: "too many" });
  assert.deepEqual(
    [refused.params.Status, refused.params.Reason, refused.params["Retry-After-Ms"]],
    [
      "RATE_LIMITED",
      "the server is busy with other searches; try again shortly",
      "500",
    ],
  );
  release();
  assert.equal((await ann.next()).params.Status, "OK");
  const second = await ann.next();
  assert.deepEqual([second.params.Status, second.params.Reason], [
    "RATE_LIMITED",
    "you have a search under way; wait for its answer",
  ]);
  assert.deepEqual((await search(bob, { Query: "again" })).ids, [], "the turn was given back");
  assert.deepEqual(asked, ["first", "again"]);
  await Promise.all([ann, bob].map((c) => c.close()));
  await server.close();
});
