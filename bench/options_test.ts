import assert from "node:assert/strict";
import { parseGlobals } from "../server/globals.ts";
import {
  clientsOfWorker,
  durableCommits,
  globalsText,
  inFlightLimit,
  parseBenchArgs,
  parseTarget,
  probeAccount,
  roomOf,
  roomSizes,
} from "./options.ts";

Deno.test("parseBenchArgs defaults start a Claptrap server for 100 clients in 1 room", () => {
  const options = parseBenchArgs([]);
  assert.equal(options.protocol, "claptrap");
  assert.equal(options.spawn, true);
  assert.equal(options.clients, 100);
  assert.equal(options.rooms, 1);
  assert.equal(options.size, 64);
  assert.equal(options.rate, 0);
  assert.deepEqual(options.serverArgs, []);
});

Deno.test("parseBenchArgs takes repeated server arguments and --idle", () => {
  const options = parseBenchArgs([
    "--server-arg=--db",
    "--server-arg=:memory:",
    "--idle",
    "--clients",
    "5000",
    "--rooms",
    "50",
  ]);
  assert.deepEqual(options.serverArgs, ["--db", ":memory:"]);
  assert.equal(options.duration, 0);
  assert.equal(options.label, "claptrap 5000x50 idle");
});

Deno.test("parseBenchArgs refuses bad values", () => {
  assert.throws(() => parseBenchArgs(["--clients", "0"]), TypeError);
  assert.throws(() => parseBenchArgs(["--rooms", "3", "--clients", "2"]), TypeError);
  assert.throws(() => parseBenchArgs(["--size", "10"]), TypeError);
  assert.throws(() => parseBenchArgs(["--server", "irc"]), TypeError);
  assert.throws(
    () => parseBenchArgs(["--target", "claptrap://127.0.0.1:1", "--server-arg", "x"]),
    TypeError,
  );
});

Deno.test("parseTarget accepts loopback only", () => {
  assert.deepEqual(parseTarget("claptrap://127.0.0.1:6666"), { protocol: "claptrap", port: 6666 });
  assert.deepEqual(parseTarget("irc://localhost:6667/"), { protocol: "irc", port: 6667 });
  for (
    const bad of [
      "irc://10.0.0.1:6667",
      "http://127.0.0.1:80",
      "irc://127.0.0.1",
      "irc://127.0.0.2:1",
    ]
  ) {
    assert.throws(() => parseTarget(bad), TypeError, bad);
  }
});

Deno.test("clients are dealt to rooms and workers evenly", () => {
  assert.deepEqual(roomSizes(10, 3), [4, 3, 3]);
  assert.equal(roomSizes(1000, 10).reduce((a, b) => a + b, 0), 1000);
  const sizes = [0, 0, 0];
  for (let i = 0; i < 10; i++) sizes[roomOf(i, 3)]++;
  assert.deepEqual(sizes, roomSizes(10, 3));
  const all = [0, 1, 2].flatMap((w) => clientsOfWorker(w, 3, 10)).sort((a, b) => a - b);
  assert.deepEqual(all, [...Array(10).keys()]);
});

Deno.test("globalsText is a globals file the server accepts", () => {
  const globals = parseGlobals(globalsText(3, 2), "bench-globals.txt");
  assert.deepEqual([...globals.accounts.keys()], ["u0", "u1", "u2", "u3"]);
  assert.deepEqual(probeAccount(3), { user: "u3", password: "p3" });
  assert.equal(globals.accounts.get("u2"), "p2");
  assert.deepEqual(globals.rooms, ["r0", "r1"]);
});

Deno.test("inFlightLimit keeps bytes in flight per client and caps the total", () => {
  const base = { window: 2048, maxInFlight: 1 << 18 };
  assert.equal(inFlightLimit({ ...base, clients: 100, size: 64 }), 204_800);
  assert.equal(inFlightLimit({ ...base, clients: 100, size: 1024 }), 12_800);
  assert.equal(inFlightLimit({ ...base, clients: 1000, size: 64 }), 1 << 18);
  assert.equal(inFlightLimit({ ...base, clients: 10, size: 1 << 20 }), 160);
});

Deno.test("parseBenchArgs takes --transport websocket for a Claptrap server it starts", () => {
  const options = parseBenchArgs(["--transport", "websocket", "--clients", "10"]);
  assert.equal(options.transport, "websocket");
  assert.equal(options.label, "claptrap ws 10x1");
  assert.equal(parseBenchArgs([]).transport, "tcp");
  assert.throws(() => parseBenchArgs(["--transport", "ws"]), /tcp or websocket/);
  assert.throws(
    () => parseBenchArgs(["--transport", "websocket", "--server", "ngircd"]),
    /needs a Claptrap server started by the bench/,
  );
  assert.throws(
    () => parseBenchArgs(["--transport", "websocket", "--target", "claptrap://127.0.0.1:1"]),
    /needs a Claptrap server started by the bench/,
  );
});

Deno.test("parseBenchArgs takes a warm-up only with a sending phase", () => {
  assert.equal(parseBenchArgs(["--rate", "5000", "--warmup", "10"]).warmup, 10);
  assert.equal(parseBenchArgs([]).warmup, 0);
  assert.throws(() => parseBenchArgs(["--idle", "--warmup", "10"]), /needs a sending phase/);
  assert.throws(() => parseBenchArgs(["--warmup", "-1"]), TypeError);
  assert.throws(() => parseBenchArgs(["--duration", "3000", "--warmup", "3000"]), /too long/);
});

Deno.test("parseBenchArgs spaces messages evenly unless told random, which needs a rate", () => {
  assert.equal(parseBenchArgs([]).arrivals, "even");
  assert.equal(parseBenchArgs(["--rate", "300", "--arrivals", "random"]).arrivals, "random");
  assert.throws(
    () => parseBenchArgs(["--rate", "300", "--arrivals", "poisson"]),
    /--arrivals must be even or random, got "poisson"/,
  );
  assert.throws(() => parseBenchArgs(["--arrivals", "random"]), /--arrivals random needs a --rate/);
});

Deno.test("durableCommits is false for an in-memory database or --db-sync normal", () => {
  assert.equal(durableCommits([]), true);
  assert.equal(durableCommits(["--db", "/tmp/x.db", "--db-sync", "full"]), true);
  assert.equal(durableCommits(["--db=:memory:"]), false);
  assert.equal(durableCommits(["--db-sync", "normal", "--msg-rate", "0"]), false);
});

Deno.test("parseBenchArgs starts several Claptrap servers with --nodes, never for ngircd or a target", () => {
  assert.equal(parseBenchArgs([]).nodes, 1);
  assert.equal(parseBenchArgs(["--nodes", "3", "--engine-pid", "42"]).nodes, 3);
  assert.equal(parseBenchArgs(["--engine-pid", "42"]).enginePid, 42);
  assert.throws(() => parseBenchArgs(["--nodes", "2", "--server", "ngircd"]), /--nodes needs/);
  assert.throws(
    () => parseBenchArgs(["--nodes", "2", "--target", "claptrap://127.0.0.1:1"]),
    /--nodes needs/,
  );
  assert.throws(() => parseBenchArgs(["--nodes", "0"]), TypeError);
});
