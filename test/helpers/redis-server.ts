/**
 * Throwaway `redis-server` processes on free loopback ports, for tests that
 * kill Redis or need a server of their own, and the shared Redis of the
 * other Redis tests (`REDIS_URL`): reachable or not, skipped or failed
 * (under CI=true a missing Redis fails the test, never skips it).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { connect, createServer } from "node:net";
import { createClient } from "@redis/client";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** Started servers: their URLs (and `host:port` root nodes), and how to stop them. */
export interface RedisServers {
  urls: string[];
  ports: number[];
  /** The same servers as `redis://` URLs, the form a cluster client takes. */
  rootNodes: string[];
  stop(): Promise<void>;
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Answers PING on `port` within `ms`, or rejects. */
export async function waitForRedis(port: number, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pings(port))) {
    if (Date.now() > deadline) throw new Error(`redis on port ${port} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    socket.setTimeout(500, () => socket.destroy());
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      text += chunk;
      if (text.includes("\r\n")) {
        socket.destroy();
        resolve(text.startsWith("+PONG"));
      }
    });
    socket.on("error", () => resolve(false));
    socket.on("close", () => resolve(false));
  });
}

/**
 * Starts `n` standalone servers (no persistence); `extraArgs(port)` adds
 * flags per server (the cluster helper passes its cluster options).
 *
 * @example
 * const redis = await startRedisServers(1);
 * after(() => redis.stop());
 */
export async function startRedisServers(
  n = 1,
  extraArgs: (port: number) => string[] = () => [],
): Promise<RedisServers> {
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGKILL");
          }),
      ),
    );
  };
  try {
    for (let i = 0; i < n; i++) {
      const port = await freePort();
      const args = [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
      ];
      const child = spawn("redis-server", [...args, ...extraArgs(port)], { stdio: "ignore" });
      children.push(child);
      ports.push(port);
    }
    await Promise.all(ports.map((port) => waitForRedis(port)));
  } catch (err) {
    await stop();
    throw err;
  }
  const urls = ports.map((port) => `redis://127.0.0.1:${port}`);
  return { urls, ports, rootNodes: urls, stop };
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
export async function eventually(
  test: () => Promise<boolean>,
  what = "condition",
  ms = 5000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
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
