import assert from "node:assert/strict";
import { engineTest, POSTGRES_MISSING, startPostgres } from "../../tests/engines.ts";
import { connect } from "./connection.ts";
import { OrderedStatements } from "./ordered_statements.ts";

engineTest(
  POSTGRES_MISSING,
  "statements sent without waiting run in the order they were made, while their connection opens too",
  async () => {
    const url = await (await startPostgres()).createDatabase();
    const setup = connect(url, 1);
    await setup`CREATE TABLE done (k serial PRIMARY KEY, what text NOT NULL)`;
    await setup.end();
    // the postgres package alone sends part of what waited for the connection, then a query
    // made meanwhile, then the rest
    const sql = connect(url, 1);
    const ordered = new OrderedStatements();
    const made: string[] = [];
    const answers: Promise<unknown>[] = [];
    for (let turn = 0; turn < 60; turn++) {
      for (let k = 0; k < 4; k++) {
        const what = `${turn}.${k}`;
        made.push(what);
        answers.push(ordered.run(() => sql`INSERT INTO done (what) VALUES (${what})`));
      }
      if (turn === 30) {
        // a statement that fails does not stop the ones after it
        answers.push(assert.rejects(ordered.run(() => sql`INSERT INTO missing VALUES (1)`)));
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all(answers);
    const rows = await sql<{ what: string }[]>`SELECT what FROM done ORDER BY k`;
    assert.deepEqual(rows.map((row) => row.what), made);
    await sql.end();
  },
);

Deno.test("statements waiting beyond the bound are refused at once", async () => {
  const ordered = new OrderedStatements();
  let ran = 0;
  const stuck = () => (ran++, new Promise<never>(() => {}));
  for (let i = 0; i < 10_000; i++) void ordered.run(stuck);
  await assert.rejects(ordered.run(stuck), /10000 statements wait for the database already/);
  assert.equal(ran, 1, "one at a time");
});
