/**
 * The Redis broker logs through the pino-shaped seam: `(obj, msg)` records
 * for its connection (info, with its node and pub/sub kind) and for other
 * nodes joining and leaving (info, with the node's id), and a subscriber's
 * handler that throws (error, with the topic), and a node that went silent
 * (warn: "node died"). Uses the shared
 * Redis at REDIS_URL under a prefix of its own; under CI=true an
 * unreachable Redis fails the test instead of skipping it.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { RedisBroker } from "../../src/cluster/redis.js";
import { silentLogger } from "../../src/shared/logger.js";
import { recordingLogger } from "../helpers/recording-logger.js";
import { REDIS_URL, redisSkip, uniquePrefix } from "../helpers/redis-server.js";
import { until } from "../socketio/raw-clients.js";

const brokers: RedisBroker[] = [];
after(async () => {
  await Promise.all(brokers.map((broker) => broker.close()));
});

describe("RedisBroker logger", { skip: await redisSkip() }, () => {
  it("logs its connection and nodes joining and leaving as (obj, msg) records", {
    timeout: 20_000,
  }, async () => {
    const { records, logger } = recordingLogger();
    const shared = { url: REDIS_URL, prefix: uniquePrefix("logger"), heartbeatInterval: 200 };
    const a = new RedisBroker({ ...shared, nodeId: "log-a", logger });
    brokers.push(a);
    await a.ready();
    const connected = records.find((r) => r.msg === "broker connected to Redis");
    assert.ok(connected, JSON.stringify(records));
    assert.equal(connected.level, "info");
    assert.equal(connected.obj.node, "log-a");
    assert.match(String(connected.obj.pubsub), /^(sharded|classic)$/);

    const b = new RedisBroker({ ...shared, nodeId: "log-b", logger: silentLogger });
    brokers.push(b);
    await b.ready();
    await until(
      () => records.some((r) => r.msg === "node joined" && r.obj.node === "log-b"),
      5000,
      "node joined",
    );
    await b.close();
    await until(
      () => records.some((r) => r.msg === "node left" && r.obj.node === "log-b"),
      5000,
      "node left",
    );
    const left = records.find((r) => r.msg === "node left");
    assert.equal(left?.level, "info");
    for (const r of records) assert.equal(typeof r.obj, "object");
  });

  it("logs a handler that throws as an error, and keeps delivering to the others", {
    timeout: 20_000,
  }, async () => {
    const { records, logger } = recordingLogger();
    const shared = { url: REDIS_URL, prefix: uniquePrefix("logger") };
    const a = new RedisBroker({ ...shared, nodeId: "throw-a", logger });
    const b = new RedisBroker({ ...shared, nodeId: "throw-b", logger: silentLogger });
    brokers.push(a, b);
    await Promise.all([a.ready(), b.ready()]);
    const got: string[] = [];
    await a.subscribe("room/x", () => {
      throw new Error("handler broke");
    });
    await a.subscribe("room/x", (_topic, payload) => got.push(String(payload)));
    await b.publish("room/x", Buffer.from("hello"));
    await until(() => got.length === 1, 5000, "the other handler's delivery");
    assert.deepEqual(got, ["hello"]);
    const failed = records.find((r) => r.msg === "broker handler failed");
    assert.ok(failed, JSON.stringify(records.map((r) => r.msg)));
    assert.equal(failed.level, "error");
    assert.equal(failed.obj.topic, "room/x");
    assert.equal((failed.obj.err as Error).message, "handler broke");
  });

  it("warns of a node that missed two heartbeats, and drops it", { timeout: 20_000 }, async () => {
    const { records, logger } = recordingLogger();
    const prefix = uniquePrefix("logger");
    const a = new RedisBroker({
      url: REDIS_URL,
      prefix,
      nodeId: "hb-a",
      heartbeatInterval: 200,
      logger,
    });
    // Says hello, then stays silent for longer than two of a's intervals: to a, it died.
    const b = new RedisBroker({
      url: REDIS_URL,
      prefix,
      nodeId: "hb-b",
      heartbeatInterval: 60_000,
      logger: silentLogger,
    });
    brokers.push(a, b);
    await Promise.all([a.ready(), b.ready()]);
    await until(
      () => records.some((r) => r.msg === "node died: missed two heartbeats, dropped"),
      10_000,
      "the node died record",
    );
    const died = records.find((r) => r.msg === "node died: missed two heartbeats, dropped");
    assert.equal(died?.level, "warn");
    assert.deepEqual(died?.obj, { node: "hb-b" });
    assert.equal(a.nodes().includes("hb-b"), false, "dropped");
  });
});
