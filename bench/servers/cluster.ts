/**
 * How each target joins a node to the cluster scenarios' Redis:
 *
 * - switchboard and switchboard-bayeux: one `RedisBroker` from the built
 *   `dist/cluster/redis-broker.js`, handed to the server as `broker`;
 * - socket.io: `@socket.io/redis-adapter` over two ioredis clients
 *   (publisher and subscriber), its `key` set to the run's prefix;
 * - faye: the `faye-redis` engine (which npm's `overrides` gives the
 *   callback-style `redis` 3 it was written for), its namespace set to the
 *   run's prefix.
 *
 * Every node reaches Redis through the orchestrator's counting proxy, whose
 * URL is in the node's `ClusterConfig`.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { createAdapter } from "@socket.io/redis-adapter";
import { Redis } from "ioredis";
import type { ClusterConfig } from "../lib/protocol.js";
import { SkipRun } from "./host.js";
import type { ClusterSetup } from "./sio-app.js";

/** The slice of Switchboard's cluster API the bench uses. */
export interface BrokerLike {
  ready(): Promise<void>;
  close(): Promise<void>;
}

interface BrokerModule {
  RedisBroker?: new (options: { url: string; nodeId: string; prefix: string }) => BrokerLike;
}

/** Switchboard's build directory (`BENCH_SWITCHBOARD_DIST`, default `dist`). */
export const DIST = resolve(
  import.meta.dirname,
  "../..",
  process.env.BENCH_SWITCHBOARD_DIST ?? "dist",
);

/** Where the built RedisBroker may be exported from, most specific first. */
const BROKER_FILES = ["cluster/redis-broker.js", "cluster/index.js", "index.js"];

/**
 * A connected Switchboard `RedisBroker` for this node. Throws `SkipRun`
 * ("broker not available") when the build has no RedisBroker yet.
 */
export async function switchboardBroker(cluster: ClusterConfig): Promise<BrokerLike> {
  let RedisBroker: BrokerModule["RedisBroker"];
  for (const file of BROKER_FILES) {
    const path = resolve(DIST, file);
    if (!existsSync(path)) continue;
    const module = (await import(pathToFileURL(path).href)) as BrokerModule;
    if (typeof module.RedisBroker === "function") {
      RedisBroker = module.RedisBroker;
      break;
    }
  }
  if (RedisBroker === undefined) {
    throw new SkipRun(
      `broker not available: no RedisBroker in ${DIST} (${BROKER_FILES.join(", ")})`,
    );
  }
  const broker = new RedisBroker({
    url: cluster.redisUrl,
    nodeId: cluster.nodeId,
    prefix: cluster.prefix,
  });
  await broker.ready();
  return broker;
}

function readyClient(url: string): Promise<Redis> {
  const client = new Redis(url, { maxRetriesPerRequest: 2 });
  return new Promise((done, fail) => {
    client.once("ready", () => done(client));
    client.once("error", (error) => {
      client.disconnect();
      fail(error);
    });
  });
}

/** socket.io's Redis adapter over ioredis, both clients connected before the server starts. */
export async function socketIoRedis(cluster: ClusterConfig): Promise<ClusterSetup> {
  const pub = await readyClient(cluster.redisUrl);
  const sub = await readyClient(cluster.redisUrl);
  return {
    setup: (io) => {
      io.adapter(createAdapter(pub, sub, { key: cluster.prefix }));
    },
    close: async () => {
      await Promise.allSettled([pub.quit(), sub.quit()]);
    },
  };
}

/** The options of faye-redis's engine: its own host/port/password/database and the namespace. */
export function fayeRedisEngine(cluster: ClusterConfig): Record<string, unknown> {
  const url = new URL(cluster.redisUrl);
  const engine: Record<string, unknown> = {
    type: createRequire(import.meta.url)("faye-redis"),
    host: url.hostname,
    port: Number(url.port || 6379),
    namespace: cluster.prefix,
  };
  if (url.password !== "") engine.password = decodeURIComponent(url.password);
  const database = Number(url.pathname.slice(1));
  if (url.pathname.length > 1 && Number.isInteger(database)) engine.database = database;
  return engine;
}
