import assert from "node:assert/strict";
import { encodingOnce } from "./event_encoding.ts";
import type { Message } from "../../protocol/message.ts";

Deno.test("an event delivered to member after member is encoded once", () => {
  let encodings = 0;
  const encode = encodingOnce((event: Message) => `${event.method}#${++encodings}`);
  const joined: Message = { method: "EVT_JOIN", params: {} };
  const left: Message = { method: "EVT_LEAVE", params: {} };
  assert.equal(encode(joined), "EVT_JOIN#1");
  assert.equal(encode(joined), "EVT_JOIN#1");
  assert.equal(encode(left), "EVT_LEAVE#2");
  assert.equal(encode(joined), "EVT_JOIN#3", "an event seen before another is encoded again");
});
