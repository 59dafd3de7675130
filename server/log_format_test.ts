import assert from "node:assert/strict";
import { formatLogLine, parseLogLine } from "./log_format.ts";

Deno.test("a log line becomes one JSON object with the time, the event and typed fields", () => {
  const line = `login-failed session=12 addr=::1:50412 user="say \\"hi\\" 香港" failures=3`;
  const json = JSON.parse(formatLogLine(line, "json", new Date(0)));
  assert.deepEqual(json, {
    time: "1970-01-01T00:00:00.000Z",
    event: "login-failed",
    session: 12,
    addr: "::1:50412",
    user: 'say "hi" 香港',
    failures: 3,
  });
});

Deno.test("words that are not key=value are kept as text; text format is the line itself", () => {
  assert.deepEqual(parseLogLine("stopped"), { event: "stopped" });
  assert.deepEqual(parseLogLine("tls on"), { event: "tls", text: "on" });
  assert.equal(formatLogLine("stopped", "text", new Date(0)), "1970-01-01T00:00:00.000Z stopped");
});
