import assert from "node:assert/strict";
import { directRoomName } from "../protocol/direct_room_name.ts";
import type { RoomSequence, SequencedMessage } from "../store/records.ts";
import {
  ClusterBus,
  type ClusterLink,
  type ClusterNote,
  type ClusterReceiver,
  type ClusterTimings,
  type SequencedLog,
} from "./cluster_bus.ts";
import type { ChatEvent, DirectMessage, MessagePosted, Place } from "./events.ts";
import type { Audience, SharedChange } from "./fanout_bus.ts";

const LOBBY: Place = { kind: "room", name: "lobby" };

function stored(seq: number, room = "lobby"): SequencedMessage {
  return { kind: "room", room, id: 100 + seq, seq, sender: "ann", time: seq, content: `m${seq}` };
}

/** A bus over a fake link and store; what it delivered here, as `seq/except` strings. */
function testBus(
  members: Record<string, number> = { lobby: 1 },
  here = new Set<string>(),
  timings: ClusterTimings = {},
  devices = new Set<string>(),
) {
  const delivered: string[] = [];
  const log: SequencedMessage[] = [];
  const sent: ClusterNote[] = [];
  const announced: MessagePosted[] = [];
  const applied: SharedChange[] = [];
  const heard: ChatEvent[] = [];
  const asked: number[] = [];
  const kept: string[] = [];
  /** While true, the store cannot keep a note. */
  const keeping = { refused: false };
  const lines: string[] = [];
  let relinks = 0;
  let reads = 0;
  let receiver: ClusterReceiver | null = null;
  const link: ClusterLink = {
    start: (r) => {
      receiver = r;
      r.up();
      return Promise.resolve();
    },
    announce: (event) => announced.push(event),
    send: (note) => sent.push(note),
    close: () => Promise.resolve(),
  };
  const store: SequencedLog = {
    messagesAfter: (kind, room, after, limit, afterId = 0) => {
      reads++;
      return Promise.resolve(
        log.filter((m) => m.kind === kind && m.room === room && m.seq > after && m.id > afterId)
          .slice(0, limit),
      );
    },
    lastSequences: (afterId) => {
      asked.push(afterId);
      const last = new Map<string, RoomSequence & { id: number }>();
      for (const { kind, room: name, seq, id } of log) {
        const key = `${kind} ${name}`;
        if (seq > (last.get(key)?.lastSeq ?? 0)) last.set(key, { kind, name, lastSeq: seq, id });
      }
      const rooms = [...last.values()].filter((room) => room.id > afterId);
      return Promise.resolve({
        rooms: rooms.map(({ kind, name, lastSeq, id }) => ({ kind, name, lastSeq, lastId: id })),
        lastId: Math.max(afterId, ...rooms.map((room) => room.id)),
      });
    },
    keepNote: (note) => {
      if (keeping.refused) return Promise.reject(new Error("the store is down"));
      kept.push(note);
      return Promise.resolve();
    },
    keptNotes: () => Promise.resolve([...kept]),
  };
  const bus = new ClusterBus(
    {
      deliver: (to: Audience, event: ChatEvent, except: number) =>
        delivered.push(
          event.type === "message"
            ? `${event.seq}/${except}`
            : event.type === "direct" && to.kind === "user"
            ? `${event.text} to ${to.user}`
            : event.type,
        ),
    },
    {
      membersOf: (place) => members[place.name] ?? 0,
      isHere: (user) => here.has(user) || devices.has(user),
      hasDevicesHere: (user) => devices.has(user),
      apply: (change) => applied.push(change),
      sawMessage: () => {},
      heard: (event) => heard.push(event),
      relinked: () => relinks++,
    },
    link,
    store,
    {
      gapWaitMs: 10,
      reconcileMs: 60_000,
      pollMs: 20,
      commitWindowMs: 50,
      ...timings,
      log: (line) => lines.push(line),
    },
  );
  return {
    bus,
    delivered,
    log,
    sent,
    announced,
    applied,
    heard,
    reads: () => reads,
    asked,
    kept,
    keeping,
    lines,
    relinks: () => relinks,
    receiver: () => receiver!,
  };
}

function until(condition: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = () => {
      if (condition()) resolve();
      else if (Date.now() - started > 5_000) reject(new Error("timed out waiting"));
      else setTimeout(poll, 5);
    };
    poll();
  });
}

Deno.test("a room's messages are delivered in sequence order and once, however they come", async () => {
  const { bus, delivered } = testBus();
  await bus.start();
  bus.messages([stored(2), stored(1), stored(1)]);
  bus.messages([stored(3), stored(2)]);
  assert.deepEqual(delivered, ["1/0", "2/0", "3/0"]);
  await bus.close();
});

Deno.test("a gap is filled from the store after a short wait", async () => {
  const { bus, delivered, log } = testBus();
  await bus.start();
  log.push(stored(1), stored(2), stored(3));
  bus.messages([stored(3)]);
  assert.deepEqual(delivered, [], "3 waits for 1 and 2");
  await until(() => delivered.length === 3);
  assert.deepEqual(delivered, ["1/0", "2/0", "3/0"]);
  bus.messages([stored(1), stored(2)]);
  assert.equal(delivered.length, 3, "what came late is dropped");
  await bus.close();
});

Deno.test("a message posted here keeps its poster out, and is announced", async () => {
  const { bus, delivered, log, announced } = testBus();
  await bus.start();
  log.push(stored(1), stored(2));
  const posted: MessagePosted = {
    type: "message",
    place: LOBBY,
    id: 102,
    seq: 2,
    from: "ann",
    time: 2,
    text: "m2",
    mentions: [],
  };
  bus.publish({ kind: "place", place: LOBBY }, posted, 7);
  assert.equal(announced.length, 1);
  await until(() => delivered.length === 2);
  assert.deepEqual(delivered, ["1/0", "2/7"], "the store's copy of 2 did not replace it");
  await bus.close();
});

Deno.test("a gap fill leaves a post still in flight here to its own publishing, which keeps its poster out", async () => {
  const { bus, delivered, log, receiver } = testBus();
  await bus.start();
  bus.posting(LOBBY, "ann", 1);
  log.push({ ...stored(1), sender: "bob" }, stored(2)); // 2: ann's post here, not yet published
  receiver().committed([{ kind: "room", name: "lobby", lastSeq: 2 }]);
  await until(() => delivered.length === 1);
  await new Promise((resolve) => setTimeout(resolve, 50)); // more gap fills come and go
  assert.deepEqual(delivered, ["1/0"], "the store's copy of 2 waits for its publishing");
  const posted: MessagePosted = {
    type: "message",
    place: LOBBY,
    id: 102,
    seq: 2,
    from: "ann",
    time: 2,
    text: "m2",
    mentions: [],
  };
  bus.publish({ kind: "place", place: LOBBY }, posted, 7);
  bus.posting(LOBBY, "ann", -1);
  assert.deepEqual(delivered, ["1/0", "2/7"]);
  await bus.close();
});

Deno.test("rooms nobody here is in are passed over without reading the store", async () => {
  const { bus, delivered, reads, receiver } = testBus({ lobby: 0 });
  await bus.start();
  bus.messages([stored(5)]);
  receiver().committed([{ kind: "room", name: "lobby", lastSeq: 9 }]);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.deepEqual(delivered, []);
  assert.equal(reads(), 0);
  await bus.close();
});

Deno.test("a room whose messages came without content is read from the store", async () => {
  const { bus, delivered, log, receiver } = testBus();
  await bus.start();
  log.push(stored(1), stored(2));
  receiver().committed([{ kind: "room", name: "lobby", lastSeq: 2 }]);
  await until(() => delivered.length === 2);
  assert.deepEqual(delivered, ["1/0", "2/0"]);
  await bus.close();
});

Deno.test("while the link is down the store is polled, and a reconnection compares at once", async () => {
  const { bus, delivered, log, receiver } = testBus();
  await bus.start();
  receiver().down();
  log.push(stored(1));
  await until(() => delivered.length === 1);
  log.push(stored(2));
  receiver().up();
  await until(() => delivered.length === 2);
  assert.deepEqual(delivered, ["1/0", "2/0"]);
  await bus.close();
});

Deno.test("an operator's KICK and BROADCAST made while the link is down are held, and sent once it is up", async () => {
  const { bus, delivered, sent, receiver } = testBus({}, new Set(), {
    holdMs: 300,
    heldDelayMs: 50,
  });
  await bus.start();
  receiver().down();
  const notice = (text: string): ChatEvent => ({ type: "notice", time: 1, text });
  bus.publish({ kind: "everyone" }, notice("first"), 0);
  bus.share({ type: "operator-kick", user: "bob", reason: "" });
  bus.share({ type: "unbanned", room: "lobby", user: "bob" });
  assert.deepEqual(delivered, ["notice"], "delivered here at once");
  assert.deepEqual(
    sent.map((note) => note.kind),
    ["change"],
    "the rest is caught up from the store",
  );
  receiver().up();
  assert.equal(sent.length, 1, "not at once: the others may not be back yet");
  await until(() => sent.length === 3);
  assert.deepEqual(sent.map((note) => note.kind), ["change", "event", "change"]);
  assert.deepEqual(sent[2], {
    kind: "change",
    change: { type: "operator-kick", user: "bob", reason: "" },
  });
  receiver().up();
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(sent.length, 3, "sent once");
  // held too long, or too many: given up
  receiver().down();
  bus.publish({ kind: "everyone" }, notice("late"), 0);
  await new Promise((resolve) => setTimeout(resolve, 400));
  for (let i = 0; i < 101; i++) bus.publish({ kind: "everyone" }, notice(`n${i}`), 0);
  receiver().up();
  await until(() => sent.length > 3);
  const texts = sent.slice(3).map((note) =>
    note.kind === "event" && note.event.type === "notice" ? note.event.text : ""
  );
  assert.deepEqual(texts, Array.from({ length: 100 }, (_, i) => `n${i + 1}`));
  await bus.close();
});

Deno.test("an operator's note is kept in the store: one the link lost is read from there, each acted on once", async () => {
  const { bus, delivered, applied, receiver, kept } = testBus();
  const kick = (user: string): ClusterNote => ({
    kind: "change",
    change: { type: "operator-kick", user, reason: "", at: 1 },
  });
  kept.push(JSON.stringify(kick("before"))); // kept before this server started: history
  await bus.start();
  bus.share({ type: "operator-kick", user: "mine", reason: "", at: 1 });
  assert.deepEqual(kept.slice(1), [JSON.stringify(kick("mine"))], "kept for the others");
  receiver().down(); // polling every 20 ms
  kept.push(JSON.stringify(kick("lost on the link")));
  await until(() => applied.length === 1);
  receiver().note(kick("lost on the link"));
  receiver().note(kick("heard first"));
  kept.push(JSON.stringify(kick("heard first")));
  const broadcast: ClusterNote = {
    kind: "event",
    to: { kind: "everyone" },
    event: { type: "notice", time: 5, text: "hi" },
  };
  kept.push(JSON.stringify(broadcast));
  await until(() => delivered.length === 1);
  receiver().note(broadcast);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(
    applied.map((change) => change.type === "operator-kick" ? change.user : change.type),
    ["lost on the link", "heard first"],
  );
  assert.deepEqual(delivered, ["notice"]);
  await bus.close();
});

Deno.test("an operator's note the store could not keep is kept once it answers, in order, if not too late", async () => {
  const { bus, kept, keeping, lines } = testBus({}, new Set(), {
    reconcileMs: 20,
    keepRetryMs: 150,
  });
  const kick = (user: string): SharedChange => ({ type: "operator-kick", user, reason: "", at: 1 });
  await bus.start();
  keeping.refused = true;
  bus.share(kick("ann"));
  bus.share(kick("bob"));
  await new Promise((resolve) => setTimeout(resolve, 60)); // comparisons meanwhile keep nothing
  assert.deepEqual(kept, []);
  keeping.refused = false;
  await until(() => kept.length === 2);
  assert.deepEqual(kept.map((text) => JSON.parse(text).change.user), ["ann", "bob"]);
  assert.ok(lines.includes("cluster-bus notes-kept-late count=2"), lines.join("\n"));
  assert.equal(lines.filter((line) => line.includes("note-keeping-failed")).length, 2);

  keeping.refused = true;
  bus.share(kick("cid"));
  await new Promise((resolve) => setTimeout(resolve, 200)); // past keepRetryMs
  keeping.refused = false;
  await until(() => lines.includes("cluster-bus unkept-notes-expired count=1"));
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(kept.length, 2, "made too long ago: never kept");
  await bus.close();
});

Deno.test("other events and changes go over the link; those that come from it are taken over", async () => {
  const { bus, delivered, sent, applied, receiver } = testBus();
  await bus.start();
  const notice: ChatEvent = { type: "notice", time: 1, text: "hello" };
  bus.publish({ kind: "everyone" }, notice, 0);
  bus.share({ type: "operator-kick", user: "bob", reason: "" });
  assert.deepEqual(sent.map((note) => note.kind), ["event", "change"]);
  assert.deepEqual(delivered, ["notice"], "delivered here too");
  receiver().note({ kind: "event", to: { kind: "everyone" }, event: { ...notice, time: 2 } });
  receiver().note({ kind: "change", change: { type: "unbanned", room: "lobby", user: "bob" } });
  assert.deepEqual(delivered, ["notice", "notice"]);
  assert.deepEqual(applied, [{ type: "unbanned", room: "lobby", user: "bob" }]);
  await bus.close();
});

Deno.test("a peer chat's messages and events go over the link, and those that come are heard", async () => {
  const { bus, delivered, sent, announced, heard, receiver } = testBus({ "peer chat x.1": 1 });
  await bus.start();
  const place: Place = { kind: "group", name: "peer chat x.1" };
  const to: Audience = { kind: "place", place };
  const posted: MessagePosted = {
    type: "message",
    place,
    id: 101,
    seq: 1,
    from: "ann",
    time: 1,
    text: "hi",
    mentions: [],
  };
  bus.publish(to, posted, 7);
  assert.deepEqual(announced, [posted], "for a link that carries messages itself");
  const joined: ChatEvent = { type: "joined", place, user: "ann", time: 1 };
  bus.publish(to, joined, 7);
  assert.deepEqual(sent, [{ kind: "event", to, event: joined }]);
  assert.deepEqual(heard, [], "its own events are not heard");
  const left: ChatEvent = { type: "left", place, user: "bob", time: 2, cause: { kind: "left" } };
  receiver().note({ kind: "event", to, event: left });
  assert.deepEqual(delivered, ["1/7", "joined", "left"]);
  assert.deepEqual(heard, [left]);
  await bus.close();
});

Deno.test("when the link comes back after it was down, the chat is told to catch up; not at the start", async () => {
  const { bus, relinks, receiver } = testBus();
  await bus.start();
  assert.equal(relinks(), 0, "the chat loaded the store itself at its start");
  receiver().up();
  assert.equal(relinks(), 0, "up again without having been down");
  receiver().down();
  receiver().down();
  assert.equal(relinks(), 0);
  receiver().up();
  assert.equal(relinks(), 1);
  receiver().up();
  assert.equal(relinks(), 1);
  await bus.close();
});

/** A direct message from `from` to `to`, number `seq` of their conversation, as stored. */
function storedDirect(seq: number, from = "ann", to = "bob"): SequencedMessage {
  const room = directRoomName(from, to);
  return { kind: "direct", room, id: 200 + seq, seq, sender: from, time: seq, content: `d${seq}` };
}

/** The same as its event. */
function direct(seq: number, from = "ann", to = "bob"): DirectMessage {
  return {
    type: "direct",
    id: 200 + seq,
    seq,
    from,
    to,
    time: seq,
    text: `d${seq}`,
    mentions: [],
  };
}

Deno.test("a direct message whose note did not come is given to its recipient from the store, once", async () => {
  const { bus, delivered, log, receiver } = testBus({}, new Set(["bob"]));
  log.push(storedDirect(1), storedDirect(2, "bob", "ann"));
  await bus.start();
  assert.deepEqual(delivered, [], "what was stored before is history");
  const to: Audience = { kind: "user", user: "bob" };
  log.push(storedDirect(3));
  receiver().note({ kind: "event", to, event: direct(3) });
  log.push(storedDirect(4), storedDirect(5, "bob", "ann"), storedDirect(6));
  receiver().note({ kind: "event", to, event: direct(6) });
  assert.deepEqual(delivered, ["d3 to bob", "d6 to bob"], "notes are given at once");
  receiver().down(); // polling: the first comparison sees 4 to 6, the next gives what is missing
  await until(() => delivered.length === 3);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(delivered, ["d3 to bob", "d6 to bob", "d4 to bob"], "bob's own one is not his");
  receiver().note({ kind: "event", to, event: direct(4) });
  receiver().note({ kind: "event", to, event: direct(6) });
  assert.equal(delivered.length, 3, "a note that comes after is not given again");
  await bus.close();
});

Deno.test("a direct conversation that began while the link was down is found too", async () => {
  const { bus, delivered, log, receiver, sent } = testBus({}, new Set(["bob", "carol"]));
  await bus.start();
  receiver().down();
  log.push(storedDirect(1, "carol", "bob"), storedDirect(2, "bob", "carol"));
  await until(() => delivered.length === 2);
  assert.deepEqual(delivered, ["d1 to bob", "d2 to carol"]);
  // one published here is given here once, whatever the comparison finds after
  log.push(storedDirect(3, "carol", "bob"));
  bus.publish({ kind: "user", user: "bob" }, direct(3, "carol", "bob"), 0);
  bus.publish({ kind: "user", user: "carol" }, direct(3, "carol", "bob"), 9);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(delivered, ["d1 to bob", "d2 to carol", "d3 to bob", "d3 to carol"]);
  assert.equal(sent.length, 2, "both copies go over the link");
  await bus.close();
});

Deno.test("a direct message found in the store goes to its sender's devices here too, not to a 2.0 session", async () => {
  const { bus, delivered, log, receiver } = testBus({}, new Set(["bob"]), {}, new Set(["ann"]));
  await bus.start();
  receiver().down();
  log.push(storedDirect(1), storedDirect(2, "bob", "ann"));
  await until(() => delivered.length === 3);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(delivered, ["d1 to bob", "d1 to ann", "d2 to ann"]);
  await bus.close();
});

Deno.test("a settled direct conversation is let go; made again, it gives only what is new", async () => {
  const { bus, delivered, log, receiver, asked } = testBus({}, new Set(["bob"]), {
    commitWindowMs: 10,
    fullComparisonMs: 300,
  });
  log.push(storedDirect(1));
  await bus.start();
  receiver().down(); // polling every 20 ms
  const to: Audience = { kind: "user", user: "bob" };
  log.push(storedDirect(2));
  receiver().note({ kind: "event", to, event: direct(2) });
  await until(() => bus.heldRecords().directs === 1);
  await until(() => bus.heldRecords().directs === 0);
  receiver().note({ kind: "event", to, event: direct(2) });
  assert.deepEqual(delivered, ["d2 to bob"], "a late copy of one dealt with is not given again");
  await until(() => bus.heldRecords().directs === 0);
  const since = asked.length;
  await until(() => asked.length > since && asked.at(-1) === 0);
  assert.equal(bus.heldRecords().directs, 0, "a comparison of every room makes none again");
  log.push(storedDirect(3)); // its note never comes
  await until(() => delivered.length === 2);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(delivered, ["d2 to bob", "d3 to bob"], "what was before is not read again");
  await bus.close();
});

Deno.test("a room nobody here is in is let go once settled; made again, it gives only what is new", async () => {
  const members: Record<string, number> = { lobby: 0 };
  const { bus, delivered, log, receiver, asked } = testBus(members, new Set(), {
    commitWindowMs: 10,
    fullComparisonMs: 300,
  });
  log.push(stored(1));
  await bus.start();
  receiver().down(); // polling every 20 ms
  log.push(stored(2));
  receiver().messages([stored(2)]);
  assert.equal(bus.heldRecords().rooms, 1);
  await until(() => bus.heldRecords().rooms === 0);
  const since = asked.length;
  await until(() => asked.length > since && asked.at(-1) === 0);
  assert.equal(bus.heldRecords().rooms, 0, "a comparison of every room makes none again");
  members.lobby = 1; // somebody here joins
  receiver().messages([stored(2)]); // a late copy
  log.push(stored(3), stored(4));
  receiver().messages([stored(4)]); // 3 comes from the store
  await until(() => delivered.length === 2);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(delivered, ["3/0", "4/0"], "what was before is neither read nor given again");
  await bus.close();
});

Deno.test("comparisons ask only about rooms with messages since the ids known a commit window before", async () => {
  const { bus, delivered, log, receiver, asked } = testBus({ lobby: 1, quiet: 1 });
  await bus.start();
  assert.deepEqual(asked, [0], "the first comparison asks about every room");
  receiver().down(); // polling every 20 ms
  log.push(stored(1), stored(2));
  await until(() => delivered.length === 2);
  const seen = asked.length;
  await until(() => asked.at(-1) === 102);
  assert.ok(asked.length >= seen + 2, "not before the window has passed");
  log.push(stored(3), { ...stored(1, "quiet"), id: 104 });
  await until(() => delivered.length === 4);
  assert.deepEqual(delivered, ["1/0", "2/0", "3/0", "1/0"]);
  await bus.close();
});

Deno.test("a message committed after one with a higher id is still found within the commit window", async () => {
  const { bus, delivered, log, receiver, asked } = testBus({ lobby: 1, quiet: 1 }, new Set(), {
    commitWindowMs: 60_000,
  });
  await bus.start();
  receiver().down();
  log.push(stored(1), { ...stored(1, "quiet"), id: 110 });
  await until(() => delivered.length === 2);
  // lobby's second message took id 105 before quiet's 110, and commits only now
  log.push({ ...stored(2), id: 105 });
  await until(() => delivered.length === 3);
  assert.deepEqual(delivered, ["1/0", "1/0", "2/0"]);
  assert.ok(asked.every((id) => id === 0), "within the window, every room is asked about");
  await bus.close();
});

Deno.test("every so often a comparison asks about every room all the same", async () => {
  const { bus, receiver, log, asked } = testBus({ lobby: 1 }, new Set(), {
    commitWindowMs: 10,
    fullComparisonMs: 200,
  });
  await bus.start();
  receiver().down();
  log.push(stored(1));
  await until(() => asked.at(-1) === 101);
  const since = asked.length;
  await until(() => asked.length > since && asked.at(-1) === 0);
  await bus.close();
});
