/**
 * Broker factories of the multi-node suites on Redis: a single Redis
 * (REDIS_URL) and a 3-master Redis Cluster started once per test file.
 * Every factory call is one cluster of nodes under a prefix of its own, so
 * suites sharing a Redis never hear each other. Heartbeats are short, so a
 * closed or silent node drops out fast.
 *
 * Under CI=true an unreachable REDIS_URL fails the suite instead of skipping.
 */
import { describe } from "node:test";
import type { Broker } from "../../src/cluster/index.js";
import { RedisBroker, type RedisBrokerOptions } from "../../src/cluster/redis.js";
import { silentLogger } from "../../src/shared/logger.js";
import { describeOnRedisCluster } from "../helpers/redis-cluster.js";
import { REDIS_URL, redisSkip, uniquePrefix } from "../helpers/redis-server.js";

/**
 * Heartbeat of the suites' brokers: a node is dropped after two silent
 * intervals. Closed nodes say GOODBYE and drop at once, so this only has to
 * outlast a busy event loop on a loaded machine.
 */
export const HEARTBEAT = 500;

/** Makes the brokers of one cluster. */
export interface BrokerFactory {
  /** A new node's broker. */
  connect(): Broker | Promise<Broker>;
  /** Ends the cluster (after every broker was closed). */
  close?(): Promise<void>;
}

/** A multi-node suite: its name and broker factory, as the suites take them. */
export type NodesSuite = (name: string, makeFactory: () => BrokerFactory) => void;

/**
 * A ready Redis broker for a test node: the short test heartbeat, a bounded
 * wait for Redis, no logging; closed again when Redis cannot be reached.
 */
export async function connectTestBroker(options: RedisBrokerOptions): Promise<Broker> {
  const broker = new RedisBroker({
    heartbeatInterval: HEARTBEAT,
    readyTimeout: 5000,
    logger: silentLogger,
    ...options,
  });
  try {
    await broker.ready();
  } catch (err) {
    // Unreachable: stop its retries, so the failed run can end.
    await broker.close();
    throw err;
  }
  return broker;
}

function factory(what: string, target: () => RedisBrokerOptions): BrokerFactory {
  const prefix = uniquePrefix(what);
  return { connect: () => connectTestBroker({ ...target(), prefix }) };
}

/**
 * Runs `suite` on the shared Redis (skipped when it is missing, outside CI)
 * and on a Redis Cluster started for it (skipped without the Redis
 * binaries, outside CI) and stopped after it.
 *
 * @example
 * await onRedis(socketioNodesSuite);
 */
export async function onRedis(suite: NodesSuite): Promise<void> {
  describe("on a single Redis", { skip: await redisSkip("shared") }, () => {
    suite("single Redis", () => factory("nodes", () => ({ url: REDIS_URL })));
  });

  await describeOnRedisCluster((servers) => {
    suite("3-master Redis Cluster", () =>
      factory("nodes-cluster", () => ({ cluster: { rootNodes: servers().nodes } })));
  });
}
