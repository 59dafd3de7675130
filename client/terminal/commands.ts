/**
 * The terminal client's commands: the slash commands, the bare commands of
 * the ICS chat menu (`time`, `who`, `c PEER`, `? TERM`, `p N`, `q`, `bye`),
 * and the parsing of one typed line into a message or a command. Pure.
 * @module
 */

/** One slash command: its name, its argument (if it takes one) and what it does. */
export interface CommandSpec {
  /** Name without the slash, e.g. `join`. */
  readonly name: string;
  /** Name of its argument, e.g. `ROOM`, when it takes one. */
  readonly arg?: string;
  /** Whether the argument may be left out. */
  readonly optional?: boolean;
  /** What the argument is, for the error when it is missing, e.g. `a room name`. */
  readonly needs?: string;
  /** One line for the help. */
  readonly summary: string;
}

/** Every slash command, in the order the help lists them. */
export const COMMANDS = [
  { name: "help", summary: "show this list" },
  {
    name: "rooms",
    summary: "list the rooms, how many are in each, and your unread messages and mentions",
  },
  { name: "list", summary: "the same as /rooms" },
  {
    name: "join",
    arg: "ROOM",
    needs: "a room name",
    summary: "join a room beside the ones you are in, make it the current one and show its " +
      "last messages",
  },
  {
    name: "switch",
    arg: "ROOM",
    needs: "a room name",
    summary: "make ROOM, one you are in, the current one: the lines you type go there",
  },
  { name: "room", arg: "ROOM", needs: "a room name", summary: "the same as /switch" },
  { name: "create", arg: "ROOM", needs: "a room name", summary: "create a room (you own it)" },
  {
    name: "leave",
    arg: "ROOM",
    optional: true,
    summary: "leave ROOM for good (default: the current room, peer chat or direct conversation)",
  },
  { name: "members", summary: "list who is in the current room or peer chat" },
  {
    name: "history",
    arg: "N",
    optional: true,
    summary: "show N (default 20) earlier messages of the room; again for older ones",
  },
  {
    name: "search",
    arg: "WORDS",
    needs: "words to search for",
    summary: "find messages with all WORDS in your chat history, newest first",
  },
  { name: "more", summary: "show older results of the last /search" },
  { name: "time", summary: "the server's time" },
  { name: "who", summary: "who is online and where" },
  {
    name: "connect",
    arg: "PEER",
    needs: "a user name",
    summary: "chat with PEER in a private peer chat (or ask to join the one PEER is in)",
  },
  { name: "bye", summary: "leave the peer chat" },
  {
    name: "accept",
    arg: "USER",
    needs: "a user name",
    summary: "let USER, who asked to join, into your peer chat",
  },
  {
    name: "decline",
    arg: "USER",
    needs: "a user name",
    summary: "turn down USER, who asked to join your peer chat",
  },
  {
    name: "dm",
    arg: "USER [TEXT]",
    needs: "a user name",
    summary: "talk with USER in direct messages: shows your last ones, then the lines you " +
      "type go to USER until /close (with TEXT: sends just TEXT); USER must be online",
  },
  {
    name: "close",
    summary: "close the direct conversation: the lines you type go to your room again",
  },
  { name: "poem", arg: "N", needs: "a sonnet number", summary: "show sonnet number N" },
  {
    name: "kick",
    arg: "USER [REASON]",
    needs: "a user name",
    summary: "remove USER from the current room (its owner and admins)",
  },
  {
    name: "ban",
    arg: "USER [REASON]",
    needs: "a user name",
    summary: "remove USER from the current room and keep them out",
  },
  {
    name: "unban",
    arg: "USER",
    needs: "a user name",
    summary: "let a banned USER back into the current room",
  },
  { name: "quit", summary: "log out and exit" },
] as const satisfies readonly CommandSpec[];

/** The name of a slash command. */
export type CommandName = typeof COMMANDS[number]["name"];

/** The ICS chat menu: the bare commands and what each does, in the order the help lists them. */
export const ICS_MENU: readonly { readonly usage: string; readonly summary: string }[] = [
  { usage: "time", summary: "the server's time" },
  { usage: "who", summary: "who is online, and in which room or peer chat" },
  { usage: "c PEER", summary: "connect to PEER and chat (PEER is one word; else /connect)" },
  { usage: "? TERM", summary: "search your chat history for TERM (also ?TERM)" },
  { usage: "p N", summary: "show sonnet number N (also pN)" },
  { usage: "q", summary: "log out and leave the chat system" },
  { usage: "bye", summary: "leave the peer chat (in a peer chat only)" },
];

/** Where the user is, which decides whether the ICS menu's bare words are commands. */
export type Whereabouts = "room" | "group" | "idle";

/** What a typed line asks for. */
export type Input =
  /** Nothing: an empty or blank line. */
  | { type: "empty" }
  /** A message for the current room or peer chat. */
  | { type: "message"; text: string }
  /** A valid command; `arg` is the rest of the line, trimmed (`""` when it takes none). */
  | { type: "command"; name: CommandName; arg: string }
  /** A command that does not exist. */
  | { type: "unknown"; name: string }
  /** A known command with a missing or unexpected argument; `message` says what is wrong. */
  | { type: "usage"; command: CommandSpec; message: string };

/**
 * Parses a typed line. A line starting with `/` is a command whose
 * argument is the rest of the line, trimmed (so room names may contain
 * spaces); `//` sends the rest as a message that starts with `/`.
 *
 * Outside a public room (`where` is `idle` or `group`) the ICS menu's bare
 * commands count too, when a line is exactly one of them: `time`, `who`,
 * `c PEER`, `? TERM` or `?TERM`, `p N` or `pN`, `q`; and `bye` in a peer
 * chat. In a public room they are messages like any other line, so that
 * nobody leaves a room by saying "q". Any other non-blank line is a
 * message, sent as typed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseInput } from "./commands.ts";
 * const input = parseInput("/join  my room ");
 * assert.ok(input.type === "command" && input.arg === "my room");
 * assert.deepEqual(parseInput("c bob", "idle"), { type: "command", name: "connect", arg: "bob" });
 * assert.deepEqual(parseInput("c bob", "room"), { type: "message", text: "c bob" });
 * ```
 */
export function parseInput(line: string, where: Whereabouts = "idle"): Input {
  if (line.trim() === "") return { type: "empty" };
  if (line.startsWith("//")) return { type: "message", text: line.slice(1) };
  if (!line.startsWith("/")) {
    return (where === "room" ? null : parseMenuCommand(line, where)) ??
      { type: "message", text: line };
  }
  const match = /^\/(\S*)(.*)$/s.exec(line)!;
  const name = match[1].toLowerCase();
  const arg = match[2].trim();
  const command: CommandSpec | undefined = COMMANDS.find((spec) => spec.name === name);
  if (!command) return { type: "unknown", name: match[1] };
  if (command.arg && !command.optional && arg === "") {
    return {
      type: "usage",
      command,
      message: `/${command.name} requires ${command.needs}: ${commandUsage(command)}`,
    };
  }
  if (!command.arg && arg !== "") {
    return {
      type: "usage",
      command,
      message: `usage: ${commandUsage(command)} (takes no argument)`,
    };
  }
  return { type: "command", name: command.name as CommandName, arg };
}

/**
 * The ICS menu command a whole line is, or null. `? TERM` needs a letter
 * or digit in TERM, so that "??" and "?!" stay messages.
 */
function parseMenuCommand(line: string, where: Whereabouts): Input | null {
  const text = line.trim();
  const command = (name: CommandName, arg = ""): Input => ({ type: "command", name, arg });
  if (text === "time") return command("time");
  if (text === "who") return command("who");
  if (text === "q") return command("quit");
  if (text === "bye") return where === "group" ? command("bye") : null;
  const connect = /^c\s+(\S+)$/.exec(text);
  if (connect) return command("connect", connect[1]);
  const poem = /^p\s*(\d{1,9})$/.exec(text);
  if (poem) return command("poem", poem[1]);
  const search = /^\?\s*(.*)$/s.exec(text);
  if (search && /[\p{L}\p{N}]/u.test(search[1])) return command("search", search[1]);
  return null;
}

/** How a command is typed, e.g. `/join ROOM` or `/history [N]`. */
export function commandUsage(command: CommandSpec): string {
  if (!command.arg) return `/${command.name}`;
  return `/${command.name} ${command.optional ? `[${command.arg}]` : command.arg}`;
}

/**
 * Splits `NAME rest` or `"A NAME" rest` into the name and the rest
 * (trimmed), for commands whose first word is a user name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitName } from "./commands.ts";
 * assert.deepEqual(splitName("bob  hi there"), ["bob", "hi there"]);
 * assert.deepEqual(splitName('"mary ann" hello'), ["mary ann", "hello"]);
 * ```
 */
export function splitName(text: string): [string, string] {
  const quoted = /^"([^"]+)"(?:\s+(.*))?$/s.exec(text);
  if (quoted) return [quoted[1], (quoted[2] ?? "").trim()];
  const space = text.search(/\s/);
  return space === -1 ? [text, ""] : [text.slice(0, space), text.slice(space).trim()];
}

/** The help: the slash commands, how to send a message, then the ICS menu. */
export function helpLines(): string[] {
  const width = Math.max(...COMMANDS.map((command) => commandUsage(command).length));
  const menuWidth = Math.max(...ICS_MENU.map((entry) => entry.usage.length));
  return [
    "commands:",
    ...COMMANDS.map((command) => `  ${commandUsage(command).padEnd(width)}  ${command.summary}`),
    "any other line is sent to the current room, peer chat or direct conversation " +
    "(start it with // to send a leading /)",
    "ICS chat menu, when you are not in a public room (idle or in a peer chat):",
    ...ICS_MENU.map((entry) => `  ${entry.usage.padEnd(menuWidth)}  ${entry.summary}`),
    "in a public room these words are sent as messages; use the slash commands there",
  ];
}
