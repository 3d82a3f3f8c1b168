/**
 * A third-party adapter passed with `io.adapter(...)` replaces the hub for
 * its namespaces: two Switchboard servers with the real
 * `@socket.io/redis-adapter` on a real Redis, clients on each, and a
 * broadcast from one server reaches both. Needs Redis at `REDIS_URL`
 * (default redis://127.0.0.1:6379); skipped without it, failed under CI=true.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createAdapter } from "@socket.io/redis-adapter";
import { Redis } from "ioredis";
import type { AdapterConstructor } from "../../src/socketio/server.js";
import { type Harness, startServer, waitFor } from "../socketio/helpers.js";
import { untilAsync } from "../socketio/raw-clients.js";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const T = { timeout: 15_000 };

async function redisReachable(): Promise<boolean> {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0 });
  probe.on("error", () => {});
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

const reachable = await redisReachable();
if (!reachable && process.env.CI === "true") {
  throw new Error(`Redis is required under CI=true and is unreachable at ${REDIS_URL}`);
}

describe("@socket.io/redis-adapter on Switchboard servers", {
  skip: !reachable && "no Redis",
}, () => {
  const key = `sb-test-${randomBytes(6).toString("hex")}`;
  const connections: Redis[] = [];
  let a: Harness;
  let b: Harness;

  function adapter(): AdapterConstructor {
    const pub = new Redis(REDIS_URL);
    const sub = pub.duplicate();
    connections.push(pub, sub);
    return createAdapter(pub, sub, { key }) as unknown as AdapterConstructor;
  }

  before(async () => {
    a = await startServer({}, { transports: ["websocket"] });
    b = await startServer({}, { transports: ["websocket"] });
    a.io.adapter(adapter());
    b.io.adapter(adapter());
  });

  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    for (const c of connections) c.disconnect();
  });

  it("a broadcast from one server reaches clients of both", T, async () => {
    const [ca, cb] = [a.client(), b.client()];
    await Promise.all([waitFor(ca, "connect"), waitFor(cb, "connect")]);
    // The adapter counts the servers it heard from; wait until each sees the other.
    await untilAsync(
      async () => (await a.io.of("/").adapter.serverCount()) === 2,
      5000,
      "both servers on the channel",
    );
    const got = [waitFor(ca, "hello"), waitFor(cb, "hello")];
    a.io.emit("hello", "world", Buffer.from([1, 2]));
    const [[wa], [wb, bin]] = (await Promise.all(got)) as [string, ArrayBuffer][];
    assert.equal(wa, "world");
    assert.equal(wb, "world");
    assert.deepEqual([...Buffer.from(bin as ArrayBuffer)], [1, 2]);

    // Rooms too: the socket on b joins a room, a broadcasts to it.
    const socketB = b.io.of("/").sockets.get(cb.id as string);
    assert.ok(socketB);
    socketB.join("room-1");
    const inRoom = waitFor(cb, "room-news");
    a.io.to("room-1").emit("room-news", 1);
    assert.deepEqual(await inRoom, [1]);
    // fetchSockets through the adapter sees b's socket.
    const sockets = await a.io.in("room-1").fetchSockets();
    assert.deepEqual(
      sockets.map((s) => s.id),
      [cb.id],
    );
  });
});
