/**
 * The terminal client's slash commands: the command table and the parsing
 * of one typed line into a message or a command. Pure.
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
  /** One line for the help. */
  readonly summary: string;
}

/** Every slash command, in the order the help lists them. */
export const COMMANDS = [
  { name: "help", summary: "show this list" },
  { name: "rooms", summary: "list the rooms and how many are in each" },
  {
    name: "join",
    arg: "ROOM",
    summary: "enter a room (leaving the current one) and show its last messages",
  },
  { name: "leave", summary: "leave the current room" },
  { name: "members", summary: "list who is in the current room" },
  {
    name: "history",
    arg: "N",
    optional: true,
    summary: "show N (default 20) earlier messages of the room; again for older ones",
  },
  {
    name: "search",
    arg: "WORDS",
    summary: "find messages with all WORDS in the rooms you have been in",
  },
  { name: "create", arg: "ROOM", summary: "create a room" },
  { name: "quit", summary: "log out and exit" },
] as const satisfies readonly CommandSpec[];

/** The name of a slash command. */
export type CommandName = typeof COMMANDS[number]["name"];

/** What a typed line asks for. */
export type Input =
  /** Nothing: an empty or blank line. */
  | { type: "empty" }
  /** A message for the current room. */
  | { type: "message"; text: string }
  /** A valid command; `arg` is the rest of the line, trimmed (`""` when it takes none). */
  | { type: "command"; name: CommandName; arg: string }
  /** A command that does not exist. */
  | { type: "unknown"; name: string }
  /** A known command with a missing or unexpected argument. */
  | { type: "usage"; command: CommandSpec; problem: string };

/**
 * Parses a typed line. A line starting with `/` is a command whose
 * argument is the rest of the line, trimmed (so room names may contain
 * spaces); `//` sends the rest as a message that starts with `/`; any other
 * non-blank line is a message, sent as typed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseInput } from "./commands.ts";
 * const input = parseInput("/join  my room ");
 * assert.ok(input.type === "command" && input.arg === "my room");
 * ```
 */
export function parseInput(line: string): Input {
  if (line.trim() === "") return { type: "empty" };
  if (line.startsWith("//")) return { type: "message", text: line.slice(1) };
  if (!line.startsWith("/")) return { type: "message", text: line };
  const match = /^\/(\S*)(.*)$/s.exec(line)!;
  const name = match[1].toLowerCase();
  const arg = match[2].trim();
  const command = COMMANDS.find((spec) => spec.name === name);
  if (!command) return { type: "unknown", name: match[1] };
  if ("arg" in command && !("optional" in command) && arg === "") {
    return { type: "usage", command, problem: `missing ${command.arg}` };
  }
  if (!("arg" in command) && arg !== "") {
    return { type: "usage", command, problem: "takes no argument" };
  }
  return { type: "command", name: command.name, arg };
}

/** How a command is typed, e.g. `/join ROOM` or `/history [N]`. */
export function commandUsage(command: CommandSpec): string {
  if (!command.arg) return `/${command.name}`;
  return `/${command.name} ${command.optional ? `[${command.arg}]` : command.arg}`;
}

/** The help: one line per command, then how to send a message. */
export function helpLines(): string[] {
  const width = Math.max(...COMMANDS.map((command) => commandUsage(command).length));
  return [
    "commands:",
    ...COMMANDS.map((command) => `  ${commandUsage(command).padEnd(width)}  ${command.summary}`),
    "any other line is sent to the current room (start it with // to send a leading /)",
  ];
}
