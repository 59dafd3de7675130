/**
 * The operator console: commands typed on the server's terminal. The
 * commands are parsed and run here without I/O; server.ts feeds it lines
 * from stdin (a terminal only) and prints what it returns.
 * @module
 */

import type { Chat } from "../core/chat.ts";

/** What a console command asks of the server beyond the chat. */
export interface ConsoleResult {
  /** Lines to print. */
  output: string[];
  /** Whether the operator asked the server to stop. */
  exit?: boolean;
}

/** The console's help text. */
export const CONSOLE_HELP = [
  "HELP                  this list",
  "LIST_USERS            who is online, where, and from which address",
  'KICK name [reason]    disconnect a user (quote a name with spaces: KICK "a b" why)',
  "BROADCAST text        a notice to everyone connected with push",
  "EXIT                  stop the server cleanly",
];

/** Splits `name rest` or `"a name" rest` into the name and the trimmed rest. */
export function splitName(text: string): [string, string] {
  const quoted = text.match(/^"([^"]*)"\s*(.*)$/s);
  if (quoted) return [quoted[1], quoted[2].trim()];
  const space = text.search(/\s/);
  return space === -1 ? [text, ""] : [text.slice(0, space), text.slice(space).trim()];
}

/**
 * Runs one console line against the chat. Command names are case-insensitive.
 * In a cluster, LIST_USERS, KICK and BROADCAST act on every server, and
 * answer once the shared presence has been read.
 *
 * @example
 * ```ts ignore
 * const { output } = runConsoleCommand(chat, "LIST_USERS");
 * ```
 */
export function runConsoleCommand(
  chat: Chat,
  line: string,
): ConsoleResult | Promise<ConsoleResult> {
  const trimmed = line.trim();
  if (trimmed === "") return { output: [] };
  const [word, rest] = splitName(trimmed);
  switch (word.toUpperCase()) {
    case "HELP":
      return { output: CONSOLE_HELP };
    case "LIST_USERS":
      return either(chat.who(), (users) => {
        if (users.length === 0) return { output: ["nobody is online"] };
        return {
          output: [
            `${users.length} online:`,
            ...users.map((u) =>
              `  ${u.user}  ${
                u.place === "idle" ? "(in no room)" : `${u.place} ${u.name}`
              }  ${u.address}`
            ),
          ],
        };
      });
    case "KICK": {
      const [name, reason] = splitName(rest);
      if (name === "") return { output: ["usage: KICK name [reason]"] };
      const why = `kicked by the operator${reason ? `: ${reason}` : ""}`;
      const wasDown = chat.busDown;
      return either(chat.kickFromServer(name, why), (kicked) => ({
        output: kicked
          ? [`kicked ${name}`, ...busWarning(chat, wasDown)]
          : [`${name} is not online`],
      }));
    }
    case "BROADCAST": {
      if (rest === "") return { output: ["usage: BROADCAST text"] };
      const wasDown = chat.busDown;
      return either(chat.broadcast(rest), (reached) => ({
        output: [`sent to ${reached} connection(s)`, ...busWarning(chat, wasDown)],
      }));
    }
    case "EXIT":
      return { output: ["stopping"], exit: true };
    default:
      return { output: [`unknown command ${JSON.stringify(word)}; HELP lists the commands`] };
  }
}

/**
 * A line more when the other servers of a cluster have not heard yet: the
 * bus was down (the act is kept in the database, and held until the bus
 * is back), or went down meanwhile.
 */
function busWarning(chat: Chat, wasDown: boolean): string[] {
  if (wasDown) return [BUS_DOWN_HELD];
  return chat.busDown ? [BUS_WENT_DOWN] : [];
}

/** What the console says of an act made while the bus between the servers was down. */
export const BUS_DOWN_HELD =
  "the bus between the servers is down: the other servers will read it from the database, or hear of it if the bus is back within a minute";

/** What it says when the bus went down while the act was made. */
const BUS_WENT_DOWN =
  "the bus between the servers went down meanwhile: the other servers will read it from the database, if it can be reached";

/** `then` of a value that may be a promise: at once when it is not. */
function either<T>(value: T | Promise<T>, then: (value: T) => ConsoleResult) {
  return value instanceof Promise ? value.then(then) : then(value);
}
