import assert from "node:assert/strict";
import { Presence } from "./presence.ts";
import { Session } from "./session.ts";
import { online, RecordingSink, testChat } from "./testing.ts";

Deno.test("a second login of an online user is refused, or replaces the first", async () => {
  for (const duplicateLogin of ["refuse", "replace"] as const) {
    const { chat } = await testChat({ users: ["ann", "bob"], rooms: ["lobby"], duplicateLogin });
    const [first, bob] = await Promise.all([online(chat, "ann"), online(chat, "bob")]);
    for (const { session } of [first, bob]) await chat.join(session, "lobby");
    bob.sink.take();
    const second = new Session(new RecordingSink());
    const outcome = await chat.login(second, "ann", "pw-ann", true);
    if (duplicateLogin === "refuse") {
      assert.deepEqual(outcome, { status: "ALREADY_ONLINE" });
      assert.equal(first.sink.closedFor, null);
      continue;
    }
    assert.deepEqual(outcome, { status: "OK" });
    assert.equal(first.sink.closedFor, "logged in from elsewhere");
    assert.equal(first.session.user, null);
    assert.deepEqual(bob.sink.take(), ["left ann (disconnected)"]);
    assert.deepEqual((await chat.who()).map((w) => [w.user, w.place]), [["bob", "room"], [
      "ann",
      "idle",
    ]]);
  }
});

Deno.test("no more than maxOnline users are online at once", async () => {
  const { chat } = await testChat({ users: ["ann", "bob"], maxOnline: 1 });
  await online(chat, "ann");
  const session = new Session(new RecordingSink());
  assert.deepEqual(await chat.login(session, "bob", "pw-bob", false), { status: "SERVER_FULL" });
  assert.deepEqual(await chat.login(session, "bob", "wrong", false), { status: "AUTH_FAILED" });
});

Deno.test("the operator's kick and notice reach the connections", async () => {
  const { chat } = await testChat({ users: ["ann", "bob"] });
  const ann = await online(chat, "ann");
  const bob = await online(chat, "bob", { push: false });
  assert.equal(chat.broadcast("restart at noon"), 1);
  assert.deepEqual(ann.sink.take(), ["notice: restart at noon"]);
  assert.deepEqual(bob.sink.take(), [], "a poller is not pushed to");
  assert.equal(chat.kickFromServer("bob", "kicked by the operator"), true);
  assert.equal(bob.sink.closedFor, "kicked by the operator");
  assert.equal(chat.kickFromServer("bob", "again"), false);
  assert.equal(chat.onlineCount, 1);
});

Deno.test("presence never admits a guest under a name someone online goes by, nor replaces", () => {
  const closed: string[] = [];
  const presence = new Presence({
    maxOnline: 10,
    maxDevices: 10,
    duplicateLogin: "replace",
    replace: (earlier) => closed.push(earlier.user!),
    log: () => {},
  });
  const ann = new Session(new RecordingSink());
  assert.equal(presence.admit(ann, "ann", true), "OK");
  assert.equal(
    presence.admit(new Session(new RecordingSink()), "ann", true, true),
    "ALREADY_ONLINE",
  );
  const kay = new Session(new RecordingSink());
  assert.equal(presence.admit(kay, "Kay", true, true), "OK");
  for (const name of ["Kay", "KAY", "K\u0430y"]) {
    assert.equal(
      presence.admit(new Session(new RecordingSink()), name, true, true),
      "ALREADY_ONLINE",
    );
  }
  assert.deepEqual(closed, []);
  // look-alikes of users with accounts are the chat's to refuse: it asks the store (guests_test.ts)
  assert.equal(presence.isHeld("Ann"), false);
  presence.remove(kay);
  assert.equal(presence.isHeld("kay"), false);
  const guest = new Session(new RecordingSink());
  assert.equal(presence.admit(guest, "Kay", true, true), "OK");
  assert.equal(guest.guest, true);
});

Deno.test("2.1 sessions of a user are devices side by side, up to maxDevices", async () => {
  const { chat } = await testChat({ users: ["ann", "bob"], rooms: ["lobby"], maxDevices: 2 });
  const phone = await online(chat, "ann", { v21: true });
  const laptop = await online(chat, "ann", { v21: true });
  await chat.join(phone.session, "lobby");
  assert.equal(laptop.session.room?.name, "lobby", "every device is in the room");
  assert.deepEqual(laptop.sink.take(), ["joined ann"], "and is told of it");
  const bob = await online(chat, "bob", { v21: true });
  await chat.join(bob.session, "lobby");
  await chat.post(bob.session, "hi all");
  assert.deepEqual([phone.sink.take().at(-1), laptop.sink.take().at(-1)], [
    "message bob: hi all",
    "message bob: hi all",
  ]);
  await chat.post(phone.session, "from the phone");
  assert.deepEqual(laptop.sink.take(), ["message ann: from the phone"]);
  bob.sink.take();
  assert.deepEqual(chat.roomPage(null, 10)?.rooms, [{ name: "lobby", members: 2 }]);
  const third = new Session(new RecordingSink());
  third.v21 = true;
  const refused = await chat.login(third, "ann", "pw-ann", true);
  assert.equal(refused.status, "ALREADY_ONLINE");
  const old = new Session(new RecordingSink());
  assert.equal((await chat.login(old, "ann", "pw-ann", true)).status, "ALREADY_ONLINE");
  assert.equal(chat.onlineCount, 2, "users, not sessions");
  await chat.logout(phone.session);
  assert.equal(laptop.session.room?.name, "lobby");
  assert.deepEqual(bob.sink.take(), [], "ann is still there");
});

Deno.test("under replace, a device beyond maxDevices closes the oldest", async () => {
  const { chat } = await testChat({ users: ["ann"], maxDevices: 1, duplicateLogin: "replace" });
  const first = await online(chat, "ann", { v21: true });
  await online(chat, "ann", { v21: true });
  assert.equal(first.sink.closedFor, "logged in from elsewhere");
});
