/**
 * The session store contract against every backend: memory, the shared
 * Redis (`REDIS_URL`), and a three-master Redis Cluster started here.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MemorySessionStore } from "../../src/cluster/index.js";
import type { RedisConnection } from "../../src/cluster/redis-keys.js";
import { RedisSessionStore } from "../../src/cluster/redis-session-store.js";
import { CLIENT_LINES, suiteConnection } from "../helpers/redis-clients.js";
import { startRedisCluster } from "../helpers/redis-cluster.js";
import {
  countKeys,
  REDIS_URL,
  type RedisServers,
  redisSkip,
  uniquePrefix,
} from "../helpers/redis-server.js";
import { sessionStoreContract } from "./session-store-contract.js";

describe("memory session store: contract", () => {
  sessionStoreContract(async () => {
    const store = new MemorySessionStore({ sweepInterval: 10 });
    return {
      stores: [store, store],
      keyCount: async () => {
        store.sweep();
        return store.size;
      },
      close: () => store.close(),
    };
  });
});

describe("memory session store", () => {
  it("expires lazily on read and sweeps abandoned records on a later create", () => {
    let now = 1000;
    const store = new MemorySessionStore({ sweepInterval: 100, now: () => now });
    assert.equal(store.createNow("a", { owner: "n", ttl: 50 }), true);
    assert.equal(store.createNow("b", { owner: "n", ttl: 50 }), true);
    now += 49;
    assert.equal(store.has("a"), true, "alive 1 ms before its ttl");
    now += 1;
    assert.equal(store.getNow("a"), undefined, "gone at its ttl");
    assert.equal(store.size, 1, "b not read yet: still held");
    now += 100;
    store.createNow("c", { owner: "n", ttl: 50 });
    assert.equal(store.size, 1, "the create swept b");
  });
});

/** A backend on a fresh prefix; both "nodes" share one client, as two processes share a server. */
function redisBackend(redis: () => RedisConnection, urls: () => string[]) {
  return async () => {
    const prefix = uniquePrefix("sessions");
    const stores: [RedisSessionStore, RedisSessionStore] = [
      new RedisSessionStore(redis(), { prefix }),
      new RedisSessionStore(redis(), { prefix }),
    ];
    return {
      stores,
      keyCount: () => countKeys(urls(), prefix),
      close: async () => {},
    };
  };
}

const sharedSkip = await redisSkip();

for (const line of CLIENT_LINES) {
  describe(`redis session store (${line.name}): contract`, { skip: sharedSkip }, () => {
    const redis = suiteConnection(line, () => ({ url: REDIS_URL }));
    sessionStoreContract(redisBackend(redis, () => [REDIS_URL]));

    it("keeps one record in one key, named by its hash tag under the prefix", async () => {
      const prefix = uniquePrefix("layout");
      const store = new RedisSessionStore(redis(), { prefix });
      await store.create("abc", { owner: "n", ttl: 60000, data: { k: 1 } });
      assert.equal(store.keyOf("abc"), `${prefix}session:{abc}`);
      assert.equal(await countKeys([REDIS_URL], prefix), 1);
      await store.delete("abc");
      assert.equal(await countKeys([REDIS_URL], prefix), 0);
    });
  });
}

describe("redis cluster session store: contract", { skip: await redisSkip("cluster") }, () => {
  let cluster: RedisServers;
  before(async () => {
    cluster = await startRedisCluster(3);
  });
  after(async () => {
    await cluster?.stop();
  });
  for (const line of CLIENT_LINES) {
    describe(line.name, () => {
      const redis = suiteConnection(line, () => ({ rootNodes: cluster.rootNodes }));
      sessionStoreContract(redisBackend(redis, () => cluster.urls));
    });
  }
});
