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
