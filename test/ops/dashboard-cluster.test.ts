/**
 * The dashboard across nodes: two Switchboard nodes on one broker, real
 * clients on each, and one node's dashboard answering for the cluster: each
 * node's figures and their sum, the lists of both nodes paged across the
 * node boundary, one node's list alone, a disconnect of a socket and of a
 * Bayeux session held by the other node. A third node that never answers is
 * reported missing within the timeout, never a hang. Runs on the in-memory
 * broker, and on Redis when one is there (REDIS_URL; under CI=true a missing
 * Redis fails).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Socket as ClientSocket } from "socket.io-client";
import type { BayeuxClient } from "../../src/bayeux/client/index.js";
import { type Broker, MemoryBrokerHub } from "../../src/cluster/index.js";
import { type BrokerFactory, onRedis } from "../cluster/nodes-backends.js";
import { until, untilAsync } from "../socketio/raw-clients.js";
import { call, post, startNode, type TestNode } from "./dashboard-node.js";

const DASHBOARD_TOPIC = "ops/dashboard";
const T = { timeout: 20_000 };

function join(socket: ClientSocket, room: string): Promise<void> {
  return new Promise((resolve) => socket.emit("join", room, () => resolve()));
}

function sum(byTransport: Record<string, number>): number {
  return Object.values(byTransport).reduce((a, b) => a + b, 0);
}

function clusterSuite(name: string, makeFactory: () => BrokerFactory): void {
  describe(`dashboard across nodes (${name})`, () => {
    let factory: BrokerFactory;
    const brokers: Broker[] = [];
    let a: TestNode;
    let b: TestNode;
    const socketsA: ClientSocket[] = [];
    const socketsB: ClientSocket[] = [];
    let sessionA: BayeuxClient;
    let sessionB: BayeuxClient;
    /** Bayeux messages each session got on /both. */
    const onBoth = { a: 0, b: 0 };
    const get = (path: string) => call(`${a.base}/dashboard${path}`);

    before(async () => {
      factory = makeFactory();
      const [brokerA, brokerB] = [await factory.connect(), await factory.connect()];
      brokers.push(brokerA, brokerB);
      a = await startNode({ clusterTimeout: 3000 }, brokerA);
      b = await startNode({ clusterTimeout: 3000 }, brokerB);
      await until(() => brokerA.nodes().includes(brokerB.nodeId), 10_000, "two nodes");
      socketsA.push(await a.socket("websocket"), await a.socket("polling"));
      socketsB.push(
        await b.socket("websocket"),
        await b.socket("websocket"),
        await b.socket("polling"),
      );
      await join(socketsA[0], "lobby");
      await join(socketsB[0], "lobby");
      await join(socketsB[1], "lobby");
      sessionA = await a.bayeuxClient("long-polling");
      sessionB = await b.bayeuxClient("websocket");
      await sessionB.subscribe("/news", () => {});
      await sessionA.subscribe("/both", () => onBoth.a++);
      await sessionB.subscribe("/both", () => onBoth.b++);
    });

    after(async () => {
      await a?.close();
      await b?.close();
      for (const broker of brokers) await broker.close();
      await factory?.close?.();
    });

    it("answers each node's figures and their sum", T, async () => {
      // Each node shares a snapshot for a second: wait for ones taken with every client in.
      await untilAsync(
        async () => sum((await get("/api/stats?scope=cluster")).json.sum.connections.bayeux) === 2,
        10_000,
        "snapshots with every client",
      );
      const answer = await get("/api/stats?scope=cluster");
      assert.equal(answer.status, 200);
      const json = answer.json;
      assert.equal(json.clustered, true);
      assert.deepEqual(json.missing, []);
      assert.equal(json.node, a.dashboard.node);
      const byNode = new Map(
        json.nodes.map((n: { node: string; stats: unknown }) => [n.node, n.stats]),
      );
      assert.deepEqual([...byNode.keys()].sort(), [a.dashboard.node, b.dashboard.node].sort());
      assert.equal(json.nodes[0].node, a.dashboard.node, "the answering node first");
      const statsA = byNode.get(a.dashboard.node) as { connections: Record<string, never> };
      const statsB = byNode.get(b.dashboard.node) as { connections: Record<string, never> };
      assert.equal(sum(statsA.connections.socketio), 2);
      assert.equal(sum(statsB.connections.socketio), 3);
      assert.equal(sum(statsA.connections.bayeux), 1);
      assert.equal(sum(statsB.connections.bayeux), 1);
      assert.equal(sum(json.sum.connections.socketio), 5);
      assert.equal(sum(json.sum.connections.bayeux), 2);
      for (const n of json.nodes) assert.ok(Array.isArray(n.history) && n.history.length > 0);
      const local = await get("/api/stats");
      assert.equal(local.json.nodes.length, 1);
    });

    it(
      "counts a room and a channel held by both nodes once: members summed, traffic once a message",
      T,
      async () => {
        const heard = new Map<ClientSocket, number>();
        for (const socket of [socketsA[0], socketsB[0], socketsB[1]]) {
          heard.set(socket, 0);
          socket.on("said", () => heard.set(socket, (heard.get(socket) ?? 0) + 1));
        }
        // Two broadcasts to "lobby" made on A, one on B; each reaches its 3 members.
        socketsA[0].emit("say", "lobby", "one");
        socketsA[0].emit("say", "lobby", "two");
        socketsB[0].emit("say", "lobby", "three");
        await until(() => [...heard.values()].every((n) => n === 3), 10_000, "three broadcasts");
        // And one with acknowledgements from A: B runs it for its members, and counts no broadcast.
        for (const socket of heard.keys())
          socket.on("ping", (ack: (v: string) => void) => ack("pong"));
        const pongs = await a.io.to("lobby").timeout(5000).emitWithAck("ping");
        assert.deepEqual(pongs, ["pong", "pong", "pong"]);
        await sessionA.publish("/both", { n: 1 });
        await until(() => onBoth.a === 1 && onBoth.b === 1, 10_000, "the publish on both nodes");
        type Topic = { protocol: string; name: string; members: number; messages: number };
        const find = (topics: Topic[], name: string) => topics.find((t) => t.name === name);
        // Each node shares a snapshot for a second: wait for ones taken after the traffic.
        let json: {
          sum: Record<string, never> & { topTopics: Topic[] };
          nodes: { node: string; stats: { rooms: number; channels: number; topTopics: Topic[] } }[];
        } = (await get("/api/stats?scope=cluster")).json;
        await untilAsync(
          async () => {
            json = (await get("/api/stats?scope=cluster")).json;
            return (
              find(json.sum.topTopics, "/ lobby")?.messages === 4 &&
              find(json.sum.topTopics, "/both")?.messages === 1 &&
              (json.sum.deliveries as { bayeux: number }).bayeux === 2
            );
          },
          10_000,
          "snapshots after the traffic",
        );
        const sum = json.sum as unknown as {
          rooms: number;
          channels: number;
          namespaces: number;
          countsExact: boolean;
          deliveries: { socketio: number; bayeux: number };
          topTopics: Topic[];
        };
        assert.equal(sum.countsExact, true);
        assert.equal(sum.rooms, 1, "lobby, held by both nodes, counts once");
        assert.equal(sum.channels, 2, "/news and /both");
        assert.equal(sum.namespaces, 1);
        assert.deepEqual(find(sum.topTopics, "/ lobby"), {
          protocol: "socketio",
          name: "/ lobby",
          members: 3,
          messages: 4,
        });
        assert.deepEqual(find(sum.topTopics, "/both"), {
          protocol: "bayeux",
          name: "/both",
          members: 2,
          messages: 1,
        });
        assert.deepEqual(sum.deliveries, { socketio: 12, bayeux: 2 });
        // Each node: its own members, and the messages published from it.
        const byNode = new Map(json.nodes.map((n) => [n.node, n.stats]));
        const statsA = byNode.get(a.dashboard.node);
        const statsB = byNode.get(b.dashboard.node);
        assert.ok(statsA && statsB);
        assert.deepEqual([statsA.rooms, statsB.rooms], [1, 1]);
        assert.deepEqual([statsA.channels, statsB.channels], [1, 2]);
        const lobbyA = find(statsA.topTopics, "/ lobby");
        const lobbyB = find(statsB.topTopics, "/ lobby");
        assert.deepEqual([lobbyA?.members, lobbyA?.messages], [1, 3]);
        assert.deepEqual([lobbyB?.members, lobbyB?.messages], [2, 1]);
        assert.equal(
          (statsA as unknown as { topics?: unknown }).topics,
          undefined,
          "the page is not sent the topic tables",
        );
      },
    );

    it("pages both nodes' sockets in node order, across the boundary", T, async () => {
      const all = await get("/api/sockets?limit=100");
      assert.equal(all.json.total, 5);
      assert.deepEqual(all.json.missing, []);
      const order = [a.dashboard.node, b.dashboard.node].sort();
      const nodes = all.json.items.map((s: { node: string }) => s.node);
      assert.deepEqual(nodes, [...nodes].sort(), "grouped by node, in id order");
      assert.equal(nodes.filter((n: string) => n === b.dashboard.node).length, 3);
      // Pages of 2 give back the same five, whichever node holds the window.
      const paged: string[] = [];
      for (let offset = 0; offset < 5; offset += 2) {
        const page = await get(`/api/sockets?limit=2&offset=${offset}`);
        assert.equal(page.json.total, 5);
        paged.push(...page.json.items.map((s: { id: string }) => s.id));
      }
      assert.deepEqual(
        paged,
        all.json.items.map((s: { id: string }) => s.id),
      );
      assert.equal(order.length, 2);
      const lobby = await get("/api/sockets?q=lobby");
      assert.equal(lobby.json.total, 3);
      const onlyB = await get(`/api/sockets?node=${encodeURIComponent(b.dashboard.node)}`);
      assert.equal(onlyB.json.total, 3);
      assert.ok(onlyB.json.items.every((s: { node: string }) => s.node === b.dashboard.node));
      const onlyA = await get(`/api/sockets?node=${encodeURIComponent(a.dashboard.node)}`);
      assert.equal(onlyA.json.total, 2);
      const sessions = await get("/api/sessions");
      assert.equal(sessions.json.total, 2);
      const news = await get("/api/sessions?q=news");
      assert.deepEqual(
        news.json.items.map((s: { clientId: string }) => s.clientId),
        [sessionB.clientId],
      );
    });

    it("disconnects a socket and a session held by the other node", T, async () => {
      const target = socketsB[2];
      const id = target.id as string;
      const gone = new Promise<string>((resolve) => target.once("disconnect", resolve));
      const answer = await post(a.base, "/dashboard/api/disconnect", { protocol: "socketio", id });
      assert.equal(answer.status, 200);
      assert.equal(answer.json.node, b.dashboard.node);
      assert.equal(await gone, "io server disconnect");
      const clientId = sessionB.clientId as string;
      const ended = await post(a.base, "/dashboard/api/disconnect", {
        protocol: "bayeux",
        id: clientId,
      });
      assert.equal(ended.status, 200);
      assert.equal(ended.json.node, b.dashboard.node);
      assert.equal(b.bayeux.getSession(clientId), undefined);
      await until(() => b.io.of("/").sockets.size === 2, 5000, "the socket gone on B");
      const all = await get("/api/sockets");
      assert.equal(all.json.total, 4);
      const nobody = await post(a.base, "/dashboard/api/disconnect", {
        protocol: "socketio",
        id: "no-such-socket",
      });
      assert.equal(nobody.status, 404);
    });

    it("reports a node that does not answer as missing, within the timeout", T, async () => {
      const silent = await factory.connect();
      brokers.push(silent);
      // It takes the dashboard's requests and never answers them.
      const stop = await silent.respond(DASHBOARD_TOPIC, () => new Promise(() => {}));
      try {
        await until(() => brokers[0].nodes().includes(silent.nodeId), 10_000, "the silent node");
        const started = Date.now();
        const answer = await get("/api/stats?scope=cluster");
        const took = Date.now() - started;
        assert.equal(answer.status, 200);
        assert.deepEqual(answer.json.missing, [silent.nodeId]);
        assert.equal(answer.json.nodes.length, 2, "the answering nodes are still there");
        assert.ok(took < 10_000, `answered in ${took} ms`);
        const list = await get("/api/sockets");
        assert.deepEqual(list.json.missing, [silent.nodeId]);
        assert.equal(list.json.total, 4);
      } finally {
        await stop();
      }
    });
  });
}

clusterSuite("memory broker", () => {
  const hub = new MemoryBrokerHub();
  return { connect: () => hub.connect() };
});

await onRedis(clusterSuite);
