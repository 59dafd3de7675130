import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).pathname;
const denort = Deno.env.get("DENORT_BIN");

Deno.test({
  name: denort
    ? "deno task compile builds a server and a client that run on their own"
    : "deno task compile builds a server and a client that run on their own " +
      "(skipped: DENORT_BIN does not point at a denort binary, and deno compile cannot download one here)",
  ignore: !denort,
  async fn() {
    const compile = await new Deno.Command(Deno.execPath(), {
      args: ["task", "compile"],
      cwd: ROOT,
      env: { DENORT_BIN: denort! },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(compile.code, 0, new TextDecoder().decode(compile.stderr));
    for (
      const [binary, usage] of [["claptrap-server", /Usage: server.ts/], [
        "claptrap-client",
        /Usage: client.ts/,
      ]] as const
    ) {
      const run = await new Deno.Command(`${ROOT}dist/${binary}`, {
        args: ["--help"],
        stdout: "piped",
      }).output();
      assert.equal(run.code, 0);
      assert.match(new TextDecoder().decode(run.stdout), usage);
    }
  },
});
