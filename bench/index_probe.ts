/**
 * The end of a Claptrap run: one SEARCH from an account of its own. The
 * server brings its full-text index up to date before it answers a search,
 * so waiting for the answer puts the indexing that the run's messages cost
 * inside the measured time, instead of after it.
 * @module
 */

import { FrameDecoder } from "../protocol/frame.ts";
import { encodeMessage, type Message, parseMessage } from "../protocol/message.ts";

/**
 * Logs in as `user` and runs one search; rejects on any status but OK (an
 * older server without SEARCH answers ERROR).
 */
export async function searchOnce(port: number, user: string, password: string): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const answers = readMessages(conn);
    await conn.write(encodeMessage({
      method: "LOGIN",
      params: { Username: user, Password: password },
    }));
    await expectOk(answers, "RESP_LOGIN");
    await conn.write(encodeMessage({ method: "SEARCH", params: { Query: "T0", Limit: "1" } }));
    await expectOk(answers, "RESP_SEARCH");
  } finally {
    conn.close();
  }
}

async function expectOk(answers: AsyncIterator<Message>, method: string): Promise<void> {
  for (;;) {
    const next = await answers.next();
    if (next.done) throw new Error(`index probe: connection closed before ${method}`);
    const message = next.value;
    if (message.method !== method && message.method !== "ERROR") continue; // events
    if (message.params.Status !== "OK") {
      throw new Error(
        `index probe: ${method} ${message.params.Status} ${message.params.Reason ?? ""}`,
      );
    }
    return;
  }
}

async function* readMessages(conn: Deno.Conn): AsyncGenerator<Message> {
  const decoder = new FrameDecoder();
  const buffer = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) return;
    for (const payload of decoder.push(buffer.subarray(0, n))) yield parseMessage(payload);
  }
}
