/**
 * Target `switchboard`: the bench application on Switchboard's built
 * `dist/index.js` (what `npm run build` produces), with the same code as the
 * socket.io target. Loaded at run time so the bench type-checks before a build.
 * `BENCH_SWITCHBOARD_ENTRY` points at another build of the entry file. In the
 * cluster scenarios the server gets a `RedisBroker` as its `broker`; in
 * `fanout-recovery` connection state recovery is on with the configured log
 * (public options only: `connectionStateRecovery: {}` or `{ messageLog }`);
 * a node of `cluster-fanout-recovery` gets its broker and, with recovery on,
 * `{ messageLog, sessionStore }` on Redis under the broker's prefix (recovery
 * across the nodes); a `polling-nosticky` node serves both protocols (see
 * nosticky-app.ts). A `metrics-overhead` node loads the build its config's
 * `dist` names, and with `metrics` a `Metrics` watches it, scraped every
 * second (metrics-scrape.ts).
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { RecoveryConfig } from "../lib/protocol.js";
import { DIST, switchboardBroker } from "./cluster.js";
import { host } from "./host.js";
import { loadScraper } from "./metrics-scrape.js";
import { startNoStickyNode } from "./nosticky-app.js";
import { type ClusterSetup, type ServerClass, startSocketIoApp } from "./sio-app.js";

const entry = pathToFileURL(
  resolve(import.meta.dirname, "../..", process.env.BENCH_SWITCHBOARD_ENTRY ?? "dist/index.js"),
).href;

interface RedisModule {
  connectRedis(target: { url: string }): Promise<unknown>;
  closeRedis(redis: unknown): Promise<void>;
  RedisMessageLog: new (redis: unknown, options: { prefix: string }) => unknown;
  RedisSessionStore: new (redis: unknown, options: { prefix: string }) => unknown;
}

/** The server options and clean-up of a recovery set-up. */
async function recoverySetup(recovery: RecoveryConfig): Promise<ClusterSetup> {
  if (recovery.log === "memory") return { options: { connectionStateRecovery: {} } };
  const redisModule = (await import(
    pathToFileURL(resolve(DIST, "cluster/redis.js")).href
  )) as RedisModule;
  const redis = await redisModule.connectRedis({ url: recovery.redisUrl });
  const { prefix } = recovery;
  const messageLog = new redisModule.RedisMessageLog(redis, { prefix });
  const connectionStateRecovery =
    recovery.log === "cluster"
      ? { messageLog, sessionStore: new redisModule.RedisSessionStore(redis, { prefix }) }
      : { messageLog };
  return {
    options: { connectionStateRecovery },
    close: () => redisModule.closeRedis(redis),
  };
}

/** `setup` plus metrics watching the server (scraped every second), stopped first on close. */
function withMetrics(base: ClusterSetup, scrape: (parts: object) => () => void): ClusterSetup {
  let stop: (() => void) | undefined;
  return {
    ...base,
    setup: (io) => {
      base.setup?.(io);
      stop = scrape({ io });
    },
    close: async () => {
      stop?.();
      await base.close?.();
    },
  };
}

/** Both set-ups in one: the options merged, closed in reverse order. */
function combine(first: ClusterSetup, second: ClusterSetup): ClusterSetup {
  return {
    options: { ...first.options, ...second.options },
    close: async () => {
      await second.close?.();
      await first.close?.();
    },
  };
}

await host(async (config) => {
  if (config.scenario === "polling-nosticky") {
    if (config.cluster === undefined) throw new Error("a polling-nosticky node needs its cluster");
    return startNoStickyNode(config.cluster);
  }
  const dist =
    config.dist === undefined ? undefined : resolve(import.meta.dirname, "../..", config.dist);
  const from = dist === undefined ? entry : pathToFileURL(resolve(dist, "index.js")).href;
  const module = (await import(from)) as { Server?: ServerClass };
  if (typeof module.Server !== "function") throw new Error(`${from} exports no Server class`);
  let cluster: ClusterSetup = {};
  if (config.cluster !== undefined) {
    const broker = await switchboardBroker(config.cluster);
    cluster = { options: { broker }, close: () => broker.close() };
  }
  if (config.recovery !== undefined) {
    const recovery = await recoverySetup(config.recovery).catch(async (error: unknown) => {
      await cluster.close?.();
      throw error;
    });
    cluster = combine(cluster, recovery);
  }
  if (config.metrics) cluster = withMetrics(cluster, await loadScraper(dist ?? DIST));
  return startSocketIoApp(module.Server, config, cluster);
});
