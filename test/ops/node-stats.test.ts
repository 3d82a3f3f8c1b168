/**
 * nodeStats(): the figures of a node with real clients over loopback —
 * Socket.IO connections by transport (socket.io-client over polling and
 * websocket), namespaces, rooms without the private ones, Bayeux sessions by
 * connection type (Faye over long-polling and websocket), channels, the
 * biggest topics by members, the node id, and zeroed counters.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Socket as ClientSocket, io as connect } from "socket.io-client";
import { ChannelRouter } from "../../src/bayeux/server/channels.js";
import { Delivery } from "../../src/bayeux/server/delivery.js";
import { BayeuxStats } from "../../src/bayeux/server/stats.js";
import { MemoryBroker } from "../../src/cluster/memory-broker.js";
import { nodeStats } from "../../src/ops/node-stats.js";
import { type BridgeNode, startNode } from "../bridge/helpers.js";
import { type FayeClient, faye, shutdown } from "../helpers/faye.js";
import { until } from "../socketio/raw-clients.js";

describe("nodeStats", () => {
  let node: BridgeNode;
  const sockets: ClientSocket[] = [];
  const fayes: FayeClient[] = [];

  before(async () => {
    node = await startNode();
    node.io.of("/admin");
  });
  after(async () => {
    for (const socket of sockets) socket.close();
    await Promise.all(fayes.map(shutdown));
    await node.close();
  });

  async function member(room: string, transport: "polling" | "websocket", nsp = "/") {
    const socket = connect(`http://127.0.0.1:${node.port}${nsp}`, {
      transports: [transport],
      forceNew: true,
      reconnection: false,
    });
    sockets.push(socket);
    if (nsp === "/") await socket.timeout(5000).emitWithAck("join", room);
    else await until(() => socket.connected, 5000, "the connect");
    return socket;
  }

  async function subscriber(channel: string, transport: "long-polling" | "websocket") {
    const client = new faye.Client(`http://127.0.0.1:${node.port}/bayeux`, { timeout: 5 });
    if (transport === "long-polling") client.disable("websocket");
    fayes.push(client);
    await client.subscribe(channel, () => {});
    return client;
  }

  it("counts connections, namespaces, rooms, channels and the biggest topics", async () => {
    await member("lobby", "polling");
    await member("lobby", "websocket");
    await member("lobby", "websocket");
    await member("quiet", "polling");
    await member("", "websocket", "/admin");
    await subscriber("/news", "long-polling");
    await subscriber("/news", "websocket");
    await subscriber("/sports/**", "websocket");
    // Faye moves to the websocket on its second connect: wait for the settled picture.
    const stats = nodeStats({ io: node.io, bayeux: node.bayeux }, { topTopics: 3 });
    await until(() => {
      const s = stats.snapshot();
      return s.connections.bayeux.websocket === 2 && s.connections.bayeux["long-polling"] === 1;
    });
    const s = stats.snapshot();
    assert.deepEqual(s.connections.socketio, { polling: 2, websocket: 3 });
    assert.deepEqual(s.connections.bayeux, { pending: 0, "long-polling": 1, websocket: 2 });
    assert.deepEqual(s.handshakes, { socketio: 5, bayeux: 3 });
    assert.equal(s.namespaces, 2);
    assert.equal(s.rooms, 2);
    assert.equal(s.channels, 2);
    assert.deepEqual(s.topTopics.map((t) => [t.protocol, t.name, t.members]).slice(0, 3), [
      ["socketio", "/ lobby", 3],
      ["bayeux", "/news", 2],
      ["socketio", "/ quiet", 1],
    ]);
    // Every topic in the table the cluster sums read; cut to the biggest at its bound.
    assert.deepEqual(s.topics, {
      socketio: [
        ["/ lobby", 3, 0],
        ["/ quiet", 1, 0],
      ],
      bayeux: [
        ["/news", 2, 0],
        ["/sports/**", 1, 0],
      ],
      namespaces: ["/", "/admin"],
      complete: true,
    });
    const cut = nodeStats({ io: node.io, bayeux: node.bayeux }, { topicTable: 2 }).snapshot();
    assert.deepEqual(cut.topics, {
      socketio: [["/ lobby", 3, 0]],
      bayeux: [["/news", 2, 0]],
      namespaces: ["/", "/admin"],
      complete: false,
    });
    assert.equal(s.cluster, null);
    assert.equal(s.node, node.io.engine.nodeId);
    assert.ok(s.uptime >= 0 && s.uptime < 60);
    assert.ok(Math.abs(s.time - Date.now()) < 5000);
    for (const counter of [s.messagesIn, s.bytesOut, s.slowConsumerDrops]) {
      assert.equal(typeof counter.socketio, "number");
      assert.equal(typeof counter.bayeux, "number");
    }
    assert.ok(Array.isArray(s.recentErrors));
    assert.ok(Array.isArray(s.slowConsumers));
  });

  it("lists a room broadcast to from here with no member here: its traffic, no member", () => {
    const before = nodeStats({ io: node.io }).snapshot();
    node.io.to("far-away").emit("x");
    node.io.to("far-away").emit("x");
    const s = nodeStats({ io: node.io }).snapshot();
    assert.deepEqual(
      s.topics?.socketio.find((row) => row[0] === "/ far-away"),
      ["/ far-away", 0, 2],
    );
    assert.equal(s.rooms, before.rooms, "not a room of this node");
    const far = s.topTopics.find((t) => t.name === "/ far-away");
    assert.deepEqual(far, { protocol: "socketio", name: "/ far-away", members: 0, messages: 2 });
  });

  it("names the node after its broker, and works with no parts at all", async () => {
    const broker = new MemoryBroker();
    try {
      assert.equal(nodeStats({ io: node.io, broker }).snapshot().node, broker.nodeId);
    } finally {
      await broker.close();
    }
    const empty = nodeStats({});
    const s = empty.snapshot();
    assert.equal(s.node, empty.snapshot().node);
    assert.deepEqual(s.connections, { socketio: {}, bayeux: {} });
    assert.deepEqual(s.errors, {});
    assert.equal(s.rooms + s.channels + s.namespaces, 0);
    assert.deepEqual(s.topTopics, []);
  });
});

describe("nodeStats rooms from the adapter's named-room index", () => {
  it("keeps named rooms as sockets join, leave and go, without the private ones", async () => {
    const { Server } = await import("../../src/index.js");
    const io = new Server();
    const nsp = io.of("/");
    const adapter = nsp.adapter as unknown as {
      namedRooms: ReadonlySet<string>;
      addAll(id: string, rooms: Set<string>): void;
      del(id: string, room: string): void;
      delAll(id: string): void;
    };
    // Sockets as the namespace holds them: only their ids matter to the figures.
    const sockets = nsp.sockets as unknown as Map<string, object>;
    for (const id of ["a", "b", "c"]) {
      sockets.set(id, {});
      adapter.addAll(id, new Set([id, "lobby"]));
    }
    adapter.addAll("a", new Set(["games"]));
    // A room named after another socket's id is that socket's private room.
    adapter.addAll("b", new Set(["c"]));
    const stats = nodeStats({ io });
    assert.deepEqual([...adapter.namedRooms].sort(), ["c", "games", "lobby"]);
    assert.equal(stats.snapshot().rooms, 2);
    const top = stats.snapshot().topTopics.map((t) => [t.name, t.members]);
    assert.deepEqual(top.slice(0, 2), [
      ["/ lobby", 3],
      ["/ games", 1],
    ]);
    adapter.del("a", "games");
    adapter.delAll("b");
    // "c" stays indexed (its owner is still in it) but is never counted as a room.
    assert.deepEqual([...adapter.namedRooms].sort(), ["c", "lobby"]);
    assert.equal(stats.snapshot().rooms, 1);
    assert.equal(stats.roomCount(), 1);
    // The fake sockets go before the server closes its namespaces.
    sockets.clear();
    io.close();
  });
});

describe("Bayeux channel traffic: counted where published", () => {
  it("a channel-log entry from another node is delivered and counted as deliveries, not traffic", () => {
    const router = new ChannelRouter();
    router.stats = new BayeuxStats();
    let got = 0;
    router.subscribe({ deliver: () => got++ }, "/feed");
    router.deliver(Delivery.encoded({ channel: "/feed", data: 1 }));
    const remote = Delivery.fromJson({ channel: "/feed", data: 2 }, '{"channel":"/feed","data":2}');
    remote.origin = "other-node";
    router.deliver(remote);
    assert.equal(got, 2);
    assert.equal(router.stats.deliveries, 2);
    assert.deepEqual([...router.stats.traffic.counts], [["/feed", 1]]);
  });
});
