/**
 * The Bayeux server options of a `bayeux-cluster-fanout-recovery` node with
 * recovery on: what the standalone server hands its BayeuxServer with
 * `--redis-url` and recovery on (src/cli/server.ts, `openClusterSessions`),
 * built here from the public `switchboard/redis` entry of the build:
 *
 * - `channelLog`: a `RedisMessageLog` kept 120 s and at most 100,000 entries
 *   (the CLI's floor for the age, and its length);
 * - `sessionStore`: a `RedisSessionStore`;
 * - `ackLog`: a `RedisMessageLog` kept an hour (the CLI's ack log);
 *
 * all under the prefix the node's broker has, over one Redis connection of
 * their own (as the CLI's). Loaded at run time so the bench type-checks
 * before a build.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { RecoveryConfig } from "../lib/protocol.js";
import { DIST } from "./cluster.js";

/** The CLI's channel log: two session lifetimes, at least 120 s, and its length cap. */
const CHANNEL_LOG = { maxAge: 120_000, maxLength: 100_000 };
/** The CLI's ack log: kept as long as a session may wait for its acknowledgement. */
const ACK_LOG = { maxAge: 3_600_000 };

interface RedisModule {
  connectRedis(target: { url: string }): Promise<unknown>;
  closeRedis(redis: unknown): Promise<void>;
  RedisMessageLog: new (
    redis: unknown,
    options: { prefix: string; maxAge?: number; maxLength?: number },
  ) => { close(): Promise<void> };
  RedisSessionStore: new (redis: unknown, options: { prefix: string }) => unknown;
}

/** Options merged into the BayeuxServer's, and the clean-up after the server closed. */
export interface BayeuxRecovery {
  options: { channelLog?: unknown; sessionStore?: unknown; ackLog?: unknown };
  close(): Promise<void>;
}

/**
 * The channel log, session store and ack log of a recovery set-up. Only the
 * cluster form exists on the Bayeux side: a channel log of one node alone
 * would measure nothing the issue asks about.
 *
 * @example
 * const recovery = await bayeuxRecovery({ log: "cluster", redisUrl, prefix: "sb1:" });
 * new BayeuxServer({ broker, ...recovery.options }); // … then: await recovery.close();
 */
export async function bayeuxRecovery(recovery: RecoveryConfig): Promise<BayeuxRecovery> {
  if (recovery.log !== "cluster") {
    throw new Error(`the Bayeux target has no "${recovery.log}" recovery set-up`);
  }
  const redisModule = (await import(
    pathToFileURL(resolve(DIST, "cluster/redis.js")).href
  )) as RedisModule;
  const redis = await redisModule.connectRedis({ url: recovery.redisUrl });
  const { prefix } = recovery;
  const channelLog = new redisModule.RedisMessageLog(redis, { prefix, ...CHANNEL_LOG });
  const ackLog = new redisModule.RedisMessageLog(redis, { prefix, ...ACK_LOG });
  const sessionStore = new redisModule.RedisSessionStore(redis, { prefix });
  return {
    options: { channelLog, sessionStore, ackLog },
    close: async () => {
      await channelLog.close();
      await ackLog.close();
      await redisModule.closeRedis(redis);
    },
  };
}
