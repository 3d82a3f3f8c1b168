/**
 * Target `switchboard-bayeux`: Switchboard's BayeuxServer from the built
 * `dist/bayeux/index.js`, mounted at /bayeux on a node http server through
 * the MountRouter (`dist/mount/node.js`). Loaded at run time so the bench
 * type-checks before a build; `BENCH_SWITCHBOARD_DIST` points at another
 * build directory. In the cluster scenarios the server gets a `RedisBroker`
 * as its `broker`; a node of `bayeux-cluster-fanout-recovery` with recovery
 * on also gets what the standalone server (`--redis-url`, recovery on) gives
 * its Bayeux server: a Redis `channelLog`, `sessionStore` and `ackLog` under
 * the broker's prefix, on a Redis connection of their own (see
 * bayeux-recovery.ts). A `metrics-overhead` node loads the build its
 * config's `dist` names, and with `metrics` a `Metrics` watches it, scraped
 * every second (metrics-scrape.ts).
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { BAYEUX_PATH, type ServerConfig } from "../lib/protocol.js";
import {
  BURST_CHANNEL,
  burst,
  CONNECT_TIMEOUT_MS,
  closeHttp,
  listen,
  plainHttpServer,
} from "./bayeux-app.js";
import { type BayeuxRecovery, bayeuxRecovery } from "./bayeux-recovery.js";
import { type BrokerLike, DIST, switchboardBroker } from "./cluster.js";
import { type BenchServer, host } from "./host.js";
import { loadScraper } from "./metrics-scrape.js";

/** The slice of the built API this target uses. */
interface BayeuxServerLike {
  publish(channel: string, data: unknown): number;
  subscribe(channel: string, listener: (data: unknown) => void): () => void;
  close(): Promise<void>;
}

interface BayeuxModule {
  BayeuxServer: new (
    options: {
      path: string;
      timeout: number;
      broker?: BrokerLike;
    } & BayeuxRecovery["options"],
  ) => BayeuxServerLike;
  bayeuxMount(server: BayeuxServerLike): unknown;
}

interface MountModule {
  MountRouter: new () => {
    add(mount: unknown): { attach(server: unknown): unknown };
    close(): Promise<void>;
  };
}

async function start(config: ServerConfig): Promise<BenchServer> {
  const dist =
    config.dist === undefined ? DIST : resolve(import.meta.dirname, "../..", config.dist);
  const load = (file: string): Promise<unknown> => import(pathToFileURL(resolve(dist, file)).href);
  const { BayeuxServer, bayeuxMount } = (await load("bayeux/index.js")) as BayeuxModule;
  const { MountRouter } = (await load("mount/node.js")) as MountModule;
  const broker = config.cluster === undefined ? undefined : await switchboardBroker(config.cluster);
  const recovery =
    config.recovery === undefined
      ? undefined
      : await bayeuxRecovery(config.recovery).catch(async (error: unknown) => {
          await broker?.close();
          throw error;
        });
  const http = plainHttpServer();
  const bayeux = new BayeuxServer({
    path: BAYEUX_PATH,
    timeout: CONNECT_TIMEOUT_MS,
    ...(broker === undefined ? {} : { broker }),
    ...recovery?.options,
  });
  const router = new MountRouter();
  router.add(bayeuxMount(bayeux)).attach(http);
  if (config.scenario === "bayeux-burst") {
    const publish = (channel: string, data: unknown): void => {
      bayeux.publish(channel, data);
    };
    bayeux.subscribe(BURST_CHANNEL, (request) => burst(request, publish));
  }
  const stopMetrics = config.metrics ? (await loadScraper(dist))({ bayeux }) : undefined;
  const port = await listen(http);
  return {
    port,
    close: async () => {
      stopMetrics?.();
      await router.close();
      await closeHttp(http);
      // The CLI's order: the broker, then the logs and their connection.
      await broker?.close();
      await recovery?.close();
    },
  };
}

await host(start);
