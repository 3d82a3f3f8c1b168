/**
 * `/metrics` of a Redis broker's faults. On the shared Redis: Redis kills
 * the broker's subscriber connection (CLIENT KILL ID, so no other test's
 * connection is touched) and the reconnect is counted; a foreign message on
 * the broker's control channel is dropped and counted. On a redis-server of
 * its own, killed and restarted: the publishes made while it is down are
 * lost and counted. Both fail under CI=true without Redis.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { createClient } from "@redis/client";
import { RedisBroker } from "../../src/cluster/redis-broker.js";
import { silentLogger } from "../../src/shared/logger.js";
import { REDIS_URL, redisSkip, startRedis, uniquePrefix } from "../helpers/redis-server.js";
import { until, untilAsync } from "../socketio/raw-clients.js";
import { type MetricsNode, sampleOf, scrape, startMetricsNode } from "./metrics-helpers.js";

const cleanup: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => {});
});

/** The broker figures of the node's exposition. */
async function brokerFigures(node: MetricsNode) {
  const { samples } = await scrape(node.port);
  const v = (name: string) => sampleOf(samples, `switchboard_${name}`);
  return {
    published: v("broker_published_total"),
    lost: v("broker_lost_total"),
    reconnects: v("broker_reconnects_total"),
    dropped: v("broker_dropped_total"),
  };
}

async function watched(broker: RedisBroker): Promise<MetricsNode> {
  cleanup.push(() => broker.close());
  await broker.ready();
  const node = await startMetricsNode({ broker });
  cleanup.push(() => node.close());
  return node;
}

describe("/metrics of a broker connection killed by Redis", {
  skip: await redisSkip("shared"),
}, () => {
  it("counts the reconnect, and a foreign message on the control channel as dropped", {
    timeout: 20_000,
  }, async () => {
    const prefix = uniquePrefix("metrics-kill");
    const commands = createClient({ url: REDIS_URL, disableOfflineQueue: true });
    commands.on("error", () => {});
    await commands.connect();
    cleanup.push(() => commands.quit());
    const subscriber = commands.duplicate();
    subscriber.on("error", () => {});
    await subscriber.connect();
    cleanup.push(() => subscriber.quit());
    const subscriberId = Number(await subscriber.sendCommand(["CLIENT", "ID"]));
    const broker = new RedisBroker({
      client: commands,
      subscriber,
      prefix,
      sharded: true,
      logger: silentLogger,
    });
    const node = await watched(broker);
    assert.deepEqual(await brokerFigures(node), {
      published: 0,
      lost: 0,
      reconnects: 0,
      dropped: 0,
    });

    const killed = await commands.sendCommand(["CLIENT", "KILL", "ID", String(subscriberId)]);
    assert.equal(Number(killed), 1);
    await until(() => broker.stats.reconnects === 1, 10_000, "the broker's reconnect");
    assert.equal((await brokerFigures(node)).reconnects, 1);

    // Not a broker frame, on the channel every node of this prefix listens to
    // (subscribed again after the reconnect: sent until Redis says one received it).
    await untilAsync(
      async () => Number(await commands.sPublish(`${prefix}ctl`, Buffer.from("not a frame"))) > 0,
      5000,
      "the control channel subscribed again",
    );
    await until(() => broker.stats.dropped === 1, 5000, "the drop");
    assert.deepEqual(await brokerFigures(node), {
      published: 0,
      lost: 0,
      reconnects: 1,
      dropped: 1,
    });
  });
});

describe("/metrics of a Redis outage", { skip: await redisSkip("cluster") }, () => {
  it("counts the publishes lost while Redis is down, then the reconnect", {
    timeout: 30_000,
  }, async () => {
    const redis = await startRedis();
    cleanup.push(() => redis.stop());
    const broker = new RedisBroker({
      url: redis.url,
      prefix: uniquePrefix("metrics-outage"),
      backoff: { initial: 20, max: 200 },
      logger: silentLogger,
    });
    const node = await watched(broker);
    await redis.kill();
    await until(() => !broker.connected, 5000, "the broker to see Redis gone");
    for (let i = 0; i < 3; i++) await broker.publish("news", Buffer.from(`while down ${i}`));
    assert.deepEqual(await brokerFigures(node), {
      published: 3,
      lost: 3,
      reconnects: 0,
      dropped: 0,
    });
    await redis.start();
    await until(() => broker.connected, 10_000, "the broker's reconnect");
    await broker.publish("news", Buffer.from("back"));
    assert.deepEqual(await brokerFigures(node), {
      published: 4,
      lost: 3,
      reconnects: 1,
      dropped: 0,
    });
  });
});
