import assert from "node:assert/strict";
import { parseServerArgs } from "./cli.ts";

Deno.test("parseServerArgs takes PORT and MAX_ONLINE positionally, as the original did", () => {
  const args = parseServerArgs(["7000", "5"]);
  assert.equal(args.port, 7000);
  assert.equal(args.maxOnline, 5);
  assert.equal(args.host, "0.0.0.0");
  assert.equal(args.globals, null, "./globals.txt is read only if it exists");
  assert.equal(args.db, "./claptrap.db");
  assert.equal(args.dbSync, "full");
});

Deno.test("parseServerArgs defaults and flags", () => {
  assert.equal(parseServerArgs([]).port, 6666);
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
