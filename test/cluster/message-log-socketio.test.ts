/**
 * Socket.IO connection state recovery on a Redis message log: a client cut
 * off gets the broadcasts it missed, in order, with the log's offsets; an
 * offset the log lost (the stream dropped) gives a fresh session instead.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { closeRedis, connectRedis, type RedisConnection } from "../../src/cluster/redis-keys.js";
import { RedisMessageLog } from "../../src/cluster/redis-message-log.js";
import type { Socket } from "../../src/index.js";
import { countKeys, REDIS_URL, redisSkip, uniquePrefix } from "../helpers/redis-server.js";
import { MODES, startServer, waitFor } from "../socketio/helpers.js";
import { until } from "../socketio/raw-clients.js";

const T = { timeout: 10_000 };
const RECONNECT = { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 50 };

describe("connection state recovery on the in-memory message log", () => {
  it("replays binary and plain arguments alike, each with its offset", T, async () => {
    const h = await startServer({ connectionStateRecovery: {} }, MODES[0]);
    try {
      const sockets: Socket[] = [];
      h.io.on("connection", (s) => sockets.push(s));
      const client = h.client("/", RECONNECT);
      await waitFor(client, "connect");
      const events: unknown[][] = [];
      client.onAny((...args: unknown[]) => events.push(args));
      h.io.emit("first", 1);
      await until(() => events.length === 1, 5000, "first broadcast");
      const gone = waitFor(sockets[0], "disconnect");
      sockets[0].conn.close();
      await gone;
      h.io.emit("bin", Buffer.from([1, 2, 3]), { nested: new Uint8Array([4]) });
      h.io.emit("plain", { when: new Date(0), skip: undefined });
      await waitFor(client, "connect");
      assert.equal(client.recovered, true);
      await until(() => events.length === 3, 5000, "replayed broadcasts");
      const [, bin, plain] = events;
      assert.equal(bin[0], "bin");
      assert.deepEqual([...new Uint8Array(bin[1] as ArrayBuffer)], [1, 2, 3]);
      assert.deepEqual([...new Uint8Array((bin[2] as { nested: ArrayBuffer }).nested)], [4]);
      assert.deepEqual(plain.slice(0, 2), ["plain", { when: "1970-01-01T00:00:00.000Z" }]);
      assert.notEqual(bin.at(-1), plain.at(-1), "each carries its own offset");
      client.disconnect();
    } finally {
      await h.close();
    }
  });
});

describe("connection state recovery on a Redis message log", { skip: await redisSkip() }, () => {
  let redis: RedisConnection;
  before(async () => {
    redis = await connectRedis({ url: REDIS_URL });
  });
  after(async () => {
    if (redis) await closeRedis(redis);
  });

  it("replays the broadcasts a client missed, in order, then drops nothing", T, async () => {
    const prefix = uniquePrefix("sio-recovery");
    const messageLog = new RedisMessageLog(redis, { prefix });
    const h = await startServer({ connectionStateRecovery: { messageLog } }, MODES[0]);
    try {
      const sockets: Socket[] = [];
      h.io.on("connection", (s) => {
        sockets.push(s);
        if (!s.recovered) s.join("room1");
      });
      const client = h.client("/", RECONNECT);
      await waitFor(client, "connect");
      const events: unknown[][] = [];
      client.on("news", (...args: unknown[]) => events.push(args));
      h.io.emit("news", "before");
      await until(() => events.length === 1, 5000, "first broadcast");
      assert.match(String(events[0][1]), /^[\w-]+\.\d+-\d+$/, "the log's offset travels last");
      assert.equal(await countKeys([REDIS_URL], prefix), 2, "one stream and its meta");

      const gone = waitFor(sockets[0], "disconnect");
      sockets[0].conn.close();
      await gone;
      for (let i = 0; i < 5; i++) h.io.emit("news", `missed-${i}`);
      h.io.to("elsewhere").emit("news", "not-for-me");
      h.io.to("room1").emit("news", "missed-room");

      await waitFor(client, "connect");
      assert.equal(client.recovered, true);
      await until(() => events.length === 7, 5000, "replayed broadcasts");
      assert.deepEqual(
        events.map((e) => e[0]),
        ["before", "missed-0", "missed-1", "missed-2", "missed-3", "missed-4", "missed-room"],
      );
      h.io.emit("news", "after");
      await until(() => events.length === 8, 5000, "live broadcast");
      client.disconnect();
    } finally {
      await h.close();
      await messageLog.drop("sio/recovery/");
    }
  });

  it("gives a fresh session when the log lost what the client missed", T, async () => {
    const prefix = uniquePrefix("sio-recovery-gap");
    const messageLog = new RedisMessageLog(redis, { prefix });
    const h = await startServer({ connectionStateRecovery: { messageLog } }, MODES[0]);
    try {
      const sockets: Socket[] = [];
      h.io.on("connection", (s) => sockets.push(s));
      const client = h.client("/", RECONNECT);
      await waitFor(client, "connect");
      const news = waitFor(client, "news");
      h.io.emit("news", "before");
      await news;
      const gone = waitFor(sockets[0], "disconnect");
      sockets[0].conn.close();
      await gone;
      await messageLog.drop("sio/recovery/");
      h.io.emit("news", "into a new epoch");
      await waitFor(client, "connect");
      assert.equal(client.recovered, false);
      await until(() => sockets.length === 2, 5000, "second connection");
      assert.notEqual(sockets[1].id, sockets[0].id);
      client.disconnect();
    } finally {
      await h.close();
      await messageLog.drop("sio/recovery/");
    }
  });
});
