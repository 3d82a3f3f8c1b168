/** The hub: envelopes between nodes, interest-based broker subscriptions, requests. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BayeuxServer } from "../../src/bayeux/index.js";
import { type Broker, MemoryBrokerHub } from "../../src/cluster/index.js";
import { Hub } from "../../src/core/index.js";
import { Server } from "../../src/index.js";
import { createSocketIoRouter } from "../../src/mount/socketio.js";
import { until } from "../socketio/raw-clients.js";

/** Counts a broker's subscribe and unsubscribe calls. */
function counting(broker: Broker): { subscribes: string[]; unsubscribes: string[] } {
  const log = { subscribes: [] as string[], unsubscribes: [] as string[] };
  const subscribe = broker.subscribe.bind(broker);
  broker.subscribe = async (topic, handler, options) => {
    log.subscribes.push(topic);
    const off = await subscribe(topic, handler, options);
    return async () => {
      log.unsubscribes.push(topic);
      await off();
    };
  };
  return log;
}

describe("Hub", () => {
  it("is one per broker, and local-only without one", () => {
    const cluster = new MemoryBrokerHub();
    const broker = cluster.connect();
    assert.equal(Hub.for(broker), Hub.for(broker));
    assert.notEqual(Hub.for(broker), Hub.for(cluster.connect()));
    const local = new Hub();
    assert.equal(local.clustered, false);
    assert.deepEqual(local.nodes(), []);
    const space = local.space<string>({ prefix: "p/", onMessage: () => assert.fail() });
    space.router.subscribe("s", "t");
    space.publish("t", local.encode({ type: "m", frames: [] }));
    assert.equal(local.stats.forwarded, 0);
  });

  it("is shared by a Socket.IO server and a Bayeux server given the same broker", async () => {
    const broker = new MemoryBrokerHub().connect();
    const io = new Server({ broker });
    const bayeux = new BayeuxServer({ broker });
    assert.equal(io.hub, bayeux.hub);
    assert.equal(io.hub.broker, broker);
    const alone = [new Server(), new BayeuxServer()];
    assert.equal(alone[0].hub.clustered, false);
    assert.notEqual(alone[0].hub, alone[1].hub);
    assert.throws(() => new BayeuxServer({ broker: {} as never }), /broker/);
    const mounted = createSocketIoRouter({ broker });
    assert.equal(mounted.io.hub, io.hub, "the mounted pair shares the broker's hub");
    assert.equal(mounted.bayeux?.hub, io.hub);
    await Promise.all([mounted.io.close(), mounted.bayeux?.close()]);
    await Promise.all([io.close(), bayeux.close(), alone[0].close(), alone[1].close()]);
    await broker.close();
  });

  it("subscribes on the broker to what its routers hold: first in, last out, coalesced", async () => {
    const cluster = new MemoryBrokerHub();
    const broker = cluster.connect();
    const log = counting(broker);
    const hub = new Hub(broker);
    const created: string[] = [];
    const space = hub.space<string>({
      prefix: "p/",
      onMessage: () => {},
      hooks: { onCreate: (t) => created.push(t) },
    });
    space.router.subscribe("s1", "room");
    space.router.subscribe("s2", "room");
    assert.deepEqual(created, ["room"], "the protocol's own hook still runs");
    await hub.settled();
    assert.deepEqual(log.subscribes, ["p/room"]);
    space.router.unsubscribe("s1", "room");
    await hub.settled();
    assert.deepEqual(log.unsubscribes, []);
    // Gone and back within one tick: settles subscribed, with no extra round trip.
    space.router.unsubscribe("s2", "room");
    space.router.subscribe("s3", "room");
    await hub.settled();
    assert.deepEqual(log.subscribes, ["p/room"]);
    assert.deepEqual(log.unsubscribes, []);
    space.router.unsubscribe("s3", "room");
    await hub.settled();
    assert.deepEqual(log.unsubscribes, ["p/room"]);
    // Back after the unsubscribe started: subscribed again once it ended.
    space.router.subscribe("s4", "room");
    space.router.unsubscribe("s4", "room");
    space.router.subscribe("s5", "room");
    await hub.settled();
    const sender = new Hub(cluster.connect());
    const got: string[] = [];
    const other = hub.space<string>({
      prefix: "q/",
      onMessage: (via, topic) => got.push(`${via}:${topic}`),
    });
    other.router.subscribe("x", "a/*");
    await hub.settled();
    assert.equal(log.subscribes.at(-1), "q/a/*");
    space.close();
    other.close();
    await hub.settled();
    assert.equal(log.subscribes.length, log.unsubscribes.length, "every subscription undone");
    await sender.broker?.close();
  });

  it("hands other nodes' messages to the space, by pattern, and drops what it cannot read", async () => {
    const cluster = new MemoryBrokerHub();
    const [hubA, hubB] = [new Hub(cluster.connect()), new Hub(cluster.connect())];
    const got: unknown[] = [];
    const space = hubB.space<string>({
      prefix: "b/",
      isPattern: (t) => t.endsWith("*"),
      onMessage: (via, topic, envelope, origin) =>
        got.push([via, topic, envelope.type, envelope.header, origin]),
    });
    space.router.subscribe("s", "news/*");
    await hubB.settled();
    const bytes = hubA.encode({ type: "m", header: { n: 1 }, frames: [] });
    hubA.publish("b/news/today", bytes);
    hubA.publish("b/weather/today", bytes);
    await hubA.broker?.publish("b/news/bad", Buffer.from("junk"));
    await until(() => hubB.stats.dropped === 1 && got.length === 1, 2000, "delivery and drop");
    assert.deepEqual(got, [["news/*", "news/today", "m", { n: 1 }, hubA.nodeId]]);
    assert.equal(hubA.stats.forwarded, 2);
    await hubA.broker?.close();
    await hubB.broker?.close();
  });

  it("requests gather decoded answers and name the nodes that did not answer", async () => {
    const cluster = new MemoryBrokerHub();
    const [a, b, c] = [
      new Hub(cluster.connect()),
      new Hub(cluster.connect()),
      new Hub(cluster.connect()),
    ];
    b.respond("ask/**", (envelope) => ({
      type: "r",
      header: { echo: envelope.header.q, asked: envelope.type },
      frames: ["b"],
    }));
    c.respond("ask/**", () => new Promise(() => {}));
    await until(() => a.nodes().length === 2, 1000, "three nodes");
    const result = await a.request("ask/x", { type: "q", header: { q: 7 }, frames: [] }, 100);
    assert.deepEqual(
      result.replies.map((r) => [r.node, r.envelope.header, r.envelope.frames]),
      [[b.nodeId, { echo: 7, asked: "q" }, ["b"]]],
    );
    assert.deepEqual(result.missing, [c.nodeId]);
    assert.deepEqual(await new Hub().request("ask/x", { type: "q", frames: [] }, 100), {
      replies: [],
      missing: [],
    });
    for (const hub of [a, b, c]) await hub.broker?.close();
  });
});
