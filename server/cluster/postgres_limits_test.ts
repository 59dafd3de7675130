import assert from "node:assert/strict";
import { LOGIN_HELD, NO_FLOOD_LIMITS } from "../../core/limits/flood_control.ts";
import { SPENDING_SHARE_MS } from "../../core/limits/shared_limits.ts";
import { connect } from "../../store/postgres/connection.ts";
import { migratePostgres } from "../../store/postgres/schema.ts";
import { engineTest, POSTGRES_MISSING, startPostgres } from "../../tests/engines.ts";
import { PostgresLimits } from "./postgres_limits.ts";

const POLICY = { freeFailures: 2, firstDelayMs: 60_000, maxDelayMs: 60_000, forgetAfterMs: 1e6 };

engineTest(
  POSTGRES_MISSING,
  "login attempts of one address under way on two servers are held as on one, until the lease of one runs out; clocks a little apart make no one wait",
  async () => {
    const url = await (await startPostgres()).createDatabase();
    const sql = connect(url, 1);
    await migratePostgres(sql, "the test database");
    await sql`SELECT claptrap_register('node0', 60000), claptrap_register('node1', 60000)`;
    const limits = { ...NO_FLOOD_LIMITS, attemptsPerAddress: POLICY };
    const servers = [0, 1].map((i) =>
      new PostgresLimits(url, { node: `node${i}`, log: () => {} }).attach(limits, {
        shareSpent: () => {},
      })
    );
    const [a, b] = servers;
    try {
      const now = Date.now();
      // were all three to fail, the address would have 3 failures: past its 2 free ones
      assert.equal(await a.beginLogin("ann", "10.0.0.1", now), 0);
      assert.equal(await a.beginLogin("bob", "10.0.0.1", now), 0);
      assert.equal(await b.beginLogin("carol", "10.0.0.1", now), 0);
      assert.equal(await b.beginLogin("dave", "10.0.0.1", now), LOGIN_HELD);
      assert.equal(await a.beginLogin("dave", "10.0.0.2", now), 0, "other addresses go on");
      await a.loginEnded("ann", "10.0.0.1", "succeeded", now);
      assert.equal(await b.beginLogin("dave", "10.0.0.1", now), 0, "one has ended");
      assert.equal(await b.beginLogin("erin", "10.0.0.1", now), LOGIN_HELD);
      // the attempts under way on node0 count only while its lease lasts
      await sql`UPDATE claptrap_nodes SET lease_until = clock_timestamp() WHERE node = 'node0'`;
      assert.equal(await b.beginLogin("erin", "10.0.0.1", now), 0);
      for (const user of ["carol", "dave", "erin"]) {
        await b.loginEnded(user, "10.0.0.1", "failed", now);
      }
      assert.ok(await b.addressWait("10.0.0.1", now) > 50_000, "three failures: throttled");
      assert.ok(await b.beginLogin("fay", "10.0.0.1", now) > 50_000);
      // a server whose clock is behind: within the free failures nobody waits
      assert.equal(await a.beginLogin("zed", "10.0.0.3", now + 1_000), 0);
      assert.equal(await b.beginLogin("zed", "10.0.0.3", now), 0);
    } finally {
      await Promise.all(servers.map((server) => server.close()));
      await sql.end();
    }
  },
);

Deno.test("what was spent is shared once, soon after spending begins, and not while nobody spends", async () => {
  // the connection is made when first needed: never here
  let shares = 0;
  const limits = new PostgresLimits("postgres://127.0.0.1:1/none", { node: "node0", log: () => {} })
    .attach(NO_FLOOD_LIMITS, { shareSpent: () => shares++ });
  const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  try {
    await wait(3 * SPENDING_SHARE_MS);
    assert.equal(shares, 0, "nothing spent: nothing to share");
    limits.spendingBegan();
    limits.spendingBegan();
    await wait(SPENDING_SHARE_MS / 2);
    assert.equal(shares, 0, "not before the share is due");
    await wait(SPENDING_SHARE_MS);
    assert.equal(shares, 1);
    await wait(3 * SPENDING_SHARE_MS);
    assert.equal(shares, 1, "once for one beginning");
    limits.spendingBegan();
  } finally {
    await limits.close();
  }
  await wait(2 * SPENDING_SHARE_MS);
  assert.equal(shares, 1, "closed: the share due is not made");
});
