import assert from "node:assert/strict";
import type { Message } from "../protocol/message.ts";
import { SqliteStore } from "../store/sqlite_store.ts";
import { Chat, type PeerOutcome } from "./chat.ts";
import { hashPassword } from "./passwords.ts";
import { Session } from "./session.ts";

/** A chat on an in-memory store with the accounts `users` (password `pw-NAME`). */
async function chatWith(users: string[]): Promise<{ chat: Chat; store: SqliteStore }> {
  const store = await SqliteStore.open(":memory:");
  for (const name of users) {
    const passwordHash = await hashPassword(`pw-${name}`, 1024);
    await store.createAccount({
      name,
      passwordHash,
      source: "registered",
      disabled: false,
      createdAt: 0,
    });
  }
  const state = await store.load();
  return {
    chat: new Chat({ store, state, maxOnline: 10, pollLog: { messages: 10, chars: 1e6 } }),
    store,
  };
}

/** A session logged in as `user` whose events land in `events`. */
async function login(chat: Chat, user: string): Promise<{ session: Session; events: Message[] }> {
  const events: Message[] = [];
  const session = new Session({
    address: "127.0.0.1:1",
    deliver: (event) => events.push(event),
    close: () => {},
  });
  assert.equal((await chat.login(session, user, `pw-${user}`, true)).status, "OK");
  return { session, events };
}

Deno.test("the answer to a request to join a peer chat can be awaited, as an ICS reply waits", async () => {
  const { chat, store } = await chatWith(["ann", "bob", "carol"]);
  const ann = await login(chat, "ann");
  const bob = await login(chat, "bob");
  const carol = await login(chat, "carol");
  await chat.peerConnect(ann.session, "bob");

  const asked = await chat.peerConnect(carol.session, "bob") as PeerOutcome;
  assert.equal(asked.status, "INVITED");
  const answer = asked.invitation!.answer;
  let settled = false;
  answer.then(() => settled = true);
  await Promise.resolve();
  assert.equal(settled, false, "undecided until a member answers");
  await chat.peerAccept(ann.session, "carol");
  assert.equal(await answer, "accepted");
  assert.equal(carol.session.room, ann.session.room, "and then the requester is in");

  chat.logout(carol.session);
  const again = await login(chat, "carol");
  const second = await chat.peerConnect(again.session, "ann") as PeerOutcome;
  chat.peerDecline(bob.session, "carol");
  assert.equal(await second.invitation!.answer, "declined");
  const third = await chat.peerConnect(again.session, "ann") as PeerOutcome;
  chat.logout(again.session);
  assert.equal(await third.invitation!.answer, "withdrawn", "the requester logged out");

  for (const { session } of [ann, bob]) chat.logout(session);
  await store.close();
});
