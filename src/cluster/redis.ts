/**
 * The Redis backends of the cluster seams (`switchboard/redis`). They take a
 * ready `@redis/client` client, of one server or of a cluster; the package
 * is an optional peer dependency, installed by the application that uses it.
 *
 * @example
 * import { connectRedis, RedisMessageLog, RedisSessionStore } from "switchboard/redis";
 * import { Server } from "switchboard";
 *
 * const redis = await connectRedis({ url: "redis://127.0.0.1:6379" });
 * const io = new Server(3000, {
 *   sessionStore: new RedisSessionStore(redis),
 *   connectionStateRecovery: { messageLog: new RedisMessageLog(redis) },
 * });
 */
export {
  connectRedis,
  DEFAULT_KEY_PREFIX,
  isRedisCluster,
  type RedisConnection,
  type RedisTarget,
} from "./redis-keys.js";
export { RedisMessageLog, type RedisMessageLogOptions } from "./redis-message-log.js";
export { RedisSessionStore, type RedisSessionStoreOptions } from "./redis-session-store.js";
