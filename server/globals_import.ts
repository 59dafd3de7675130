/**
 * Bringing globals.txt into the store at start-up: its accounts (hashed)
 * and its rooms.
 * @module
 */

import type { AccountRecord } from "../store/records.ts";
import type { ChatStore } from "../store/store.ts";
import type { Globals } from "./globals.ts";
import { mapWithLimit } from "./map_with_limit.ts";
import { hashPassword, verifyPassword } from "../core/passwords.ts";

/** What an import did, for the start-up log. */
export interface GlobalsImport {
  /** Accounts listed in globals.txt. */
  accounts: number;
  /** Stored password hashes checked against the listed passwords (one scrypt each). */
  checked: number;
  /** Passwords hashed anew: new accounts and changed passwords. */
  hashed: number;
}

/**
 * Makes the store agree with globals.txt:
 * - each listed account exists with the listed password (a changed password
 *   replaces the stored hash; a registered account of the same name becomes
 *   a globals account);
 * - a globals account no longer listed is disabled: it keeps its name and
 *   history but cannot log in (listing it again enables it);
 * - each listed room exists (rooms are never removed: they hold history).
 * Registered accounts and user-created rooms are left alone.
 *
 * Checking every password costs one scrypt each (about 17 s for 500
 * accounts at the default cost, on 2 cores), so the store also keeps a
 * seal: one scrypt hash of every listed name and password together with
 * the hash stored for it. When the seal still holds, the file and the
 * stored accounts are as they were after the last import, and no password
 * needs checking.
 */
export async function importGlobals(
  store: ChatStore,
  globals: Globals,
  options: { scryptCost: number; now: number },
): Promise<GlobalsImport> {
  const result = await importAccounts(store, [...globals.accounts], options);
  for (const name of globals.rooms) {
    await store.createRoom({ kind: "room", name, createdBy: null, createdAt: options.now });
  }
  return result;
}

async function importAccounts(
  store: ChatStore,
  listed: readonly [string, string][],
  options: { scryptCost: number; now: number },
): Promise<GlobalsImport> {
  const stored = await Promise.all(listed.map(([name]) => store.getAccount(name)));
  const seal = await store.globalsSeal();
  if (listed.length > 0 && seal !== null && await sealHolds(seal, listed, stored)) {
    await store.syncGlobalsAccounts(
      stored.map((account) => ({ ...account!, disabled: false })),
      seal,
    );
    return { accounts: listed.length, checked: 0, hashed: 0 };
  }
  const accounts = await checkEach(listed, stored, options);
  const hashes = accounts.map((account) => account.passwordHash);
  const newSeal = listed.length === 0
    ? null
    : await hashPassword(sealed(listed, hashes), options.scryptCost);
  await store.syncGlobalsAccounts(accounts, newSeal);
  return {
    accounts: listed.length,
    checked: stored.filter((account) => account?.source === "globals").length,
    hashed: hashes.filter((hash, i) => hash !== stored[i]?.passwordHash).length,
  };
}

/** Checks each listed password against its stored hash; hashes the new and the changed. */
function checkEach(
  listed: readonly [string, string][],
  stored: readonly (AccountRecord | null)[],
  options: { scryptCost: number; now: number },
): Promise<AccountRecord[]> {
  // scrypt takes a core and (at the default cost) 16 MiB per call: all
  // accounts at once took 0.7 GB of memory for 500 of them
  return mapWithLimit(
    listed.map(([name, password], i) => ({ name, password, stored: stored[i] })),
    navigator.hardwareConcurrency,
    async ({ name, password, stored }): Promise<AccountRecord> => {
      const unchanged = stored?.source === "globals" &&
        await verifyPassword(password, stored.passwordHash);
      return {
        name,
        passwordHash: unchanged
          ? stored.passwordHash
          : await hashPassword(password, options.scryptCost),
        source: "globals",
        disabled: false,
        createdAt: stored?.createdAt ?? options.now,
      };
    },
  );
}

/** Whether `seal` was made of these names and passwords with the hashes stored now. */
function sealHolds(
  seal: string,
  listed: readonly [string, string][],
  stored: readonly (AccountRecord | null)[],
): Promise<boolean> {
  if (!stored.every((account) => account?.source === "globals")) return Promise.resolve(false);
  return verifyPassword(sealed(listed, stored.map((account) => account!.passwordHash)), seal);
}

/**
 * What the seal is a hash of: every name, password and stored hash, by name
 * (so that reordering the file's lines does not break the seal).
 */
function sealed(listed: readonly [string, string][], hashes: readonly string[]): string {
  const entries = listed.map(([name, password], i) => [name, password, hashes[i]]);
  entries.sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
  return JSON.stringify(entries);
}
