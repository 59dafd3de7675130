import { engineTest, POSTGRES_MISSING, startPostgres } from "../../tests/engines.ts";
import { STORE_CONTRACT } from "../../tests/store_contract.ts";
import { PostgresStore } from "./postgres_store.ts";

for (const { name, run } of STORE_CONTRACT) {
  engineTest(POSTGRES_MISSING, `PostgreSQL store: ${name}`, async () => {
    const store = await PostgresStore.open(await (await startPostgres()).createDatabase());
    try {
      await run(store);
    } finally {
      await store.close();
    }
  });
}
