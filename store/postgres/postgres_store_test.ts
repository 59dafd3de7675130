import { engineTest, POSTGRES_MISSING, startPostgres } from "../../tests/engines.ts";
import { storeContract } from "../store_contract.ts";
import { PostgresStore } from "./postgres_store.ts";

storeContract(
  "PostgresStore",
  async () => PostgresStore.open(await (await startPostgres()).createDatabase()),
  (name, fn) => engineTest(POSTGRES_MISSING, name, fn),
);
