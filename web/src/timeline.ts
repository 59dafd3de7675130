/**
 * The messages of one room as the page knows them: ordered by id, each id
 * once, however it arrived (history page, pushed event, own send, the gap
 * filled after a reconnection), with notices (joins, leaves) kept where they
 * happened. Pure: no DOM.
 * @module
 */

/** A chat message as the server identifies it. */
export interface ChatMessage {
  /** Server-wide id; orders the messages of a room. */
  readonly id: number;
  readonly from: string;
  /** ISO 8601 UTC, as the server sent it. */
  readonly time: string;
  readonly content: string;
  /** The users it mentions, when the server said (pushed messages). */
  readonly mentions?: readonly string[];
}

/** A line about something that happened, not a message (a join, a leave). */
export interface Notice {
  readonly text: string;
  /** ISO 8601 UTC. */
  readonly time: string;
  /** The newest message id known when it happened: it is shown after that message. */
  readonly afterId: number;
  /** Order among notices. */
  readonly seq: number;
}

/** One line of the timeline, in display order. */
export type Entry =
  | { readonly kind: "message"; readonly message: ChatMessage }
  | { readonly kind: "notice"; readonly notice: Notice };

/** What {@link Timeline.add} did. */
export interface AddResult {
  /** The messages that were new, in id order. */
  readonly added: ChatMessage[];
  /** Whether they all went after every existing entry (so the view may just append them). */
  readonly appended: boolean;
}

/** The ordered, de-duplicated messages and notices of one room. */
export class Timeline {
  #messages: ChatMessage[] = [];
  readonly #ids = new Set<number>();
  #notices: Notice[] = [];
  #seq = 0;

  /** How many messages it holds. */
  get size(): number {
    return this.#messages.length;
  }

  /** The smallest message id, or null when empty. */
  get oldestId(): number | null {
    return this.#messages.length > 0 ? this.#messages[0].id : null;
  }

  /** The largest message id, or 0 when empty. */
  get newestId(): number {
    return this.#messages.length > 0 ? this.#messages[this.#messages.length - 1].id : 0;
  }

  /** Whether a message with this id is present. */
  has(id: number): boolean {
    return this.#ids.has(id);
  }

  /** The messages, in id order. */
  messages(): readonly ChatMessage[] {
    return this.#messages;
  }

  /**
   * Adds messages in any order; those whose id is present already are
   * ignored, so the same message never shows twice.
   */
  add(messages: Iterable<ChatMessage>): AddResult {
    const fresh: ChatMessage[] = [];
    for (const message of messages) {
      if (this.#ids.has(message.id)) continue;
      this.#ids.add(message.id);
      fresh.push(message);
    }
    fresh.sort((a, b) => a.id - b.id);
    if (fresh.length === 0) return { added: fresh, appended: true };
    const appended = fresh[0].id > this.newestId;
    if (appended) {
      this.#messages.push(...fresh);
    } else {
      this.#messages = [...this.#messages, ...fresh].sort((a, b) => a.id - b.id);
    }
    return { added: fresh, appended };
  }

  /** Adds a notice after the newest message known now. */
  addNotice(text: string, time: string): Notice {
    const notice = { text, time, afterId: this.newestId, seq: this.#seq++ };
    this.#notices.push(notice);
    return notice;
  }

  /** Every entry in display order: messages by id, each notice after the message it followed. */
  entries(): Entry[] {
    const entries: Entry[] = [];
    let n = 0;
    for (const message of this.#messages) {
      while (n < this.#notices.length && this.#notices[n].afterId < message.id) {
        entries.push({ kind: "notice", notice: this.#notices[n++] });
      }
      entries.push({ kind: "message", message });
    }
    while (n < this.#notices.length) entries.push({ kind: "notice", notice: this.#notices[n++] });
    return entries;
  }
}
