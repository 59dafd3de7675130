import assert from "node:assert/strict";
import { Status } from "./methods.ts";
import {
  encodeOriginalMessage,
  formatCtime,
  formatOriginalMemberList,
  formatOriginalMessages,
  formatOriginalRoomList,
  isOriginalRequest,
  ORIGINAL_ANSWERS,
  originalAnswer,
  type OriginalRequest,
} from "./original.ts";

const text = new TextDecoder();
const ORIGINAL_REQUESTS = Object.keys(ORIGINAL_ANSWERS) as OriginalRequest[];

Deno.test("originalAnswer never gives the original client a status it does not know for the request", () => {
  for (const request of ORIGINAL_REQUESTS) {
    const known = ORIGINAL_ANSWERS[request].statuses;
    for (const status of [...Object.values(Status), "A_STATUS_OF_TOMORROW"]) {
      const answer = originalAnswer(request, status);
      assert.ok(known.includes(answer.status), `${request} ${status} → ${answer.status}`);
      if (known.includes(status as never)) assert.equal(answer.status, status, "known: kept");
    }
  }
});

Deno.test("originalAnswer maps today's statuses as the original client's dialog expects", () => {
  const cases: [OriginalRequest, string, string, string][] = [
    ["LOGIN", "ALREADY_ONLINE", "RESP_LOGIN", "AUTH_FAILED"],
    ["LOGIN", "SERVER_FULL", "RESP_LOGIN", "AUTH_FAILED"],
    ["LOGIN", "RATE_LIMITED", "RESP_LOGIN", "AUTH_FAILED"],
    ["LOGIN", "ALREADY_LOGIN", "RESP_LOGIN", "AUTH_FAILED"],
    ["JOIN_ROOM", "BANNED", "RESP_JOIN_ROOM", "NO_SUCH_ROOM"],
    ["JOIN_ROOM", "RATE_LIMITED", "RESP_JOIN_ROOM", "NO_SUCH_ROOM"],
    ["SEND_MSG", "BAD_REQUEST", "RESP_SEND_MSG", "NOT_IN_ROOM"],
    ["SEND_MSG", "SERVER_ERROR", "RESP_SEND_MSG", "NOT_IN_ROOM"],
    ["RECV_MSG", "OK", "NEW_MSG", "OK"],
    ["RECV_MSG", "NOT_IN_ROOM", "NO_NEW_MSG", "NOT_IN_ROOM"],
    ["RECV_MSG", "SERVER_ERROR", "NO_NEW_MSG", "NO_NEW_MSG"],
    ["LIST_ROOMS", "BAD_REQUEST", "RESP_LIST_ROOMS", "NOT_LOGIN"],
  ];
  for (const [request, status, method, sent] of cases) {
    assert.deepEqual(originalAnswer(request, status), { method, status: sent }, request);
  }
  assert.ok(isOriginalRequest("SEND_MSG") && !isOriginalRequest("HELLO"));
  assert.ok(!isOriginalRequest("toString") && !isOriginalRequest("__proto__"));
});

Deno.test("protocol/README.md §15.4 lists exactly the statuses of ORIGINAL_ANSWERS", async () => {
  const spec = await Deno.readTextFile(new URL("./README.md", import.meta.url));
  const section = spec.slice(spec.indexOf("### 15.4"), spec.indexOf("### 15.5"));
  const rows = [...section.matchAll(/^\| `(\w+)` +\| ([^|]+)\| `(\w+)` +\|$/gm)];
  assert.deepEqual(
    Object.fromEntries(rows.map(([, request, statuses, fallback]) => [request, {
      statuses: statuses.trim().split(", ").map((s) => s.replaceAll("`", "")),
      fallback,
    }])),
    ORIGINAL_ANSWERS,
  );
});

Deno.test("encodeOriginalMessage writes the original server's bytes: no final newline, no empty content", () => {
  const cases: [Uint8Array, number, string][] = [
    [encodeOriginalMessage("RESP_LOGIN", "OK"), 33, "RESP_LOGIN\nStatus: OK"],
    [encodeOriginalMessage("RESP_LOGIN", "AUTH_FAILED"), 42, "RESP_LOGIN\nStatus: AUTH_FAILED"],
    [
      encodeOriginalMessage("RESP_JOIN_ROOM", "NO_SUCH_ROOM"),
      47,
      "RESP_JOIN_ROOM\nStatus: NO_SUCH_ROOM",
    ],
    [
      encodeOriginalMessage("RESP_EXIT_ROOM", "NOT_IN_ROOM"),
      46,
      "RESP_EXIT_ROOM\nStatus: NOT_IN_ROOM",
    ],
    [encodeOriginalMessage("RESP_LOGOUT", "OK"), 34, "RESP_LOGOUT\nStatus: OK"],
    [encodeOriginalMessage("NO_NEW_MSG", "NO_NEW_MSG"), 41, "NO_NEW_MSG\nStatus: NO_NEW_MSG"],
    [encodeOriginalMessage("RESP_LIST_ROOMS", "OK", ""), 38, "RESP_LIST_ROOMS\nStatus: OK"],
    [
      encodeOriginalMessage("RESP_LIST_ROOMS", "OK", "random\t1\nlobby\t2"),
      75,
      "RESP_LIST_ROOMS\nStatus: OK\nContent-Length: 16\n\nrandom\t1\nlobby\t2",
    ],
    [
      encodeOriginalMessage("RESP_LIST_MEMBERS", "OK", "江主席\nbob"),
      74,
      "RESP_LIST_MEMBERS\nStatus: OK\nContent-Length: 13\n\n江主席\nbob",
    ],
  ];
  for (const [bytes, length, payload] of cases) {
    assert.equal(text.decode(bytes.subarray(0, 8)), "CLAPTRAP");
    assert.equal(new DataView(bytes.buffer, bytes.byteOffset).getUint32(8), length, payload);
    assert.equal(bytes.length, length);
    assert.equal(text.decode(bytes.subarray(12)), payload);
  }
});

Deno.test("the original content formats: TAB rows, LF lists, records joined by two TABs", () => {
  assert.equal(
    formatOriginalRoomList([{ name: "香港记者招待会", members: 2 }, { name: "lobby", members: 0 }]),
    "香港记者招待会\t2\nlobby\t0",
  );
  assert.equal(formatOriginalRoomList([]), "");
  assert.equal(formatOriginalMemberList(["root", "bob", "alice"]), "root\nbob\nalice");
  const time = "Sun Dec  6 10:27:43 2026";
  const records = formatOriginalMessages([
    { from: "bob", time, content: "first from bob" },
    { from: "bob", time, content: "second\tfrom bob" },
    { from: "江主席", time, content: "\t\tnaive\r\n\\" },
  ]);
  assert.equal(
    records,
    `bob\t${time}\tfirst from bob\t\tbob\t${time}\tsecond    from bob\t\t江主席\t${time}\t        naive\r\n\\`,
  );
  const split = records.split("\t\t").map((record) => record.split("\t"));
  assert.ok(split.every((fields) => fields.length === 3), "the original client's split holds");
});

Deno.test("formatCtime writes C's ctime(): 24 characters, the day padded with a space", () => {
  assert.equal(formatCtime(Date.UTC(2026, 11, 6, 10, 27, 42), 0), "Sun Dec  6 10:27:42 2026");
  assert.equal(formatCtime(Date.UTC(2026, 0, 31, 23, 59, 59, 999), 0), "Sat Jan 31 23:59:59 2026");
  assert.equal(formatCtime(Date.UTC(2026, 0, 31, 23, 30), 60), "Sun Feb  1 00:30:00 2026");
  assert.equal(formatCtime(Date.UTC(2026, 0, 1, 3, 0), -300), "Wed Dec 31 22:00:00 2025");
  assert.equal(formatCtime(Date.UTC(2026, 7, 1, 4, 5, 6), 480), "Sat Aug  1 12:05:06 2026");
  const now = Date.now();
  const local = new Date(now);
  assert.equal(
    formatCtime(now).slice(11, 19),
    [local.getHours(), local.getMinutes(), local.getSeconds()]
      .map((n) => String(n).padStart(2, "0")).join(":"),
    "by default in this process's time zone",
  );
});
