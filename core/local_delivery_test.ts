import assert from "node:assert/strict";
import type { ChatEvent } from "./events.ts";
import { Session } from "./session.ts";
import { online, RecordingSink, testChat } from "./testing.ts";

/** A connection that cannot take a message: it drops out instead, as a full one does. */
class DroppingSink extends RecordingSink {
  dropOut: () => void = () => {};
  override deliver(event: ChatEvent): void {
    if (event.type === "message") return this.dropOut();
    super.deliver(event);
  }
}

Deno.test("a member that drops out during a fan-out leaves after everyone has the event", async () => {
  const { chat } = await testChat({ users: ["ann", "bob", "cy", "dee"], rooms: ["lobby"] });
  const ann = await online(chat, "ann");
  const sink = new DroppingSink();
  const bob = new Session(sink);
  sink.dropOut = () => chat.disconnect(bob, "send queue exceeded");
  const cy = await online(chat, "cy");
  await chat.join(ann.session, "lobby");
  await chat.login(bob, "bob", "pw-bob", true);
  await chat.join(bob, "lobby");
  await chat.join(cy.session, "lobby");
  const dee = await online(chat, "dee");
  await chat.join(dee.session, "lobby");
  for (const { sink } of [ann, cy, dee]) sink.take();
  await chat.post(dee.session, "hello");
  assert.deepEqual(ann.sink.take(), ["message dee: hello", "left bob (disconnected)"]);
  assert.deepEqual(cy.sink.take(), ["message dee: hello", "left bob (disconnected)"]);
  assert.deepEqual(dee.sink.take(), ["left bob (disconnected)"]);
  assert.deepEqual(chat.members(ann.session), ["ann", "cy", "dee"]);
  assert.equal(bob.user, null);
});

Deno.test("a peer chat whose other member drops out during a fan-out ends after it", async () => {
  const { chat } = await testChat({ users: ["ann", "bob"] });
  const sink = new DroppingSink();
  const bob = new Session(sink);
  sink.dropOut = () => chat.disconnect(bob, "send queue exceeded");
  await chat.login(bob, "bob", "pw-bob", true);
  const ann = await online(chat, "ann");
  await chat.peerConnect(ann.session, "bob");
  assert.deepEqual(sink.take(), ["joined ann"]);
  await chat.post(ann.session, "one");
  assert.deepEqual(ann.sink.take(), ["left bob (disconnected)", "peer-chat-ended"]);
  assert.equal(ann.session.room, null);
});
