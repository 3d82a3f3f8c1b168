/**
 * The Redis broker against the broker contract on a single Redis (REDIS_URL,
 * sharded and classic pub/sub) and on a 3-master Redis Cluster started here,
 * plus what only Redis has: frames on the wire, channel subscriptions, how
 * many times a payload crosses Redis. All of it once per supported
 * `@redis/client` line (6, 5, 1.6), each making its own connections.
 *
 * Under CI=true an unreachable REDIS_URL fails the run instead of skipping.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { Broker } from "../../src/cluster/index.js";
import { RedisBroker, type RedisBrokerOptions } from "../../src/cluster/redis.js";
import { encodePublish, FRAME_VERSION, originBytes } from "../../src/cluster/redis-frame.js";
import { silentLogger } from "../../src/shared/logger.js";
import { recordingLogger } from "../helpers/recording-logger.js";
import {
  CLIENT_LINES,
  dropClient,
  type RedisClientLine,
  testClient,
  testCluster,
} from "../helpers/redis-clients.js";
import { type RedisClusterServers, startRedisCluster } from "../helpers/redis-cluster.js";
import { type RedisProcess, rawCommand, startRedis } from "../helpers/redis-server.js";
import { until, untilAsync } from "../socketio/raw-clients.js";
import { brokerContract } from "./broker-contract.js";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const HEARTBEAT = 200;
const run = randomBytes(4).toString("hex");
let serial = 0;
const prefix = () => `sbt:${run}:${serial++}:`;

const redisPort = Number(new URL(REDIS_URL).port || 6379);
const reachable = await rawCommand(redisPort, "PING")
  .then((reply) => reply.startsWith("+PONG"))
  .catch(() => false);
const ci = process.env.CI === "true";

type Client = { sPublish(c: string, m: Buffer): Promise<number> };
const open = new Set<Broker>();
const crashables = new Map<Broker, Client[]>();
/** How each node was made, to restart it under its id. */
const made = new Map<Broker, RedisBrokerOptions>();

function track(broker: RedisBroker): RedisBroker {
  open.add(broker);
  return broker;
}

/** A node maker for one backend: every call a cluster of its own under a fresh prefix. */
function nodes(base: () => RedisBrokerOptions, crashClient: () => Promise<Client[]>) {
  return async (n: number, options: { crashable?: boolean } = {}) => {
    const shared = { prefix: prefix(), heartbeatInterval: HEARTBEAT, logger: silentLogger };
    const out: RedisBroker[] = [];
    for (let i = 0; i < n; i++) {
      let broker: RedisBroker;
      if (options.crashable && i === n - 1) {
        const clients = await crashClient();
        const [client, subscriber] = clients;
        broker = track(new RedisBroker({ ...base(), ...shared, client, subscriber }));
        crashables.set(broker, clients);
      } else broker = track(new RedisBroker({ ...base(), ...shared }));
      made.set(broker, { ...base(), ...shared });
      out.push(broker);
    }
    await Promise.all(out.map((b) => b.ready()));
    return out;
  };
}

const backend = {
  async crash(broker: Broker) {
    for (const client of crashables.get(broker) ?? []) await dropClient(client);
  },
  deadWithin: 2 * HEARTBEAT + 400,
  async restart(broker: Broker) {
    const again = track(new RedisBroker({ ...made.get(broker), nodeId: broker.nodeId }));
    await again.ready();
    return again;
  },
};

after(async () => {
  await Promise.all([...open].map((b) => b.close()));
});

async function singleClients(line: RedisClientLine, url: string): Promise<Client[]> {
  const client = await testClient(line, url, { disableOfflineQueue: true });
  const subscriber = client.duplicate();
  subscriber.on("error", () => {});
  await subscriber.connect();
  return [client, subscriber];
}

/** What only a Redis backend has: frames on the wire, joining nodes. */
function wireTests(base: () => RedisBrokerOptions, rawClient: () => Promise<Client>): void {
  it("foreign, malformed and other-version frames are dropped, counted and logged, never crash", async () => {
    const { lines, logger } = recordingLogger();
    const shared = { ...base(), prefix: prefix(), heartbeatInterval: HEARTBEAT };
    const a = track(new RedisBroker({ ...shared, logger: silentLogger }));
    const b = track(new RedisBroker({ ...shared, logger }));
    await Promise.all([a.ready(), b.ready()]);
    const got: string[] = [];
    await b.subscribe("room", (_t, p) => got.push(String(p)));
    const raw = await rawClient();
    const other = encodePublish(originBytes("elsewhere"), "room", Buffer.from("v2"));
    other[0] = FRAME_VERSION + 1;
    const bad = [
      Buffer.from("not a frame"),
      Buffer.from('{"type":"message"}'),
      other,
      encodePublish(originBytes("elsewhere"), "room", Buffer.from("x")).subarray(0, 9),
      Buffer.alloc(0),
    ];
    for (const channel of [
      `${shared.prefix}t:room`,
      `${shared.prefix}ctl`,
      `${shared.prefix}n:${b.nodeId}`,
    ])
      for (const frame of bad) await raw.sPublish(channel, frame);
    // A well-formed publish on a control channel is out of place too.
    await raw.sPublish(
      `${shared.prefix}ctl`,
      encodePublish(originBytes("elsewhere"), "room", Buffer.from("y")),
    );
    await until(() => b.stats.dropped === 3 * bad.length + 1, 5000, "drops");
    await a.publish("room", Buffer.from("fine"));
    await until(() => got.length === 1, 5000, "delivery after the junk");
    assert.deepEqual(got, ["fine"]);
    assert.equal(b.stats.received, 1);
    assert.ok(
      lines.some((l) => l.startsWith("warn: dropped a malformed or foreign broker message")),
      lines.join("\n"),
    );
    assert.deepEqual(b.nodes(), [a.nodeId]);
    await dropClient(raw);
  });

  it("a joining node knows the cluster's patterns when ready() resolves", async () => {
    const shared = {
      ...base(),
      prefix: prefix(),
      heartbeatInterval: HEARTBEAT,
      logger: silentLogger,
    };
    const b = track(new RedisBroker(shared));
    await b.ready();
    const got: string[] = [];
    await b.subscribe("bayeux/chat/**", (t) => got.push(t), { pattern: true });
    const late = track(new RedisBroker(shared));
    await late.ready();
    assert.deepEqual(late.nodes(), [b.nodeId]);
    await late.publish("bayeux/chat/a/b", Buffer.from(""));
    await until(() => got.length === 1, 5000, "delivery");
    assert.deepEqual(got, ["bayeux/chat/a/b"]);
  });
}

/** A raw subscriber, unknown to the brokers, on one sharded channel. */
type RawSubscribe = (channel: string, fn: () => void) => Promise<unknown>;
/** The part of a client of any line a raw subscriber uses. */
type RawSubscriber = {
  sSubscribe(channel: string, fn: () => void, buffers: boolean): Promise<unknown>;
};

/** Lonely channels: what a publisher skips, and how it finds out it should not. */
function lonelyTests(base: () => RedisBrokerOptions, rawSubscribe: RawSubscribe): void {
  const make = (shared: RedisBrokerOptions) =>
    track(
      new RedisBroker({ ...base(), heartbeatInterval: HEARTBEAT, logger: silentLogger, ...shared }),
    );

  it("skips publishes nobody else receives, counted as skipped, not lost", async () => {
    // No heartbeat during the test: a node dropped for a late one would clear the marks.
    const shared = { prefix: prefix(), heartbeatInterval: 60_000 };
    const [a, b] = [make(shared), make(shared)];
    await Promise.all([a.ready(), b.ready()]);
    await a.subscribe("own", () => {});
    await b.subscribe("theirs", () => {});
    for (let i = 0; i < 5; i++) {
      await a.publish("own", Buffer.from("x"));
      await a.publish("nobody", Buffer.from("x"));
      await a.publish("theirs", Buffer.from("x"));
    }
    await until(() => b.stats.received === 5, 5000, "deliveries");
    assert.equal(a.stats.published, 15);
    assert.equal(a.stats.skipped, 8); // all but the first of "own" and "nobody"
    assert.equal(a.stats.lost, 0);
  });

  it("a receiver the publisher never heard of is found by a probe within a heartbeat interval", async () => {
    const shared = { prefix: prefix() };
    const a = make(shared);
    await a.ready();
    for (let i = 0; i < 3; i++) await a.publish("hidden", Buffer.from("x"));
    assert.equal(a.stats.skipped, 2);
    let heard = 0;
    const raw = await rawSubscribe(`${shared.prefix}t:hidden`, () => heard++);
    const started = Date.now();
    await untilAsync(
      async () => {
        await a.publish("hidden", Buffer.from("x"));
        return heard > 0;
      },
      5000,
      "a publish reaching the unannounced receiver",
    );
    // One sweep marks the mark used, the probe of the next finds the receiver.
    assert.ok(Date.now() - started < 2 * HEARTBEAT + 500, `${Date.now() - started} ms`);
    await dropClient(raw);
  });
}

if (!reachable && ci) {
  it("Redis at REDIS_URL is reachable (required under CI=true)", () => {
    assert.fail(`no Redis at ${REDIS_URL}`);
  });
}

for (const line of CLIENT_LINES) {
  const library = line.library;
  describe(`redis broker (single Redis, sharded pub/sub, ${line.name}): contract`, {
    skip: !reachable && "no Redis",
  }, () => {
    brokerContract(
      nodes(
        () => ({ url: REDIS_URL, library }),
        () => singleClients(line, REDIS_URL),
      ),
      backend,
    );
    lonelyTests(
      () => ({ url: REDIS_URL, library }),
      async (channel, fn) => {
        const client = (await testClient(line, REDIS_URL)) as unknown as RawSubscriber;
        await client.sSubscribe(channel, fn, true);
        return client;
      },
    );
  });

  describe(`redis broker (single Redis, classic pub/sub, ${line.name}): contract`, {
    skip: !reachable && "no Redis",
  }, () => {
    brokerContract(
      nodes(
        () => ({ url: REDIS_URL, sharded: false, library }),
        () => singleClients(line, REDIS_URL),
      ),
      backend,
    );
  });
}

describe("redis broker (3-master Redis Cluster): contract", () => {
  let cluster: RedisClusterServers | undefined;
  before(async () => {
    cluster = await startRedisCluster();
  });
  after(async () => {
    await Promise.all([...open].map((b) => b.close()));
    await cluster?.stop();
  });
  const rootNodes = () => cluster?.nodes ?? [];
  for (const line of CLIENT_LINES) {
    const library = line.library;
    describe(line.name, () => {
      brokerContract(
        nodes(
          () => ({ cluster: { rootNodes: rootNodes() }, library }),
          async () => [
            await testCluster(line, rootNodes(), { defaults: { disableOfflineQueue: true } }),
          ],
        ),
        backend,
      );
      lonelyTests(
        () => ({ cluster: { rootNodes: rootNodes() }, library }),
        async (channel, fn) => {
          const client = (await testCluster(line, rootNodes())) as unknown as RawSubscriber;
          await client.sSubscribe(channel, fn, true);
          return client;
        },
      );
      wireTests(
        () => ({ cluster: { rootNodes: rootNodes() }, library }),
        () => testCluster(line, rootNodes()),
      );
    });
  }
});

describe("redis broker on a server of its own: commands sent", () => {
  let server: RedisProcess | undefined;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await Promise.all([...open].map((b) => b.close()));
    await server?.stop();
  });
  const port = () => server?.port ?? 0;
  const make = (shared: RedisBrokerOptions) =>
    track(
      new RedisBroker({
        url: server?.url,
        heartbeatInterval: 60_000,
        logger: silentLogger,
        ...shared,
      }),
    );
  /** Calls of `command` since the last CONFIG RESETSTAT. */
  async function calls(command: string): Promise<number> {
    const info = await rawCommand(port(), "INFO commandstats");
    return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
  }

  for (const line of CLIENT_LINES) {
    const library = line.library;
    describe(line.name, () => {
      it("a payload crosses Redis once per publish per distinct matching subscription, never per subscriber", async () => {
        const shared = { prefix: prefix(), library };
        const [a, b, c, d] = [make(shared), make(shared), make(shared), make(shared)];
        await Promise.all([a, b, c, d].map((n) => n.ready()));
        let received = 0;
        for (const node of [b, c, d]) await node.subscribe("r/x", () => received++);
        await b.subscribe("r/*", () => received++, { pattern: true });
        await c.subscribe("r/*", () => received++, { pattern: true });
        await d.subscribe("r/**", () => received++, { pattern: true });
        await rawCommand(port(), "CONFIG RESETSTAT");
        await a.publish("r/x", Buffer.from("payload"));
        await until(() => received === 6, 5000, "deliveries");
        assert.equal(await calls("spublish"), 3);
        assert.equal(a.stats.published, 1);
      });

      it("detects sharded pub/sub, and a goodbye drops a node at once (no heartbeat needed)", async () => {
        const { lines, logger } = recordingLogger();
        const shared = { prefix: prefix(), library };
        const a = make({ ...shared, logger });
        const b = make(shared);
        await Promise.all([a.ready(), b.ready()]);
        assert.ok(
          lines.some((l) => /connected to Redis node=\S+ pubsub=sharded/.test(l)),
          lines.join("\n"),
        );
        assert.deepEqual(a.nodes(), [b.nodeId]);
        const started = Date.now();
        await b.close();
        await until(() => a.nodes().length === 0, 2000, "goodbye");
        assert.ok(Date.now() - started < 2000);
      });

      it("subscriptions of one tick go to Redis in one command; only holders are subscribed", async () => {
        const shared = { prefix: prefix(), library };
        const [a, b] = [make(shared), make(shared)];
        await Promise.all([a.ready(), b.ready()]);
        await rawCommand(port(), "CONFIG RESETSTAT");
        const offs = await Promise.all(
          Array.from({ length: 200 }, (_, i) => b.subscribe(`room/${i}`, () => {})),
        );
        assert.equal(await calls("ssubscribe"), 1);
        const count = async (topic: string) =>
          Number(
            /:(\d+)\r\n$/.exec(
              await rawCommand(port(), `PUBSUB SHARDNUMSUB ${shared.prefix}t:${topic}`),
            )?.[1],
          );
        assert.equal(await count("room/7"), 1);
        await a.subscribe("room/7", () => {});
        assert.equal(await count("room/7"), 2);
        await Promise.all(offs.map((off) => off()));
        assert.equal(await calls("sunsubscribe"), 1);
        assert.equal(await count("room/8"), 0);
        assert.equal(await count("room/7"), 1);
      });
    });
  }
});
