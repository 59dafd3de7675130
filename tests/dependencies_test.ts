/**
 * What users run fetches nothing: the server and the client are built from
 * this repository and Deno's built-ins alone, and test-only packages
 * (playwright-core, in tests/deno.lock) stay out of what `deno task start`
 * and `deno task client` install. The PostgreSQL store's one package is
 * loaded only for a postgres:// database, pinned and locked in
 * tests/deno.lock, which `deno task start:postgres` checks it against.
 */

import assert from "node:assert/strict";
import { withTimeout } from "./helpers.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** Runs deno in the repository's root with `env`; its exit code and output. */
async function deno(args: string[], env: Record<string, string> = {}) {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    const output = await withTimeout(child.output(), 60_000, `deno ${args.join(" ")}`);
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
}

Deno.test("the server, its store worker and the client import only local files and node: built-ins", async () => {
  for (
    const root of [
      "server.ts",
      "store/sqlite_worker.ts",
      "store/open_store.ts",
      "server/cluster/open_cluster.ts",
      "client.ts",
    ]
  ) {
    const { code, stdout, stderr } = await deno(["info", "--json", root]);
    assert.equal(code, 0, stderr);
    const graph = JSON.parse(stdout);
    assert.deepEqual(graph.npmPackages, {}, root);
    const foreign = graph.modules
      .map((module: { specifier: string }) => module.specifier)
      .filter((specifier: string) => !/^(file|node):/.test(specifier));
    assert.deepEqual(foreign, [], root);
  }
});

Deno.test("deno task start and deno task client download nothing into an empty DENO_DIR", async () => {
  const denoDir = await Deno.makeTempDir({ prefix: "claptrap-deno-dir-" });
  try {
    for (const task of ["start", "client", "start:postgres"]) {
      const { code, stdout, stderr } = await deno(["task", task, "--help"], { DENO_DIR: denoDir });
      assert.equal(code, 0, stderr);
      assert.match(stdout, /^Usage: /);
      assert.doesNotMatch(stderr, /Download/, `deno task ${task} fetched something`);
    }
    const packages = await Array.fromAsync(Deno.readDir(`${denoDir}/npm`)).catch(() => []);
    assert.deepEqual(packages.map((entry) => entry.name), [], "npm packages in DENO_DIR");
  } finally {
    await Deno.remove(denoDir, { recursive: true });
  }
});

/** The npm packages `module` imports, without the `npm:` prefix. */
async function npmPackages(module: string): Promise<string[]> {
  const { code, stdout, stderr } = await deno(["info", "--json", "--lock=tests/deno.lock", module]);
  assert.equal(code, 0, stderr);
  const graph = JSON.parse(stdout);
  return graph.modules
    .map((module: { specifier: string }) => module.specifier)
    .filter((specifier: string) => specifier.startsWith("npm:"))
    .map((specifier: string) => specifier.replace(/^npm:\/?/, ""));
}

Deno.test("the cluster's Redis link imports the redis package alone, pinned and locked", async () => {
  const packages = await npmPackages("server/cluster/redis_link.ts");
  assert.deepEqual(packages.map((p) => p.replace(/@[^@]*$/, "")), ["redis"]);
  assert.match(packages[0], /^redis@\d+\.\d+\.\d+$/, "pinned to one version");
  const lock = JSON.parse(await Deno.readTextFile(`${ROOT}tests/deno.lock`));
  assert.ok(lock.npm[packages[0]]?.integrity, `${packages[0]} is not in tests/deno.lock`);
});

Deno.test("the PostgreSQL store imports one npm package, pinned, and tests/deno.lock locks it", async () => {
  const { code, stdout, stderr } = await deno([
    "info",
    "--json",
    "--lock=tests/deno.lock",
    "store/postgres/postgres_store.ts",
  ]);
  assert.equal(code, 0, stderr);
  const graph = JSON.parse(stdout);
  const packages = graph.modules
    .map((module: { specifier: string }) => module.specifier)
    .filter((specifier: string) => specifier.startsWith("npm:"))
    .map((specifier: string) => specifier.replace(/^npm:\/?/, ""));
  assert.equal(packages.length, 1, packages.join(", "));
  assert.match(packages[0], /^postgres@\d+\.\d+\.\d+$/, "pinned to one version");
  const lock = JSON.parse(await Deno.readTextFile(`${ROOT}tests/deno.lock`));
  assert.ok(lock.npm[packages[0]]?.integrity, `${packages[0]} is not in tests/deno.lock`);
  const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks;
  assert.match(tasks["start:postgres"], /--lock=tests\/deno\.lock --frozen /);
});
