/**
 * The SQLite store passes the store contract: the cases say what the
 * reference store does.
 */

import { SqliteStore } from "../store/sqlite_store.ts";
import { STORE_CONTRACT } from "./store_contract.ts";

for (const { name, run } of STORE_CONTRACT) {
  Deno.test(`SQLite store: ${name}`, async () => {
    const store = await SqliteStore.open(":memory:");
    try {
      await run(store);
    } finally {
      await store.close();
    }
  });
}
