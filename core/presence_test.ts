import assert from "node:assert/strict";
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
