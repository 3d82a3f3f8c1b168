/**
 * The Redis broker when Redis fails: each test runs its own redis-server on a
 * free port, starts it late or kills it (SIGKILL) mid-traffic and restarts it
 * on the same port. Nodes keep running, count what is lost, log, reconnect
 * and restore every subscription (on a single server with `@redis/client` 6
 * and 1.6).
 */
import assert from "node:assert/strict";
import { after, it } from "node:test";
import { RedisBroker, type RedisBrokerOptions } from "../../src/cluster/redis.js";
import { clusterSlot } from "../../src/cluster/redis-slot.js";
import { recordingLogger } from "../helpers/recording-logger.js";
import { CLIENT_V1, CLIENT_V6 } from "../helpers/redis-clients.js";
import { startRedisCluster } from "../helpers/redis-cluster.js";
import { freePort, RedisProcess } from "../helpers/redis-server.js";
import { until } from "../socketio/raw-clients.js";

const servers: RedisProcess[] = [];
const brokers: RedisBroker[] = [];

after(async () => {
  await Promise.all(brokers.map((b) => b.close()));
  await Promise.all(servers.map((s) => s.stop()));
});

async function server(): Promise<RedisProcess> {
  const made = new RedisProcess(await freePort());
  servers.push(made);
  return made;
}

function broker(options: RedisBrokerOptions): RedisBroker {
  const made = new RedisBroker({
    heartbeatInterval: 200,
    backoff: { initial: 20, max: 200 },
    prefix: "faults:",
    ...options,
  });
  brokers.push(made);
  return made;
}

// Single-server outages on the newest and the oldest supported client line.
for (const line of [CLIENT_V6, CLIENT_V1]) {
  it(`Redis unavailable at start: the node keeps retrying, ready() times out, then resolves once Redis is up (${line.name})`, async () => {
    const redis = await server();
    const { lines, logger } = recordingLogger();
    const a = broker({ library: line.library, url: redis.url, logger });
    await assert.rejects(a.ready(300), { code: "ERR_BROKER_UNAVAILABLE" });
    await a.publish("room", Buffer.from("into the void"));
    assert.deepEqual(
      { published: a.stats.published, lost: a.stats.lost },
      { published: 1, lost: 1 },
    );
    const got: string[] = [];
    const subscribed = a.subscribe("room", (_t, p) => got.push(String(p)));
    await until(() => lines.some((l) => l.includes("unreachable at start")), 5000, "the log line");
    await redis.start();
    await a.ready(10_000);
    await subscribed;
    const b = broker({ library: line.library, url: redis.url, logger: recordingLogger().logger });
    await b.ready();
    assert.deepEqual(b.nodes(), [a.nodeId]);
    await b.publish("room", Buffer.from("hello"));
    await until(() => got.length === 1, 5000, "delivery");
    assert.deepEqual(got, ["hello"]);
    assert.equal(a.stats.reconnects, 0);
  });

  it(`Redis killed mid-traffic: publishes are lost and counted, nodes reconnect and every subscription comes back (${line.name})`, async () => {
    const redis = await server();
    await redis.start();
    const logs = recordingLogger();
    const a = broker({ library: line.library, url: redis.url, logger: recordingLogger().logger });
    const b = broker({ library: line.library, url: redis.url, logger: logs.logger });
    await Promise.all([a.ready(), b.ready()]);
    const got: string[] = [];
    await b.subscribe("room/1", (t, p) => got.push(`${t}=${p}`));
    await b.subscribe("bayeux/**", (t, p) => got.push(`${t}~${p}`), { pattern: true });
    await a.publish("room/1", Buffer.from("before"));
    await until(() => got.length === 1, 5000, "delivery before the kill");

    await redis.kill();
    for (let i = 0; i < 5; i++) await a.publish("room/1", Buffer.from(`during ${i}`));
    assert.equal(a.stats.lost, 5);
    assert.equal(a.stats.published, 6);
    const during = await a.request("anything", Buffer.alloc(0), { timeout: 5000 });
    assert.deepEqual(during, { replies: [], missing: [b.nodeId] });
    await until(
      () => logs.lines.some((l) => l.includes("Redis connection lost")),
      5000,
      "the log line",
    );
    // Subscribed during the outage: effective once Redis is back.
    const late = b.subscribe("room/2", (t, p) => got.push(`${t}=${p}`));

    await redis.start();
    await until(() => a.stats.reconnects >= 1 && b.stats.reconnects >= 1, 10_000, "reconnects");
    await late;
    const want = ["room/1=after", "bayeux/x/y~after", "room/2=after"];
    const ticker = setInterval(() => {
      for (const topic of ["room/1", "bayeux/x/y", "room/2"])
        void a.publish(topic, Buffer.from("after"));
    }, 50);
    try {
      await until(() => want.every((w) => got.includes(w)), 10_000, "deliveries after the restart");
    } finally {
      clearInterval(ticker);
    }
    assert.ok(!got.some((g) => g.includes("during")));
    assert.ok(
      logs.lines.some((l) => l.includes("Redis connection back")),
      logs.lines.join("\n"),
    );
    assert.deepEqual(a.nodes(), [b.nodeId]);
    assert.deepEqual(b.nodes(), [a.nodeId]);
    const answered = await b.respond("ping", () => Buffer.from("pong"));
    const result = await a.request("ping", Buffer.alloc(0), { timeout: 5000 });
    assert.deepEqual(
      result.replies.map((r) => String(r.payload)),
      ["pong"],
    );
    await answered();
  });
}

it("close() while Redis is unreachable ends the retries at once", async () => {
  const redis = await server();
  const a = broker({ url: redis.url, logger: recordingLogger().logger });
  const ready = a.ready(60_000);
  await new Promise((resolve) => setImmediate(resolve));
  const started = Date.now();
  await a.close();
  assert.ok(Date.now() - started < 1000);
  await assert.rejects(ready, { code: "ERR_BROKER_CLOSED" });
  await a.publish("room", Buffer.from("after close"));
  assert.equal(a.stats.published, 0);
});

it("Redis Cluster: a master killed and restarted, the shard's subscriptions come back", async () => {
  const cluster = await startRedisCluster();
  try {
    const logs = recordingLogger();
    const options = { cluster: { rootNodes: cluster.nodes }, prefix: "cluster-faults:" };
    const a = broker({ ...options, logger: recordingLogger().logger });
    const b = broker({ ...options, logger: logs.logger });
    await Promise.all([a.ready(), b.ready()]);
    const topics = Array.from({ length: 24 }, (_, i) => `room/${i}`);
    const got = new Set<string>();
    await Promise.all(topics.map((t) => b.subscribe(t, (topic) => got.add(topic))));
    await Promise.all(topics.map((t) => a.publish(t, Buffer.from("before"))));
    await until(() => got.size === topics.length, 5000, "deliveries before the kill");

    // redis-cli gives the first master slots 0..5460: some of these channels live there.
    assert.ok(topics.some((t) => clusterSlot(`cluster-faults:t:${t}`) <= 5460));
    const victim = cluster.servers[0];
    await victim.kill();
    await until(
      () => logs.lines.some((l) => l.includes("Redis connection lost")),
      10_000,
      "the log line",
    );
    await victim.start();
    got.clear();
    const ticker = setInterval(() => {
      for (const t of topics) if (!got.has(t)) void a.publish(t, Buffer.from("after"));
    }, 100);
    try {
      await until(() => got.size === topics.length, 20_000, "deliveries after the restart");
    } finally {
      clearInterval(ticker);
    }
    assert.ok(b.stats.reconnects >= 1);
  } finally {
    await Promise.all(brokers.splice(0).map((x) => x.close()));
    await cluster.stop();
  }
});
