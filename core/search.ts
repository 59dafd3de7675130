/**
 * Searching the messages of the rooms, peer chats and direct conversations
 * a user took part in: what a query may be, and how many searches run at
 * once — each user's, and all users' together, with a bounded queue of
 * searches waiting for a turn. A search looks through up to thousands of
 * messages; without these bounds a few users searching in a loop kept the
 * store busy for everyone. The store does the searching.
 * @module
 */

import type { SearchPage } from "../store/records.ts";
import { searchTerms } from "../protocol/search_text.ts";
import type { ChatStore } from "../store/store.ts";
import { WorkQueue } from "./limits/work_queue.ts";
import { type Outcome, rateLimited } from "./outcome.ts";
import type { Session } from "./session.ts";

/** Bounds of searching. */
export interface SearchLimits {
  /** Searches one user may have under way (running or waiting) at once. */
  perUser: number;
  /** Searches given to the store at once, server-wide. */
  running: number;
  /** Searches that may wait for a turn beyond those; more are refused. */
  waiting: number;
  /** Most messages one page of results looks through (see `SearchOptions.scanLimit`). */
  scanLimit: number;
}

/** The bounds unless told otherwise. */
export const DEFAULT_SEARCH_LIMITS: SearchLimits = {
  perUser: 1,
  running: 4,
  waiting: 64,
  scanLimit: 10_000,
};

/**
 * What RATE_LIMITED says to retry after when a search may not wait for its
 * turn: about what a few searches take.
 */
export const SEARCH_RETRY_MS = 500;

/**
 * The longest query, in characters and in words: a long query over
 * repetitive text kept the store busy for seconds (found by fuzzing).
 */
export const SEARCH_QUERY_LIMITS = { chars: 256, words: 16 } as const;

/** The outcome of a search: with OK, a page of results. */
export type SearchOutcome = Outcome & { page?: SearchPage };

/** Why a search may not even wait for its turn. */
const SEARCHES_BUSY = "the server is busy with other searches; try again shortly";

/** Which page of results a search asks for. */
export interface SearchPageWanted {
  /** Most results. */
  limit: number;
  /** Only messages with smaller ids (the `next` of the page before); null for the newest. */
  before: number | null;
}

/** A search's outcome, now or once the store has answered. */
export type SearchAnswer = SearchOutcome | Promise<SearchOutcome>;

/** Why a query of these words is refused, or null. */
function queryProblem(query: string, words: readonly string[]): string | null {
  if (words.length === 0) return "empty query";
  if (query.length > SEARCH_QUERY_LIMITS.chars && [...query].length > SEARCH_QUERY_LIMITS.chars) {
    return `query is longer than ${SEARCH_QUERY_LIMITS.chars} characters`;
  }
  if (words.length > SEARCH_QUERY_LIMITS.words) {
    return `query has more than ${SEARCH_QUERY_LIMITS.words} words`;
  }
  return null;
}

/** Searches, a bounded number at a time. */
export class Search {
  readonly #store: ChatStore;
  readonly #limits: SearchLimits;
  readonly #queue: WorkQueue;

  constructor(store: ChatStore, limits: SearchLimits = DEFAULT_SEARCH_LIMITS) {
    this.#store = store;
    this.#limits = limits;
    this.#queue = new WorkQueue(limits);
  }

  /**
   * One page of a search of the messages of the rooms, peer chats and
   * direct messages the user took part in, newest first, below `before`
   * (an id; null for the newest). BAD_REQUEST for a query that is empty or
   * too long; RATE_LIMITED when the user has a search under way already or
   * too many searches are waiting (see {@link SearchLimits}).
   */
  search(session: Session, query: string, { limit, before }: SearchPageWanted): SearchAnswer {
    const words = searchTerms(query);
    const problem = queryProblem(query, words);
    if (problem) return { status: "BAD_REQUEST", reason: problem };
    const user = session.user!;
    const mine = this.#queue.jobsOf(user);
    if (mine >= this.#limits.perUser) {
      return rateLimited(
        SEARCH_RETRY_MS,
        mine === 1
          ? "you have a search under way; wait for its answer"
          : `you have ${mine} searches under way; wait for their answers`,
      );
    }
    if (this.#queue.full) return rateLimited(SEARCH_RETRY_MS, SEARCHES_BUSY);
    const options = { limit, before, scanLimit: this.#limits.scanLimit };
    return this.#queue.run(() => this.#store.search(user, words, options), { key: user })
      .then((page) => page ? { status: "OK", page } : rateLimited(SEARCH_RETRY_MS, SEARCHES_BUSY));
  }
}
