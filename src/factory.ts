/**
 * The package's callable default export, shaped as socket.io's CommonJS
 * export: `require("switchboard")(httpServer, opts)` builds a Server, and the
 * same function carries `Server`, `Namespace`, `Socket` and the other classes
 * as properties (`require("switchboard").Server`).
 */
import type { Server as HttpServer } from "node:http";
import type { Http2SecureServer } from "node:http2";
import { BrokerError, MemoryBroker, MemoryBrokerHub } from "./cluster/index.js";
import * as codec from "./codec/socketio/index.js";
import { PacketType } from "./codec/socketio/index.js";
import { TopicRouter } from "./core/index.js";
import {
  Adapter,
  BroadcastOperator,
  Client,
  Namespace,
  ParentNamespace,
  Server,
  type ServerOptions,
  SessionAwareAdapter,
  Socket,
} from "./socketio/index.js";
import type { DefaultEventsMap, EventsMap } from "./socketio/typed-events.js";

/** The runtime classes and values the factory carries as properties. */
const members = {
  Adapter,
  BroadcastOperator,
  BrokerError,
  Client,
  codec,
  MemoryBroker,
  MemoryBrokerHub,
  Namespace,
  PacketType,
  ParentNamespace,
  Server,
  SessionAwareAdapter,
  Socket,
  TopicRouter,
} as const;

/** `(srv?, opts?) => new Server(srv, opts)`, with the package's classes as properties. */
export type ServerFactory = <
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  // biome-ignore lint/suspicious/noExplicitAny: socket.io's default SocketData.
  SocketData = any,
>(
  srv?: HttpServer | Http2SecureServer | number | Partial<ServerOptions>,
  opts?: Partial<ServerOptions>,
) => Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;

export type SwitchboardFactory = ServerFactory & typeof members;

function createServer(
  srv?: HttpServer | Http2SecureServer | number | Partial<ServerOptions>,
  opts?: Partial<ServerOptions>,
): Server {
  // Server's own constructor tells an options object from a server or port.
  return new Server(srv as HttpServer, opts);
}

/**
 * @example
 * const io = require("switchboard")(3000, { cors: { origin: "*" } });
 * // or, as an ES module: import io from "switchboard"; io(3000);
 */
export const factory: SwitchboardFactory = Object.assign(createServer as ServerFactory, members);
