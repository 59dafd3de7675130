import assert from "node:assert/strict";
import { FailureThrottle } from "./failure_throttle.ts";
import {
  DEFAULT_FLOOD_LIMITS,
  FloodControl,
  LOGIN_HELD,
  NO_FLOOD_LIMITS,
} from "./flood_control.ts";
import { TokenBucket, TokenBuckets } from "./token_bucket.ts";

Deno.test("a token bucket allows its burst at once, then the rate", () => {
  const bucket = new TokenBucket({ perSecond: 10, burst: 5 }, 1_000);
  for (let i = 0; i < 5; i++) assert.equal(bucket.take(1_000), 0);
  assert.equal(bucket.take(1_000), 100, "empty: one token per 100 ms");
  assert.equal(bucket.take(1_050), 50);
  assert.equal(bucket.take(1_100), 0);
  assert.equal(bucket.take(1_100), 100);
  assert.ok(bucket.isFull(10_000), "refills to the burst, never beyond");
  for (let i = 0; i < 5; i++) assert.equal(bucket.take(10_000), 0);
  assert.ok(bucket.take(10_000) > 0);
});

Deno.test("a token bucket with rate 0 never limits", () => {
  const bucket = new TokenBucket({ perSecond: 0, burst: 0 }, 0);
  for (let i = 0; i < 1000; i++) assert.equal(bucket.take(0), 0);
});

Deno.test("token buckets per key are independent and forgotten once full again", () => {
  const buckets = new TokenBuckets({ perSecond: 1, burst: 1 });
  assert.equal(buckets.take("ann", 0), 0);
  assert.equal(buckets.take("bob", 0), 0);
  assert.equal(buckets.take("ann", 0), 1000);
  // each user sends once a second apart: by the next sweep, the earlier buckets are full again
  for (let i = 0; i < 2000; i++) buckets.take(`user${i}`, 10_000 + i * 1000);
  assert.ok(buckets.size < 1100, `swept the full buckets: ${buckets.size} left`);
});

Deno.test("failure delays double up to the cap and are forgotten after a quiet spell", () => {
  const throttle = new FailureThrottle({
    freeFailures: 1,
    firstDelayMs: 100,
    maxDelayMs: 350,
    forgetAfterMs: 10_000,
  });
  throttle.failed("k", 0);
  assert.equal(throttle.waitFor("k", 0), 0);
  const delays = [];
  for (let i = 0; i < 4; i++) {
    throttle.failed("k", 0);
    delays.push(throttle.waitFor("k", 0));
  }
  assert.deepEqual(delays, [100, 200, 350, 350]);
  assert.equal(throttle.waitFor("k", 300), 50, "waiting counts down");
  assert.equal(throttle.waitFor("k", 10_000), 0, "forgotten");
  assert.equal(throttle.count("k", 10_000), 0);
});

Deno.test("a login attempt counts against its account and its address until it ends", () => {
  const flood = new FloodControl({
    ...DEFAULT_FLOOD_LIMITS,
    loginsPerAccount: { freeFailures: 1, firstDelayMs: 1000, maxDelayMs: 1000, forgetAfterMs: 1e6 },
    attemptsPerAddress: {
      freeFailures: 2,
      firstDelayMs: 1000,
      maxDelayMs: 1000,
      forgetAfterMs: 1e6,
    },
  });
  assert.ok(flood.isQuiet("10.0.0.1", 0));
  assert.equal(flood.beginLogin("ann", "10.0.0.1", 0), 0);
  assert.ok(!flood.isQuiet("10.0.0.1", 0), "an attempt under way");
  assert.equal(flood.beginLogin("ann", "10.0.0.1", 0), 0, "one free failure");
  assert.equal(flood.beginLogin("ann", "10.0.0.1", 0), 1000, "the two under way count");
  flood.loginSucceeded("ann", "10.0.0.1");
  assert.equal(flood.loginFailures("ann", 0), 0);
  // the address: two free failures, so three attempts may be under way at once
  assert.equal(flood.beginLogin("bob", "10.0.0.1", 0), 0);
  assert.equal(flood.beginLogin("carol", "10.0.0.1", 0), 0);
  assert.equal(flood.beginLogin("dave", "10.0.0.1", 0), LOGIN_HELD, "a fourth waits");
  assert.equal(flood.beginLogin("dave", "10.0.0.2", 0), 0, "another address need not");
  flood.loginSucceeded("bob", "10.0.0.1");
  assert.equal(flood.beginLogin("erin", "10.0.0.1", 0), 0, "its turn came: one has ended");
  for (let i = 0; i < 3; i++) flood.loginFailed("10.0.0.1", 0);
  assert.equal(flood.beginLogin("frank", "10.0.0.1", 0), 1000, "three failures: throttled");
  flood.loginAbandoned("dave", "10.0.0.2");
  assert.ok(flood.isQuiet("10.0.0.2", 0), "an abandoned attempt is no failure");
});

Deno.test("no flood limits means none", () => {
  const flood = new FloodControl(NO_FLOOD_LIMITS);
  for (let i = 0; i < 1000; i++) {
    assert.equal(flood.messageWait("ann", 0), 0);
    assert.equal(flood.beginLogin("ann", "a", 0), 0);
    assert.equal(flood.beginLogin("bob", "a", 0), 0);
    flood.loginFailed("a", 0);
    flood.registerFailed("a", 0);
    assert.equal(flood.registerWait("a", 0), 0);
    assert.equal(flood.joinWait("ann", 0), 0);
    assert.equal(flood.registrationWait("a", 0).wait, 0);
  }
});

Deno.test("registrations spend a token of their address and one of the server, given back on refusal", () => {
  const flood = new FloodControl({
    ...NO_FLOOD_LIMITS,
    registrationsPerAddress: { perSecond: 1 / 60, burst: 2 },
    registrations: { perSecond: 1, burst: 3 },
  });
  assert.deepEqual(flood.registrationWait("a", 0), { wait: 0, perAddress: false });
  assert.deepEqual(flood.registrationWait("a", 0), { wait: 0, perAddress: false });
  assert.deepEqual(flood.registrationWait("a", 0), { wait: 60_000, perAddress: true });
  flood.registrationRefused("a", 0); // the second one: NAME_TAKEN
  assert.deepEqual(flood.registrationWait("a", 0), { wait: 0, perAddress: false }, "given back");
  assert.deepEqual(flood.registrationWait("b", 0), { wait: 0, perAddress: false });
  assert.deepEqual(
    flood.registrationWait("b", 0),
    { wait: 1000, perAddress: false },
    "the server's three are spent",
  );
  assert.deepEqual(
    flood.registrationWait("b", 1000),
    { wait: 0, perAddress: false },
    "b's second token came back when the server had none",
  );
  assert.equal(flood.registrationWait("b", 1000).perAddress, true, "b's two are spent now");
});

Deno.test("a tally of spent tokens tells when spending begins, once until it is taken", () => {
  const flood = new FloodControl({
    ...NO_FLOOD_LIMITS,
    messages: { perSecond: 1, burst: 2 },
    joins: { perSecond: 1, burst: 1 },
  });
  let began = 0;
  flood.tallySpending(() => began++);
  assert.equal(flood.messageWait("ann", 0), 0);
  assert.equal(flood.joinWait("bob", 0), 0);
  assert.equal(flood.messageWait("ann", 0), 0);
  assert.equal(began, 1, "told once while spending waits to be taken");
  const spent = flood.takeSpending();
  assert.equal(spent.messages.get("ann"), 2);
  assert.equal(spent.joins.get("bob"), 1);
  assert.ok(flood.messageWait("ann", 0) > 0, "refused: nothing spent");
  assert.equal(began, 1);
  assert.equal(flood.messageWait("cid", 0), 0);
  assert.equal(began, 2, "told again once taken");
});
