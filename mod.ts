/**
 * Claptrap: a chat server, a client library and the wire protocol they
 * share.
 *
 * @example Start a server and talk to it
 * ```ts
 * import { ChatClient, startServer, tcp } from "./mod.ts";
 * const server = await startServer({
 *   host: "127.0.0.1",
 *   port: 0,
 *   globals: { accounts: new Map([["ann", "pw"]]), rooms: ["lobby"] },
 *   log: () => {},
 * });
 * const client = await ChatClient.connect(tcp({ port: server.addr.port }));
 * await client.login("ann", "pw");
 * await client.join("lobby");
 * await client.send("hello");
 * await client.close();
 * await server.close();
 * ```
 * @module
 */

export {
  DEFAULT_HOST,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  type ServerHandle,
  type ServerOptions,
  startServer,
  TlsConfigError,
} from "./server/server.ts";
export {
  DEFAULT_FLOOD_LIMITS,
  type FloodLimits,
  NO_FLOOD_LIMITS,
} from "./core/limits/flood_control.ts";
export type { RateLimit } from "./core/limits/token_bucket.ts";
export { DEFAULT_SEARCH_LIMITS, type SearchLimits } from "./core/search.ts";
export type { FailurePolicy } from "./core/limits/failure_throttle.ts";
export { DEFAULT_LIVENESS_RULES, type LivenessRules } from "./server/connection/liveness.ts";
export { type LogFormat, stderrLogger } from "./server/log_format.ts";
export { type Globals, GlobalsError, parseGlobals } from "./server/globals.ts";
export type { DuplicateLoginPolicy } from "./core/presence.ts";
export { SamplePasswordsError } from "./server/sample_accounts.ts";
export type { ConsoleResult } from "./server/console.ts";
export { parsePoems, type Poems } from "./server/poems.ts";
export {
  type ChatStore,
  type HistoryRange,
  type SearchOptions,
  type StoredPage,
  type StoredState,
  StoreFailedError,
} from "./store/store.ts";
export type { SyncMode } from "./store/sqlite_database.ts";
export { StoreError } from "./store/schema.ts";
export {
  type AccountRecord,
  type BanRecord,
  MAX_COUNTED,
  type MessageRecord,
  type ReadCount,
  type RoomKind,
  type RoomRecord,
  type SearchHit,
  type SearchPage,
  type StoredMessage,
  type TokenRecord,
} from "./store/records.ts";

export {
  ChatClient,
  type ChatClientOptions,
  ChatError,
  type ConversationState,
  type HelloResult,
  type HistoryMessage,
  type HistoryPage,
  MAX_ROOM_PAGES,
  type ModerationOptions,
  type PeerConnection,
  type Place,
  type Poem,
  type Pong,
  type RoomInfo,
  type RoomState,
  type SearchResult,
  type SearchResultPage,
  type WhoEntry,
} from "./client/chat_client.ts";
export type { ChatEvent, PeerAnswer, PlaceKind } from "./client/chat_event.ts";
export {
  ConnectionClosedError,
  type Transport,
  type TransportReceiver,
} from "./client/transport.ts";
export {
  CLIENT_MAX_FRAME_SIZE,
  type ConnectOptions,
  tcp,
  TlsError,
} from "./client/tcp_transport.ts";
export {
  webSocket,
  WEBSOCKET_OPEN_TIMEOUT_MS,
  webSocketUrl,
} from "./client/websocket_transport.ts";
export * from "./protocol/mod.ts";
