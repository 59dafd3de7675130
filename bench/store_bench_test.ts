import assert from "node:assert/strict";

/** Runs `deno task bench:store` as a user would, from the project's root. */
async function storeBench(...args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "bench:store", ...args],
    cwd: new URL("../", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: text(output.stdout), stderr: text(output.stderr) };
}

Deno.test("bench:store explains its options and refuses bad ones with exit code 2", async () => {
  const help = await storeBench("--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: deno task bench:store/);
  const bad = await storeBench("--runs", "0");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--runs must be a whole number of at least 1, not "0"/);
  assert.match(bad.stderr, /Usage:/);
  const unknown = await storeBench("--bogus");
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown option '--bogus'/);
});

Deno.test("bench:store runs end to end, through the server too, on a small load", async () => {
  const dir = await Deno.makeTempDir({ prefix: "claptrap-store-bench-test-" });
  try {
    const json = `${dir}/results.json`;
    const run = await storeBench(
      "--messages",
      "40",
      "--connections",
      "2",
      "--window",
      "4",
      "--runs",
      "1",
      "--json",
      json,
    );
    assert.equal(run.code, 0, run.stderr);
    const rows = run.stdout.trim().split("\n").slice(2);
    // every number (messages/s, p50, p99, runs, commits) as N
    const shapes = rows.map((row) =>
      row.replace(/ \| [\d.]+/g, " | N").replace(/\d+ commits/, "N")
    );
    assert.deepEqual(shapes, [
      "| server, 1 client, 1 in flight: group commit (40 messages) | N | N | N | N |",
      "| server, 1 client, 1 in flight: one transaction per message (40 messages) | N | N | N | N |",
      "| store: group commit (40 messages) | N | N | N | N, N |",
      "| store: one transaction per message (4 messages) | N | N | N | N, N |",
      "| server: group commit (40 messages) | N | N | N | N |",
      "| server: one transaction per message (4 messages) | N | N | N | N |",
    ]);
    const results = JSON.parse(await Deno.readTextFile(json));
    assert.equal(results.length, 6);
    for (const result of results) assert.ok(result.messagesPerSecond > 0, JSON.stringify(result));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
