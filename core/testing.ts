/**
 * For tests of the chat core: a chat on the in-memory store, with accounts
 * whose passwords are kept in the clear, and fake connections that record
 * what the core sends them. No sockets.
 * @module
 */

import assert from "node:assert/strict";
import { MemoryStore } from "../store/memory_store.ts";
import { Chat, type ChatOptions } from "./chat.ts";
import type { ChatEvent } from "./events.ts";
import { NO_FLOOD_LIMITS } from "./limits/flood_control.ts";
import type { PasswordScheme } from "./passwords.ts";
import { Session, type SessionSink } from "./session.ts";

/** Passwords kept in the clear (`plain$password`): no scrypt, so tests take no time. */
export const PLAIN_PASSWORDS: PasswordScheme = {
  hash: (password) => Promise.resolve(`plain$${password}`),
  verify: (password, encoded) => Promise.resolve(encoded === `plain$${password}`),
};

/** A connection that records the events and the close it gets. */
export class RecordingSink implements SessionSink {
  readonly address: string;
  readonly events: ChatEvent[] = [];
  /** Why the core closed the connection; null while open. */
  closedFor: string | null = null;

  constructor(address = "127.0.0.1:40000") {
    this.address = address;
  }

  deliver(event: ChatEvent): void {
    this.events.push(event);
  }

  close(reason: string): void {
    this.closedFor ??= reason;
  }

  /** The events so far, each as `type` and the user or sender it is about, then forgotten. */
  take(): string[] {
    return this.events.splice(0).map(describe);
  }
}

/** An event as `type user` (or `type from`), for short assertions. */
function describe(event: ChatEvent): string {
  switch (event.type) {
    case "message":
      return `message ${event.from}: ${event.text}`;
    case "joined":
      return `joined ${event.user}`;
    case "left":
      return `left ${event.user} (${event.cause.kind})`;
    case "removed":
      return `removed by ${event.by}${event.banned ? ", banned" : ""}`;
    case "peer-chat-ended":
      return "peer-chat-ended";
    case "invitation-asked":
      return `invitation-asked ${event.from}`;
    case "invitation-answered":
      return `invitation-answered ${event.from} ${event.answer}`;
    case "direct":
      return `direct ${event.from}: ${event.text}`;
    case "read":
      return `read ${event.place?.name ?? event.with} ${event.id}`;
    case "notice":
      return `notice: ${event.text}`;
  }
}

/** A chat on a new in-memory store holding accounts (password `pw-NAME`) and public rooms. */
export async function testChat(
  options: { users?: string[]; rooms?: string[] } & Partial<ChatOptions> = {},
): Promise<{ chat: Chat; store: MemoryStore }> {
  const { users = [], rooms = [], ...chatOptions } = options;
  const store = new MemoryStore();
  for (const name of users) {
    const passwordHash = await PLAIN_PASSWORDS.hash(`pw-${name}`, 1);
    await store.createAccount({
      name,
      passwordHash,
      source: "registered",
      disabled: false,
      createdAt: 0,
    });
  }
  for (const name of rooms) {
    await store.createRoom({ kind: "room", name, createdBy: null, createdAt: 0 });
  }
  const chat = new Chat({
    store,
    state: await store.load(),
    maxOnline: 100,
    pollLog: { messages: 100, chars: 1_000_000 },
    passwords: PLAIN_PASSWORDS,
    floodLimits: NO_FLOOD_LIMITS,
    ...chatOptions,
  });
  return { chat, store };
}

/**
 * A session of `user`, logged in (with push unless told otherwise; of
 * protocol 2.1 with `v21`), and its sink.
 */
export async function online(
  chat: Chat,
  user: string,
  options: { push?: boolean; address?: string; v21?: boolean } = {},
): Promise<{ session: Session; sink: RecordingSink }> {
  const sink = new RecordingSink(options.address);
  const session = new Session(sink);
  session.v21 = options.v21 ?? false;
  const outcome = await chat.login(session, user, `pw-${user}`, options.push ?? true);
  assert.equal(outcome.status, "OK", `${user} logs in`);
  return { session, sink };
}
