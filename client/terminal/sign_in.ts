/**
 * Getting the terminal client logged in: LOGIN, or REGISTER then LOGIN,
 * and on a terminal the offer to register a user name that failed to log
 * in. The questions go through a {@link Prompter}, so that the entry point
 * asks on the TTY and the tests answer from a script.
 * @module
 */

import { Status } from "../../protocol/methods.ts";
import { type ChatClient, ChatError } from "../chat_client.ts";

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
   * When given (the user is at a terminal), the client asks for what is
   * missing, asks again after a wrong or refused password, and offers to
   * register a name that failed to log in. Without it the client never
   * asks, so that scripts behave the same every time.
   */
  prompter?: Prompter;
}

/** How many passwords one sign-in at a terminal may try, to log in or to register. */
export const PASSWORD_TRIES = 3;

/** The password rules of REGISTER, told before a new password is asked for. */
export const PASSWORD_RULES = "A password needs 8 to 1024 characters, at least 3 different " +
  "ones, no control characters, and must not contain the user name.";

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
 *
 * A refused login does not tell whether the name exists (the server answers
 * AUTH_FAILED either way, so that strangers cannot probe for names). At a
 * terminal the client therefore says "wrong password, or no such user",
 * asks once whether the name is a new one to register, and otherwise asks
 * for the password again, {@link PASSWORD_TRIES} times in all. A
 * registration refused with NAME_TAKEN means the name exists: the password
 * was wrong, and it is asked again.
 *
 * @param credentials the password may be left out when a prompter can ask for it
 * @returns whether a new account was registered, and the password that logged in.
 * @throws {SignInError} when registering or logging in fails for good.
 */
export async function signIn(
  client: ChatClient,
  credentials: { user: string; password?: string },
  options: SignInOptions = {},
): Promise<{ registered: boolean; password: string }> {
  const { user } = credentials;
  const push = options.push ?? true;
  const prompter = options.prompter;
  if (options.register) {
    const password = await register(client, user, credentials.password, prompter);
    if (password === null) {
      throw new SignInError(
        `cannot register ${JSON.stringify(user)}: ${Status.NAME_TAKEN} (the name, or one too ` +
          "like it, is in use)",
      );
    }
    await logIn(client, user, password, push);
    return { registered: true, password };
  }
  let password = credentials.password ?? await ask(prompter, "Password");
  let offered = false;
  for (let tries = 1;; tries++) {
    try {
      await client.login(user, password, { push });
      return { registered: false, password };
    } catch (error) {
      const wrong = error instanceof ChatError && error.status === Status.AUTH_FAILED;
      if (!wrong || !prompter) throw loginFailed(user, error);
      if (tries === PASSWORD_TRIES) throw loginFailed(user, error, `${tries} times`);
      prompter.say(`Wrong password, or no user named ${JSON.stringify(user)}.`);
      if (!offered) {
        offered = true;
        const question = `Is ${JSON.stringify(user)} a new user you want to register? [y/N]`;
        if (await prompter.confirm(question)) {
          const registered = await register(client, user, undefined, prompter);
          if (registered !== null) {
            await logIn(client, user, registered, push);
            return { registered: true, password: registered };
          }
          prompter.say(
            `${JSON.stringify(user)} is an existing user's name, so the password was wrong.`,
          );
        }
      }
      password = await prompter.secret(`Password (try ${tries + 1} of ${PASSWORD_TRIES})`);
    }
  }
}

/** Asks for a secret, or fails when there is nobody to ask. */
function ask(prompter: Prompter | undefined, label: string): Promise<string> {
  if (!prompter) throw new SignInError(`no ${label.toLowerCase()} given`);
  return prompter.secret(label);
}

/**
 * Registers `user` with the password given or, with a prompter, with a new
 * one asked for after the rules are told; a password refused as weak is
 * asked again ({@link PASSWORD_TRIES} in all).
 * @returns the password registered, or null when the name is taken.
 */
async function register(
  client: ChatClient,
  user: string,
  given: string | undefined,
  prompter: Prompter | undefined,
): Promise<string | null> {
  const refused = (why: string) =>
    new SignInError(`cannot register ${JSON.stringify(user)}: ${why}`);
  if (given === undefined && !prompter) throw refused("no password given");
  if (given === undefined) prompter!.say(PASSWORD_RULES);
  let password = given ?? await askNewPassword(prompter!);
  for (let tries = 1;; tries++) {
    try {
      await client.register(user, password);
      return password;
    } catch (error) {
      if (error instanceof ChatError && error.status === Status.NAME_TAKEN) return null;
      const weak = error instanceof ChatError && error.status === Status.WEAK_PASSWORD;
      if (!weak || !prompter || tries === PASSWORD_TRIES) throw refused(describe(error));
      prompter.say(`That password is refused: ${error.reason ?? "too weak"}. ${PASSWORD_RULES}`);
      password = await askNewPassword(prompter);
    }
  }
}

async function logIn(client: ChatClient, user: string, password: string, push: boolean) {
  try {
    await client.login(user, password, { push });
  } catch (error) {
    throw loginFailed(user, error);
  }
}

function loginFailed(user: string, error: unknown, times = ""): SignInError {
  const after = times === "" ? "" : ` ${times}`;
  return new SignInError(`login as ${JSON.stringify(user)} failed${after}: ${describe(error)}`);
}

/** `STATUS (reason)` of a refused request, or the error's message. */
function describe(error: unknown): string {
  if (!(error instanceof ChatError)) return (error as Error).message;
  return error.status + (error.reason ? ` (${error.reason})` : "");
}
