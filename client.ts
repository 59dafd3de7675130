/**
 * The Claptrap terminal client: `deno task client` or `client.ts [options]`.
 * Run with `--help` for the flags and type `/help` once logged in.
 *
 * This file only wires the pieces to the process: flags, the prompts, stdin
 * (a TTY with line editing, or a script read line by line) and stdout. What
 * a line does is {@link ChatTerminal}'s business.
 * @module
 */

import process from "node:process";
import { ChatClient, ChatError, TlsError } from "./client/chat_client.ts";
import { CLIENT_USAGE, type ClientArgs, parseClientArgs } from "./client/client_cli.ts";
import { type Prompter, signIn, SignInError } from "./client/sign_in.ts";
import { Status } from "./protocol/methods.ts";
import { runTtySession } from "./client/tty_session.ts";
import {
  ChatTerminal,
  readLines,
  sanitize,
  SecretInput,
  type SecretState,
} from "./client/terminal.ts";

/** How often a client logged in with `--no-push` asks for new messages, in ms. */
const POLL_MS = 1_000;
/**
 * How often a client logged in with `--no-push` says PING, in ms. The
 * server pings only push connections (the library answers those) and
 * closes any connection silent for its idle timeout (default 120 s); a
 * polling client is silent whenever it is in no room.
 */
const KEEPALIVE_MS = 30_000;

function fail(message: string, code = 1): never {
  console.error(`claptrap: ${message}`);
  Deno.exit(code);
}

async function connect(args: ClientArgs): Promise<ChatClient> {
  const caCerts = args.ca === undefined ? undefined : [await readCa(args.ca)];
  try {
    return await ChatClient.connect({ host: args.host, port: args.port, tls: args.tls, caCerts });
  } catch (error) {
    fail(`cannot connect to ${args.host}:${args.port}: ${whyNotConnected(error, args)}`);
  }
}

/** The file of --ca, or exits with status 2 saying why it cannot be used. */
async function readCa(path: string): Promise<string> {
  let text;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound ? "no such file" : (error as Error).message;
    fail(`--ca: cannot read ${path}: ${why}`, 2);
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    fail(`--ca: ${path} does not hold a certificate in PEM form`, 2);
  }
  return text;
}

function whyNotConnected(error: unknown, args: ClientArgs): string {
  if (error instanceof Deno.errors.ConnectionRefused) return "connection refused";
  if (!(error instanceof TlsError)) return (error as Error).message;
  if (error.problem !== "UnknownIssuer" && error.problem !== "BadSignature") return error.message;
  return args.ca === undefined
    ? `${error.message}; if it is self-signed, pass it with --ca FILE`
    : `${error.message}; ${args.ca} holds neither the server's certificate nor its issuer's`;
}

/**
 * Says HELLO with the protocol version this client speaks. A server of
 * another major version refuses (VERSION_MISMATCH): the client says what
 * the server told and exits with 1. Any other failure (a server of the
 * original protocol, which knows no HELLO) is no reason to stop.
 */
async function sayHello(client: ChatClient, args: ClientArgs): Promise<void> {
  try {
    await client.hello();
  } catch (error) {
    if (error instanceof ChatError && error.status === Status.VERSION_MISMATCH) {
      await client.close();
      const told = error.reason ? `: ${sanitize(error.reason)}` : "";
      fail(`the server at ${args.host}:${args.port} speaks another protocol version${told}`);
    }
    if (!(error instanceof ChatError)) {
      const message = (error as Error).message;
      const hint = !args.tls && message.includes("protocol error")
        ? "; if the server uses TLS, connect with --tls"
        : "";
      fail(`lost the connection to ${args.host}:${args.port}: ${message}${hint}`);
    }
  }
}

/** Registers (when asked to) and logs in, or exits with status 1 saying why. */
async function logIn(
  client: ChatClient,
  credentials: { user: string; password?: string },
  args: ClientArgs,
  prompter: Prompter | undefined,
): Promise<void> {
  try {
    const { registered } = await signIn(client, credentials, {
      register: args.register,
      push: args.push,
      prompter,
    });
    if (registered) console.log(`registered ${sanitize(credentials.user)} as a new user`);
  } catch (error) {
    await client.close();
    if (error instanceof SignInError) fail(error.message);
    throw error;
  }
}

/** Asks on the terminal. */
const TERMINAL_PROMPTER: Prompter = {
  secret: askSecret,
  confirm: (question) => Promise.resolve(/^\s*y(es)?\s*$/i.test(prompt(question) ?? "")),
  say: (line) => console.log(line),
};

/** Asks for a line on the terminal, echoed (the terminal's own line editing). */
function askLine(label: string): string {
  const answer = prompt(`${label}:`);
  if (answer === null) fail(`no ${label.toLowerCase()} given`);
  return answer;
}

/** Asks for a line on the terminal without echoing it. */
async function askSecret(label: string): Promise<string> {
  const encoder = new TextEncoder();
  await Deno.stdout.write(encoder.encode(`${label}: `));
  const input = new SecretInput();
  const buffer = new Uint8Array(256);
  let state: SecretState = "more";
  Deno.stdin.setRaw(true);
  try {
    while (state === "more") {
      const n = await Deno.stdin.read(buffer);
      state = n === null ? "eof" : input.push(buffer.subarray(0, n));
    }
  } finally {
    Deno.stdin.setRaw(false);
    await Deno.stdout.write(encoder.encode("\n"));
  }
  if (state === "interrupt") Deno.exit(130);
  if (state === "eof") fail(`no ${label.toLowerCase()} given`);
  return input.value;
}

/** Reads the next line of piped stdin. */
async function nextLine(lines: AsyncIterator<string>, label: string): Promise<string> {
  const next = await lines.next();
  if (next.done) fail(`no ${label} given: stdin ended`);
  return next.value;
}

/** Runs a session on a script: one line after the other, each awaited. */
async function runPiped(
  client: ChatClient,
  lines: AsyncIterable<string>,
  args: ClientArgs & { user: string },
) {
  const terminal = new ChatTerminal(client, (line) => console.log(line), {
    user: args.user,
    color: !Deno.noColor && Deno.stdout.isTerminal(),
    pollMs: args.push ? 0 : POLL_MS,
  });
  terminal.ended.then((reason) => {
    if (reason !== null) Deno.exit(1);
  });
  await terminal.start();
  for await (const line of lines) {
    if (!await terminal.handleLine(line)) break;
  }
  await terminal.quit();
  const lost = terminal.undelivered;
  if (lost > 0) {
    console.error(`claptrap: ${lost} ${lost === 1 ? "line was" : "lines were"} not delivered`);
  }
  Deno.exit((await terminal.ended) === null && lost === 0 ? 0 : 1);
}

/** Runs a session at a keyboard: see {@link runTtySession}. */
async function runInteractive(client: ChatClient, args: ClientArgs & { user: string }) {
  const screen = Deno.stdout.isTerminal();
  const streams = { input: process.stdin, output: process.stdout, screen };
  const code = await runTtySession(streams, (write) =>
    new ChatTerminal(client, write, {
      user: args.user,
      color: !Deno.noColor && screen,
      pollMs: args.push ? 0 : POLL_MS,
    }));
  Deno.exit(code);
}

async function main(argv: string[]): Promise<void> {
  let args: ClientArgs;
  try {
    args = parseClientArgs(argv);
  } catch (error) {
    fail(`${(error as Error).message}\n\n${CLIENT_USAGE}`, 2);
  }
  if (args.help) {
    console.log(CLIENT_USAGE);
    return;
  }
  const tty = Deno.stdin.isTerminal();
  const lines = tty ? null : readLines(Deno.stdin.readable);
  const client = await connect(args);
  await sayHello(client, args);
  const user = args.user ?? (lines ? await nextLine(lines, "user name") : askLine("Username"));
  // at a terminal signIn asks for the password, and again after a wrong one; a script is never asked
  const password = args.password ?? (lines ? await nextLine(lines, "password") : undefined);
  await logIn(client, { user, password }, args, lines ? undefined : TERMINAL_PROMPTER);
  const session = { ...args, user };
  if (!args.push) setInterval(() => client.ping().catch(() => {}), KEEPALIVE_MS);
  if (lines) await runPiped(client, lines, session);
  else await runInteractive(client, session);
}

if (import.meta.main) await main(Deno.args);
