/**
 * Bounded attacks on the server of this tree, on 127.0.0.1 only: each
 * scenario starts `server.ts` as a child process, attacks it for a few
 * seconds, prints the server's memory and what an honest client saw
 * meanwhile, and stops the server. Sources are distinct loopback addresses
 * (127.0.x.y; Linux lets a socket bind any of 127.0.0.0/8), through
 * node:net, whose `localAddress` Deno.connect lacks; binding them is why the
 * task has `--allow-net` unscoped, though every connection goes to
 * 127.0.0.1. The honest client runs in a worker of its own
 * (`attack_probe.ts`), so that the attackers' work does not count in its
 * latencies; the machine's cores are shared all the same.
 *
 * `deno task bench:limits SCENARIO… [--seconds N] [--server-args="--flag value …"]`,
 * SCENARIO one of: history, joins, register, spray, decoy, parallel (all by
 * default).
 * @module
 */

import { parseArgs } from "node:util";
import { Client, sleep, summary } from "./attack_client.ts";
import type { Probe, ProbeReport } from "./attack_probe.ts";
import { peakRssKiB, type ServerProcess, spawnServer } from "../tests/server_process.ts";

/** Resident memory of a process now, in MiB. */
async function rssMiB(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("cat", { args: [`/proc/${pid}/status`] }).output();
  const status = new TextDecoder().decode(stdout);
  return Number(status.match(/VmRSS:\s+(\d+) kB/)![1]) / 1024;
}

/** Starts an honest client in a worker; `stop` ends it and summarises its latencies. */
function startProbe(probe: Probe): { stop(): Promise<string> } {
  const worker = new Worker(new URL("./attack_probe.ts", import.meta.url), { type: "module" });
  const report = new Promise<ProbeReport>((resolve) => {
    worker.onmessage = (event: MessageEvent<ProbeReport>) => resolve(event.data);
  });
  worker.postMessage(probe);
  return {
    async stop() {
      worker.postMessage("stop");
      const { samples, error } = await report;
      worker.terminate();
      return summary(samples) + (error ? ` (stopped early: ${error})` : "");
    },
  };
}

/** Flags for every server started, from `--server-args`. */
let extraServerArgs: string[] = [];

async function withServer(
  accounts: number,
  args: string[],
  attack: (server: ServerProcess) => Promise<void>,
): Promise<void> {
  const globals = await Deno.makeTempFile({ suffix: ".txt" });
  const lines = ["ann ann-pw", "bob bob-pw", "carol carol-pw", "honest honest-pw"];
  for (let i = 0; i < accounts; i++) lines.push(`user${i} user${i}-pw`);
  await Deno.writeTextFile(globals, `${lines.join("\n")}\n\nlobby\nrandom\n`);
  const server = await spawnServer(["--globals", globals, ...args, ...extraServerArgs]);
  try {
    await attack(server);
  } catch (error) {
    console.log(`failed: ${(error as Error).message}; the server's last lines:`);
    console.log(server.log.slice(-5).join("\n"));
  } finally {
    try {
      server.kill("SIGKILL");
    } catch {
      console.log(`the server had died: ${server.log.slice(-3).join("\n")}`);
    }
    await server.exited;
    await Deno.remove(globals);
  }
}

async function loggedIn(port: number, user: string, from?: string, push = false) {
  const client = await Client.open(port, from);
  const login = await client.request("LOGIN", {
    Username: user,
    Password: `${user}-pw`,
    Push: push ? "on" : "off",
  });
  if (login.params.Status !== "OK") throw new Error(`login ${user}: ${login.params.Status}`);
  return client;
}

/** HISTORY Limit=500 over 520 messages of 64 KiB: one honest asker, then 64 pipelined. */
async function history(seconds: number): Promise<void> {
  await withServer(4, ["--scrypt-cost", "1024", "--msg-rate", "0"], async (server) => {
    const ann = await loggedIn(server.port, "ann");
    await ann.request("JOIN_ROOM", { "Room-Name": "lobby" });
    const big = "😀".repeat(16_384); // 64 KiB of UTF-8
    for (let sent = 0; sent < 520; sent += 20) {
      for (let i = 0; i < 20; i++) ann.send("SEND_MSG", {}, big);
      for (let i = 0; i < 20; i++) await ann.next();
    }
    const before = await rssMiB(server.pid);
    const bob = await loggedIn(server.port, "bob");
    await bob.request("JOIN_ROOM", { "Room-Name": "lobby" });
    const page = await bob.request("HISTORY", { Limit: "500" }).catch((error) => error as Error);
    console.log(
      page instanceof Error
        ? `honest HISTORY Limit=500: ${page.message}`
        : `honest HISTORY Limit=500: ${page.params.Status}, ${
          (page.content ?? "").split("\n").length - 1
        } rows, ${page.content?.length ?? 0} characters, More=${page.params.More}`,
    );
    const quiet = startProbe({ port: server.port, kind: "ping", pauseMs: 20 });
    await sleep(3000);
    console.log(`honest PING, no attack: ${await quiet.stop()}`);
    const pings = startProbe({ port: server.port, kind: "ping", pauseMs: 20 });
    const end = Date.now() + seconds * 1000;
    let answered = 0;
    let dropped = 0;
    // four accounts, each pipelining 64 requests, again and again
    await Promise.all([0, 1, 2, 3].map(async (i) => {
      while (Date.now() < end) {
        const attacker = await loggedIn(server.port, `user${i}`).catch(() => null);
        if (!attacker) continue;
        await attacker.request("JOIN_ROOM", { "Room-Name": "lobby" });
        for (let n = 0; n < 64; n++) attacker.send("HISTORY", { Limit: "500" });
        for (let n = 0; n < 64 && !attacker.closed; n++) {
          await attacker.next().then(() => answered++, () => dropped++);
        }
        attacker.close();
        await sleep(50);
      }
    }));
    const latencies = await pings.stop();
    const after = await rssMiB(server.pid);
    console.log(
      `4 users pipelining 64 HISTORY Limit=500 each, again for ${seconds} s: ` +
        `${answered} answered, ${dropped} times dropped`,
    );
    console.log(
      `server memory: ${before.toFixed(0)} MiB before, ${after.toFixed(0)} MiB after, peak ${
        ((await peakRssKiB(server.pid)) / 1024).toFixed(0)
      } MiB`,
    );
    console.log(`honest PING meanwhile: ${latencies}`);
  });
}

/** A join/leave storm by 40 users while 300 push members idle and one member posts. */
async function joins(seconds: number): Promise<void> {
  await withServer(
    340,
    ["--scrypt-cost", "1024", "--max-connections-per-ip", "0", "--msg-rate", "0"],
    async (server) => {
      const members = [];
      for (let i = 0; i < 300; i++) {
        const member = await loggedIn(server.port, `user${i}`, undefined, true);
        await member.request("JOIN_ROOM", { "Room-Name": "lobby" });
        members.push(member);
      }
      const probe: Probe = { port: server.port, kind: "post", pauseMs: 20 };
      const quiet = startProbe(probe);
      await sleep(3000);
      console.log(`honest SEND_MSG acknowledgement, no storm: ${await quiet.stop()}`);
      const stormers = [];
      for (let i = 300; i < 340; i++) stormers.push(await loggedIn(server.port, `user${i}`));
      const stormy = startProbe(probe);
      const counts: Record<string, number> = {};
      const end = Date.now() + seconds * 1000;
      await Promise.all(stormers.map(async (stormer) => {
        while (Date.now() < end) {
          // join, leave, join the other room, leave: every JOIN_ROOM moves
          for (let i = 0; i < 16; i++) {
            if (i % 2) stormer.send("EXIT_ROOM");
            else stormer.send("JOIN_ROOM", { "Room-Name": i % 4 ? "random" : "lobby" });
          }
          for (let i = 0; i < 16; i++) {
            const status = (await stormer.next()).params.Status;
            if (i % 2 === 0) counts[status] = (counts[status] ?? 0) + 1;
          }
        }
      }));
      console.log(`honest SEND_MSG acknowledgement, storm: ${await stormy.stop()}`);
      console.log(`JOIN_ROOM by 40 users in ${seconds} s: ${JSON.stringify(counts)}`);
      console.log(`server memory: ${(await rssMiB(server.pid)).toFixed(0)} MiB`);
    },
  );
}

/** Registrations as fast as possible: from one address, then from 20. */
async function register(seconds: number): Promise<void> {
  await withServer(0, [], async (server) => {
    for (const addresses of [1, 20]) {
      const counts: Record<string, number> = {};
      const end = Date.now() + seconds * 1000;
      let next = 0;
      await Promise.all(Array.from({ length: addresses * 4 }, async (_, i) => {
        const from = `127.0.3.${1 + (i % addresses) + (addresses === 1 ? 0 : 100)}`;
        const client = await Client.open(server.port, from);
        while (Date.now() < end) {
          const status = (await client.request("REGISTER", {
            Username: `reg${addresses}x${next++}`,
            Password: "a long password",
          })).params.Status;
          counts[status] = (counts[status] ?? 0) + 1;
        }
        client.close();
      }));
      console.log(
        `REGISTER from ${addresses} address(es), 4 connections each, ${seconds} s: ${
          JSON.stringify(counts)
        } (${((counts.OK ?? 0) / seconds).toFixed(1)} accounts/s)`,
      );
    }
  });
}

/** Wrong passwords from 50 addresses while an honest user logs in and out. */
async function spray(seconds: number): Promise<void> {
  await withServer(60, ["--max-connections-per-ip", "0"], async (server) => {
    const probe: Probe = { port: server.port, kind: "login", pauseMs: 100 };
    const quiet = startProbe(probe);
    await sleep(3000);
    console.log(`honest LOGIN, no attack: ${await quiet.stop()}`);
    const sprayers = [];
    for (let a = 0; a < 50; a++) {
      for (let c = 0; c < 20; c++) {
        sprayers.push(await Client.open(server.port, `127.0.4.${a + 1}`));
      }
    }
    const during = startProbe(probe);
    const counts: Record<string, number> = {};
    const end = Date.now() + seconds * 1000;
    let guess = 0;
    await Promise.all(sprayers.map(async (sprayer) => {
      while (Date.now() < end && !sprayer.closed) {
        const status = (await sprayer.request("LOGIN", {
          Username: `user${guess++ % 60}`,
          Password: `Summer${guess}!`,
        }).catch(() => ({ params: { Status: "closed" } }))).params.Status;
        counts[status] = (counts[status] ?? 0) + 1;
      }
    }));
    console.log(`honest LOGIN during the spray: ${await during.stop()}`);
    console.log(`spray, 50 addresses × 20 connections, ${seconds} s: ${JSON.stringify(counts)}`);
    console.log(`server memory: ${(await rssMiB(server.pid)).toFixed(0)} MiB`);
    for (const sprayer of sprayers) sprayer.close();
  });
}

/**
 * Accounts hashed at the default cost, then the server restarted with
 * --scrypt-cost 1024: wrong passwords against unknown names.
 */
async function decoy(): Promise<void> {
  const dir = await Deno.makeTempDir();
  const db = `${dir}/decoy.db`;
  try {
    await withServer(0, ["--db", db], async (server) => {
      for (let i = 0; i < 10; i++) {
        const client = await Client.open(server.port, `127.0.5.${i + 1}`);
        const status = (await client.request("REGISTER", {
          Username: `old${i}`,
          Password: "a long password",
        })).params.Status;
        if (status !== "OK") throw new Error(`register: ${status}`);
        client.close();
      }
    });
    await withServer(0, ["--db", db, "--scrypt-cost", "1024"], async (server) => {
      const time = async (user: string) => {
        const client = await Client.open(
          server.port,
          `127.0.6.${1 + Math.floor(Math.random() * 200)}`,
        );
        const start = performance.now();
        await client.request("LOGIN", { Username: user, Password: "not the password" });
        const ms = performance.now() - start;
        client.close();
        return ms;
      };
      const wrong = [];
      const unknown = [];
      for (let i = 0; i < 40; i++) {
        wrong.push(await time(`old${i % 10}`));
        unknown.push(await time(`nobody${i}`));
      }
      console.log(`wrong password, account hashed at 16384: ${summary(wrong)}`);
      console.log(`unknown name, server at --scrypt-cost 1024: ${summary(unknown)}`);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** 64 wrong passwords at once from one address: how many are checked. */
async function parallel(): Promise<void> {
  await withServer(64, ["--scrypt-cost", "1024"], async (server) => {
    const clients = await Promise.all(
      Array.from({ length: 64 }, () => Client.open(server.port, "127.0.7.1")),
    );
    const statuses = await Promise.all(
      clients.map((client, i) =>
        client.request("LOGIN", { Username: `user${i}`, Password: "wrong guess" })
      ),
    );
    const counts: Record<string, number> = {};
    for (const { params } of statuses) counts[params.Status] = (counts[params.Status] ?? 0) + 1;
    console.log(`64 parallel wrong LOGINs from one address: ${JSON.stringify(counts)}`);
    for (const client of clients) client.close();
  });
}

const SCENARIOS: Record<string, (seconds: number) => Promise<void>> = {
  history,
  joins,
  register,
  spray,
  decoy,
  parallel,
};

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      seconds: { type: "string", default: "5" },
      "server-args": { type: "string", default: "" },
    },
  });
  const seconds = Math.min(60, Math.max(1, Number(values.seconds) || 5));
  extraServerArgs = values["server-args"].split(" ").filter((arg) => arg !== "");
  const names = positionals.length > 0 ? positionals : Object.keys(SCENARIOS);
  for (const name of names) {
    if (!SCENARIOS[name]) {
      console.error(`unknown scenario ${name}; one of ${Object.keys(SCENARIOS).join(", ")}`);
      Deno.exit(2);
    }
    console.log(`== ${name}`);
    await SCENARIOS[name](seconds);
  }
  Deno.exit(0);
}
