/**
 * How an original-dialect session's original requests are answered: the
 * dispatcher's answer, held back and tried again while it is RATE_LIMITED
 * (fake lag, as IRC servers slow a flooder down instead of refusing it),
 * then sent with a status the original client knows, in the original
 * server's bytes (`protocol/original.ts`). No I/O.
 * @module
 */

import type { Message } from "../../../protocol/message.ts";
import { Status } from "../../../protocol/methods.ts";
import {
  encodeOriginalMessage,
  originalAnswer,
  type OriginalRequest,
} from "../../../protocol/original.ts";
import type { Reply } from "./dispatcher.ts";
import { StoreRead } from "../../connection/request_queue.ts";

/**
 * How long one request of an original session may be held back in all, in
 * milliseconds, and how many times it is tried. Beyond either, the
 * RATE_LIMITED answer goes out as the request's failure status at once.
 */
export const ORIGINAL_LAG_LIMITS = { totalMs: 10_000, attempts: 5 } as const;

/** How to answer one request, and when to stop waiting for it. */
export interface OriginalAnswerOptions {
  /** Answers the request once; called again after each lag. */
  answer: () => Reply;
  /** Aborted when the connection closes: a lag ends and the request is not tried again. */
  signal: AbortSignal;
}

/**
 * Answers one of the original requests in the original dialect. A
 * RATE_LIMITED answer with `Retry-After-Ms` is not sent: the request is
 * tried again after that wait, within {@link ORIGINAL_LAG_LIMITS} (a
 * RATE_LIMITED request had no effect, so trying it again is safe). The
 * final answer's status is mapped with `originalAnswer`.
 */
export function answerOriginal(
  request: OriginalRequest,
  options: OriginalAnswerOptions,
): Uint8Array | Promise<Uint8Array> {
  return attempt(request, options, 0, 1);
}

function attempt(
  request: OriginalRequest,
  options: OriginalAnswerOptions,
  lagged: number,
  tries: number,
): Uint8Array | Promise<Uint8Array> {
  const reply = options.answer();
  // no original request is a large store read; were one, its turn would be now (all are barriers)
  const response = reply instanceof StoreRead ? reply.start() : reply;
  const settle = (response: Message): Uint8Array | Promise<Uint8Array> => {
    const wait = lagBefore(response, lagged, tries);
    if (wait === null) return encode(request, response);
    return lag(wait, options.signal).then(() =>
      options.signal.aborted
        ? encode(request, response)
        : attempt(request, options, lagged + wait, tries + 1)
    );
  };
  return response instanceof Promise ? response.then(settle) : settle(response);
}

/** How long to hold a RATE_LIMITED answer back before trying again, or null to send it. */
function lagBefore(response: Message, lagged: number, tries: number): number | null {
  if (response.params.Status !== Status.RATE_LIMITED) return null;
  const text = response.params["Retry-After-Ms"];
  if (text === undefined || !/^\d{1,9}$/.test(text)) return null;
  const wait = Number(text);
  if (tries >= ORIGINAL_LAG_LIMITS.attempts || lagged + wait > ORIGINAL_LAG_LIMITS.totalMs) {
    return null;
  }
  return wait;
}

function encode(request: OriginalRequest, response: Message): Uint8Array {
  const { method, status } = originalAnswer(request, response.params.Status);
  return encodeOriginalMessage(method, status, status === Status.OK ? response.content : undefined);
}

/** Resolves after `ms`, or at once when `signal` is aborted. */
function lag(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}
