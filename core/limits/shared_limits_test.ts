import assert from "node:assert/strict";
import type { Chat } from "../chat.ts";
import { type FanoutBus, InProcessBus, type NodeChat } from "../fanout_bus.ts";
import { Session } from "../session.ts";
import { online, RecordingSink, testChat } from "../testing.ts";
import { type FloodLimits, NO_FLOOD_LIMITS } from "./flood_control.ts";
import { InProcessLimits, type LimitsNode } from "./shared_limits.ts";

/** A rate so slow that no token comes back during a test. */
const NEVER_REFILLS = 0.000_001;

const THROTTLE = { freeFailures: 2, firstDelayMs: 60_000, maxDelayMs: 60_000, forgetAfterMs: 1e6 };

/**
 * Two chats ("servers") holding `limits` together, with a bus between them
 * that carries what they share; `shareSpent(i)` has server i tell the
 * other what its users spent.
 */
async function twoServers(limits: FloodLimits) {
  const shared = new InProcessLimits(limits);
  const nodes: NodeChat[] = [];
  const limitNodes: LimitsNode[] = [];
  const chats: Chat[] = [];
  for (let i = 0; i < 2; i++) {
    const { chat } = await testChat({
      users: ["ann", "bob"],
      rooms: ["lobby", "den"],
      floodLimits: limits,
      sharedLimits: (_, node) => {
        limitNodes.push(node);
        return shared;
      },
      bus: (local, node) => {
        nodes.push(node);
        const bus: FanoutBus = new InProcessBus(local);
        bus.share = (change) => nodes[1 - i].apply(change);
        return bus;
      },
    });
    chats.push(chat);
  }
  return { chats, shareSpent: (i: number) => limitNodes[i].shareSpent() };
}

function from(address: string): Session {
  return new Session(new RecordingSink(`${address}:40000`));
}

Deno.test("wrong passwords spread over two servers count as on one: the account is throttled on both", async () => {
  const { chats: [a, b] } = await twoServers({ ...NO_FLOOD_LIMITS, loginsPerAccount: THROTTLE });
  for (const [chat, i] of [[a, 1], [a, 2], [b, 3]] as const) {
    assert.equal(
      (await chat.login(from(`10.0.0.${i}`), "ann", "guess", false)).status,
      "AUTH_FAILED",
    );
  }
  const refused = await b.login(from("10.0.0.4"), "ann", "pw-ann", false);
  assert.equal(refused.status, "RATE_LIMITED", "b saw one failure, the cluster three");
  assert.equal((await a.login(from("10.0.0.4"), "ANN", "pw-ann", false)).status, "RATE_LIMITED");
  assert.equal((await a.login(from("10.0.0.4"), "bob", "pw-bob", false)).status, "OK");
});

Deno.test("guesses sent in parallel to two servers cannot slip past the account's count", async () => {
  const { chats } = await twoServers({ ...NO_FLOOD_LIMITS, loginsPerAccount: THROTTLE });
  const outcomes = await Promise.all(
    Array.from(
      { length: 20 },
      (_, i) => chats[i % 2].login(from(`10.0.1.${i}`), "ann", "x", false),
    ),
  );
  const failed = outcomes.filter((outcome) => outcome.status === "AUTH_FAILED").length;
  assert.equal(failed, 3, "two free failures, then one at the first delay");
});

Deno.test("an address guessing over two servers is slowed down on both, and so are its registrations", async () => {
  const { chats: [a, b] } = await twoServers({ ...NO_FLOOD_LIMITS, attemptsPerAddress: THROTTLE });
  for (const [chat, user] of [[a, "nobody1"], [b, "nobody2"], [b, "nobody3"]] as const) {
    assert.equal((await chat.login(from("10.0.2.1"), user, "guess", false)).status, "AUTH_FAILED");
  }
  assert.equal((await a.login(from("10.0.2.1"), "ann", "pw-ann", false)).status, "RATE_LIMITED");
  const register = await a.register(from("10.0.2.1"), "newcomer", "a fine long password");
  assert.equal(register.status, "RATE_LIMITED");
  assert.equal((await a.loginGuest(from("10.0.2.1"), "Kay", false)).status, "RATE_LIMITED");
  assert.equal((await a.login(from("10.0.2.2"), "ann", "pw-ann", false)).status, "OK");
});

Deno.test("refused registrations and guest logins on two servers add up per address", async () => {
  const { chats: [a, b] } = await twoServers({ ...NO_FLOOD_LIMITS, attemptsPerAddress: THROTTLE });
  assert.equal(
    (await a.register(from("10.0.3.1"), "ann", "a fine long password")).status,
    "NAME_TAKEN",
  );
  assert.equal((await b.loginGuest(from("10.0.3.1"), "ann", false)).status, "NAME_TAKEN");
  assert.equal(
    (await b.loginGuest(from("10.0.3.1"), "x".repeat(99), false)).status,
    "INVALID_NAME",
  );
  assert.equal((await a.loginGuest(from("10.0.3.1"), "Kay", false)).status, "RATE_LIMITED");
});

Deno.test("accounts created per address are counted over both servers", async () => {
  const { chats: [a, b] } = await twoServers({
    ...NO_FLOOD_LIMITS,
    registrationsPerAddress: { perSecond: NEVER_REFILLS, burst: 2 },
  });
  assert.equal((await a.register(from("10.0.4.1"), "carol", "a fine long password")).status, "OK");
  assert.equal((await b.register(from("10.0.4.1"), "dave", "a fine long password")).status, "OK");
  const refused = await a.register(from("10.0.4.1"), "erin", "a fine long password");
  assert.equal(refused.status, "RATE_LIMITED");
  assert.match(refused.reason!, /from this address/);
  assert.equal((await b.register(from("10.0.4.2"), "erin", "a fine long password")).status, "OK");
});

Deno.test("messages and room changes spent on one server are taken from the user's buckets on the other", async () => {
  const { chats: [a, b], shareSpent } = await twoServers({
    ...NO_FLOOD_LIMITS,
    messages: { perSecond: NEVER_REFILLS, burst: 3 },
    joins: { perSecond: NEVER_REFILLS, burst: 2 },
  });
  const onA = (await online(a, "ann")).session;
  for (let i = 0; i < 3; i++) assert.equal(a.takeMessageToken(onA), null);
  assert.equal((await a.join(onA, "lobby")).status, "OK");
  assert.equal((await a.join(onA, "den")).status, "OK");
  const onB = (await online(b, "ann")).session;
  const bobOnB = (await online(b, "bob")).session;
  assert.equal(b.takeMessageToken(onB), null, "b has not heard yet");
  shareSpent(0);
  assert.equal(b.takeMessageToken(onB)?.status, "RATE_LIMITED", "3 on a and 1 on b: 4 of 3");
  assert.equal((await b.join(onB, "lobby")).status, "RATE_LIMITED");
  assert.equal(b.takeMessageToken(bobOnB), null, "other users are not charged");
  shareSpent(1);
  assert.equal(a.takeMessageToken(onA)?.status, "RATE_LIMITED");
});
