/**
 * One benchmark run: start (or attach to) the server, set up the clients in
 * Web Workers, send, drain, measure, stop. Everything is bounded by the
 * hard timeout; the server started here is always stopped.
 * @module
 */

import {
  Counter,
  type FromWorker,
  SLOT,
  type ToWorker,
  type WorkerConfig,
  type WorkerResult,
} from "./load_worker.ts";
import {
  type BenchOptions,
  clientsOfWorker,
  durableCommits,
  inFlightLimit,
  probeAccount,
  roomOf,
  roomSizes,
} from "./options.ts";
import { searchOnce } from "./index_probe.ts";
import {
  CLOCK_TICKS,
  type MachineSample,
  openFileLimit,
  type ProcessSample,
  sampleMachine,
  sampleProcess,
  sampleThreads,
  sampleTree,
  type ThreadSample,
} from "./proc.ts";
import { type BenchResult, bottleneck, formatCount, formatNumber } from "./report.ts";
import { ngircdVersion, type ServerProcess, startClaptrap, startNgircd } from "./servers.ts";
import { LatencyHistogram } from "./stats.ts";

/** Where progress goes; a line at a time. */
export type ProgressSink = (line: string, final: boolean) => void;

/** IRC operator of bench/ngircd.conf, used to set user mode +F on senders. */
const OPER = { name: "bench", password: "bench" };

class Deadline {
  readonly at: number;
  constructor(seconds: number) {
    this.at = performance.now() + seconds * 1000;
  }
  get left(): number {
    return this.at - performance.now();
  }
  /** Resolves like `promise`, or rejects once the deadline passes. */
  race<T>(promise: Promise<T>, what: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`hard timeout while ${what}`)),
        Math.max(0, this.left),
      );
    });
    return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs one benchmark and returns its result (with `failure` set if it failed). */
export async function runBench(
  options: BenchOptions,
  progress: ProgressSink = () => {},
): Promise<BenchResult> {
  const deadline = new Deadline(options.timeout);
  const startedAt = new Date().toISOString();
  const workers: Worker[] = [];
  const servers: ServerProcess[] = [];
  const result = emptyResult(options, startedAt);
  try {
    const limit = await openFileLimit();
    if (limit < options.clients + 64) {
      throw new Error(
        `the open-file limit is ${limit}, too low for ${options.clients} connections: ` +
          `raise it first, e.g. \`ulimit -n ${Math.max(65536, options.clients * 2)}\``,
      );
    }
    if (options.spawn) {
      // one after the other: the first sets up a shared database
      for (let n = 0; n < options.nodes; n++) {
        servers.push(await deadline.race(startServer(options, deadline), "starting the server"));
      }
      result.versions.ngircd = options.protocol === "irc"
        ? await ngircdVersion(options.ngircd)
        : null;
    }
    const port = servers[0]?.port ?? options.port;
    const clientPorts = servers.length === 0
      ? [port]
      : servers.map((server) => options.transport === "websocket" ? server.httpPort! : server.port);
    const pids = servers.length > 0 ? servers.map((server) => server.pid) : [options.pid];
    const pid = pids[0] || null;
    result.serverStats.pid = pid;
    // a second of calm: the server settles, and other load on the machine shows
    const calm = await sampleMachine();
    await sleep(1000);
    const calmEnd = await sampleMachine();
    result.machine.backgroundPercent = busyPercent(calm, calmEnd, 1);
    const baseline = pid ? await sampleServers(pids) : null;
    result.serverStats.baselineRssKiB = baseline?.rssKiB ?? null;
    // V8 and the allocator give memory back some seconds after a burst (start-up's, the logins')
    let settledBaseline: number | null = null;
    if (options.settle > 0 && pid) {
      await sleep(options.settle * 1000);
      settledBaseline = (await sampleServers(pids)).rssKiB;
      result.serverStats.settledBaselineRssKiB = settledBaseline;
    }

    // set up the clients
    const shared = new SharedArrayBuffer(options.workers * SLOT * Int32Array.BYTES_PER_ELEMENT);
    const counters = new Int32Array(shared);
    const sum = (counter: number) => {
      let total = 0;
      for (let w = 0; w < options.workers; w++) total += Atomics.load(counters, w * SLOT + counter);
      return total;
    };
    const setupStart = performance.now();
    const inbox = options.workers > 0 ? startWorkers(options, clientPorts, shared, workers) : [];
    const ready = Promise.all(inbox.map((box) => box.next("ready")));
    const setupProgress = setInterval(() => {
      progress(
        `[${options.label}] setting up: ${sum(Counter.READY)}/${options.clients} ready`,
        false,
      );
    }, 1000);
    try {
      await deadline.race(ready, "setting up the clients");
    } finally {
      clearInterval(setupProgress);
    }
    result.setupSeconds = (performance.now() - setupStart) / 1000;
    progress(
      `[${options.label}] ${options.clients} clients ready in ${result.setupSeconds.toFixed(2)} s`,
      true,
    );
    await sleep(1000);
    const idle = pid ? await sampleServers(pids) : null;
    result.serverStats.readyRssKiB = idle?.rssKiB ?? null;
    if (baseline && idle) {
      result.serverStats.rssPerConnectionKiB = (idle.rssKiB - baseline.rssKiB) / options.clients;
    }
    if (settledBaseline !== null && pid) {
      await sleep(options.settle * 1000);
      const settled = await sampleServers(pids);
      result.serverStats.settledRssKiB = settled.rssKiB;
      result.serverStats.settledRssPerConnectionKiB = (settled.rssKiB - settledBaseline) /
        options.clients;
    }

    // send (the warm-up first), then drain
    if (options.duration > 0) {
      const sample = () => samples(pid ? pids : [], options.enginePid);
      let before = options.warmup > 0 ? null : await sample();
      const goAt = performance.now();
      const measureAt = goAt + options.warmup * 1000;
      const measureFromUs = options.warmup > 0 ? Math.round(measureAt * 1000) : 0;
      for (const worker of workers) {
        worker.postMessage({ type: "go", measureFromUs } satisfies ToWorker);
      }
      let sentBefore = 0;
      let deliveredBefore = 0;
      let lastReport = goAt;
      let lastDelivered = 0;
      let sendEnd = 0;
      let drainedAt = 0;
      const drainBy = () => sendEnd + options.drain * 1000;
      // Claptrap answers SEND_MSG once the message is on disk, which may be after its deliveries
      const acknowledged = () =>
        options.protocol !== "claptrap" || sum(Counter.ACKED) >= sum(Counter.SENT);
      for (;;) {
        await sleep(sendEnd ? 5 : 20);
        let now = performance.now();
        if (now > deadline.at) throw new Error("hard timeout while sending");
        if (!before && now >= measureAt) {
          sentBefore = sum(Counter.SENT);
          deliveredBefore = sum(Counter.RECEIVED);
          before = await sample();
          now = performance.now();
        }
        if (!sendEnd && sum(Counter.DONE) === options.workers) {
          if (!before) throw new Error("sending ended during the warm-up (--messages too few)");
          sendEnd = now;
        }
        const delivered = sum(Counter.RECEIVED);
        const expected = sum(Counter.EXPECTED);
        if (sendEnd && delivered >= expected && acknowledged()) {
          drainedAt = now;
          break;
        }
        if (sendEnd && now > drainBy()) {
          drainedAt = now;
          break;
        }
        if (now - lastReport >= 1000) {
          const rate = (delivered - lastDelivered) / ((now - lastReport) / 1000);
          progress(
            `[${options.label}] ${((now - goAt) / 1000).toFixed(1)} s${
              before ? "" : " (warm-up)"
            }: sent ${formatNumber(sum(Counter.SENT))}, delivered ${formatNumber(delivered)} (${
              formatCount(rate)
            }/s), in flight ${formatNumber(expected - delivered)}, errors ${sum(Counter.ERRORS)}${
              sendEnd ? ", draining" : ""
            }`,
            false,
          );
          lastReport = now;
          lastDelivered = delivered;
        }
      }
      if (options.protocol === "claptrap") {
        const { user, password } = probeAccount(options.clients);
        try {
          await deadline.race(searchOnce(port, user, password), "the closing search");
          result.indexedSeconds = (performance.now() - drainedAt) / 1000;
        } catch (error) {
          // e.g. a --server-root from before SEARCH: measured without it, and said so
          result.errorSamples.push(`not counted: ${(error as Error).message}`);
        }
      }
      result.measuredSent = sum(Counter.SENT) - sentBefore;
      result.measuredDelivered = sum(Counter.RECEIVED) - deliveredBefore;
      const after = await sample();
      result.sendSeconds = (sendEnd - measureAt) / 1000;
      result.measuredSeconds = (drainedAt - measureAt) / 1000;
      measure(result, before!, after, options);
    }

    // collect
    result.sent = sum(Counter.SENT);
    result.expected = sum(Counter.EXPECTED);
    const results = await deadline.race(
      Promise.all(inbox.map((box) => {
        box.worker.postMessage({ type: "finish" } satisfies ToWorker);
        return box.next("result");
      })),
      "collecting results",
    );
    result.delivered = sum(Counter.RECEIVED);
    result.errors = sum(Counter.ERRORS);
    result.acked = options.protocol === "claptrap" ? sum(Counter.ACKED) : null;
    summarise(result, results.map((m) => (m as { result: WorkerResult }).result), options);
    if (pid) {
      const end = await sampleServers(pids).catch(() => null);
      result.serverStats.peakRssKiB = end?.peakRssKiB ?? null;
    }
    await deadline.race(Promise.all(inbox.map((box) => box.next("closed"))), "closing clients")
      .catch(() => {});
  } catch (error) {
    result.failure = (error as Error).message;
  } finally {
    for (const worker of workers) worker.terminate();
    if (servers.length > 0) {
      result.serverStats.logLines = servers.reduce((lines, server) => lines + server.logLines(), 0);
      await Promise.all(servers.map((server) => server.stop()));
    }
  }
  progress("", true);
  return result;
}

async function startServer(options: BenchOptions, deadline: Deadline): Promise<ServerProcess> {
  const startTimeoutMs = Math.max(0, deadline.left);
  if (options.protocol === "claptrap") {
    return await startClaptrap({
      root: options.serverRoot,
      clients: options.clients,
      rooms: options.rooms,
      serverArgs: options.serverArgs,
      denoFlags: options.denoFlags,
      http: options.transport === "websocket",
      startTimeoutMs,
    });
  }
  return await startNgircd({ ngircd: options.ngircd, conf: options.ngircdConf, startTimeoutMs });
}

interface Inbox {
  worker: Worker;
  next(type: FromWorker["type"]): Promise<FromWorker>;
}

/** Starts the workers and returns a way to await each one's messages. */
function startWorkers(
  options: BenchOptions,
  ports: number[],
  shared: SharedArrayBuffer,
  workers: Worker[],
): Inbox[] {
  const sizes = roomSizes(options.clients, options.rooms);
  const perWorkerRate = options.rate / options.workers;
  const readBufferBytes = clamp(
    2 ** Math.floor(Math.log2((64 << 20) / options.clients)),
    4096,
    65536,
  );
  return Array.from({ length: options.workers }, (_, w) => {
    const clients = clientsOfWorker(w, options.workers, options.clients);
    const rooms = clients.map((i) => roomOf(i, options.rooms));
    const config: WorkerConfig = {
      worker: w,
      workers: options.workers,
      protocol: options.protocol,
      transport: options.transport,
      ports,
      clients,
      rooms,
      roomsEach: options.roomsEach,
      roomCount: options.rooms,
      fanouts: rooms.map((room) => sizes[room] - 1),
      size: options.size,
      rate: perWorkerRate,
      arrivals: options.arrivals,
      messages: options.messages > 0
        ? Math.floor(options.messages / options.workers) +
          (w < options.messages % options.workers ? 1 : 0)
        : 0,
      durationMs: (options.warmup + options.duration) * 1000,
      window: inFlightLimit(options),
      batch: options.batch,
      epochMs: performance.timeOrigin,
      readBufferBytes,
      oper: options.protocol === "irc" && options.duration > 0 ? OPER : null,
      connectConcurrency: 32,
    };
    const worker = new Worker(new URL("./load_worker.ts", import.meta.url).href, {
      type: "module",
      name: `bench-${w}`,
    });
    workers.push(worker);
    const queue: FromWorker[] = [];
    const waiting: { type: string; resolve(m: FromWorker): void; reject(e: Error): void }[] = [];
    let failure: Error | null = null;
    const deliver = () => {
      for (let i = 0; i < waiting.length; i++) {
        if (failure) {
          waiting.splice(i--, 1)[0].reject(failure);
          continue;
        }
        const found = queue.findIndex((m) => m.type === waiting[i].type);
        if (found !== -1) waiting.splice(i--, 1)[0].resolve(queue.splice(found, 1)[0]);
      }
    };
    worker.onmessage = (event: MessageEvent<FromWorker>) => {
      if (event.data.type === "fatal") failure = new Error(`worker ${w}: ${event.data.message}`);
      else queue.push(event.data);
      deliver();
    };
    worker.onerror = (event) => {
      event.preventDefault();
      failure = new Error(`worker ${w}: ${event.message}`);
      deliver();
    };
    worker.postMessage({ type: "start", config, shared } satisfies ToWorker);
    return {
      worker,
      next: (type) =>
        new Promise<FromWorker>((resolve, reject) => {
          waiting.push({ type, resolve, reject });
          deliver();
        }),
    };
  });
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

interface Samples {
  at: number;
  /** The servers, summed. */
  server: ProcessSample | null;
  serverThreads: ThreadSample[];
  generatorThreads: ThreadSample[];
  machine: MachineSample;
  /** The database server's CPU seconds (`--engine-pid`), or null. */
  engine: number | null;
}

async function samples(pids: number[], enginePid: number): Promise<Samples> {
  const [server, serverThreads, generatorThreads, machine, engine] = await Promise.all([
    pids.length > 0 ? sampleServers(pids) : Promise.resolve(null),
    Promise.all(pids.map(sampleThreads)).then((threads) => threads.flat()),
    sampleThreads(Deno.pid),
    sampleMachine(),
    enginePid ? sampleTree(enginePid) : Promise.resolve(null),
  ]);
  return { at: performance.now(), server, serverThreads, generatorThreads, machine, engine };
}

/** CPU time and memory of the servers, summed. */
async function sampleServers(pids: number[]): Promise<ProcessSample> {
  const each = await Promise.all(pids.map(sampleProcess));
  return {
    cpuSeconds: each.reduce((sum, s) => sum + s.cpuSeconds, 0),
    rssKiB: each.reduce((sum, s) => sum + s.rssKiB, 0),
    peakRssKiB: each.reduce((sum, s) => sum + s.peakRssKiB, 0),
  };
}

/** CPU used by each thread between two samples, by thread name and index. */
function threadDeltas(before: ThreadSample[], after: ThreadSample[]): ThreadSample[] {
  return after.map((thread, i) => ({
    name: thread.name,
    cpuSeconds: thread.cpuSeconds - (before[i]?.name === thread.name ? before[i].cpuSeconds : 0),
  }));
}

function measure(result: BenchResult, before: Samples, after: Samples, options: BenchOptions) {
  const wall = (after.at - before.at) / 1000;
  const cores = navigator.hardwareConcurrency;
  const s = result.serverStats;
  let serverThread: number | null = null;
  if (before.server && after.server) {
    s.cpuSeconds = after.server.cpuSeconds - before.server.cpuSeconds;
    s.cpuPercent = (s.cpuSeconds / wall) * 100;
    const busiest = Math.max(
      0,
      ...threadDeltas(before.serverThreads, after.serverThreads).map((t) => t.cpuSeconds),
    );
    serverThread = (busiest / wall) * 100;
    s.busiestThreadPercent = serverThread;
  }
  if (before.engine !== null && after.engine !== null) {
    const cpuSeconds = after.engine - before.engine;
    result.engine = { cpuSeconds, cpuMicrosPerDelivery: 0, cpuMicrosPerMessage: 0 };
  }
  const generator = threadDeltas(before.generatorThreads, after.generatorThreads);
  result.generator.cpuSeconds = generator.reduce((total, t) => total + t.cpuSeconds, 0);
  result.generator.cpuPercent = (result.generator.cpuSeconds / wall) * 100;
  const workerCpu = generator.filter((t) => t.name.startsWith("worker-")).map((t) => t.cpuSeconds);
  result.generator.busiestWorkerPercent = (Math.max(0, ...workerCpu) / wall) * 100;
  const total = after.machine.totalTicks - before.machine.totalTicks;
  const idle = after.machine.idleTicks - before.machine.idleTicks;
  const busy = busyPercent(before.machine, after.machine, wall);
  result.machine.cores = cores;
  result.machine.idlePercent = total > 0 ? (idle / total) * 100 : 0;
  result.machine.otherPercent = Math.max(
    0,
    busy - (s.cpuPercent ?? 0) - result.generator.cpuPercent -
      ((result.engine?.cpuSeconds ?? 0) / wall) * 100,
  );
  result.bottleneck = options.rate > 0 ? "fixed offered rate: " : "";
  result.bottleneck += bottleneck({
    serverThread,
    generatorThread: result.generator.busiestWorkerPercent,
    machineIdle: result.machine.idlePercent,
    other: result.machine.otherPercent,
  });
}

/** CPU busy between two machine samples `seconds` apart, percent of one core. */
function busyPercent(before: MachineSample, after: MachineSample, seconds: number): number {
  const busyTicks = (after.totalTicks - before.totalTicks) - (after.idleTicks - before.idleTicks);
  return (busyTicks / CLOCK_TICKS / seconds) * 100;
}

function summarise(result: BenchResult, workers: WorkerResult[], options: BenchOptions): void {
  const histogram = new LatencyHistogram();
  for (const w of workers) {
    histogram.merge(w.histogram);
    result.negativeLatencies += w.negative;
    result.errorSamples.push(...w.errors);
  }
  result.errorSamples = result.errorSamples.slice(0, 20);
  const ms = (us: number) => us / 1000;
  result.latencyMs = {
    p50: ms(histogram.percentile(50)),
    p90: ms(histogram.percentile(90)),
    p99: ms(histogram.percentile(99)),
    max: ms(histogram.max),
    mean: ms(histogram.mean),
    samples: histogram.total,
  };
  result.lost = result.expected - result.delivered;
  if (result.measuredSeconds > 0) {
    result.deliveriesPerSecond = result.measuredDelivered / result.measuredSeconds;
  }
  if (result.sendSeconds > 0) result.messagesPerSecond = result.measuredSent / result.sendSeconds;
  const s = result.serverStats;
  if (s.cpuSeconds !== null && result.measuredDelivered > 0) {
    s.cpuMicrosPerDelivery = (s.cpuSeconds * 1e6) / result.measuredDelivered;
    s.deliveriesPerCpuSecond = s.cpuSeconds > 0 ? result.measuredDelivered / s.cpuSeconds : null;
  }
  if (s.cpuSeconds !== null && result.measuredSent > 0) {
    s.cpuMicrosPerMessage = (s.cpuSeconds * 1e6) / result.measuredSent;
  }
  if (result.engine !== undefined && result.measuredDelivered > 0 && result.measuredSent > 0) {
    result.engine.cpuMicrosPerDelivery = (result.engine.cpuSeconds * 1e6) /
      result.measuredDelivered;
    result.engine.cpuMicrosPerMessage = (result.engine.cpuSeconds * 1e6) / result.measuredSent;
  }
  if (result.acked !== null && options.duration > 0 && result.acked !== result.sent) {
    result.errorSamples.push(`${result.sent - result.acked} SEND_MSG without RESP_SEND_MSG OK`);
  }
}

function emptyResult(options: BenchOptions, startedAt: string): BenchResult {
  return {
    label: options.label,
    server: options.protocol === "claptrap" ? "claptrap" : "ngircd",
    transport: options.transport,
    durableCommits: options.protocol === "claptrap" && options.spawn
      ? durableCommits(options.serverArgs)
      : null,
    spawned: options.spawn,
    startedAt,
    shape: {
      clients: options.clients,
      rooms: options.rooms,
      size: options.size,
      rate: options.rate,
      arrivals: options.arrivals,
      messages: options.messages,
      durationSeconds: options.duration,
      warmupSeconds: options.warmup,
      settleSeconds: options.settle,
      workers: options.workers,
      nodes: options.nodes,
      window: inFlightLimit(options),
      batch: options.batch,
    },
    setupSeconds: 0,
    sent: 0,
    expected: 0,
    delivered: 0,
    measuredSent: 0,
    measuredDelivered: 0,
    lost: 0,
    errors: 0,
    errorSamples: [],
    acked: null,
    measuredSeconds: 0,
    sendSeconds: 0,
    indexedSeconds: null,
    deliveriesPerSecond: 0,
    messagesPerSecond: 0,
    latencyMs: { p50: 0, p90: 0, p99: 0, max: 0, mean: 0, samples: 0 },
    negativeLatencies: 0,
    serverStats: {
      pid: null,
      cpuSeconds: null,
      cpuPercent: null,
      busiestThreadPercent: null,
      cpuMicrosPerDelivery: null,
      cpuMicrosPerMessage: null,
      deliveriesPerCpuSecond: null,
      baselineRssKiB: null,
      readyRssKiB: null,
      rssPerConnectionKiB: null,
      settledBaselineRssKiB: null,
      settledRssKiB: null,
      settledRssPerConnectionKiB: null,
      peakRssKiB: null,
      logLines: null,
    },
    generator: { cpuSeconds: 0, cpuPercent: 0, busiestWorkerPercent: 0 },
    machine: {
      cores: navigator.hardwareConcurrency,
      idlePercent: 0,
      otherPercent: 0,
      backgroundPercent: 0,
    },
    bottleneck: "",
    versions: { deno: Deno.version.deno, ngircd: null },
    failure: null,
  };
}
