/**
 * Accounts: registering, and checking a login's password. Passwords are
 * hashed and checked in a bounded queue (scrypt keeps a core busy), those
 * from quiet addresses first; unknown names are checked against decoys, so
 * that a failure takes as long whether the account exists or not; failures
 * slow down further attempts (see `limits/flood_control.ts`). Coming online
 * once the password is right is presence's business (`presence.ts`).
 * @module
 */

import { nameFormProblem, nameKey, nameProblem } from "../protocol/names.ts";
import type { ChatStore } from "../store/store.ts";
import { Decoys } from "./decoys.ts";
import { type FloodControl, LOGIN_HELD } from "./limits/flood_control.ts";
import type { LoginEnd, SharedLimits } from "./limits/shared_limits.ts";
import { WAITING_PER_RUNNING, WorkQueue } from "./limits/work_queue.ts";
import { BUSY_RETRY_MS, type Outcome, rateLimited } from "./outcome.ts";
import type { PasswordScheme } from "./passwords.ts";
import type { Session } from "./session.ts";
import { MAX_TOKEN_LENGTH, TOKEN_IDLE_MS, tokenHash } from "./tokens.ts";

/** Shortest password REGISTER accepts, in characters. */
export const MIN_PASSWORD_LENGTH = 8;
/** Longest password accepted, in characters. */
export const MAX_PASSWORD_LENGTH = 1024;

/** The reason of a LOGIN or REGISTER refused because too many passwords wait to be checked. */
const PASSWORDS_BUSY = "the server is busy checking passwords; try again";

/** The reason of a LOGIN refused while logins of its address are checked on other servers. */
const LOGINS_ELSEWHERE = "logins from this address are being checked; try again";

/** Returns why a password is too weak for REGISTER, or null. */
export function passwordProblem(password: string, user: string): string | null {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) {
    return `password is shorter than ${MIN_PASSWORD_LENGTH} characters`;
  }
  if (length > MAX_PASSWORD_LENGTH) {
    return `password is longer than ${MAX_PASSWORD_LENGTH} characters`;
  }
  if ([...user].length >= 3 && password.toLowerCase().includes(user.toLowerCase())) {
    return "password contains the user name";
  }
  if (new Set(password).size < 3) return "password has fewer than 3 different characters";
  if (/\p{Cc}/u.test(password)) return "password contains a control character";
  return null;
}

/** A user name for a log line: quoted, or a placeholder when it is no valid name. */
function loggedName(user: string): string {
  return nameProblem(user) ? '"(invalid name)"' : JSON.stringify(user);
}

/** Settings of {@link Accounts}. */
export interface AccountsOptions {
  store: ChatStore;
  /** How passwords are hashed and checked. */
  passwords: PasswordScheme;
  /** scrypt cost N of new password hashes. */
  scryptCost: number;
  /** Password checks and hashes under way at once; 64 times as many may wait. */
  scryptConcurrency: number;
  /** How many accounts have a password hash of each scrypt cost (for the decoys). */
  passwordCosts: ReadonlyMap<number, number>;
  /** The server's flood control, which throttles failed logins and registrations. */
  flood: FloodControl;
  /** The limits held with the other servers of a cluster, asked after `flood`; null alone. */
  shared: SharedLimits | null;
  now: () => number;
  log: (line: string) => void;
}

/** Registering and checking passwords. */
export class Accounts {
  readonly #options: AccountsOptions;
  readonly #flood: FloodControl;
  readonly #shared: SharedLimits | null;
  readonly #work: WorkQueue;
  readonly #decoys: Decoys;
  /** Per address, logins waiting for one under way to end. */
  readonly #loginWaiters = new Map<string, (() => void)[]>();

  constructor(options: AccountsOptions) {
    this.#options = options;
    this.#flood = options.flood;
    this.#shared = options.shared;
    const running = options.scryptConcurrency;
    this.#work = new WorkQueue({ running, waiting: running * WAITING_PER_RUNNING });
    this.#decoys = new Decoys(options.passwordCosts, options.scryptCost);
  }

  /**
   * Creates an account (the name is NFC-normalised first). Refused
   * registrations slow down further ones from the same address; accounts
   * created are limited per address and in all.
   */
  async register(session: Session, username: string, password: string): Promise<Outcome> {
    const { now, log } = this.#options;
    const shared = this.#shared;
    let wait = this.#flood.registerWait(session.ip, now());
    if (wait === 0 && shared) wait = await shared.addressWait(session.ip, now());
    if (wait > 0) return rateLimited(wait, "too many refused registrations from this address");
    const outcome = await this.#createAccount(session.ip, username, password);
    if (outcome.status !== "OK") {
      if (outcome.status !== "RATE_LIMITED") {
        this.#flood.registerFailed(session.ip, now());
        if (shared) await shared.addressFailed(session.ip, now());
      }
      log(
        `register-refused session=${session.id} addr=${session.sink.address} status=${outcome.status}`,
      );
    }
    return outcome;
  }

  async #createAccount(ip: string, username: string, password: string): Promise<Outcome> {
    const { now, store } = this.#options;
    const user = username.normalize("NFC");
    const problem = nameProblem(user);
    if (problem) return { status: "INVALID_NAME", reason: problem };
    const weakness = passwordProblem(password, user);
    if (weakness) return { status: "WEAK_PASSWORD", reason: weakness };
    const { wait, perAddress } = await this.#registrationWait(ip);
    if (wait > 0) {
      return rateLimited(
        wait,
        `too many new accounts ${perAddress ? "from this address" : "on this server"}; try later`,
      );
    }
    const passwordHash = await this.#work.run(
      () => this.#options.passwords.hash(password, this.#options.scryptCost),
      { urgent: this.#flood.isQuiet(ip, now()) },
    );
    if (passwordHash === null) {
      await this.#registrationRefused(ip);
      return rateLimited(BUSY_RETRY_MS, PASSWORDS_BUSY);
    }
    const created = await store.createAccount({
      name: user,
      passwordHash,
      source: "registered",
      disabled: false,
      createdAt: now(),
    });
    if (!created) {
      await this.#registrationRefused(ip);
      return { status: "NAME_TAKEN" };
    }
    this.#options.log(`registered user=${JSON.stringify(user)}`);
    return { status: "OK" };
  }

  /** Spends the registration tokens of `ip` here and, in a cluster, the shared ones. */
  async #registrationWait(ip: string): Promise<{ wait: number; perAddress: boolean }> {
    const { now } = this.#options;
    const local = this.#flood.registrationWait(ip, now());
    if (local.wait > 0 || !this.#shared) return local;
    const shared = await this.#shared.registrationWait(ip, now());
    if (shared.wait > 0) this.#flood.registrationRefused(ip, now());
    return shared;
  }

  /** Gives back the tokens {@link #registrationWait} spent. */
  async #registrationRefused(ip: string): Promise<void> {
    this.#flood.registrationRefused(ip, this.#options.now());
    await this.#shared?.registrationRefused(ip, this.#options.now());
  }

  /**
   * Checks a login's password (the user name is NFC-normalised first):
   * the user name when it is right, else the outcome refusing the login.
   * Unknown users cost as much time as wrong passwords, so the answer does
   * not tell which. Passwords wait their turn to be checked, those from
   * quiet addresses first.
   */
  authenticate(session: Session, username: string, password: string): Promise<string | Outcome> {
    return this.#check(
      session,
      username,
      (user, urgent) => this.#passwordMatches(user, password, urgent),
    );
  }

  /**
   * Checks a login with a sign-in token instead of a password (protocol
   * 2.1), as {@link Accounts.authenticate} checks a password: the token
   * must be the user's, unused for less than {@link TOKEN_IDLE_MS}, and a
   * wrong one counts as a failed login. Its last use becomes now.
   */
  authenticateToken(session: Session, username: string, token: string): Promise<string | Outcome> {
    return this.#check(session, username, async (user) => {
      if (token.length > MAX_TOKEN_LENGTH || nameFormProblem(user) !== null) return false;
      const { store, now } = this.#options;
      const owner = await store.useToken(tokenHash(token), now(), TOKEN_IDLE_MS);
      if (owner !== user) return false;
      const account = await store.getAccount(user);
      return account !== null && !account.disabled;
    });
  }

  /**
   * Changes the password of the session's user, once `old` is checked as a
   * login's password is, and drops every token of theirs. Accounts from
   * globals.txt change there.
   */
  async changePassword(session: Session, old: string, password: string): Promise<Outcome> {
    const user = session.user!;
    const checked = await this.authenticate(session, user, old);
    if (typeof checked !== "string") return checked;
    const weakness = passwordProblem(password, user);
    if (weakness) return { status: "WEAK_PASSWORD", reason: weakness };
    const { store, passwords, scryptCost, now, log } = this.#options;
    const account = await store.getAccount(user);
    if (account?.source !== "registered") {
      return { status: "NOT_ALLOWED", reason: "this account's password is set in globals.txt" };
    }
    const passwordHash = await this.#work.run(
      () => passwords.hash(password, scryptCost),
      { urgent: this.#flood.isQuiet(session.ip, now()) },
    );
    if (passwordHash === null) return rateLimited(BUSY_RETRY_MS, PASSWORDS_BUSY);
    await store.changePassword(user, passwordHash);
    log(`password-changed user=${JSON.stringify(user)}`);
    return { status: "OK" };
  }

  /** A login's check of a secret, `matches`, within the throttle of failed logins. */
  async #check(
    session: Session,
    username: string,
    matches: (user: string, urgent: boolean) => Promise<boolean | null>,
  ): Promise<string | Outcome> {
    const { now, log } = this.#options;
    const user = username.normalize("NFC");
    // an absurd name is no account: it must not become a megabyte-long key either
    const key = nameFormProblem(user) ? "(invalid name)" : nameKey(user);
    const ip = session.ip;
    let urgent = this.#flood.isQuiet(ip, now());
    let wait;
    while ((wait = this.#flood.beginLogin(key, ip, now())) === LOGIN_HELD) {
      await this.#loginEnded(ip);
      urgent = false;
    }
    if (wait === 0 && this.#shared) wait = await this.#sharedBegin(key, ip);
    if (wait !== 0) {
      log(`login-throttled session=${session.id} addr=${session.sink.address}`);
      if (wait === LOGIN_HELD) return rateLimited(BUSY_RETRY_MS, LOGINS_ELSEWHERE);
      return rateLimited(wait, "too many failed logins; wait before trying again");
    }
    let matched: boolean | null = null;
    let ended: Promise<void> | undefined;
    try {
      matched = await matches(user, urgent);
    } finally {
      const end: LoginEnd = matched === null ? "abandoned" : matched ? "succeeded" : "failed";
      if (end === "abandoned") this.#flood.loginAbandoned(key, ip);
      else if (end === "succeeded") this.#flood.loginSucceeded(key, ip);
      else this.#flood.loginFailed(ip, now());
      ended = this.#shared?.loginEnded(key, ip, end, now());
      this.#wakeLogins(ip);
    }
    if (matched === null) return rateLimited(BUSY_RETRY_MS, PASSWORDS_BUSY);
    if (!matched) {
      // counted on every server before the client hears of it
      if (ended) await ended;
      const failures = this.#flood.loginFailures(key, now());
      log(
        `login-failed session=${session.id} addr=${session.sink.address} user=${
          loggedName(user)
        } failures=${failures}`,
      );
      return { status: "AUTH_FAILED" };
    }
    return user;
  }

  /**
   * Begins a login attempt that this server let go ahead in the cluster's
   * counts too (see {@link SharedLimits.beginLogin}): 0, or the wait; when
   * it may not go ahead, it ends here as never made.
   */
  async #sharedBegin(key: string, ip: string): Promise<number> {
    let wait: number | undefined;
    try {
      wait = await this.#shared!.beginLogin(key, ip, this.#options.now());
      return wait;
    } finally {
      if (wait !== 0) {
        this.#flood.loginAbandoned(key, ip);
        this.#wakeLogins(ip);
      }
    }
  }

  /** Resolves when a login attempt from `ip` has ended. */
  #loginEnded(ip: string): Promise<void> {
    return new Promise((resolve) => {
      const waiting = this.#loginWaiters.get(ip);
      if (waiting) waiting.push(resolve);
      else this.#loginWaiters.set(ip, [resolve]);
    });
  }

  #wakeLogins(ip: string): void {
    const waiting = this.#loginWaiters.get(ip);
    if (!waiting) return;
    this.#loginWaiters.delete(ip);
    for (const wake of waiting) wake();
  }

  /**
   * Whether `password` is the one of an enabled account `user`, or null
   * when the server was too busy to check it; as slow for unknown users and
   * absurd input as for wrong passwords.
   */
  async #passwordMatches(user: string, password: string, urgent: boolean): Promise<boolean | null> {
    // accounts stored before the rules on invisible characters may break them, and still log in
    const plausible = nameFormProblem(user) === null &&
      password.length <= MAX_PASSWORD_LENGTH * 2;
    const account = plausible ? await this.#options.store.getAccount(user) : null;
    const hash = account?.passwordHash ?? this.#decoys.for(plausible ? user : "");
    const matches = await this.#work.run(
      () => this.#options.passwords.verify(plausible ? password : "", hash),
      { urgent },
    );
    if (matches === null) return null;
    return account !== null && !account.disabled && matches;
  }
}
