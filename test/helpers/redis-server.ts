/**
 * Throwaway `redis-server` processes for tests that need servers of their
 * own, and the shared Redis of the other Redis tests (`REDIS_URL`):
 * reachable or not, skipped or failed (under CI=true a missing Redis fails
 * the test, never skips it).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createClient } from "@redis/client";
import { untilAsync } from "../socketio/raw-clients.js";
import { pings, type RedisProcess, startRedis } from "./redis-process.js";

export { freePort, RedisProcess, rawCommand, startRedis } from "./redis-process.js";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** Started servers: their URLs (also as root nodes), ports, processes, and how to stop them. */
export interface RedisServers {
  urls: string[];
  ports: number[];
  /** The same servers as `redis://` URLs, the form a cluster client takes. */
  rootNodes: string[];
  /** The processes, to kill and restart one. */
  servers: RedisProcess[];
  stop(): Promise<void>;
}

/**
 * Starts `n` standalone servers (no persistence); `extra` flags are added
 * to each (the cluster helper passes its cluster options).
 *
 * @example
 * const redis = await startRedisServers(1);
 * after(() => redis.stop());
 */
export async function startRedisServers(n = 1, extra: string[] = []): Promise<RedisServers> {
  const servers: RedisProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    for (let i = 0; i < n; i++) servers.push(await startRedis(extra));
  } catch (err) {
    await stop();
    throw err;
  }
  const urls = servers.map((s) => s.url);
  return { urls, ports: servers.map((s) => s.port), rootNodes: urls, servers, stop };
}

/** Whether the shared Redis at `REDIS_URL` answers. */
export async function sharedRedisReachable(): Promise<boolean> {
  const url = new URL(REDIS_URL);
  return pings(Number(url.port || 6379));
}

/** A key prefix no other run shares. */
export function uniquePrefix(what: string): string {
  return `sbtest:${what}:${randomBytes(4).toString("hex")}:`;
}

/** Checks an asynchronous `test` until it holds; rejects after `ms`. */
export function eventually(
  test: () => Promise<boolean>,
  what = "condition",
  ms = 5000,
): Promise<void> {
  return untilAsync(test, ms, what);
}

/**
 * The `skip` of a Redis `describe`: a reason when Redis is missing, false
 * when it is there or under CI=true (where the missing Redis then fails the
 * tests instead). `what` is "shared" (REDIS_URL) or "cluster" (needs the
 * redis-server and redis-cli binaries).
 */
export async function redisSkip(what: "shared" | "cluster" = "shared"): Promise<string | false> {
  if (process.env.CI === "true") return false;
  if (what === "cluster") {
    return (await binaryRuns("redis-server")) && (await binaryRuns("redis-cli"))
      ? false
      : "redis-server / redis-cli not installed";
  }
  return (await sharedRedisReachable()) ? false : `no Redis at ${REDIS_URL}`;
}

function binaryRuns(name: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(name, ["--version"], { stdio: "ignore" });
    child.on("error", () => resolve(false));
    child.on("exit", (code) => resolve(code === 0));
  });
}

/** Keys starting with `prefix` on every server of `urls` (each cluster master scanned). */
export async function countKeys(urls: string[], prefix: string): Promise<number> {
  let total = 0;
  for (const url of urls) {
    const client = createClient({ url });
    client.on("error", () => {});
    await client.connect();
    try {
      for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
        total += keys.length;
      }
    } finally {
      client.destroy();
    }
  }
  return total;
}
