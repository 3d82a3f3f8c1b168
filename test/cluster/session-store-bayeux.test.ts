/**
 * Bayeux on the session store and the ack log: a clientId is recorded with
 * its owner node, its subscriptions and ack state are written through so
 * another node reads them, unacknowledged deliveries sit in the ack log, and
 * a session's end (disconnect or expiry) leaves nothing behind, in memory and
 * in Redis. Modules are imported after the debug sink is set, so the owner
 * line can be read.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { BayeuxMessage } from "../../src/codec/bayeux/index.js";
import { configureDebug } from "../../src/shared/debug.js";

const lines: string[] = [];
configureDebug({ SWITCHBOARD_DEBUG: "bayeux:sessions" }, (line) => lines.push(line));
const { MemorySessionStore } = await import("../../src/cluster/memory-session-store.js");
const { MemoryMessageLog } = await import("../../src/cluster/memory-message-log.js");
const { closeRedis, connectRedis } = await import("../../src/cluster/redis-keys.js");
const { RedisSessionStore } = await import("../../src/cluster/redis-session-store.js");
const { RedisMessageLog } = await import("../../src/cluster/redis-message-log.js");
const { ackStream } = await import("../../src/bayeux/server/session-records.js");
const { HANDSHAKE, LONG_POLLING, transportFreeServers } = await import("../bayeux/helpers.js");
const { countKeys, eventually, REDIS_URL, redisSkip, uniquePrefix } = await import(
  "../helpers/redis-server.js"
);
const { startRedisCluster } = await import("../helpers/redis-cluster.js");

type Server = ReturnType<ReturnType<typeof transportFreeServers>>;
const make = transportFreeServers({ timerResolution: 10 });

async function send(server: Server, messages: unknown[]): Promise<BayeuxMessage[]> {
  const result = await server.process(messages, LONG_POLLING);
  return result.replies;
}

async function handshake(server: Server, ext?: Record<string, unknown>): Promise<string> {
  const [reply] = await send(server, [{ ...HANDSHAKE, ext }]);
  assert.equal(reply.successful, true);
  return reply.clientId as string;
}

const connect = (clientId: string, ext?: Record<string, unknown>) => ({
  channel: "/meta/connect",
  clientId,
  connectionType: "long-polling",
  advice: { timeout: 0 },
  ext,
});

describe("bayeux on the session store", () => {
  it("records clientId, owner, subscriptions and ack state for another node to read", async () => {
    const store = new MemorySessionStore();
    const ackLog = new MemoryMessageLog();
    const a = make({ sessionStore: store, ackLog, nodeId: "node-a" });
    const clientId = await handshake(a, { ack: true });
    assert.equal(store.getNow(clientId)?.owner, "node-a");
    await send(a, [
      { channel: "/meta/subscribe", clientId, subscription: ["/q", "/r/*"] },
      { channel: "/meta/unsubscribe", clientId, subscription: "/q" },
      { channel: "/meta/subscribe", clientId, subscription: "/s/**" },
    ]);
    assert.deepEqual(store.getNow(clientId)?.data.subscriptions, ["/r/*", "/s/**"]);

    assert.deepEqual(store.getNow(clientId)?.data.ack, { sent: 0, acked: 0 });
    await send(a, [connect(clientId, { ack: -1 })]);
    a.publish("/r/x", "one");
    a.publish("/s/y/z", "two");
    const keptNow = () =>
      ackLog.readAfterNow(ackStream(clientId), null).entries.map((e) => String(e.payload));
    assert.deepEqual(
      keptNow().map((p) => p.slice(0, p.indexOf(" "))),
      ["1", "2"],
      "kept, numbered, as soon as queued",
    );
    const batch = await a.process([connect(clientId, { ack: 0 })], LONG_POLLING);
    assert.equal(batch.deliveries.length, 2);
    assert.deepEqual(store.getNow(clientId)?.data.ack, { sent: 2, acked: 0 });
    assert.deepEqual(
      keptNow().map((p) => JSON.parse(p.slice(p.indexOf(" ") + 1))[0].data),
      ["one", "two"],
      "the unacknowledged deliveries, as sent",
    );

    assert.equal(batch.replies[0].ext?.ack, 2, "a batch is named by its last delivery's number");
    await a.process([connect(clientId, { ack: 2 })], LONG_POLLING);
    assert.deepEqual(store.getNow(clientId)?.data.ack, { sent: 2, acked: 2 });
    assert.equal(ackLog.streamCount, 0, "acknowledged: nothing kept");

    await send(a, [{ channel: "/meta/disconnect", clientId }]);
    assert.equal(store.has(clientId), false);
  });

  it("looks up a clientId it does not hold, names its owner, answers 402", async () => {
    const store = new MemorySessionStore();
    const a = make({ sessionStore: store, nodeId: "node-a" });
    const b = make({ sessionStore: store, nodeId: "node-b" });
    const clientId = await handshake(a);
    const [reply] = await send(b, [connect(clientId)]);
    assert.equal(reply.successful, false);
    assert.match(String(reply.error), /^402:/);
    assert.ok(lines.some((l) => l.includes(`session ${clientId} is owned by node node-a`)));
    assert.equal(store.getNow(clientId)?.owner, "node-a", "the owner's record is untouched");
  });

  it("draws another clientId when the store holds the one drawn", async () => {
    const store = new MemorySessionStore();
    const ids = ["taken", "taken", "free"];
    const a = make({ sessionStore: store, generateId: () => ids.shift() ?? "x" });
    store.createNow("taken", { owner: "elsewhere", ttl: 60000 });
    assert.equal(await handshake(a), "free");
  });

  it("keeps a live session's record: connects refresh it past its ttl", async () => {
    const store = new MemorySessionStore();
    const a = make({ sessionStore: store, timeout: 60, sessionGrace: 0 });
    const clientId = await handshake(a);
    const firstExpiry = store.getNow(clientId)?.expiresAt ?? 0;
    // Ten connects 40 ms apart: 400 ms, past the record's 120 ms ttl several times over.
    for (let i = 0; i < 10; i++) {
      const next = Date.now() + 40;
      await eventually(async () => Date.now() >= next, "the next connect time");
      const [reply] = await send(a, [connect(clientId)]);
      assert.equal(reply.successful, true);
      assert.ok(store.has(clientId), "the record outlives each connect");
    }
    assert.ok((store.getNow(clientId)?.expiresAt ?? 0) > firstExpiry + 200, "refreshed");
  });

  it("an expired session leaves no record and no ack stream", async () => {
    const store = new MemorySessionStore();
    const ackLog = new MemoryMessageLog();
    const a = make({ sessionStore: store, ackLog, timeout: 100, sessionGrace: 0 });
    const clientId = await handshake(a, { ack: true });
    await send(a, [{ channel: "/meta/subscribe", clientId, subscription: "/q" }]);
    await send(a, [connect(clientId, { ack: -1 })]);
    a.publish("/q", "unacked");
    await a.process([connect(clientId, { ack: 0 })], LONG_POLLING);
    assert.equal(ackLog.streamCount, 1);
    await eventually(async () => a.sessionCount === 0, "the session to expire");
    assert.equal(store.has(clientId), false);
    assert.equal(ackLog.streamCount, 0);
  });
});

/** The expiry scenario on one Redis backend: `urls` are the servers whose keys are counted. */
function onRedis(
  name: string,
  skip: string | false,
  start: () => Promise<{
    redis: Awaited<ReturnType<typeof connectRedis>>;
    urls: string[];
    stop(): Promise<void>;
  }>,
): void {
  describe(name, { skip }, () => {
    let backend: Awaited<ReturnType<typeof start>>;
    before(async () => {
      backend = await start();
    });
    after(async () => {
      await backend?.stop();
    });

    it("an expired session leaves no key behind", async () => {
      const { redis, urls } = backend;
      const prefix = uniquePrefix("bayeux");
      const store = new RedisSessionStore(redis, { prefix });
      const ackLog = new RedisMessageLog(redis, { prefix });
      const a = make({ sessionStore: store, ackLog, timeout: 1000, sessionGrace: 0, nodeId: "n1" });
      const b = make({ sessionStore: store, ackLog, nodeId: "n2" });
      const baseline = await countKeys(urls, prefix);
      const clientId = await handshake(a, { ack: true });
      assert.ok((await countKeys(urls, prefix)) > baseline, "the record is in Redis");
      await send(a, [{ channel: "/meta/subscribe", clientId, subscription: ["/q", "/p/*"] }]);
      await send(a, [connect(clientId, { ack: -1 })]);
      a.publish("/q", "unacked");
      await a.process([connect(clientId, { ack: 0 })], LONG_POLLING);
      // Written through without waiting: read until it is there.
      await eventually(async () => {
        const record = await store.get(clientId);
        return record?.owner === "n1" && (record.data.ack as { sent?: number })?.sent === 1;
      }, "the record");
      assert.deepEqual((await store.get(clientId))?.data.subscriptions, ["/q", "/p/*"]);
      await eventually(
        async () => (await ackLog.readAfter(ackStream(clientId), null)).entries.length === 1,
        "the ack log entry",
      );
      const [refused] = await send(b, [connect(clientId)]);
      assert.match(String(refused.error), /^402:/);
      await eventually(async () => a.sessionCount === 0, "the session to expire");
      await eventually(
        async () => (await countKeys(urls, prefix)) === baseline,
        "key count back to baseline",
      );
    });
  });
}

onRedis("bayeux on the Redis session store and ack log", await redisSkip(), async () => {
  const redis = await connectRedis({ url: REDIS_URL });
  return { redis, urls: [REDIS_URL], stop: () => closeRedis(redis) };
});

onRedis("bayeux on a Redis Cluster", await redisSkip("cluster"), async () => {
  const cluster = await startRedisCluster(3);
  const redis = await connectRedis({ rootNodes: cluster.rootNodes });
  return {
    redis,
    urls: cluster.urls,
    stop: async () => {
      await closeRedis(redis);
      await cluster.stop();
    },
  };
});
