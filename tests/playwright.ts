/**
 * playwright-core, the browser tests' only npm package, by its pinned
 * specifier (locked in tests/deno.lock). It is not in deno.json's imports:
 * `deno task` installs every npm package of the configuration before running
 * any task, so `deno task start` would download it (see the README's
 * Dependencies). Import it dynamically where only some tests need it.
 * @module
 */

export { type Browser, chromium, type Page } from "npm:playwright-core@1.65.1";
