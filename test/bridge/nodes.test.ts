/**
 * The bridge across two nodes, each running the same routes, on the memory
 * broker and on Redis (a single Redis and a Redis Cluster, from the shared
 * backends helpers): Socket.IO members and Faye subscribers on both nodes
 * get each message exactly once, whichever node and protocol it came from,
 * and only the node where a message originated bridges it.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { MemoryMessageLog } from "../../src/cluster/memory-message-log.js";
import type { MessageLog } from "../../src/cluster/message-log.js";
import { type Bridge, type BridgeRoute, bridge, MemoryBrokerHub } from "../../src/index.js";
import { type BrokerFactory, onRedis } from "../cluster/nodes-backends.js";
import { until } from "../socketio/raw-clients.js";
import { type BridgeNode, Clients, startNode } from "./helpers.js";

const T = { timeout: 20_000 };

function bridgeNodesSuite(
  name: string,
  makeFactory: () => BrokerFactory,
  channelLog?: () => MessageLog,
): void {
  describe(`bridge across two nodes (${name})`, () => {
    let factory: BrokerFactory;
    const nodes: BridgeNode[] = [];
    let links: Bridge[] = [];
    const clients = new Clients();

    before(async () => {
      factory = makeFactory();
      const log = channelLog?.();
      for (let i = 0; i < 2; i++) nodes.push(await startNode(await factory.connect(), log));
      await until(() => nodes.every((n) => n.broker?.nodes().length === 1), 5000, "two nodes");
    });
    afterEach(async () => {
      for (const link of links) link.close();
      links = [];
      await clients.close();
    });
    after(async () => {
      for (const node of nodes) {
        await node.close();
        await node.broker?.close();
      }
      await factory.close?.();
    });

    const settled = () => Promise.all(nodes.map((n) => n.io.hub.settled()));
    const bridgeAll = (routes: BridgeRoute[]) => {
      links = nodes.map((n) => bridge({ io: n.io, bayeux: n.bayeux, routes }));
    };

    it(
      "delivers each message once on both sides of both nodes, bridged by its origin node only",
      T,
      async () => {
        const [a, b] = nodes;
        bridgeAll([{ room: "lobby", event: "message", channel: "/chat/lobby" }]);
        const members = [
          await clients.member(a, "lobby", "message"),
          await clients.member(b, "lobby", "message"),
        ];
        const subs = [
          await clients.subscriber(a, "/chat/lobby"),
          await clients.subscriber(b, "/chat/lobby"),
        ];
        await settled();

        a.io.to("lobby").emit("message", "sio on a");
        await subs[1].client.publish("/chat/lobby", "faye on b");
        b.io.to("lobby").emit("message", "sio on b");
        await subs[0].client.publish("/chat/lobby", "faye on a");
        // Fence: a last broadcast; a duplicate of an earlier message would come before it.
        a.io.to("lobby").emit("message", "fence");
        const fenced = () =>
          members.every((m) => m.got.some(([x]) => x === "fence")) &&
          subs.every((s) => s.got.includes("fence"));
        await until(fenced, 10_000, "the fence on every client");

        const sent = ["sio on a", "faye on b", "sio on b", "faye on a", "fence"];
        for (const m of members) assert.deepEqual(m.got.map(([x]) => x).sort(), [...sent].sort());
        for (const s of subs) assert.deepEqual([...s.got].sort(), [...sent].sort());
        // Each node bridged what originated on it, nothing else.
        assert.deepEqual(links[0].stats, { toBayeux: 2, toSocketIO: 1, refused: 0 });
        assert.deepEqual(links[1].stats, { toBayeux: 1, toSocketIO: 1, refused: 0 });
      },
    );

    it("sends no Bayeux publish to a node that only bridges the channel", T, async () => {
      const [a, b] = nodes;
      bridgeAll([{ room: "q", event: "m", channel: "/q" }]);
      const member = await clients.member(b, "q", "m");
      const faye = await clients.subscriber(a, "/elsewhere");
      await settled();
      const before = b.io.hub.stats.received;
      await faye.client.publish("/q", "from faye on a");
      a.io.to("q").emit("m", "fence");
      await until(() => member.got.length === 2, 10_000, "the publish and the fence on b");
      assert.deepEqual(member.got, [["from faye on a"], ["fence"]]);
      // Two room broadcasts reached b through the hub; the Bayeux publish itself did not.
      assert.equal(b.io.hub.stats.received - before, 2);
    });

    it("maps rooms and channels by a wildcard route across the nodes", T, async () => {
      const [a, b] = nodes;
      bridgeAll([{ room: "*", event: "news", channel: "/news/**" }]);
      const member = await clients.member(b, "sport/tennis", "news");
      const sub = await clients.subscriber(b, "/news/**");
      await settled();

      a.io.to("sport/tennis").emit("news", "from a");
      const faye = await clients.subscriber(a, "/news/x");
      await settled();
      await faye.client.publish("/news/sport/tennis", "faye on a");
      await until(() => member.got.length === 2 && sub.got.length === 2, 10_000, "both ways");
      assert.deepEqual(member.got, [["from a"], ["faye on a"]]);
      assert.deepEqual(sub.got.sort(), ["faye on a", "from a"]);
      assert.deepEqual(links[0].stats, { toBayeux: 1, toSocketIO: 1, refused: 0 });
      assert.deepEqual(links[1].stats, { toBayeux: 0, toSocketIO: 0, refused: 0 });
    });
  });
}

bridgeNodesSuite("memory broker", () => {
  const hub = new MemoryBrokerHub();
  return { connect: () => hub.connect() };
});
// Bayeux publishes through a channel log the nodes share, delivered from it on each node.
bridgeNodesSuite(
  "memory broker, channel log",
  () => {
    const hub = new MemoryBrokerHub();
    return { connect: () => hub.connect() };
  },
  () => new MemoryMessageLog(),
);
await onRedis(bridgeNodesSuite);
