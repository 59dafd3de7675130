/**
 * Questions this server puts to the others of a cluster about a user
 * online on one of them (PEER_CONNECT to a user there, PEER_ACCEPT and
 * PEER_DECLINE of a request of a user there), and their answers.
 * A question goes to every server over the bus; the one holding the user
 * answers. Each is answered, or given up after a time limit with a
 * stand-in answer: a request never waits on a server that is gone. No I/O
 * but through the bus.
 * @module
 */

import type { ChatStatus } from "./outcome.ts";

/** A question for the server of a user. */
export type PeerQuestion =
  /** PEER_CONNECT of `from`, online here, to `peer`, online on the server asked. */
  | { readonly kind: "connect"; readonly from: string; readonly peer: string }
  /**
   * PEER_ACCEPT or PEER_DECLINE of `by`, online here, of the request of
   * `requester`, online on the server asked, to join the peer chat `room`.
   */
  | {
    readonly kind: "answer";
    readonly by: string;
    readonly requester: string;
    readonly room: string;
    readonly answer: "accepted" | "declined";
  };

/** The answer of the server of a user to a {@link PeerQuestion}. */
export interface PeerAnswer {
  readonly status: ChatStatus;
  readonly reason?: string;
  /**
   * With OK to a connect: the peer chat the asker is to come into; with
   * INVITED: the one it asks to join.
   */
  readonly room?: string;
  /** With it: the users in that peer chat. */
  readonly members?: readonly string[];
}

/** How long a server waits for another to answer, unless told otherwise: 5 s. */
export const DEFAULT_CLUSTER_ANSWER_MS = 5_000;

/** Most questions given up on that are remembered, for their answers that come late. */
const GIVEN_UP = 1000;

/** The questions waiting for an answer from another server. */
export class ClusterAsks {
  readonly #send: (id: string, question: PeerQuestion) => void;
  readonly #late: (question: PeerQuestion, answer: PeerAnswer) => void;
  readonly #timeoutMs: number;
  readonly #waiting = new Map<string, (answer: PeerAnswer) => void>();
  /** The latest questions given up on, by id. */
  readonly #givenUp = new Map<string, PeerQuestion>();

  /**
   * `send` puts a question to the other servers; answers come to
   * {@link ClusterAsks.answered}, and those to questions given up on go to
   * `late` (to undo what the other server did).
   */
  constructor(
    send: (id: string, question: PeerQuestion) => void,
    late: (question: PeerQuestion, answer: PeerAnswer) => void,
    timeoutMs: number,
  ) {
    this.#send = send;
    this.#late = late;
    this.#timeoutMs = timeoutMs;
  }

  /** Puts `question` to the other servers; resolves with `unanswered` when none answers in time. */
  ask(question: PeerQuestion, unanswered: PeerAnswer): Promise<PeerAnswer> {
    const id = crypto.randomUUID();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        settle(unanswered);
        this.#givenUp.set(id, question);
        if (this.#givenUp.size > GIVEN_UP) this.#givenUp.delete(this.#givenUp.keys().next().value!);
      }, this.#timeoutMs);
      const settle = (answer: PeerAnswer) => {
        clearTimeout(timer);
        this.#waiting.delete(id);
        resolve(answer);
      };
      this.#waiting.set(id, settle);
      this.#send(id, question);
    });
  }

  /** The answer to the question `id`, from another server (nothing when it is not ours). */
  answered(id: string, answer: PeerAnswer): void {
    const waiting = this.#waiting.get(id);
    if (waiting) return waiting(answer);
    const question = this.#givenUp.get(id);
    if (question === undefined) return;
    this.#givenUp.delete(id);
    this.#late(question, answer);
  }
}
