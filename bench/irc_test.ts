import assert from "node:assert/strict";
import { isErrorNumeric, parseIrcLine, privmsgTextOffset } from "./irc.ts";

Deno.test("parseIrcLine reads prefix, command, middle and trailing parameters", () => {
  assert.deepEqual(parseIrcLine("PING :irc.example.net"), {
    prefix: "",
    command: "PING",
    params: ["irc.example.net"],
  });
  assert.deepEqual(parseIrcLine(":srv 366 u1 #r0 :End of NAMES list"), {
    prefix: "srv",
    command: "366",
    params: ["u1", "#r0", "End of NAMES list"],
  });
  assert.deepEqual(parseIrcLine(":u1 MODE u1 :+F"), {
    prefix: "u1",
    command: "MODE",
    params: ["u1", "+F"],
  });
  assert.deepEqual(parseIrcLine("join  #a   #b"), {
    prefix: "",
    command: "JOIN",
    params: ["#a", "#b"],
  });
  assert.deepEqual(parseIrcLine("PRIVMSG #r :"), {
    prefix: "",
    command: "PRIVMSG",
    params: ["#r", ""],
  });
});

Deno.test("parseIrcLine rejects a line without a command", () => {
  assert.throws(() => parseIrcLine(":only-a-prefix"), SyntaxError);
  assert.throws(() => parseIrcLine(""), SyntaxError);
});

Deno.test("privmsgTextOffset finds the text of relayed PRIVMSGs only", () => {
  const bytes = (s: string) => new TextEncoder().encode(s);
  const line = bytes("xx:u7!~u7@127.0.0.1 PRIVMSG #r3 :T0000000001 a: b");
  assert.equal(privmsgTextOffset(line, 2, line.length), line.indexOf(0x54));
  for (
    const other of [
      ":srv NOTICE u1 :hi",
      "PRIVMSG #r :no prefix",
      ":u1 PRIVMSG",
      ":u1 PRIVMSG #r",
      ":u1 PRIVMSGX #r :x",
    ]
  ) {
    const b = bytes(other);
    assert.equal(privmsgTextOffset(b, 0, b.length), -1, other);
  }
});

Deno.test("isErrorNumeric accepts 400 to 599 only", () => {
  assert.ok(isErrorNumeric("433") && isErrorNumeric("502"));
  assert.ok(!isErrorNumeric("366") && !isErrorNumeric("PRIVMSG") && !isErrorNumeric("4000"));
});
