/**
 * The `switchboard/redis` entry: the Redis broker and the Redis backends of
 * the session store and the message log, kept apart from the main entry so
 * applications without Redis never load `@redis/client` (an optional peer
 * dependency, installed by the application that uses Redis). Every class
 * takes a URL or a ready client, of one server or of a Redis Cluster.
 *
 * @example
 * import { RedisBroker } from "switchboard/redis";
 * import { Server } from "switchboard";
 *
 * const broker = new RedisBroker({ url: "redis://127.0.0.1:6379" });
 * await broker.ready();
 * const io = new Server(3000, { broker });
 */
export type { Logger } from "../shared/logger.js";
export {
  RedisBroker,
  type RedisBrokerOptions,
  type RedisBrokerStats,
} from "./redis-broker.js";
export type { RedisLibrary } from "./redis-compat.js";
export { RedisIdempotency, type RedisIdempotencyOptions } from "./redis-idempotency.js";
export {
  closeRedis,
  connectRedis,
  DEFAULT_KEY_PREFIX,
  isRedisCluster,
  type RedisConnection,
  type RedisTarget,
} from "./redis-keys.js";
export { RedisMessageLog, type RedisMessageLogOptions } from "./redis-message-log.js";
export { RedisSessionStore, type RedisSessionStoreOptions } from "./redis-session-store.js";
