/**
 * A Web Worker of the load generator: it runs a share of the clients (one
 * TCP connection each: Claptrap framed, Claptrap's JSON over WebSocket, or
 * IRC), sends on command and times every delivery. Counters live in a
 * SharedArrayBuffer so that the main thread and the other workers see them
 * without messages: the window of deliveries in flight is global.
 * @module
 */

import { messageToJson, parseJsonMessage } from "../protocol/json_mapping.ts";
import { encodeMessage, type Message, parseMessage } from "../protocol/message.ts";
import { type Arrivals, ArrivalSchedule } from "./arrivals.ts";
import { isErrorNumeric, parseIrcLine, privmsgTextOffset } from "./irc.ts";
import { account, roomName, type Transport } from "./options.ts";
import {
  claptrapTemplate,
  ircTemplate,
  PART_MARK,
  readStamp,
  repeatTemplate,
  type SendTemplate,
  STAMP_MARK,
  websocketTemplate,
  writeStamp,
} from "./payload.ts";
import { FrameScanner, LineScanner, WebSocketScanner } from "./scanners.ts";
import { type HistogramData, LatencyHistogram } from "./stats.ts";
import {
  checkUpgradeAnswer,
  headEnd,
  maskedFrame,
  newKey,
  newMask,
  Opcode,
  upgradeRequest,
} from "./websocket.ts";

/** Int32 slots per worker in the shared counters. */
export const SLOT = 8;
/** Offsets within a worker's slot. */
export const Counter = {
  /** Messages sent. */
  SENT: 0,
  /** Deliveries the messages sent should make (sum of their rooms' size - 1). */
  EXPECTED: 1,
  /** Deliveries received (stamped messages read by this worker's clients). */
  RECEIVED: 2,
  /** Errors seen. */
  ERRORS: 3,
  /** Clients connected, logged in and in their room. */
  READY: 4,
  /** 1 once this worker has stopped sending. */
  DONE: 5,
  /** Claptrap: RESP_SEND_MSG OK received. */
  ACKED: 6,
  /** IRC: parts of long messages received (all but the last part). */
  FRAGMENTS: 7,
} as const;

/** What a worker is told to do. */
export interface WorkerConfig {
  /** This worker's number, from 0. */
  worker: number;
  /** How many workers share the counters. */
  workers: number;
  /** Wire protocol. */
  protocol: "claptrap" | "irc";
  /** Claptrap: framed over TCP, or JSON over WebSocket. */
  transport: Transport;
  /**
   * Server ports on 127.0.0.1 (the HTTP ports for WebSocket), one per
   * server: client i connects to ports[i mod ports.length].
   */
  ports: number[];
  /** Global indexes of this worker's clients. */
  clients: number[];
  /** Room of each of this worker's clients (same order). */
  rooms: number[];
  /** Rooms each client is in at once (protocol 2.1 when more than one), from its own on. */
  roomsEach: number;
  /** Rooms in all. */
  roomCount: number;
  /** Deliveries each of this worker's clients' messages make (same order). */
  fanouts: number[];
  /** Bytes of each message's text. */
  size: number;
  /** Messages per second this worker sends; 0 for as fast as the window allows. */
  rate: number;
  /** At a fixed rate: how the messages are spaced. */
  arrivals: Arrivals;
  /** Messages this worker sends at most; 0 for no limit. */
  messages: number;
  /** Longest sending phase in ms, warm-up included; 0 sends nothing. */
  durationMs: number;
  /** Deliveries in flight allowed over all workers (unlimited rate). */
  window: number;
  /** Most messages in one write (unlimited rate). */
  batch: number;
  /** The main thread's `performance.timeOrigin`: stamps are µs since then. */
  epochMs: number;
  /** Bytes of each client's read buffer. */
  readBufferBytes: number;
  /** IRC: OPER credentials, to set user mode +F on senders; null for none. */
  oper: { name: string; password: string } | null;
  /** Clients set up at once. */
  connectConcurrency: number;
}

/** Messages from the main thread. */
export type ToWorker =
  | { type: "start"; config: WorkerConfig; shared: SharedArrayBuffer }
  | {
    type: "go";
    /** Deliveries of messages stamped before this (µs since the epoch: the warm-up) are not timed. */
    measureFromUs: number;
  }
  | { type: "finish" };

/** What a worker reports at the end. */
export interface WorkerResult {
  /** Latencies of its deliveries, µs. */
  histogram: HistogramData;
  /** The first error messages. */
  errors: string[];
  /** Deliveries stamped later than they were read (clock skew between threads). */
  negative: number;
}

/** Messages to the main thread. */
export type FromWorker =
  | { type: "ready" }
  | { type: "fatal"; message: string }
  | { type: "result"; result: WorkerResult }
  | { type: "closed" };

interface WorkerScope {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker): void;
}

const MAX_ERROR_SAMPLES = 20;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** The state of this worker, shared by its clients. */
class Load {
  readonly config: WorkerConfig;
  readonly counters: Int32Array;
  readonly base: number;
  readonly histogram = new LatencyHistogram();
  readonly errors: string[] = [];
  readonly clients: Client[] = [];
  readonly #originShiftMs: number;
  received = 0;
  acked = 0;
  fragments = 0;
  negative = 0;
  errorCount = 0;
  quitting = false;
  /** Deliveries of messages stamped before this are counted but not timed. */
  measureFromUs = 0;
  #sending = false;
  #goAt = 0;
  #endAt = 0;
  #sent = 0;
  #expected = 0;
  #idle: Client[] = [];
  #pumpScheduled = false;
  #blocked = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #endTimer: ReturnType<typeof setTimeout> | undefined;
  /** At a fixed rate: when messages are due. */
  #schedule: ArrivalSchedule | null = null;

  constructor(config: WorkerConfig, shared: SharedArrayBuffer) {
    this.config = config;
    this.counters = new Int32Array(shared);
    this.base = config.worker * SLOT;
    this.#originShiftMs = performance.timeOrigin - config.epochMs;
  }

  /** Microseconds since the run's epoch. */
  nowUs(): number {
    return Math.round((performance.now() + this.#originShiftMs) * 1000);
  }

  error(message: string): void {
    this.errorCount++;
    if (this.errors.length < MAX_ERROR_SAMPLES) this.errors.push(message);
    Atomics.store(this.counters, this.base + Counter.ERRORS, this.errorCount);
  }

  /** One stamped message read at `nowUs`. */
  delivered(stampUs: number, nowUs: number): void {
    this.received++;
    if (stampUs < this.measureFromUs) return;
    const latency = nowUs - stampUs;
    if (latency < 0) this.negative++;
    this.histogram.record(latency);
  }

  /** After each read: publish counters and, if the window was full, try again. */
  afterRead(): void {
    const c = this.counters;
    Atomics.store(c, this.base + Counter.RECEIVED, this.received);
    Atomics.store(c, this.base + Counter.ACKED, this.acked);
    Atomics.store(c, this.base + Counter.FRAGMENTS, this.fragments);
    if (this.#blocked) this.#schedulePump();
  }

  async setUp(): Promise<void> {
    const { config } = this;
    const Kind = config.protocol === "irc"
      ? IrcClient
      : config.transport === "websocket"
      ? WebSocketClient
      : FramedClient;
    for (let i = 0; i < config.clients.length; i++) {
      this.clients.push(new Kind(this, config.clients[i], config.rooms[i], config.fanouts[i]));
    }
    let next = 0;
    let ready = 0;
    const lane = async () => {
      while (next < this.clients.length) {
        const client = this.clients[next++];
        await client.open();
        Atomics.store(this.counters, this.base + Counter.READY, ++ready);
      }
    };
    await Promise.all(Array.from({ length: config.connectConcurrency }, lane));
  }

  go(measureFromUs: number): void {
    const { config } = this;
    this.measureFromUs = measureFromUs;
    if (config.durationMs <= 0) {
      this.#stopSending();
      return;
    }
    this.#sending = true;
    this.#goAt = performance.now();
    this.#endAt = this.#goAt + config.durationMs;
    this.#endTimer = setTimeout(() => this.#stopSending(), config.durationMs);
    for (const client of this.clients) {
      if (client.fanout > 0 || config.rate > 0) {
        client.prepare(config.rate > 0 ? 1 : config.batch);
        this.#idle.push(client);
      }
    }
    if (config.rate > 0) {
      this.#schedule = new ArrivalSchedule(config.arrivals, config.rate);
      this.#tick();
    } else this.#pump();
  }

  /** A client's write completed: it may send again. */
  writable(client: Client): void {
    if (!this.#sending || client.closed) return;
    this.#idle.push(client);
    if (this.config.rate === 0) this.#schedulePump();
  }

  #schedulePump(): void {
    if (this.#pumpScheduled || !this.#sending) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => this.#pump());
  }

  #outstanding(): number {
    const c = this.counters;
    let outstanding = 0;
    for (let w = 0; w < this.config.workers; w++) {
      outstanding += Atomics.load(c, w * SLOT + Counter.EXPECTED) -
        Atomics.load(c, w * SLOT + Counter.RECEIVED);
    }
    return outstanding;
  }

  /** As fast as possible, within the window of deliveries in flight. */
  #pump(): void {
    this.#pumpScheduled = false;
    if (!this.#sending) return;
    const { config } = this;
    if (performance.now() >= this.#endAt || this.#quotaLeft() === 0) {
      this.#stopSending();
      return;
    }
    let space = config.window - this.#outstanding();
    const nowUs = this.nowUs();
    while (space > 0 && this.#idle.length > 0) {
      const left = this.#quotaLeft();
      if (left === 0) break;
      // oldest idle first, so senders take turns
      const client = this.#idle.shift()!;
      if (client.closed) continue;
      const count = Math.min(config.batch, left, Math.ceil(space / client.fanout));
      client.send(count, nowUs);
      space -= count * client.fanout;
      this.#sent += count;
      this.#expected += count * client.fanout;
    }
    this.#publishSent();
    this.#blocked = space <= 0;
    clearTimeout(this.#timer);
    // deliveries to other workers' clients are not seen here: look again soon
    if (this.#blocked) this.#timer = setTimeout(() => this.#pump(), 1);
  }

  /** At a fixed rate: each millisecond, send what is due. */
  #tick(): void {
    if (!this.#sending) return;
    const now = performance.now();
    if (now >= this.#endAt || this.#quotaLeft() === 0) {
      this.#stopSending();
      return;
    }
    let due = this.#schedule!.dueBy(now - this.#goAt) - this.#sent;
    const nowUs = this.nowUs();
    while (due > 0 && this.#idle.length > 0 && this.#quotaLeft() !== 0) {
      // oldest idle first, so senders take turns
      const client = this.#idle.shift()!;
      if (client.closed) continue;
      client.send(1, nowUs);
      due--;
      this.#sent++;
      this.#expected += client.fanout;
    }
    this.#publishSent();
    this.#timer = setTimeout(() => this.#tick(), 1);
  }

  #quotaLeft(): number {
    const limit = this.config.messages;
    return limit === 0 ? Infinity : limit - this.#sent;
  }

  #publishSent(): void {
    Atomics.store(this.counters, this.base + Counter.SENT, this.#sent);
    Atomics.store(this.counters, this.base + Counter.EXPECTED, this.#expected);
  }

  #stopSending(): void {
    this.#sending = false;
    clearTimeout(this.#timer);
    clearTimeout(this.#endTimer);
    this.#publishSent();
    Atomics.store(this.counters, this.base + Counter.DONE, 1);
  }

  result(): WorkerResult {
    this.afterRead();
    return { histogram: this.histogram.toData(), errors: this.errors, negative: this.negative };
  }

  async close(): Promise<void> {
    this.quitting = true;
    this.#sending = false;
    clearTimeout(this.#timer);
    clearTimeout(this.#endTimer);
    await Promise.all(this.clients.map((client) => client.close()));
  }
}

/** One connection of the load generator. */
abstract class Client {
  readonly load: Load;
  readonly index: number;
  readonly room: number;
  /** Deliveries each of its messages makes: the other members of its room. */
  readonly fanout: number;
  /** The port of its server. */
  readonly port: number;
  closed = false;
  #conn: Deno.Conn | null = null;
  #writing: Promise<void> = Promise.resolve();
  #batch: Uint8Array = new Uint8Array(0);
  #messageBytes = 0;
  #stampOffsets: number[] = [];
  #stampMask: Uint8Array | null = null;
  #reading: Promise<void> = Promise.resolve();

  constructor(load: Load, index: number, room: number, fanout: number) {
    this.load = load;
    this.index = index;
    this.room = room;
    this.fanout = fanout;
    const { ports } = load.config;
    this.port = ports[index % ports.length];
  }

  /** Connects, logs in and joins its room. */
  async open(): Promise<void> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: this.port });
    conn.setNoDelay(true);
    this.#conn = conn;
    this.#reading = this.#readLoop(conn);
    await this.setUp();
  }

  /** Logs in and joins the room, over the open connection. */
  abstract setUp(): Promise<void>;
  /** Handles bytes read at `nowUs`. */
  abstract onChunk(chunk: Uint8Array, nowUs: number): void;
  /** The bytes of one message of this client. */
  abstract template(): SendTemplate;

  /** Builds the buffer for up to `batch` messages per write. */
  prepare(batch: number): void {
    const template = this.template();
    const repeated = repeatTemplate(template, batch);
    this.#batch = repeated.bytes;
    this.#stampOffsets = repeated.stampOffsets;
    this.#stampMask = template.stampMask ?? null;
    this.#messageBytes = template.bytes.length;
  }

  /** Sends `count` messages stamped `nowUs` in one write. */
  send(count: number, nowUs: number): void {
    for (let i = 0; i < count; i++) {
      writeStamp(this.#batch, this.#stampOffsets[i], nowUs, this.#stampMask);
    }
    const bytes = count * this.#messageBytes === this.#batch.length
      ? this.#batch
      : this.#batch.subarray(0, count * this.#messageBytes);
    this.write(bytes).then(() => this.load.writable(this));
  }

  /** Writes all of `bytes` after the writes before it. */
  write(bytes: Uint8Array): Promise<void> {
    const conn = this.#conn!;
    this.#writing = this.#writing.then(async () => {
      if (this.closed) return;
      try {
        let written = 0;
        while (written < bytes.length) written += await conn.write(bytes.subarray(written));
      } catch (error) {
        if (!this.load.quitting) this.load.error(`client ${this.index}: write failed: ${error}`);
        this.#shut();
      }
    });
    return this.#writing;
  }

  writeText(text: string): Promise<void> {
    return this.write(encoder.encode(text));
  }

  async #readLoop(conn: Deno.Conn): Promise<void> {
    const buffer = new Uint8Array(this.load.config.readBufferBytes);
    try {
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) break;
        this.onChunk(buffer.subarray(0, n), this.load.nowUs());
        this.load.afterRead();
      }
      if (!this.load.quitting) this.failed("connection closed by the server");
    } catch (error) {
      if (!this.load.quitting && !this.closed) this.failed(`read failed: ${error}`);
    }
    this.#shut();
  }

  /** Records an error of this client and rejects what it waits for. */
  failed(reason: string): void {
    this.load.error(`client ${this.index}: ${reason}`);
    this.rejectWaiters(new Error(`client ${this.index}: ${reason}`));
  }

  /** Rejects pending set-up steps. */
  abstract rejectWaiters(error: Error): void;

  #shut(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.#conn?.close();
    } catch {
      // already closed
    }
  }

  /** Closes the connection (after a goodbye, for IRC) and waits for the reader. */
  async close(): Promise<void> {
    if (!this.closed && this.#conn) await this.goodbye();
    this.#shut();
    await this.#reading;
  }

  /** What to send before closing. */
  goodbye(): Promise<void> {
    return Promise.resolve();
  }
}

const E = 0x45, V = 0x56, T = 0x54, US = 0x5f, M = 0x4d, S = 0x53, G = 0x47, LF = 0x0a;
const SEND_OK = encoder.encode("RESP_SEND_MSG\nStatus: OK\n");

/**
 * A client speaking the Claptrap protocol with push delivery; subclasses
 * carry its messages over TCP frames or over WebSocket.
 */
abstract class ClaptrapClient extends Client {
  readonly #waiters: { resolve(m: Message): void; reject(e: Error): void }[] = [];
  /** When the bytes being scanned were read, µs since the epoch. */
  protected now = 0;

  /** The bytes of a request on this client's transport. */
  protected abstract encode(message: Message): Uint8Array;

  async setUp(): Promise<void> {
    const { user, password } = account(this.index);
    const { roomsEach, roomCount } = this.load.config;
    // without HELLO 2.0 the server would answer in the original dialect
    await this.#request("HELLO", { Version: roomsEach > 1 ? "2.1" : "2.0" });
    await this.#request("LOGIN", { Username: user, Password: password, Push: "on" });
    for (let k = roomsEach - 1; k >= 0; k--) {
      // its own room last, so that it is the current one
      await this.#request("JOIN_ROOM", { "Room-Name": roomName((this.room + k) % roomCount) });
    }
  }

  async #request(method: string, params: Record<string, string>): Promise<void> {
    const response = new Promise<Message>((resolve, reject) =>
      this.#waiters.push({ resolve, reject })
    );
    await this.write(this.encode({ method, params }));
    const { params: got } = await response;
    if (got.Status !== "OK") {
      throw new Error(`client ${this.index}: ${method} failed: ${got.Status} ${got.Reason ?? ""}`);
    }
  }

  rejectWaiters(error: Error): void {
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }

  /** A stamp found in a delivery, or -1 for a delivery without one. */
  protected stamped(stamp: number): void {
    if (stamp < 0) this.load.error(`client ${this.index}: EVT_MSG without a stamp`);
    else this.load.delivered(stamp, this.now);
  }

  /** A message that is not a delivery or a send's OK: set-up answers, events. */
  protected other(message: Message): void {
    if (message.method === "RESP_SEND_MSG" && message.params.Status === "OK") {
      this.load.acked++;
      return;
    }
    if (message.method.startsWith("EVT_")) return; // EVT_JOIN, EVT_LEAVE, EVT_CLOSE
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(message);
    else if (!this.load.quitting) {
      this.load.error(
        `client ${this.index}: ${message.method} ${message.params.Status ?? ""} ${
          message.params.Reason ?? ""
        }`.trim(),
      );
    }
  }
}

/** Claptrap frames over TCP. */
class FramedClient extends ClaptrapClient {
  readonly #scanner = new FrameScanner();

  protected encode(message: Message): Uint8Array {
    return encodeMessage(message);
  }

  template(): SendTemplate {
    return claptrapTemplate(this.load.config.size);
  }

  onChunk(chunk: Uint8Array, nowUs: number): void {
    this.now = nowUs;
    try {
      this.#scanner.push(chunk, this.#onPayload);
    } catch (error) {
      this.failed(`bad frame: ${(error as Error).message}`);
    }
  }

  readonly #onPayload = (b: Uint8Array, s: number, e: number): void => {
    if (b[s] === E && b[s + 1] === V && b[s + 2] === T && b[s + 3] === US) {
      if (b[s + 4] === M && b[s + 5] === S && b[s + 6] === G && b[s + 7] === LF) {
        this.stamped(readStamp(b, e - this.load.config.size));
      }
      return; // EVT_JOIN, EVT_LEAVE, EVT_CLOSE
    }
    if (startsWith(b, s, e, SEND_OK)) {
      this.load.acked++;
      return;
    }
    try {
      this.other(parseMessage(b.subarray(s, e)));
    } catch (error) {
      this.load.error(`client ${this.index}: ${(error as Error).message}`);
    }
  };
}

const EVT_MSG_JSON = encoder.encode('{"method":"EVT_MSG"');
const SEND_OK_JSON = encoder.encode('{"method":"RESP_SEND_MSG","params":{"Status":"OK"');
const QUOTE = 0x22, BRACE = 0x7d;

/**
 * Claptrap's JSON mapping over WebSocket, as the web page speaks it: an
 * upgrade on the HTTP port's `/ws`, then one masked text frame per
 * request. A delivery's stamp is read in place where the content ends the
 * JSON text (`…,"content":"T…"}`), as the server writes it; anything else
 * is decoded and parsed.
 */
class WebSocketClient extends ClaptrapClient {
  readonly #scanner = new WebSocketScanner();
  readonly #mask = newMask();
  readonly #key = newKey();
  /** Bytes of the upgrade's answer so far; null once it is complete. */
  #head: Uint8Array | null = new Uint8Array(0);
  #upgraded: { resolve(): void; reject(e: Error): void } | null = null;

  override async setUp(): Promise<void> {
    const upgraded = new Promise<void>((resolve, reject) => {
      this.#upgraded = { resolve, reject };
    });
    await this.writeText(upgradeRequest(`127.0.0.1:${this.port}`, this.#key));
    await upgraded;
    await super.setUp();
  }

  protected encode(message: Message): Uint8Array {
    return maskedFrame(Opcode.TEXT, encoder.encode(messageToJson(message)), this.#mask);
  }

  template(): SendTemplate {
    return websocketTemplate(this.load.config.size, this.#mask);
  }

  override rejectWaiters(error: Error): void {
    this.#upgraded?.reject(error);
    this.#upgraded = null;
    super.rejectWaiters(error);
  }

  onChunk(chunk: Uint8Array, nowUs: number): void {
    this.now = nowUs;
    let bytes = chunk;
    if (this.#head) {
      bytes = this.#readHead(chunk);
      if (this.#head) return;
    }
    try {
      this.#scanner.push(bytes, this.#onPayload);
    } catch (error) {
      this.failed((error as Error).message);
    }
  }

  /** Takes the upgrade's answer from the front of `chunk`; returns the bytes after it. */
  #readHead(chunk: Uint8Array): Uint8Array {
    const head = new Uint8Array(this.#head!.length + chunk.length);
    head.set(this.#head!);
    head.set(chunk, this.#head!.length);
    const end = headEnd(head);
    if (end === -1) {
      if (head.length > 16384) this.failed("WebSocket upgrade answer too long");
      else this.#head = head;
      return chunk.subarray(chunk.length);
    }
    this.#head = null;
    try {
      checkUpgradeAnswer(decoder.decode(head.subarray(0, end)), this.#key);
      this.#upgraded?.resolve();
      this.#upgraded = null;
    } catch (error) {
      this.failed((error as Error).message);
    }
    return head.subarray(end);
  }

  readonly #onPayload = (b: Uint8Array, s: number, e: number): void => {
    const opcode = this.#scanner.opcode;
    if (opcode === Opcode.TEXT) {
      if (startsWith(b, s, e, EVT_MSG_JSON) && b[e - 2] === QUOTE && b[e - 1] === BRACE) {
        const stamp = readStamp(b, e - 2 - this.load.config.size);
        if (stamp >= 0) {
          this.load.delivered(stamp, this.now);
          return;
        }
      } else if (startsWith(b, s, e, SEND_OK_JSON)) {
        this.load.acked++;
        return;
      }
      this.#parsed(b.subarray(s, e));
    } else if (opcode === Opcode.PING) {
      this.write(maskedFrame(Opcode.PONG, b.slice(s, e), this.#mask));
    } else if (opcode === Opcode.CLOSE && !this.load.quitting) {
      const code = e - s >= 2 ? (b[s] << 8) | b[s + 1] : "none";
      this.failed(
        `WebSocket closed by the server (${code} ${decoder.decode(b.subarray(s + 2, e))})`,
      );
    }
  };

  /** A text message off the fast path: decoded and parsed. */
  #parsed(payload: Uint8Array): void {
    let message: Message;
    try {
      message = parseJsonMessage(decoder.decode(payload));
    } catch (error) {
      this.load.error(`client ${this.index}: ${(error as Error).message}`);
      return;
    }
    if (message.method === "EVT_MSG") {
      this.stamped(readStamp(encoder.encode(message.content ?? ""), 0));
    } else this.other(message);
  }
}

function startsWith(b: Uint8Array, s: number, e: number, prefix: Uint8Array): boolean {
  if (e - s < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (b[s + i] !== prefix[i]) return false;
  return true;
}

interface LineWaiter {
  match(message: { command: string; params: string[] }): boolean;
  resolve(): void;
  reject(error: Error): void;
}

/** A client speaking IRC, for ngircd. */
class IrcClient extends Client {
  readonly #scanner = new LineScanner();
  #waiter: LineWaiter | null = null;
  #now = 0;

  async setUp(): Promise<void> {
    const { user } = account(this.index);
    const channel = "#" + roomName(this.room);
    await this.#step(`NICK ${user}\r\nUSER ${user} 0 * :bench\r\n`, (m) => m.command === "001");
    const { oper } = this.load.config;
    if (oper) {
      await this.#step(`OPER ${oper.name} ${oper.password}\r\n`, (m) => m.command === "381");
      await this.#step(
        `MODE ${user} +F\r\n`,
        (m) => m.command === "MODE" && m.params[m.params.length - 1].includes("F"),
      );
    }
    await this.#step(
      `JOIN ${channel}\r\n`,
      (m) => m.command === "366" && m.params[1]?.toLowerCase() === channel,
    );
  }

  #step(text: string, match: LineWaiter["match"]): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      this.#waiter = { match, resolve, reject };
    });
    this.writeText(text);
    return done;
  }

  template(): SendTemplate {
    return ircTemplate("#" + roomName(this.room), this.load.config.size);
  }

  rejectWaiters(error: Error): void {
    this.#waiter?.reject(error);
    this.#waiter = null;
  }

  onChunk(chunk: Uint8Array, nowUs: number): void {
    this.#now = nowUs;
    try {
      this.#scanner.push(chunk, this.#onLine);
    } catch (error) {
      this.failed((error as Error).message);
    }
  }

  readonly #onLine = (b: Uint8Array, s: number, e: number): void => {
    const text = privmsgTextOffset(b, s, e);
    if (text !== -1) {
      if (b[text] === STAMP_MARK) {
        const stamp = readStamp(b, text);
        if (stamp < 0) this.load.error(`client ${this.index}: PRIVMSG without a stamp`);
        else this.load.delivered(stamp, this.#now);
      } else if (b[text] === PART_MARK) this.load.fragments++;
      return;
    }
    if (e === s) return;
    let message;
    try {
      message = parseIrcLine(decoder.decode(b.subarray(s, e)));
    } catch (error) {
      this.load.error(`client ${this.index}: ${(error as Error).message}`);
      return;
    }
    if (message.command === "PING") {
      this.writeText(`PONG :${message.params[0] ?? ""}\r\n`);
      return;
    }
    const waiter = this.#waiter;
    if (waiter?.match(message)) {
      this.#waiter = null;
      waiter.resolve();
      return;
    }
    if (this.load.quitting) return;
    if (message.command === "ERROR" || isErrorNumeric(message.command)) {
      this.failed(`${message.command} ${message.params.join(" ")}`);
    }
  };

  override goodbye(): Promise<void> {
    return this.writeText("QUIT :bench done\r\n");
  }
}

/** Runs the worker: wires the main thread's messages to a {@link Load}. */
function main(scope: WorkerScope): void {
  let load: Load | null = null;
  scope.onmessage = (event) => {
    const message = event.data;
    if (message.type === "start") {
      load = new Load(message.config, message.shared);
      load.setUp().then(
        () => scope.postMessage({ type: "ready" }),
        (error) => scope.postMessage({ type: "fatal", message: (error as Error).message }),
      );
    } else if (message.type === "go") {
      load?.go(message.measureFromUs);
    } else if (message.type === "finish" && load) {
      const finishing = load;
      scope.postMessage({ type: "result", result: finishing.result() });
      finishing.close().then(() => scope.postMessage({ type: "closed" }));
    }
  };
}

main(globalThis as unknown as WorkerScope);
