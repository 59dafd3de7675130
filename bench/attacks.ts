/**
 * Attacks on the server's listeners, on loopback only, bounded in count and
 * time, each against a fresh `server.ts` child: a reset flood, a slow-loris
 * on HTTP, one fragmented 600 MB WebSocket message and ten of 60 MB, and a
 * WebSocket fan-out for the CPU cost of a delivery. While each runs, an
 * honest TCP client and an honest WebSocket client ping the server; the
 * report gives their round trips and the server's memory.
 *
 * `deno task bench:attacks [--root DIR] [--only NAME]`: DIR is the Claptrap
 * checkout whose server.ts runs (default this one), so that an older
 * commit can be measured the same way.
 * @module
 */

import net from "node:net";
import { parseArgs } from "node:util";
import { ChatClient } from "../client/chat_client.ts";
import { tcp } from "../client/tcp_transport.ts";
import { parseStat, parseStatus, readProc } from "./proc.ts";
import { median } from "./stats.ts";

const ATTACKER = "127.0.0.2"; // another address than the honest clients', for the per-address cap

interface Server {
  pid: number;
  port: number;
  httpPort: number;
  exited: Promise<number>;
  log: string[];
  stop(): Promise<void>;
}

async function startServer(root: string, extra: string[] = []): Promise<Server> {
  const dir = await Deno.makeTempDir({ prefix: "claptrap-attacks-" });
  const accounts = Array.from({ length: 300 }, (_, i) => `u${i} password${i}\n`).join("");
  await Deno.writeTextFile(`${dir}/globals.txt`, `${accounts}\nlobby\n`);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      `${root}/server.ts`,
      ...["--host", "127.0.0.1", "--port", "0", "--http-port", "0", "--db", ":memory:"],
      ...["--globals", `${dir}/globals.txt`, "--scrypt-cost", "2", "--no-login-throttle"],
      ...extra,
    ],
    cwd: dir,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const log: string[] = [];
  let ready!: (ports: [number, number]) => void;
  const ports = new Promise<[number, number]>((resolve) => ready = resolve);
  let port = 0;
  (async () => {
    let partial = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop()!;
      for (const line of lines) {
        if (log.length < 10_000) log.push(line);
        port ||= Number(line.match(/listening addr=[^ ]*:(\d+)/)?.[1] ?? 0);
        const http = Number(line.match(/listening http=[^ ]*:(\d+)/)?.[1] ?? 0);
        if (http) ready([port, http]);
      }
    }
  })();
  const exited = child.status.then(async (status) => {
    await Deno.remove(dir, { recursive: true });
    return status.code;
  });
  const [chatPort, httpPort] = await ports;
  return {
    pid: child.pid,
    port: chatPort,
    httpPort,
    exited,
    log,
    async stop() {
      try {
        child.kill("SIGKILL");
      } catch {
        // exited already
      }
      await exited;
    },
  };
}

/** Round trips of an honest client that pings every 10 ms; `stop` returns them in ms. */
interface Pinger {
  stop(): Promise<number[]>;
}

async function tcpPinger(port: number, user: number): Promise<Pinger> {
  const client = await ChatClient.connect(tcp({ port }));
  await client.login(`u${user}`, `password${user}`);
  const times: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const start = performance.now();
      try {
        await client.ping();
      } catch {
        times.push(Infinity);
        return;
      }
      times.push(performance.now() - start);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await client.close().catch(() => {});
      return times;
    },
  };
}

async function webSocketPinger(httpPort: number, user: number): Promise<Pinger> {
  const socket = new WebSocket(`ws://127.0.0.1:${httpPort}/ws`);
  let answer: (() => void) | null = null;
  let closed = false;
  socket.onmessage = () => answer?.();
  socket.onclose = () => {
    closed = true;
    answer?.();
  };
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  const request = (message: unknown) =>
    new Promise<void>((resolve) => {
      answer = resolve;
      socket.send(JSON.stringify(message));
    });
  await request({ method: "LOGIN", params: { Username: `u${user}`, Password: `password${user}` } });
  const times: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running && !closed) {
      const start = performance.now();
      await request({ method: "PING" });
      times.push(closed ? Infinity : performance.now() - start);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      socket.close();
      return times;
    },
  };
}

/** Samples the server's resident memory every 100 ms; `stop` returns the largest, in MiB. */
function memorySampler(pid: number): { stop(): Promise<number> } {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        peak = Math.max(peak, parseStatus(await readProc(`/proc/${pid}/status`)).rssKiB);
      } catch {
        return; // the server is gone
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return peak / 1024;
    },
  };
}

/** A connection from the attacker's address; fails after 2 s (a server that no longer accepts). */
function socketTo(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: "127.0.0.1", localAddress: ATTACKER }, () => {
      clearTimeout(timer);
      socket.off("error", reject);
      resolve(socket);
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("connect timed out"));
    }, 2_000);
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Connects and resets `count` times, `parallel` at once, to each port. */
async function resetFlood(ports: number[], count: number, parallel = 50): Promise<string> {
  let done = 0;
  let failed = 0;
  for (const port of ports) {
    for (let i = 0; i < count; i += parallel) {
      await Promise.all(Array.from({ length: Math.min(parallel, count - i) }, async () => {
        try {
          (await socketTo(port)).resetAndDestroy();
          done++;
        } catch {
          failed++;
        }
      }));
    }
  }
  return `${done} resets, ${failed} connects failed`;
}

/** `count` HTTP connections that send a header byte every second, for `seconds`. */
async function slowLoris(port: number, count: number, seconds: number): Promise<string> {
  const sockets: net.Socket[] = [];
  let closedByServer = 0;
  const answers = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    try {
      const socket = await socketTo(port);
      socket.on("error", () => {});
      socket.on("close", () => closedByServer++);
      socket.on("data", (data: Uint8Array) => {
        const status = new TextDecoder().decode(data).match(/^HTTP\/1.1 (\d+)/)?.[1];
        if (status) answers.set(status, (answers.get(status) ?? 0) + 1);
      });
      socket.write("GET / HTTP/1.1\r\nHost: x\r\n");
      sockets.push(socket);
    } catch {
      break;
    }
  }
  const opened = sockets.length;
  for (let s = 0; s < seconds; s++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (const socket of sockets) if (!socket.destroyed) socket.write("X");
  }
  const open = sockets.filter((socket) => !socket.destroyed).length;
  for (const socket of sockets) socket.destroy();
  const statuses = [...answers].map(([status, n]) => `${n} × ${status}`).join(", ");
  return `${opened} opened; within ${seconds} s: answers ${statuses || "none"}, ` +
    `${closedByServer} closed, ${open} still open`;
}

/** A masked client frame header with a zero mask (the payload goes as it is). */
function frameHeader(opcode: number, fin: boolean, length: number): Uint8Array {
  const header = new Uint8Array(14);
  header[0] = (fin ? 0x80 : 0) | opcode;
  header[1] = 0x80 | 127;
  new DataView(header.buffer).setBigUint64(2, BigInt(length));
  return header; // mask 0 0 0 0
}

/** Sends `messages` fragmented text messages of `totalMiB` MiB in 1 MiB fragments, at once. */
async function bigMessages(httpPort: number, messages: number, totalMiB: number): Promise<string> {
  const fragment = new Uint8Array(1 << 20).fill(0x61);
  const results = await Promise.all(Array.from({ length: messages }, async () => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: httpPort });
    await conn.write(new TextEncoder().encode(
      `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${httpPort}\r\nUpgrade: websocket\r\n` +
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
        "Sec-WebSocket-Version: 13\r\n\r\n",
    ));
    let closed = false;
    let closeCode = "none";
    const start = performance.now();
    const reading = (async () => {
      const buffer = new Uint8Array(64 * 1024);
      let seen = "";
      try {
        while (true) {
          const n = await conn.read(buffer);
          if (n === null) break;
          seen = (seen + new TextDecoder("latin1").decode(buffer.subarray(0, n))).slice(-4096);
          const close = seen.lastIndexOf("\x88");
          if (close >= 0 && close + 3 < seen.length) {
            closeCode = String(seen.charCodeAt(close + 2) * 256 + seen.charCodeAt(close + 3));
          }
        }
      } catch {
        // reset
      }
      closed = true;
    })();
    let sent = 0;
    try {
      for (let i = 0; i < totalMiB && !closed; i++) {
        const header = frameHeader(i === 0 ? 1 : 0, i === totalMiB - 1, fragment.length);
        for (const bytes of [header, fragment]) {
          let written = 0;
          while (written < bytes.length) written += await conn.write(bytes.subarray(written));
        }
        sent++;
      }
    } catch {
      // the server closed the connection
    }
    const seconds = (performance.now() - start) / 1000;
    // give the server a moment to answer a complete message before we go
    for (let i = 0; i < 50 && !closed; i++) await new Promise((r) => setTimeout(r, 100));
    conn.close();
    await reading;
    return { sent, seconds, closeCode };
  }));
  const sent = results.map((r) => r.sent);
  const codes = [...new Set(results.map((r) => r.closeCode))].join(", ");
  return `${messages} × ${totalMiB} MiB: sent ${Math.min(...sent)}–${Math.max(...sent)} MiB ` +
    `each before the server closed (close code ${codes}), ` +
    `${Math.max(...results.map((r) => r.seconds)).toFixed(1)} s`;
}

function summary(times: number[]): string {
  if (times.length === 0) return "no answers";
  const lost = times.filter((t) => t === Infinity).length;
  const ok = times.filter((t) => t !== Infinity).sort((a, b) => a - b);
  if (ok.length === 0) return "no answers";
  const p99 = ok[Math.min(ok.length - 1, Math.floor(ok.length * 0.99))];
  return `p50 ${median(ok).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${
    ok[ok.length - 1].toFixed(1)
  } ms (${ok.length} pings${lost ? `, connection lost` : ""})`;
}

async function attack(root: string, name: string, run: (server: Server) => Promise<string>) {
  const server = await startServer(root);
  const memory = memorySampler(server.pid);
  const pingers = [
    await tcpPinger(server.port, 1),
    await webSocketPinger(server.httpPort, 2),
  ];
  const what = await run(server).catch((error) => `attack failed: ${error}`);
  const alive = await Promise.race([
    server.exited.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 200)),
  ]);
  let served = "no";
  if (alive) {
    const late = await Promise.race([
      tcpPinger(server.port, 3).then((pinger) => pinger.stop()).then(() => "yes"),
      new Promise<string>((resolve) => setTimeout(() => resolve("no (10 s)"), 10_000)),
    ]).catch(() => "no");
    served = late;
  }
  const [tcp, ws] = await Promise.all(pingers.map((pinger) => pinger.stop()));
  const peak = await memory.stop();
  const status = await readProc(`/proc/${server.pid}/status`).catch(() => "");
  const hwm = status ? (parseStatus(status).peakRssKiB / 1024).toFixed(0) : "?";
  const crash = server.log.filter((line) => /error|Uncaught/i.test(line)).slice(-1)[0] ?? "";
  console.log(`## ${name}`);
  console.log(`- attack: ${what}`);
  console.log(`- server alive afterwards: ${alive}${alive ? "" : ` (${crash.slice(0, 160)})`}`);
  console.log(`- a new client served afterwards: ${served}`);
  console.log(`- server RSS: peak sampled ${peak.toFixed(0)} MiB, VmHWM ${hwm} MiB`);
  console.log(`- honest TCP client: ${summary(tcp)}`);
  console.log(`- honest WebSocket client: ${summary(ws)}`);
  await server.stop();
}

/**
 * The server's CPU time per message delivered to each of `receivers`
 * clients of one transport, the messages sent 50 at a time.
 */
async function fanOut(root: string, receivers: number, messages: number, webSocket: boolean) {
  const server = await startServer(root, ["--msg-rate", "0", "--max-connections-per-ip", "0"]);
  const sockets: WebSocket[] = [];
  const clients: ChatClient[] = [];
  let delivered = 0;
  for (let i = 0; i < receivers; i++) {
    const user = 10 + i;
    if (webSocket) {
      const socket = new WebSocket(`ws://127.0.0.1:${server.httpPort}/ws`);
      await new Promise((resolve) => socket.onopen = resolve);
      let answers = 0;
      const joined = new Promise<void>((resolve) => {
        socket.onmessage = (event) => {
          if (String(event.data).includes('"EVT_MSG"')) delivered++;
          else if (++answers === 2) resolve();
        };
      });
      const login = { Username: `u${user}`, Password: `password${user}`, Push: "on" };
      socket.send(JSON.stringify({ method: "LOGIN", params: login }));
      socket.send(JSON.stringify({ method: "JOIN_ROOM", params: { "Room-Name": "lobby" } }));
      await joined;
      sockets.push(socket);
    } else {
      const client = await ChatClient.connect(tcp({ port: server.port }));
      await client.login(`u${user}`, `password${user}`, { push: true });
      await client.join("lobby");
      (async () => {
        for await (const event of client.events()) if (event.type === "message") delivered++;
      })();
      clients.push(client);
    }
  }
  const sender = await ChatClient.connect(tcp({ port: server.port }));
  await sender.login("u0", "password0");
  await sender.join("lobby");
  const cpu = async () => parseStat(await readProc(`/proc/${server.pid}/stat`)).cpuSeconds;
  const before = await cpu();
  const start = performance.now();
  for (let i = 0; i < messages; i += 50) {
    await Promise.all(
      Array.from({ length: 50 }, (_, j) => sender.send(`message ${i + j} ${"x".repeat(100)}`)),
    );
  }
  const expected = messages * receivers;
  for (let i = 0; i < 600 && delivered < expected; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const seconds = (performance.now() - start) / 1000;
  const used = await cpu() - before;
  console.log(
    `- ${webSocket ? "WebSocket" : "TCP"} fan-out, ${receivers} receivers × ${messages} ` +
      `messages: ${used.toFixed(2)} s server CPU, ${(used / expected * 1e6).toFixed(2)} µs ` +
      `per delivery (${delivered} of ${expected} delivered, ${seconds.toFixed(1)} s)`,
  );
  for (const socket of sockets) socket.close();
  for (const client of clients) await client.close().catch(() => {});
  await sender.close().catch(() => {});
  await server.stop();
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { root: { type: "string" }, only: { type: "string" } },
  });
  const root = values.root ?? new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const only = values.only;
  const attacks: [string, (server: Server) => Promise<string>][] = [
    ["reset flood (2,000 resets on each port)", (s) => resetFlood([s.port, s.httpPort], 2_000)],
    ["slow-loris on HTTP (1,000 connections, 20 s)", (s) => slowLoris(s.httpPort, 1_000, 20)],
    ["one fragmented 600 MB WebSocket message", (s) => bigMessages(s.httpPort, 1, 600)],
    ["ten fragmented 60 MB WebSocket messages", (s) => bigMessages(s.httpPort, 10, 60)],
  ];
  console.log(`# Attacks on ${root}\n`);
  for (const [name, run] of attacks) {
    if (!only || name.includes(only)) await attack(root, name, run);
  }
  if (!only || "fan-out".includes(only)) {
    console.log("## CPU per delivery");
    for (const webSocket of [true, false]) await fanOut(root, 200, 2_000, webSocket);
  }
}
