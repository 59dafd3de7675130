import assert from "node:assert/strict";
import { SERVER_USAGE } from "./cli.ts";
import { SERVER_OPTIONS, serverDefault, shownDefault } from "./options.ts";

/** The manual page of the server; README.md until the docs have their own page. */
async function docs(): Promise<{ name: string; text: string; complete: boolean }> {
  for (const name of ["docs/server.md", "README.md"]) {
    try {
      const text = await Deno.readTextFile(new URL(`../${name}`, import.meta.url));
      return { name, text, complete: name === "docs/server.md" };
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  throw new Error("neither docs/server.md nor README.md");
}

/**
 * The flags of the docs' flag tables and the defaults they give: rows whose
 * first cell names flags (`--port PORT`, or two: `--join-rate N`, `--join-burst N`).
 */
function documentedFlags(markdown: string): Map<string, string> {
  const flags = new Map<string, string>();
  for (const line of markdown.split("\n")) {
    if (!/^\|\s*`--/.test(line)) continue;
    const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((cell) => cell.trim());
    // --help is the parser's own, not an option of the server
    const names = [...cells[0].matchAll(/`--([a-z0-9-]+)/g)].map((match) => match[1])
      .filter((name) => name !== "help");
    const shown = cells[1].replaceAll("`", "").replaceAll("\\|", "|");
    const each = shown.split(", ");
    names.forEach((name, i) => flags.set(name, each.length === names.length ? each[i] : shown));
  }
  return flags;
}

Deno.test("the docs' flag table lists the option table's flags with their defaults", async () => {
  const { name, text, complete } = await docs();
  const documented = documentedFlags(text);
  const table = new Map(SERVER_OPTIONS.map((option) => [option.flag, shownDefault(option)]));
  for (const [flag, shown] of documented) {
    assert.ok(table.has(flag), `${name} lists --${flag}, which the server does not take`);
    assert.equal(shown, table.get(flag), `the default of --${flag} in ${name}`);
  }
  for (const flag of table.keys()) {
    if (complete) assert.ok(documented.has(flag), `${name} does not list --${flag}`);
    else assert.ok(text.includes(`--${flag}`), `${name} does not mention --${flag}`);
  }
});

Deno.test("--help shows every option with its default", () => {
  for (const option of SERVER_OPTIONS) {
    assert.ok(SERVER_USAGE.includes(`  --${option.flag}`), `--${option.flag} in --help`);
    const shown = shownDefault(option);
    if (shown !== "") assert.ok(SERVER_USAGE.includes(`default ${shown}`), `its default ${shown}`);
  }
});

Deno.test("the library's defaults are the flags' defaults: one close grace of 5 s", () => {
  assert.equal(serverDefault("closeGraceMs"), 5_000);
  assert.equal(serverDefault("pingIntervalMs"), 30_000);
  assert.equal(serverDefault("port"), 6666);
  assert.throws(() => serverDefault("store"), /no option gives store a default/);
});
