/**
 * The adapters that have listeners of their own, each off unless its
 * option gives it a port. One line per adapter.
 * @module
 */

import type { AdapterListener } from "../listeners/adapter_listener.ts";
import { CHATROOM_LISTENER } from "./chatroom/chatroom_wire.ts";
import { CS168_LISTENER } from "./cs168/cs168_wire.ts";
import { CS544_LISTENER } from "./cs544/cs544_wire.ts";
import { ICS_LISTENER } from "./ics/ics_wire.ts";

/** Every adapter listener, in the order they start and are logged. */
export const ADAPTER_LISTENERS: readonly AdapterListener[] = [
  CHATROOM_LISTENER,
  CS168_LISTENER,
  CS544_LISTENER,
  ICS_LISTENER,
];
