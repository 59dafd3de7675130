import assert from "node:assert/strict";
import { Status } from "../protocol/methods.ts";
import { SqliteStore } from "../store/sqlite_store.ts";
import { Chat } from "./chat.ts";
import { type FloodLimits, NO_FLOOD_LIMITS } from "./flood_control.ts";
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
async function chatWith(
  costs: number[],
  options: { passwords: PasswordScheme; floodLimits: FloodLimits },
) {
  const store = await SqliteStore.open(":memory:");
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
  const { chat, store } = await chatWith([2048, 2048, 4096, 4096], {
    passwords: scheme,
    floodLimits: NO_FLOOD_LIMITS,
  });
  const costOf = async (user: string) => {
    const outcome = await chat.login(sessionFrom("10.0.0.1"), user, "guess", false);
    assert.equal(outcome.status, Status.AUTH_FAILED);
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
  const { chat, store } = await chatWith([], { passwords: scheme, floodLimits: NO_FLOOD_LIMITS });
  await chat.login(sessionFrom("10.0.0.1"), "nobody", "guess", false);
  assert.equal(checked[0].cost, 1024);
  await store.close();
});
