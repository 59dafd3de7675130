import assert from "node:assert/strict";
import { NO_FLOOD_LIMITS } from "./limits/flood_control.ts";
import { Session } from "./session.ts";
import { online, RecordingSink, testChat } from "./testing.ts";

function newSession(address?: string): Session {
  return new Session(new RecordingSink(address));
}

Deno.test("a guest logs in by name alone, and the name is theirs while connected", async () => {
  const { chat } = await testChat({ users: ["ann"], rooms: ["lobby"] });
  const kay = newSession();
  assert.deepEqual(await chat.loginGuest(kay, "Kay", true), { status: "OK" });
  assert.equal(kay.user, "Kay");
  assert.equal(kay.guest, true);
  assert.equal((await chat.join(kay, "lobby")).status, "OK");
  for (const name of ["Kay", "kay", "Ｋａｙ", "K\u0430y"]) {
    const outcome = await chat.loginGuest(newSession(), name, true);
    assert.equal(outcome.status, "ALREADY_ONLINE", name);
    assert.equal(outcome.reason, `${name} or a look-alike name is online`);
  }
  const register = await chat.register(newSession(), "kay", "long enough pw");
  assert.deepEqual(register, { status: "NAME_TAKEN", reason: "someone online goes by that name" });
  chat.disconnect(kay, "gone");
  assert.equal(kay.guest, false);
  assert.deepEqual(await chat.loginGuest(newSession(), "kay", true), { status: "OK" });
});

Deno.test("a guest may not take an account's name or a look-alike, online or not", async () => {
  const { chat } = await testChat({ users: ["ann", "Ian"] });
  await online(chat, "ann");
  const taken = [
    ["Ian", "that name is an account's; log in with its password"],
    ["ian", "that name looks like an account's"],
    ["lan", "that name looks like an account's"],
  ];
  for (const [name, reason] of taken) {
    assert.deepEqual(await chat.loginGuest(newSession(), name, true), {
      status: "NAME_TAKEN",
      reason,
    });
  }
  assert.equal((await chat.loginGuest(newSession(), "ANN", true)).status, "ALREADY_ONLINE");
  const bad = await chat.loginGuest(newSession(), "bob\u200b", true);
  assert.deepEqual(bad, {
    status: "INVALID_NAME",
    reason: "name contains an invisible character (U+200B)",
  });
  assert.equal((await chat.loginGuest(newSession(), "", true)).status, "INVALID_NAME");
});

Deno.test("a guest login under way holds the name against REGISTER and other guests", async () => {
  const { chat } = await testChat();
  const first = chat.loginGuest(newSession(), "kay", true);
  const second = chat.loginGuest(newSession(), "KAY", true);
  const register = chat.register(newSession(), "Kay", "long enough pw");
  assert.equal((await second).status, "ALREADY_ONLINE");
  assert.equal((await register).status, "NAME_TAKEN");
  assert.equal((await first).status, "OK");
});

Deno.test("a guest login is refused on a session logged in, or gone", async () => {
  const { chat } = await testChat({ users: ["ann"] });
  const { session } = await online(chat, "ann");
  assert.equal((await chat.loginGuest(session, "kay", true)).status, "ALREADY_LOGIN");
  const gone = newSession();
  const login = chat.loginGuest(gone, "kay", true);
  chat.disconnect(gone, "closed");
  assert.equal((await login).status, "AUTH_FAILED");
  assert.equal(gone.user, null);
  assert.equal((await chat.loginGuest(newSession(), "kay", true)).status, "OK", "not held");
});

Deno.test("refused guest logins slow down further ones from the address", async () => {
  const { chat } = await testChat({
    users: ["ann"],
    floodLimits: {
      ...NO_FLOOD_LIMITS,
      attemptsPerAddress: {
        freeFailures: 2, // the third refusal is the first beyond them
        firstDelayMs: 60_000,
        maxDelayMs: 60_000,
        forgetAfterMs: 60_000,
      },
    },
  });
  for (let i = 0; i < 3; i++) {
    assert.equal((await chat.loginGuest(newSession(), "ann", true)).status, "NAME_TAKEN");
  }
  const slowed = await chat.loginGuest(newSession(), "kay", true);
  assert.equal(slowed.status, "RATE_LIMITED");
  assert.ok(slowed.retryAfterMs! > 0);
  const elsewhere = newSession("192.0.2.7:5000");
  assert.equal((await chat.loginGuest(elsewhere, "kay", true)).status, "OK");
});

Deno.test("a guest's messages cost the user's tokens like anyone's", async () => {
  const { chat } = await testChat({
    rooms: ["lobby"],
    floodLimits: { ...NO_FLOOD_LIMITS, messages: { perSecond: 1 / 60, burst: 1 } },
    now: () => 1_000,
  });
  const kay = newSession();
  await chat.loginGuest(kay, "kay", true);
  assert.equal(chat.takeMessageToken(kay), null);
  assert.equal(chat.takeMessageToken(kay)?.status, "RATE_LIMITED");
});

Deno.test("a guest's room is owned by nobody, and guests of one address make a bounded number", async () => {
  const { chat, store } = await testChat({ users: ["ann"], maxRoomsPerUser: 2 });
  const kay = newSession();
  await chat.loginGuest(kay, "kay", true);
  assert.deepEqual(await chat.createRoom(kay, "tas"), { status: "OK" });
  assert.deepEqual((await store.load()).rooms.map((r) => [r.name, r.createdBy]), [["tas", null]]);
  const lee = newSession();
  await chat.loginGuest(lee, "lee", true);
  assert.equal((await chat.createRoom(lee, "tas2")).status, "OK");
  assert.deepEqual(await chat.createRoom(lee, "tas3"), {
    status: "NOT_ALLOWED",
    reason: "guests from your address made 2 rooms, the most they may",
  });
  await chat.join(kay, "tas");
  const { session: ann } = await online(chat, "ann");
  await chat.join(ann, "tas");
  assert.equal((await chat.moderate(kay, "kick", "ann", {})).status, "NOT_ALLOWED");
  assert.equal((await chat.createRoom(ann, "anns")).status, "OK", "accounts keep their quota");
});

Deno.test("guests neither send nor get direct messages", async () => {
  const { chat } = await testChat({ users: ["ann"] });
  const { session: ann } = await online(chat, "ann");
  const kay = newSession();
  await chat.loginGuest(kay, "kay", true);
  const refused = { status: "NOT_ALLOWED", reason: "guests have no direct messages" };
  assert.deepEqual(await chat.direct(ann, "kay", "hi"), refused);
  assert.deepEqual(await chat.direct(kay, "ann", "hi"), refused);
});
