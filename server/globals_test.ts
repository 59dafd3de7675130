import assert from "node:assert/strict";
import { GlobalsError, parseGlobals } from "./globals.ts";

Deno.test("parseGlobals reads accounts, a blank line, then rooms", () => {
  const globals = parseGlobals(
    "ann pw1\n江主席 excited\n\nlobby\n香港记者招待会\nroom with spaces\n",
    "g.txt",
  );
  assert.deepEqual([...globals.accounts], [["ann", "pw1"], ["江主席", "excited"]]);
  assert.deepEqual(globals.rooms, ["lobby", "香港记者招待会", "room with spaces"]);
});

Deno.test("parseGlobals tolerates CRLF, a byte-order mark and trailing blank lines", () => {
  const globals = parseGlobals("\uFEFFann pw\r\n\r\nlobby\r\n\r\n\r\n", "g.txt");
  assert.deepEqual([...globals.accounts], [["ann", "pw"]]);
  assert.deepEqual(globals.rooms, ["lobby"]);
});

Deno.test("parseGlobals accepts a file of accounts only", () => {
  assert.deepEqual(parseGlobals("ann pw", "g.txt").rooms, []);
});

Deno.test("parseGlobals names the file and line of a malformed entry", () => {
  const cases: [string | Uint8Array, string][] = [
    ["ann pw\nbob\n\nlobby\n", 'g.txt:2: expected "username password [admin]", got 1 fields'],
    ["ann pw extra\n", 'g.txt:1: third field must be "admin", got "extra"'],
    ["ann pw admin more\n", 'g.txt:1: expected "username password [admin]", got 4 fields'],
    ["ann pw\nann other\n", 'g.txt:2: user "ann" is listed twice'],
    ["ann pw\n\nlobby\nlobby\n", 'g.txt:4: room "lobby" is listed twice'],
    ["ann pw\n\nbad\u0007room\n", "g.txt:3: bad room name: name contains a control character"],
    [new Uint8Array([0x61, 0x20, 0x62, 0x0a, 0x0a, 0xff, 0xfe, 0x0a]), "g.txt:3: not valid UTF-8"],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseGlobals(text, "g.txt"), (e: Error) => {
      assert.ok(e instanceof GlobalsError);
      assert.equal(e.message, message);
      return true;
    });
  }
});

Deno.test("parseGlobals NFC-normalises names", () => {
  const globals = parseGlobals("e\u0301 pw\n\ncafe\u0301\n", "g.txt");
  assert.deepEqual([...globals.accounts.keys()], ["\u00e9"]);
  assert.deepEqual(globals.rooms, ["caf\u00e9"]);
});

Deno.test("parseGlobals marks users whose line ends in admin", () => {
  const globals = parseGlobals("root secret admin\nann pw\n\nlobby\n", "g.txt");
  assert.deepEqual([...globals.admins!], ["root"]);
  assert.deepEqual([...globals.accounts.keys()], ["root", "ann"]);
});
