import assert from "node:assert/strict";
import { ngircdConfig, rescopeFlags, taskRunFlags } from "./servers.ts";

Deno.test("taskRunFlags reads the flags of a start task", () => {
  assert.deepEqual(
    taskRunFlags("deno run --allow-net --allow-read=. --allow-write=. server.ts"),
    ["--allow-net", "--allow-read=.", "--allow-write=."],
  );
  assert.deepEqual(taskRunFlags("deno run ./server.ts"), []);
  assert.equal(taskRunFlags("deno run client.ts"), null);
  assert.equal(taskRunFlags("node server.ts"), null);
});

Deno.test("rescopeFlags keeps unscoped flags and maps relative paths", () => {
  assert.deepEqual(
    rescopeFlags(["--allow-read", "--allow-write=./db,/var/x", "--allow-env=HOME"], "/r", "/t"),
    ["--allow-read", "--allow-write=/r/db,/var/x", "--allow-env=HOME"],
  );
});

Deno.test("the shipped ngircd.conf relaxes throttling and gets a port", async () => {
  const shipped = await Deno.readTextFile(new URL("./ngircd.conf", import.meta.url));
  for (
    const setting of [
      /MaxConnections = 0/,
      /MaxConnectionsIP = 0/,
      /MaxJoins = 0/,
      /MaxPenaltyTime = 0/,
      /DNS = no/,
      /Ident = no/,
      /PAM = no/,
      /\[Operator\]\s+(#.*\s+)*Name = bench\s+Password = bench/,
    ]
  ) assert.match(shipped, setting);
  const config = ngircdConfig(shipped, 40000);
  assert.match(config, /^\s*Ports = 40000$/m);
  assert.match(config, /^\s*Listen = 127\.0\.0\.1$/m);
  assert.throws(() => ngircdConfig("[Global]\n", 1), SyntaxError);
});
