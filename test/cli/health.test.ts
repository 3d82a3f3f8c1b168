/**
 * `/health` and `/ready`: the Health handler on its own (checks, a throwing
 * check, draining, methods, other paths), and the standalone server's
 * endpoints: ready while listening, the broker reachable on a cluster node
 * (shared Redis; fails under CI=true without it), not ready while the node's
 * own redis-server is down and ready again once it is back, and 503 during
 * the shutdown's drain delay while the node still serves.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { ServeOptions } from "../../src/cli/options.js";
import { startServer } from "../../src/cli/server.js";
import { Health } from "../../src/ops/health.js";
import { LOCAL_SERVE, startClusterNode } from "../helpers/cli-node.js";
import { recordingLogger } from "../helpers/recording-logger.js";
import { REDIS_URL, redisSkip, startRedis, uniquePrefix } from "../helpers/redis-server.js";
import { until } from "../socketio/raw-clients.js";

const options: ServeOptions = { ...LOCAL_SERVE };

async function get(base: string, path: string, method = "GET") {
  const res = await fetch(`${base}${path}`, { method, signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  return { status: res.status, type: res.headers.get("content-type"), text };
}

describe("the Health handler", () => {
  let server: Server;
  let base: string;
  let broker = true;
  const health = new Health([
    { name: "listening", ok: () => true },
    { name: "broker", ok: () => broker },
    {
      name: "flaky",
      ok: () => {
        if (!broker) throw new Error("cannot tell");
        return true;
      },
    },
  ]);

  before(async () => {
    server = createServer((req, res) => {
      if (health.handle(req, res)) return;
      res.writeHead(404);
      res.end("app");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("answers /health and /ready with JSON, and leaves other paths alone", async () => {
    const up = await get(base, "/health");
    assert.equal(up.status, 200);
    assert.match(up.type ?? "", /^application\/json/);
    assert.equal(JSON.parse(up.text).status, "ok");
    const ready = await get(base, "/ready?probe=1");
    assert.equal(ready.status, 200);
    assert.deepEqual(JSON.parse(ready.text), {
      ready: true,
      draining: false,
      checks: { listening: true, broker: true, flaky: true },
    });
    assert.equal((await get(base, "/healthz")).text, "app");
    assert.equal((await get(base, "/ready", "HEAD")).text, "");
    assert.equal((await get(base, "/ready", "POST")).status, 405);
  });

  it("is not ready while a check fails or throws, nor once draining; /health stays 200", async () => {
    broker = false;
    const down = await get(base, "/ready");
    assert.equal(down.status, 503);
    assert.deepEqual(JSON.parse(down.text).checks, {
      listening: true,
      broker: false,
      flaky: false,
    });
    broker = true;
    assert.equal((await get(base, "/ready")).status, 200);
    health.drain();
    const draining = await get(base, "/ready");
    assert.equal(draining.status, 503);
    assert.equal(JSON.parse(draining.text).draining, true);
    assert.equal((await get(base, "/health")).status, 200);
  });
});

describe("the standalone server's /health and /ready", () => {
  it("is ready while listening, and answers 503 during the drain delay while still serving", {
    timeout: 15_000,
  }, async () => {
    const { records, logger } = recordingLogger();
    const running = await startServer({ ...options, drainDelay: 1500 }, { logger });
    const base = `http://127.0.0.1:${running.port}`;
    assert.equal((await get(base, "/health")).status, 200);
    const ready = await get(base, "/ready");
    assert.equal(ready.status, 200);
    assert.deepEqual(JSON.parse(ready.text).checks, { listening: true });
    const closed = running.close();
    await until(() => running.health.draining, 2000, "the shutdown to start draining");
    const drained = await get(base, "/ready");
    assert.equal(drained.status, 503, "a balancer sees the node draining");
    const draining = records.find((r) => r.msg === "draining: /ready answers 503");
    assert.equal(draining?.level, "info");
    assert.equal(draining?.bindings.component, "cli");
    assert.equal(draining?.obj.drainDelay, 1500);
    assert.equal((await get(base, "/config.json")).status, 200, "still serving meanwhile");
    await closed;
    await assert.rejects(get(base, "/health"), "no longer listening");
  });
});

describe("a cluster node's /ready", { skip: await redisSkip("shared") }, () => {
  it("reports the broker reachable", { timeout: 15_000 }, async () => {
    const node = await startClusterNode({
      redisUrl: REDIS_URL,
      nodeId: "ready-a",
      prefix: uniquePrefix("health"),
    });
    try {
      const ready = await get(`http://127.0.0.1:${node.port}`, "/ready");
      assert.equal(ready.status, 200, ready.text);
      assert.deepEqual(JSON.parse(ready.text).checks, { listening: true, broker: true });
      assert.equal(node.broker?.connected, true);
    } finally {
      await node.close();
    }
    assert.equal(node.broker?.connected, false, "closed");
  });
});

describe("a cluster node's /ready while its Redis is down", {
  skip: await redisSkip("cluster"),
}, () => {
  it("answers 503 with the broker false during the outage, and 200 once Redis is back", {
    timeout: 30_000,
  }, async () => {
    const redis = await startRedis();
    const node = await startClusterNode({
      redisUrl: redis.url,
      nodeId: "ready-outage",
      prefix: uniquePrefix("health"),
    });
    const base = `http://127.0.0.1:${node.port}`;
    try {
      assert.equal((await get(base, "/ready")).status, 200);
      await redis.kill();
      await until(() => node.broker?.connected === false, 10_000, "the broker to see the outage");
      const down = await get(base, "/ready");
      assert.equal(down.status, 503, down.text);
      assert.match(down.type ?? "", /^application\/json/);
      assert.deepEqual(JSON.parse(down.text), {
        ready: false,
        draining: false,
        checks: { listening: true, broker: false },
      });
      assert.equal((await get(base, "/health")).status, 200, "the process is still up");

      await redis.start();
      await until(() => node.broker?.connected === true, 15_000, "the broker to reconnect");
      const back = await get(base, "/ready");
      assert.equal(back.status, 200, back.text);
      assert.deepEqual(JSON.parse(back.text).checks, { listening: true, broker: true });
    } finally {
      await node.close();
      await redis.stop();
    }
  });
});
