/**
 * A throwaway Redis Cluster: `n` masters (no replicas) on free loopback
 * ports, each with its nodes file in its own temporary directory, joined
 * with `redis-cli --cluster create`. The caller stops it in `after`.
 */
import { execFile } from "node:child_process";
import { after, before, describe } from "node:test";
import { promisify } from "node:util";
import { rawCommand, waitFor } from "./redis-process.js";
import { type RedisServers, redisSkip, startRedisServers } from "./redis-server.js";

const run = promisify(execFile);

/** A started cluster: its servers, and its masters as a cluster client's root nodes. */
export interface RedisClusterServers extends RedisServers {
  /** `{ url }` per master, the form of `createCluster` and the broker's `cluster` option. */
  nodes: Array<{ url: string }>;
}

/**
 * @example
 * const cluster = await startRedisCluster(3);
 * const redis = await connectRedis({ rootNodes: cluster.rootNodes });
 * const broker = new RedisBroker({ cluster: { rootNodes: cluster.nodes } });
 * after(async () => { await redis.close(); await cluster.stop(); });
 */
export async function startRedisCluster(n = 3, ms = 20_000): Promise<RedisClusterServers> {
  // The nodes file is relative to each server's own --dir.
  const servers = await startRedisServers(n, [
    "--cluster-enabled",
    "yes",
    "--cluster-config-file",
    "nodes.conf",
    "--cluster-node-timeout",
    "2000",
  ]);
  try {
    await run(
      "redis-cli",
      [
        "--cluster",
        "create",
        ...servers.ports.map((port) => `127.0.0.1:${port}`),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ],
      { timeout: 30_000 },
    );
    for (const port of servers.ports)
      await waitFor(`cluster state ok on ${port}`, ms, async () => {
        const info = await rawCommand(port, "CLUSTER INFO");
        return info.includes("cluster_state:ok") && info.includes(`cluster_known_nodes:${n}`);
      });
  } catch (err) {
    await servers.stop();
    throw err;
  }
  return { ...servers, nodes: servers.urls.map((url) => ({ url })) };
}

/**
 * A `describe("on a Redis Cluster")` whose tests share a 3-master cluster,
 * started before them and stopped after (skipped without the Redis
 * binaries, outside CI). `body` reads the running cluster through `servers`.
 *
 * @example
 * await describeOnRedisCluster((servers) => {
 *   suite("3-master Redis Cluster", () => backend({ rootNodes: servers().rootNodes }));
 * });
 */
export async function describeOnRedisCluster(
  body: (servers: () => RedisClusterServers) => void,
): Promise<void> {
  describe("on a Redis Cluster", { skip: await redisSkip("cluster") }, () => {
    let cluster: RedisClusterServers | undefined;
    before(async () => {
      cluster = await startRedisCluster(3);
    });
    after(async () => {
      await cluster?.stop();
    });
    body(() => {
      if (cluster === undefined) throw new Error("the Redis Cluster did not start");
      return cluster;
    });
  });
}
