/**
 * For tests of the chat core: a chat on the in-memory store, with accounts
 * whose passwords are kept in the clear, and fake connections that record
 * what the core sends them; several chats linked as the servers of a
 * cluster. No sockets.
 * @module
 */

import assert from "node:assert/strict";
import { MemoryStore } from "../store/memory_store.ts";
import { Chat, type ChatOptions } from "./chat.ts";
import type { ChatEvent } from "./events.ts";
import type { Audience, FanoutBus, LocalDelivery, NodeChat, SharedChange } from "./fanout_bus.ts";
import { NO_FLOOD_LIMITS } from "./limits/flood_control.ts";
import type { PasswordScheme } from "./passwords.ts";
import type { NodeSessions } from "./presence_claims.ts";
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

/** A new in-memory store holding accounts (password `pw-NAME`) and public rooms. */
async function testStore(users: string[], rooms: string[]): Promise<MemoryStore> {
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
  return store;
}

/** The options of a test chat on `store`, with `more`. */
async function chatOptions(store: MemoryStore, more: Partial<ChatOptions>): Promise<ChatOptions> {
  return {
    store,
    state: await store.load(),
    maxOnline: 100,
    pollLog: { messages: 100, chars: 1_000_000 },
    passwords: PLAIN_PASSWORDS,
    floodLimits: NO_FLOOD_LIMITS,
    ...more,
  };
}

/** A chat on a new in-memory store holding accounts (password `pw-NAME`) and public rooms. */
export async function testChat(
  options: { users?: string[]; rooms?: string[] } & Partial<ChatOptions> = {},
): Promise<{ chat: Chat; store: MemoryStore }> {
  const { users = [], rooms = [], ...more } = options;
  const store = await testStore(users, rooms);
  return { chat: new Chat(await chatOptions(store, more)), store };
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

/** One server of a {@link testCluster}: its bus hands what it publishes and shares to the others. */
class LinkedBus implements FanoutBus {
  readonly local: LocalDelivery;
  readonly node: NodeChat;
  readonly #servers: LinkedBus[];
  /** Whether the others hear this server (false: it is cut off, and they do not answer). */
  linked = true;
  /** How long what this server hands to the others takes to reach them, in ms. */
  lagMs = 0;
  /** The same for some of them. */
  readonly lagTo = new Map<LinkedBus, number>();

  constructor(local: LocalDelivery, node: NodeChat, servers: LinkedBus[]) {
    this.local = local;
    this.node = node;
    this.#servers = servers;
  }

  publish(to: Audience, event: ChatEvent, exceptSession: number): void {
    this.local.deliver(to, event, exceptSession);
    this.#others((other) => {
      other.local.deliver(to, event, 0);
      if (to.kind === "place" && to.place.kind === "group") other.node.heard(event);
    });
  }

  share(change: SharedChange): void {
    this.#others((other) => other.node.apply(change));
  }

  /** Hands something to the other servers a moment later, as a link between servers does. */
  #others(hand: (other: LinkedBus) => void): void {
    if (!this.linked) return;
    for (const other of this.#servers) {
      if (other === this) continue;
      setTimeout(() => {
        if (other.linked) hand(other);
      }, this.lagTo.get(other) ?? this.lagMs);
    }
  }
}

/** The servers of a {@link testCluster}, and what may befall them. */
export interface TestCluster {
  chats: Chat[];
  /** The store they share. */
  store: MemoryStore;
  /** Cuts server `i` off: the others no longer hear it, nor it them. */
  cut(i: number): void;
  /** Links server `i` again after a cut; it catches up as after a bus outage. */
  relink(i: number): void;
  /** What server `i` hands to the others (or to server `to` only) takes `ms` to reach them. */
  lag(i: number, ms: number, to?: number): void;
  /** The lease of server `i` runs out: its users are online no more. */
  expire(i: number): void;
  /** Every server renews its lease (and looks at the roster). */
  renew(): void;
}

/**
 * `count` chats on one in-memory store, as the servers of a cluster: what
 * one publishes and shares reaches the others a moment later, and each
 * name is online on one of them at a time (a user's 2.1 sessions aside:
 * those may be on several).
 */
export async function testCluster(
  count: number,
  options: { users?: string[]; rooms?: string[] } & Partial<ChatOptions> = {},
): Promise<TestCluster> {
  const { users = [], rooms = [], ...more } = options;
  const store = await testStore(users, rooms);
  const buses: LinkedBus[] = [];
  const nodes: NodeSessions[] = [];
  /** The servers holding each name, with how many devices each holds (0: one 2.0 session). */
  const where = new Map<string, Map<Chat, number>>();
  const node = (i: number) => `server${i}`;
  const chats: Chat[] = [];
  for (let i = 0; i < count; i++) {
    const chat: Chat = new Chat({
      ...await chatOptions(store, more),
      bus: (local, node) => {
        const bus = new LinkedBus(local, node, buses);
        buses.push(bus);
        return bus;
      },
      presence: (sessions) => {
        nodes.push(sessions);
        return {
          node: node(i),
          claim: (user, _session, _push, devices = 0) => {
            const holders = where.get(user) ?? new Map<Chat, number>();
            for (const [holder, held] of holders) {
              if (holder !== chat && (held === 0 || devices === 0)) {
                return Promise.resolve("ALREADY_ONLINE");
              }
            }
            where.set(user, holders.set(chat, devices));
            return Promise.resolve("OK");
          },
          release: (user, _session, devices = 0) => {
            const holders = where.get(user);
            if (devices > 0) holders?.set(chat, devices);
            else if (holders?.delete(chat) && holders.size === 0) where.delete(user);
          },
          isOnline: (user) => Promise.resolve(where.has(user)),
          who: () => Promise.resolve([]),
          membersOf: () => Promise.resolve([]),
          // where the user is online, wherever they are there (no places are kept)
          serversIn: (user) =>
            Promise.resolve([...where.get(user)?.keys() ?? []].map((c) => node(chats.indexOf(c)))),
          onlineOf: (users) => Promise.resolve(new Set(users.filter((user) => where.has(user)))),
          pushed: () => Promise.resolve(0),
          arrived: () => {},
        };
      },
    });
    chats.push(chat);
  }
  return {
    chats,
    store,
    cut: (i) => buses[i].linked = false,
    relink: (i) => {
      buses[i].linked = true;
      buses[i].node.relinked();
    },
    lag: (i, ms, to) => {
      if (to === undefined) buses[i].lagMs = ms;
      else buses[i].lagTo.set(buses[to], ms);
    },
    expire: (i) => {
      for (const [user, holders] of where) {
        holders.delete(chats[i]);
        if (holders.size === 0) where.delete(user);
      }
    },
    renew: () => {
      for (const [i, node] of nodes.entries()) if (buses[i].linked) node.renewed();
    },
  };
}
