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
