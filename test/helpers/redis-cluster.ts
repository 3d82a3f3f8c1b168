/**
 * A throwaway Redis Cluster: `n` masters (no replicas) on free loopback
 * ports, each with its nodes file in a temporary directory, joined with
 * `redis-cli --cluster create`. The caller stops it in `after`.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type RedisServers, startRedisServers } from "./redis-server.js";

const run = promisify(execFile);

/**
 * @example
 * const cluster = await startRedisCluster(3);
 * const redis = await connectRedis({ rootNodes: cluster.rootNodes });
 * after(async () => { await redis.close(); await cluster.stop(); });
 */
export async function startRedisCluster(n = 3, ms = 20000): Promise<RedisServers> {
  const dir = mkdtempSync(join(tmpdir(), "sb-redis-cluster-"));
  const servers = await startRedisServers(n, (port) => [
    "--cluster-enabled",
    "yes",
    "--cluster-config-file",
    join(dir, `nodes-${port}.conf`),
    "--cluster-node-timeout",
    "2000",
  ]);
  const stop = async (): Promise<void> => {
    await servers.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const nodes = servers.ports.map((port) => `127.0.0.1:${port}`);
    await run("redis-cli", [
      "--cluster",
      "create",
      ...nodes,
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ]);
    for (const port of servers.ports) await clusterReady(port, n, ms);
  } catch (err) {
    await stop();
    throw err;
  }
  return { ...servers, stop };
}

/** Waits until every node reports the cluster ok with `n` known nodes. */
async function clusterReady(port: number, n: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const { stdout } = await run("redis-cli", ["-p", String(port), "cluster", "info"]);
    if (stdout.includes("cluster_state:ok") && stdout.includes(`cluster_known_nodes:${n}`)) return;
    if (Date.now() > deadline) throw new Error(`redis cluster not ready: ${stdout}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
