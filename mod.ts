/**
 * Claptrap: a chat server, a client library and the wire protocol they
 * share.
 *
 * @example Start a server and talk to it
 * ```ts
 * import { ChatClient, startServer } from "./mod.ts";
 * const server = await startServer({
 *   host: "127.0.0.1",
 *   port: 0,
 *   globals: { accounts: new Map([["ann", "pw"]]), rooms: ["lobby"] },
 *   log: () => {},
 * });
 * const client = await ChatClient.connect({ port: server.addr.port });
 * await client.login("ann", "pw");
 * await client.join("lobby");
 * await client.send("hello");
 * await client.close();
 * await server.close();
 * ```
 * @module
 */

export { type ServerHandle, type ServerOptions, startServer } from "./server/server.ts";
export { type Globals, GlobalsError, parseGlobals } from "./server/globals.ts";
export type { DuplicateLoginPolicy } from "./server/chat.ts";
export type { ConsoleResult } from "./server/console.ts";
export { parsePoems, type Poems } from "./server/poems.ts";
export type { ChatStore, StoredState } from "./store/store.ts";
export type { SyncMode } from "./store/sqlite_database.ts";
export type {
  AccountRecord,
  BanRecord,
  MessageRecord,
  RoomKind,
  RoomRecord,
  SearchHit,
} from "./store/records.ts";
export {
  ChatClient,
  ChatError,
  type ChatEvent,
  type ConnectOptions,
  type HelloResult,
  type HistoryMessage,
  type HistoryPage,
  type ModerationOptions,
  type Place,
  type PlaceKind,
  type Poem,
  type Pong,
  type RoomInfo,
  type SearchResult,
  type WhoEntry,
} from "./client/chat_client.ts";
export * from "./protocol/mod.ts";
