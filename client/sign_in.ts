/**
 * Getting the terminal client logged in: LOGIN, or REGISTER then LOGIN,
 * and on a terminal the offer to register a user name that failed to log
 * in. The questions go through a {@link Prompter}, so that the entry point
 * asks on the TTY and the tests answer from a script.
 * @module
 */

import { Status } from "../protocol/methods.ts";
import { type ChatClient, ChatError } from "./chat_client.ts";

/** How the user is asked things during sign-in. */
export interface Prompter {
  /** Asks for a line without echoing it. */
  secret(label: string): Promise<string>;
  /** Asks a yes/no question; true for yes. */
  confirm(question: string): Promise<boolean>;
  /** Tells the user something (a mismatch of the repeated password). */
  say(line: string): void;
}

/** Sign-in failed; the message is fit for the user. */
export class SignInError extends Error {
  /** Always `SignInError`. */
  override name = "SignInError";
}

/** Settings of {@link signIn}. */
export interface SignInOptions {
  /** Register the user first. Default false. */
  register?: boolean;
  /** Log in with push delivery. Default true. */
  push?: boolean;
  /**
   * When given (the user is at a terminal), a login refused with
   * AUTH_FAILED leads to the offer to register the name. Without it the
   * client never asks, so that scripts behave the same every time.
   */
  prompter?: Prompter;
}

/**
 * Asks for a new password twice (without echo) until both agree.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { askNewPassword } from "./sign_in.ts";
 * const answers = ["one", "two", "secret", "secret"];
 * const said: string[] = [];
 * const password = await askNewPassword({
 *   secret: () => Promise.resolve(answers.shift()!),
 *   confirm: () => Promise.resolve(false),
 *   say: (line) => said.push(line),
 * });
 * assert.ok(password === "secret" && said.length === 1);
 * ```
 */
export async function askNewPassword(prompter: Prompter): Promise<string> {
  while (true) {
    const password = await prompter.secret("New password");
    if (await prompter.secret("Repeat the password") === password) return password;
    prompter.say("The passwords do not match; try again.");
  }
}

/**
 * Logs the client in as `user`, registering the name first when asked to,
 * or, with a prompter, when the login is refused and the user agrees.
 * @returns whether a new account was registered.
 * @throws {SignInError} when registering or logging in fails.
 */
export async function signIn(
  client: ChatClient,
  credentials: { user: string; password: string },
  options: SignInOptions = {},
): Promise<{ registered: boolean }> {
  const { user, password } = credentials;
  const push = options.push ?? true;
  if (options.register) {
    await register(client, user, password);
    await logIn(client, user, password, push);
    return { registered: true };
  }
  try {
    await client.login(user, password, { push });
    return { registered: false };
  } catch (error) {
    const prompter = options.prompter;
    if (!(error instanceof ChatError && error.status === Status.AUTH_FAILED && prompter)) {
      throw new SignInError(`login as ${JSON.stringify(user)} failed: ${describe(error)}`);
    }
    const question = `No such user or wrong password. Register ${
      JSON.stringify(user)
    } as a new user? [y/N]`;
    if (!await prompter.confirm(question)) {
      throw new SignInError(`login as ${JSON.stringify(user)} failed: ${describe(error)}`);
    }
    const newPassword = await askNewPassword(prompter);
    await register(client, user, newPassword);
    await logIn(client, user, newPassword, push);
    return { registered: true };
  }
}

async function register(client: ChatClient, user: string, password: string): Promise<void> {
  try {
    await client.register(user, password);
  } catch (error) {
    throw new SignInError(`cannot register ${JSON.stringify(user)}: ${describe(error)}`);
  }
}

async function logIn(client: ChatClient, user: string, password: string, push: boolean) {
  try {
    await client.login(user, password, { push });
  } catch (error) {
    throw new SignInError(`login as ${JSON.stringify(user)} failed: ${describe(error)}`);
  }
}

/** `STATUS (reason)` of a refused request, or the error's message. */
function describe(error: unknown): string {
  if (!(error instanceof ChatError)) return (error as Error).message;
  const reason = error.reason ??
    (error.status === Status.NAME_TAKEN ? "the name, or one too like it, is in use" : undefined);
  return error.status + (reason ? ` (${reason})` : "");
}
