/**
 * What servers of a cluster send each other over the link (PostgreSQL
 * NOTIFY or Redis), as JSON text: the messages a server committed, with
 * their rooms' sequence numbers, and notes (events for sessions elsewhere,
 * changes of shared state). Each payload names the server that sent it, so
 * that a server passes over its own. Pure.
 * @module
 */

import type { ClusterNote, ClusterReceiver } from "../../core/cluster_bus.ts";
import type { MessagePosted } from "../../core/events.ts";
import type {
  MessageRecord,
  PendingPayloads,
  RoomSequence,
  SequencedMessage,
} from "../../store/records.ts";

/** The channel every server of a cluster listens on. */
export const CHANNEL = "claptrap_cluster";

/** Most bytes of a NOTIFY payload (PostgreSQL refuses 8,000 or more). */
export const NOTIFY_MAX_BYTES = 7_900;

/** A message as it travels: kind, room, seq, id, sender, time, content, and whom it mentions. */
type Entry = [string, string, number, number, string, number, string, string[]?];

/** What one payload held. */
export interface Received {
  /** The server that sent it. */
  readonly node: string;
  /** Messages committed there, in each room's order. */
  readonly messages: SequencedMessage[];
  /** Rooms whose messages up to a sequence number were too large to carry. */
  readonly committed: RoomSequence[];
  /** A note, if it was one. */
  readonly note: ClusterNote | null;
  /** The id of a note too large for the link, kept in the database to be read there; or null. */
  readonly storedNote: number | null;
}

const encoder = new TextEncoder();

/** Whether `payload` fits in one NOTIFY (a UTF-16 code unit is at most 3 bytes of UTF-8). */
export function fitsNotify(payload: string): boolean {
  return payload.length * 3 <= NOTIFY_MAX_BYTES ||
    encoder.encode(payload).length <= NOTIFY_MAX_BYTES;
}

/**
 * The payloads announcing `messages`, each at most `maxBytes` long; a
 * message too large for one on its own goes as its room's sequence number
 * only (receivers read it from the store).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { messagePayloads, readPayload } from "./announcements.ts";
 * const message = { kind: "room" as const, room: "lobby", seq: 3, id: 7, sender: "ann", time: 1, content: "hi" };
 * const [payload] = messagePayloads("node1", [message]);
 * assert.deepEqual(readPayload(payload)?.messages, [message]);
 * ```
 */
export function messagePayloads(
  node: string,
  messages: readonly SequencedMessage[],
  maxBytes = NOTIFY_MAX_BYTES,
): string[] {
  return pack(node, messages, maxBytes, null);
}

/** A message as the store has it before the database numbers it. */
type Unnumbered = Omit<MessageRecord, "id">;

/** Most bytes the database's end adds to a payload for one entry: `[entry, seq, id], `. */
const PENDING_ENTRY_BYTES = 52;
/** And for the payload: `,"s":[]}`. */
const PENDING_END_BYTES = 8;

/**
 * The payloads announcing `messages` once the database numbers them (see
 * `PendingPayloads` in store/records.ts), each at most `maxBytes` long when it is done.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pendingPayloads, readPayload } from "./announcements.ts";
 * const message = { kind: "room" as const, room: "lobby", sender: "ann", time: 1, content: "hi" };
 * const pending = pendingPayloads("node1", [message]);
 * assert.deepEqual([pending.payload, pending.entry, pending.message], [[0], [0], [0]]);
 * const done = `${pending.heads[0]},"s":[[0, 3, 7]]}`; // as the database ends it
 * assert.deepEqual(readPayload(done)?.messages, [{ ...message, seq: 3, id: 7 }]);
 * ```
 */
export function pendingPayloads(
  node: string,
  messages: readonly Unnumbered[],
  maxBytes = NOTIFY_MAX_BYTES,
): PendingPayloads {
  const pending: PendingPayloads = { heads: [], payload: [], entry: [], message: [] };
  pending.heads.push(...pack(node, messages, maxBytes, pending));
  return pending;
}

/**
 * Packs `messages` into payloads; with `pending`, each entry's numbers
 * are left for the database (0 in the entry) and where it went is noted
 * in `pending`.
 */
function pack(
  node: string,
  messages: readonly (Unnumbered & { readonly id?: number; readonly seq?: number })[],
  maxBytes: number,
  pending: PendingPayloads | null,
): string[] {
  const reserve = pending === null ? 0 : PENDING_ENTRY_BYTES;
  const close = pending === null ? "]}" : "]";
  const limit = pending === null ? maxBytes : maxBytes - PENDING_END_BYTES;
  const head = `{"n":${JSON.stringify(node)},"m":[`;
  const payloads = new PayloadPacker(head, close, limit, reserve);
  // a room's messages come in its order: the last too large for a payload is its highest
  const tooLarge = new Map<string, { index: number; entry: string }>();
  const note = (packer: PayloadPacker, first: number, index: number) => {
    if (pending === null) return;
    pending.payload.push(first + packer.lastPayload);
    pending.entry.push(packer.lastEntry);
    pending.message.push(index);
  };
  for (const [index, m] of messages.entries()) {
    const entry: Entry = [m.kind, m.room, m.seq ?? 0, m.id ?? 0, m.sender, m.time, m.content];
    if (m.mentions && m.mentions.length > 0) entry.push([...m.mentions]);
    if (payloads.add(JSON.stringify(entry))) note(payloads, 0, index);
    else {
      const room = pending === null ? [m.kind, m.room, m.seq] : [m.kind, m.room];
      tooLarge.set(`${m.kind} ${m.room}`, { index, entry: JSON.stringify(room) });
    }
  }
  const done = payloads.done();
  if (tooLarge.size === 0) return done;
  // one entry per room, in as many payloads as they need: one entry per message made a batch
  // of hundreds of large messages a payload NOTIFY refused, and the batch was done again one
  // message per savepoint
  const committed = new PayloadPacker(`{"n":${JSON.stringify(node)},"c":[`, close, limit, reserve);
  for (const { index, entry } of tooLarge.values()) {
    committed.add(entry);
    note(committed, done.length, index);
  }
  return [...done, ...committed.done()];
}

/** Packs JSON entries into payloads `head` + entries + `close` of at most `maxBytes` each. */
class PayloadPacker {
  readonly #head: string;
  readonly #close: string;
  readonly #maxBytes: number;
  /** Bytes kept free per entry. */
  readonly #reserve: number;
  /** Bytes of a payload with no entry. */
  readonly #empty: number;
  readonly #payloads: string[] = [];
  #entries: string[] = [];
  #bytes = 0;

  constructor(head: string, close: string, maxBytes: number, reserve = 0) {
    this.#head = head;
    this.#close = close;
    this.#maxBytes = maxBytes;
    this.#reserve = reserve;
    this.#empty = this.#bytes = encoder.encode(head).length + close.length;
  }

  /** The payload (counted from 0) the last entry added went to. */
  get lastPayload(): number {
    return this.#payloads.length;
  }

  /** The last entry's place in its payload. */
  get lastEntry(): number {
    return this.#entries.length - 1;
  }

  /** Adds an entry; false when it is too large for a payload on its own. */
  add(entry: string): boolean {
    const size = encoder.encode(entry).length + 1 + this.#reserve;
    if (this.#empty + size > this.#maxBytes) return false;
    if (this.#bytes + size > this.#maxBytes) {
      this.#payloads.push(`${this.#head}${this.#entries.join(",")}${this.#close}`);
      this.#entries = [];
      this.#bytes = this.#empty;
    }
    this.#entries.push(entry);
    this.#bytes += size;
    return true;
  }

  /** The payloads. */
  done(): string[] {
    if (this.#entries.length > 0) {
      this.#payloads.push(`${this.#head}${this.#entries.join(",")}${this.#close}`);
    }
    this.#entries = [];
    return this.#payloads;
  }
}

/** The payload of one message posted on `node` (for a link that carries one at a time). */
export function postedPayloads(node: string, posted: readonly MessagePosted[]): string[] {
  return messagePayloads(
    node,
    posted.map((event) => ({
      kind: event.place.kind,
      room: event.place.name,
      seq: event.seq,
      id: event.id,
      sender: event.from,
      time: event.time,
      content: event.text,
      mentions: event.mentions,
    })),
    Infinity,
  );
}

/**
 * The payload of a note; `number` (its server's count of notes) makes it
 * unlike any other, where several go in one transaction: PostgreSQL
 * delivers a NOTIFY once however often the transaction sent its payload.
 */
export function notePayload(node: string, note: ClusterNote, number?: number): string {
  return JSON.stringify(
    number === undefined ? { n: node, e: note } : { n: node, e: note, i: number },
  );
}

/**
 * How the payload that points at the stored note `id` begins; the
 * database appends the id and the closing brace (see postgres_link.ts).
 */
export function storedNotePrefix(node: string): string {
  return `{"n":${JSON.stringify(node)},"l":`;
}

/** What a payload holds; null when it is not one of ours. */
export function readPayload(text: string): Received | null {
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null || typeof value.n !== "string") return null;
  let entries: Entry[] = Array.isArray(value.m) ? value.m : [];
  let rooms: [string, string, number][] = Array.isArray(value.c) ? value.c : [];
  if (Array.isArray(value.s)) {
    // numbered by the database (pendingPayloads): an entry it gave nothing for was not stored
    const numbered = value.s as [number, number, number][];
    if (entries.length > 0) {
      entries = numbered.map(([k, seq, id]) => {
        const entry = entries[k]; // parsed just now: ours to fill in
        entry[2] = seq;
        entry[3] = id;
        return entry;
      });
    } else rooms = numbered.map(([k, seq]) => [rooms[k][0], rooms[k][1], seq]);
  }
  const messages = entries.map(([kind, room, seq, id, sender, time, content, mentions]) => ({
    kind: kind as SequencedMessage["kind"],
    room,
    seq,
    id,
    sender,
    time,
    content,
    ...(mentions ? { mentions } : {}),
  }));
  const committed = rooms.map(([kind, name, lastSeq]) => ({
    kind: kind as RoomSequence["kind"],
    name,
    lastSeq,
  }));
  const storedNote = Number.isSafeInteger(value.l) ? value.l as number : null;
  return { node: value.n, messages, committed, note: value.e ?? null, storedNote };
}

/**
 * Hands what a payload from another server holds to `receiver`; passes
 * over the server's own (every server hears its own NOTIFYs) without
 * parsing them: each payload begins with its server's name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { handOver, messagePayloads } from "./announcements.ts";
 * const message = { kind: "room" as const, room: "lobby", seq: 1, id: 1, sender: "ann", time: 1, content: "hi" };
 * const [payload] = messagePayloads("a", [message]);
 * const heard: unknown[] = [];
 * const receiver = { messages: (m: readonly unknown[]) => void heard.push(...m), committed() {}, note() {}, up() {}, down() {} };
 * handOver("a", payload, receiver);
 * assert.equal(heard.length, 0);
 * handOver("b", payload, receiver);
 * assert.deepEqual(heard, [message]);
 * ```
 */
export function handOver(self: string, text: string, receiver: ClusterReceiver): void {
  const received = fromOthers(self, text);
  if (received !== null) giveTo(received, receiver);
}

/** What a payload holds, when another server sent it; null for the server's own, or one not ours. */
export function fromOthers(self: string, text: string): Received | null {
  if (text.startsWith(ownPrefix(self))) return null;
  const received = readPayload(text);
  return received === null || received.node === self ? null : received;
}

/** Hands what a payload held to `receiver`. */
export function giveTo(received: Received, receiver: ClusterReceiver): void {
  if (received.messages.length > 0) receiver.messages(received.messages);
  if (received.committed.length > 0) receiver.committed(received.committed);
  if (received.note !== null) receiver.note(received.note);
}

let prefixOf = "";
let prefix = "";

/** How the payloads of server `node` begin (the last asked for is kept: a server asks for its own). */
function ownPrefix(node: string): string {
  if (node !== prefixOf) {
    prefixOf = node;
    prefix = `{"n":${JSON.stringify(node)},`;
  }
  return prefix;
}
