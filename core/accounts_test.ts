import assert from "node:assert/strict";
import { MemoryStore } from "../store/memory_store.ts";
import { Chat } from "./chat.ts";
import { DEFAULT_FLOOD_LIMITS, type FloodLimits, NO_FLOOD_LIMITS } from "./limits/flood_control.ts";
import type { PasswordScheme } from "./passwords.ts";
import { Session } from "./session.ts";

/** A session from `ip`, with a peer that drops what it is sent. */
function sessionFrom(ip: string): Session {
  return new Session({ address: `${ip}:40000`, deliver() {}, close() {} });
}

/**
 * A password scheme that keeps passwords in the clear (`scrypt$N$8$1$$password`)
 * and records the cost of every hash it checks; when `gated`, each check
 * waits for `release()` (or fails after 5 s, so that a broken test ends).
 */
function recordingScheme(gated = false) {
  const checked: { cost: number; password: string }[] = [];
  const gates: (() => void)[] = [];
  const scheme: PasswordScheme = {
    hash: (password, cost) => Promise.resolve(`scrypt$${cost}$8$1$$${password}`),
    async verify(password, encoded) {
      checked.push({ cost: Number(encoded.split("$")[1]), password });
      if (gated) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const released = await new Promise<boolean>((resolve) => {
          gates.push(() => resolve(true));
          timer = setTimeout(() => resolve(false), 5_000);
        });
        clearTimeout(timer);
        if (!released) return false;
      }
      return encoded.split("$")[5] === password;
    },
  };
  /** Lets the check under way finish, once one is under way. */
  const release = async () => {
    for (let tries = 0; gates.length === 0; tries++) {
      if (tries === 1000) throw new Error("no password check under way");
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    gates.shift()!();
  };
  return { scheme, checked, release };
}

/** A chat over an in-memory store holding accounts `user0`… with the given costs. */
async function chatWithCosts(
  costs: number[],
  options: { passwords: PasswordScheme; floodLimits: FloodLimits; scryptConcurrency?: number },
) {
  const store = new MemoryStore();
  for (const [i, cost] of costs.entries()) {
    await store.createAccount({
      name: `user${i}`,
      passwordHash: `scrypt$${cost}$8$1$$user${i}-password`,
      source: "registered",
      disabled: false,
      createdAt: 0,
    });
  }
  const chat = new Chat({
    store,
    state: await store.load(),
    maxOnline: 1000,
    pollLog: { messages: 100, chars: 10_000 },
    scryptCost: 1024,
    ...options,
  });
  return { chat, store };
}

Deno.test("an unknown name is checked against a decoy of a cost the stored hashes have, the same each time", async () => {
  const { scheme, checked } = recordingScheme();
  const { chat, store } = await chatWithCosts([2048, 2048, 4096, 4096], {
    passwords: scheme,
    floodLimits: NO_FLOOD_LIMITS,
  });
  const costOf = async (user: string) => {
    const outcome = await chat.login(sessionFrom("10.0.0.1"), user, "guess", false);
    assert.equal(outcome.status, "AUTH_FAILED");
    return checked.at(-1)!.cost;
  };
  assert.equal(await costOf("user0"), 2048, "a wrong password: the account's own cost");
  const decoyCosts = [];
  for (let i = 0; i < 64; i++) decoyCosts.push(await costOf(`nobody${i}`));
  assert.deepEqual(new Set(decoyCosts), new Set([2048, 4096]), "never the current 1024");
  for (let i = 0; i < 64; i++) {
    assert.equal(await costOf(`nobody${i}`), decoyCosts[i], "a name's decoy does not change");
  }
  await store.close();
});

Deno.test("with no accounts stored, the decoy has the current cost", async () => {
  const { scheme, checked } = recordingScheme();
  const { chat, store } = await chatWithCosts([], {
    passwords: scheme,
    floodLimits: NO_FLOOD_LIMITS,
  });
  await chat.login(sessionFrom("10.0.0.1"), "nobody", "guess", false);
  assert.equal(checked[0].cost, 1024);
  await store.close();
});

Deno.test("passwords from an address without failures are checked before those from one with", async () => {
  const { scheme, checked, release } = recordingScheme(true);
  const { chat, store } = await chatWithCosts([1024, 1024, 1024], {
    passwords: scheme,
    floodLimits: DEFAULT_FLOOD_LIMITS,
    scryptConcurrency: 1,
  });
  const sprayer = "10.0.0.66";
  const failed = chat.login(sessionFrom(sprayer), "user0", "spray 0", false);
  await release();
  assert.equal((await failed).status, "AUTH_FAILED");
  const sprayed = [1, 2, 3].map((i) =>
    chat.login(sessionFrom(sprayer), `user${i % 3}`, `spray ${i}`, false)
  );
  const honest = chat.login(sessionFrom("10.0.0.9"), "user2", "user2-password", false);
  for (let i = 0; i < 4; i++) await release();
  assert.deepEqual(
    checked.map((check) => check.password),
    ["spray 0", "spray 1", "user2-password", "spray 2", "spray 3"],
    "the honest user's password went before the waiting sprays",
  );
  assert.equal((await honest).status, "OK");
  await Promise.all(sprayed);
  await store.close();
});

Deno.test("when too many passwords wait, LOGIN is answered RATE_LIMITED; quiet addresses go first", async () => {
  const { scheme, checked, release } = recordingScheme(true);
  const { chat, store } = await chatWithCosts([1024], {
    passwords: scheme,
    floodLimits: NO_FLOOD_LIMITS,
    scryptConcurrency: 1,
  });
  // 1 under way and 64 waiting (64 per one under way)
  const queued = Array.from(
    { length: 65 },
    (_, i) => chat.login(sessionFrom("10.0.0.1"), "user0", `guess ${i}`, false),
  );
  const refused = await chat.login(sessionFrom("10.0.0.1"), "user0", "one too many", false);
  assert.deepEqual(refused, {
    status: "RATE_LIMITED",
    reason: "the server is busy checking passwords; try again",
    retryAfterMs: 1000,
  });
  const honest = chat.login(sessionFrom("10.0.0.2"), "user0", "user0-password", false);
  assert.equal((await queued[64]).status, "RATE_LIMITED", "the last sprayed made room");
  await release();
  await release();
  assert.equal(checked[1].password, "user0-password");
  assert.equal((await honest).status, "OK");
  for (let i = 0; i < 63; i++) await release();
  const statuses = (await Promise.all(queued.slice(0, 64))).map((outcome) => outcome.status);
  assert.deepEqual(new Set(statuses), new Set(["AUTH_FAILED"]));
  assert.equal(checked.length, 65, "refused logins cost no check");
  await store.close();
});

Deno.test("a login still being checked when its connection ends does not log anyone in", async () => {
  const { scheme, release } = recordingScheme(true);
  const { chat, store } = await chatWithCosts([1024], {
    passwords: scheme,
    floodLimits: NO_FLOOD_LIMITS,
  });
  const gone = sessionFrom("10.0.0.1");
  const login = chat.login(gone, "user0", "user0-password", false);
  chat.disconnect(gone, "connection closed by client");
  await release();
  await login;
  assert.equal(gone.user, null);
  assert.equal(chat.onlineCount, 0, "user0 is not left online for nobody");
  await store.close();
});
