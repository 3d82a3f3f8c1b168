/**
 * Switchboard: a Socket.IO v5 server with socket.io 4's API, on its own
 * Engine.IO server, over a topic-routing core shared with Bayeux.
 *
 * @example
 * import { Server } from "switchboard";
 *
 * const io = new Server(3000);
 * io.on("connection", (socket) => socket.emit("hello", "world"));
 *
 * // socket.io's factory shape, from ES modules and CommonJS alike:
 * // import io from "switchboard";  or  const io = require("switchboard");
 * const io2 = io(httpServer, { cors: { origin: "*" } });
 */

import { factory } from "./factory.js";

export {
  BRIDGE_ORIGIN_EXT,
  BRIDGE_ROUTE_ERRORS,
  Bridge,
  type BridgeDirection,
  type BridgeOptions,
  type BridgeRoute,
  BridgeRouteError,
  type BridgeRouteErrorCode,
  type BridgeStats,
  bridge,
  type RefusedReason,
} from "./bridge/index.js";

export {
  type AppendOnceResult,
  type Broker,
  BrokerError,
  type BrokerStats,
  type FollowHandlers,
  type LogEntry,
  type LogFollower,
  MemoryBroker,
  MemoryBrokerHub,
  MemoryMessageLog,
  MemorySessionStore,
  type MessageLog,
  type MessageLogLimits,
  type ReadResult,
  type RequestResult,
  type SessionRecord,
  type SessionStore,
} from "./cluster/index.js";
export * as codec from "./codec/socketio/index.js";
export { PacketType } from "./codec/socketio/index.js";
export { Hub, type HubStats, TopicRouter } from "./core/index.js";
export type { ServerFactory, SwitchboardFactory } from "./factory.js";
export * from "./ops/dashboard/index.js";
export { Health, type Readiness, type ReadinessCheck } from "./ops/health.js";
export {
  Metrics,
  MetricsError,
  type MetricsOptions,
  type PromRegistryLike,
} from "./ops/metrics/index.js";
export {
  type NodeParts,
  type NodeStatsOptions,
  NodeStatsReader,
  nodeStats,
} from "./ops/node-stats.js";
export type {
  ByTransport,
  NodeStats,
  PerProtocol,
  Protocol,
  RecentError,
  SlowConsumer,
  StatsSource,
  TopicFigure,
} from "./ops/stats.js";
export { configureDebug, routeDebugTo } from "./shared/debug.js";
export { defaultLogger, type Logger, silentLogger } from "./shared/logger.js";
export * from "./socketio/index.js";

// `import io from "switchboard"` and, through Node's require(esm), `require("switchboard")` both
// give the callable factory (socket.io's CommonJS export shape).
export { factory as default, factory as "module.exports" };
