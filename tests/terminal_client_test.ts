/**
 * The terminal client: its pure parts in-process, then the real `client.ts`
 * as a subprocess fed a script on stdin, against a real server on
 * 127.0.0.1, with a second participant in the room.
 */

import assert from "node:assert/strict";
import {
  ChatClient,
  type ChatEvent,
  DEFAULT_FLOOD_LIMITS,
  type ServerHandle,
  type ServerOptions,
  startServer,
  tcp,
} from "../mod.ts";
import { FrameDecoder } from "../protocol/frame.ts";
import { encodeMessage, parseMessage } from "../protocol/message.ts";
import { parseClientArgs } from "../client/terminal/client_cli.ts";
import {
  COMMANDS,
  commandUsage,
  helpLines,
  ICS_MENU,
  parseInput,
  splitName,
} from "../client/terminal/commands.ts";
import { PASSWORD_RULES, type Prompter, signIn } from "../client/terminal/sign_in.ts";
import {
  ChatTerminal,
  displayLines,
  formatClock,
  formatStamp,
  readLines,
  sanitize,
  SecretInput,
} from "../client/terminal/terminal.ts";
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from "../core/accounts.ts";
import { testPoems } from "./poem_corpus.ts";
import { DEFAULT_SEARCH_LIMITS } from "../core/search.ts";

const ROOT = new URL("../", import.meta.url);
const ACCOUNTS = new Map([["alice", "alice123"], ["bob", "bob123"], ["记者", "hongkong"]]);
const ROOMS = ["lobby", "random", "香港记者招待会"];
/** A test server's options; see withServer. */
const SERVER: ServerOptions = {
  host: "127.0.0.1",
  port: 0,
  globals: { accounts: ACCOUNTS, rooms: ROOMS },
  scryptCost: 1024,
  log: () => {},
};
/** Upper bound of every wait; generous, as subprocesses start slowly on busy machines. */
const TIMEOUT_MS = 15_000;
const CLOCK = String.raw`\[\d\d:\d\d:\d\d\]`;

/** Resolves like `promise`, or rejects after TIMEOUT_MS with the message `what()`. */
async function within<T>(promise: Promise<T>, what: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what()}`)), TIMEOUT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `test` against a fresh server on a free port of 127.0.0.1. */
async function withServer(
  test: (server: ServerHandle) => Promise<void>,
  options: ServerOptions = {},
): Promise<void> {
  const server = await startServer({ ...SERVER, ...options });
  try {
    await test(server);
  } finally {
    await server.close();
  }
}

/** A second user, connected with the client library, who watches the events. */
class Participant implements AsyncDisposable {
  readonly client: ChatClient;
  readonly #events: AsyncGenerator<ChatEvent>;

  private constructor(client: ChatClient) {
    this.client = client;
    this.#events = client.events();
  }

  /** Connects and logs in with push on. */
  static async login(port: number, user: string, password: string): Promise<Participant> {
    const client = await ChatClient.connect(tcp({ port }));
    await client.login(user, password);
    return new Participant(client);
  }

  /** The next event that `matches`, skipping others. */
  expect(what: string, matches: (event: ChatEvent) => boolean): Promise<ChatEvent> {
    const seen: ChatEvent[] = [];
    const find = async () => {
      while (true) {
        const next = await this.#events.next();
        if (next.done) throw new Error(`connection ended before ${what}`);
        seen.push(next.value);
        if (matches(next.value)) return next.value;
      }
    };
    return within(find(), () => `${what}; saw ${JSON.stringify(seen)}`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.client.close();
  }
}

/** The result of a finished client process. */
interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** `client.ts` running as a subprocess, its stdin a pipe, NO_COLOR set. */
class ClientProcess implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #output: Promise<[string, string]>;
  readonly #waiters: { matches: () => boolean; resolve: () => void; reject: (e: Error) => void }[] =
    [];
  #stdout = "";
  #stdoutEnded = false;
  #stdinClosed = false;

  constructor(port: number, args: string[]) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net", "--allow-env", "client.ts", "--port", String(port), ...args],
      cwd: ROOT,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    this.#output = Promise.all([this.#readStdout(), collect(this.#child.stderr)]);
  }

  /** What the client printed so far. */
  get stdout(): string {
    return this.#stdout;
  }

  /** Types `text` (lines ending in `\n`). */
  async write(text: string): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(text));
  }

  /** Ends stdin. */
  async closeStdin(): Promise<void> {
    if (this.#stdinClosed) return;
    this.#stdinClosed = true;
    try {
      await this.#stdin.close();
    } catch {
      // the client has exited already
    }
  }

  /** Waits until stdout contains `pattern`. */
  waitFor(pattern: string | RegExp): Promise<void> {
    const matches = () =>
      typeof pattern === "string" ? this.#stdout.includes(pattern) : pattern.test(this.#stdout);
    if (matches()) return Promise.resolve();
    if (this.#stdoutEnded) return Promise.reject(this.#missing(pattern));
    const found = new Promise<void>((resolve, reject) => {
      this.#waiters.push({ matches, resolve, reject: () => reject(this.#missing(pattern)) });
    });
    return within(found, () => `${pattern} in the output:\n${this.#stdout}`);
  }

  /** Waits for the client to exit (ending stdin unless `keepStdin`). */
  async finish(options: { keepStdin?: boolean } = {}): Promise<Finished> {
    if (!options.keepStdin) await this.closeStdin();
    const { code } = await within(this.#child.status, () => `exit; output:\n${this.#stdout}`);
    await this.closeStdin();
    const [stdout, stderr] = await this.#output;
    return { code, stdout, stderr };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#child.kill();
    } catch {
      // exited already
    }
    await this.#child.status;
    await this.closeStdin();
    await this.#output;
  }

  async #readStdout(): Promise<string> {
    for await (const text of this.#child.stdout.pipeThrough(new TextDecoderStream())) {
      this.#stdout += text;
      for (const waiter of this.#waiters.filter((w) => w.matches())) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
    this.#stdoutEnded = true;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new Error());
    return this.#stdout;
  }

  #missing(pattern: string | RegExp): Error {
    return new Error(`client exited without printing ${pattern}; output:\n${this.#stdout}`);
  }
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) text += chunk;
  return text;
}

/** Collects a ChatTerminal's output lines. */
class Transcript {
  readonly lines: string[] = [];
  #changed: () => void = () => {};

  /** The LineWriter to give the terminal. */
  readonly write = (line: string): void => {
    this.lines.push(line);
    this.#changed();
  };

  /** Waits until some line matches `pattern`. */
  waitFor(pattern: RegExp): Promise<void> {
    const found = async () => {
      while (!this.lines.some((line) => pattern.test(line))) {
        await new Promise<void>((resolve) => this.#changed = resolve);
      }
    };
    return within(found(), () => `${pattern} in ${JSON.stringify(this.lines)}`);
  }
}

/** A Prompter that answers from a script and records what it was asked and told. */
function scriptedPrompter(answers: (string | boolean)[]): Prompter & { asked: string[] } {
  const asked: string[] = [];
  const answer = (question: string) =>
    Promise.resolve().then(() => {
      asked.push(question);
      if (answers.length === 0) throw new Error(`unexpected question: ${question}`);
      return answers.shift()!;
    });
  return {
    asked,
    secret: (label) => answer(label).then(String),
    confirm: (question) => answer(question).then((yes) => yes === true),
    say: (line) => asked.push(line),
  };
}

/** Output lines with the clock replaced by `[T]`. */
function untimed(lines: readonly string[]): string[] {
  return lines.map((line) => line.replace(/^\[[\d:]+\]/, "[T]"));
}

/** A ChatTerminal of a logged-in user, with its transcript. */
async function terminalOf(
  port: number,
  user: string,
): Promise<{ terminal: ChatTerminal; transcript: Transcript }> {
  const client = await ChatClient.connect(tcp({ port }));
  await client.login(user, ACCOUNTS.get(user)!);
  const transcript = new Transcript();
  return { terminal: new ChatTerminal(client, transcript.write, { user }), transcript };
}

function assertNoStackTrace(output: string): void {
  assert.doesNotMatch(output, /^\s+at /m);
  assert.doesNotMatch(output, /error: Uncaught/i);
}

// ---------------------------------------------------------------- pure parts

Deno.test("parseClientArgs has defaults and reads every flag", () => {
  assert.deepEqual(parseClientArgs([]), {
    host: "127.0.0.1",
    port: 6666,
    register: false,
    push: true,
    reconnect: true,
    bell: true,
    help: false,
  });
  assert.deepEqual(
    parseClientArgs(["--host", "::1", "--port", "7000", "--user", "记者", "--password", "p w"]),
    {
      host: "::1",
      port: 7000,
      user: "记者",
      password: "p w",
      register: false,
      push: true,
      reconnect: true,
      bell: true,
      help: false,
    },
  );
  assert.equal(parseClientArgs(["--no-push"]).push, false);
  assert.equal(parseClientArgs(["--no-reconnect"]).reconnect, false);
  assert.equal(parseClientArgs(["--no-bell"]).bell, false);
  assert.equal(parseClientArgs(["--register"]).register, true);
  assert.equal(parseClientArgs(["-h"]).help, true);
});

Deno.test("parseClientArgs rejects a bad port, unknown flags and positionals", () => {
  assert.throws(() => parseClientArgs(["--port", "0"]), /--port must be a whole number/);
  assert.throws(() => parseClientArgs(["--port", "http"]), /--port must be a whole number/);
  assert.throws(() => parseClientArgs(["--colour"]), TypeError);
  assert.throws(() => parseClientArgs(["lobby"]), /unexpected argument: lobby/);
});

Deno.test("parseInput tells messages from commands and keeps the rest of the line as argument", () => {
  assert.deepEqual(parseInput("hello /join"), { type: "message", text: "hello /join" });
  assert.deepEqual(parseInput("  indented"), { type: "message", text: "  indented" });
  assert.deepEqual(parseInput("//shrug"), { type: "message", text: "/shrug" });
  assert.deepEqual(parseInput(" \t "), { type: "empty" });
  assert.deepEqual(parseInput("/join  my  room ✨ "), {
    type: "command",
    name: "join",
    arg: "my  room ✨",
  });
  assert.deepEqual(parseInput("/JOIN 香港记者招待会"), {
    type: "command",
    name: "join",
    arg: "香港记者招待会",
  });
  assert.deepEqual(parseInput("/quit"), { type: "command", name: "quit", arg: "" });
  assert.deepEqual(parseInput("/dance now"), { type: "unknown", name: "dance" });
  assert.equal(parseInput("/join ").type, "usage");
  assert.deepEqual(parseInput("/leave lobby"), { type: "command", name: "leave", arg: "lobby" });
  assert.equal(parseInput("/switch").type, "usage");
  assert.deepEqual(parseInput("/history"), { type: "command", name: "history", arg: "" });
  assert.deepEqual(parseInput("/history 50"), { type: "command", name: "history", arg: "50" });
  assert.deepEqual(parseInput("/search  quick  fox "), {
    type: "command",
    name: "search",
    arg: "quick  fox",
  });
  assert.equal(parseInput("/search").type, "usage");
  assert.deepEqual(
    ["history", "search"].map((name) => commandUsage(COMMANDS.find((c) => c.name === name)!)),
    ["/history [N]", "/search WORDS"],
  );
});

Deno.test("formatStamp adds the date for times on another day", () => {
  const time = "2026-11-23T09:10:32.123Z";
  assert.equal(formatStamp(time, new Date(time)), formatClock(time));
  assert.match(formatStamp(time, new Date("2027-06-01T12:00:00Z")), /^2026-11-2\d \d\d:\d\d:32$/);
  assert.equal(formatStamp("not a time"), "--:--:--");
});

Deno.test("SecretInput erases whole characters and ignores escape sequences", () => {
  const keys = (text: string) => new TextEncoder().encode(text);
  const input = new SecretInput();
  assert.equal(input.push(keys("pä")), "more");
  assert.equal(input.push(keys("\x7f\x7fs\x1b[D")), "more");
  assert.equal(input.push(keys("\x15香港\x08\x7fok\r\n")), "done");
  assert.equal(input.value, "ok");
  assert.equal(new SecretInput().push(keys("pw\x03")), "interrupt");
  assert.equal(new SecretInput().push(keys("\x04")), "eof");
  const typed = new SecretInput();
  assert.equal(typed.push(keys("a\x04b\r")), "done");
  assert.equal(typed.value, "ab");
});

Deno.test("readLines splits at any chunk boundary, inside characters and CRLF too", async () => {
  const bytes = new TextEncoder().encode("alice\r\n香港 room\n\nlast");
  for (let cut = 0; cut <= bytes.length; cut++) {
    const stream = ReadableStream.from([bytes.subarray(0, cut), bytes.subarray(cut)]);
    assert.deepEqual(await Array.fromAsync(readLines(stream)), ["alice", "香港 room", "", "last"]);
  }
});

Deno.test("displayLines splits line breaks and neutralises control characters", () => {
  assert.deepEqual(displayLines("one\r\ntwo\rthree\n\tfour\n\n"), [
    "one",
    "two",
    "three",
    "\tfour",
  ]);
  assert.deepEqual(displayLines("\x1b[2Jred\x07\x9b"), ["^[[2Jred^G\uFFFD"]);
  assert.equal(formatClock("not a time"), "--:--:--");
  assert.match(formatClock("2026-11-23T09:10:32.123Z"), /^\d\d:\d\d:\d\d$/);
});

Deno.test("sanitize shows bidirectional controls and invisible characters; message text keeps emoji joiners", () => {
  assert.equal(sanitize("\u202eexe.txt"), "<U+202E>exe.txt");
  assert.equal(sanitize("bob\u200b\u2066\u{E0041}\u3164"), "bob<U+200B><U+2066><U+E0041><U+3164>");
  assert.equal(sanitize("a\u200db"), "a<U+200D>b", "a name shows even a joiner");
  assert.equal(sanitize("\x1b]0;title\x07\x85"), "^[]0;title^G\uFFFD");
  assert.deepEqual(displayLines("family 👨\u200d👩\u200d👧 ❤\ufe0f \u202eevil\u2028x"), [
    "family 👨\u200d👩\u200d👧 ❤\ufe0f <U+202E>evil<U+2028>x",
  ]);
});

// ------------------------------------------------- ChatTerminal in-process

Deno.test("ChatTerminal shows others' multi-line messages with indented continuation lines", async () => {
  await withServer(async (server) => {
    const port = server.addr.port;
    await using bob = await Participant.login(port, "bob", "bob123");
    const client = await ChatClient.connect(tcp({ port }));
    await client.login("alice", "alice123");
    const transcript = new Transcript();
    const terminal = new ChatTerminal(client, transcript.write, { user: "alice" });
    try {
      assert.equal(await terminal.handleLine("/join lobby"), true);
      assert.equal(terminal.room, "lobby");
      await bob.client.join("lobby");
      await bob.client.send("first\nsecond\n");
      await transcript.waitFor(/second/);
      assert.deepEqual(transcript.lines.map((line) => line.replace(/^\[[\d:]+\]/, "[T]")), [
        "* you joined lobby",
        "[T] * bob joined lobby",
        "[T] bob: first",
        "           second",
      ]);
      assert.equal(await terminal.handleLine("/quit"), false);
      assert.equal(await terminal.ended, null);
      assert.equal(transcript.lines.at(-1), "* logged out");
    } finally {
      await client.close();
    }
  });
});

Deno.test("ChatTerminal reports a lost connection once and resolves ended with the reason", async () => {
  await withServer(async (server) => {
    const client = await ChatClient.connect(tcp({ port: server.addr.port }));
    await client.login("alice", "alice123");
    const lines: string[] = [];
    const terminal = new ChatTerminal(client, (line) => lines.push(line), { user: "alice" });
    await server.close();
    assert.equal(await terminal.ended, "server shutting down");
    assert.equal(await terminal.handleLine("/rooms"), false);
    assert.deepEqual(lines, ["! connection closed: server shutting down"]);
  });
});

Deno.test("ChatTerminal connects again, rejoins its room, shows what was said meanwhile and sends what waited", async () => {
  const dir = await Deno.makeTempDir();
  const db = `${dir}/claptrap.db`;
  let server = await startServer({ ...SERVER, db });
  const port = server.addr.port;
  let letIn!: () => void;
  const serverBack = new Promise<void>((resolve) => letIn = resolve);
  let attempts = 0;
  const open = async () => {
    attempts++;
    await serverBack;
    const client = await ChatClient.connect(tcp({ port }));
    await client.login("alice", "alice123");
    return client;
  };
  const client = await ChatClient.connect(tcp({ port }));
  await client.login("alice", "alice123");
  const transcript = new Transcript();
  const terminal = new ChatTerminal(client, transcript.write, {
    user: "alice",
    reconnect: { open, delayMs: () => 1 },
  });
  try {
    await terminal.handleLine("/join lobby");
    await terminal.handleLine("first");
    await server.close();
    await transcript.waitFor(/connecting again/);
    assert.equal(terminal.reconnecting, true);
    const waiting = terminal.handleLine("typed while away");
    server = await startServer({ ...SERVER, db, port });
    {
      await using bob = await Participant.login(port, "bob", "bob123");
      await bob.client.join("lobby");
      await bob.client.send("said while alice was away");
      letIn();
      assert.equal(await waiting, true);
      const sent = await bob.expect("alice's waiting line", (e) => e.type === "message");
      assert.equal(sent.type === "message" && sent.content, "typed while away");
      await bob.client.send("and after");
      await transcript.waitFor(/bob: and after$/);
    }
    assert.equal(terminal.room, "lobby");
    assert.equal(attempts, 1);
    // (bob's leaving, when he is gone, may come in any time)
    assert.deepEqual(untimed(transcript.lines).filter((line) => !line.includes("bob left")), [
      "* you joined lobby",
      "[T] alice: first",
      "! connection closed: server shutting down; connecting again…",
      "* connected again; back in lobby",
      "— 1 message in lobby while you were away —",
      "[T] bob: said while alice was away",
      "[T] alice: typed while away",
      "[T] bob: and after",
    ]);
  } finally {
    await terminal.quit();
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ChatTerminal does not come back after an operator's kick, and stops when the password is refused or after its attempts", async () => {
  const other = await startServer(SERVER);
  const wrongPassword = async () => {
    const client = await ChatClient.connect(tcp({ port: other.addr.port }));
    try {
      await client.login("alice", "changed!");
      return client;
    } catch (error) {
      await client.close();
      throw error;
    }
  };
  const shutDown = "! connection closed: server shutting down; connecting again…";
  const cases = [
    {
      end: (server: ServerHandle) => server.console("KICK alice"),
      open: wrongPassword,
      reason: "kicked by the operator",
      lines: ["! connection closed: kicked by the operator"],
    },
    {
      end: (server: ServerHandle) => server.close(),
      open: wrongPassword,
      reason: "server shutting down",
      lines: [shutDown, "! cannot log in again: AUTH_FAILED"],
    },
    {
      end: (server: ServerHandle) => server.close(),
      open: () => Promise.reject(new Deno.errors.ConnectionRefused("refused")),
      reason: "server shutting down",
      lines: [shutDown, "! gave up connecting again after 3 attempts"],
    },
  ];
  try {
    for (const { end, open, reason, lines } of cases) {
      const server = await startServer(SERVER);
      const client = await ChatClient.connect(tcp({ port: server.addr.port }));
      await client.login("alice", "alice123");
      const transcript = new Transcript();
      const terminal = new ChatTerminal(client, transcript.write, {
        user: "alice",
        reconnect: { open, delayMs: () => 1, attempts: 3 },
      });
      await end(server);
      assert.equal(await terminal.ended, reason);
      assert.deepEqual(transcript.lines, lines);
      assert.equal(await terminal.handleLine("/rooms"), false);
      await server.close();
    }
  } finally {
    await other.close();
  }
});

Deno.test("ChatTerminal shows the room's last messages on joining and pages back with /history", async () => {
  await withServer(async (server) => {
    const port = server.addr.port;
    await using bob = await Participant.login(port, "bob", "bob123");
    await bob.client.join("lobby");
    for (let i = 1; i <= 12; i++) await bob.client.send(`m${i}`);
    const client = await ChatClient.connect(tcp({ port }));
    await client.login("alice", "alice123");
    const transcript = new Transcript();
    const terminal = new ChatTerminal(client, transcript.write, { user: "alice" });
    try {
      await terminal.handleLine("/join lobby");
      await bob.client.send("live\ntwo lines");
      await transcript.waitFor(/bob: live/);
      await terminal.handleLine("/history 1");
      await terminal.handleLine("/history");
      await terminal.handleLine("/history");
      await terminal.handleLine("/history 501");
      assert.deepEqual(untimed(transcript.lines), [
        "* you joined lobby",
        "— last 10 messages in lobby —",
        ...[3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((i) => `[T] bob: m${i}`),
        "[T] bob: live",
        "           two lines",
        "— 1 earlier message in lobby —",
        "[T] bob: m2",
        "— start of lobby —",
        "— 1 earlier message in lobby —",
        "[T] bob: m1",
        "— start of lobby —",
        "! usage: /history [N] (N must be a whole number from 1 to 500)",
      ]);
    } finally {
      await terminal.quit();
    }
  });
});

for (const push of [true, false]) {
  Deno.test(
    `ChatTerminal shows each message once and in order when they arrive while joining (push ${
      push ? "on" : "off"
    })`,
    async () => {
      await withServer(async (server) => {
        const port = server.addr.port;
        await using bob = await Participant.login(port, "bob", "bob123");
        await bob.client.join("lobby");
        const client = await ChatClient.connect(tcp({ port }));
        await client.login("alice", "alice123", { push });
        const transcript = new Transcript();
        const terminal = new ChatTerminal(client, transcript.write, {
          user: "alice",
          pollMs: push ? 0 : 20,
        });
        try {
          // whether each lands in the history, is pushed, or both, depends on timing
          const sending = Array.from({ length: 30 }, (_, i) => bob.client.send(`m${i + 1}`));
          await terminal.handleLine("/join lobby");
          await Promise.all(sending);
          await transcript.waitFor(/bob: m30$/);
          const shown = untimed(transcript.lines).filter((line) => line.startsWith("[T] "));
          const first = Number(shown[0]?.slice("[T] bob: m".length));
          assert.deepEqual(
            shown,
            Array.from({ length: 31 - first }, (_, i) => `[T] bob: m${first + i}`),
            JSON.stringify(transcript.lines),
          );
        } finally {
          await terminal.quit();
        }
      });
    },
  );
}

Deno.test("ChatTerminal polling shows the messages before the join, then new ones once", async () => {
  await withServer(async (server) => {
    const port = server.addr.port;
    await using bob = await Participant.login(port, "bob", "bob123");
    await bob.client.join("random");
    await bob.client.send("before");
    const client = await ChatClient.connect(tcp({ port }));
    await client.login("alice", "alice123", { push: false });
    const transcript = new Transcript();
    const terminal = new ChatTerminal(client, transcript.write, { user: "alice", pollMs: 20 });
    try {
      await terminal.handleLine("/join random");
      await bob.client.send("after");
      await transcript.waitFor(/bob: after/);
      await terminal.handleLine("/history");
      assert.deepEqual(untimed(transcript.lines), [
        "* you joined random",
        "— start of random —",
        "— last 1 message in random —",
        "[T] bob: before",
        "[T] bob: after",
        "— start of random —",
      ]);
    } finally {
      await terminal.quit();
    }
  });
});

Deno.test("ChatTerminal shows search results with the room and the matches in colour", async () => {
  await withServer(async (server) => {
    const port = server.addr.port;
    await using bob = await Participant.login(port, "bob", "bob123");
    await bob.client.join("random");
    await bob.client.send("the quick [brown] fox\njumps");
    const client = await ChatClient.connect(tcp({ port }));
    await client.login("alice", "alice123");
    const transcript = new Transcript();
    const terminal = new ChatTerminal(client, transcript.write, { user: "alice", color: true });
    try {
      await terminal.handleLine("/join random");
      transcript.lines.length = 0;
      await terminal.handleLine("/search FOX quick");
      const paint = (sgr: string, text: string) => `\x1b[${sgr}m${text}\x1b[0m`;
      assert.equal(transcript.lines[0], paint("2", '— 1 message matches "FOX quick" —'));
      assert.equal(
        transcript.lines[1].replace(/\[\d\d:\d\d:\d\d\]/, "[T]"),
        `${paint("2", "[T]")} random · ${paint("36", "bob")}: ` +
          `the ${paint("1;33", "quick")} [brown] ${paint("1;33", "fox")} ↵ jumps`,
      );
      await terminal.handleLine("/search");
      assert.equal(
        transcript.lines.at(-1),
        paint("31", "! /search requires words to search for: /search WORDS"),
      );
    } finally {
      await terminal.quit();
    }
  });
});

/**
 * Alice's terminal, once bob has posted `texts` in random; `shown` runs a
 * line and returns what it printed, results without their time, room and sender.
 */
async function searchingAlice(port: number, texts: string[]) {
  const bob = await Participant.login(port, "bob", "bob123");
  await bob.client.join("random");
  for (const text of texts) await bob.client.send(text);
  const client = await ChatClient.connect(tcp({ port }));
  await client.login("alice", "alice123");
  const transcript = new Transcript();
  const terminal = new ChatTerminal(client, transcript.write, { user: "alice" });
  const shown = async (line: string) => {
    transcript.lines.length = 0;
    await terminal.handleLine(line);
    return transcript.lines.map((text) => text.replace(/^\[[\d: -]+\] random · bob: /, ""));
  };
  return { bob, terminal, shown };
}

Deno.test("ChatTerminal says how many messages match, shows the newest first, and /more the older", async () => {
  await withServer(async (server) => {
    const texts = Array.from({ length: 25 }, (_, i) => `kettle ${i + 1}`);
    const { bob, terminal, shown } = await searchingAlice(server.addr.port, texts);
    try {
      assert.deepEqual(await shown("/more"), ["! no search to go on with; /search WORDS first"]);
      await terminal.handleLine("/join random");
      const newest = Array.from({ length: 20 }, (_, i) => `[kettle] ${25 - i}`);
      assert.deepEqual(await shown("/search kettle"), [
        '— 25 messages match "kettle"; the newest 20 —',
        ...newest,
        "— /more for older matches —",
      ]);
      assert.deepEqual(await shown("/more"), [
        '— 5 older messages match "kettle" —',
        ...["5", "4", "3", "2", "1"].map((n) => `[kettle] ${n}`),
      ]);
      assert.deepEqual(await shown("/more"), ['— no older messages match "kettle" —']);
    } finally {
      await terminal.quit();
      await bob.client.close();
    }
  });
});

Deno.test("ChatTerminal says when a search has not looked through older messages yet", async () => {
  await withServer(async (server) => {
    const texts = ["ab 1", "ab 2", "nothing", "more nothing", "ab 3", "still nothing"];
    const { bob, terminal, shown } = await searchingAlice(server.addr.port, texts);
    try {
      await terminal.handleLine("/join random");
      assert.deepEqual(await shown("/search ab"), [
        '— 1 message matches "ab" in the messages searched so far —',
        "[ab] 3",
        "— /more for older matches —",
      ]);
      assert.deepEqual(await shown("/more"), [
        '— no older messages match "ab" in the messages searched so far —',
        "— /more for older matches —",
      ]);
      assert.deepEqual(await shown("/more"), [
        '— 2 older messages match "ab" —',
        "[ab] 2",
        "[ab] 1",
      ]);
    } finally {
      await terminal.quit();
      await bob.client.close();
    }
  }, { searchLimits: { ...DEFAULT_SEARCH_LIMITS, scanLimit: 2 } });
});

// ------------------------------------------------------------ signing in

Deno.test("PASSWORD_RULES tells the server's password lengths", () => {
  assert.ok(PASSWORD_RULES.includes(`${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`));
});

Deno.test("signIn offers to register after AUTH_FAILED, tells the rules and asks for the password twice", async () => {
  await withServer(async (server) => {
    const port = server.addr.port;
    const client = await ChatClient.connect(tcp({ port }));
    try {
      const prompter = scriptedPrompter([
        true,
        "correct horse",
        "correct hose",
        "correct horse",
        "correct horse",
      ]);
      assert.deepEqual(
        await signIn(client, { user: "dave", password: "guess" }, { prompter }),
        { registered: true, password: "correct horse" },
      );
      assert.deepEqual(prompter.asked, [
        'Wrong password, or no user named "dave".',
        'Is "dave" a new user you want to register? [y/N]',
        PASSWORD_RULES,
        "New password",
        "Repeat the password",
        "The passwords do not match; try again.",
        "New password",
        "Repeat the password",
      ]);
      await client.join("lobby"); // logged in
    } finally {
      await client.close();
    }
    const again = await ChatClient.connect(tcp({ port }));
    try {
      await again.login("dave", "correct horse");
    } finally {
      await again.close();
    }
  });
});

Deno.test("signIn asks again after a wrong password, three tries in all, offering registration once", async () => {
  await withServer(async (server) => {
    const client = await ChatClient.connect(tcp({ port: server.addr.port }));
    try {
      const prompter = scriptedPrompter([false, "alice12", "alice123"]);
      assert.deepEqual(
        await signIn(client, { user: "alice", password: "alice132" }, { prompter }),
        { registered: false, password: "alice123" },
      );
      assert.deepEqual(prompter.asked, [
        'Wrong password, or no user named "alice".',
        'Is "alice" a new user you want to register? [y/N]',
        "Password (try 2 of 3)",
        'Wrong password, or no user named "alice".',
        "Password (try 3 of 3)",
      ]);
      await client.join("lobby"); // logged in
    } finally {
      await client.close();
    }
  });
});

Deno.test("signIn takes NAME_TAKEN after agreeing to register as a wrong password and asks again", async () => {
  await withServer(async (server) => {
    const client = await ChatClient.connect(tcp({ port: server.addr.port }));
    try {
      // a mistyped password, and a yes to the offer: the name turns out to be taken
      const prompter = scriptedPrompter([true, "correct horse", "correct horse", "alice123"]);
      assert.deepEqual(
        await signIn(client, { user: "alice", password: "alice12" }, { prompter }),
        { registered: false, password: "alice123" },
      );
      assert.deepEqual(prompter.asked.slice(3), [
        "New password",
        "Repeat the password",
        `"alice" is an existing user's name, so the password was wrong.`,
        "Password (try 2 of 3)",
      ]);
      await client.join("lobby"); // logged in
    } finally {
      await client.close();
    }
  });
});

Deno.test("signIn with register tells the rules before asking and asks again for a refused password", async () => {
  await withServer(async (server) => {
    const client = await ChatClient.connect(tcp({ port: server.addr.port }));
    try {
      const prompter = scriptedPrompter(["short", "short", "correct horse", "correct horse"]);
      assert.deepEqual(
        await signIn(client, { user: "erin" }, { register: true, prompter }),
        { registered: true, password: "correct horse" },
      );
      assert.deepEqual(prompter.asked, [
        PASSWORD_RULES,
        "New password",
        "Repeat the password",
        `That password is refused: password is shorter than 8 characters. ${PASSWORD_RULES}`,
        "New password",
        "Repeat the password",
      ]);
      await client.join("lobby"); // logged in
    } finally {
      await client.close();
    }
  });
});

Deno.test("signIn never asks without a prompter and fails clearly after three tries or a refusal", async () => {
  await withServer(async (server) => {
    const client = await ChatClient.connect(tcp({ port: server.addr.port }));
    try {
      const dave = { user: "dave", password: "guess" };
      await assert.rejects(signIn(client, dave), {
        name: "SignInError",
        message: 'login as "dave" failed: AUTH_FAILED',
      });
      const declining = scriptedPrompter([false, "guess 2", "guess 3"]);
      await assert.rejects(signIn(client, dave, { prompter: declining }), {
        name: "SignInError",
        message: 'login as "dave" failed 3 times: AUTH_FAILED',
      });
      await assert.rejects(
        signIn(client, dave, {
          prompter: scriptedPrompter([true, ...Array(6).fill("short")]),
        }),
        {
          name: "SignInError",
          message: 'cannot register "dave": WEAK_PASSWORD (password is shorter than 8 characters)',
        },
      );
      await assert.rejects(
        signIn(client, { user: "alice", password: "correct horse" }, { register: true }),
        {
          name: "SignInError",
          message: 'cannot register "alice": NAME_TAKEN (the name, or one too like it, is in use)',
        },
      );
      await assert.rejects(signIn(client, { user: "dave" }), {
        name: "SignInError",
        message: "no password given",
      });
      // the connection is still usable: the right password logs in
      assert.deepEqual(
        await signIn(client, { user: "alice", password: "alice123" }, {
          prompter: scriptedPrompter([]),
        }),
        { registered: false, password: "alice123" },
      );
    } finally {
      await client.close();
    }
  });
});

// ------------------------------------------------------- client.ts process

Deno.test("terminal client sends piped lines to the room and shows what others say", async () => {
  await withServer(async (server) => {
    const port = server.addr.port;
    await using bob = await Participant.login(port, "bob", "bob123");
    await bob.client.join("lobby");
    await using alice = new ClientProcess(port, ["--user", "alice", "--password", "alice123"]);

    await alice.waitFor("lobby (1 member)");
    await alice.write("/join lobby\n");
    await alice.waitFor("* you joined lobby\n");
    await bob.expect("alice joining", (e) => e.type === "join" && e.user === "alice");

    await alice.write("hello there\n");
    const message = await bob.expect("alice's message", (e) => e.type === "message");
    assert.deepEqual(
      message.type === "message" && [message.room, message.from, message.content],
      ["lobby", "alice", "hello there"],
    );
    await alice.waitFor(new RegExp(`${CLOCK} alice: hello there\n`));

    await bob.client.send("hi alice\nhow are you?");
    await alice.waitFor(new RegExp(`${CLOCK} bob: hi alice\n {11}how are you\\?\n`));

    await alice.write("/members\n");
    await alice.waitFor(/members of lobby \(2\): (bob, alice|alice, bob)\n/);
    await alice.write("/quit\n");
    const { code, stdout, stderr } = await alice.finish({ keepStdin: true });
    assert.equal(code, 0, stdout + stderr);
    assert.match(stdout, /\* logged out\n$/);
    // a 2.1 session going away tells nobody: alice belongs to lobby still, but is not in it now
    assert.deepEqual(await bob.client.members(), ["bob"]);
  });
});

Deno.test("terminal client reads the user name and password from piped stdin", async () => {
  await withServer(async (server) => {
    const port = server.addr.port;
    await using bob = await Participant.login(port, "bob", "bob123");
    await bob.client.join("lobby");
    await using alice = new ClientProcess(port, []);
    await alice.write("alice\nalice123\n/join lobby\n");
    await bob.expect("alice joining", (e) => e.type === "join" && e.user === "alice");
    // end of input: the client logs out and exits 0
    const { code, stdout, stderr } = await alice.finish();
    assert.equal(code, 0, stdout + stderr);
    assert.match(stdout, /^logged in as alice;/);
    assert.match(stdout, /rooms \(3\):\n {2}lobby \(1 member\)\n {2}random \(empty\)\n/);
    assert.ok(!stdout.includes("alice123"), "the password is not printed");
    // a 2.1 session going away tells nobody: alice belongs to lobby still, but is not in it now
    assert.deepEqual(await bob.client.members(), ["bob"]);
  });
});

Deno.test("terminal client exits with status 1 and shows AUTH_FAILED on a wrong password", async () => {
  await withServer(async (server) => {
    await using alice = new ClientProcess(server.addr.port, ["--user", "alice"]);
    await alice.write("wrong\n/rooms\n");
    const { code, stdout, stderr } = await alice.finish();
    assert.equal(code, 1);
    assert.equal(stdout, "");
    assert.match(stderr, /login as "alice" failed: AUTH_FAILED\n/);
    assertNoStackTrace(stderr);
  });
});

Deno.test("terminal client lists the valid commands after an unknown one and sends nothing", async () => {
  await withServer(async (server) => {
    const port = server.addr.port;
    await using bob = await Participant.login(port, "bob", "bob123");
    await bob.client.join("lobby");
    await using alice = new ClientProcess(port, ["--user", "alice", "--password", "alice123"]);
    await alice.write("/join lobby\n/dance now\n/join\nafter\n/quit\n");
    const message = await bob.expect("a message", (e) => e.type === "message");
    assert.equal(message.type === "message" && message.content, "after");
    const { code, stdout } = await alice.finish();
    assert.equal(code, 0);
    assert.match(stdout, /! unknown command \/dance\ncommands:\n/);
    for (const command of COMMANDS) assert.ok(stdout.includes(commandUsage(command)), command.name);
    assert.match(stdout, /! \/join requires a room name: \/join ROOM\n/);
  });
});

Deno.test("terminal client shows failed requests as one line and hints when not in a room", async () => {
  await withServer(async (server) => {
    await using alice = new ClientProcess(server.addr.port, ["--user", "alice"]);
    await alice.write("alice123\nhello?\n/join nowhere\n/leave\n/create lobby\n/quit\n");
    const { code, stdout, stderr } = await alice.finish();
    assert.equal(code, 1, "hello? was not delivered");
    assert.equal(stderr, "claptrap: 1 line was not delivered\n");
    assert.match(stdout, /! you are not in a room: \/join ROOM first/);
    assert.match(stdout, /! cannot join "nowhere": NO_SUCH_ROOM/);
    assert.match(stdout, /! cannot leave: NOT_IN_ROOM\n/);
    assert.match(stdout, /! cannot create "lobby": ROOM_EXISTS\n/);
    assertNoStackTrace(stdout + stderr);
  });
});

Deno.test("terminal client joins, creates and talks in rooms with Unicode names", async () => {
  await withServer(async (server) => {
    const port = server.addr.port;
    await using bob = await Participant.login(port, "bob", "bob123");
    await bob.client.join("香港记者招待会");
    await using reporter = new ClientProcess(port, ["--user", "记者", "--password", "hongkong"]);
    await reporter.write("/join 香港记者招待会\n你好，世界 👋\n");
    const message = await bob.expect("the reporter's message", (e) => e.type === "message");
    assert.deepEqual(
      message.type === "message" && [message.room, message.from, message.content],
      ["香港记者招待会", "记者", "你好，世界 👋"],
    );
    await reporter.write("/create  会议室 2 ✨ \n/join 会议室 2 ✨\n/members\n/quit\n");
    const { code, stdout } = await reporter.finish();
    assert.equal(code, 0);
    assert.match(stdout, /\* you joined 香港记者招待会\n/);
    assert.match(stdout, new RegExp(`${CLOCK} 记者: 你好，世界 👋\n`));
    assert.match(stdout, /\* created 会议室 2 ✨;/);
    assert.match(stdout, /members of 会议室 2 ✨ \(1\): 记者\n/);
    const rooms = await bob.client.rooms();
    assert.ok(rooms.some((room) => room.name === "会议室 2 ✨"));
  });
});

Deno.test("terminal client with --no-push polls for the room's messages", async () => {
  await withServer(async (server) => {
    const port = server.addr.port;
    await using bob = await Participant.login(port, "bob", "bob123");
    await bob.client.join("lobby");
    await using alice = new ClientProcess(port, [
      "--user",
      "alice",
      "--password",
      "alice123",
      "--no-push",
    ]);
    await alice.write("/join lobby\n");
    await alice.waitFor("* you joined lobby\n");
    await bob.client.send("are you polling?");
    await alice.waitFor(new RegExp(`${CLOCK} bob: are you polling\\?\n`));
    await alice.write("yes\n");
    await alice.waitFor(new RegExp(`${CLOCK} alice: yes\n`));
    const { code, stdout } = await alice.finish();
    assert.equal(code, 0);
    assert.equal(stdout.match(/alice: yes/g)?.length, 1, "own messages are shown once");
  });
});

Deno.test("terminal client with --no-reconnect exits with status 1 and a clear message when the server shuts down", async () => {
  await withServer(async (server) => {
    await using alice = new ClientProcess(server.addr.port, [
      "--user",
      "alice",
      "--password",
      "alice123",
      "--no-reconnect",
    ]);
    await alice.write("/join lobby\n");
    await alice.waitFor("* you joined lobby\n");
    await server.close();
    // stdin stays open: the client must notice on its own
    const { code, stdout, stderr } = await alice.finish({ keepStdin: true });
    assert.equal(code, 1);
    assert.match(stdout, /! connection closed: server shutting down\n$/);
    assertNoStackTrace(stdout + stderr);
  });
});

Deno.test("terminal client connects again after the server restarts, back in its room, and sends what was typed meanwhile", async () => {
  const dir = await Deno.makeTempDir();
  const options: ServerOptions = { db: `${dir}/claptrap.db` };
  try {
    let port = 0;
    await withServer(async (server) => {
      port = server.addr.port;
      await using alice = new ClientProcess(port, ["--user", "alice", "--password", "alice123"]);
      await alice.write("/join lobby\nbefore the restart\n");
      await alice.waitFor(/alice: before the restart\n/);
      await server.close();
      await alice.waitFor("! connection closed: server shutting down; connecting again…\n");
      await alice.write("typed while the server was away\n");
      await withServer(async () => {
        await alice.waitFor("* connected again; back in lobby\n");
        await alice.waitFor(/alice: typed while the server was away\n/);
        await using bob = await Participant.login(port, "bob", "bob123");
        await bob.client.join("lobby");
        const { messages } = await bob.client.history();
        assert.deepEqual(messages.map((m) => m.content), [
          "before the restart",
          "typed while the server was away",
        ]);
        await bob.client.send("welcome back");
        await alice.waitFor(/bob: welcome back\n/);
        await alice.write("/quit\n");
        const { code, stdout, stderr } = await alice.finish({ keepStdin: true });
        assert.equal(code, 0, stdout + stderr);
      }, { ...options, port });
    }, options);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("terminal client exits with status 1 when the connection is refused", async () => {
  const server = await startServer({ host: "127.0.0.1", port: 0, log: () => {} });
  const port = server.addr.port;
  await server.close();
  await using alice = new ClientProcess(port, ["--user", "alice", "--password", "alice123"]);
  const { code, stderr } = await alice.finish();
  assert.equal(code, 1);
  assert.equal(stderr, `claptrap: cannot connect to 127.0.0.1:${port}: connection refused\n`);
});

Deno.test("terminal client waits out RATE_LIMITED and delivers every piped line, in order", async () => {
  await withServer(async (server) => {
    const port = server.addr.port;
    await using bob = await Participant.login(port, "bob", "bob123");
    await bob.client.join("lobby");
    await using alice = new ClientProcess(port, ["--user", "alice", "--password", "alice123"]);
    const lines = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`);
    await alice.write(`/join lobby\n${lines.join("\n")}\n/quit\n`);
    const { code, stdout, stderr } = await alice.finish();
    assert.equal(code, 0, stdout + stderr);
    assert.doesNotMatch(stdout, /RATE_LIMITED/);
    const received: string[] = [];
    while (received.length < lines.length) {
      const event = await bob.expect("alice's messages", (e) => e.type === "message");
      if (event.type === "message") received.push(event.content);
    }
    assert.deepEqual(received, lines);
  }, { floodLimits: { ...DEFAULT_FLOOD_LIMITS, messages: { perSecond: 40, burst: 5 } } });
});

Deno.test("terminal client exits with status 1 when a piped line is finally not delivered", async () => {
  await withServer(async (server) => {
    const port = server.addr.port;
    await using alice = new ClientProcess(port, ["--user", "alice", "--password", "alice123"]);
    // the second message would have to wait 100 s: too long, the client gives up on it
    await alice.write("/join lobby\nfirst\nsecond\n/quit\n");
    const { code, stdout, stderr } = await alice.finish();
    assert.equal(code, 1, stdout + stderr);
    assert.match(stdout, new RegExp(`${CLOCK} alice: first\n! cannot send: RATE_LIMITED \\(`));
    assert.match(stdout, /\* logged out\n$/);
    assert.equal(stderr, "claptrap: 1 line was not delivered\n");
  }, { floodLimits: { ...DEFAULT_FLOOD_LIMITS, messages: { perSecond: 0.01, burst: 1 } } });
});

Deno.test("terminal client with --register creates the account and logs in with it", async () => {
  await withServer(async (server) => {
    const port = server.addr.port;
    await using dave = new ClientProcess(port, [
      "--register",
      "--user",
      "dave",
      "--password",
      "correct horse",
    ]);
    await dave.write("/join lobby\n/quit\n");
    const flags = await dave.finish();
    assert.equal(flags.code, 0, flags.stdout + flags.stderr);
    assert.match(flags.stdout, /^registered dave as a new user\nlogged in as dave;/);
    assert.match(flags.stdout, /\* you joined lobby\n/);

    // piped: the user name and password are the first two lines
    await using erin = new ClientProcess(port, ["--register"]);
    await erin.write("erin\nbattery staple\n");
    const piped = await erin.finish();
    assert.equal(piped.code, 0, piped.stdout + piped.stderr);
    assert.match(piped.stdout, /^registered erin as a new user\nlogged in as erin;/);
    assert.ok(!piped.stdout.includes("battery staple"), "the password is not printed");

    for (const [user, password] of [["dave", "correct horse"], ["erin", "battery staple"]]) {
      const client = await ChatClient.connect(tcp({ port }));
      try {
        await client.login(user, password);
      } finally {
        await client.close();
      }
    }
  });
});

Deno.test("terminal client with --register exits with status 1 when the name is taken or the password weak", async () => {
  await withServer(async (server) => {
    const port = server.addr.port;
    await using taken = new ClientProcess(port, ["--register", "--user", "alice"]);
    await taken.write("correct horse\n/rooms\n");
    const first = await taken.finish();
    assert.equal(first.code, 1);
    assert.equal(first.stdout, "");
    assert.equal(
      first.stderr,
      'claptrap: cannot register "alice": NAME_TAKEN (the name, or one too like it, is in use)\n',
    );
    await using weak = new ClientProcess(port, [
      "--register",
      "--user",
      "bob2",
      "--password",
      "bob",
    ]);
    const second = await weak.finish();
    assert.equal(second.code, 1);
    assert.equal(
      second.stderr,
      'claptrap: cannot register "bob2": WEAK_PASSWORD (password is shorter than 8 characters)\n',
    );
    assertNoStackTrace(first.stderr + second.stderr);
  });
});

Deno.test("terminal client shows the last messages on /join and pages back with /history", async () => {
  await withServer(async (server) => {
    const port = server.addr.port;
    await using bob = await Participant.login(port, "bob", "bob123");
    await bob.client.join("lobby");
    for (let i = 1; i <= 30; i++) await bob.client.send(`m${i}`);
    await using alice = new ClientProcess(port, ["--user", "alice", "--password", "alice123"]);
    await alice.write("/join lobby\n");
    await alice.waitFor(/bob: m30\n/);
    await bob.client.send("live");
    await alice.waitFor(/bob: live\n/);
    await alice.write("/history 15\n/history\n/history\n/quit\n");
    const { code, stdout, stderr } = await alice.finish({ keepStdin: true });
    assert.equal(code, 0, stdout + stderr);
    const lines = untimed(stdout.slice(stdout.indexOf("* you joined lobby")).split("\n"));
    const messages = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => `[T] bob: m${from + i}`);
    assert.deepEqual(lines, [
      "* you joined lobby",
      "— last 10 messages in lobby —",
      ...messages(21, 30),
      "[T] bob: live",
      "— 15 earlier messages in lobby —",
      ...messages(6, 20),
      "— start of lobby —",
      "— 5 earlier messages in lobby —",
      ...messages(1, 5),
      "— start of lobby —",
      "* logged out",
      "",
    ]);
  });
});

Deno.test("terminal client shows a room's whole short history on /join, marked as its start", async () => {
  await withServer(async (server) => {
    const port = server.addr.port;
    await using bob = await Participant.login(port, "bob", "bob123");
    await bob.client.join("random");
    await bob.client.send("first");
    await bob.client.send("second\nline");
    await using alice = new ClientProcess(port, ["--user", "alice", "--password", "alice123"]);
    await alice.write("/join random\n/join lobby\n/history\n/quit\n");
    const { code, stdout } = await alice.finish();
    assert.equal(code, 0);
    assert.match(
      stdout,
      new RegExp(
        `\\* you joined random\n— start of random —\n— last 2 messages in random —\n` +
          `${CLOCK} bob: first\n${CLOCK} bob: second\n {11}line\n` +
          `\\* you joined lobby\n` +
          `\\* the lines you type go to lobby \\(you are in random too; /switch ROOM changes\\)\n` +
          `— start of lobby —\n\\* logged out\n$`,
      ),
    );
  });
});

Deno.test("terminal client /search shows the room, the sender and the matches in brackets", async () => {
  await withServer(async (server) => {
    const port = server.addr.port;
    await using bob = await Participant.login(port, "bob", "bob123");
    await bob.client.join("香港记者招待会");
    await bob.client.send("the quick brown fox jumps");
    await bob.client.join("lobby");
    await bob.client.send("a quick word in the lobby");
    await using alice = new ClientProcess(port, ["--user", "alice", "--password", "alice123"]);
    await alice.write(
      "/search quick\n/join 香港记者招待会\n/search FOX quick\n/search giraffe\n/quit\n",
    );
    const { code, stdout, stderr } = await alice.finish();
    assert.equal(code, 0, stdout + stderr);
    assert.match(
      stdout,
      /\n— no messages match "quick" in the rooms you have been in —\n\* you joined 香港记者招待会\n/,
    );
    assert.match(
      stdout,
      new RegExp(
        `\n— 1 message matches "FOX quick" —\n${CLOCK} 香港记者招待会 · bob: the \\[quick\\] brown \\[fox\\] jumps\n`,
      ),
    );
    assert.ok(!stdout.includes("lobby ·"), "the lobby, where alice has not been, is not searched");
    assert.match(stdout, /— no messages match "giraffe" in the rooms you have been in —\n/);
  });
});

// ------------------------------------------ the other seeds: ICS menu, CS168, peer chats, DMs

Deno.test("parseInput takes the ICS menu's words as commands only outside public rooms", () => {
  const command = (name: string, arg = "") => ({ type: "command", name, arg });
  const message = (text: string) => ({ type: "message", text });
  for (const where of ["idle", "group"] as const) {
    assert.deepEqual(parseInput("time", where), command("time"));
    assert.deepEqual(parseInput(" who ", where), command("who"));
    assert.deepEqual(parseInput("c bob", where), command("connect", "bob"));
    assert.deepEqual(parseInput("c  记者", where), command("connect", "记者"));
    assert.deepEqual(parseInput("? love", where), command("search", "love"));
    assert.deepEqual(parseInput("?love", where), command("search", "love"));
    assert.deepEqual(parseInput("p 2", where), command("poem", "2"));
    assert.deepEqual(parseInput("p2", where), command("poem", "2"));
    assert.deepEqual(parseInput("q", where), command("quit"));
    // anything else is a message: only the exact syntax counts
    for (const text of ["cool", "see you", "c u later", "??", "?!", "p x", "pq", "quit", "Time"]) {
      assert.deepEqual(parseInput(text, where), message(text), text);
    }
  }
  assert.deepEqual(parseInput("bye", "group"), command("bye"));
  assert.deepEqual(parseInput("bye", "idle"), message("bye"));
  // in a public room every bare word is a message
  for (const text of ["time", "who", "c bob", "? love", "?love", "p 2", "p2", "q", "bye"]) {
    assert.deepEqual(parseInput(text, "room"), message(text), text);
  }
  // slash forms work everywhere
  for (const where of ["idle", "group", "room"] as const) {
    assert.deepEqual(parseInput("/connect bob", where), command("connect", "bob"));
    assert.deepEqual(parseInput("/bye", where), command("bye"));
    assert.deepEqual(parseInput("/list", where), command("list"));
    assert.deepEqual(parseInput("/dm bob hi there", where), command("dm", "bob hi there"));
    assert.deepEqual(parseInput("/kick bob too loud", where), command("kick", "bob too loud"));
  }
});

Deno.test("parseInput answers a missing argument in the CS168 style", () => {
  const message = (line: string) => {
    const input = parseInput(line);
    return input.type === "usage" ? input.message : input.type;
  };
  assert.equal(message("/join"), "/join requires a room name: /join ROOM");
  assert.equal(message("/create "), "/create requires a room name: /create ROOM");
  assert.equal(message("/connect"), "/connect requires a user name: /connect PEER");
  assert.equal(message("/dm"), "/dm requires a user name: /dm USER [TEXT]");
  assert.equal(message("/close now"), "usage: /close (takes no argument)");
  assert.equal(message("/poem"), "/poem requires a sonnet number: /poem N");
  assert.equal(message("/kick"), "/kick requires a user name: /kick USER [REASON]");
  assert.equal(message("/who everyone"), "usage: /who (takes no argument)");
});

Deno.test("splitName takes a user name, quoted when it has spaces, and the rest", () => {
  assert.deepEqual(splitName("bob"), ["bob", ""]);
  assert.deepEqual(splitName("bob   hi  there "), ["bob", "hi  there"]);
  assert.deepEqual(splitName('"mary ann" hi'), ["mary ann", "hi"]);
  assert.deepEqual(splitName('"mary ann"'), ["mary ann", ""]);
  assert.deepEqual(splitName("记者 你好"), ["记者", "你好"]);
});

Deno.test("helpLines lists every slash command and the ICS menu, and says where the menu works", () => {
  const help = helpLines().join("\n");
  for (const command of COMMANDS) assert.ok(help.includes(commandUsage(command)), command.name);
  for (const usage of ["time", "who", "c PEER", "? TERM", "p N", "q", "bye"]) {
    assert.ok(ICS_MENU.some((entry) => entry.usage === usage), usage);
    assert.match(help, new RegExp(`\\n  ${usage.replace("?", "\\?")} +\\S`), usage);
  }
  assert.match(help, /not in a public room/);
  assert.match(help, /in a public room these words are sent as messages/);
});

Deno.test("ChatTerminal shows direct messages, operator notices, and being kicked and banned", async () => {
  await withServer(async (server) => {
    const port = server.addr.port;
    await using bob = await Participant.login(port, "bob", "bob123");
    const { terminal, transcript } = await terminalOf(port, "alice");
    try {
      await bob.client.create("bob's room");
      await bob.client.join("bob's room");
      await terminal.handleLine("/join bob's room");
      await bob.expect("alice joining", (e) => e.type === "join");

      await bob.client.dm("alice", "psst\u202e\nsecond line");
      await transcript.waitFor(/✉ bob → you: psst<U\+202E>$/);
      await terminal.handleLine("/dm bob hush");
      const dm = await bob.expect("alice's dm", (e) => e.type === "dm");
      assert.equal(dm.type === "dm" && dm.content, "hush");

      server.console("BROADCAST maintenance at noon");
      await transcript.waitFor(/! server notice: maintenance at noon$/);

      await bob.client.kick("alice", { reason: "too loud \u2066!" });
      await transcript.waitFor(/you were kicked/);
      assert.equal(terminal.room, null);
      await terminal.handleLine("still here?");
      await terminal.handleLine("/join bob's room");
      await bob.client.ban("alice");
      await transcript.waitFor(/you were banned/);
      await terminal.handleLine("/join bob's room");
      assert.deepEqual(untimed(transcript.lines), [
        "* you joined bob's room",
        "[T] ✉ bob → you: psst<U+202E>",
        "           second line",
        "* /dm bob opens your conversation with bob",
        "[T] ✉ you → bob: hush",
        "[T] ! server notice: maintenance at noon",
        "[T] * you were kicked from bob's room by bob: too loud <U+2066>!",
        "! you are not in a room: /join ROOM first (/rooms lists them), or c PEER for a peer chat",
        "* you joined bob's room",
        "[T] * you were banned from bob's room by bob",
        `! cannot join "bob's room": BANNED (banned by bob); ` +
        "the room's owner or an admin can /unban you",
      ]);
    } finally {
      await terminal.quit();
    }
  });
});

Deno.test("ChatTerminal /dm USER opens a conversation: its history, then typed lines go to USER until /close", async () => {
  await withServer(async (server) => {
    const port = server.addr.port;
    await using bob = await Participant.login(port, "bob", "bob123");
    await using reporter = await Participant.login(port, "记者", "hongkong");
    await bob.client.join("lobby");
    const { terminal, transcript } = await terminalOf(port, "alice");
    try {
      await bob.client.dm("alice", "are you there?");
      await transcript.waitFor(/✉ bob → you: are you there\?$/);
      await terminal.handleLine("/join lobby");
      await terminal.handleLine("/dm bob");
      assert.equal(terminal.conversation, "bob");
      await terminal.handleLine("yes, here");
      const answer = await bob.expect("alice's answer", (e) => e.type === "dm");
      assert.deepEqual(answer.type === "dm" && [answer.from, answer.content], [
        "alice",
        "yes, here",
      ]);
      await bob.client.dm("alice", "good");
      await transcript.waitFor(/✉ bob → you: good$/);
      await terminal.handleLine("/history");
      await reporter.client.dm("alice", "a question");
      await transcript.waitFor(/✉ 记者 → you: a question$/);
      await terminal.handleLine("/dm 记者 later, please");
      assert.equal(terminal.conversation, "bob", "/dm USER TEXT sends one message");
      await terminal.handleLine("/dm alice");
      await terminal.handleLine("/close");
      assert.equal(terminal.conversation, null);
      await terminal.handleLine("back in the room");
      const inRoom = await bob.expect("alice in lobby", (e) => e.type === "message");
      assert.equal(inRoom.type === "message" && inRoom.content, "back in the room");
      await terminal.handleLine("/close");
      await terminal.handleLine("/dm bob");
      await terminal.handleLine("/join random");
      assert.equal(terminal.conversation, null, "joining a room ends the conversation");
      assert.deepEqual(untimed(transcript.lines), [
        "[T] ✉ bob → you: are you there?",
        "* /dm bob opens your conversation with bob",
        "* you joined lobby",
        "— start of your direct messages with bob —",
        "— last 1 message in your direct messages with bob —",
        "[T] ✉ bob → you: are you there?",
        "* the lines you type now go to bob alone, /close to go back to lobby",
        "[T] ✉ you → bob: yes, here",
        "[T] ✉ bob → you: good",
        "— start of your direct messages with bob —",
        "[T] ✉ 记者 → you: a question",
        "* /dm 记者 opens your conversation with 记者",
        "[T] ✉ you → 记者: later, please",
        "! you cannot send direct messages to yourself",
        "* closed the conversation with bob; the lines you type go to lobby again",
        "[T] alice: back in the room",
        "! you are in no direct conversation (/dm USER opens one)",
        "— start of your direct messages with bob —",
        "— last 3 messages in your direct messages with bob —",
        "[T] ✉ bob → you: are you there?",
        "[T] ✉ you → bob: yes, here",
        "[T] ✉ bob → you: good",
        "* the lines you type now go to bob alone, /close to go back to lobby",
        "* you joined random",
      ]);
    } finally {
      await terminal.quit();
    }
  });
});

Deno.test("ChatTerminal /kick, /ban and /unban act on the current room and need the right", async () => {
  await withServer(async (server) => {
    const port = server.addr.port;
    await using bob = await Participant.login(port, "bob", "bob123");
    const { terminal, transcript } = await terminalOf(port, "alice");
    try {
      await terminal.handleLine("/kick bob");
      await terminal.handleLine("/create den");
      await terminal.handleLine("/join den");
      await bob.client.join("den");
      await transcript.waitFor(/bob joined den/);
      await terminal.handleLine("/kick 记者");
      await terminal.handleLine("/kick bob too loud");
      const kicked = await bob.expect("being kicked", (e) => e.type === "kicked");
      assert.deepEqual(
        kicked.type === "kicked" && [kicked.room, kicked.by, kicked.reason, kicked.banned],
        ["den", "alice", "too loud", false],
      );
      await transcript.waitFor(/bob left den \(kicked by alice: too loud\)/);
      await terminal.handleLine("/kick alice");
      await terminal.handleLine("/ban nobody");
      await terminal.handleLine("/ban bob spam");
      await terminal.handleLine("/unban bob");
      await terminal.handleLine("/unban bob");
      await bob.client.join("den");
      await transcript.waitFor(/bob joined den/);
      // bob owns nothing here
      await bob.client.join("lobby");
      await bob.client.create("bob's");
      await terminal.handleLine("/join lobby");
      await terminal.handleLine("/kick bob");
      assert.deepEqual(untimed(transcript.lines).filter((line) => !line.startsWith("[T]")), [
        "! you are not in a room: /kick works in the room you are in",
        "* created den; /join den to enter it",
        "* you joined den",
        '! cannot kick "记者": NO_SUCH_USER (记者 is not in den)',
        "* kicked bob from den",
        '! cannot kick "alice": NOT_ALLOWED (you cannot kick yourself)',
        '! cannot ban "nobody": NO_SUCH_USER (no user has that name)',
        "* banned bob from den",
        "* unbanned bob (they may join den again)",
        '! cannot unban "bob": NO_SUCH_USER (bob is not banned from den)',
        "* you joined lobby",
        '! cannot kick "bob": NOT_ALLOWED (only the room\'s owner and admins may)',
      ]);
    } finally {
      await terminal.quit();
    }
  });
});

Deno.test("ChatTerminal follows a peer chat it is pulled into, lets in who asks, and says when everyone else left", async () => {
  await withServer(async (server) => {
    const port = server.addr.port;
    await using bob = await Participant.login(port, "bob", "bob123");
    await using reporter = await Participant.login(port, "记者", "hongkong");
    const { terminal, transcript } = await terminalOf(port, "alice");
    try {
      await terminal.handleLine("/join lobby");
      const busy = await bob.client.peerConnect("alice").catch((error) => error);
      assert.equal(busy.status, "BUSY", "nobody is taken out of a public room");
      await terminal.handleLine("/leave");
      await bob.client.peerConnect("alice");
      await transcript.waitFor(/bob connected with you/);
      assert.equal(terminal.inPeerChat, true);
      assert.notEqual(terminal.room, null);
      await bob.client.send("hi alice");
      await transcript.waitFor(/bob: hi alice$/);
      const asked = await reporter.client.peerConnect("bob");
      assert.equal(asked.invited, true);
      await transcript.waitFor(/记者 asks to join/);
      await terminal.handleLine("/accept 记者");
      await transcript.waitFor(/记者 joined the peer chat/);
      await terminal.handleLine("who");
      await terminal.handleLine("hello both");
      await reporter.expect("alice's message", (e) => e.type === "message");
      await terminal.handleLine("/members");
      await bob.client.peerBye();
      await reporter.client.peerBye();
      await transcript.waitFor(/everyone else left/);
      assert.equal(terminal.room, null);
      assert.equal(terminal.inPeerChat, false);
      const lines = untimed(transcript.lines);
      assert.deepEqual(lines.slice(0, 5), [
        "* you joined lobby",
        "* you left lobby",
        "[T] * bob connected with you in a peer chat; type to chat, bye to leave",
        "[T] bob: hi alice",
        "[T] * 记者 asks to join the peer chat: /accept 记者 or /decline 记者 (until " +
        `${formatClock(asked.invited ? asked.expires : "")})`,
      ]);
      // the response and the event that it caused, in either order
      assert.deepEqual(lines.slice(5, 7).sort(), [
        "* you let 记者 into the peer chat",
        "[T] * 记者 joined the peer chat",
      ]);
      assert.equal(lines[7], "online (3):");
      // in the server's order
      assert.deepEqual(lines.slice(8, 11).sort(), [
        "  alice  in a peer chat with bob, 记者",
        "  bob    in a peer chat with 记者, alice",
        "  记者     in a peer chat with bob, alice",
      ]);
      assert.equal(lines[11], "[T] alice: hello both");
      assert.match(lines[12], /^members of the peer chat \(3\): /);
      assert.deepEqual(lines.slice(13), [
        "[T] * bob left the peer chat",
        "[T] * 记者 left the peer chat",
        "[T] * everyone else left the peer chat; you are on your own",
      ]);
    } finally {
      await terminal.quit();
    }
  });
});

Deno.test("ChatTerminal asks to join a peer chat, and says how the request ended", async () => {
  await withServer(async (server) => {
    const port = server.addr.port;
    await using bob = await Participant.login(port, "bob", "bob123");
    await using reporter = await Participant.login(port, "记者", "hongkong");
    const { terminal, transcript } = await terminalOf(port, "alice");
    try {
      await bob.client.peerConnect("记者");
      await terminal.handleLine("/join lobby");
      await terminal.handleLine("/connect bob");
      await transcript.waitFor(/you asked its members/);
      assert.equal(terminal.room, "lobby", "she waits where she was");
      await bob.expect("alice's request", (e) => e.type === "peerInvite");
      await bob.client.peerDecline("alice");
      await transcript.waitFor(/declined/);
      await terminal.handleLine("/connect bob");
      await reporter.expect("alice's request", (e) => e.type === "peerInvite");
      await reporter.expect("alice's second request", (e) => e.type === "peerInvite");
      await reporter.client.peerAccept("alice");
      await transcript.waitFor(/let you into/);
      assert.equal(terminal.inPeerChat, true);
      await terminal.handleLine("/accept bob");
      const lines = untimed(transcript.lines);
      assert.match(lines[1], /^\* bob is in a peer chat: you asked its members to let you in/);
      assert.deepEqual(lines.slice(2), [
        "[T] * bob declined your request to join the peer chat",
        lines[3],
        "[T] * 记者 let you into the peer chat (you left lobby); type to chat, bye to leave",
        '! cannot accept "bob": NO_INVITATION (bob is not waiting to join (answered, expired or withdrawn))',
      ]);
    } finally {
      await terminal.quit();
    }
  });
});

Deno.test("terminal client runs an ICS session from piped stdin: who, time, p 2, c bob, chat, bye, ?, q", async () => {
  const poems = testPoems();
  await withServer(async (server) => {
    const port = server.addr.port;
    await using bob = await Participant.login(port, "bob", "bob123");
    await using alice = new ClientProcess(port, ["--user", "alice", "--password", "alice123"]);
    await alice.write("who\ntime\np 2\nc bob\n");
    await alice.waitFor("in a peer chat; type to chat, bye to leave\n");
    const joined = await bob.expect("alice joining", (e) => e.type === "join");
    assert.equal(joined.type === "join" && joined.kind, "group");
    await alice.write("hello bob, what is the time?\n");
    const message = await bob.expect("alice's message", (e) => e.type === "message");
    assert.deepEqual(
      message.type === "message" && [message.kind, message.from, message.content],
      ["group", "alice", "hello bob, what is the time?"],
    );
    await bob.client.send("time to go");
    await alice.waitFor(/bob: time to go\n/);
    // in a peer chat "time" is the command, and "bye" leaves
    await alice.write("time\nbye\n");
    const end = await bob.expect("the end of the peer chat", (e) => e.type === "groupEnd");
    assert.equal(end.type, "groupEnd");
    await alice.write("?hello\nq\n");
    const { code, stdout, stderr } = await alice.finish({ keepStdin: true });
    assert.equal(code, 0, stdout + stderr);
    assertNoStackTrace(stdout + stderr);
    const DATE_TIME = String.raw`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`;
    assert.match(
      stdout,
      new RegExp(
        String.raw`\nonline \(2\):\n  (bob  +idle\n  alice  idle|alice  idle\n  bob  +idle)\n` +
          `server time: ${DATE_TIME}\n` +
          String.raw`II\.\nWhen the kettle sings before the dawn,\n And frost writes ferns`,
      ),
    );
    assert.match(
      stdout,
      new RegExp(
        String.raw`\n\* you are connected with bob in a peer chat; type to chat, bye to leave\n` +
          `${CLOCK} alice: hello bob, what is the time\\?\n` +
          `${CLOCK} bob: time to go\n` +
          `server time: ${DATE_TIME}\n` +
          String.raw`\* you left the peer chat\n` +
          `— 1 message matches "hello" —\n` +
          `${CLOCK} peer chat .* · alice: \\[hello\\] bob, what is the time\\?\n` +
          String.raw`\* logged out\n$`,
      ),
    );
  }, { poems });
});

Deno.test("terminal client sends direct messages with /dm and shows those it gets", async () => {
  await withServer(async (server) => {
    const port = server.addr.port;
    await using bob = await Participant.login(port, "bob", "bob123");
    await using alice = new ClientProcess(port, ["--user", "alice", "--password", "alice123"]);
    await alice.write("/join lobby\n/dm bob just between us\n");
    const dm = await bob.expect("alice's dm", (e) => e.type === "dm");
    assert.deepEqual(
      dm.type === "dm" && [dm.from, dm.to, dm.content],
      ["alice", "bob", "just between us"],
    );
    await bob.client.dm("alice", "agreed");
    await alice.waitFor(new RegExp(`${CLOCK} ✉ bob → you: agreed\n`));
    await alice.write("/dm 记者 hello\n/dm\n/dm bob\nwhat about q?\nq\n/close\n/quit\n");
    const typed = await bob.expect("alice's conversation", (e) => e.type === "dm");
    assert.equal(typed.type === "dm" && typed.content, "what about q?");
    const q = await bob.expect("alice's q", (e) => e.type === "dm");
    assert.equal(q.type === "dm" && q.content, "q", "in a conversation q is a message");
    const { code, stdout, stderr } = await alice.finish();
    assert.equal(code, 1, "the message to 记者 was not delivered");
    assert.equal(stderr, "claptrap: 1 line was not delivered\n");
    assert.match(stdout, new RegExp(`${CLOCK} ✉ you → bob: just between us\n`));
    assert.match(stdout, /! cannot send to "记者": PEER_OFFLINE \(记者 is not online\)/);
    assert.match(stdout, /! \/dm requires a user name: \/dm USER \[TEXT\]\n/);
    assert.match(
      stdout,
      new RegExp(
        "— last 2 messages in your direct messages with bob —\n" +
          `${CLOCK} ✉ you → bob: just between us\n` +
          `${CLOCK} ✉ bob → you: agreed\n` +
          "\\* the lines you type now go to bob alone, /close to go back to lobby\n" +
          `${CLOCK} ✉ you → bob: what about q\\?\n` +
          `${CLOCK} ✉ you → bob: q\n` +
          "\\* closed the conversation with bob; the lines you type go to lobby again\n",
      ),
    );
  });
});

Deno.test("terminal client kicked by the operator shows the reason and exits with status 1", async () => {
  await withServer(async (server) => {
    await using alice = new ClientProcess(server.addr.port, [
      "--user",
      "alice",
      "--password",
      "alice123",
    ]);
    await alice.write("/join lobby\n");
    await alice.waitFor("* you joined lobby\n");
    assert.deepEqual((await server.console("KICK alice spam")).output, ["kicked alice"]);
    const { code, stdout, stderr } = await alice.finish({ keepStdin: true });
    assert.equal(code, 1);
    assert.match(stdout, /! connection closed: kicked by the operator: spam\n$/);
    assertNoStackTrace(stdout + stderr);
  });
});

Deno.test("terminal client answers the CS168 error cases with the way out", async () => {
  await withServer(async (server) => {
    await using alice = new ClientProcess(server.addr.port, [
      "--user",
      "alice",
      "--password",
      "alice123",
    ]);
    await alice.write("/join\n/join nowhere\nhello?\n/create lobby\n/list\n/quit\n");
    const { code, stdout, stderr } = await alice.finish();
    // "hello?" went nowhere: a script learns it from the exit status
    assert.equal(code, 1, stdout + stderr);
    assert.equal(stderr, "claptrap: 1 line was not delivered\n");
    assert.match(
      stdout,
      new RegExp(
        "\n! /join requires a room name: /join ROOM\n" +
          '! cannot join "nowhere": NO_SUCH_ROOM \\(no room has that name; ' +
          "/create nowhere makes it, /rooms lists the rooms\\)\n" +
          "! you are not in a room: /join ROOM first \\(/rooms lists them\\), or c PEER for a peer chat\n" +
          '! cannot create "lobby": ROOM_EXISTS\n' +
          "rooms \\(3\\):\n  lobby \\(empty\\)\n",
      ),
    );
  });
});

Deno.test("terminal client says HELLO first and exits with status 1 on VERSION_MISMATCH", async () => {
  // a stand-in for a server of a later major version
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const seen: string[] = [];
  const serving = (async () => {
    const conn = await listener.accept();
    try {
      const decoder = new FrameDecoder({ maxFrameSize: 1 << 20 });
      const buffer = new Uint8Array(4096);
      while (true) {
        const n = await conn.read(buffer).catch(() => null);
        if (n === null) break;
        for (const payload of decoder.push(buffer.subarray(0, n))) {
          const request = parseMessage(payload);
          seen.push(`${request.method} ${request.params.Version ?? ""}`.trim());
          await conn.write(encodeMessage({
            method: "RESP_HELLO",
            params: {
              Status: "VERSION_MISMATCH",
              Version: "3.0",
              Reason: "this server speaks Claptrap 3.0 only",
            },
          }));
        }
      }
    } finally {
      conn.close();
    }
  })();
  try {
    const port = (listener.addr as Deno.NetAddr).port;
    await using alice = new ClientProcess(port, ["--user", "alice", "--password", "alice123"]);
    const { code, stdout, stderr } = await alice.finish();
    assert.equal(code, 1);
    assert.equal(stdout, "");
    assert.equal(
      stderr,
      `claptrap: the server at 127.0.0.1:${port} speaks another protocol version: ` +
        "this server speaks Claptrap 3.0 only\n",
    );
    await within(serving, () => "the stand-in server to finish");
    assert.deepEqual(seen, ["HELLO 2.1"], "HELLO is the first and only request");
  } finally {
    listener.close();
  }
});

// ------------------------------------------------------------ protocol 2.1

Deno.test("ChatTerminal in 2.1 sits in several rooms: other rooms' messages named, mentions marked, /rooms counts, /switch and /leave ROOM", async () => {
  await withServer(async (server) => {
    const port = server.addr.port;
    const open = async () => {
      const client = await ChatClient.connect(tcp({ port }), { v21: true });
      await client.login("alice", "alice123");
      return client;
    };
    await using bob = await Participant.login(port, "bob", "bob123");
    await bob.client.join("lobby");
    const client = await open();
    const transcript = new Transcript();
    const terminal = new ChatTerminal(client, transcript.write, { user: "alice", bell: true });
    const laptop = await open();
    try {
      await terminal.start();
      await terminal.handleLine("/join lobby");
      await terminal.handleLine("/join random");
      assert.equal(terminal.room, "random");
      assert.match(
        transcript.lines.at(-1)!,
        /^\* the lines you type go to random \(you are in lobby too; \/switch ROOM changes\)$/,
      );

      // a message of another room comes with the room's name; a mention is marked and rings
      await bob.client.send("lunch, @Alice?");
      await transcript.waitFor(/lobby · bob: lunch, @Alice\? \(@ you\)/);
      assert.ok(transcript.lines.at(-1)!.endsWith("\x07"), "the bell rings");
      assert.equal(terminal.othersUnread, "lobby 1 (1 @)");
      transcript.lines.length = 0;
      await terminal.handleLine("/rooms");
      assert.deepEqual(transcript.lines, [
        "rooms (3):",
        "  lobby (2 members, you are in it, 1 unread) 1 @ you",
        "  random (1 member, you are here)",
        "  香港记者招待会 (empty)",
      ]);

      // switching shows what was not read there, and reads it on every device
      transcript.lines.length = 0;
      await terminal.handleLine("/switch lobby");
      assert.deepEqual(untimed(transcript.lines), [
        "* the lines you type go to lobby (you are in random too; /switch ROOM changes)",
        "— start of lobby —",
        "— last 1 message in lobby —",
        "[T] bob: lunch, @Alice? (@ you)\x07",
      ]);
      assert.equal(terminal.othersUnread, "");
      await within(
        (async () => {
          while ((await laptop.roomStates())[0].unread !== 0) {
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        })(),
        () => "lobby read on the laptop",
      );

      // typed lines go to the current room; messages there are marked read as they come
      await terminal.handleLine("sure");
      const sent = await bob.expect("alice's message", (e) => e.type === "message");
      assert.deepEqual(sent.type === "message" && [sent.room, sent.content], ["lobby", "sure"]);
      await bob.client.send("12:30 then");
      await transcript.waitFor(/^\[[\d:]+\] bob: 12:30 then$/);

      // /leave ROOM leaves another room for good; /switch to it is refused
      transcript.lines.length = 0;
      await terminal.handleLine("/leave random");
      await terminal.handleLine("/switch random");
      assert.deepEqual(transcript.lines, [
        "* you left random",
        '! you are not in "random": /join random joins it',
      ]);
      assert.equal(terminal.room, "lobby");
      assert.deepEqual(
        (await laptop.roomStates()).map((room) => [room.name, room.joined]),
        [["lobby", true], ["random", false], ["香港记者招待会", false]],
      );
      await terminal.quit();

      // memberships last: the next session starts in lobby
      const again = await open();
      const next = new Transcript();
      const second = new ChatTerminal(again, next.write, { user: "alice" });
      await second.start();
      assert.equal(second.room, "lobby");
      assert.deepEqual(untimed(next.lines.slice(-4)), [
        "— last 3 messages in lobby —",
        "[T] bob: lunch, @Alice? (@ you)",
        "[T] alice: sure",
        "[T] bob: 12:30 then",
      ]);
      await second.quit();
    } finally {
      await Promise.all([client.close(), laptop.close()]);
    }
  });
});

Deno.test("terminal client speaks 2.1: /join adds rooms, other rooms' messages are named, /switch changes where lines go", async () => {
  await withServer(async (server) => {
    const port = server.addr.port;
    await using bob = await Participant.login(port, "bob", "bob123");
    await bob.client.join("lobby");
    await using alice = new ClientProcess(port, ["--user", "alice", "--password", "alice123"]);
    await alice.write("/join lobby\n/join random\n");
    await alice.waitFor("* the lines you type go to random (you are in lobby too");
    await bob.client.send("hi @alice");
    await alice.waitFor(new RegExp(`${CLOCK} lobby · bob: hi @alice \\(@ you\\)\n`));
    await alice.write("/rooms\n");
    await alice.waitFor("  lobby (2 members, you are in it, 1 unread) 1 @ you\n");
    await alice.write("/switch lobby\nhello bob\n");
    const message = await bob.expect("alice's message", (e) => e.type === "message");
    assert.deepEqual(
      message.type === "message" && [message.room, message.content],
      ["lobby", "hello bob"],
    );
    await alice.write("/quit\n");
    const { code, stdout, stderr } = await alice.finish({ keepStdin: true });
    assert.equal(code, 0, stdout + stderr);
    assert.ok(!stdout.includes("\x07"), "no bell when stdout is no terminal");
  });
});
