/**
 * Crash safety under load: many clients chat while the server is killed
 * with SIGKILL and restarted on the same database a few times. Afterwards
 * every message answered OK is in the history exactly once, with its id,
 * and every client came back after every kill.
 *
 * Seeded: `SOAK_SEED=123 deno test ... tests/soak_test.ts` replays the same
 * kill delays and client choices (timing still varies from run to run).
 * @module
 */

import assert from "node:assert/strict";
import { ChatClient, type HistoryMessage } from "../client/chat_client.ts";
import { tcp } from "../client/tcp_transport.ts";
import { withTimeout } from "./helpers.ts";
import { type ServerProcess, spawnServer } from "./server_process.ts";
import {
  Ledger,
  seededRandom,
  type SentMessage,
  sleep,
  SoakClient,
  type SoakWorld,
} from "./soak_client.ts";

const CLIENTS = 30;
const KILLS = 3;
const ROOMS = ["lobby", "random", "香港记者招待会", "back room"];
/** Load before each kill, after every client is back: a seeded pick in this range. */
const LOAD_BEFORE_KILL_MS = [5_000, 9_000] as const;
/**
 * Each kill comes during a storm: every client sends a burst of messages at
 * once (the server answers them all within some 30 ms here), and the kill
 * follows after a seeded delay below this, so that it lands before, during
 * or after their commit.
 */
const KILL_INTO_STORM_MS = 60;
/** Load after the last restart, once every client is back. */
const LOAD_AFTER_LAST_MS = 4_000;
/** How long the clients may take to be back after a restart. */
const BACK_WITHIN_MS = 30_000;
const AUDITOR = ["auditor", "auditor-pw"] as const;

function userName(i: number): string {
  return `soak${String(i + 1).padStart(2, "0")}`;
}

/** Starts the server on `port` (0: any), retrying while the old one's port is not free yet. */
async function startOn(args: string[], port: number): Promise<ServerProcess> {
  for (let attempt = 1;; attempt++) {
    try {
      return await spawnServer([...args, "--port", String(port)]);
    } catch (error) {
      if (attempt === 5) throw error;
      await sleep(200 * attempt);
    }
  }
}

/** Resolves once `done` holds, polling; rejects with `what()` after `ms`. */
async function until(done: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what()}`);
    await sleep(25);
  }
}

/** Every message of every room, oldest first, read by paging HISTORY backwards. */
async function readAllHistory(port: number): Promise<Map<string, HistoryMessage[]>> {
  const client = await ChatClient.connect(tcp({ port }));
  try {
    await client.login(...AUDITOR, { push: false });
    const rooms = new Map<string, HistoryMessage[]>();
    for (const room of ROOMS) {
      await client.join(room);
      const messages: HistoryMessage[] = [];
      let before: number | undefined;
      while (true) {
        const page = await withTimeout(
          client.history({ limit: 500, before }),
          30_000,
          `HISTORY of ${room}`,
        );
        assert.equal(page.room, room);
        messages.unshift(...page.messages);
        if (!page.more || page.messages.length === 0) break;
        before = page.messages[0].id;
      }
      rooms.set(room, messages);
    }
    return rooms;
  } finally {
    await client.close();
  }
}

/** A message for a failure report: its unique head, without the filler. */
function label(content: string): string {
  return JSON.stringify(content.replace(/ x+$/, (filler) => ` +${filler.length - 1}x`));
}

/**
 * Compares the stored history of every room with the ledger: ids strictly
 * increase in each room and are unique across rooms; every message answered
 * OK is stored exactly once, with the id of its OK, in its room, from its
 * sender; a message never answered is stored at most once; nothing is
 * stored that was refused or never sent; every message a client received
 * is stored, with the id it was received with.
 */
function checkHistory(history: Map<string, HistoryMessage[]>, ledger: Ledger) {
  const failures: string[] = [];
  const stored = new Map<string, { room: string; message: HistoryMessage }[]>();
  const ids = new Set<number>();
  for (const [room, messages] of history) {
    messages.forEach((message, i) => {
      if (i > 0 && message.id <= messages[i - 1].id) {
        failures.push(`${room}: id ${message.id} after ${messages[i - 1].id}`);
      }
      if (ids.has(message.id)) failures.push(`${room}: id ${message.id} stored twice`);
      ids.add(message.id);
      const copies = stored.get(message.content) ?? [];
      copies.push({ room, message });
      stored.set(message.content, copies);
    });
  }
  for (const [content, copies] of stored) {
    const sent = ledger.sent.get(content);
    const where = copies.map((c) => `${c.room}#${c.message.id}`).join(", ");
    if (!sent) failures.push(`stored but never sent: ${label(content)} at ${where}`);
    else if (sent.outcome === "refused") {
      failures.push(`stored though refused ${sent.status}: ${label(content)} at ${where}`);
    } else if (copies.length > 1) {
      failures.push(
        `stored ${copies.length} times (${sent.outcome}): ${label(content)} at ${where}`,
      );
    } else if (copies[0].room !== sent.room || copies[0].message.from !== sent.user) {
      failures.push(
        `${label(content)} sent by ${sent.user} to ${sent.room}, stored as from ` +
          `${copies[0].message.from} in ${copies[0].room}`,
      );
    }
  }
  let unanswered = 0;
  let unansweredStored = 0;
  for (const sent of ledger.sent.values()) {
    const copies = stored.get(sent.content) ?? [];
    if (sent.outcome === "ok") {
      if (copies.length === 0) {
        failures.push(
          `answered OK by server ${sent.generation} with id ${sent.id}, not stored: ` +
            label(sent.content),
        );
      } else if (copies[0].message.id !== sent.id) {
        failures.push(
          `${label(sent.content)}: OK said id ${sent.id}, the history ${copies[0].message.id}`,
        );
      }
    } else if (sent.outcome === "unanswered") {
      unanswered++;
      if (copies.length > 0) unansweredStored++;
    } else if (sent.outcome === "pending") {
      failures.push(`still unanswered at the end: ${label(sent.content)}`);
    }
  }
  for (const seen of ledger.seen) {
    const copies = stored.get(seen.content) ?? [];
    if (copies.length === 0) {
      failures.push(`${seen.by} received ${label(seen.content)} in ${seen.room}, not stored`);
    } else if (seen.id !== undefined && copies[0].message.id !== seen.id) {
      failures.push(
        `${seen.by} received ${label(seen.content)} as id ${seen.id}, ` +
          `stored as ${copies[0].message.id}`,
      );
    }
  }
  return { failures, unanswered, unansweredStored, stored: ids.size };
}

/**
 * Each user's messages answered OK whose id is not above that of the user's
 * previous one answered OK: ids increase in the order messages are
 * accepted, across restarts too, and a user's messages are sent in order.
 */
function idsOutOfOrder(ledger: Ledger): string[] {
  const last = new Map<string, SentMessage>();
  const wrong: string[] = [];
  for (const sent of ledger.sent.values()) {
    if (sent.outcome !== "ok") continue;
    const previous = last.get(sent.user);
    if (previous && previous.id! >= sent.id!) {
      wrong.push(
        `${label(sent.content)} got id ${sent.id} (server ${sent.generation}) after ` +
          `${label(previous.content)} got ${previous.id} (server ${previous.generation})`,
      );
    }
    last.set(sent.user, sent);
  }
  return wrong;
}

/**
 * Server log lines worth a look: anything that is not a timestamped log
 * line (an uncaught error, a stack trace) or that speaks of trouble.
 */
function alarming(line: string): boolean {
  return !/^\d{4}-\d\d-\d\dT[\d:.]+Z /.test(line) ||
    /error|exception|panic|uncaught|fatal|corrupt|integrity|recover|fail|warn|cannot/i.test(line);
}

/** Fails with the first few `problems`, counting the rest. */
function assertNone(problems: string[], what: string): void {
  if (problems.length === 0) return;
  const shown = problems.slice(0, 20).join("\n  ");
  const more = problems.length > 20 ? `\n  … and ${problems.length - 20} more` : "";
  assert.fail(`${what}: ${problems.length}\n  ${shown}${more}`);
}

Deno.test("soak: every message answered OK survives repeated SIGKILLs exactly once, and every client comes back", async () => {
  const seed = Number(Deno.env.get("SOAK_SEED") ?? 20261123);
  const random = seededRandom(seed);
  const started = performance.now();
  const dir = await Deno.makeTempDir({ prefix: "claptrap-soak-" });
  const accounts = Array.from({ length: CLIENTS }, (_, i) => [userName(i), `${userName(i)}-pw`]);
  const globals = `${dir}/globals.txt`;
  await Deno.writeTextFile(
    globals,
    [...accounts, AUDITOR].map(([user, password]) => `${user} ${password}\n`).join("") +
      `\n${ROOMS.join("\n")}\n`,
  );
  const args = ["--db", `${dir}/claptrap.db`, "--globals", globals, "--scrypt-cost", "1024"];

  const servers: ServerProcess[] = [await startOn(args, 0)];
  const server = () => servers.at(-1)!;
  const ledger = new Ledger();
  let generation = 0;
  let stopping = false;
  const world: SoakWorld = {
    port: () => server().port,
    generation: () => generation,
    stopping: () => stopping,
    rooms: ROOMS,
    ledger,
  };
  const clients = accounts.map(([user, password], i) =>
    new SoakClient(user, password, {
      push: i % 2 === 0,
      random: seededRandom(seed * 1000 + i),
      world,
    })
  );
  const allBack = (g: number) =>
    until(
      () => clients.every((client) => client.generation === g),
      BACK_WITHIN_MS,
      () =>
        `clients back on server ${g}: missing ${
          clients.filter((c) => c.generation !== g).map((c) => c.user).join(", ")
        }`,
    );
  const running = clients.map((client) => client.run());
  const inFlightAtKill: number[] = [];
  const stormingAtKill: number[] = [];
  const restartMs: number[] = [];
  const backMs: number[] = [];
  let completed = false;
  try {
    await allBack(0);
    for (let kill = 1; kill <= KILLS; kill++) {
      const [least, most] = LOAD_BEFORE_KILL_MS;
      await sleep(least + random() * (most - least));
      const killAt = performance.now() + random() * KILL_INTO_STORM_MS;
      stormingAtKill.push(clients.filter((client) => client.storm()).length);
      while (performance.now() < killAt) await sleep(0);
      inFlightAtKill.push(ledger.pending());
      const killedAt = performance.now();
      server().kill("SIGKILL");
      assert.equal(await withTimeout(server().exited, 10_000, "killed server to exit"), 137);
      generation = kill;
      servers.push(await startOn(args, server().port));
      restartMs.push(performance.now() - killedAt);
      await allBack(kill);
      backMs.push(performance.now() - killedAt);
    }
    await sleep(LOAD_AFTER_LAST_MS);
    completed = true;
  } finally {
    stopping = true;
    try {
      await withTimeout(Promise.all(running), 90_000, "clients to finish");
    } finally {
      if (!completed) {
        try {
          server().kill("SIGKILL");
        } catch {
          // it has exited already
        }
        await server().exited;
      }
    }
  }
  const loadSeconds = (performance.now() - started) / 1000;

  const history = await readAllHistory(server().port);
  server().kill("SIGTERM");
  assert.equal(await withTimeout(server().exited, 10_000, "server to stop"), 0);

  const reconnects = clients.reduce((sum, c) => sum + c.generations.length - 1, 0);
  const check = checkHistory(history, ledger);
  console.log(
    `soak: seed=${seed} clients=${CLIENTS} rooms=${ROOMS.length} kills=${KILLS} ` +
      `reconnects=${reconnects} sent=${ledger.sent.size} ok=${ledger.count("ok")} ` +
      `unanswered=${check.unanswered} (stored ${check.unansweredStored}) ` +
      `in-flight-at-kills=${inFlightAtKill.join("/")} ` +
      `storming-clients=${stormingAtKill.join("/")} ` +
      `rate-limited=${clients.reduce((sum, c) => sum + c.rateLimited, 0)} ` +
      `login-retries=${clients.reduce((sum, c) => sum + c.loginRetries, 0)} ` +
      `seen=${ledger.seen.length} stored=${check.stored} ` +
      `restart-ms=${restartMs.map(Math.round).join("/")} ` +
      `all-back-ms=${backMs.map(Math.round).join("/")} ` +
      `duration=${loadSeconds.toFixed(1)}s+${
        ((performance.now() - started) / 1000 - loadSeconds).toFixed(1)
      }s`,
  );
  try {
    // Hangs, refusals and reconnection.
    assertNone(clients.flatMap((c) => c.hangs), "requests that hung");
    assertNone(clients.flatMap((c) => c.problems), "client problems");
    const everyGeneration = Array.from({ length: KILLS + 1 }, (_, g) => g).join(",");
    assertNone(
      clients
        .filter((c) => [...new Set(c.generations)].join(",") !== everyGeneration)
        .map((c) => `${c.user} logged in to servers ${c.generations.join(",")}`),
      "clients that missed a server",
    );
    assert.ok(reconnects >= CLIENTS * KILLS, `${reconnects} reconnects`);
    assertNone(
      clients.filter((c) => !c.finalOk).map((c) => c.user),
      "clients whose final message failed",
    );
    assertNone(idsOutOfOrder(ledger), "OK ids that did not increase in the order sent");
    // The stored history against what was answered and seen.
    assertNone(check.failures, "history does not match what was answered");
    // The last start (and every earlier one, up to its kill) logged nothing unusual.
    assertNone(
      servers.flatMap((s, g) => s.log.filter(alarming).map((line) => `server ${g}: ${line}`)),
      "unusual server log lines",
    );
    const last = server().log;
    assert.match(last[0], /listening addr=/, "the last start logged its address first");
    assert.match(last.at(-1)!, / stopped$/);
  } catch (error) {
    console.log(`soak: failed; the database is kept in ${dir}`);
    throw error;
  }
  await Deno.remove(dir, { recursive: true });
});
