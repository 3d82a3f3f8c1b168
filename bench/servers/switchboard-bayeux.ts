/**
 * Target `switchboard-bayeux`: Switchboard's BayeuxServer from the built
 * `dist/bayeux/index.js`, mounted at /bayeux on a node http server through
 * the MountRouter (`dist/mount/node.js`). Loaded at run time so the bench
 * type-checks before a build; `BENCH_SWITCHBOARD_DIST` points at another
 * build directory. In the cluster scenarios the server gets a `RedisBroker`
 * as its `broker`.
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
import { type BrokerLike, DIST, switchboardBroker } from "./cluster.js";
import { type BenchServer, host } from "./host.js";

/** The slice of the built API this target uses. */
interface BayeuxServerLike {
  publish(channel: string, data: unknown): number;
  subscribe(channel: string, listener: (data: unknown) => void): () => void;
  close(): Promise<void>;
}

interface BayeuxModule {
  BayeuxServer: new (options: {
    path: string;
    timeout: number;
    broker?: BrokerLike;
  }) => BayeuxServerLike;
  bayeuxMount(server: BayeuxServerLike): unknown;
}

interface MountModule {
  MountRouter: new () => {
    add(mount: unknown): { attach(server: unknown): unknown };
    close(): Promise<void>;
  };
}

const load = (file: string): Promise<unknown> => import(pathToFileURL(resolve(DIST, file)).href);

async function start(config: ServerConfig): Promise<BenchServer> {
  const { BayeuxServer, bayeuxMount } = (await load("bayeux/index.js")) as BayeuxModule;
  const { MountRouter } = (await load("mount/node.js")) as MountModule;
  const broker = config.cluster === undefined ? undefined : await switchboardBroker(config.cluster);
  const http = plainHttpServer();
  const bayeux = new BayeuxServer({
    path: BAYEUX_PATH,
    timeout: CONNECT_TIMEOUT_MS,
    ...(broker === undefined ? {} : { broker }),
  });
  const router = new MountRouter();
  router.add(bayeuxMount(bayeux)).attach(http);
  if (config.scenario === "bayeux-burst") {
    const publish = (channel: string, data: unknown): void => {
      bayeux.publish(channel, data);
    };
    bayeux.subscribe(BURST_CHANNEL, (request) => burst(request, publish));
  }
  const port = await listen(http);
  return {
    port,
    close: async () => {
      await router.close();
      await closeHttp(http);
      await broker?.close();
    },
  };
}

await host(start);
