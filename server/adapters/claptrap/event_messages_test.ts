import assert from "node:assert/strict";
import type { ChatEvent } from "../../../core/events.ts";
import { encodeMessage, type Message } from "../../../protocol/message.ts";
import {
  closeMessage,
  encoding21,
  eventMessage,
  eventMessage21,
  pingMessage,
} from "./event_messages.ts";

const T = "1970-01-01T00:00:01.000Z";
const room = { kind: "room", name: "lobby" } as const;
const peerChat = { kind: "group", name: "peer chat x.1" } as const;

/** The message of `event`, checked to keep its parameters in the order given. */
function rendered(event: ChatEvent, expected: Message): void {
  const message = eventMessage(event);
  assert.deepEqual(message, expected);
  assert.deepEqual(Object.keys(message.params), Object.keys(expected.params), "in wire order");
  assert.deepEqual(encodeMessage(message), encodeMessage(expected));
}

Deno.test("a posted message becomes EVT_MSG, with Kind in a peer chat", () => {
  const posted = {
    type: "message",
    id: 7,
    seq: 0,
    from: "ann",
    time: 1000,
    text: "hi",
    mentions: [],
  } as const;
  rendered({ ...posted, place: room }, {
    method: "EVT_MSG",
    params: { Room: "lobby", From: "ann", Time: T, Id: "7" },
    content: "hi",
  });
  rendered({ ...posted, place: peerChat }, {
    method: "EVT_MSG",
    params: { Room: "peer chat x.1", Kind: "group", From: "ann", Time: T, Id: "7" },
    content: "hi",
  });
});

Deno.test("EVT_LEAVE says why only for a removal or a disconnection", () => {
  const left = { type: "left", place: room, user: "bob", time: 1000 } as const;
  const params = { Room: "lobby", User: "bob", Time: T };
  for (const kind of ["left", "moved", "logged-out"] as const) {
    rendered({ ...left, cause: { kind } }, { method: "EVT_LEAVE", params });
  }
  rendered({ ...left, cause: { kind: "disconnected", reason: "idle timeout" } }, {
    method: "EVT_LEAVE",
    params: { ...params, Reason: "idle timeout" },
  });
  rendered({ ...left, cause: { kind: "disconnected", reason: "" } }, {
    method: "EVT_LEAVE",
    params,
  });
  rendered({ ...left, cause: { kind: "kicked", by: "ann", reason: "spam" } }, {
    method: "EVT_LEAVE",
    params: { ...params, Reason: "kicked by ann: spam" },
  });
  rendered({ ...left, cause: { kind: "banned", by: "ann", reason: "" } }, {
    method: "EVT_LEAVE",
    params: { ...params, Reason: "banned by ann" },
  });
});

Deno.test("joins, removals and the end of a peer chat", () => {
  rendered({ type: "joined", place: peerChat, user: "bob", time: 1000 }, {
    method: "EVT_JOIN",
    params: { Room: "peer chat x.1", Kind: "group", User: "bob", Time: T },
  });
  rendered({ type: "removed", place: room, by: "ann", reason: "", banned: true, time: 1000 }, {
    method: "EVT_KICKED",
    params: { Room: "lobby", By: "ann", Reason: "", Banned: "yes", Time: T },
  });
  rendered({ type: "peer-chat-ended", place: peerChat, time: 1000 }, {
    method: "EVT_GROUP_END",
    params: { Room: "peer chat x.1", Time: T },
  });
});

Deno.test("requests to join a peer chat and their answers", () => {
  rendered({ type: "invitation-asked", place: peerChat, from: "cy", expires: 1000, time: 1000 }, {
    method: "EVT_PEER_INVITE",
    params: { Room: "peer chat x.1", Kind: "group", From: "cy", Expires: T, Time: T },
  });
  const answered = {
    type: "invitation-answered",
    place: peerChat,
    from: "cy",
    time: 1000,
  } as const;
  rendered({ ...answered, answer: "declined", by: "ann" }, {
    method: "EVT_PEER_ANSWER",
    params: {
      Room: "peer chat x.1",
      Kind: "group",
      From: "cy",
      Answer: "declined",
      By: "ann",
      Time: T,
    },
  });
  rendered({ ...answered, answer: "expired", by: null }, {
    method: "EVT_PEER_ANSWER",
    params: { Room: "peer chat x.1", Kind: "group", From: "cy", Answer: "expired", Time: T },
  });
});

Deno.test("direct messages, notices, pings and the farewell", () => {
  const direct = {
    type: "direct",
    id: 9,
    seq: 3,
    from: "ann",
    to: "bob",
    time: 1000,
    text: "psst",
  } as const;
  rendered({ ...direct, mentions: [] }, {
    method: "EVT_DM",
    params: { From: "ann", To: "bob", Time: T, Id: "9" },
    content: "psst",
  });
  rendered({ type: "notice", time: 1000, text: "restart at noon" }, {
    method: "EVT_NOTICE",
    params: { Time: T },
    content: "restart at noon",
  });
  assert.deepEqual(pingMessage(1000), { method: "EVT_PING", params: { Time: T } });
  assert.deepEqual(closeMessage("bye", 1000), {
    method: "EVT_CLOSE",
    params: { Reason: "bye", Time: T },
  });
});

Deno.test("2.1 sessions are told whom a message mentions, and of reading elsewhere", () => {
  const posted = {
    type: "message",
    place: room,
    id: 7,
    seq: 0,
    from: "ann",
    time: 1000,
    text: "@bob @Carol Lee hi",
    mentions: ["bob", "Carol Lee"],
  } as const;
  assert.deepEqual(eventMessage21(posted)?.params, {
    Room: "lobby",
    From: "ann",
    Time: T,
    Id: "7",
    Mentions: "bob\tCarol Lee",
  });
  assert.equal(eventMessage(posted).params.Mentions, undefined, "not to other sessions");
  assert.equal(eventMessage21({ ...posted, mentions: [] }), null);
  let encoded = 0;
  const encode = encoding21((event) => `shared ${event.type}`, () => `own ${++encoded}`);
  assert.equal(encode({ ...posted, mentions: [] }), "shared message");
  assert.equal(encode(posted), "own 1");
  rendered({ type: "read", place: peerChat, with: null, id: 5, time: 1000 }, {
    method: "EVT_READ",
    params: { Room: "peer chat x.1", Kind: "group", Id: "5", Time: T },
  });
  rendered({ type: "read", place: null, with: "bob", id: 5, time: 1000 }, {
    method: "EVT_READ",
    params: { With: "bob", Id: "5", Time: T },
  });
});
