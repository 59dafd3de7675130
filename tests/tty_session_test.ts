/**
 * The terminal client at a keyboard: runTtySession with node:readline on a
 * pretend TTY whose output goes through a small terminal emulator, so that
 * the tests see the screen a person would, against a real server.
 */

import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { ChatClient, type ServerHandle, startServer, tcp } from "../mod.ts";
import { ChatTerminal, type Reconnection } from "../client/terminal/terminal.ts";
import { runTtySession } from "../client/terminal/tty_session.ts";
import { withTimeout } from "./helpers.ts";

const ACCOUNTS = new Map([["alice", "alice123"], ["bob", "bob123"]]);
const WIDTH = 60;

/**
 * Just enough of a terminal for what readline writes: printable characters
 * (wrapping at the width), CR, LF (as CR LF, like a TTY's output), and the
 * CSI sequences that move the cursor and erase.
 */
class Screen {
  readonly #rows: string[][] = [[]];
  #row = 0;
  #col = 0;
  #changed: () => void = () => {};

  write(text: string): void {
    // deno-lint-ignore no-control-regex
    const csi = /^\x1b\[(\d*)(?:;\d*)*([A-Za-z])/;
    for (let i = 0; i < text.length;) {
      const sequence = csi.exec(text.slice(i));
      if (sequence) {
        this.#control(Number(sequence[1] || 0), sequence[2]);
        i += sequence[0].length;
        continue;
      }
      const char = String.fromCodePoint(text.codePointAt(i)!);
      i += char.length;
      if (char === "\r") this.#col = 0;
      else if (char === "\n") this.#moveTo(this.#row + 1, 0);
      else {
        if (this.#col === WIDTH) this.#moveTo(this.#row + 1, 0);
        this.#line()[this.#col++] = char;
      }
    }
    this.#changed();
  }

  /** The rows, without trailing spaces. */
  get lines(): string[] {
    return this.#rows.map((row) => Array.from(row, (c) => c ?? " ").join("").trimEnd());
  }

  /** The row of the cursor. */
  get current(): string {
    return this.lines[this.#row];
  }

  /** Waits until the screen satisfies `test`. */
  async until(what: string, test: (screen: Screen) => boolean): Promise<void> {
    const found = async () => {
      while (!test(this)) await new Promise<void>((resolve) => this.#changed = resolve);
    };
    await withTimeout(found(), 10_000, `${what}; the screen:\n${this.lines.join("\n")}`);
  }

  #control(n: number, command: string): void {
    const line = this.#line();
    switch (command) {
      case "A":
        return this.#moveTo(Math.max(0, this.#row - (n || 1)), this.#col);
      case "B":
        return this.#moveTo(this.#row + (n || 1), this.#col);
      case "C":
        this.#col = Math.min(WIDTH, this.#col + (n || 1));
        return;
      case "D":
        this.#col = Math.max(0, this.#col - (n || 1));
        return;
      case "G":
        this.#col = Math.max(0, (n || 1) - 1);
        return;
      case "J": // from the cursor to the end of the screen
        line.length = Math.min(line.length, this.#col);
        this.#rows.length = this.#row + 1;
        return;
      case "K":
        if (n === 0) line.length = Math.min(line.length, this.#col);
        else if (n === 1) line.fill(" ", 0, this.#col);
        else line.length = 0;
        return;
    }
  }

  #moveTo(row: number, col: number): void {
    while (this.#rows.length <= row) this.#rows.push([]);
    this.#row = row;
    this.#col = col;
  }

  #line(): string[] {
    return this.#rows[this.#row];
  }
}

/** Connects to `port` and logs in as `user`. */
async function logIn(port: number, user: string): Promise<ChatClient> {
  const client = await ChatClient.connect(tcp({ port }));
  await client.login(user, ACCOUNTS.get(user)!);
  return client;
}

/** A session of `user` at a pretend keyboard and screen. */
async function atKeyboard(
  server: ServerHandle,
  user: string,
  options: { reconnect?: Reconnection } = {},
) {
  const client = await logIn(server.addr.port, user);
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => {} });
  const output = Object.assign(new PassThrough(), { isTTY: true, columns: WIDTH, rows: 40 });
  const screen = new Screen();
  output.setEncoding("utf8");
  output.on("data", (text: string) => screen.write(text));
  const finished = runTtySession(
    { input, output, screen: true },
    (write) => new ChatTerminal(client, write, { user, ...options }),
  );
  await screen.until("the rooms", (s) => s.lines.includes("rooms (2):"));
  return {
    screen,
    /** Resolves with the session's exit status once it is over. */
    ended: () => withTimeout(finished, 10_000, "the session to end"),
    type: (keys: string) => input.write(keys),
  };
}

async function withServer(
  test: (server: ServerHandle) => Promise<void>,
  port = 0,
): Promise<void> {
  const server = await startServer({
    host: "127.0.0.1",
    port,
    globals: { accounts: ACCOUNTS, rooms: ["lobby", "random"] },
    scryptCost: 1024,
    log: () => {},
  });
  try {
    await test(server);
  } finally {
    await server.close();
  }
}

const SENT = /^\[\d\d:\d\d:\d\d\] alice: /;

Deno.test("a message typed at the keyboard is shown once: the sent message replaces the typed line", async () => {
  await withServer(async (server) => {
    const alice = await atKeyboard(server, "alice");
    alice.type("/join lobby\r");
    await alice.screen.until("the join", (s) => s.lines.includes("* you joined lobby"));
    alice.type("hello there, this line is long enough to wrap at the screen's edge\r");
    await alice.screen.until("the message", (s) => s.lines.some((line) => SENT.test(line)));
    const lines = alice.screen.lines;
    assert.deepEqual(
      lines.filter((line) => line.includes("hello there")).length,
      1,
      lines.join("\n"),
    );
    assert.equal(lines.filter((line) => line.includes("edge")).length, 1, lines.join("\n"));
    assert.ok(lines.includes("> /join lobby"), "a command stays as typed");
    assert.equal(alice.screen.current, "lobby>");
    alice.type("\x03");
    assert.equal(await alice.ended(), 0);
  });
});

Deno.test("Ctrl+C clears what is typed, and quits only on an empty line", async () => {
  await withServer(async (server) => {
    const alice = await atKeyboard(server, "alice");
    alice.type("/join lobby\r");
    await alice.screen.until("the join", (s) => s.lines.includes("* you joined lobby"));
    alice.type("a draft");
    await alice.screen.until("the draft", (s) => s.current === "lobby> a draft");
    alice.type("\x03");
    await alice.screen.until("the draft cleared", (s) => s.current === "lobby>");
    alice.type("typed again\r");
    await alice.screen.until("the message", (s) => s.lines.some((line) => SENT.test(line)));
    assert.ok(alice.screen.lines.some((line) => /alice: typed again$/.test(line)));
    alice.type("\x03");
    assert.equal(await alice.ended(), 0);
    assert.ok(alice.screen.lines.includes("* logged out"), alice.screen.lines.join("\n"));
  });
});

Deno.test("a message that was not delivered comes back as the line being typed", async () => {
  await withServer(async (server) => {
    const alice = await atKeyboard(server, "alice");
    alice.type("nobody hears this\r");
    await alice.screen.until("the error", (s) => s.lines.some((line) => line.startsWith("! ")));
    await alice.screen.until("the line back", (s) => s.current === "> nobody hears this");
    alice.type("\x05\x15\x04"); // Ctrl+E, Ctrl+U: clear the line; Ctrl+D: leave
    assert.equal(await alice.ended(), 0);
  });
});

Deno.test("after the server restarts the client is back in its room by itself, with the draft kept", async () => {
  await withServer(async (server) => {
    const port = server.addr.port;
    const alice = await atKeyboard(server, "alice", {
      reconnect: { open: () => logIn(port, "alice"), delayMs: () => 20 },
    });
    alice.type("/join lobby\r");
    await alice.screen.until("the join", (s) => s.lines.includes("* you joined lobby"));
    alice.type("half a thought");
    await server.close();
    await alice.screen.until(
      "the loss",
      (s) => s.lines.some((line) => line.endsWith("connecting again…")),
    );
    assert.equal(alice.screen.current, "lobby> half a thought");
    await withServer(async () => {
      await alice.screen.until(
        "the return",
        (s) => s.lines.includes("* connected again; back in lobby"),
      );
      assert.equal(alice.screen.current, "lobby> half a thought");
      alice.type(", finished\r");
      await alice.screen.until("the message", (s) => s.lines.some((line) => SENT.test(line)));
      assert.ok(
        alice.screen.lines.some((line) => line.endsWith("alice: half a thought, finished")),
      );
      alice.type("\x03");
      assert.equal(await alice.ended(), 0);
    }, port);
  });
});

Deno.test("Ctrl+C quits at once while the client is connecting again", async () => {
  await withServer(async (server) => {
    const port = server.addr.port;
    const alice = await atKeyboard(server, "alice", {
      reconnect: { open: () => logIn(port, "alice"), delayMs: () => 20 },
    });
    await server.close();
    await alice.screen.until(
      "the loss",
      (s) => s.lines.some((line) => line.endsWith("connecting again…")),
    );
    alice.type("waits for the server\r");
    alice.type("\x03");
    assert.equal(await alice.ended(), 0);
  });
});
