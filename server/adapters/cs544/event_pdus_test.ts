import assert from "node:assert/strict";
import type { ChatEvent } from "../../../core/events.ts";
import { eventPdu, removedPdu } from "./event_pdus.ts";

const room = { kind: "room", name: "room1" } as const;
const group = { kind: "group", name: "ann+bob" } as const;

Deno.test("a message is a 140 whose payload is (sender) text, as its client writes and filters them", () => {
  const event: ChatEvent = {
    type: "message",
    place: room,
    id: 7,
    seq: 0,
    from: "ann",
    time: 0,
    text: "hi",
    mentions: [],
  };
  assert.deepEqual(eventPdu(event), {
    code: "140",
    channel: "DC",
    parameters: {},
    payload: "(ann) hi",
  });
});

Deno.test("comings and goings are 180 and 190 naming the user; removals 192 and 191 with the reason", () => {
  assert.deepEqual(eventPdu({ type: "joined", place: room, user: "bob", time: 0 }), {
    code: "180",
    channel: "CC",
    parameters: { username: "bob", chat_name: "room1" },
    payload: "bob has joined the group",
  });
  assert.equal(
    eventPdu({ type: "joined", place: group, user: "bob", time: 0 })?.payload,
    "bob has joined the peer chat",
  );
  for (const cause of [{ kind: "left" }, { kind: "moved" }, { kind: "logged-out" }] as const) {
    assert.deepEqual(eventPdu({ type: "left", place: room, user: "bob", time: 0, cause }), {
      code: "190",
      channel: "CC",
      parameters: { username: "bob" },
      payload: "bob has left the chat room",
    });
  }
  const dropped = { kind: "disconnected", reason: "connection lost" } as const;
  assert.equal(
    eventPdu({ type: "left", place: room, user: "bob", time: 0, cause: dropped })?.code,
    "190",
  );
  const kicked = { kind: "kicked", by: "ann", reason: "" } as const;
  assert.deepEqual(eventPdu({ type: "left", place: room, user: "bob", time: 0, cause: kicked }), {
    code: "192",
    channel: "AC",
    parameters: { kicked_user: "bob" },
    payload: "bob has been kicked from the group",
  });
  const banned = { kind: "banned", by: "ann", reason: "spam" } as const;
  assert.deepEqual(eventPdu({ type: "left", place: room, user: "bob", time: 0, cause: banned }), {
    code: "191",
    channel: "AC",
    parameters: { banned_user: "bob" },
    payload: "bob has been banned from the group (spam)",
  });
});

Deno.test("the receiver's own removal names it as it spells itself, and is not shared", () => {
  const removed = {
    type: "removed",
    place: room,
    by: "ann",
    reason: "",
    banned: false,
    time: 0,
  } as const;
  assert.equal(eventPdu(removed), null);
  assert.deepEqual(removedPdu(removed, "Bob"), {
    code: "192",
    channel: "AC",
    parameters: { kicked_user: "Bob" },
    payload: "Bob has been kicked from the group",
  });
  assert.equal(removedPdu({ ...removed, banned: true }, "Bob").code, "191");
});

Deno.test("what the protocol has no code for is a 100 its client prints, or nothing", () => {
  assert.deepEqual(eventPdu({ type: "notice", time: 0, text: "maintenance at noon" }), {
    code: "100",
    channel: "CC",
    parameters: {},
    payload: "maintenance at noon",
  });
  const direct: ChatEvent = {
    type: "direct",
    id: 1,
    seq: 1,
    from: "carol",
    to: "bob",
    time: 0,
    text: "psst",
    mentions: [],
  };
  assert.equal(eventPdu(direct)?.payload, "(carol, to you only) psst");
  assert.equal(eventPdu({ type: "peer-chat-ended", place: group, time: 0 })?.code, "100");
  const asked: ChatEvent = {
    type: "invitation-asked",
    place: group,
    from: "dave",
    expires: 0,
    time: 0,
  };
  assert.match(String(eventPdu(asked)?.payload), /^dave asks to join this peer chat/);
  const answered: ChatEvent = {
    type: "invitation-answered",
    place: group,
    from: "dave",
    answer: "accepted",
    by: "ann",
    time: 0,
  };
  assert.equal(eventPdu(answered), null);
});
