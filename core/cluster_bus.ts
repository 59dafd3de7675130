/**
 * The fan-out bus of a server that shares its store with others (cluster
 * mode). A message committed on any server reaches the members on every
 * server, each room strictly in its sequence order (the store numbers a
 * room's messages 1, 2, … in commit order) and once: the link between the
 * servers (PostgreSQL NOTIFY or Redis) is never trusted for order or
 * completeness. A server holds back a message that comes early, drops one
 * it has delivered, fills a gap from the store after a short wait, and
 * compares each room's last sequence number in the store with what it
 * delivered after every reconnection of the link and every second (every
 * quarter second while the link is down: polling instead), asking only
 * about the rooms with messages since a point that trails the comparisons
 * by the longest a message may take from its id to its COMMIT. Direct
 * messages go over the link as they are, and the same comparison finds
 * one that did not come (its conversation's sequence went past what was
 * heard) and gives it to its recipient from the store. Other events, and
 * the changes of shared state (rooms, bans, operator kicks), go over the
 * link as they are, best effort. No I/O but through the link and the
 * store.
 * @module
 */

import type {
  LastSequences,
  RoomKind,
  RoomLatest,
  RoomSequence,
  SequencedMessage,
} from "../store/records.ts";
import { directRoomName, directRoomUsers } from "../protocol/direct_room_name.ts";
import {
  type ChatEvent,
  type DirectMessage,
  type MessagePosted,
  NO_MENTIONS,
  type Place,
} from "./events.ts";
import type { Audience, FanoutBus, LocalDelivery, NodeChat, SharedChange } from "./fanout_bus.ts";
import type { PlaceWatcher } from "./presence_claims.ts";

/** What goes over the link besides messages: an event for another server's sessions, or a change. */
export type ClusterNote =
  | { readonly kind: "event"; readonly to: Audience; readonly event: ChatEvent }
  | { readonly kind: "change"; readonly change: SharedChange };

/** What a link hands to the bus: what the other servers sent, and how the link is. */
export interface ClusterReceiver {
  /** Messages another server committed, in each room's order. */
  messages(messages: readonly SequencedMessage[]): void;
  /** Rooms whose messages up to `lastSeq` were committed but came without content. */
  committed(rooms: readonly RoomSequence[]): void;
  /** A note another server sent. */
  note(note: ClusterNote): void;
  /** The link is (again) connected: what it may have missed is to be looked for. */
  up(): void;
  /** The link is down: the bus polls the store until it is up again. */
  down(): void;
}

/** The connection between the servers. */
export interface ClusterLink {
  /** Connects and starts handing what other servers send to `receiver`. */
  start(receiver: ClusterReceiver): Promise<void>;
  /**
   * Tells the other servers of a message this one committed; nothing to do
   * when the store announced it in its transaction.
   */
  announce(message: MessagePosted): void;
  /** Sends a note to the other servers, best effort. */
  send(note: ClusterNote): void;
  /** Disconnects. */
  close(): Promise<void>;
}

/** Where the bus reads what it missed: the store's sequences (see `PostgresStore`). */
export interface SequencedLog {
  /** Up to `limit` messages of a room after `afterSeq` and with ids above `afterId`, in sequence order. */
  messagesAfter(
    kind: RoomKind,
    room: string,
    afterSeq: number,
    limit: number,
    afterId?: number,
  ): Promise<SequencedMessage[]>;
  /**
   * Every room whose latest message has an id above `afterId` (0: every
   * room with messages), with its last sequence number.
   */
  lastSequences(afterId: number): Promise<LastSequences>;
  /**
   * Keeps an operator's note (a KICK, a BROADCAST: its JSON) for the
   * other servers to read for a minute, as the link may lose it.
   */
  keepNote?(note: string): Promise<void>;
  /** The operators' notes kept in the last minute, oldest first. */
  keptNotes?(): Promise<string[]>;
}

/** Timings of a {@link ClusterBus}, in milliseconds. */
export interface ClusterTimings {
  /** How long a message that came early waits for the ones before it. Default 20. */
  gapWaitMs?: number;
  /** How often the rooms are compared with the store while the link is up. Default 1,000. */
  reconcileMs?: number;
  /** How often the store is polled while the link is down. Default 250. */
  pollMs?: number;
  /**
   * How long before its COMMIT a message may have taken its id, at most (a
   * batch's life: the store gives one up after 15 s); a comparison asks
   * about the rooms with messages since the ids known this long before
   * the comparison before it. Default 60,000.
   */
  commitWindowMs?: number;
  /**
   * How often a comparison asks about every room all the same (for a
   * message whose COMMIT took longer still, or a reading that failed).
   * Default 300,000.
   */
  fullComparisonMs?: number;
  /**
   * How long an operator's KICK or BROADCAST made while the link is down
   * is held to be sent once it is up, at most. Default 60,000.
   */
  holdMs?: number;
  /**
   * How long after the link is up again the held ones are sent: the other
   * servers come back to the bus about when this one does, and hear only
   * what is sent once they are. Default 1,000.
   */
  heldDelayMs?: number;
  /**
   * How long after an operator's note was made keeping it in the store is
   * tried again, when the store could not keep it: the store shows it for
   * a minute from then, and a server that heard it on the link remembers
   * it for two minutes from then (see {@link OPERATORS_REMEMBERED_MS}).
   * Default 45,000.
   */
  keepRetryMs?: number;
}

/** Operators' notes waiting: held while the link is down, or unkept while the store refuses. */
type NotesWaiting = "held" | "unkept";

/** Most messages read from the store at once to fill a gap. */
const FETCH_LIMIT = 1000;

/** Most operator's notes held while the link is down; the oldest is given up beyond. */
const MAX_HELD_NOTES = 100;

/**
 * How long an operator's note acted on here is remembered, so that a copy
 * from the link or the store is not acted on again: the store keeps one
 * for a minute, and this is twice that.
 */
const OPERATORS_REMEMBERED_MS = 120_000;

/** A message waiting for those before it, and the session it leaves out. */
interface Held {
  readonly event: MessagePosted;
  readonly except: number;
}

/**
 * One room's delivery on this server: what it delivered, what waits. What
 * most rooms never need is made when first needed (an order with its maps
 * made at once took about 600 bytes).
 */
class RoomOrder {
  readonly place: Place;
  #audience: Audience | null = null;
  /** The sequence number of the last message delivered (or passed over: nobody here). */
  delivered: number;
  /** The highest sequence number known to be committed. */
  committed: number;
  /**
   * Every message with an id up to this was dealt with before the order
   * was made (see `ClusterBus.#roomFloor`): until `delivered` is known
   * (`based`), the first read from the store starts above it.
   */
  readonly floor: number;
  /** Whether `delivered` says where the room is (else, only the floor does). */
  based: boolean;
  /** The comparison under way when the bus last looked it up by name (see `ClusterBus.#round`). */
  touched: number;
  /** Let go: the place's lookup finds a new one. */
  letGo = false;
  /** Messages that came early, by sequence number. */
  held: Map<number, Held> | null = null;
  /** Posters with posts in flight here, and how many: their server publishes those itself. */
  posting: Map<string, number> | null = null;
  filling = false;
  timer: ReturnType<typeof setTimeout> | null = null;

  constructor(place: Place, floor: number, round: number) {
    this.place = place;
    this.delivered = this.committed = 0;
    this.floor = floor;
    // with no floor, a room heard of only now was created since the start: numbered from 1
    this.based = floor === 0;
    this.touched = round;
  }

  /** Nothing waits in it: it may be let go (when nobody here is in the room). */
  settled(): boolean {
    return this.delivered === this.committed && this.held === null && this.posting === null &&
      this.timer === null && !this.filling;
  }

  get audience(): Audience {
    return this.#audience ??= { kind: "place", place: this.place };
  }

  isHeld(seq: number): boolean {
    return this.held?.has(seq) ?? false;
  }

  hold(seq: number, held: Held): void {
    (this.held ??= new Map()).set(seq, held);
  }

  /**
   * Where the room is, learned from the first read above the floor: the
   * message before `first` (or, with none above the floor, every one
   * committed) was dealt with; those held up to it are dropped.
   */
  baseAt(first: SequencedMessage | undefined): void {
    this.based = true;
    this.delivered = first === undefined ? this.committed : first.seq - 1;
    for (const seq of this.held?.keys() ?? []) {
      if (seq <= this.delivered) this.held!.delete(seq);
    }
    if (this.held?.size === 0) this.held = null;
  }

  /** Takes the next message in turn out of those held, if it came. */
  takeNext(): Held | undefined {
    const next = this.held?.get(this.delivered + 1);
    if (next === undefined) return undefined;
    this.held!.delete(++this.delivered);
    if (this.held!.size === 0) this.held = null;
    return next;
  }
}

/**
 * One direct conversation's messages as this server heard of them: those
 * up to `checked`, those in `ahead`, and those with ids up to `floor` were
 * delivered here (or needed no delivery here).
 */
class DirectOrder {
  checked: number;
  /** Made when first needed. */
  ahead: Set<number> | null = null;
  /** The conversation's last sequence number at the comparison before: what is due by now. */
  due: number;
  filling = false;
  /** Every message with an id up to this was dealt with before the order was made (see `#directFloor`). */
  readonly floor: number;
  /** The comparison under way when the bus last looked it up (see `ClusterBus.#round`). */
  touched: number;

  constructor(checked: number, floor: number, round: number) {
    this.checked = this.due = checked;
    this.floor = floor;
    this.touched = round;
  }

  /** Nothing heard of is left to check: it may be let go. */
  settled(): boolean {
    return this.ahead === null && this.checked >= this.due && !this.filling;
  }

  /** Takes note of message `seq`; false when it was heard of before. */
  mark(seq: number): boolean {
    if (seq <= this.checked || this.ahead?.has(seq)) return false;
    if (seq === this.checked + 1) this.#advance(seq);
    else (this.ahead ??= new Set()).add(seq);
    return true;
  }

  /** Everything up to `seq` counts as heard of. */
  passOver(seq: number): void {
    if (seq <= this.checked) return;
    for (const ahead of this.ahead ?? []) if (ahead <= seq) this.ahead!.delete(ahead);
    this.#advance(seq);
  }

  #advance(seq: number): void {
    this.checked = seq;
    while (this.ahead?.delete(this.checked + 1)) this.checked++;
    if (this.ahead?.size === 0) this.ahead = null;
  }
}

/** The bus of one server of a cluster. */
export class ClusterBus implements FanoutBus, ClusterReceiver {
  readonly #local: LocalDelivery;
  readonly #node: NodeChat;
  readonly #link: ClusterLink;
  readonly #log: SequencedLog;
  readonly #gapWaitMs: number;
  readonly #reconcileMs: number;
  readonly #pollMs: number;
  readonly #say: (line: string) => void;
  readonly #places: PlaceWatcher | null;
  /** Rooms by kind and name, while somebody here is in them or they were lately heard of. */
  readonly #orders = new Map<string, RoomOrder>();
  /** The same as `#directFloor`, for rooms' orders (let go once settled with nobody here). */
  #roomFloor = 0;
  /** The same, by the place objects of this server's rooms (no key made per post). */
  readonly #byPlace = new WeakMap<Place, RoomOrder>();
  /** Direct conversations by name, while they are not settled or were lately heard of. */
  readonly #directs = new Map<string, DirectOrder>();
  /**
   * Every message of a direct conversation without an order here with an
   * id up to this was dealt with: its order was let go once settled, at a
   * comparison that did not find the conversation (so its messages up to
   * the comparison's point were all committed and found before), and an
   * order made again passes over them. Without it a server would keep an
   * order for every direct conversation of the cluster.
   */
  #directFloor = 0;
  /** The rooms were compared with the store once: a conversation not known since is new. */
  #compared = false;
  /**
   * Comparisons begun: a record looked up since the one under way began
   * is kept at its end (a number, not a clock read on every message).
   */
  #round = 0;
  /** Comparisons that succeeded: when each began and ended, and the highest latest-message id known. */
  readonly #comparisons: { began: number; ended: number; lastId: number }[] = [];
  /** When the last comparison that asked about every room began. */
  #lastFull = -Infinity;
  readonly #commitWindowMs: number;
  readonly #fullComparisonMs: number;
  readonly #holdMs: number;
  readonly #heldDelayMs: number;
  #heldTimer: ReturnType<typeof setTimeout> | null = null;
  #linkUp = false;
  /** The link went down since it was last up (or before it ever was). */
  #wentDown = false;
  #reconciling = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;
  /**
   * An operator's notes made while the link was down (a KICK, a BROADCAST),
   * oldest first: nothing in the store tells the other servers of them, so
   * they are sent once it is up again.
   */
  #heldNotes: { note: ClusterNote; at: number }[] = [];
  /**
   * An operator's notes made here that the store could not keep (their
   * JSON), oldest first: kept after a comparison, once it answers again.
   */
  #unkeptNotes: { text: string; at: number }[] = [];
  readonly #keepRetryMs: number;
  /** Operators' notes sent, heard or read here (their JSON), and when: each is acted on once. */
  readonly #operatorNotes = new Map<string, number>();
  /** The kept notes were read once: those there before this server started are history. */
  #keptNotesRead = false;

  constructor(
    local: LocalDelivery,
    node: NodeChat,
    link: ClusterLink,
    log: SequencedLog,
    options: ClusterTimings & {
      log?: (line: string) => void;
      /** Told who comes into and leaves which place here (the cluster's roster). */
      places?: PlaceWatcher;
    } = {},
  ) {
    this.#local = local;
    this.#node = node;
    this.#link = link;
    this.#log = log;
    this.#gapWaitMs = options.gapWaitMs ?? 20;
    this.#reconcileMs = options.reconcileMs ?? 1000;
    this.#pollMs = options.pollMs ?? 250;
    this.#commitWindowMs = options.commitWindowMs ?? 60_000;
    this.#fullComparisonMs = options.fullComparisonMs ?? 300_000;
    this.#holdMs = options.holdMs ?? 60_000;
    this.#heldDelayMs = options.heldDelayMs ?? 1000;
    this.#keepRetryMs = options.keepRetryMs ?? 45_000;
    this.#say = options.log ?? (() => {});
    this.#places = options.places ?? null;
  }

  /**
   * Reads the operators' notes kept in the store (history: they came
   * before this server), connects the link, then compares the rooms with
   * the store once (with nobody here yet, what is stored counts as
   * delivered) and every second from then on.
   */
  async start(): Promise<void> {
    await this.#readKeptNotes();
    await this.#link.start(this);
    await this.#reconcile();
  }

  /** Stops comparing and disconnects the link. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    if (this.#heldTimer !== null) clearTimeout(this.#heldTimer);
    for (const order of this.#orders.values()) {
      if (order.timer !== null) clearTimeout(order.timer);
    }
    await this.#link.close();
  }

  publish(to: Audience, event: ChatEvent, exceptSession: number): void {
    if (event.type === "message" && event.seq > 0 && to.kind === "place") {
      this.#offer(this.#orderOf(to.place), event, exceptSession);
      this.#link.announce(event);
      return;
    }
    if (!isFirstCopy(to, event) || this.#firstHeard(event)) {
      this.#local.deliver(to, event, exceptSession);
    }
    if (this.#places !== null) this.#watch(to, event);
    this.#send({ kind: "event", to, event });
  }

  /**
   * Sends a note. An operator's is also kept in the store, and held while
   * the link is down (see `#heldNotes`).
   */
  #send(note: ClusterNote): void {
    if (!isOperators(note)) return this.#link.send(note);
    const text = JSON.stringify(note);
    const at = performance.now();
    this.#operatorNotes.set(text, at);
    this.#log.keepNote?.(text).catch((error) => {
      this.#say(`cluster-bus note-keeping-failed ${error}`);
      this.#keepFor(this.#unkeptNotes, { text, at }, "unkept");
    });
    if (this.#linkUp) return this.#link.send(note);
    this.#keepFor(this.#heldNotes, { note, at }, "held");
  }

  /** Adds an operator's note to `notes`, at most {@link MAX_HELD_NOTES}: the oldest is given up. */
  #keepFor<T>(notes: T[], note: T, what: NotesWaiting): void {
    if (notes.length >= MAX_HELD_NOTES) {
      notes.shift();
      this.#say(`cluster-bus ${what}-note-dropped: more than ${MAX_HELD_NOTES} ${what}`);
    }
    notes.push(note);
  }

  /** Those of `notes` made within `maxAgeMs`; the others are given up. */
  #recent<T extends { at: number }>(
    notes: readonly T[],
    maxAgeMs: number,
    what: NotesWaiting,
  ): T[] {
    const since = performance.now() - maxAgeMs;
    const recent = notes.filter(({ at }) => at >= since);
    const late = notes.length - recent.length;
    if (late > 0) this.#say(`cluster-bus ${what}-notes-expired count=${late}`);
    return recent;
  }

  /**
   * Keeps the operator's notes the store could not, in order, but those
   * made too long ago; stops at the first it still cannot keep.
   */
  async #keepUnkept(): Promise<void> {
    const unkept = this.#recent(this.#unkeptNotes, this.#keepRetryMs, "unkept");
    this.#unkeptNotes = [];
    let kept = 0;
    for (; kept < unkept.length; kept++) {
      try {
        await this.#log.keepNote!(unkept[kept].text);
      } catch {
        // those that failed meanwhile came after these
        this.#unkeptNotes = [...unkept.slice(kept), ...this.#unkeptNotes];
        break;
      }
    }
    if (kept > 0) this.#say(`cluster-bus notes-kept-late count=${kept}`);
  }

  /** Sends the operator's notes held while the link was down, but those held too long. */
  #sendHeld(): void {
    const held = this.#recent(this.#heldNotes, this.#holdMs, "held");
    this.#heldNotes = [];
    for (const { note } of held) this.#link.send(note);
  }

  posting(place: Place, sender: string, change: 1 | -1): void {
    const order = this.#orderOf(place);
    const posting = order.posting ??= new Map();
    const count = (posting.get(sender) ?? 0) + change;
    if (count > 0) posting.set(sender, count);
    else if (posting.delete(sender) && posting.size === 0) order.posting = null;
  }

  /** Tells the roster of a session coming into or leaving a place. */
  #watch(to: Audience, event: ChatEvent): void {
    const places = this.#places!;
    if (event.type === "joined") places.entered(event.user, event.place);
    else if (event.type === "left") places.left(event.user, event.place);
    else if (event.type === "peer-chat-ended" && to.kind === "user") {
      places.left(to.user, event.place);
    }
  }

  share(change: SharedChange): void {
    this.#send({ kind: "change", change });
  }

  /** How many rooms and direct conversations the bus keeps a record of (for tests and benchmarks). */
  heldRecords(): { rooms: number; directs: number } {
    return { rooms: this.#orders.size, directs: this.#directs.size };
  }

  linkUp(): boolean {
    return this.#linkUp;
  }

  messages(messages: readonly SequencedMessage[]): void {
    for (const message of messages) {
      if (message.kind === "direct") continue;
      this.#node.sawMessage(message.id);
      const order = this.#order(message.kind, message.room);
      this.#offer(order, eventOf(order, message), 0);
    }
  }

  committed(rooms: readonly RoomSequence[]): void {
    for (const room of rooms) {
      if (room.kind === "direct") continue;
      const order = this.#order(room.kind, room.name);
      this.#heard(order, room.lastSeq);
      this.#awaitGap(order);
    }
  }

  note(note: ClusterNote): void {
    if (isOperators(note) && !this.#firstOperators(JSON.stringify(note))) return;
    this.#take(note);
  }

  /** Takes an operator's note in; false when it was acted on here before. */
  #firstOperators(text: string): boolean {
    if (this.#operatorNotes.has(text)) return false;
    this.#operatorNotes.set(text, performance.now());
    return true;
  }

  /** Acts on a note from another server. */
  #take(note: ClusterNote): void {
    if (note.kind === "change") return this.#node.apply(note.change);
    const { to, event } = note;
    // a direct message found in the store before its note came is not given twice
    if (isFirstCopy(to, event) && !this.#firstHeard(event)) return;
    this.#local.deliver(to, event, 0);
    if (note.to.kind === "place" && note.to.place.kind === "group") this.#node.heard(note.event);
  }

  up(): void {
    const wasUp = this.#linkUp;
    this.#linkUp = true;
    if (!wasUp) this.#say("cluster-bus up");
    if (this.#wentDown) {
      this.#wentDown = false;
      this.#node.relinked();
    }
    if (this.#heldNotes.length > 0 && this.#heldTimer === null) {
      this.#heldTimer = setTimeout(() => {
        this.#heldTimer = null;
        if (this.#linkUp) this.#sendHeld(); // else held on (and given up in time)
      }, this.#heldDelayMs);
    }
    this.#reconcile();
  }

  down(): void {
    if (this.#linkUp) this.#say("cluster-bus down: polling the store");
    this.#linkUp = false;
    this.#wentDown = true;
    this.#schedule();
  }

  /** The order of a place of this server, found by its object or else by name. */
  #orderOf(place: Place): RoomOrder {
    let order = this.#byPlace.get(place);
    if (order === undefined || order.letGo) {
      order = this.#order(place.kind, place.name);
      this.#byPlace.set(place, order);
    }
    return order;
  }

  #order(kind: Place["kind"], name: string): RoomOrder {
    const key = roomKey(kind, name);
    let order = this.#orders.get(key);
    if (order === undefined) {
      order = new RoomOrder({ kind, name }, this.#roomFloor, this.#round);
      this.#orders.set(key, order);
    } else order.touched = this.#round;
    return order;
  }

  /** Delivers a message in its turn, holds it back until then, or drops it when delivered. */
  #offer(order: RoomOrder, event: MessagePosted, except: number): void {
    const seq = event.seq;
    if (!order.based && event.id <= order.floor) return; // a late copy: dealt with before
    if (seq <= order.delivered || order.isHeld(seq)) return;
    this.#heard(order, seq);
    if (seq <= order.delivered) return; // nobody here to give it to
    order.hold(seq, { event, except });
    this.#drain(order);
    this.#awaitGap(order);
  }

  #heard(order: RoomOrder, seq: number): void {
    if (seq > order.committed) order.committed = seq;
    if (this.#node.membersOf(order.place) === 0) this.#passOver(order);
  }

  /** Nobody here is in the room: what was committed counts as delivered. */
  #passOver(order: RoomOrder): void {
    order.delivered = order.committed;
    order.based = true;
    order.held = null;
  }

  #drain(order: RoomOrder): void {
    if (!order.based) return; // the first read from the store says where the room is
    for (let next = order.takeNext(); next; next = order.takeNext()) {
      this.#local.deliver(order.audience, next.event, next.except);
    }
    if (order.held === null && order.timer !== null) {
      clearTimeout(order.timer);
      order.timer = null;
    }
  }

  /** Fills the room's gap from the store unless the missing messages come within the wait. */
  #awaitGap(order: RoomOrder): void {
    if (order.timer !== null || order.committed <= order.delivered) return;
    if (!order.based) return void this.#fill(order); // nothing to wait for before that read
    order.timer = setTimeout(() => {
      order.timer = null;
      if (order.committed > order.delivered) this.#fill(order);
    }, this.#gapWaitMs);
  }

  /** Reads the room's messages after the last one delivered from the store, and delivers them. */
  async #fill(order: RoomOrder): Promise<void> {
    if (order.filling || this.#closed) return;
    order.filling = true;
    try {
      while (order.committed > order.delivered && !this.#closed) {
        if (this.#node.membersOf(order.place) === 0) {
          this.#passOver(order);
          break;
        }
        const { kind, name } = order.place;
        const missing = await this.#log.messagesAfter(
          kind,
          name,
          order.delivered,
          FETCH_LIMIT,
          order.based ? 0 : order.floor,
        );
        // the room's messages up to the floor were dealt with: what comes after them is new
        if (!order.based) order.baseAt(missing[0]);
        if (missing.length === 0) break;
        let mine = false;
        for (const message of missing) {
          // perhaps posted here and not yet published: its publishing leaves its poster out
          if (order.posting?.has(message.sender) && !order.isHeld(message.seq)) {
            mine = true;
            break;
          }
          this.#node.sawMessage(message.id);
          if (message.seq > order.delivered && !order.isHeld(message.seq)) {
            order.hold(message.seq, { event: eventOf(order, message), except: 0 });
          }
          if (message.seq > order.committed) order.committed = message.seq;
        }
        this.#drain(order);
        if (mine) break;
      }
    } catch (error) {
      // the store is away: the next comparison tries again
      this.#say(`cluster-bus gap-fill-failed room=${JSON.stringify(order.place.name)} ${error}`);
    } finally {
      order.filling = false;
    }
  }

  /**
   * Compares the last sequence number in the store of every room with
   * messages since the comparison before with what was delivered, and
   * reads what is missing. A room stays among them for the commit window
   * after its latest message: a reading that failed is done again.
   */
  async #reconcile(): Promise<void> {
    if (this.#reconciling || this.#closed) return;
    this.#reconciling = true;
    try {
      const began = performance.now();
      const round = ++this.#round;
      const afterId = this.#sinceId(began);
      const { rooms, lastId } = await this.#log.lastSequences(afterId);
      this.#compareDone(began, afterId, lastId);
      const fills: Promise<void>[] = [];
      for (const room of rooms) {
        if (room.kind === "direct") {
          const fill = this.#compareDirect(room);
          if (fill !== null) fills.push(fill);
          continue;
        }
        if (room.lastId <= this.#roomFloor && !this.#orders.has(roomKey(room.kind, room.name))) {
          continue; // let go, and nothing since: a comparison of every room finds it
        }
        const order = this.#order(room.kind, room.name);
        this.#heard(order, room.lastSeq);
        if (order.committed > order.delivered) fills.push(this.#fill(order));
      }
      this.#compared = true;
      await Promise.all(fills);
      this.#letGoSettled(round, afterId);
      if (this.#unkeptNotes.length > 0) await this.#keepUnkept();
      await this.#readKeptNotes();
    } catch (error) {
      this.#say(`cluster-bus reconcile-failed ${error}`);
    } finally {
      this.#reconciling = false;
      this.#schedule();
    }
  }

  /**
   * Acts on the operators' notes kept in the store that were not had here:
   * sent while this server's link was down, or lost on the way. Those kept
   * before the first reading (at the start) are history.
   */
  async #readKeptNotes(): Promise<void> {
    const forgotten = performance.now() - OPERATORS_REMEMBERED_MS;
    for (const [text, at] of this.#operatorNotes) {
      if (at < forgotten) this.#operatorNotes.delete(text);
    }
    if (this.#log.keptNotes === undefined) return;
    let kept: string[];
    try {
      kept = await this.#log.keptNotes();
    } catch (error) {
      return this.#say(`cluster-bus kept-notes-failed ${error}`);
    }
    const history = !this.#keptNotesRead;
    this.#keptNotesRead = true;
    for (const text of kept) {
      if (!this.#firstOperators(text) || history) continue;
      let note: ClusterNote;
      try {
        note = JSON.parse(text);
      } catch {
        continue;
      }
      if (isOperators(note)) this.#take(note);
    }
  }

  /**
   * The id above which the rooms are asked about: a message committed
   * after the last comparison read the store took its id less than the
   * commit window before, so after every id known to a comparison that had
   * ended by the time the last one began, less the window. 0 (every room)
   * until there is one, and every {@link ClusterTimings.fullComparisonMs}.
   */
  #sinceId(now: number): number {
    if (now - this.#lastFull >= this.#fullComparisonMs) return 0;
    const last = this.#comparisons.at(-1);
    if (last === undefined) return 0;
    let since = 0;
    for (const { ended, lastId } of this.#comparisons) {
      if (ended > last.began - this.#commitWindowMs) break;
      since = lastId;
    }
    return since;
  }

  /** Keeps a comparison that succeeded, and of those before it the ones still needed. */
  #compareDone(began: number, afterId: number, lastId: number): void {
    if (afterId === 0) this.#lastFull = began;
    const known = Math.max(lastId, this.#comparisons.at(-1)?.lastId ?? 0);
    this.#comparisons.push({ began, ended: performance.now(), lastId: known });
    const cutoff = began - this.#commitWindowMs;
    // the latest that ended by the cutoff stays: later cutoffs are later still
    while (this.#comparisons.length > 1 && this.#comparisons[1].ended <= cutoff) {
      this.#comparisons.shift();
    }
  }

  /**
   * Takes note of a direct message heard live; false when it was heard of
   * before (found in the store). Until the rooms were compared once,
   * nothing is read from the store: every one heard is given.
   */
  #firstHeard(event: DirectMessage): boolean {
    // one not known is new since the rooms were compared (before, the comparison passes over it)
    const order = this.#directOrder(directRoomName(event.from, event.to), 0);
    if (event.id <= order.floor) return false; // a late copy: dealt with before
    return order.mark(event.seq) || !this.#compared;
  }

  /** The order of a direct conversation, made with everything up to `checked` heard of if new. */
  #directOrder(name: string, checked: number): DirectOrder {
    let order = this.#directs.get(name);
    if (order === undefined) {
      order = new DirectOrder(checked, this.#directFloor, this.#round);
      this.#directs.set(name, order);
    } else order.touched = this.#round;
    return order;
  }

  /**
   * Lets go of the rooms (with nobody here) and direct conversations
   * settled and not looked up since comparison `round` began, which did
   * not find them, and raises the floors to its point (see `#directFloor`).
   */
  #letGoSettled(round: number, afterId: number): void {
    const rooms = letGo(this.#orders, round, (order) => {
      if (this.#node.membersOf(order.place) > 0) return false;
      order.letGo = true;
      return true;
    });
    if (rooms && afterId > this.#roomFloor) this.#roomFloor = afterId;
    const directs = letGo(this.#directs, round, () => true);
    if (directs && afterId > this.#directFloor) this.#directFloor = afterId;
  }

  /**
   * Compares a direct conversation's last sequence number in the store
   * with what was heard of it: what was due at the comparison before and
   * is still missing (its note did not come) is read from the store. At
   * the first comparison, everything stored is history; later, so is a
   * conversation let go whose latest message is below the floor (a
   * comparison that asks about every room finds it).
   */
  #compareDirect({ name, lastSeq, lastId }: RoomLatest): Promise<void> | null {
    if (this.#compared && lastId <= this.#directFloor && !this.#directs.has(name)) return null;
    const order = this.#directOrder(name, this.#compared ? 0 : lastSeq);
    if (!this.#compared) order.passOver(lastSeq);
    const due = order.due;
    order.due = lastSeq;
    return order.checked < due ? this.#fillDirect(name, order, due) : null;
  }

  /** Gives the messages of a direct conversation up to `due` not heard of to their recipients here. */
  async #fillDirect(name: string, order: DirectOrder, due: number): Promise<void> {
    const users = directRoomUsers(name);
    if (users === null || !users.some((user) => this.#node.isHere(user))) {
      return order.passOver(due); // nobody here to give them to
    }
    if (order.filling || this.#closed) return;
    order.filling = true;
    try {
      for (let after = order.checked; after < due && !this.#closed;) {
        const page = await this.#log.messagesAfter("direct", name, after, FETCH_LIMIT, order.floor);
        for (const message of page) {
          if (message.seq > due) break;
          if (!order.mark(message.seq)) continue;
          const to = message.sender === users[0] ? users[1] : users[0];
          const event = directEventOf(message, to);
          if (this.#node.isHere(to)) this.#local.deliver({ kind: "user", user: to }, event, 0);
          // the copy for the sender's devices here went the same way as the recipient's, and was lost with it
          if (this.#node.hasDevicesHere(message.sender)) {
            this.#local.deliver({ kind: "user", user: message.sender }, event, 0);
          }
        }
        // a short page is the last (a message's gap in the sequence may stay: it was deleted)
        const last = page.at(-1);
        after = page.length < FETCH_LIMIT || last!.seq >= due ? due : last!.seq;
      }
      order.passOver(due); // what the store does not hold was not committed: nothing to wait for
    } catch (error) {
      this.#say(`cluster-bus direct-fill-failed ${error}`);
    } finally {
      order.filling = false;
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#reconcile();
    }, this.#linkUp ? this.#reconcileMs : this.#pollMs);
  }
}

/**
 * Whether a note is an operator's act the other servers learn of only by
 * the note: a KICK from the console, or a notice to everyone (BROADCAST).
 */
function isOperators(note: ClusterNote): boolean {
  return note.kind === "change"
    ? note.change.type === "operator-kick"
    : note.to.kind === "everyone" && note.event.type === "notice";
}

/**
 * Whether this is a direct message with its sequence number going to its
 * recipient: the copy that is given once, whichever way it comes (the
 * copy for its sender's other sessions goes by the same: when the
 * recipient's copy is found in the store, so is the sender's).
 */
function isFirstCopy(to: Audience, event: ChatEvent): event is DirectMessage {
  return event.type === "direct" && event.seq > 0 && to.kind === "user" && to.user === event.to;
}

/** The event of a direct message to `to` read from the store. */
function directEventOf(message: SequencedMessage, to: string): DirectMessage {
  return {
    type: "direct",
    id: message.id,
    seq: message.seq,
    from: message.sender,
    to,
    time: message.time,
    text: message.content,
    mentions: message.mentions ?? NO_MENTIONS,
  };
}

/**
 * Deletes from `records` those settled and not looked up since comparison
 * `round` began that `goes` lets go; whether it deleted any.
 */
function letGo<T extends { touched: number; settled(): boolean }>(
  records: Map<string, T>,
  round: number,
  goes: (record: T) => boolean,
): boolean {
  let any = false;
  for (const [key, record] of records) {
    if (record.touched < round && record.settled() && goes(record)) {
      records.delete(key);
      any = true;
    }
  }
  return any;
}

function roomKey(kind: RoomKind, name: string): string {
  return `${kind}\u0000${name}`;
}

/** The event of a message read from the store or the link. */
function eventOf(order: RoomOrder, message: SequencedMessage): MessagePosted {
  return {
    type: "message",
    place: order.place,
    id: message.id,
    seq: message.seq,
    from: message.sender,
    time: message.time,
    text: message.content,
    mentions: message.mentions ?? NO_MENTIONS,
  };
}
