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
import { ChatClient, ChatError } from "./client/chat_client.ts";
import { reconnectDelay } from "./client/reconnector.ts";
import { type ConnectOptions, tcp, TlsError } from "./client/tcp_transport.ts";
import { CLIENT_USAGE, type ClientArgs, parseClientArgs } from "./client/terminal/client_cli.ts";
import { type Prompter, signIn, SignInError } from "./client/terminal/sign_in.ts";
import { Status } from "./protocol/methods.ts";
import { runTtySession } from "./client/terminal/tty_session.ts";
import {
  ChatTerminal,
  readLines,
  sanitize,
  SecretInput,
  type SecretState,
  type TerminalOptions,
} from "./client/terminal/terminal.ts";

/** How often a client logged in with `--no-push` asks for new messages, in ms. */
const POLL_MS = 1_000;
/**
 * How often a client logged in with `--no-push` says PING, in ms. The
 * server pings only push connections (the library answers those) and
 * closes any connection silent for its idle timeout (default 120 s); a
 * polling client is silent whenever it is in no room.
 */
const KEEPALIVE_MS = 30_000;
/**
 * How many times a script's client tries to connect again after losing the
 * connection (about 45 s with reconnectDelay's backoff); at a keyboard it
 * tries until the user quits.
 */
const PIPED_RECONNECT_ATTEMPTS = 8;

function fail(message: string, code = 1): never {
  console.error(`claptrap: ${message}`);
  Deno.exit(code);
}

/** Where --host, --port, --tls and --ca say to connect. */
function tcpOptions(args: ClientArgs, caCerts: string[] | undefined): ConnectOptions {
  return { host: args.host, port: args.port, tls: args.tls, caCerts };
}

async function connect(args: ClientArgs, caCerts: string[] | undefined): Promise<ChatClient> {
  try {
    return await ChatClient.connect(tcp(tcpOptions(args, caCerts)), { v21: true });
  } catch (error) {
    fail(`cannot connect to ${args.host}:${args.port}: ${whyNotConnected(error, args)}`);
  }
}

/**
 * Waits for the answer to the HELLO that a new ChatClient says with the
 * protocol version this client speaks. Throws VERSION_MISMATCH (a server of
 * another major version) and the end of the connection; any other refusal
 * (a server of the original protocol, which knows no HELLO) is no reason to
 * stop.
 */
async function hello(client: ChatClient): Promise<void> {
  try {
    await client.hello();
  } catch (error) {
    if (!(error instanceof ChatError) || error.status === Status.VERSION_MISMATCH) throw error;
  }
}

/** A new connection after the old one was lost: HELLO and LOGIN again (see {@link Reconnection}). */
async function reopen(
  args: ClientArgs,
  caCerts: string[] | undefined,
  credentials: { user: string; password: string },
): Promise<ChatClient> {
  const client = await ChatClient.connect(tcp(tcpOptions(args, caCerts)), { v21: true });
  try {
    await hello(client);
    await client.login(credentials.user, credentials.password, { push: args.push });
    return client;
  } catch (error) {
    await client.close();
    throw error;
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
 * Reads the answer to the HELLO that ChatClient says on connecting (see
 * {@link hello}), or exits with status 1 saying why it cannot go on.
 */
async function sayHello(client: ChatClient, args: ClientArgs): Promise<void> {
  try {
    await hello(client);
  } catch (error) {
    if (error instanceof ChatError) {
      await client.close();
      const told = error.reason ? `: ${sanitize(error.reason)}` : "";
      fail(`the server at ${args.host}:${args.port} speaks another protocol version${told}`);
    }
    const message = (error as Error).message;
    const hint = !args.tls && message.includes("protocol error")
      ? "; if the server uses TLS, connect with --tls"
      : "";
    fail(`lost the connection to ${args.host}:${args.port}: ${message}${hint}`);
  }
}

/**
 * Registers (when asked to) and logs in, or exits with status 1 saying why.
 * @returns the password that logged in.
 */
async function logIn(
  client: ChatClient,
  credentials: { user: string; password?: string },
  args: ClientArgs,
  prompter: Prompter | undefined,
): Promise<string> {
  try {
    const { registered, password } = await signIn(client, credentials, {
      register: args.register,
      push: args.push,
      prompter,
    });
    if (registered) console.log(`registered ${sanitize(credentials.user)} as a new user`);
    return password;
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
async function runPiped(lines: AsyncIterable<string>, options: TerminalOptions) {
  const terminal = new ChatTerminal(current, (line) => console.log(line), options);
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
async function runInteractive(options: TerminalOptions, screen: boolean) {
  const streams = { input: process.stdin, output: process.stdout, screen };
  const code = await runTtySession(streams, (write) => new ChatTerminal(current, write, options));
  Deno.exit(code);
}

/** The connection in use: the first, or the latest made after losing one. */
let current: ChatClient;

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
  const caCerts = args.ca === undefined ? undefined : [await readCa(args.ca)];
  current = await connect(args, caCerts);
  await sayHello(current, args);
  const user = args.user ?? (lines ? await nextLine(lines, "user name") : askLine("Username"));
  // at a terminal signIn asks for the password, and again after a wrong one; a script is never asked
  const given = args.password ?? (lines ? await nextLine(lines, "password") : undefined);
  const password = await logIn(
    current,
    { user, password: given },
    args,
    lines ? undefined : TERMINAL_PROMPTER,
  );
  if (!args.push) setInterval(() => current.ping().catch(() => {}), KEEPALIVE_MS);
  const screen = Deno.stdout.isTerminal();
  const options: TerminalOptions = {
    user,
    color: !Deno.noColor && screen,
    bell: screen && args.bell,
    pollMs: args.push ? 0 : POLL_MS,
    ...args.reconnect
      ? {
        reconnect: {
          open: async () => current = await reopen(args, caCerts, { user, password }),
          // the backoff the web page uses too: 0.5 s doubling to 10 s
          delayMs: reconnectDelay,
          attempts: lines ? PIPED_RECONNECT_ATTEMPTS : Infinity,
        },
      }
      : {},
  };
  if (lines) await runPiped(lines, options);
  else await runInteractive(options, screen);
}

if (import.meta.main) await main(Deno.args);
