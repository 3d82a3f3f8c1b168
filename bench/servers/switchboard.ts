/**
 * Target `switchboard`: the bench application on Switchboard's built
 * `dist/index.js` (what `npm run build` produces), with the same code as the
 * socket.io target. Loaded at run time so the bench type-checks before a build.
 * `BENCH_SWITCHBOARD_ENTRY` points at another build of the entry file. In the
 * cluster scenarios the server gets a `RedisBroker` as its `broker`; in
 * `fanout-recovery` connection state recovery is on with the configured log
 * (public options only: `connectionStateRecovery: {}` or `{ messageLog }`);
 * a `polling-nosticky` node serves both protocols (see nosticky-app.ts).
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { RecoveryConfig } from "../lib/protocol.js";
import { DIST, switchboardBroker } from "./cluster.js";
import { host } from "./host.js";
import { startNoStickyNode } from "./nosticky-app.js";
import { type ClusterSetup, type ServerClass, startSocketIoApp } from "./sio-app.js";

const entry = pathToFileURL(
  resolve(import.meta.dirname, "../..", process.env.BENCH_SWITCHBOARD_ENTRY ?? "dist/index.js"),
).href;

interface RedisModule {
  connectRedis(target: { url: string }): Promise<unknown>;
  closeRedis(redis: unknown): Promise<void>;
  RedisMessageLog: new (redis: unknown, options: { prefix: string }) => unknown;
}

/** The server options and clean-up of a recovery set-up. */
async function recoverySetup(recovery: RecoveryConfig): Promise<ClusterSetup> {
  if (recovery.log === "memory") return { options: { connectionStateRecovery: {} } };
  const redisModule = (await import(
    pathToFileURL(resolve(DIST, "cluster/redis.js")).href
  )) as RedisModule;
  const redis = await redisModule.connectRedis({ url: recovery.redisUrl });
  const messageLog = new redisModule.RedisMessageLog(redis, { prefix: recovery.prefix });
  return {
    options: { connectionStateRecovery: { messageLog } },
    close: () => redisModule.closeRedis(redis),
  };
}

await host(async (config) => {
  if (config.scenario === "polling-nosticky") {
    if (config.cluster === undefined) throw new Error("a polling-nosticky node needs its cluster");
    return startNoStickyNode(config.cluster);
  }
  const module = (await import(entry)) as { Server?: ServerClass };
  if (typeof module.Server !== "function") throw new Error(`${entry} exports no Server class`);
  let cluster: ClusterSetup = {};
  if (config.cluster !== undefined) {
    const broker = await switchboardBroker(config.cluster);
    cluster = { options: { broker }, close: () => broker.close() };
  } else if (config.recovery !== undefined) {
    cluster = await recoverySetup(config.recovery);
  }
  return startSocketIoApp(module.Server, config, cluster);
});
