import assert from "node:assert/strict";
import { parseServerArgs, readTlsFiles } from "./cli.ts";
import { DEFAULT_SEARCH_LIMITS } from "../core/search.ts";

Deno.test("parseServerArgs takes PORT and MAX_ONLINE positionally, as the original did", () => {
  const args = parseServerArgs(["7000", "5"]);
  assert.equal(args.port, 7000);
  assert.equal(args.maxOnline, 5);
  assert.equal(args.host, "127.0.0.1", "this machine only, unless told");
  assert.equal(args.allowSamplePasswords, false);
  assert.equal(args.globals, null, "./globals.txt is read only if it exists");
  assert.equal(args.db, "./claptrap.db");
  assert.equal(args.dbSync, "full");
});

Deno.test("parseServerArgs defaults and flags", () => {
  assert.equal(parseServerArgs([]).port, 6666);
  assert.equal(parseServerArgs(["--allow-sample-passwords"]).allowSamplePasswords, true);
  const args = parseServerArgs([
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--max-online",
    "3",
    "--globals",
    "x.txt",
  ]);
  assert.deepEqual([args.host, args.port, args.maxOnline, args.globals], [
    "127.0.0.1",
    0,
    3,
    "x.txt",
  ]);
});

Deno.test("parseServerArgs reads --max-rooms, 10,000 by default", () => {
  assert.equal(parseServerArgs([]).maxRooms, 10_000);
  assert.equal(parseServerArgs(["--max-rooms", "35000"]).maxRooms, 35_000);
  assert.throws(
    () => parseServerArgs(["--max-rooms", "many"]),
    /--max-rooms must be a whole number from 0/,
  );
});

Deno.test("parseServerArgs rejects bad numbers and unknown flags with a clear message", () => {
  assert.throws(
    () => parseServerArgs(["70000"]),
    /--port must be a whole number from 0 to 65535, got "70000"/,
  );
  assert.throws(
    () => parseServerArgs(["--max-online", "0"]),
    /--max-online must be a whole number from 1/,
  );
  assert.throws(() => parseServerArgs(["1", "2", "3"]), /too many arguments: 3/);
  assert.throws(() => parseServerArgs(["--colour"]), /Unknown option '--colour'/);
  assert.throws(
    () => parseServerArgs(["--db-sync", "off"]),
    /--db-sync must be one of full, normal/,
  );
});

Deno.test("parseServerArgs reads the store and hashing flags", () => {
  const args = parseServerArgs([
    "--db",
    ":memory:",
    "--db-sync",
    "normal",
    "--db-max-batch",
    "1",
    "--scrypt-cost",
    "1024",
  ]);
  assert.deepEqual([args.db, args.dbSync, args.dbMaxBatch, args.scryptCost], [
    ":memory:",
    "normal",
    1,
    1024,
  ]);
  assert.equal(parseServerArgs([]).dbMaxBatch, undefined);
  assert.throws(
    () => parseServerArgs(["--scrypt-cost", "1000"]),
    /--scrypt-cost must be a power of two, got 1000/,
  );
});

Deno.test("parseServerArgs reads the search bounds, each a whole number in range", () => {
  assert.deepEqual(parseServerArgs([]).searchLimits, DEFAULT_SEARCH_LIMITS);
  const args = parseServerArgs([
    "--max-searches",
    "2",
    "--search-queue",
    "0",
    "--max-searches-per-user",
    "3",
    "--search-scan",
    "500",
  ]);
  assert.deepEqual(args.searchLimits, { running: 2, waiting: 0, perUser: 3, scanLimit: 500 });
  assert.throws(
    () => parseServerArgs(["--max-searches", "0"]),
    /--max-searches must be a whole number from 1 to 1024, got "0"/,
  );
  assert.throws(() => parseServerArgs(["--search-scan", "lots"]), /--search-scan must be/);
});

Deno.test("parseServerArgs serves the web client on port 8080 unless told otherwise", () => {
  const defaults = parseServerArgs([]);
  assert.equal(defaults.httpPort, 8080);
  assert.deepEqual(defaults.allowOrigins, [], "same origin only");
  assert.equal(parseServerArgs(["--http-port", "0"]).httpPort, 0, "0 picks a free port");
  assert.equal(parseServerArgs(["--no-http"]).httpPort, null);
  assert.throws(
    () => parseServerArgs(["--http-port", "65536"]),
    /--http-port must be a whole number from 0 to 65535, got "65536"/,
  );
  assert.throws(
    () => parseServerArgs(["--no-http", "--http-port", "8080"]),
    /--no-http and --http-port contradict each other/,
  );
});

Deno.test("parseServerArgs takes --allow-origin repeatedly, as origins only", () => {
  const args = parseServerArgs([
    "--allow-origin",
    "https://Chat.Example.com",
    "--allow-origin",
    "http://10.0.0.5:8080/",
  ]);
  assert.deepEqual(args.allowOrigins, ["https://chat.example.com", "http://10.0.0.5:8080"]);
  for (const bad of ["chat.example.com", "ftp://x", "https://x/path", "null", "*"]) {
    assert.throws(
      () => parseServerArgs(["--allow-origin", bad]),
      /--allow-origin must be an origin such as https:\/\/chat.example.com/,
      bad,
    );
  }
});

Deno.test("parseServerArgs takes --tls-cert and --tls-key together, never one alone", () => {
  const plain = parseServerArgs([]);
  assert.deepEqual([plain.tlsCert, plain.tlsKey], [null, null], "plain TCP and HTTP by default");
  const tls = parseServerArgs(["--tls-cert", "cert.pem", "--tls-key", "key.pem"]);
  assert.deepEqual([tls.tlsCert, tls.tlsKey], ["cert.pem", "key.pem"]);
  assert.throws(() => parseServerArgs(["--tls-cert", "cert.pem"]), /--tls-cert needs --tls-key/);
  assert.throws(() => parseServerArgs(["--tls-key", "key.pem"]), /--tls-key needs --tls-cert/);
});

const CERT_PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const KEY_PEM = "-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n";

/** A readTextFile over `files`, failing as Deno does for a file that is not there. */
function reader(files: Record<string, string>) {
  return (path: string) =>
    path in files
      ? Promise.resolve(files[path])
      : Promise.reject(new Deno.errors.NotFound(`No such file or directory: ${path}`));
}

Deno.test("readTlsFiles reads the PEM files of --tls-cert and --tls-key", async () => {
  const args = parseServerArgs(["--tls-cert", "c.pem", "--tls-key", "k.pem"]);
  const ecKey = "-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n";
  assert.deepEqual(
    await readTlsFiles(args, reader({ "c.pem": CERT_PEM, "k.pem": KEY_PEM })),
    { cert: CERT_PEM, key: KEY_PEM },
  );
  assert.deepEqual(
    await readTlsFiles(args, reader({ "c.pem": CERT_PEM, "k.pem": ecKey })),
    { cert: CERT_PEM, key: ecKey },
    "an EC (or RSA) key in its traditional form too",
  );
  assert.equal(await readTlsFiles(parseServerArgs([]), reader({})), undefined, "without TLS");
});

Deno.test("readTlsFiles names the flag whose file is missing or holds the wrong thing", async () => {
  const args = parseServerArgs(["--tls-cert", "c.pem", "--tls-key", "k.pem"]);
  await assert.rejects(
    readTlsFiles(args, reader({ "k.pem": KEY_PEM })),
    new TypeError("--tls-cert: cannot read c.pem: no such file"),
  );
  await assert.rejects(
    readTlsFiles(args, reader({ "c.pem": CERT_PEM })),
    new TypeError("--tls-key: cannot read k.pem: no such file"),
  );
  await assert.rejects(
    readTlsFiles(args, reader({ "c.pem": KEY_PEM, "k.pem": KEY_PEM })),
    new TypeError("--tls-cert: c.pem does not hold a certificate in PEM form"),
  );
  await assert.rejects(
    readTlsFiles(args, reader({ "c.pem": CERT_PEM, "k.pem": CERT_PEM })),
    new TypeError("--tls-key: k.pem does not hold a private key in PEM form"),
  );
  await assert.rejects(
    readTlsFiles(args, () => Promise.reject(new Error("Is a directory (os error 21)"))),
    new TypeError("--tls-cert: cannot read c.pem: Is a directory (os error 21)"),
  );
});

Deno.test("parseServerArgs reads the bounds on work and the rates of joins and registrations", () => {
  const defaults = parseServerArgs([]);
  assert.deepEqual(
    [defaults.maxHistoryBytes, defaults.historyConcurrency, defaults.joinRate, defaults.joinBurst],
    [1 << 20, 4, 1, 10],
  );
  assert.deepEqual(
    [defaults.registerRate, defaults.registerBurst, defaults.registerTotalRate],
    [3, 5, 60],
  );
  assert.equal(
    defaults.scryptConcurrency,
    Math.max(1, navigator.hardwareConcurrency - 1),
    "one per core but one",
  );
  assert.equal(parseServerArgs(["--scrypt-concurrency", "3"]).scryptConcurrency, 3);
  const args = parseServerArgs([
    "--max-history-bytes",
    "65536",
    "--history-concurrency",
    "2",
    "--join-rate",
    "0.5",
    "--join-burst",
    "3",
    "--register-rate",
    "0",
    "--register-burst",
    "1",
    "--register-total-rate",
    "600",
  ]);
  assert.deepEqual(
    [args.maxHistoryBytes, args.historyConcurrency, args.joinRate, args.joinBurst],
    [65536, 2, 0.5, 3],
  );
  assert.deepEqual([args.registerRate, args.registerBurst, args.registerTotalRate], [0, 1, 600]);
  assert.throws(
    () => parseServerArgs(["--history-concurrency", "0"]),
    /--history-concurrency must be a whole number from 1 to 1024, got "0"/,
  );
  assert.throws(
    () => parseServerArgs(["--max-history-bytes", "100"]),
    /--max-history-bytes must be a whole number from 1024/,
  );
});

Deno.test("parseServerArgs takes the listener limits: --max-connections, HTTP head bounds, --allow-host", () => {
  const defaults = parseServerArgs([]);
  assert.deepEqual(
    [
      defaults.maxConnections,
      defaults.httpHeaderTimeoutMs,
      defaults.maxHttpHeaderBytes,
      defaults.allowHosts,
    ],
    [10_000, 10_000, 16_384, []],
  );
  const args = parseServerArgs([
    "--max-connections",
    "0",
    "--http-header-timeout",
    "3",
    "--max-http-header-bytes",
    "4096",
    "--allow-host",
    "Chat.Example.com",
    "--allow-host",
    "proxy",
  ]);
  assert.deepEqual(
    [args.maxConnections, args.httpHeaderTimeoutMs, args.maxHttpHeaderBytes, args.allowHosts],
    [0, 3_000, 4_096, ["chat.example.com", "proxy"]],
  );
  assert.throws(
    () => parseServerArgs(["--max-http-header-bytes", "100"]),
    /--max-http-header-bytes must be a whole number from 1024 to 1048576, got "100"/,
  );
  for (const bad of ["chat.example.com:8080", "https://chat.example.com", "a_b", ""]) {
    assert.throws(
      () => parseServerArgs(["--allow-host", bad]),
      /--allow-host must be a host name such as chat.example.com/,
      bad,
    );
  }
});

Deno.test("parseServerArgs bounds requests to join peer chats: how long they wait, how many", () => {
  const defaults = parseServerArgs([]);
  assert.deepEqual([defaults.peerInviteTimeoutMs, defaults.maxPeerInvites], [60_000, 5]);
  const args = parseServerArgs(["--peer-invite-timeout", "10", "--max-peer-invites", "2"]);
  assert.deepEqual([args.peerInviteTimeoutMs, args.maxPeerInvites], [10_000, 2]);
  assert.throws(
    () => parseServerArgs(["--max-peer-invites", "0"]),
    /--max-peer-invites must be a whole number from 1 to 1000/,
  );
});
