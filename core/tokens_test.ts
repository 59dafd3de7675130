import assert from "node:assert/strict";
import { Session } from "./session.ts";
import { RecordingSink, testChat } from "./testing.ts";
import { TOKEN_IDLE_MS } from "./tokens.ts";

Deno.test("2.1: a login gives a token that signs in again until revoked", async () => {
  const { chat, store } = await testChat({ users: ["ann"] });
  const first = new Session(new RecordingSink());
  first.v21 = true;
  const outcome = await chat.login(first, "ann", "pw-ann", true);
  assert.equal(outcome.status, "OK");
  const token = outcome.token!;
  assert.match(token, /^[A-Za-z0-9_-]{43}$/, "256 random bits, base64url");
  const resumed = new Session(new RecordingSink());
  resumed.v21 = true;
  assert.deepEqual(await chat.resume(resumed, "ann", token, true), { status: "OK" });
  const wrongUser = new Session(new RecordingSink());
  wrongUser.v21 = true;
  assert.equal((await chat.resume(wrongUser, "bob", token, true)).status, "AUTH_FAILED");
  assert.equal(await chat.logout(resumed), "OK");
  assert.equal((await chat.resume(wrongUser, "ann", token, true)).status, "AUTH_FAILED", "dropped");
  const sink = new RecordingSink();
  const third = new Session(sink);
  third.v21 = true;
  const again = await chat.login(third, "ann", "pw-ann", true);
  assert.equal(await chat.logout(first, true), "OK");
  assert.equal(sink.closedFor, "signed out everywhere");
  const late = new Session(new RecordingSink());
  late.v21 = true;
  assert.equal((await chat.resume(late, "ann", again.token!, true)).status, "AUTH_FAILED");
  assert.equal(await store.useToken("x", 0, 0), null);
});

Deno.test("2.0 sessions get no token", async () => {
  const { chat } = await testChat({ users: ["ann"] });
  const session = new Session(new RecordingSink());
  assert.deepEqual(await chat.login(session, "ann", "pw-ann", true), { status: "OK" });
});

Deno.test("a token unused for 30 days signs nobody in", async () => {
  let now = 1_000_000;
  const { chat } = await testChat({ users: ["ann"], now: () => now });
  const session = new Session(new RecordingSink());
  session.v21 = true;
  const { token } = await chat.login(session, "ann", "pw-ann", true);
  chat.disconnect(session, "gone");
  now += TOKEN_IDLE_MS + 1;
  const later = new Session(new RecordingSink());
  later.v21 = true;
  assert.equal((await chat.resume(later, "ann", token!, true)).status, "AUTH_FAILED");
});

Deno.test("changing the password checks the old one and revokes every token", async () => {
  const { chat } = await testChat({ users: ["ann"] });
  const session = new Session(new RecordingSink());
  session.v21 = true;
  const { token } = await chat.login(session, "ann", "pw-ann", true);
  assert.equal(
    (await chat.changePassword(session, "wrong", "a new password")).status,
    "AUTH_FAILED",
  );
  assert.equal((await chat.changePassword(session, "pw-ann", "short")).status, "WEAK_PASSWORD");
  const changed = await chat.changePassword(session, "pw-ann", "a new password");
  assert.equal(changed.status, "OK");
  assert.notEqual(changed.token, undefined);
  const other = new Session(new RecordingSink());
  other.v21 = true;
  assert.equal((await chat.resume(other, "ann", token!, true)).status, "AUTH_FAILED");
  assert.equal((await chat.resume(other, "ann", changed.token!, true)).status, "OK");
  const old = new Session(new RecordingSink());
  assert.equal((await chat.login(old, "ann", "a new password", false)).status, "ALREADY_ONLINE");
});
