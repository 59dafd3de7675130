import assert from "node:assert/strict";
import { SqliteStore } from "../store/sqlite_store.ts";
import type { Globals } from "./globals.ts";
import { importGlobals } from "./globals_import.ts";
import { verifyPassword } from "../core/passwords.ts";

const OPTIONS = { scryptCost: 1024, now: 1 };

function globals(accounts: [string, string][]): Globals {
  return { accounts: new Map(accounts), rooms: ["lobby"], admins: new Set() };
}

/** What an import reports: accounts listed, passwords checked, passwords hashed. */
function counts(accounts: number, checked: number, hashed: number) {
  return { accounts, checked, hashed };
}

async function passwordOf(store: SqliteStore, name: string, password: string): Promise<boolean> {
  const account = await store.getAccount(name);
  return account !== null && !account.disabled &&
    await verifyPassword(password, account.passwordHash);
}

Deno.test("an unchanged globals.txt is imported again without checking any password", async () => {
  const store = await SqliteStore.open(":memory:");
  const file = globals([["ann", "ann-pw"], ["bob", "bob-pw"]]);
  assert.deepEqual(await importGlobals(store, file, OPTIONS), counts(2, 0, 2));
  const hash = (await store.getAccount("ann"))!.passwordHash;
  assert.deepEqual(await importGlobals(store, file, OPTIONS), counts(2, 0, 0));
  assert.equal((await store.getAccount("ann"))!.passwordHash, hash, "the stored hash is kept");
  assert.ok(await passwordOf(store, "bob", "bob-pw"));
  const reordered = globals([["bob", "bob-pw"], ["ann", "ann-pw"]]);
  assert.deepEqual(
    await importGlobals(store, reordered, OPTIONS),
    counts(2, 0, 0),
    "the order of the lines does not matter",
  );
  await store.close();
});

Deno.test("a changed password, or a removed account, makes the import check every password", async () => {
  const store = await SqliteStore.open(":memory:");
  await importGlobals(store, globals([["ann", "ann-pw"], ["bob", "bob-pw"]]), OPTIONS);
  const changed = globals([["ann", "ann-pw"], ["bob", "new-pw"]]);
  assert.deepEqual(await importGlobals(store, changed, OPTIONS), counts(2, 2, 1));
  assert.ok(await passwordOf(store, "bob", "new-pw"));
  assert.ok(!(await passwordOf(store, "bob", "bob-pw")));
  assert.deepEqual(
    await importGlobals(store, changed, OPTIONS),
    counts(2, 0, 0),
    "sealed again after the change",
  );
  assert.deepEqual(
    await importGlobals(store, globals([["ann", "ann-pw"]]), OPTIONS),
    counts(1, 1, 0),
  );
  assert.equal((await store.getAccount("bob"))!.disabled, true, "removed: disabled");
  await store.close();
});

Deno.test("a stored hash changed behind the seal's back is checked, and the file wins", async () => {
  const store = await SqliteStore.open(":memory:");
  const file = globals([["ann", "ann-pw"], ["bob", "bob-pw"]]);
  await importGlobals(store, file, OPTIONS);
  const seal = await store.globalsSeal();
  assert.ok(seal !== null);
  const bob = (await store.getAccount("bob"))!;
  const ann = (await store.getAccount("ann"))!;
  // as if the database had been edited: bob's hash is now ann's, the seal untouched
  await store.syncGlobalsAccounts([ann, { ...bob, passwordHash: ann.passwordHash }], seal);
  assert.ok(await passwordOf(store, "bob", "ann-pw"));
  assert.deepEqual(await importGlobals(store, file, OPTIONS), counts(2, 2, 1));
  assert.ok(await passwordOf(store, "bob", "bob-pw"));
  assert.ok(!(await passwordOf(store, "bob", "ann-pw")));
  await store.close();
});

Deno.test("a globals.txt without accounts keeps no seal", async () => {
  const store = await SqliteStore.open(":memory:");
  await importGlobals(store, globals([["ann", "ann-pw"]]), OPTIONS);
  assert.deepEqual(await importGlobals(store, globals([]), OPTIONS), counts(0, 0, 0));
  assert.equal(await store.globalsSeal(), null);
  assert.equal((await store.getAccount("ann"))!.disabled, true);
  await store.close();
});
