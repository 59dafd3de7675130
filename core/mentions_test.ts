import assert from "node:assert/strict";
import { nameKey } from "../protocol/names.ts";
import { findMentions, MAX_MENTION_MARKS } from "./mentions.ts";

const among = (...names: string[]) => {
  const users = new Map(names.map((name) => [nameKey(name), name]));
  return (key: string) => users.get(key);
};

Deno.test("a mention is a member's name after @, compared as names are", () => {
  const lookup = among("ann", "Bob", "江主席");
  assert.deepEqual(findMentions("hi @ANN and @ｂｏｂ", lookup, "carol"), ["ann", "Bob"]);
  assert.deepEqual(findMentions("@江主席你好", lookup, "carol"), [], "the name goes on");
  assert.deepEqual(findMentions("@江主席 你好", lookup, "carol"), ["江主席"]);
  assert.deepEqual(findMentions("@annie is not @ann", lookup, "carol"), ["ann"]);
});

Deno.test("the longest name wins, names may hold spaces, and each is mentioned once", () => {
  const lookup = among("ann", "ann lee", "lee");
  assert.deepEqual(findMentions("@ann lee: and @ann, @ann lee!", lookup, "x"), ["ann lee", "ann"]);
  assert.deepEqual(findMentions("@ann  lee", lookup, "x"), ["ann"]);
});

Deno.test("no mention of oneself, in an address, or of a stranger", () => {
  const lookup = among("ann", "bob");
  assert.deepEqual(findMentions("@ann @bob", lookup, "ann"), ["bob"]);
  assert.deepEqual(findMentions("write to ann@bob", lookup, "x"), []);
  assert.deepEqual(findMentions("@carol @ @", lookup, "x"), []);
});

Deno.test("only the first MAX_MENTION_MARKS @ of a message are looked at", () => {
  const lookup = among("ann", "bob");
  const text = "@x ".repeat(MAX_MENTION_MARKS) + "@ann";
  assert.deepEqual(findMentions(text, lookup, "x"), []);
  assert.deepEqual(findMentions("@x ".repeat(MAX_MENTION_MARKS - 1) + "@ann", lookup, "x"), [
    "ann",
  ]);
});
