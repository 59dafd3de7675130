/**
 * Messages in rooms and peer chats: posting (stored first, then published
 * to the members), polling what one has not read (RECV_MSG), and reading
 * the stored history a page at a time within bounds. No I/O but through the
 * store.
 * @module
 */

import { directRoomName } from "../protocol/direct_room_name.ts";
import { messageProblem } from "../protocol/message_text.ts";
import { nameKey, nameProblem } from "../protocol/names.ts";
import type { MessageRecord, RoomKind } from "../store/records.ts";
import type { ChatStore, HistoryRange } from "../store/store.ts";
import { NO_MENTIONS } from "./events.ts";
import type { FanoutBus } from "./fanout_bus.ts";
import { WAITING_PER_RUNNING, WorkQueue } from "./limits/work_queue.ts";
import type { MessageIds } from "./message_ids.ts";
import { BUSY_RETRY_MS, type ChatStatus, type Outcome, rateLimited } from "./outcome.ts";
import { findMentions } from "./mentions.ts";
import type { Posted, Room } from "./room.ts";
import type { Membership, Session } from "./session.ts";

/** Most bytes of content in a HISTORY page unless told otherwise: 1 MiB. */
export const DEFAULT_MAX_HISTORY_BYTES = 1 << 20;

/** Most HISTORY reads under way at once unless told otherwise. */
export const DEFAULT_HISTORY_CONCURRENCY = 4;

/** The outcome of posting a message: with OK, its id and time. */
export type PostOutcome =
  | { status: "OK"; id: number; time: number }
  | Outcome;

/** What a polling session has not read: with OK, the messages, and how many it missed. */
export interface Unread {
  status: ChatStatus;
  messages: Posted[];
  missed: number;
}

/** A page of stored messages: with OK, the place's name, the messages and whether more exist. */
export type HistoryPage = Outcome & { room?: string; messages: MessageRecord[]; more: boolean };

/** Settings of {@link Messaging}. */
export interface MessagingOptions {
  store: ChatStore;
  bus: FanoutBus;
  ids: MessageIds;
  /** Longest message, in characters. */
  maxMessageChars: number;
  /** Most bytes of message content in one history page (the first message comes whole). */
  maxHistoryBytes: number;
  /** History reads under way at once; 64 times as many may wait. */
  historyConcurrency: number;
  now: () => number;
}

/** A settled promise's outcome, not wanted. */
function ignore(): void {}

/** Posting and reading messages. */
export class Messaging {
  readonly #options: MessagingOptions;
  readonly #historyReads: WorkQueue;
  /** Settles once the latest post has reached its room (or failed). */
  #lastPost: Promise<unknown> = Promise.resolve();

  constructor(options: MessagingOptions) {
    this.#options = options;
    const running = options.historyConcurrency;
    this.#historyReads = new WorkQueue({ running, waiting: running * WAITING_PER_RUNNING });
  }

  /** Why `text` cannot be a message, as the BAD_REQUEST outcome; null when it can. */
  refusal(text: string): Outcome | null {
    const problem = messageProblem(text, this.#options.maxMessageChars);
    return problem ? { status: "BAD_REQUEST", reason: problem } : null;
  }

  /** A new message of `sender` in a place, with its id, the time now and its mentions. */
  record(
    kind: RoomKind,
    room: string,
    sender: string,
    content: string,
    mentions: readonly string[],
  ): MessageRecord {
    const { ids, now } = this.#options;
    return { id: ids.next(), kind, room, sender, time: now(), content, mentions };
  }

  /**
   * Posts a message to a room or peer chat the session is in (by default
   * its current one). The message gets its id at once; once the store has
   * it on disk, it is published to the room (pushed to the others, kept for
   * pollers) and the outcome resolves. The caller handles a rejection: the
   * store failed, and nobody saw it.
   */
  post(session: Session, text: string, room: Room | null): PostOutcome | Promise<PostOutcome> {
    const refused = this.refusal(text);
    if (refused) return refused;
    if (!room) return { status: "NOT_IN_ROOM" };
    const sender = session.user!;
    const mentions = text.includes("@") ? mentionsIn(room, text, sender) : NO_MENTIONS;
    const record = this.record(room.kind, room.name, sender, text, mentions);
    const bus = this.#options.bus;
    bus.posting?.(room.place, sender, 1);
    const done = this.#options.store.appendMessage(record).then((stored): PostOutcome => {
      const time = record.time;
      let id = record.id;
      let seq = 0;
      if (stored) {
        ({ id, seq } = stored);
        this.#options.ids.observe(id);
      }
      bus.publish(room.audience, {
        type: "message",
        place: room.place,
        id,
        seq,
        from: sender,
        time,
        text,
        mentions,
      }, session.id);
      bus.posting?.(room.place, sender, -1);
      return { status: "OK", id, time };
    }, (error) => {
      bus.posting?.(room.place, record.sender, -1);
      throw error;
    });
    this.#lastPost = done;
    return done;
  }

  /**
   * What a polling session has not read yet in a place (by default its
   * current one); advances its cursor. Waits for messages posted before
   * the call to reach the room first.
   */
  async unread(
    session: Session,
    maxChars: number,
    place: () => Membership | null,
  ): Promise<Unread> {
    if (!place()) return { status: "NOT_IN_ROOM", messages: [], missed: 0 };
    await this.#lastPost.then(ignore, ignore);
    const membership = place();
    if (!membership) return { status: "NOT_IN_ROOM", messages: [], missed: 0 };
    if (session.push) return { status: "NO_NEW_MSG", messages: [], missed: 0 };
    const room = membership.room;
    const { messages, missed } = room.unread(membership.cursor, membership.joinedAfter, maxChars);
    membership.cursor = messages.length > 0 ? messages[messages.length - 1].seq + 1 : room.nextSeq;
    const status = messages.length > 0 ? "OK" : "NO_NEW_MSG";
    return { status, messages, missed };
  }

  /**
   * A page of stored messages, oldest first: of the session's room or peer
   * chat (only those posted since the session came into it), or with
   * `withUser` of the direct conversation with that user; at most
   * `maxHistoryBytes` of content. `more` says whether messages beyond the
   * page exist in the direction of paging: older ones, or with
   * `range.after` newer ones.
   */
  async history(
    session: Session,
    range: HistoryRange,
    withUser: string | undefined,
    membership: Membership | null,
  ): Promise<HistoryPage> {
    let place: { kind: RoomKind; name: string };
    let floor = 0;
    if (withUser !== undefined) {
      const other = withUser.normalize("NFC");
      if (nameProblem(other) || other === session.user) {
        return { status: "NO_SUCH_USER", messages: [], more: false };
      }
      place = { kind: "direct", name: directRoomName(session.user!, other) };
    } else if (membership) {
      place = membership.room;
      // a newcomer to a peer chat reads only what was said after joining
      if (place.kind === "group") floor = membership.joinedAfter;
    } else {
      return { status: "NOT_IN_ROOM", messages: [], more: false };
    }
    const { store, ids, maxHistoryBytes } = this.#options;
    // the read may wait its turn: messages posted meanwhile are not part of the answer
    const before = Math.min(range.before ?? Infinity, ids.last + 1);
    const page = await this.#historyReads.run(() =>
      store.history(place.kind, place.name, { ...range, before, floor, maxBytes: maxHistoryBytes })
    );
    if (page === null) {
      return {
        ...rateLimited(BUSY_RETRY_MS, "the server is busy reading history; try again"),
        messages: [],
        more: false,
      };
    }
    return { status: "OK", room: place.name, ...page };
  }
}

/**
 * The users a message in `room` mentions: of those who belong to a public
 * room, of the members of a peer chat (on every server).
 */
function mentionsIn(room: Room, text: string, sender: string): readonly string[] {
  if (room.kind === "room") return findMentions(text, (key) => room.belonging.get(key), sender);
  const members = new Map(
    room.members.map(({ session }) => [nameKey(session.user!), session.user!]),
  );
  for (const user of room.elsewhere) members.set(nameKey(user), user);
  return findMentions(text, (key) => members.get(key), sender);
}
