/** The Socket.IO v5 server layer. */
export {
  Adapter,
  type BroadcastFlags,
  type BroadcastOptions,
  type Room,
  type Session,
  type SessionToPersist,
  type SocketId,
} from "./adapter.js";
export { BroadcastOperator, type FetchedRemoteSockets, type RemoteSocket } from "./broadcast.js";
export { Client } from "./client.js";
export type { Handler, HandlerClass } from "./handler.js";
export { type ExtendedError, Namespace, type NamespaceMiddleware } from "./namespace.js";
export { InvalidOptionError } from "./options.js";
export { ParentNamespace, type ParentNspNameMatchFn } from "./parent-namespace.js";
export type { DecoderLike, EncoderLike, ParserOption } from "./parser.js";
export { type AdapterConstructor, Server, type ServerOptions } from "./server.js";
export { type ConnectionStateRecoveryOptions, SessionAwareAdapter } from "./session-adapter.js";
export {
  type DisconnectReason,
  type Event,
  type Handshake,
  Socket,
  type SocketMiddleware,
} from "./socket.js";
export type {
  DefaultEventsMap,
  EventNames,
  EventParams,
  EventsMap,
} from "./typed-events.js";
