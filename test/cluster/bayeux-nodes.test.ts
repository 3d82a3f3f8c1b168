/**
 * Bayeux across nodes: three BayeuxServers in one process, each on its own
 * broker of one cluster, with real Faye clients connected to different
 * nodes. Written against a broker factory so the same suite runs on every
 * backend.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Broker, MemoryBrokerHub } from "../../src/cluster/index.js";
import { type Running, startServer } from "../bayeux/helpers.js";
import { type FayeClient, faye, shutdown } from "../helpers/faye.js";
import { until } from "../socketio/raw-clients.js";
import { type BrokerFactory, onRedis } from "./nodes-backends.js";

const T = { timeout: 15_000 };

interface Node {
  run: Running;
  broker: Broker;
}

interface Listener {
  client: FayeClient;
  /** Every message received, as `[subscription, data]`. */
  got: [string, unknown][];
}

let unique = 0;
function channel(what: string): string {
  unique++;
  return `/${what}${unique}`;
}

function bayeuxNodesSuite(name: string, makeFactory: () => BrokerFactory): void {
  describe(`Bayeux across nodes (${name})`, () => {
    let factory: BrokerFactory;
    let nodes: Node[] = [];
    const clients: FayeClient[] = [];

    async function listener(node: Node, subscriptions: string[]): Promise<Listener> {
      const client = new faye.Client(node.run.url, { timeout: 5 });
      clients.push(client);
      const got: [string, unknown][] = [];
      await Promise.all(
        subscriptions.map((s) => client.subscribe(s, (data) => got.push([s, data]))),
      );
      return { client, got };
    }

    async function settled(): Promise<void> {
      await Promise.all(nodes.map((n) => n.run.bayeux.hub.settled()));
    }

    /** Publishes a marker on `fenceChannel` from a node and waits for every listener to get it. */
    async function fence(from: Node, fenceChannel: string, listeners: Listener[]): Promise<void> {
      const id = channel("fence");
      from.run.bayeux.publish(fenceChannel, { fence: id });
      await until(
        () => listeners.every((l) => l.got.some(([, d]) => (d as { fence?: string }).fence === id)),
        5000,
        "the fence on every listener",
      );
    }

    function data(l: Listener): unknown[] {
      return l.got
        .filter(([, d]) => (d as { fence?: string }).fence === undefined)
        .map(([, d]) => d);
    }

    before(async () => {
      factory = makeFactory();
      for (let i = 0; i < 3; i++) {
        const broker = await factory.connect();
        nodes.push({ run: await startServer({ broker, timeout: 5000 }), broker });
      }
      await until(() => nodes[0].broker.nodes().length === 2, 5000, "three nodes");
    });

    after(async () => {
      await Promise.all(clients.map(shutdown));
      for (const node of nodes) {
        await node.run.bayeux.close();
        await node.run.close();
        await node.broker.close();
      }
      nodes = [];
      await factory?.close?.();
    });

    it("a client's publish on node A reaches subscribers on B and C, once each", T, async () => {
      const ch = channel("news");
      const [a, b, c] = nodes;
      const onA = await listener(a, [ch]);
      const onB = await listener(b, [ch]);
      const onC = await listener(c, [ch]);
      await settled();
      const publisher = new faye.Client(a.run.url, { timeout: 5 });
      clients.push(publisher);
      await publisher.publish(ch, { text: "hi", bin: [1, 2] });
      await until(() => [onA, onB, onC].every((l) => data(l).length > 0), 5000, "the publish");
      await fence(b, ch, [onA, onB, onC]);
      for (const l of [onA, onB, onC]) assert.deepEqual(data(l), [{ text: "hi", bin: [1, 2] }]);
      // Server-side publishes and in-process listeners too.
      const heard: unknown[] = [];
      const stop = c.run.bayeux.subscribe(ch, (d) => heard.push(d));
      await settled();
      b.run.bayeux.publish(ch, "from-b");
      await until(() => heard.length === 1 && data(onA).length === 2, 5000, "the server publish");
      assert.deepEqual(heard, ["from-b"]);
      stop();
    });

    it("wildcard subscriptions match across nodes, once per subscriber", T, async () => {
      const root = channel("tree");
      const [a, b, c] = nodes;
      const one = await listener(b, [`${root}/*`]);
      const deep = await listener(c, [`${root}/**`]);
      // Exact and both wildcards on one client: one copy. (The Faye client
      // calls every matching subscription's callback, so count what arrives.)
      const all = await listener(c, [`${root}/x`, `${root}/*`, `${root}/**`]);
      const arrived: unknown[] = [];
      all.client.addExtension({
        incoming(message: { channel: string; data: unknown }, callback: (m: unknown) => void) {
          if (message.channel.startsWith(root)) arrived.push(message.data);
          callback(message);
        },
      });
      await settled();
      a.run.bayeux.publish(`${root}/x`, 1);
      a.run.bayeux.publish(`${root}/x/y`, 2);
      await until(
        () => data(one).length > 0 && data(deep).length > 1 && data(all).length > 1,
        5000,
        "the publishes",
      );
      await fence(a, `${root}/x`, [one, deep, all]);
      assert.deepEqual(data(one), [1]);
      assert.deepEqual(data(deep).sort(), [1, 2]);
      assert.deepEqual(arrived.filter((d) => typeof d === "number").sort(), [1, 2]);
    });

    it("/service/ messages stay on their node", T, async () => {
      const [a, b] = nodes;
      const served: string[] = [];
      a.run.bayeux.service("/service/echo", () => {
        served.push("a");
      });
      b.run.bayeux.service("/service/echo", () => {
        served.push("b");
      });
      const forwardedBefore = a.run.bayeux.hub.stats.forwarded;
      const client = new faye.Client(a.run.url, { timeout: 5 });
      clients.push(client);
      await client.publish("/service/echo", { q: 1 });
      await until(() => served.length === 1, 5000, "the service call");
      assert.deepEqual(served, ["a"]);
      assert.equal(a.run.bayeux.hub.stats.forwarded, forwardedBefore, "nothing forwarded");
    });

    it("a node without subscribers gets nothing (interest-based)", T, async () => {
      const ch = channel("quiet");
      const [a, b, c] = nodes;
      const onB = await listener(b, [ch]);
      await settled();
      const receivedC = c.run.bayeux.hub.stats.received;
      const receivedB = b.run.bayeux.hub.stats.received;
      a.run.bayeux.publish(ch, "x");
      await until(() => data(onB).length === 1, 5000, "b's subscriber");
      assert.equal(b.run.bayeux.hub.stats.received, receivedB + 1);
      assert.equal(c.run.bayeux.hub.stats.received, receivedC, "c is not subscribed");
      // Its subscriber gone, b stops receiving too.
      const stopped = b.run.bayeux.hub.stats.received;
      await shutdown(onB.client);
      await until(
        () => !b.run.bayeux.router.topics.has(`bayeux/${ch}`),
        5000,
        "b's subscription ended",
      );
      await settled();
      a.run.bayeux.publish(ch, "y");
      // A later publish that b does hear proves the earlier one had its chance.
      const probe = channel("probe");
      const onProbe = await listener(b, [probe]);
      await settled();
      a.run.bayeux.publish(probe, "p");
      await until(() => data(onProbe).length === 1, 5000, "the probe");
      assert.equal(b.run.bayeux.hub.stats.received, stopped + 1, "only the probe arrived");
    });
  });
}

bayeuxNodesSuite("memory broker", () => {
  const hub = new MemoryBrokerHub();
  return { connect: () => hub.connect() };
});
await onRedis(bayeuxNodesSuite);
