/**
 * The accept loop of every listener. It ends only when its own listener was
 * closed by {@link AcceptLoop.close}: an accept error says something about one
 * connection (reset before it was accepted: `NotConnected`) or about the
 * process (out of descriptors: `EMFILE`), never that the listener is gone, so
 * each is logged (at most once a second per kind) and the loop goes on, after
 * a short pause when descriptors ran out.
 * @module
 */

import { closeQuietly } from "../connection/socket.ts";

/** How long to wait before accepting again when descriptors ran out, in ms. */
export const DESCRIPTOR_BACKOFF_MS = 100;
/** How long to wait after an accept error of an unknown kind, in ms (no busy loop). */
const OTHER_ERROR_BACKOFF_MS = 10;
/** At most one log line per kind of error in this many ms. */
const LOG_INTERVAL_MS = 1_000;

/** Accepts connections until closed, whatever errors accepting meets. */
export class AcceptLoop<C extends Deno.Conn> {
  /** Resolves once the loop has ended (after {@link AcceptLoop.close}). */
  readonly done: Promise<void>;
  readonly #listener: Deno.Listener<C>;
  readonly #name: string;
  readonly #log: (line: string) => void;
  readonly #lastLogged = new Map<string, number>();
  readonly #suppressed = new Map<string, number>();
  #closed = false;
  #wakeBackoff: (() => void) | null = null;

  /**
   * Starts accepting at once.
   * @param serve takes each accepted connection; must not throw
   * @param name the listener's name in log lines, e.g. `tcp` or `http`
   */
  constructor(
    listener: Deno.Listener<C>,
    serve: (conn: C) => void,
    name: string,
    log: (line: string) => void,
  ) {
    this.#listener = listener;
    this.#name = name;
    this.#log = log;
    this.done = this.#run(serve);
  }

  /** Closes the listener and waits for the loop to end. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      try {
        this.#listener.close();
      } catch {
        // closed already
      }
      this.#wakeBackoff?.();
    }
    return this.done;
  }

  async #run(serve: (conn: C) => void): Promise<void> {
    while (!this.#closed) {
      let conn: C;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#closed) return;
        await this.#failed(error);
        continue;
      }
      if (this.#closed) {
        closeQuietly(conn);
        return;
      }
      serve(conn);
    }
  }

  async #failed(error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    this.#logRateLimited(message);
    const pause = isOutOfDescriptors(message)
      ? DESCRIPTOR_BACKOFF_MS
      : isPerConnection(error)
      ? 0
      : OTHER_ERROR_BACKOFF_MS;
    if (pause === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      this.#wakeBackoff = resolve;
      timer = setTimeout(resolve, pause);
    });
    clearTimeout(timer);
    this.#wakeBackoff = null;
  }

  #logRateLimited(message: string): void {
    const now = Date.now();
    const last = this.#lastLogged.get(message);
    if (last !== undefined && now - last < LOG_INTERVAL_MS) {
      this.#suppressed.set(message, (this.#suppressed.get(message) ?? 0) + 1);
      return;
    }
    const suppressed = this.#suppressed.get(message) ?? 0;
    this.#suppressed.delete(message);
    this.#lastLogged.set(message, now);
    this.#log(
      `accept-error listener=${this.#name} error=${JSON.stringify(message)}` +
        (suppressed > 0 ? ` suppressed=${suppressed}` : ""),
    );
  }
}

/** Whether an error is `EMFILE` or `ENFILE`: this process or the system is out of descriptors. */
function isOutOfDescriptors(message: string): boolean {
  return /\(os error 2[34]\)/.test(message);
}

/** Whether an accept error concerns only the connection being accepted. */
function isPerConnection(error: unknown): boolean {
  return error instanceof Deno.errors.NotConnected ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted;
}
