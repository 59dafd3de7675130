/**
 * Limits held by the servers of a cluster together: wrong passwords and
 * registrations spread over two servers count as on one, and a user who
 * floods one server and moves to another finds their messages spent there
 * too. Two servers in this process on one PostgreSQL database, over TCP.
 */

import assert from "node:assert/strict";
import { DEFAULT_FLOOD_LIMITS, type FloodLimits } from "../core/limits/flood_control.ts";
import { SPENDING_SHARE_MS } from "../core/limits/shared_limits.ts";
import type { ServerHandle } from "../mod.ts";
import { startCluster } from "./cluster_helpers.ts";
import { engineTest, POSTGRES_MISSING } from "./engines.ts";
import { inRoom, NEVER, RawConnection } from "./helpers.ts";

const SLOW = { freeFailures: 2, firstDelayMs: 60_000, maxDelayMs: 60_000, forgetAfterMs: 600_000 };

/** Two servers on one new database, with `limits` as their flood limits. */
async function twoServers(
  limits: Partial<FloodLimits>,
): Promise<[number, number, () => Promise<void>]> {
  const { servers } = await startCluster(2, {
    floodLimits: { ...DEFAULT_FLOOD_LIMITS, ...limits },
  });
  const [a, b] = servers.map((server: ServerHandle) => server.addr.port);
  return [a, b, async () => void await Promise.all(servers.map((server) => server.close()))];
}

/** The status of a request on a new connection to `port`. */
async function status(port: number, method: string, params: Record<string, string>) {
  const connection = await RawConnection.open(port);
  try {
    return (await connection.request(method, params)).params.Status;
  } finally {
    await connection.close();
  }
}

function login(port: number, user: string, password: string) {
  return status(port, "LOGIN", { Username: user, Password: password });
}

engineTest(
  POSTGRES_MISSING,
  "wrong passwords spread over two servers are throttled as on one, even when sent in parallel",
  async () => {
    const [a, b, close] = await twoServers({ loginsPerAccount: SLOW });
    try {
      assert.equal(await login(a, "ann", "guess 1"), "AUTH_FAILED");
      assert.equal(await login(a, "ann", "guess 2"), "AUTH_FAILED");
      assert.equal(await login(b, "ann", "guess 3"), "AUTH_FAILED");
      assert.equal(await login(b, "ann", "ann-pw"), "RATE_LIMITED", "three failures in all");
      assert.equal(await login(a, "ann", "ann-pw"), "RATE_LIMITED");
      assert.equal(await login(b, "bob", "bob-pw"), "OK", "other accounts log in");

      const parallel = await Promise.all(
        Array.from({ length: 16 }, (_, i) => login(i % 2 ? a : b, "carol", `guess ${i}`)),
      );
      assert.equal(
        parallel.filter((answer) => answer === "AUTH_FAILED").length,
        3,
        `two free failures, then one at the first delay: ${parallel.join(" ")}`,
      );
    } finally {
      await close();
    }
  },
);

engineTest(
  POSTGRES_MISSING,
  "an address guessing over two servers is slowed down on both, and so are its registrations",
  async () => {
    const [a, b, close] = await twoServers({
      attemptsPerAddress: SLOW,
      registrationsPerAddress: { perSecond: NEVER, burst: 2 },
    });
    try {
      assert.equal(
        await status(a, "REGISTER", { Username: "dora", Password: "a fine password" }),
        "OK",
      );
      assert.equal(
        await status(b, "REGISTER", { Username: "erin", Password: "a fine password" }),
        "OK",
      );
      assert.equal(
        await status(a, "REGISTER", { Username: "fay", Password: "a fine password" }),
        "RATE_LIMITED",
        "two accounts from this address over both servers",
      );
      for (const [port, user] of [[a, "nobody1"], [b, "nobody2"], [b, "nobody3"]] as const) {
        assert.equal(await login(port, user, "guess"), "AUTH_FAILED");
      }
      assert.equal(await login(a, "ann", "ann-pw"), "RATE_LIMITED", "three failures in all");
      assert.equal(
        await status(b, "REGISTER", { Username: "gil", Password: "a fine password" }),
        "RATE_LIMITED",
      );
    } finally {
      await close();
    }
  },
);

engineTest(
  POSTGRES_MISSING,
  "a user who floods one server and moves to another finds their messages spent there too",
  async () => {
    const [a, b, close] = await twoServers({ messages: { perSecond: NEVER, burst: 5 } });
    try {
      const onA = await inRoom(a, "ann");
      const posted = async (connection: RawConnection) => {
        let ok = 0;
        while ((await connection.request("SEND_MSG", {}, "flood")).params.Status === "OK") ok++;
        return ok;
      };
      assert.equal(await posted(onA), 5);
      await onA.close();
      // generously long for the servers to share what was spent
      await new Promise((resolve) => setTimeout(resolve, 10 * SPENDING_SHARE_MS));
      const onB = await inRoom(b, "ann");
      assert.equal(await posted(onB), 0, "the burst was spent on the other server");
      const bob = await inRoom(b, "bob");
      assert.equal(await posted(bob), 5, "other users are not charged");
      await onB.close();
      await bob.close();
    } finally {
      await close();
    }
  },
);
