/**
 * The search box and the dialog of its results: pages of matches with the
 * words found marked, each opening its conversation at the message, and a
 * way to search older messages while the server has not looked through
 * them all.
 * @module
 */

import { ChatError, type SearchResult, type SearchResultPage } from "../../client/chat_client.ts";
import { splitSnippet } from "../../protocol/search_text.ts";
import { directPartner } from "./conversation.ts";
import { byId, h } from "./dom.ts";
import { clockTime, colourIndex, dayLabel, fullTime } from "./format.ts";
import { describe } from "./refusal_text.ts";

/** What the search dialog needs of the page. */
export interface SearchHost {
  /**
   * One page of results: the newest matches, or those below `before`; the
   * server's refusal; or null when not connected.
   */
  search(query: string, before?: number): Promise<SearchResultPage | ChatError | null>;
  /** The public rooms' names: a result elsewhere is a direct message (or in a peer chat). */
  publicRooms(): ReadonlySet<string>;
  /** The signed-in user's name. */
  me(): string;
  /** Opens a public room, or the direct conversation with `partner`, at message `id`. */
  open(at: { room: string } | { partner: string }, id: number): void;
}

/** The search box and its results. */
export class SearchDialog {
  readonly #host: SearchHost;
  readonly #el = {
    form: byId<HTMLFormElement>("search-form"),
    input: byId<HTMLInputElement>("search-input"),
    dialog: byId<HTMLDialogElement>("search-dialog"),
    title: byId("search-title"),
    results: byId<HTMLOListElement>("search-results"),
    close: byId<HTMLButtonElement>("search-close"),
  };
  /** Searches begun: a page of an earlier search than the latest is left out. */
  #searches = 0;

  /** Wires the search box and the dialog up. */
  constructor(host: SearchHost) {
    this.#host = host;
    const el = this.#el;
    el.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#search();
    });
    el.close.addEventListener("click", () => el.dialog.close());
  }

  #search(): void {
    const el = this.#el;
    const query = el.input.value.trim();
    if (!query) return;
    el.title.textContent = `Results for “${query}”`;
    el.results.replaceChildren(status("Searching…"));
    if (!el.dialog.open) el.dialog.showModal();
    this.#showPage(query, ++this.#searches);
  }

  /**
   * Adds a page of a search's results: the newest matches, or those below
   * `before`. The server looks through so many messages per page, so a
   * page that found nothing need not be the last: the reader may search on.
   */
  async #showPage(query: string, search: number, before?: number): Promise<void> {
    const found = await this.#host.search(query, before);
    if (search !== this.#searches) return; // another search began meanwhile
    const list = this.#el.results;
    list.querySelector(".search-status")?.remove();
    if (found === null || found instanceof ChatError) {
      list.append(status(found === null ? "Not connected." : describe(found)));
      return;
    }
    const rooms = this.#host.publicRooms();
    list.append(...found.results.map((hit) => this.#result(hit, query, rooms)));
    const next = found.next;
    const newest = before === undefined;
    if (next === null) {
      if (found.results.length === 0) {
        list.append(status(newest ? "Nothing found." : "No older matches."));
      }
      return;
    }
    const searchOn = h("button", { type: "button", class: "link-button" }, "Search older messages");
    searchOn.addEventListener("click", () => {
      searchOn.replaceWith("Searching…");
      this.#showPage(query, search, next);
    });
    const nothing = found.results.length > 0
      ? null
      : `No matches among the ${newest ? "newest" : "older"} messages searched. `;
    list.append(status(nothing, searchOn));
  }

  /** One result: who wrote it where and when, the snippet, and a way to open it there. */
  #result(hit: SearchResult, query: string, publicRooms: ReadonlySet<string>): HTMLElement {
    const { id, room, from, time, snippet } = hit;
    const inRoom = publicRooms.has(room);
    const partner = inRoom ? null : directPartner(room, this.#host.me());
    const text = h(
      "p",
      { class: "result-text" },
      ...splitSnippet(snippet, query).map((part) =>
        part.match ? h("mark", {}, part.text) : document.createTextNode(part.text)
      ),
    );
    const meta = h(
      "div",
      { class: "message-meta" },
      h("span", { class: `sender colour-${colourIndex(from)}` }, from),
      h(
        "span",
        { class: "result-room" },
        inRoom ? `#${room}` : partner !== null ? `@${partner}` : "private",
      ),
      h(
        "time",
        { datetime: time, title: fullTime(time) },
        `${dayLabel(time)} ${clockTime(time)}`,
      ),
    );
    const item = h("li", { class: "result" }, meta, text);
    if (inRoom || partner !== null) {
      const open = h(
        "button",
        { type: "button", class: "link-button" },
        partner === null
          ? `Open #${room} at this message`
          : `Open the conversation with ${partner} at this message`,
      );
      open.addEventListener("click", () => {
        this.#el.dialog.close();
        this.#host.open(partner === null ? { room } : { partner }, id);
      });
      item.append(open);
    }
    return item;
  }
}

/** The line at the end of the results: what the search came to, and what follows. */
function status(...children: (string | Node | null)[]): HTMLElement {
  return h("li", { class: "search-note search-status" }, ...children);
}
