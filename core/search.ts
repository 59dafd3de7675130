/**
 * Searching the messages of the rooms, peer chats and direct conversations
 * a user took part in: what a query may be, and how many searches run at
 * once (see `limits/search_slots.ts`). The store does the searching.
 * @module
 */

import type { SearchPage } from "../store/records.ts";
import { searchWords } from "../store/search_query.ts";
import type { ChatStore } from "../store/store.ts";
import { DEFAULT_SEARCH_LIMITS, type SearchLimits, SearchSlots } from "./limits/search_slots.ts";
import { type Outcome, rateLimited } from "./outcome.ts";
import type { Session } from "./session.ts";

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
  readonly #slots: SearchSlots;
  readonly #scanLimit: number;

  constructor(store: ChatStore, limits: SearchLimits = DEFAULT_SEARCH_LIMITS) {
    this.#store = store;
    this.#slots = new SearchSlots(limits);
    this.#scanLimit = limits.scanLimit;
  }

  /**
   * One page of a search of the messages of the rooms, peer chats and
   * direct messages the user took part in, newest first, below `before`
   * (an id; null for the newest). BAD_REQUEST for a query that is empty or
   * too long; RATE_LIMITED when the user has a search under way already or
   * too many searches are waiting (see {@link SearchSlots}).
   */
  search(session: Session, query: string, { limit, before }: SearchPageWanted): SearchAnswer {
    const words = searchWords(query);
    const problem = queryProblem(query, words);
    if (problem) return { status: "BAD_REQUEST", reason: problem };
    const user = session.user!;
    const turn = this.#slots.enter(user);
    if (typeof turn === "string") return rateLimited(SEARCH_RETRY_MS, turn);
    const options = { limit, before, scanLimit: this.#scanLimit };
    return turn.then(() => this.#store.search(user, words, options))
      .finally(() => this.#slots.leave(user))
      .then((page) => ({ status: "OK", page }));
  }
}
