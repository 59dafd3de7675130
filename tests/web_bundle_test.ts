import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).pathname;

Deno.test("web/public/app.js is the bundle of web/src (run `deno task bundle` after editing)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--platform", "browser", "-o", `${dir}/app.js`, "web/src/main.ts"],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    const fresh = await Deno.readTextFile(`${dir}/app.js`);
    const committed = await Deno.readTextFile(`${ROOT}web/public/app.js`);
    assert.ok(
      fresh === committed,
      "web/public/app.js is out of date: run `deno task bundle` and commit the result",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the web page's bundle uses no Deno API: the client library it shares with the terminal is browser-safe", async () => {
  const bundle = await Deno.readTextFile(`${ROOT}web/public/app.js`);
  assert.ok(bundle.includes("// client/chat_client.ts"), "the page uses ChatClient");
  assert.doesNotMatch(bundle, /\bDeno\b/);
});
