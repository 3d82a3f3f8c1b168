/**
 * The cluster scenarios of the bench: two node processes on one Redis
 * (REDIS_URL, default redis://127.0.0.1:6379) through counting proxies,
 * against the real peers (socket.io + @socket.io/redis-adapter, faye +
 * faye-redis), kept to about a second each; and the pure parts — the
 * counting proxy (TCP bytes, and pub/sub payload bytes from real Redis pushes
 * in RESP2 and RESP3), the per-node metrics, the checks against another
 * scenario.
 * Without Redis the runs are skipped, except under CI=true where they fail.
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { createServer, connect as netConnect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { type ClusterSnapshot, clusterMetrics, sumStats } from "../../bench/lib/cluster-runner.js";
import { parseOptions, QUICK } from "../../bench/lib/options.js";
import { isCluster, runsScenario } from "../../bench/lib/protocol.js";
import {
  CountingProxy,
  checkReachable,
  proxiedUrl,
  redisAddress,
  redisUrl,
} from "../../bench/lib/redis-proxy.js";
import { checkTargets, type Summary, tableRows } from "../../bench/lib/report.js";
import { runOnce } from "../../bench/lib/runner.js";
import { uniquePrefix } from "../helpers/redis-server.js";
import { until } from "../socketio/raw-clients.js";

const REDIS = redisUrl();
const redisUp = await checkReachable(REDIS).then(
  () => true,
  () => false,
);
if (!redisUp && process.env.CI === "true") {
  throw new Error(`Redis unreachable at ${REDIS} (CI=true: the cluster bench tests must run)`);
}
const needsRedis = redisUp ? false : `Redis unreachable at ${REDIS}`;

function assertFinite(value: number | undefined, what: string): void {
  assert.equal(typeof value, "number", `${what} missing`);
  assert.ok(Number.isFinite(value), `${what} is ${value}`);
}

describe("cluster scenarios against the peers on Redis", { skip: needsRedis }, () => {
  it("runs a short cluster fan-out on socket.io + redis-adapter, CPU of both nodes", {
    timeout: 30_000,
  }, async () => {
    const record = await runOnce(
      "socketio",
      "cluster-fanout",
      { ...QUICK["cluster-fanout"], clients: 20, durationMs: 1000, warmupMs: 200 },
      1,
    );
    assert.equal(record.error, undefined);
    const m = record.metrics;
    assert.equal(m.expected, 20 * 20);
    assert.equal(m.deliveries, m.expected);
    assert.ok(m.node1CpuMs > 0 && m.node2CpuMs > 0, "both nodes used CPU");
    assert.ok(Math.abs(m.serverCpuMs - m.node1CpuMs - m.node2CpuMs) < 1e-6);
    assertFinite(m.cpuPer100k, "cpuPer100k");
    assertFinite(m.p99Ms, "p99Ms");
    // Node 2's members are served through Redis: its proxy saw the traffic.
    assert.ok(m.redisInKB2 > 0, `node 2 read ${m.redisInKB2} KB from Redis`);
    assert.ok(m.redisOutKB1 > 0, "node 1 published to Redis");
  });

  it("runs a short interest scenario on faye + faye-redis and weighs Redis bytes against need", {
    timeout: 30_000,
  }, async () => {
    const record = await runOnce(
      "faye",
      "bayeux-cluster-interest",
      {
        ...QUICK["bayeux-cluster-interest"],
        clients: 20,
        rooms: 10,
        rate: 50,
        durationMs: 1000,
        warmupMs: 200,
      },
      1,
    );
    assert.equal(record.error, undefined);
    const m = record.metrics;
    assert.equal(m.expected, 50 * 2); // 50 messages × 2 members per room
    assert.equal(m.deliveries, m.expected);
    // Node 1 holds the publisher: only the odd rooms' messages are needed, by node 2.
    assert.equal(m.neededBytes1, 0);
    assert.ok(m.neededBytes2 > 0 && m.neededBytes2 < m.publishedBytes);
    assert.equal(m.neededKB, m.neededBytes2 / 1024);
    assertFinite(m.redisInPerNeeded, "redisInPerNeeded");
    assert.equal(m.redisInPerNeeded, ((m.redisInKB1 + m.redisInKB2) * 1024) / m.neededBytes2);
    // faye-redis queues every message in Redis and reads it back: more than the bare need.
    assert.ok(m.redisInPerNeeded > 1, `ratio ${m.redisInPerNeeded}`);
    // Its pub/sub messages carry client ids (the data comes back by list reads): some
    // payload bytes, fewer than all bytes, every connection parsed.
    assert.equal(m.redisPayloadUnparsed, 0);
    assert.ok(m.redisPayloadInKB2 > 0, "node 2 received pub/sub messages");
    assert.ok(m.redisPayloadInKB < m.redisInKB);
    assert.equal(
      m.redisPayloadPerNeeded,
      ((m.redisPayloadInKB1 + m.redisPayloadInKB2) * 1024) / m.neededBytes2,
    );
  });

  it("skips switchboard with the reason while the build has no RedisBroker, else runs it", {
    timeout: 30_000,
  }, async () => {
    const record = await runOnce(
      "switchboard",
      "cluster-fanout",
      { ...QUICK["cluster-fanout"], clients: 20, durationMs: 1000, warmupMs: 200 },
      1,
    );
    assert.equal(record.error, undefined);
    if (record.skipped !== undefined) {
      assert.match(record.skipped, /^switchboard: broker not available/);
      assert.deepEqual(record.metrics, {});
    } else {
      assert.equal(record.metrics.deliveries, record.metrics.expected);
    }
  });
});

describe("the counting proxy", () => {
  let echo: ReturnType<typeof createServer>;
  let port: number;
  before(async () => {
    // Answers every chunk with twice its bytes: the two directions differ.
    echo = createServer((socket) =>
      socket.on("data", (chunk) => socket.write(Buffer.concat([chunk, chunk]))),
    );
    await new Promise<void>((done) => echo.listen(0, "127.0.0.1", done));
    port = (echo.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((done) => echo.close(() => done())));

  it("forwards both ways and counts the bytes of each direction", async () => {
    const proxy = await CountingProxy.start({ host: "127.0.0.1", port });
    const client: Socket = netConnect({ host: "127.0.0.1", port: proxy.port });
    let received = 0;
    client.on("data", (chunk) => {
      received += chunk.length;
    });
    await new Promise<void>((done) => client.once("connect", done));
    client.write("PING\r\n");
    client.write("x".repeat(1000));
    await until(() => received === 2012, 5000, "the doubled answer");
    // Not RESP: the payload count stops on this connection, the forwarding goes on.
    assert.deepEqual(proxy.counts(), { toRedis: 1006, fromRedis: 2012, inPayload: 0, unparsed: 1 });
    await proxy.close();
    await until(() => client.destroyed, 5000, "the proxied connection cut");
  });

  it("keeps credentials and database when it points a URL at the proxy", () => {
    assert.equal(proxiedUrl("redis://:pw@10.0.0.5:6380/2", 4000), "redis://:pw@127.0.0.1:4000/2");
    assert.deepEqual(redisAddress("redis://cache"), { host: "cache", port: 6379 });
    assert.deepEqual(redisAddress("redis://[::1]:7000"), { host: "::1", port: 7000 });
    assert.throws(() => redisAddress("rediss://cache"), /only redis:\/\//);
    assert.equal(redisUrl({}), "redis://127.0.0.1:6379");
    assert.equal(redisUrl({ REDIS_URL: "redis://r:1" }), "redis://r:1");
  });
});

/** A command as a RESP array of bulk strings. */
function command(...args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
}

describe("the counting proxy on Redis pub/sub", { skip: needsRedis }, () => {
  for (const protocol of [2, 3]) {
    it(`counts the payloads of message, pmessage and smessage in RESP${protocol}`, {
      timeout: 15_000,
    }, async () => {
      const prefix = uniquePrefix("payload");
      const proxy = await CountingProxy.start(redisAddress(REDIS));
      const publisher = new Redis(REDIS, { lazyConnect: true });
      const subscriber: Socket = netConnect({ host: "127.0.0.1", port: proxy.port });
      let text = "";
      subscriber.on("data", (chunk: Buffer) => {
        text += chunk.toString("latin1");
      });
      try {
        await new Promise<void>((done) => subscriber.once("connect", done));
        await publisher.connect();
        if (protocol === 3) subscriber.write(command("HELLO", "3"));
        subscriber.write(command("SUBSCRIBE", `${prefix}c`));
        subscriber.write(command("PSUBSCRIBE", `${prefix}p*`));
        // Redis answers in order: the last confirmation means all three hold.
        subscriber.write(command("SSUBSCRIBE", `${prefix}s`));
        await until(() => text.includes("ssubscribe"), 5000, "the subscriptions");
        assert.equal(proxy.counts().inPayload, 0);
        const big = "x".repeat(200_000); // many TCP chunks
        const payloads: [string, string, string][] = [
          ["PUBLISH", `${prefix}c`, "alpha"],
          ["PUBLISH", `${prefix}p1`, "beta-beta"],
          ["SPUBLISH", `${prefix}s`, "γάμμα"],
          ["PUBLISH", `${prefix}c`, big],
          ["PUBLISH", `${prefix}nobody`, "not delivered"],
        ];
        for (const [verb, channel, data] of payloads) await publisher.call(verb, channel, data);
        const expected = 5 + 9 + 10 + big.length;
        await until(() => proxy.counts().inPayload === expected, 5000, "the payload bytes");
        await until(() => text.endsWith(`${big}\r\n`), 5000, "the last message forwarded");
        const counts = proxy.counts();
        assert.equal(counts.unparsed, 0);
        assert.equal(counts.fromRedis, Buffer.byteLength(text, "latin1"));
        // Framing, kinds, channel names and the subscription replies are the rest.
        assert.ok(counts.fromRedis - counts.inPayload > 4 * prefix.length);
        assert.ok(text.includes(protocol === 3 ? ">4\r\n$8\r\npmessage" : "*4\r\n$8\r\npmessage"));
      } finally {
        subscriber.destroy();
        publisher.disconnect();
        await proxy.close();
      }
    });
  }
});

describe("cluster metrics and checks", () => {
  const stats = (cpuMs: number) => ({
    cpuUser: cpuMs * 1000,
    cpuSystem: 0,
    rss: 1,
    heapUsed: 2,
    external: 3,
  });
  const snapshot = (cpu: number[], fromRedis: number[], unparsed = 0): ClusterSnapshot => ({
    nodes: cpu.map(stats),
    redis: fromRedis.map((bytes) => ({
      fromRedis: bytes,
      toRedis: bytes / 2,
      inPayload: bytes / 4,
      unparsed,
    })),
  });

  it("sums the nodes and weighs each node's Redis inbound against what its members need", () => {
    assert.deepEqual(sumStats([stats(2), stats(3)]), {
      cpuUser: 5000,
      cpuSystem: 0,
      rss: 2,
      heapUsed: 4,
      external: 6,
    });
    const metrics = clusterMetrics(
      { neededBytes1: 0, neededBytes2: 4096 },
      snapshot([100, 50], [1024, 0]),
      snapshot([300, 100], [2048, 5120]),
    );
    assert.equal(metrics.node1CpuMs, 200);
    assert.equal(metrics.node2CpuMs, 50);
    assert.equal(metrics.redisInKB1, 1);
    assert.equal(metrics.redisInKB2, 5);
    assert.equal(metrics.redisInKB, 6);
    assert.equal(metrics.redisOutKB, 3);
    assert.equal(metrics.neededKB, 4);
    assert.equal(metrics.redisInPerNeeded, 1.5);
    // Payloads: a quarter of each node's inbound in this made-up window.
    assert.equal(metrics.redisPayloadInKB1, 0.25);
    assert.equal(metrics.redisPayloadInKB2, 1.25);
    assert.equal(metrics.redisPayloadInKB, 1.5);
    assert.equal(metrics.redisPayloadPerNeeded, 0.375);
    assert.equal(metrics.redisPayloadUnparsed, 0);
    // A fan-out reports no need: no ratio; connections not parsed by the end are reported.
    const fanout = clusterMetrics({}, snapshot([0, 0], [0, 0]), snapshot([1, 1], [10, 10], 1));
    assert.equal(fanout.redisInPerNeeded, undefined);
    assert.equal(fanout.redisPayloadPerNeeded, undefined);
    assert.equal(fanout.redisPayloadUnparsed, 2);
    assert.equal(fanout.neededKB, undefined);
  });

  it("checks the cluster targets against the peers, the single-node run and the need", () => {
    const summary: Summary = {
      fanout: { switchboard: { cpuPer100k: 1 } },
      "cluster-fanout": {
        switchboard: { cpuPer100k: 1.2, p99Ms: 5 },
        socketio: { cpuPer100k: 3, p99Ms: 4 },
      },
      "cluster-interest": { switchboard: { redisInPerNeeded: 1.05 } },
    };
    const lines = checkTargets(summary);
    const line = (start: string) => lines.find((l) => l.includes(start)) ?? "";
    assert.match(line("cluster fan-out CPU ≤ 0.6×"), /^PASS .*measured 0\.40×/);
    assert.match(line("cluster fan-out p99"), /^FAIL .*measured 1\.25×/);
    assert.match(line("cluster fan-out CPU ≤ 1.3× single-node"), /^PASS .*measured 1\.20×/);
    assert.match(line("cluster interest"), /^PASS .*measured 1\.05 ×/);
    const bayeux = checkTargets(summary, "bayeux").filter((l) => l.includes("cluster"));
    assert.equal(bayeux.length, 4);
    assert.ok(bayeux.every((l) => l.startsWith("n/a")));
    const rows = tableRows(summary, ["switchboard", "socketio", "ws"]);
    const cpu = rows.find((r) => r[0] === "cluster-fanout" && r[1].startsWith("server CPU"));
    assert.deepEqual(cpu?.slice(2), ["1.200", "3.000", "–", "", "", "0.40"]);
  });

  it("names the cluster scenarios and runs them on every target but ws", () => {
    const options = parseOptions(["--scenario", "cluster-fanout,bayeux-cluster-interest"], {});
    assert.deepEqual(options.scenarios, ["cluster-fanout", "bayeux-cluster-interest"]);
    assert.equal(options.params["cluster-fanout"].clients, 1000);
    assert.equal(options.params["cluster-interest"].rooms, 100);
    assert.ok(isCluster("bayeux-cluster-fanout") && !isCluster("fanout"));
    assert.ok(runsScenario("socketio", "cluster-fanout"));
    assert.ok(runsScenario("faye", "bayeux-cluster-interest"));
    assert.ok(!runsScenario("faye", "cluster-fanout"));
    assert.ok(!runsScenario("ws", "cluster-fanout"));
    assert.ok(!runsScenario("ws", "bayeux-cluster-interest"));
  });
});
