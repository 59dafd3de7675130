/**
 * Bringing globals.txt into the store at start-up: its accounts (hashed)
 * and its rooms.
 * @module
 */

import type { AccountRecord } from "../store/records.ts";
import type { ChatStore } from "../store/store.ts";
import type { Globals } from "./globals.ts";
import { mapWithLimit } from "./map_with_limit.ts";
import { hashPassword, verifyPassword } from "./passwords.ts";

/**
 * Makes the store agree with globals.txt:
 * - each listed account exists with the listed password (a changed password
 *   replaces the stored hash; a registered account of the same name becomes
 *   a globals account);
 * - a globals account no longer listed is disabled: it keeps its name and
 *   history but cannot log in (listing it again enables it);
 * - each listed room exists (rooms are never removed: they hold history).
 * Registered accounts and user-created rooms are left alone.
 */
export async function importGlobals(
  store: ChatStore,
  globals: Globals,
  options: { scryptCost: number; now: number },
): Promise<void> {
  // scrypt takes a core and (at the default cost) 16 MiB per call: all
  // accounts at once took 0.7 GB of memory for 500 of them
  const accounts = await mapWithLimit(
    [...globals.accounts],
    navigator.hardwareConcurrency,
    async ([name, password]): Promise<AccountRecord> => {
      const stored = await store.getAccount(name);
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
  await store.syncGlobalsAccounts(accounts);
  for (const name of globals.rooms) {
    await store.createRoom({ kind: "room", name, createdBy: null, createdAt: options.now });
  }
}
