import assert from "node:assert/strict";
import { parseGlobals } from "./globals.ts";
import { SAMPLE_ACCOUNTS, SamplePasswordsError, samplePasswordsIn } from "./sample_accounts.ts";
import { startServer } from "./server.ts";

const SHIPPED = new URL("../globals.txt", import.meta.url);

Deno.test("SAMPLE_ACCOUNTS are the accounts of the shipped globals.txt", async () => {
  const shipped = parseGlobals(await Deno.readFile(SHIPPED), "globals.txt");
  assert.deepEqual(shipped.accounts, SAMPLE_ACCOUNTS);
});

Deno.test("samplePasswordsIn names only the accounts that keep their sample password", () => {
  const accounts = new Map([["alice", "alice123"], ["bob", "changed!"], ["erin", "alice123"]]);
  assert.deepEqual(samplePasswordsIn(accounts), ["alice"]);
});

Deno.test("startServer refuses a reachable address while globals gives a sample password", async () => {
  const globals = { accounts: new Map([["bob", "changed!"], ["记者", "hongkong"]]), rooms: [] };
  for (const host of ["0.0.0.0", "::", "192.0.2.1"]) {
    await assert.rejects(
      startServer({ host, port: 0, globals, log: () => {} }),
      (error) =>
        error instanceof SamplePasswordsError &&
        error.message.startsWith(`refusing to listen on ${host}, which other machines can reach`) &&
        error.message.includes("gives 记者 the sample passwords") &&
        error.message.endsWith("or pass --allow-sample-passwords"),
    );
  }
  // this machine only, or told to, or no sample password left: it starts
  const starts = [
    { host: "127.0.0.1", globals },
    { host: "0.0.0.0", globals, allowSamplePasswords: true },
    { host: "0.0.0.0", globals: { accounts: new Map([["记者", "changed!"]]), rooms: [] } },
  ];
  for (const options of starts) {
    const server = await startServer({ ...options, port: 0, log: () => {} });
    await server.close();
  }
});
