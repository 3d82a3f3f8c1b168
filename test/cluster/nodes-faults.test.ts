/**
 * Two nodes end to end while their Redis fails: each node is a Socket.IO
 * Server and a BayeuxServer sharing one RedisBroker on a redis-server of
 * this file's own, with real socket.io-client and Faye clients on each
 * node. Redis is killed (SIGKILL) and restarted on the same port; the nodes
 * keep serving their local clients meanwhile, count what they could not
 * send, and once Redis is back deliver across nodes again on the rooms and
 * channels joined before the outage, the clients never reconnecting.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createClient } from "@redis/client";
import type { Socket as ClientSocket } from "socket.io-client";
import type { BayeuxServer } from "../../src/bayeux/index.js";
import { RedisBroker } from "../../src/cluster/redis.js";
import { encodePublish, originBytes } from "../../src/cluster/redis-frame.js";
import type { Server } from "../../src/index.js";
import { silentLogger } from "../../src/shared/logger.js";
import { type Running, startServer as startBayeux } from "../bayeux/helpers.js";
import { type FayeClient, faye, shutdown } from "../helpers/faye.js";
import { eventually, redisSkip, startRedis, uniquePrefix } from "../helpers/redis-server.js";
import { type Harness, startServer as startSocketio, waitFor } from "../socketio/helpers.js";
import { until } from "../socketio/raw-clients.js";

const T = { timeout: 30_000 };
const ROOM = "lobby";
const CHANNEL = "/news";
/** A wildcard subscription: its pattern must be restored too. */
const TREE = "/tree/**";

interface Node {
  broker: RedisBroker;
  sio: Harness;
  io: Server;
  run: Running;
  bayeux: BayeuxServer;
  /** A socket.io-client client in ROOM, and every event it got as `[event, ...args]`. */
  client: ClientSocket;
  events: unknown[][];
  /** A Faye client subscribed to CHANNEL and TREE, and every message it got. */
  faye: FayeClient;
  messages: unknown[];
  /** Disconnections seen by either client. */
  downs: string[];
}

function heard(node: Node, event: string, arg: unknown): boolean {
  return node.events.some((e) => e[0] === event && e[1] === arg);
}

function read(node: Node, text: unknown): boolean {
  return node.messages.some((m) => (m as { text?: unknown }).text === text);
}

const skip = await redisSkip("cluster");

describe("two nodes on one Redis that fails", { skip }, () => {
  const prefix = uniquePrefix("faults");
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let a: Node;
  let b: Node;
  const fayes: FayeClient[] = [];
  const brokers: RedisBroker[] = [];

  async function startNode(): Promise<Node> {
    const broker = new RedisBroker({
      url: redis.url,
      prefix,
      heartbeatInterval: 500,
      backoff: { initial: 20, max: 200 },
      logger: silentLogger,
    });
    brokers.push(broker);
    await broker.ready();
    const sio = await startSocketio({ broker }, { transports: ["websocket"] });
    const run = await startBayeux({ broker, timeout: 5000 });
    const client = sio.client();
    const events: unknown[][] = [];
    client.onAny((...args: unknown[]) => events.push(args));
    const downs: string[] = [];
    client.on("disconnect", (reason) => downs.push(`socket.io: ${reason}`));
    await waitFor(client, "connect");
    sio.io.sockets.sockets.get(client.id as string)?.join(ROOM);
    const fayeClient = new faye.Client(run.url, { timeout: 5 });
    fayes.push(fayeClient);
    const messages: unknown[] = [];
    await fayeClient.subscribe(CHANNEL, (m) => messages.push(m));
    await fayeClient.subscribe(TREE, (m) => messages.push(m));
    fayeClient.on("transport:down", () => downs.push("faye: transport down"));
    return {
      broker,
      sio,
      io: sio.io,
      run,
      bayeux: run.bayeux,
      client,
      events,
      faye: fayeClient,
      messages,
      downs,
    };
  }

  /** Every pub/sub channel (classic and sharded) under this run's prefix, sorted. */
  async function channels(): Promise<string[]> {
    const client = createClient({ url: redis.url });
    client.on("error", () => {});
    await client.connect();
    try {
      const classic = (await client.sendCommand(["PUBSUB", "CHANNELS", `${prefix}*`])) as string[];
      const sharded = (await client.sendCommand([
        "PUBSUB",
        "SHARDCHANNELS",
        `${prefix}*`,
      ])) as string[];
      return [...classic, ...sharded].map(String).sort();
    } finally {
      client.destroy();
    }
  }

  /** Publishes raw bytes on a channel, sharded where the server has it. */
  async function rawPublish(channel: string, message: Buffer): Promise<void> {
    const client = createClient({ url: redis.url });
    client.on("error", () => {});
    await client.connect();
    try {
      await client.sPublish(channel, message);
      await client.publish(channel, message);
    } finally {
      client.destroy();
    }
  }

  /** A round trip in both directions on both protocols: everything crosses. */
  async function crossing(tag: string): Promise<void> {
    a.io.to(ROOM).emit("cross", `${tag}-a`);
    b.io.to(ROOM).emit("cross", `${tag}-b`);
    a.bayeux.publish(CHANNEL, { text: `${tag}-a` });
    b.bayeux.publish(CHANNEL, { text: `${tag}-b` });
    a.bayeux.publish(`/tree/${tag}/a`, { text: `${tag}-a-tree` });
    b.bayeux.publish(`/tree/${tag}/b`, { text: `${tag}-b-tree` });
    await until(
      () =>
        [a, b].every(
          (n) =>
            heard(n, "cross", `${tag}-a`) &&
            heard(n, "cross", `${tag}-b`) &&
            read(n, `${tag}-a`) &&
            read(n, `${tag}-b`) &&
            read(n, `${tag}-a-tree`) &&
            read(n, `${tag}-b-tree`),
        ),
      10_000,
      `${tag}: every message on both nodes`,
    );
  }

  before(async () => {
    redis = await startRedis();
    a = await startNode();
    b = await startNode();
    await until(
      () =>
        a.broker.nodes().includes(b.broker.nodeId) && b.broker.nodes().includes(a.broker.nodeId),
      5000,
      "the two nodes",
    );
    await Promise.all([a.io.hub.settled(), b.io.hub.settled()]);
  });

  after(async () => {
    await Promise.all(fayes.map(shutdown));
    for (const node of [a, b]) {
      if (node === undefined) continue;
      await node.sio.close();
      await node.bayeux.close();
      await node.run.close();
    }
    await Promise.all(brokers.map((broker) => broker.close()));
    await redis?.stop();
  });

  it("delivers across the nodes while Redis is up", T, async () => {
    await crossing("up");
  });

  it(
    "Redis killed: each node serves its local clients, cross-node publishes are lost and counted, nothing crashes",
    T,
    async () => {
      const ids = [a.client.id, b.client.id, a.faye._dispatcher.clientId];
      const lostBefore = a.broker.stats.lost;
      const want = await channels();
      await redis.kill();
      // The nodes learn of the outage from their connections.
      a.io.to(ROOM).emit("probe-down");
      await until(() => a.broker.stats.lost > lostBefore, 10_000, "a's publishes counted as lost");
      const lostAtDown = a.broker.stats.lost;
      const forwarded = a.io.hub.stats.forwarded;
      a.io.to(ROOM).emit("local", "a-room");
      a.bayeux.publish(CHANNEL, { text: "a-channel" });
      b.io.to(ROOM).emit("local", "b-room");
      // A client's own Bayeux publish on b, through its server.
      await b.faye.publish(CHANNEL, { text: "b-client" });
      await until(
        () =>
          heard(a, "local", "a-room") &&
          read(a, "a-channel") &&
          heard(b, "local", "b-room") &&
          read(b, "b-client"),
        5000,
        "the local deliveries during the outage",
      );
      // Two publishes from a (one room, one channel): both forwarded, both lost.
      assert.equal(a.io.hub.stats.forwarded - forwarded, 2);
      assert.equal(a.broker.stats.lost - lostAtDown, 2);
      // Nothing crossed: b's room broadcast and client publish stayed on b.
      assert.equal(heard(a, "local", "b-room"), false);
      assert.equal(read(a, "b-client"), false);
      assert.equal(heard(b, "local", "a-room"), false);
      assert.equal(read(b, "a-channel"), false);
      // A query across nodes answers at once with the local sockets, naming b missing.
      const started = Date.now();
      const sockets = await a.io.fetchSockets();
      assert.ok(Date.now() - started < 1000, "fetchSockets did not wait for Redis");
      assert.deepEqual(
        sockets.map((s) => s.id),
        [a.client.id],
      );
      assert.deepEqual(sockets.missing, [b.broker.nodeId]);
      // The clients are still connected, with the same ids.
      assert.equal(a.client.connected && b.client.connected, true);
      assert.deepEqual([...a.downs, ...b.downs], []);
      assert.deepEqual([a.client.id, b.client.id, a.faye._dispatcher.clientId], ids);

      await redis.start();
      await until(
        () => a.broker.stats.reconnects >= 1 && b.broker.stats.reconnects >= 1,
        15_000,
        "both brokers reconnected",
      );
      // Rooms and channels joined before the outage are subscribed again.
      assert.ok(want.includes(`${prefix}t:sio///${ROOM}`), want.join());
      assert.ok(want.includes(`${prefix}t:bayeux/${CHANNEL}`), want.join());
      assert.ok(want.includes(`${prefix}p:bayeux/${TREE}`), want.join());
      let now: string[] = [];
      await eventually(
        async () => JSON.stringify((now = await channels())) === JSON.stringify(want),
        "every subscription back on Redis",
        15_000,
      ).catch((err) => {
        throw new Error(`${err.message}: ${now.join()} instead of ${want.join()}`);
      });
      await crossing("after");
      // What was published during the outage never arrives.
      assert.equal(heard(b, "local", "a-room"), false);
      assert.equal(read(b, "a-channel"), false);
      // Still the same clients: nobody reconnected.
      assert.deepEqual([a.client.id, b.client.id, a.faye._dispatcher.clientId], ids);
      assert.deepEqual([...a.downs, ...b.downs], []);
    },
  );

  it(
    "a malformed message on a node's Redis channel is dropped and counted; the node goes on",
    T,
    async () => {
      const brokerDropped = b.broker.stats.dropped;
      const hubDropped = b.io.hub.stats.dropped;
      const room = `${prefix}t:sio///${ROOM}`;
      // Not a frame at all: the broker drops it.
      await rawPublish(room, Buffer.from("garbage"));
      // A well-formed frame around a payload that is no envelope: the hub drops it.
      const frame = encodePublish(originBytes("intruder"), `sio///${ROOM}`, Buffer.from("nope"));
      await rawPublish(room, frame);
      await until(
        () => b.broker.stats.dropped > brokerDropped && b.io.hub.stats.dropped > hubDropped,
        5000,
        "both drops counted",
      );
      await crossing("after-garbage");
    },
  );
});
