/**
 * The idempotency contract against every backend: memory, the shared Redis
 * (`REDIS_URL`), and a three-master Redis Cluster started here; and the
 * memory backend's bound.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MemoryIdempotency } from "../../src/cluster/index.js";
import { RedisIdempotency } from "../../src/cluster/redis-idempotency.js";
import type { RedisConnection } from "../../src/cluster/redis-keys.js";
import { CLIENT_V6, suiteConnection } from "../helpers/redis-clients.js";
import { startRedisCluster } from "../helpers/redis-cluster.js";
import {
  countKeys,
  REDIS_URL,
  type RedisServers,
  redisSkip,
  uniquePrefix,
} from "../helpers/redis-server.js";
import { idempotencyContract } from "./idempotency-contract.js";

describe("memory idempotency: contract", () => {
  idempotencyContract(async () => {
    const claims = new MemoryIdempotency();
    return { claims: [claims, claims], held: async () => claims.size, close: () => claims.close() };
  });
});

describe("memory idempotency", () => {
  it("remembers at most maxEntries claims, forgetting the oldest first", () => {
    const claims = new MemoryIdempotency({ maxEntries: 3 });
    for (const id of ["1", "2", "3", "4"]) assert.equal(claims.claim("c", id, 60000), true);
    assert.equal(claims.size, 3, "bounded");
    assert.equal(claims.claim("c", "4", 60000), false, "the newest is kept");
    assert.equal(claims.claim("c", "2", 60000), false);
    assert.equal(claims.claim("c", "1", 60000), true, "the oldest was forgotten");
    assert.throws(() => new MemoryIdempotency({ maxEntries: 0 }), /maxEntries/);
  });

  it("drops expired claims as later ones pass them (no timer)", () => {
    let now = 1000;
    const claims = new MemoryIdempotency({ now: () => now });
    claims.claim("c", "1", 100);
    claims.claim("c", "2", 100);
    now += 99;
    assert.equal(claims.claim("c", "1", 100), false, "alive 1 ms before its window ends");
    now += 1;
    claims.claim("c", "3", 100);
    assert.equal(claims.size, 1, "the two expired claims went");
  });

  it("keeps a released then claimed-again key for its new window, and stays bounded past many claims", () => {
    let now = 1000;
    const claims = new MemoryIdempotency({ maxEntries: 100, now: () => now });
    claims.claim("c", "a", 100);
    claims.release("c", "a");
    now += 50;
    assert.equal(claims.claim("c", "a", 100), true, "claimed again after its release");
    now += 60;
    claims.claim("c", "b", 100);
    assert.equal(
      claims.claim("c", "a", 100),
      false,
      "its first claim's expiry does not end the second",
    );
    for (let i = 0; i < 10_000; i++) claims.claim("c", `x${i}`, 60_000);
    assert.equal(claims.size, 100, "bounded");
    assert.equal(claims.claim("c", "x9999", 60_000), false, "the newest kept");
    assert.equal(claims.claim("c", "x0", 60_000), true, "the oldest forgotten");
  });
});

/** A backend on a fresh prefix; both "nodes" share one client, as two processes share a server. */
function redisBackend(redis: () => RedisConnection, urls: () => string[]) {
  return async () => {
    const prefix = uniquePrefix("idempotency");
    return {
      claims: [
        new RedisIdempotency(redis(), { prefix }),
        new RedisIdempotency(redis(), { prefix }),
      ] as [RedisIdempotency, RedisIdempotency],
      held: () => countKeys(urls(), prefix),
      close: async () => {},
    };
  };
}

describe("redis idempotency: contract", { skip: await redisSkip() }, () => {
  const redis = suiteConnection(CLIENT_V6, () => ({ url: REDIS_URL }));
  idempotencyContract(redisBackend(redis, () => [REDIS_URL]));

  it("claims key <prefix>pub:{<scope>}:<id>, which expires by itself", async () => {
    const prefix = uniquePrefix("idempotency-layout");
    const claims = new RedisIdempotency(redis(), { prefix });
    assert.equal(claims.keyOf("abc", "9"), `${prefix}pub:{abc}:9`);
    await claims.claim("abc", "9", 60000);
    assert.equal(await countKeys([REDIS_URL], prefix), 1);
    await claims.release("abc", "9");
    assert.equal(await countKeys([REDIS_URL], prefix), 0);
  });
});

describe("redis cluster idempotency: contract", { skip: await redisSkip("cluster") }, () => {
  let cluster: RedisServers;
  before(async () => {
    cluster = await startRedisCluster(3);
  });
  after(async () => {
    await cluster?.stop();
  });
  const redis = suiteConnection(CLIENT_V6, () => ({ rootNodes: cluster.rootNodes }));
  idempotencyContract(redisBackend(redis, () => cluster.urls));
});
