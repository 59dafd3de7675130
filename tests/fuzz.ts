/**
 * The fuzzer of the whole request path: starts a server in this process,
 * sends it seeded fuzz frames (tests/fuzz_frames.ts) over real TCP
 * connections on 127.0.0.1, some logged in and some not, and checks that
 * - every frame the server sends is well formed, with a known method and
 *   status, and each request gets exactly the response it is owed, in order;
 * - a connection that has not said HELLO gets the original dialect for the
 *   original requests: only Status and Content-Length, only the statuses
 *   the original client knows, no final newline;
 * - a framing error gets one ERROR and then the end of that connection only;
 * - nothing hangs: every wait is bounded;
 * - after each round, two control clients logged in before the fuzzing can
 *   still ping and talk to each other;
 * - nothing crashes (no uncaught error or unhandled rejection, no failed
 *   request in the server's log) and nothing leaks (online users and open
 *   connections return to the control clients alone).
 *
 * `deno task fuzz [--frames N] [--seed S] [--connections C]` runs it;
 * tests/fuzz_test.ts runs a short fixed-seed round of it in CI.
 * @module
 */

import { parseArgs } from "node:util";
import { FrameDecoder } from "../protocol/frame.ts";
import { type Message, parseMessage } from "../protocol/message.ts";
import { Event, REQUESTS, Response, Status } from "../protocol/methods.ts";
import { ORIGINAL_ANSWERS, type OriginalRequest } from "../protocol/original.ts";
import { NO_FLOOD_LIMITS } from "../core/limits/flood_control.ts";
import { type ServerHandle, type ServerOptions, startServer } from "../server/server.ts";
import {
  deriveSeed,
  type Expectation,
  FRAME_CLASSES,
  type FrameClass,
  FUZZ_ACCOUNTS,
  FUZZ_ROOMS,
  type FuzzFrame,
  hexOf,
  randomFrame,
  requestFrame,
  Rng,
} from "./fuzz_frames.ts";
import { RawConnection, TEST_SCRYPT_COST } from "./helpers.ts";

/** Settings of {@link runFuzz}. */
export interface FuzzOptions {
  /** How many frames to send in all. */
  frames: number;
  /** The seed; the same seed sends the same bytes on each connection. */
  seed: number;
  /** Fuzz connections open at once. Default 8. */
  connections?: number;
  /** Frames per round; the control clients are checked after each. Default 20,000. */
  roundFrames?: number;
  /** The server's largest request frame. Default 1 MiB (the server's default). */
  maxFrameSize?: number;
  /** Most requests a connection has unanswered before it waits. Default 16. */
  window?: number;
  /** A wait for a response longer than this, without progress, is a hang. Default 15 s. */
  responseTimeoutMs?: number;
  /** More settings for the server under test. */
  server?: ServerOptions;
  /** Called after each round. */
  progress?: (report: FuzzReport) => void;
}

/** One thing that went wrong, with what is needed to reproduce it. */
export interface Failure {
  /** What went wrong. */
  what: string;
  /** The round, from 1. */
  round: number;
  /** The fuzz connection (its frames come from `deriveSeed(seed, connection)`), or -1. */
  connection: number;
  /** The last frames sent on that connection, in hex, newest last; then the one it is about. */
  lastFrames?: string[];
}

/** What a run did and found. */
export interface FuzzReport {
  /** The seed of the run. */
  seed: number;
  /** Frames sent (each fuzz case counts as one, however it was split). */
  frames: number;
  /** Every failure found (only the first {@link MAX_KEPT_FAILURES} are kept in detail). */
  failureCount: number;
  /** The first failures, in detail. */
  failures: Failure[];
  /** Rounds run: after each, the control clients and the baseline are checked. */
  rounds: number;
  /** Fuzz connections opened. */
  connections: number;
  /** Responses received and checked. */
  responses: number;
  /** Events received and checked (by fuzz connections and the control clients). */
  events: number;
  /** Frames sent by class. */
  byClass: Record<FrameClass, number>;
  /** Responses received, by method and Status. */
  statuses: Record<string, number>;
  /** How fuzz connections ended. */
  endings: Record<string, number>;
  /**
   * Responses whose Reason is longer than {@link LONG_REASON} characters, by
   * method and Status: input reflected back at length. Not failures.
   */
  longReasons: Record<string, number>;
  /** How long the run took, in milliseconds. */
  durationMs: number;
  /** Resident set size (bytes) with the server up and the control clients in, before fuzzing. */
  rssBefore: number;
  /** Resident set size after the first round. */
  rssAfterFirstRound: number;
  /** Resident set size after the last round, before the server stops. */
  rssAfter: number;
  /** The highest resident set size seen during the run (sampled every 50 ms). */
  rssPeak: number;
  /** The slowest response: how long it took from the end of its request's write, and to what. */
  slowest: { ms: number; frame: string } | null;
}

/** Most frames sent on one fuzz connection (set-up steps included). */
const MAX_CONNECTION_FRAMES = 400;

/** A Reason longer than this many characters is noted in {@link FuzzReport.longReasons}. */
export const LONG_REASON = 1024;

/** Failures kept in detail; the rest are only counted. */
export const MAX_KEPT_FAILURES = 50;

/** The control accounts: never named by the generator, so fuzzing cannot move them. */
const CONTROLS = [
  ["ctl-watch-7f3e", "ctl-watch-secret"],
  ["ctl-speak-91c2", "ctl-speak-secret"],
] as const;

const RESPONSES = new Set<string>(Object.values(Response));
const EVENTS = new Set<string>(Object.values(Event));
const STATUSES = new Set<string>(Object.values(Status));
/** A refusal the server may send unasked on a new connection before closing it. */
const REFUSED = Status.TOO_MANY_CONNECTIONS;
/** The original requests by the response method that answers them. */
const ORIGINAL_BY_RESPONSE = new Map<string, OriginalRequest>([
  ...(Object.keys(ORIGINAL_ANSWERS) as OriginalRequest[]).map((request) =>
    [REQUESTS[request].response, request] as const
  ),
  [Response.NEW_MSG, "RECV_MSG"],
]);
const HELLO_BYTES = new TextEncoder().encode("HELLO");

/** What is wrong with an answer to an original session's original request, or null. */
function originalProblem(request: OriginalRequest, message: Message, payload: Uint8Array) {
  const extra = Object.keys(message.params).filter((n) => n !== "Status" && n !== "Content-Length");
  if (extra.length > 0) return `parameters the original client must not get (${extra})`;
  if (!(ORIGINAL_ANSWERS[request].statuses as string[]).includes(message.params.Status)) {
    return `a status the original client does not know for ${request}`;
  }
  if (!message.content && payload[payload.length - 1] === 0x0a) return "a final newline";
  return null;
}

/** Whether `bytes` hold the ASCII bytes of `part`. */
function holds(bytes: Uint8Array, part: Uint8Array): boolean {
  search: for (let i = 0; i + part.length <= bytes.length; i++) {
    for (let j = 0; j < part.length; j++) if (bytes[i + j] !== part[j]) continue search;
    return true;
  }
  return false;
}
/** Why the server may close a connection that did nothing wrong: it read too slowly. */
const ALLOWED_DROP = /^send queue exceeded/;

/** The shared state of one run. */
class Run {
  readonly options: Required<Omit<FuzzOptions, "server" | "progress">>;
  readonly report: FuzzReport;
  round = 0;
  /** Server sessions by client port, and how each ended, from the server's log. */
  readonly sessionOfPort = new Map<number, number>();
  readonly endOfSession = new Map<number, string>();
  readonly openSessions = new Set<number>();
  /** Lines of the server's log this round that say a request failed inside it. */
  failedInLog: string[] = [];
  /** SERVER_ERROR responses this round. */
  serverErrors = 0;
  /** Where the server's log lines go besides this run. */
  readonly forwardLog: ((line: string) => void) | undefined;

  constructor(options: FuzzOptions) {
    this.options = {
      frames: options.frames,
      seed: options.seed >>> 0,
      connections: options.connections ?? 8,
      roundFrames: options.roundFrames ?? 20_000,
      maxFrameSize: options.maxFrameSize ?? 1 << 20,
      window: options.window ?? 16,
      responseTimeoutMs: options.responseTimeoutMs ?? 15_000,
    };
    this.forwardLog = options.server?.log;
    this.report = {
      seed: this.options.seed,
      frames: 0,
      failureCount: 0,
      failures: [],
      rounds: 0,
      connections: 0,
      responses: 0,
      events: 0,
      byClass: Object.fromEntries(FRAME_CLASSES.map((k) => [k, 0])) as Record<FrameClass, number>,
      statuses: {},
      endings: {},
      longReasons: {},
      durationMs: 0,
      rssBefore: 0,
      rssAfterFirstRound: 0,
      rssAfter: 0,
      rssPeak: 0,
      slowest: null,
    };
  }

  fail(what: string, connection = -1, lastFrames?: string[]): void {
    this.report.failureCount++;
    if (this.report.failures.length < MAX_KEPT_FAILURES) {
      this.report.failures.push({ what, round: this.round, connection, lastFrames });
    }
  }

  count(table: Record<string, number>, key: string): void {
    table[key] = (table[key] ?? 0) + 1;
  }

  /** Receives the server's log lines. */
  log(line: string): void {
    this.forwardLog?.(line);
    let match = line.match(/^connect session=(\d+) addr=[^ ]*:(\d+)/);
    if (match) {
      this.sessionOfPort.set(Number(match[2]), Number(match[1]));
      this.openSessions.add(Number(match[1]));
      return;
    }
    match = line.match(/^disconnect session=(\d+) reason=(.*)$/);
    if (match) {
      this.openSessions.delete(Number(match[1]));
      this.endOfSession.set(Number(match[1]), JSON.parse(match[2]));
      return;
    }
    if (/^(request-failed|http-error)/.test(line)) this.failedInLog.push(line);
  }

  /**
   * Failures the server logged this round that no SERVER_ERROR response
   * showed already (their connections were closed before the answer came).
   */
  checkLog(): void {
    const unseen = this.failedInLog.length - this.serverErrors;
    for (const line of this.failedInLog.slice(0, Math.max(0, unseen))) {
      this.fail(`server log: ${line}`);
    }
    this.failedInLog = [];
    this.serverErrors = 0;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One fuzz connection: writes cases, reads and checks every frame the server sends. */
class FuzzPeer {
  readonly #run: Run;
  readonly #conn: Deno.TcpConn;
  readonly id: number;
  readonly #decoder = new FrameDecoder({ maxFrameSize: 64 * 1024 * 1024 });
  /** Responses owed, oldest first. */
  readonly pending: { owed: Expectation; sent: FuzzFrame; at: number; original: boolean }[] = [];
  /** Whether no case sent so far could hold a HELLO: the server speaks the original dialect. */
  #original = true;
  /** The last few cases sent, for reproductions. */
  readonly #recent: FuzzFrame[] = [];
  eof = false;
  refused = false;
  /** Whether the last bytes sent are an incomplete frame, which the server may time out. */
  stalled = false;
  #failed = false;
  #closed = false;
  lastProgress = Date.now();
  #wakers: (() => void)[] = [];
  readonly reading: Promise<void>;

  constructor(run: Run, conn: Deno.TcpConn, id: number) {
    this.#run = run;
    this.#conn = conn;
    this.id = id;
    this.reading = this.#readLoop();
  }

  get port(): number {
    return (this.#conn.localAddr as Deno.NetAddr).port;
  }

  get failed(): boolean {
    return this.#failed;
  }

  /** Records a failure; `sent` is the case it is about, shown after the last ones sent. */
  fail(what: string, sent?: FuzzFrame): void {
    this.#failed = true;
    const frames = this.#recent.map((c) => `sent ${c.kind}: ${hexOf(c.bytes)}`);
    if (sent) frames.push(`in answer to ${sent.kind}: ${hexOf(sent.bytes)}`);
    this.#run.fail(what, this.id, frames);
  }

  /** Sends cases back to back, split into writes at random points. */
  async send(rng: Rng, cases: FuzzFrame[]): Promise<boolean> {
    for (const c of cases) {
      this.#recent.push(c);
      if (this.#recent.length > 4) this.#recent.shift();
      const original = this.#original;
      for (const owed of c.expect) this.pending.push({ owed, sent: c, at: Infinity, original });
      if (original && holds(c.bytes, HELLO_BYTES)) this.#original = false;
    }
    let bytes: Uint8Array;
    if (cases.length === 1) bytes = cases[0].bytes;
    else {
      bytes = new Uint8Array(cases.reduce((n, c) => n + c.bytes.length, 0));
      let at = 0;
      for (const c of cases) {
        bytes.set(c.bytes, at);
        at += c.bytes.length;
      }
    }
    const cuts = rng.chance(0.7)
      ? []
      : bytes.length < 600 && rng.chance(0.1)
      ? Array.from({ length: bytes.length - 1 }, (_, i) => i + 1) // one byte at a time
      : Array.from({ length: rng.range(1, 4) }, () => rng.int(bytes.length)).sort((a, b) => a - b);
    let start = 0;
    try {
      for (const cut of [...cuts, bytes.length]) {
        if (cut <= start) continue;
        await this.#writeAll(bytes.subarray(start, cut));
        start = cut;
      }
      const now = performance.now();
      for (const entry of this.pending) if (entry.at === Infinity) entry.at = now;
      return true;
    } catch {
      return false; // the server closed; the caller finds out why
    }
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) {
      const write = this.#conn.write(bytes.subarray(written));
      const n = await this.#bounded(write, this.#run.options.responseTimeoutMs);
      if (n === null) throw new Error("write timed out");
      written += n;
    }
  }

  /** The promise's value, or null after `ms`. */
  async #bounded<T>(promise: Promise<T>, ms: number): Promise<T | null> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        promise,
        new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), ms)),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Waits until `done()` holds; false when the server sends nothing for
   * `ms` meanwhile, or the connection ends first.
   */
  async waitFor(done: () => boolean, ms: number): Promise<boolean> {
    while (!done()) {
      if (this.eof) return done();
      const left = this.lastProgress + ms - Date.now();
      if (left <= 0) return false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wakers.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
    return true;
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      try {
        this.#conn.close();
      } catch {
        // closed already
      }
    }
    return this.reading;
  }

  #wake(): void {
    this.lastProgress = Date.now();
    for (const wake of this.#wakers.splice(0)) wake();
  }

  async #readLoop(): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    while (true) {
      const n = await this.#conn.read(buffer).catch(() => null);
      if (n === null) break;
      for (const payload of this.#decoder.push(buffer.subarray(0, n))) this.#receive(payload);
      if (this.#decoder.error) {
        this.fail(`the server sent a malformed frame: ${this.#decoder.error.message}`);
        break;
      }
      this.#wake();
    }
    this.eof = true;
    this.#wake();
  }

  #receive(payload: Uint8Array): void {
    let message: Message;
    try {
      message = parseMessage(payload);
    } catch (error) {
      this.fail(
        `the server sent an unparsable payload (${(error as Error).message}): ${hexOf(payload)}`,
      );
      return;
    }
    const report = this.#run.report;
    if (message.method.startsWith("EVT_")) {
      report.events++;
      if (!EVENTS.has(message.method)) {
        this.fail(`the server sent an unknown event ${message.method}`);
      }
      return;
    }
    report.responses++;
    const status = message.params.Status;
    this.#run.count(report.statuses, `${message.method} ${status}`);
    if (status === REFUSED) {
      this.refused = true;
      return;
    }
    if ((message.params.Reason?.length ?? 0) > LONG_REASON) {
      this.#run.count(report.longReasons, `${message.method} ${status}`);
    }
    const shown = `${message.method} ${JSON.stringify(message.params).slice(0, 500)}`;
    if (!RESPONSES.has(message.method)) this.fail(`unknown response method: ${shown}`);
    if (!STATUSES.has(status)) this.fail(`unknown or missing status: ${shown}`);
    const next = this.pending.shift();
    if (!next && this.stalled && message.method === Response.ERROR) return;
    if (!next) {
      this.fail(`a response to no request: ${shown}`);
      return;
    }
    const { owed, sent, at, original } = next;
    const ms = performance.now() - at;
    if (ms > (report.slowest?.ms ?? 0)) {
      report.slowest = { ms, frame: `${sent.kind}: ${hexOf(sent.bytes, 96)}` };
    }
    if (!owed.methods.includes(message.method)) {
      this.fail(`expected ${owed.methods.join(" or ")}, got ${shown}`, sent);
    } else if (owed.reason && !message.params.Reason?.startsWith(owed.reason)) {
      this.fail(`expected an ERROR whose Reason starts "${owed.reason}", got ${shown}`, sent);
    } else if (original && ORIGINAL_BY_RESPONSE.has(message.method)) {
      const problem = originalProblem(ORIGINAL_BY_RESPONSE.get(message.method)!, message, payload);
      if (problem) this.fail(`an original session got ${problem}: ${shown}`, sent);
    } else if (status === Status.SERVER_ERROR) {
      // the store never fails here: the request broke something in the server
      this.#run.serverErrors++;
      this.fail(`the server failed on a request: ${shown}`, sent);
    }
  }
}

/** Runs one fuzz connection: set-up steps, fuzz cases, and an ending. */
async function fuzzConnection(
  run: Run,
  server: ServerHandle,
  id: number,
  budget: number,
): Promise<number> {
  const rng = new Rng(deriveSeed(run.options.seed, id));
  const { maxFrameSize, responseTimeoutMs } = run.options;
  const report = run.report;
  let conn: Deno.TcpConn;
  try {
    conn = await connectWithin(server.addr.port, responseTimeoutMs);
  } catch (error) {
    run.fail(`cannot connect: ${error}`, id);
    return 0;
  }
  report.connections++;
  const peer = new FuzzPeer(run, conn, id);

  const setup: FuzzFrame[] = [];
  if (rng.chance(0.1)) setup.push(requestFrame({ method: "HELLO", params: { Version: "2.0" } }));
  if (rng.chance(0.65)) {
    const [user, password] = rng.pick([...FUZZ_ACCOUNTS]);
    const push = rng.chance(0.5) ? "on" : "off";
    setup.push(
      requestFrame({ method: "LOGIN", params: { Username: user, Password: password, Push: push } }),
    );
    if (rng.chance(0.8)) {
      // mostly the control clients' room, so that they hear the fuzzing
      const room = rng.chance(0.6) ? FUZZ_ROOMS[0] : rng.pick(FUZZ_ROOMS);
      setup.push(requestFrame({ method: "JOIN_ROOM", params: { "Room-Name": room } }));
    }
  }
  const planned = Math.min(budget, setup.length + rng.logRange(1, MAX_CONNECTION_FRAMES - 3));
  const end = rng.weighted({ close: 55, terminal: 35, abrupt: 10 });

  let sent = 0;
  let batch: FuzzFrame[] = [];
  let batchBytes = 0;
  let batchLimit = rng.range(1, 8);
  let writable = true;
  let last: FuzzFrame | null = null;
  const flush = async () => {
    if (batch.length === 0) return;
    writable = await peer.send(rng, batch);
    batch = [];
    batchBytes = 0;
    batchLimit = rng.range(1, 8);
  };
  while (writable && !peer.eof && !peer.failed) {
    const terminal = sent === planned - 1 && end === "terminal";
    if (sent >= planned) break;
    const c = sent < setup.length ? setup[sent] : randomFrame(rng, { maxFrameSize, terminal });
    sent++;
    report.frames++;
    report.byClass[c.kind]++;
    batch.push(c);
    batchBytes += c.bytes.length;
    last = c;
    if (c.ending !== "open") break;
    if (batch.length >= batchLimit || batchBytes > 64 * 1024) await flush();
    if (peer.pending.length + batch.length >= run.options.window) {
      await flush();
      const drained = await peer.waitFor(
        () => peer.pending.length < run.options.window / 2,
        responseTimeoutMs,
      );
      if (!drained) break;
    }
  }
  const ending = last?.ending ?? "open";
  peer.stalled = ending === "incomplete";
  await flush();

  if (end === "abrupt" && ending === "open") {
    // close with requests in flight: the server's answers meet a closed socket
    if (rng.chance(0.5)) await delay(rng.int(3));
    await peer.close();
    run.count(report.endings, "closed by us with requests in flight");
    return sent;
  }

  const answered = await peer.waitFor(() => peer.pending.length === 0, responseTimeoutMs);
  if (peer.refused) {
    run.count(report.endings, "refused by the server");
  } else if (!answered && !peer.eof) {
    peer.fail(
      `hang: ${peer.pending.length} responses owed, none for ${responseTimeoutMs} ms`,
      peer.pending[0]?.sent,
    );
  } else if (!answered) {
    // the server closed with answers owed: allowed only for a client it dropped as too slow
    const reason = await serverEndOf(run, peer.port);
    if (reason !== null && ALLOWED_DROP.test(reason)) {
      run.count(report.endings, `dropped by the server: ${reason}`);
    } else {
      peer.fail(
        `the server closed with ${peer.pending.length} responses owed (reason ${
          JSON.stringify(reason)
        })`,
        peer.pending[0]?.sent,
      );
    }
  } else if (ending === "framing-error") {
    const closed = await peer.waitFor(() => peer.eof, 5_000);
    if (!closed) peer.fail("the server did not close after a framing error");
    run.count(report.endings, "framing error: ERROR, then closed by the server");
  } else if (ending === "incomplete") {
    // the server may time a stalled frame out before we close: also fine
    const by = peer.eof ? "the server" : "us";
    run.count(report.endings, `incomplete frame, closed by ${by}`);
  } else if (peer.eof && !peer.failed) {
    const reason = await serverEndOf(run, peer.port);
    if (reason === null || !ALLOWED_DROP.test(reason)) {
      peer.fail(
        `the server closed a connection in good standing (reason ${JSON.stringify(reason)})`,
      );
    } else run.count(report.endings, `dropped by the server: ${reason}`);
  } else {
    run.count(report.endings, "closed by us");
  }
  await peer.close();
  return sent;
}

/** Connects to 127.0.0.1:`port`, or throws after `ms`. */
async function connectWithin(port: number, ms: number): Promise<Deno.TcpConn> {
  const connecting = Deno.connect({ hostname: "127.0.0.1", port });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no connection within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([connecting, timeout]);
  } catch (error) {
    connecting.then((conn) => conn.close(), () => {}); // should it connect after all
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** How the server says it ended the session on client port `port` (waits for its log line). */
async function serverEndOf(run: Run, port: number): Promise<string | null> {
  for (let i = 0; i < 100; i++) {
    const session = run.sessionOfPort.get(port);
    const reason = session === undefined ? undefined : run.endOfSession.get(session);
    if (reason !== undefined) return reason;
    await delay(10);
  }
  return null;
}

/** Two control clients in one room, logged in before the fuzzing. */
class Controls {
  readonly watcher: RawConnection;
  readonly speaker: RawConnection;

  private constructor(watcher: RawConnection, speaker: RawConnection) {
    this.watcher = watcher;
    this.speaker = speaker;
  }

  static async open(server: ServerHandle): Promise<Controls> {
    const [watcher, speaker] = await Promise.all(CONTROLS.map(async ([user, password]) => {
      const c = await RawConnection.open(server);
      const login = await c.request("LOGIN", { Username: user, Password: password, Push: "on" });
      if (login.params.Status !== "OK") throw new Error(`control login: ${login.params.Status}`);
      const join = await c.request("JOIN_ROOM", { "Room-Name": FUZZ_ROOMS[0] });
      if (join.params.Status !== "OK") throw new Error(`control join: ${join.params.Status}`);
      return c;
    }));
    return new Controls(watcher, speaker);
  }

  /**
   * Throws unless both can still talk, each wait bounded. Returns how many
   * events they had received from the fuzzing, all of them checked.
   */
  async check(round: number): Promise<number> {
    let events = 0;
    for (const control of [this.watcher, this.speaker]) {
      for (let frame; (frame = await control.frameWithin(0));) {
        if (!EVENTS.has(frame.method)) {
          throw new Error(`a control client received ${JSON.stringify(frame).slice(0, 300)}`);
        }
        events++;
      }
    }
    const token = `round ${round}`;
    const pong = await this.speaker.request("PING", { Token: token });
    if (pong.method !== "PONG" || pong.params.Status !== "OK" || pong.params.Token !== token) {
      throw new Error(`PING answered ${JSON.stringify(pong)}`);
    }
    const time = await this.watcher.request("TIME");
    if (time.method !== "RESP_TIME" || time.params.Status !== "OK") {
      throw new Error(`TIME answered ${JSON.stringify(time)}`);
    }
    const text = `control message after round ${round}`;
    const sent = await this.speaker.request("SEND_MSG", {}, text);
    if (sent.params.Status !== "OK") throw new Error(`SEND_MSG answered ${JSON.stringify(sent)}`);
    const deadline = Date.now() + 5_000;
    while (true) {
      const event = await this.watcher.next(Math.max(1, deadline - Date.now()));
      if (event.method === "EVT_MSG" && event.content === text) return events;
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.watcher.close(), this.speaker.close()]);
  }
}

/** Waits until only the control clients are online and connected; false after 5 s. */
async function backToBaseline(run: Run, server: ServerHandle): Promise<string | null> {
  const deadline = Date.now() + 5_000;
  const controls = CONTROLS.map(([user]) => user).sort();
  while (true) {
    const online = (await server.console("LIST_USERS")).output.slice(1)
      .map((line) => line.trim().split(/\s+/)[0]).sort();
    const same = online.length === controls.length && online.every((u, i) => u === controls[i]);
    if (same && run.openSessions.size === controls.length) {
      // every fuzz connection of the round is gone: forget them
      run.sessionOfPort.clear();
      run.endOfSession.clear();
      return null;
    }
    if (Date.now() > deadline) {
      return `after the round, ${run.openSessions.size} connections are open and ${online.length} ` +
        `users online (${online.join(", ")}); expected only the ${controls.length} control clients`;
    }
    await delay(20);
  }
}

/**
 * Runs the fuzzer against a fresh in-process server and returns what it
 * found. Never throws for what the server does; failures are in the report.
 */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const run = new Run(options);
  const { report } = run;
  const started = performance.now();
  const onRejection = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    run.fail(`unhandled rejection: ${(event.reason as Error)?.stack ?? event.reason}`);
  };
  const onError = (event: ErrorEvent) => {
    event.preventDefault();
    run.fail(`uncaught exception: ${(event.error as Error)?.stack ?? event.message}`);
  };
  globalThis.addEventListener("unhandledrejection", onRejection);
  globalThis.addEventListener("error", onError);
  let server: ServerHandle | null = null;
  let controls: Controls | null = null;
  let stopping = false;
  let sampler: ReturnType<typeof setInterval> | undefined;
  try {
    server = await startServer({
      host: "127.0.0.1",
      port: 0,
      globals: {
        accounts: new Map([...FUZZ_ACCOUNTS, ...CONTROLS]),
        rooms: [...FUZZ_ROOMS],
      },
      scryptCost: TEST_SCRYPT_COST,
      maxFrameSize: run.options.maxFrameSize,
      // every fuzz connection comes from 127.0.0.1: with the brake on failed
      // logins, the fuzzer's wrong passwords would soon lock all of its
      // logins out, and with them every request that needs one. Messages
      // keep a rate limit, generous enough that both OK and RATE_LIMITED occur.
      floodLimits: { ...NO_FLOOD_LIMITS, messages: { perSecond: 50, burst: 100 } },
      ...options.server,
      log: (line) => run.log(line),
    });
    server.finished.then(() => {
      if (!stopping) run.fail("the server stopped during the fuzzing");
    });
    controls = await Controls.open(server);
    report.rssBefore = Deno.memoryUsage().rss;
    sampler = setInterval(() => {
      report.rssPeak = Math.max(report.rssPeak, Deno.memoryUsage().rss);
    }, 50);
    let nextConnection = 0;
    let left = run.options.frames;
    while (left > 0) {
      run.round = ++report.rounds;
      let roundLeft = Math.min(left, run.options.roundFrames);
      left -= roundLeft;
      const worker = async () => {
        while (roundLeft > 0) {
          const budget = Math.min(roundLeft, MAX_CONNECTION_FRAMES);
          roundLeft -= budget;
          const sent = await fuzzConnection(run, server!, nextConnection++, budget);
          roundLeft += budget - sent;
        }
      };
      await Promise.all(Array.from({ length: run.options.connections }, worker));
      try {
        report.events += await controls.check(run.round);
      } catch (error) {
        run.fail(`control clients: ${(error as Error).message}`);
      }
      const leak = await backToBaseline(run, server);
      if (leak) run.fail(leak);
      run.checkLog();
      if (report.rounds === 1) report.rssAfterFirstRound = Deno.memoryUsage().rss;
      report.durationMs = performance.now() - started;
      report.rssAfter = Deno.memoryUsage().rss;
      options.progress?.(report);
    }
  } finally {
    clearInterval(sampler);
    stopping = true;
    await controls?.close();
    await server?.close();
    globalThis.removeEventListener("unhandledrejection", onRejection);
    globalThis.removeEventListener("error", onError);
    report.durationMs = performance.now() - started;
  }
  return report;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** One line about a run so far. */
export function summary(report: FuzzReport): string {
  const seconds = report.durationMs / 1000;
  return `${report.frames} frames tried, ${report.failureCount} failures ` +
    `(seed ${report.seed}, ${report.connections} connections, ${report.responses} responses, ` +
    `${report.events} events, ${seconds.toFixed(1)} s, ${
      Math.round(report.frames / seconds)
    } frames/s, ` +
    `RSS ${megabytes(report.rssBefore)} before, ${
      megabytes(report.rssAfterFirstRound)
    } after round 1, ` +
    `${megabytes(report.rssAfter)} after, ${megabytes(report.rssPeak)} at most; ` +
    `slowest response ${Math.round(report.slowest?.ms ?? 0)} ms)`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      frames: { type: "string", default: "1000000" },
      seed: { type: "string" },
      connections: { type: "string", default: "8" },
      "round-frames": { type: "string", default: "20000" },
      "max-frame-size": { type: "string", default: String(1 << 20) },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(
      "usage: deno task fuzz [--frames N] [--seed S] [--connections C] [--round-frames R] " +
        "[--max-frame-size BYTES]",
    );
    return 0;
  }
  const number = (name: string, text: string, min: number) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min) throw new RangeError(`--${name} must be ≥ ${min}`);
    return value;
  };
  const seed = values.seed === undefined
    ? crypto.getRandomValues(new Uint32Array(1))[0]
    : number("seed", values.seed, 0);
  const dir = await Deno.makeTempDir({ prefix: "claptrap-fuzz-" });
  console.log(`fuzzing with seed ${seed} (replay with --seed ${seed})`);
  try {
    const report = await runFuzz({
      frames: number("frames", values.frames, 1),
      seed,
      connections: number("connections", values.connections, 1),
      roundFrames: number("round-frames", values["round-frames"], 1),
      maxFrameSize: number("max-frame-size", values["max-frame-size"], 64),
      // on disk, so that the messages the fuzzer posts do not count as resident memory
      server: { db: `${dir}/fuzz.db`, dbSync: "normal" },
      progress: (r) => console.log(`round ${r.rounds}: ${summary(r)}`),
    });
    console.log("frames by class:", JSON.stringify(report.byClass));
    console.log("statuses:", JSON.stringify(report.statuses));
    console.log("connection endings:", JSON.stringify(report.endings));
    console.log("long reasons:", JSON.stringify(report.longReasons));
    console.log("slowest response:", JSON.stringify(report.slowest));
    for (const failure of report.failures) {
      console.log(
        `FAILURE in round ${failure.round}, connection ${failure.connection}: ${failure.what}`,
      );
      for (const frame of failure.lastFrames ?? []) console.log(`  ${frame}`);
    }
    console.log(summary(report));
    return report.failureCount > 0 ? 1 : 0;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) Deno.exit(await main());
