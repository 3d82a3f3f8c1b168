/**
 * The message log contract against every backend: memory, the shared Redis
 * (`REDIS_URL`), and a three-master Redis Cluster started here.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MemoryMessageLog, type MessageLogLimits } from "../../src/cluster/index.js";
import type { RedisConnection } from "../../src/cluster/redis-keys.js";
import { RedisMessageLog } from "../../src/cluster/redis-message-log.js";
import { CLIENT_LINES, suiteConnection } from "../helpers/redis-clients.js";
import { startRedisCluster } from "../helpers/redis-cluster.js";
import {
  countKeys,
  REDIS_URL,
  type RedisServers,
  redisSkip,
  uniquePrefix,
} from "../helpers/redis-server.js";
import { messageLogContract } from "./message-log-contract.js";

describe("memory message log: contract", () => {
  messageLogContract(async (limits) => {
    const log = new MemoryMessageLog(limits);
    return {
      logs: [log, log],
      keyCount: async () => {
        log.sweep();
        return log.streamCount;
      },
      close: () => log.close(),
    };
  });
});

describe("memory message log", () => {
  it("trims by age with an injected clock, at the edge", () => {
    let now = 0;
    const log = new MemoryMessageLog({ maxAge: 100, now: () => now });
    const a = log.appendNow("s", Buffer.from("a"));
    now = 50;
    log.appendNow("s", Buffer.from("b"));
    now = 99;
    assert.equal(log.readAfterNow("s", null).entries.length, 2, "a is 99 ms old: kept");
    now = 100;
    assert.deepEqual(
      log.readAfterNow("s", null).entries.map((e) => String(e.payload)),
      ["b"],
      "a is 100 ms old: gone",
    );
    assert.equal(log.readAfterNow("s", a).status, "complete", "nothing after a was lost");
    now = 150;
    assert.equal(log.readAfterNow("s", a).status, "gap", "b aged out unread");
  });

  it("hands an append to followers inside appendNow, in log order even when a handler appends", () => {
    const log = new MemoryMessageLog();
    const seen: string[] = [];
    const late: string[] = [];
    log.follow("s", {
      entries: (batch) => {
        for (const e of batch) {
          if (String(e.payload) === "first") {
            log.appendNow("s", Buffer.from("second"));
            log.follow("s", { entries: (b) => late.push(...b.map((x) => String(x.payload))) });
          }
        }
      },
    });
    const follower = log.follow("s", {
      entries: (batch) => seen.push(...batch.map((e) => String(e.payload))),
    });
    const start = follower.position;
    const first = log.appendNow("s", Buffer.from("first"));
    assert.deepEqual(seen, ["first", "second"], "handed over before appendNow returned");
    assert.deepEqual(late, [], "a follower started in a handler gets nothing from before it");
    assert.equal(log.compare(start, first), -1);
    follower.close();
    log.appendNow("s", Buffer.from("third"));
    assert.deepEqual(seen, ["first", "second"], "nothing after close");
    assert.deepEqual(late, ["third"]);
  });

  it("keeps appendOnce keys for their window exactly, at most maxLength per stream", () => {
    let now = 0;
    const log = new MemoryMessageLog({ maxLength: 3, now: () => now });
    const first = log.appendOnceNow("s", Buffer.from("a"), "k", 100);
    now = 99;
    assert.deepEqual(log.appendOnceNow("s", Buffer.from("a"), "k", 100), {
      offset: first.offset,
      duplicate: true,
    });
    now = 100;
    assert.equal(log.appendOnceNow("s", Buffer.from("a"), "k", 100).duplicate, false);
    for (const key of ["k1", "k2", "k3"]) log.appendOnceNow("s", Buffer.from(key), key, 1000);
    assert.equal(log.appendOnceNow("s", Buffer.from("k"), "k", 1000).duplicate, false, "evicted");
    assert.equal(log.appendOnceNow("s", Buffer.from("k3"), "k3", 1000).duplicate, true);
  });

  it("rejects limits below 1", () => {
    assert.throws(() => new MemoryMessageLog({ maxLength: 0 }), /maxLength/);
    assert.throws(() => new MemoryMessageLog({ maxAge: 0 }), /maxAge/);
    assert.throws(() => new MemoryMessageLog({ streamTtl: -1 }), /streamTtl/);
  });
});

/** Two nodes: one log per connection, as two processes would have. */
function redisBackend(
  redis: () => RedisConnection,
  other: () => RedisConnection,
  urls: () => string[],
) {
  return async (limits: MessageLogLimits) => {
    const prefix = uniquePrefix("log");
    return {
      logs: [
        new RedisMessageLog(redis(), { ...limits, prefix }),
        new RedisMessageLog(other(), { ...limits, prefix }),
      ] as [RedisMessageLog, RedisMessageLog],
      keyCount: () => countKeys(urls(), prefix),
      close: async () => {},
    };
  };
}

const sharedSkip = await redisSkip();

for (const line of CLIENT_LINES) {
  describe(`redis message log (${line.name}): contract`, { skip: sharedSkip }, () => {
    const redis = suiteConnection(line, () => ({ url: REDIS_URL }));
    const other = suiteConnection(line, () => ({ url: REDIS_URL }));
    messageLogContract(redisBackend(redis, other, () => [REDIS_URL]));

    it("keeps a stream in two keys sharing its hash tag under the prefix", async () => {
      const prefix = uniquePrefix("log-layout");
      const log = new RedisMessageLog(redis(), { prefix });
      assert.deepEqual(log.keysOf("sio/chat"), [
        `${prefix}log:{sio/chat}`,
        `${prefix}log:{sio/chat}:meta`,
      ]);
      await log.append("sio/chat", Buffer.from("x"));
      assert.equal(await countKeys([REDIS_URL], prefix), 2);
      await log.drop("sio/chat");
      assert.equal(await countKeys([REDIS_URL], prefix), 0);
    });
  });
}

describe("redis cluster message log: contract", { skip: await redisSkip("cluster") }, () => {
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
      const other = suiteConnection(line, () => ({ rootNodes: cluster.rootNodes }));
      messageLogContract(redisBackend(redis, other, () => cluster.urls));
    });
  }
});
