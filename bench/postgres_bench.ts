/**
 * The PostgreSQL store's benchmark, on a private PostgreSQL (fsync on) that
 * it starts itself (tests/engines.ts):
 * - posting: `--window` appends in flight until `--messages` are committed,
 *   with group commit and with one transaction per message, against the
 *   SQLite store on a file (sync full) doing the same;
 * - search over `--rows` messages: a 2-character term by a plain scan
 *   (what the store avoids) and through the store's bounded plan, and
 *   3+-character terms through the trigram index;
 * - PostgreSQL's own CPU per message and per batch, for a store as a
 *   cluster's server opens it (ids from the database, a NOTIFY in each
 *   commit, another connection listening) posting to one room with 1 and
 *   with 4 appends in flight: medians of `--cpu-runs` runs of
 *   `--cpu-messages` each, on a new database each.
 *
 * `deno task bench:postgres [--messages N] [--window W] [--rows N]
 * [--cpu-messages N] [--cpu-runs N] [--only posting|search|cpu]`
 * @module
 */

import { parseArgs } from "node:util";
import { type PostgresEngine, postmasterPid, startPostgres } from "../tests/engines.ts";
import type { MessageRecord } from "../store/records.ts";
import { SqliteStore } from "../store/sqlite_store.ts";
import type { ChatStore } from "../store/store.ts";
import { PostgresStore } from "../store/postgres/postgres_store.ts";
import { connect } from "../store/postgres/connection.ts";
import { CHANNEL, pendingPayloads } from "../server/cluster/announcements.ts";
import { sampleTree } from "./proc.ts";
import { median } from "./stats.ts";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "20000" },
    window: { type: "string", default: "256" },
    rows: { type: "string", default: "200000" },
    "cpu-messages": { type: "string", default: "3000" },
    "cpu-runs": { type: "string", default: "7" },
    only: { type: "string" },
  },
});
const MESSAGES = Number(values.messages);
const WINDOW = Number(values.window);
const ROWS = Number(values.rows);

function message(id: number, room: string, content: string): MessageRecord {
  return { id, kind: "room", room, sender: "u", time: id, content };
}

/** Messages per second for `messages` appends, `window` at a time. */
async function posting(store: ChatStore, messages: number, window: number) {
  for (let r = 0; r < 8; r++) {
    await store.createRoom({ kind: "room", name: `r${r}`, createdBy: null, createdAt: 0 });
  }
  const started = performance.now();
  let next = 1;
  const worker = async () => {
    while (next <= messages) {
      const id = next++;
      await store.appendMessage(message(id, `r${id % 8}`, `message ${id} of the benchmark`));
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  const seconds = (performance.now() - started) / 1000;
  return Math.round(messages / seconds);
}

async function postingRuns(): Promise<void> {
  const engine = await startPostgres();
  for (
    const [label, maxBatch, messages] of [
      ["group commit", 1024, MESSAGES],
      ["one transaction per message", 1, Math.min(MESSAGES, 2000)],
    ] as const
  ) {
    const pg = await PostgresStore.open(await engine.createDatabase(), { maxBatch });
    const pgRate = await posting(pg, messages, WINDOW);
    const batches = pg.batchSizes.slice(8);
    await pg.close();
    const dir = await Deno.makeTempDir({ prefix: "claptrap-postgres-bench-" });
    const sqlite = await SqliteStore.open(`${dir}/bench.db`, { sync: "full", maxBatch });
    const sqliteRate = await posting(sqlite, messages, WINDOW);
    await sqlite.close();
    await Deno.remove(dir, { recursive: true });
    console.log(
      `posting, ${label}, window ${WINDOW}: PostgreSQL ${pgRate} msg/s ` +
        `(median batch ${median(batches)}), SQLite ${sqliteRate} msg/s`,
    );
  }
}

/** Median milliseconds of `runs` runs of `work`. */
async function timed(work: () => Promise<unknown>, runs = 7): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await work();
    times.push(performance.now() - t);
  }
  return Math.round(median(times) * 10) / 10;
}

async function searchRuns(): Promise<void> {
  const engine = await startPostgres();
  const url = await engine.createDatabase();
  const store = await PostgresStore.open(url);
  const rooms = 50;
  for (let r = 0; r < rooms; r++) {
    await store.createRoom({ kind: "room", name: `room ${r}`, createdBy: null, createdAt: 0 });
  }
  for (let r = 0; r < 3; r++) await store.addMembership("room", `room ${r}`, "ann", 0);
  const words = "the quick brown fox jumps over a lazy dog at the press conference".split(" ");
  const han =
    "香港记者招待会问题太简单你们还要学习一个新闻的东西我是身经百战见得多了西方哪个国家没有去过";
  const pick = <T>(xs: ArrayLike<T>) => xs[Math.floor(Math.random() * xs.length)];
  for (let at = 0; at < ROWS; at += 1024) {
    const batch = [];
    for (let id = at + 1; id <= Math.min(ROWS, at + 1024); id++) {
      const content = Math.random() < 0.5
        ? Array.from({ length: 8 }, () => pick(words)).join(" ")
        : Array.from({ length: 20 }, () => pick(han)).join("");
      batch.push(store.appendMessage(message(id, `room ${id % rooms}`, content)));
    }
    await Promise.all(batch);
  }
  const sql = connect(url, 1);
  await sql.unsafe("VACUUM ANALYZE messages");
  // what a search without the store's bound does: all matching messages, newest first
  const plain = (term: string) =>
    timed(() =>
      sql.unsafe(
        "SELECT id, count(*) OVER () FROM messages WHERE content ILIKE $1 ORDER BY id DESC LIMIT 20",
        [`%${term}%`],
      )
    );
  const plainFound = await plain("记者");
  const plainNone = await plain("zq");
  await sql.end();
  const options = { limit: 20, before: null, scanLimit: 10_000 };
  const search = (term: string) => timed(() => store.search("ann", [term], options));
  console.log(
    `search over ${ROWS} messages (50 rooms, the user in 3), median of 7 runs, ` +
      `plain scan / through the store: 2-character term that occurs ${plainFound} / ` +
      `${await search("记者")} ms, that never occurs ${plainNone} / ${await search("zq")} ms; ` +
      `rare 4-character term ${await search("记者招待")} ms; ` +
      `common 3-letter term ${await search("the")} ms`,
  );
  await store.close();
}

/** What {@link cpuRun} measured: µs of PostgreSQL CPU, and messages a batch. */
interface CpuRun {
  perMessage: number;
  perBatch: number;
  size: number;
}

/**
 * PostgreSQL's CPU (every process of the engine) per message and per batch
 * (the children of `postmaster`) while one store posts `messages` to one
 * room, `window` at a time.
 */
async function cpuRun(
  engine: PostgresEngine,
  postmaster: number,
  messages: number,
  window: number,
): Promise<CpuRun> {
  const url = await engine.createDatabase();
  const store = await PostgresStore.open(url, {
    assignIds: true,
    announce: { channel: CHANNEL, payloads: (posted) => pendingPayloads("bench", posted) },
  });
  const listener = connect(url, 1);
  await listener.listen(CHANNEL, () => {});
  await store.createRoom({ kind: "room", name: "lobby", createdBy: null, createdAt: 0 });
  const post = (i: number) =>
    store.appendMessage({ ...message(0, "lobby", `message ${i} of the benchmark`), time: i });
  for (let i = 0; i < 200; i++) await post(i); // plans made, caches warm
  const [cpu, batches] = [await sampleTree(postmaster), store.batches];
  let next = 0;
  const worker = async () => {
    while (next < messages) await post(next++);
  };
  await Promise.all(Array.from({ length: window }, worker));
  const seconds = await sampleTree(postmaster) - cpu;
  const made = store.batches - batches;
  await store.close();
  await listener.end();
  return {
    perMessage: seconds * 1e6 / messages,
    perBatch: seconds * 1e6 / made,
    size: messages / made,
  };
}

async function cpuRuns(): Promise<void> {
  const engine = await startPostgres();
  const postmaster = await postmasterPid(engine);
  const messages = Number(values["cpu-messages"]);
  for (const window of [1, 4]) {
    const runs: CpuRun[] = [];
    for (let r = 0; r < Number(values["cpu-runs"]); r++) {
      runs.push(await cpuRun(engine, postmaster, messages, window));
    }
    const at = (f: (run: CpuRun) => number) => median(runs.map(f)).toFixed(0);
    console.log(
      `PostgreSQL CPU, one room, ${window} in flight (${at((r) => r.size)} a batch): ` +
        `${at((r) => r.perMessage)} µs a message, ${at((r) => r.perBatch)} µs a batch ` +
        `(runs: ${runs.map((r) => r.perMessage.toFixed(0)).join(", ")} µs a message)`,
    );
  }
}

const only = values.only;
if (only !== undefined && !["posting", "search", "cpu"].includes(only)) {
  console.error(`--only takes posting, search or cpu, not ${JSON.stringify(only)}`);
  Deno.exit(2);
}
if (only === undefined || only === "posting") await postingRuns();
if (only === undefined || only === "search") await searchRuns();
if (only === undefined || only === "cpu") await cpuRuns();
