/**
 * The standalone server's way into a cluster: one Redis broker, connected and
 * subscribed before the server listens, shared by the Socket.IO and the
 * Bayeux server, closed on shutdown.
 */
import type { Broker } from "../cluster/broker.js";
import type { MessageLog } from "../cluster/message-log.js";
import type { SessionStore } from "../cluster/session-store.js";
import type { Logger } from "../shared/logger.js";
import { CliStartError } from "./errors.js";
import { CLUSTER_READY_TIMEOUT, type ClusterOptions } from "./options.js";

/** A broker that says when it is connected and subscribed. */
export interface ReadyBroker extends Broker {
  ready(): Promise<void>;
}

interface RedisBrokerModule {
  RedisBroker: new (options: {
    url: string;
    nodeId?: string;
    prefix?: string;
    cluster?: boolean;
    logger?: Logger;
  }) => ReadyBroker;
}

/**
 * Where the Redis broker lives. Loaded on demand: a server that runs alone
 * never loads the Redis client.
 */
const REDIS_BROKER_MODULE = "../cluster/redis-broker.js";
/** Where the Redis connection helpers and session store live (loaded on demand too). */
const REDIS_KEYS_MODULE = "../cluster/redis-keys.js";
const REDIS_SESSION_STORE_MODULE = "../cluster/redis-session-store.js";
const REDIS_MESSAGE_LOG_MODULE = "../cluster/redis-message-log.js";

/**
 * `url` without its password, for messages and logs.
 *
 * @example
 * redactRedisUrl("redis://app:s3cret@cache:6379/1"); // "redis://app:***@cache:6379/1"
 */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable URL)";
  }
}

/**
 * Creates the Redis broker for `cluster` and waits until it is ready. Rejects
 * with {@link CliStartError} when this build has no Redis broker, or Redis
 * cannot be reached within `readyTimeout` (the broker is closed again).
 *
 * @example
 * const broker = await joinCluster({ redisUrl: "redis://127.0.0.1:6379", nodeId: "a" });
 * // new Server({ broker }), new BayeuxServer({ broker }) … then: await broker.close();
 */
export async function joinCluster(cluster: ClusterOptions, logger?: Logger): Promise<ReadyBroker> {
  const shown = redactRedisUrl(cluster.redisUrl);
  let module: RedisBrokerModule;
  try {
    module = (await import(REDIS_BROKER_MODULE)) as RedisBrokerModule;
  } catch (err) {
    throw new CliStartError(
      /@redis\/client/.test(String((err as Error).message))
        ? `cannot join the cluster at ${shown}: install the Redis client first (npm install @redis/client)`
        : `cannot join the cluster at ${shown}: this build has no Redis broker (${(err as Error).message})`,
      { cause: err },
    );
  }
  const options: {
    url: string;
    nodeId?: string;
    prefix?: string;
    cluster?: boolean;
    logger?: Logger;
  } = { url: cluster.redisUrl };
  if (logger !== undefined) options.logger = logger;
  if (cluster.redisCluster) options.cluster = true;
  if (cluster.nodeId !== undefined) options.nodeId = cluster.nodeId;
  if (cluster.prefix !== undefined) options.prefix = cluster.prefix;
  const timeout = cluster.readyTimeout ?? CLUSTER_READY_TIMEOUT;
  let broker: ReadyBroker | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    broker = new module.RedisBroker(options);
    // A client that keeps reconnecting would otherwise hold the start forever.
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not ready after ${timeout} ms`)), timeout);
    });
    await Promise.race([broker.ready(), late]);
    return broker;
  } catch (err) {
    await broker?.close().catch(() => undefined);
    throw new CliStartError(`cannot join the cluster at ${shown}: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    clearTimeout(timer);
  }
}

/** The cluster's shared session store and Bayeux ack log, and how to let them go. */
export interface ClusterSessions {
  store: SessionStore;
  /** Where Bayeux ack-extension deliveries are kept, so a node adopting a session finds them. */
  ackLog: MessageLog;
  /** The Socket.IO recovery log (asked for with `log`): broadcasts kept for the window. */
  log?: MessageLog;
  /** The Bayeux channel log (asked for with `channels`): every channel publish of the cluster. */
  channelLog?: MessageLog;
  close(): Promise<void>;
}

interface RedisSessionModules {
  keys: {
    connectRedis(target: { url: string } | { rootNodes: string[] }): Promise<unknown>;
    closeRedis(redis: unknown): Promise<void>;
  };
  store: {
    RedisSessionStore: new (redis: unknown, options?: { prefix?: string }) => SessionStore;
  };
  log: {
    RedisMessageLog: new (
      redis: unknown,
      options?: { prefix?: string; maxAge?: number; maxLength?: number },
    ) => MessageLog;
  };
}

/**
 * Opens the Redis session store the nodes of `cluster` share (for
 * `--forward-sessions`): its own connection to the broker's Redis, keys
 * under the cluster's prefix. Rejects with {@link CliStartError}.
 *
 * @example
 * const sessions = await openClusterSessions({ redisUrl, forwardSessions: true });
 * // new Server({ sessionStore: sessions.store, forward: true }) … then: await sessions.close();
 */
export async function openClusterSessions(
  cluster: ClusterOptions,
  want: { log?: { maxAge: number }; channels?: { maxAge: number; maxLength: number } } = {},
): Promise<ClusterSessions> {
  const shown = redactRedisUrl(cluster.redisUrl);
  try {
    const modules: RedisSessionModules = {
      keys: (await import(REDIS_KEYS_MODULE)) as RedisSessionModules["keys"],
      store: (await import(REDIS_SESSION_STORE_MODULE)) as RedisSessionModules["store"],
      log: (await import(REDIS_MESSAGE_LOG_MODULE)) as RedisSessionModules["log"],
    };
    const redis = await modules.keys.connectRedis(
      cluster.redisCluster ? { rootNodes: [cluster.redisUrl] } : { url: cluster.redisUrl },
    );
    const prefixed = cluster.prefix !== undefined ? { prefix: cluster.prefix } : {};
    const store = new modules.store.RedisSessionStore(redis, prefixed);
    // Kept until acknowledged, as long as a session may wait (the in-memory default's age).
    const ackLog = new modules.log.RedisMessageLog(redis, { ...prefixed, maxAge: 3_600_000 });
    const sessions: ClusterSessions = {
      store,
      ackLog,
      // The logs first: the recovery log's followers hold connections of their own.
      close: async () => {
        await sessions.log?.close();
        await sessions.channelLog?.close();
        await ackLog.close();
        await modules.keys.closeRedis(redis);
      },
    };
    if (want.log) {
      sessions.log = new modules.log.RedisMessageLog(redis, {
        ...prefixed,
        maxAge: want.log.maxAge,
      });
    }
    if (want.channels) {
      sessions.channelLog = new modules.log.RedisMessageLog(redis, {
        ...prefixed,
        ...want.channels,
      });
    }
    return sessions;
  } catch (err) {
    throw new CliStartError(
      `cannot open the session store at ${shown}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}
