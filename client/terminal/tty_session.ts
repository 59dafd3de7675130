/**
 * The terminal client at a keyboard: node:readline edits the input line
 * while the chat is printed above it. A sent message replaces the line it
 * was typed as (it is not shown twice), Ctrl+C clears what is typed before
 * it quits, and a message that was not delivered comes back as the line
 * being typed. What a line does is {@link ChatTerminal}'s business.
 * @module
 */

import readline from "node:readline";
import type { ChatTerminal, LineWriter } from "./terminal.ts";
import { sanitize } from "./terminal.ts";

/** Where a session reads keys and writes the screen. */
export interface TtyStreams {
  /** The keyboard: a TTY in raw mode, or anything readable. */
  input: NodeJS.ReadableStream;
  /** The screen. */
  output: NodeJS.WritableStream;
  /** Whether `output` is a terminal (line editing, redrawing); else lines are just written. */
  screen: boolean;
}

/**
 * Runs a chat session until the user quits or the connection ends for good.
 * @param open makes the session's terminal, given where it writes its lines
 * @returns the exit status: 0 when the user quit, 1 when the connection ended.
 */
export function runTtySession(
  streams: TtyStreams,
  open: (write: LineWriter) => ChatTerminal,
): Promise<number> {
  const { input, output, screen } = streams;
  const rl = readline.createInterface({ input, output, terminal: screen, prompt: "> " });
  const terminal = open(print);
  let ending = false;
  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => finish = resolve);

  function print(line: string): void {
    if (!screen) {
      output.write(line + "\n");
      return;
    }
    // readline redraws by moving up as many rows as the input had: give it
    // that many blank rows below the line to move into.
    const rows = clearInput();
    output.write(line + "\n".repeat(1 + rows));
    if (!ending) {
      rl.setPrompt(promptOf(terminal));
      rl.prompt(true);
    }
  }

  /**
   * Erases the prompt and what is typed after it, however many rows it
   * takes; returns how many rows the cursor was below the prompt's.
   */
  function clearInput(): number {
    const rows = rl.getCursorPos().rows;
    readline.moveCursor(output, 0, -rows);
    readline.cursorTo(output, 0);
    readline.clearScreenDown(output);
    return rows;
  }

  /**
   * Erases a line readline has just echoed (with its prompt, which the
   * cursor is now below), so that the message it becomes is shown once.
   */
  function eraseEcho(line: string): void {
    // readline's own measure of the rows it wrote, wide characters and all
    const editor = rl as unknown as { line: string; cursor: number };
    editor.line = line;
    editor.cursor = line.length;
    const rows = rl.getCursorPos().rows + 1;
    editor.line = "";
    editor.cursor = 0;
    readline.moveCursor(output, 0, -rows);
    readline.cursorTo(output, 0);
    readline.clearScreenDown(output);
  }

  async function end(): Promise<void> {
    const reason = await terminal.ended;
    if (ending) return;
    ending = true;
    if (screen) clearInput();
    rl.close();
    finish(reason === null ? 0 : 1);
  }

  // One line at a time, in order; the prompt stays usable meanwhile.
  let queue = Promise.resolve(true);
  const enqueue = (task: () => Promise<boolean>) => queue = queue.then((go) => go ? task() : false);
  rl.on("line", (line: string) => {
    const message = terminal.sends(line);
    if (screen && message) eraseEcho(line);
    if (screen) rl.prompt();
    enqueue(async () => {
      const lost = terminal.undelivered;
      const go = await terminal.handleLine(line);
      // not delivered: back to the input line, to send again or edit, unless something is typed
      if (message && terminal.undelivered > lost && rl.line === "" && !ending) rl.write(line);
      return go;
    }).then((go) => {
      if (!go) end();
    });
  });
  // Ctrl+C clears what is typed; on an empty line it logs out and leaves, as Ctrl+D does.
  rl.on("SIGINT", () => {
    if (rl.line === "") rl.close();
    else {
      rl.write(null, { ctrl: true, name: "e" });
      rl.write(null, { ctrl: true, name: "u" });
    }
  });
  rl.on("close", () => {
    if (ending) return;
    // lines typed while the connection is down wait for a new one: do not wait behind them
    if (terminal.reconnecting) terminal.quit().then(end);
    else enqueue(() => terminal.quit().then(() => false)).then(end);
  });
  terminal.ended.then((reason) => {
    if (reason !== null) end();
  });
  terminal.start().then(() => screen && !ending && rl.prompt());
  return finished;
}

/** The prompt: where the lines typed go. */
function promptOf(terminal: ChatTerminal): string {
  if (terminal.conversation !== null) return `dm ${sanitize(terminal.conversation)}> `;
  if (terminal.inPeerChat) return "peer chat> ";
  if (terminal.room === null) return "> ";
  const others = terminal.othersUnread;
  return `${sanitize(terminal.room)}${others === "" ? "" : ` [${others}]`}> `;
}
