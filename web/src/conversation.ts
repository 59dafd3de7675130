/**
 * What the page knows of each conversation it can show: a room, a peer chat
 * or the direct messages with one user. Each has its own timeline, knows
 * whether older or newer messages than it holds exist on the server, holds
 * back live messages while its timeline does not reach the newest one, and
 * counts the messages that arrived while it was not open. Pure: no DOM, no
 * connection.
 * @module
 */

import { directRoomUsers } from "../../protocol/direct_room_name.ts";
import type { Anchor } from "./scroll_place.ts";
import { type AddResult, type ChatMessage, Timeline } from "./timeline.ts";

/** A public room, a peer chat, or the direct messages with one user. */
export type ConversationKind = "room" | "group" | "direct";

/** A message typed here and not yet confirmed by the server. */
export interface PendingSend {
  readonly content: string;
  /**
   * `queued`: typed while disconnected, sent once the connection is back;
   * `sending`: sent, awaiting the answer; `unconfirmed`: the connection
   * dropped before the answer; `failed`: not sent.
   */
  state: "queued" | "sending" | "unconfirmed" | "failed";
  error?: string;
  /** The newest message id known when it was sent. */
  afterId: number;
}

/** Live messages held back at most while a conversation catches up; beyond, they are fetched. */
export const HELD_MAX = 1000;

/** One conversation. */
export class Conversation {
  /** What it is. */
  readonly kind: ConversationKind;
  /** The room's or peer chat's name, or for a direct conversation the other user's name. */
  readonly name: string;
  /** The messages held, a contiguous run of the conversation's messages. */
  timeline: Timeline = new Timeline();
  /** Whether older messages than the oldest held exist. */
  older = false;
  /**
   * Whether the reader chose to read from a past message (a search result):
   * the timeline stays where it is until they reach the newest message.
   */
  reading = false;
  /** Messages after the user's read position (the server's count, kept up live). */
  unread = 0;
  /** Those of them that mention the user. */
  mentions = 0;
  /** The id up to which the page said the user read it (MARK_READ). */
  markedRead = 0;
  /** The id of a message to point out (a search result). */
  highlight: number | null = null;
  /** Messages typed in it and not yet confirmed. */
  pending: PendingSend[] = [];
  /** Where the reader was when it was last shown: an anchor, or the newest message. */
  place: Anchor | "end" | null = null;
  #generation = 0;
  #synced = false;
  #behind = false;
  #held: ChatMessage[] = [];
  #heldLost = false;

  /** A conversation the page has fetched nothing of yet. */
  constructor(kind: ConversationKind, name: string) {
    this.kind = kind;
    this.name = name;
  }

  /**
   * Whether live messages reach it: it has been fetched since the page last
   * (re)connected. When not, fetching ({@link hold} and pages) brings it up
   * to date.
   */
  get synced(): boolean {
    return this.#synced;
  }

  /** Counts the restarts: a page asked for before one does not belong to the new timeline. */
  get generation(): number {
    return this.#generation;
  }

  /** Whether newer messages than the newest held exist; live messages are held back meanwhile. */
  get behind(): boolean {
    return this.#behind;
  }

  /** Whether live messages go straight into the timeline. */
  get live(): boolean {
    return this.#synced && !this.#behind;
  }

  /** The connection dropped: live messages no longer reach it until it is fetched again. */
  unsync(): void {
    this.#synced = false;
    this.#held = [];
  }

  /**
   * Starts fetching: live messages are held back from now on, until a page
   * reaches the newest message ({@link addPage} with `newer: false`).
   */
  hold(): void {
    this.#synced = true;
    this.#behind = true;
    this.#held = [];
    this.#heldLost = false;
  }

  /** Forgets the timeline, to fetch it again from another message; see {@link hold}. */
  restart(): void {
    this.#generation++;
    this.timeline = new Timeline();
    this.older = false;
    this.hold();
  }

  /**
   * A message that arrived live (pushed, or the answer to one's own send).
   * Returns what it added to the timeline, or null when it added nothing:
   * held back while behind, or left to the next fetch when not synced.
   */
  receive(message: ChatMessage): AddResult | null {
    if (!this.#synced) return null;
    if (!this.#behind) return this.timeline.add([message]);
    if (this.#held.length < HELD_MAX) this.#held.push(message);
    else {
      this.#held = [];
      this.#heldLost = true;
    }
    return null;
  }

  /**
   * Adds a page of history, oldest first. `older` and `newer` say whether
   * messages exist beyond the page on either side, where the request tells
   * (a page before an id tells only about older ones, a page after an id
   * only about newer ones). A page that reaches the newest message brings
   * the held live messages in, and the conversation is live again; unless
   * some were dropped (more than {@link HELD_MAX}), then one more page
   * after the newest is needed.
   */
  addPage(messages: ChatMessage[], edges: { older?: boolean; newer?: boolean }): AddResult {
    if (edges.older !== undefined) this.older = edges.older;
    if (edges.newer !== false || !this.#synced) return this.timeline.add(messages);
    if (this.#heldLost) {
      this.#held = [];
      this.#heldLost = false;
      return this.timeline.add(messages);
    }
    const result = this.timeline.add([...messages, ...this.#held]);
    this.#held = [];
    this.#behind = false;
    this.reading = false;
    return result;
  }
}

/** The conversations the page knows, most recently active first. */
export class Conversations {
  #list: Conversation[] = [];

  /** The conversation of this kind and name, if known. */
  find(kind: ConversationKind, name: string): Conversation | undefined {
    return this.#list.find((c) => c.kind === kind && c.name === name);
  }

  /** The conversation of this kind and name; a new one goes first. */
  get(kind: ConversationKind, name: string): Conversation {
    let conversation = this.find(kind, name);
    if (!conversation) {
      conversation = new Conversation(kind, name);
      this.#list.unshift(conversation);
    }
    return conversation;
  }

  /** Moves a conversation first: something happened in it. */
  touch(conversation: Conversation): void {
    const at = this.#list.indexOf(conversation);
    if (at > 0) this.#list.unshift(...this.#list.splice(at, 1));
  }

  /** Adds conversations after those known (each name once), in the order given. */
  append(kind: ConversationKind, names: Iterable<string>): void {
    for (const name of names) {
      if (!this.find(kind, name)) this.#list.push(new Conversation(kind, name));
    }
  }

  /** Forgets a conversation. */
  remove(conversation: Conversation): void {
    this.#list = this.#list.filter((c) => c !== conversation);
  }

  /** The conversations, of one kind when given, most recently active first. */
  list(kind?: ConversationKind): Conversation[] {
    return kind === undefined ? [...this.#list] : this.#list.filter((c) => c.kind === kind);
  }

  /** Forgets them all (signing out). */
  clear(): void {
    this.#list = [];
  }
}

/**
 * The other user of a direct conversation, from its name as SEARCH gives
 * it (`a ↔ b`, protocol/README.md DM); null when `me` is not one of the two.
 */
export function directPartner(room: string, me: string): string | null {
  const users = directRoomUsers(room);
  if (!users || !users.includes(me)) return null;
  return users[0] === me ? users[1] : users[0];
}
