/**
 * The Claptrap wire protocol: framing, messages, methods, statuses and
 * content formats. Pure functions over bytes; no I/O, usable in browsers.
 * See `protocol/README.md` for the specification.
 * @module
 */

export * from "./frame.ts";
export * from "./message.ts";
export * from "./methods.ts";
export * from "./content.ts";
export * from "./names.ts";
export * from "./message_text.ts";
export * from "./original.ts";
export * from "./room_list.ts";
export * from "./search_text.ts";
