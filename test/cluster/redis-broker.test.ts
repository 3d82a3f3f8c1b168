/**
 * The Redis broker against the broker contract on a single Redis (REDIS_URL,
 * sharded and classic pub/sub) and on a 3-master Redis Cluster started here,
 * plus what only Redis has: frames on the wire, channel subscriptions, how
 * many times a payload crosses Redis.
 *
 * Under CI=true an unreachable REDIS_URL fails the run instead of skipping.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createClient, createCluster } from "@redis/client";
import type { Broker } from "../../src/cluster/index.js";
import { RedisBroker, type RedisBrokerOptions } from "../../src/cluster/redis.js";
import { encodePublish, FRAME_VERSION, originBytes } from "../../src/cluster/redis-frame.js";
import { silentLogger } from "../../src/shared/logger.js";
import { until } from "../socketio/raw-clients.js";
import { brokerContract } from "./broker-contract.js";
import {
  type RedisClusterProcesses,
  rawCommand,
  startRedis,
  startRedisCluster,
} from "./redis-procs.js";

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

type Client = { destroy(): void; sPublish(c: string, m: Buffer): Promise<number> };
const open = new Set<Broker>();
const crashables = new Map<Broker, Client[]>();

function track(broker: RedisBroker): RedisBroker {
  open.add(broker);
  return broker;
}

/** A node maker for one backend: every call a cluster of its own under a fresh prefix. */
function nodes(base: () => RedisBrokerOptions, crashClient: () => Promise<Client[]>) {
  return async (n: number, options: { crashable?: boolean } = {}) => {
    const shared = { prefix: prefix(), heartbeatInterval: HEARTBEAT, logger: silentLogger };
    const made: RedisBroker[] = [];
    for (let i = 0; i < n; i++) {
      if (options.crashable && i === n - 1) {
        const clients = await crashClient();
        const [client, subscriber] = clients;
        const broker = track(new RedisBroker({ ...base(), ...shared, client, subscriber }));
        crashables.set(broker, clients);
        made.push(broker);
      } else made.push(track(new RedisBroker({ ...base(), ...shared })));
    }
    await Promise.all(made.map((b) => b.ready()));
    return made;
  };
}

const backend = {
  async crash(broker: Broker) {
    for (const client of crashables.get(broker) ?? []) client.destroy();
  },
  deadWithin: 2 * HEARTBEAT + 400,
};

after(async () => {
  await Promise.all([...open].map((b) => b.close()));
});

async function singleClients(url: string): Promise<Client[]> {
  const client = createClient({ url, disableOfflineQueue: true });
  const subscriber = client.duplicate();
  client.on("error", () => {});
  subscriber.on("error", () => {});
  await Promise.all([client.connect(), subscriber.connect()]);
  return [client as unknown as Client, subscriber as unknown as Client];
}

if (!reachable && ci) {
  it("Redis at REDIS_URL is reachable (required under CI=true)", () => {
    assert.fail(`no Redis at ${REDIS_URL}`);
  });
}

describe("redis broker (single Redis, sharded pub/sub): contract", {
  skip: !reachable && "no Redis",
}, () => {
  brokerContract(
    nodes(
      () => ({ url: REDIS_URL }),
      () => singleClients(REDIS_URL),
    ),
    backend,
  );
});

describe("redis broker (single Redis, classic pub/sub): contract", {
  skip: !reachable && "no Redis",
}, () => {
  brokerContract(
    nodes(
      () => ({ url: REDIS_URL, sharded: false }),
      () => singleClients(REDIS_URL),
    ),
    backend,
  );
});

describe("redis broker (3-master Redis Cluster): contract", () => {
  let cluster: RedisClusterProcesses | undefined;
  before(async () => {
    cluster = await startRedisCluster();
  });
  after(async () => {
    await Promise.all([...open].map((b) => b.close()));
    await cluster?.stop();
  });
  const rootNodes = () => cluster?.rootNodes ?? [];
  brokerContract(
    nodes(
      () => ({ cluster: { rootNodes: rootNodes() } }),
      async () => {
        const client = createCluster({
          rootNodes: rootNodes(),
          defaults: { disableOfflineQueue: true },
        });
        client.on("error", () => {});
        await client.connect();
        return [client as unknown as Client];
      },
    ),
    backend,
  );
});
