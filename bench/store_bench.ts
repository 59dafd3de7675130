/**
 * The store benchmark: persisted messages per second and SEND_MSG→OK
 * latency, with group commit (the default) and with one transaction per
 * message (`--db-max-batch 1`), both with `--db-sync full`.
 *
 * Two measurements per mode:
 * - the store alone: a SqliteStore on a file, fed `--window` appends at a
 *   time until `--messages` are on disk;
 * - through the server: `server.ts` as a child process on 127.0.0.1 with a
 *   database file, `--connections` clients each keeping `--window`
 *   SEND_MSG in flight; latency is from writing the request to reading OK;
 * - and the latency without load: one client, one message at a time.
 *
 * `deno task bench:store [--messages N] [--connections C] [--window W] [--runs R] [--json FILE]`
 * @module
 */

import { parseArgs } from "node:util";
import { FrameDecoder } from "../protocol/frame.ts";
import { encodeMessage, parseMessage } from "../protocol/message.ts";
import { readLines } from "../client/terminal/terminal.ts";
import { listeningPort } from "../server/log_format.ts";
import { SqliteStore } from "../store/sqlite_store.ts";
import { LatencyHistogram, median } from "./stats.ts";

interface Result {
  mode: "group commit" | "one transaction per message";
  where: "store" | "server";
  messagesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  commits: number | null;
}

const ROOT = new URL("../", import.meta.url).pathname;

async function storeAlone(maxBatch: number, messages: number, window: number): Promise<Result> {
  const dir = await Deno.makeTempDir({ prefix: "claptrap-store-bench-" });
  const store = await SqliteStore.open(`${dir}/bench.db`, { sync: "full", maxBatch });
  await store.createRoom({ kind: "room", name: "r", createdBy: null, createdAt: 0 });
  const histogram = new LatencyHistogram();
  const started = performance.now();
  let next = 1;
  const worker = async () => {
    while (next <= messages) {
      const id = next++;
      const t = performance.now();
      await store.appendMessage({
        id,
        kind: "room",
        room: "r",
        sender: "u",
        time: Date.now(),
        content: `message ${id} of the store benchmark`,
      });
      histogram.record((performance.now() - t) * 1000);
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  const seconds = (performance.now() - started) / 1000;
  const commits = store.batches;
  await store.close();
  await Deno.remove(dir, { recursive: true });
  return {
    mode: maxBatch === 1 ? "one transaction per message" : "group commit",
    where: "store",
    messagesPerSecond: messages / seconds,
    p50Ms: histogram.percentile(50) / 1000,
    p99Ms: histogram.percentile(99) / 1000,
    commits,
  };
}

async function throughServer(
  maxBatch: number,
  messages: number,
  connections: number,
  window: number,
): Promise<Result> {
  const dir = await Deno.makeTempDir({ prefix: "claptrap-store-bench-" });
  const users = Array.from({ length: connections }, (_, i) => `u${i}`);
  await Deno.writeTextFile(
    `${dir}/globals.txt`,
    users.map((u) => `${u} password-${u}`).join("\n") + "\n\nr\n",
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      `${ROOT}server.ts`,
      "--host=127.0.0.1",
      "--port=0",
      "--no-http",
      "--no-console",
      `--globals=${dir}/globals.txt`,
      `--db=${dir}/bench.db`,
      "--db-sync=full",
      "--scrypt-cost=16",
      "--msg-rate=0",
      ...(maxBatch === 1 ? ["--db-max-batch=1"] : []),
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const port = await serverPort(child.stderr);
  const histogram = new LatencyHistogram();
  const perConnection = Math.ceil(messages / connections);
  const started = performance.now();
  await Promise.all(users.map((user) => sender(port, user, perConnection, window, histogram)));
  const seconds = (performance.now() - started) / 1000;
  child.kill("SIGTERM");
  await child.status;
  await Deno.remove(dir, { recursive: true });
  return {
    mode: maxBatch === 1 ? "one transaction per message" : "group commit",
    where: "server",
    messagesPerSecond: (perConnection * connections) / seconds,
    p50Ms: histogram.percentile(50) / 1000,
    p99Ms: histogram.percentile(99) / 1000,
    commits: null,
  };
}

/**
 * Reads the server's log, line by line, until its listening line; keeps
 * draining it afterwards.
 */
async function serverPort(stderr: ReadableStream<Uint8Array>): Promise<number> {
  const lines = readLines(stderr);
  const seen: string[] = [];
  while (true) {
    const next = await lines.next();
    if (next.done) throw new Error(`server.ts exited:\n${seen.join("\n")}`);
    const port = listeningPort(next.value);
    if (port !== null) {
      (async () => {
        while (!(await lines.next()).done) { /* drain */ }
      })();
      return port;
    }
    seen.push(next.value);
  }
}

/**
 * One connection: logs in, joins, keeps `window` SEND_MSG in flight until
 * `count` are OK. The requests that refill the window after a read go out
 * in one write, so the generator spends one system call per read, not one
 * per message.
 */
async function sender(
  port: number,
  user: string,
  count: number,
  window: number,
  histogram: LatencyHistogram,
): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  const decoder = new FrameDecoder();
  const buffer = new Uint8Array(64 * 1024);
  const pending: { method: string; sentAt: number }[] = [];
  const sendMsg = encodeMessage({
    method: "SEND_MSG",
    params: {},
    content: `a message of the store benchmark from ${user}`,
  });
  const writeAll = async (bytes: Uint8Array) => {
    for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
  };
  const sendMessages = async (n: number) => {
    const bytes = new Uint8Array(sendMsg.length * n);
    const now = performance.now();
    for (let i = 0; i < n; i++) {
      bytes.set(sendMsg, i * sendMsg.length);
      pending.push({ method: "SEND_MSG", sentAt: now });
    }
    await writeAll(bytes);
  };
  for (
    const [method, params] of [
      // without HELLO 2.0 the server would answer in the original dialect, one request at a time
      ["HELLO", { Version: "2.0" }],
      ["LOGIN", { Username: user, Password: `password-${user}` }],
      ["JOIN_ROOM", { "Room-Name": "r" }],
    ] as const
  ) {
    pending.push({ method, sentAt: performance.now() });
    await writeAll(encodeMessage({ method, params }));
  }
  let sent = Math.min(window, count);
  await sendMessages(sent);
  let acknowledged = 0;
  while (acknowledged < count) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error(`${user}: the server closed the connection`);
    let refill = 0;
    for (const payload of decoder.push(buffer.subarray(0, n))) {
      const response = parseMessage(payload);
      const request = pending.shift()!;
      if (response.params.Status !== "OK") {
        throw new Error(`${user}: ${request.method} got ${response.params.Status}`);
      }
      if (request.method !== "SEND_MSG") continue;
      histogram.record((performance.now() - request.sentAt) * 1000);
      acknowledged++;
      if (sent + refill < count) refill++;
    }
    if (refill > 0) await sendMessages(refill), sent += refill;
  }
  conn.close();
}

function row(label: string, results: Result[]): string {
  const m = (f: (r: Result) => number) => median(results.map(f));
  const commits = results[0].commits === null ? "" : `, ${m((r) => r.commits!).toFixed(0)} commits`;
  return `| ${label} | ${m((r) => r.messagesPerSecond).toFixed(0)} | ${
    m((r) => r.p50Ms).toFixed(2)
  } | ${m((r) => r.p99Ms).toFixed(2)} | ${results.length}${commits} |`;
}

const USAGE = `Usage: deno task bench:store [options]

Options:
  --messages N      messages per run with group commit (default 100000;
                    without load: 2000, or N when smaller)
  --connections C   clients through the server (default 8)
  --window W        SEND_MSG in flight per client (default 256)
  --runs R          runs of each measurement (default 3)
  --json FILE       also write every run's result to FILE
  --help            this text`;

/** The options, or a message saying what is wrong with them. */
function parseOptions(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      messages: { type: "string", default: "100000" },
      connections: { type: "string", default: "8" },
      window: { type: "string", default: "256" },
      runs: { type: "string", default: "3" },
      json: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  const count = (name: "messages" | "connections" | "window" | "runs") => {
    const value = Number(values[name]);
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new TypeError(`--${name} must be a whole number of at least 1, not "${values[name]}"`);
    }
    return value;
  };
  return {
    messages: count("messages"),
    connections: count("connections"),
    window: count("window"),
    runs: count("runs"),
    json: values.json,
    help: values.help,
  };
}

async function main(args: string[]): Promise<number> {
  let options;
  try {
    options = parseOptions(args);
  } catch (error) {
    console.error(`bench:store: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const { messages, connections, window, runs } = options;
  const all: Result[] = [];
  const lines = [
    "| what | messages/s | p50 ms | p99 ms | runs |",
    "| --- | ---: | ---: | ---: | --- |",
  ];
  // latency without load: one connection, one message at a time
  const unloaded = Math.min(2_000, messages);
  for (const maxBatch of [Infinity, 1]) {
    const results: Result[] = [];
    for (let run = 0; run < runs; run++) {
      results.push(await throughServer(maxBatch, unloaded, 1, 1));
    }
    all.push(...results);
    lines.push(
      row(`server, 1 client, 1 in flight: ${results[0].mode} (${unloaded} messages)`, results),
    );
  }
  for (const where of ["store", "server"] as const) {
    for (const maxBatch of [Infinity, 1]) {
      // one transaction per message is slow: a tenth of the messages tells as much
      const count = maxBatch === 1 ? Math.ceil(messages / 10) : messages;
      const results: Result[] = [];
      for (let run = 0; run < runs; run++) {
        const result = where === "store"
          ? await storeAlone(maxBatch, count, window * connections)
          : await throughServer(maxBatch, count, connections, window);
        console.error(
          `${where}, ${result.mode}, run ${run + 1}: ${
            result.messagesPerSecond.toFixed(0)
          } msg/s, ` +
            `p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms`,
        );
        results.push(result);
      }
      all.push(...results);
      lines.push(row(`${where}: ${results[0].mode} (${count} messages)`, results));
    }
  }
  console.log(lines.join("\n"));
  if (options.json) await Deno.writeTextFile(options.json, JSON.stringify(all, null, 2));
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
