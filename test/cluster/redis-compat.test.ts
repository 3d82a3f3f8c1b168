/**
 * What differs between `@redis/client` lines (redis-compat.ts), checked on
 * real connections of each line to the shared Redis (REDIS_URL): how a
 * connection is told apart, binary replies, a failed first connect, closing.
 *
 * Under CI=true an unreachable REDIS_URL fails the run instead of skipping.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isModernClient, linkEvents } from "../../src/cluster/redis-compat.js";
import { closeRedis, connectRedis, redisCommand } from "../../src/cluster/redis-keys.js";
import { CLIENT_LINES, CLIENT_V1 } from "../helpers/redis-clients.js";
import { freePort, REDIS_URL, redisSkip, uniquePrefix } from "../helpers/redis-server.js";

describe("redis-compat: link events", () => {
  it("a 1.6 cluster client has no down/up events; 5+ cluster and every single client have", () => {
    const old = {};
    const modern = { withTypeMapping() {} };
    assert.deepEqual(linkEvents(old, true), { error: "error" });
    assert.deepEqual(linkEvents(modern, true), {
      down: "node-reconnecting",
      up: "node-ready",
      error: "node-error",
    });
    for (const client of [old, modern])
      assert.deepEqual(linkEvents(client, false), {
        down: "reconnecting",
        up: "ready",
        error: "error",
      });
  });
});

const skip = await redisSkip();

for (const line of CLIENT_LINES) {
  describe(`redis-compat on ${line.name}`, { skip }, () => {
    it("tells the line from the connection", async () => {
      const redis = await connectRedis({ url: REDIS_URL }, line);
      try {
        assert.equal(isModernClient(redis), line !== CLIENT_V1);
      } finally {
        await closeRedis(redis);
      }
    });

    it("returns bulk strings as Buffers when asked (bytes that are no UTF-8 intact), as strings otherwise", async () => {
      const redis = await connectRedis({ url: REDIS_URL }, line);
      const key = `${uniquePrefix("compat")}bin`;
      const bytes = Buffer.from([0xff, 0x00, 0xfe, 0x41]);
      try {
        await redisCommand(redis, key, ["SET", key, bytes, "PX", "10000"]);
        const binary = await redisCommand<Buffer>(redis, key, ["GET", key], true);
        assert.ok(Buffer.isBuffer(binary));
        assert.deepEqual(binary, bytes);
        const text = await redisCommand<string>(redis, key, ["GET", key]);
        assert.equal(typeof text, "string");
        assert.equal(await redisCommand<null>(redis, `${key}:none`, ["GET", `${key}:none`]), null);
      } finally {
        await redisCommand(redis, key, ["DEL", key]);
        await closeRedis(redis);
      }
    });

    it("connectRedis rejects when nothing listens, instead of retrying for ever", async () => {
      const port = await freePort();
      await assert.rejects(connectRedis({ url: `redis://127.0.0.1:${port}` }, line));
    });

    it("closes gracefully, and closing again does not throw", async () => {
      const redis = await connectRedis({ url: REDIS_URL }, line);
      await closeRedis(redis);
      assert.equal(redis.isOpen, false);
      await closeRedis(redis);
      assert.equal(redis.isOpen, false);
    });
  });
}
