/**
 * What every wire of the Claptrap protocol shares (its frames over TCP, its
 * JSON mapping over WebSocket): a client of the request table.
 * @module
 */

import type { Session } from "../../../core/session.ts";
import type { Message } from "../../../protocol/message.ts";
import type { ChatEvent } from "../../../core/events.ts";
import type { Link } from "../../connection/connection.ts";
import type { PlacedBytes } from "../../connection/send_queue.ts";
import { type ClaptrapClient, type ClaptrapContext, dispatch, type Reply } from "./dispatcher.ts";

/** A connection's Claptrap wire, whatever its framing. */
export abstract class ClaptrapWire<Answer> implements ClaptrapClient {
  readonly session: Session;
  original: boolean;
  /** The connection the wire hands requests to. */
  protected readonly link: Link<Answer>;
  readonly #context: ClaptrapContext;

  /** @param original whether the session starts in the original dialect (TCP) */
  constructor(link: Link<Answer>, context: ClaptrapContext, original: boolean) {
    this.link = link;
    this.session = link.session;
    this.#context = context;
    this.original = original;
  }

  /** How the wire encodes an event for a 2.1 session. */
  protected abstract readonly encodeEvent21: (event: ChatEvent) => PlacedBytes;

  speak21(): void {
    this.session.v21 = true;
    this.link.encodeEventsWith(this.encodeEvent21);
  }

  /** Answers a request with the request table. */
  protected dispatch(request: Message): Reply {
    return dispatch(this.#context, this, request);
  }
}
