/**
 * Socket.IO across nodes: several Servers in one process, each on its own
 * broker of one cluster, with real socket.io-client clients connected to
 * different nodes. Written against a broker factory so the same suite runs
 * on every backend (memory here, Redis where a Redis is available).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Socket as ClientSocket } from "socket.io-client";
import { type Broker, MemoryBrokerHub } from "../../src/cluster/index.js";
import type { Server, Socket } from "../../src/index.js";
import { type Harness, startServer, waitFor } from "../socketio/helpers.js";
import { until } from "../socketio/raw-clients.js";
import { type BrokerFactory, onRedis } from "./nodes-backends.js";

const T = { timeout: 15_000 };
const WS = { transports: ["websocket" as const] };

interface Node {
  h: Harness;
  io: Server;
  broker: Broker;
}

interface Peer {
  client: ClientSocket;
  socket: Socket;
  /** Every event the client received, as `[event, ...args]`. */
  events: unknown[][];
}

let unique = 0;
/** A room name no other test uses. */
function room(what: string): string {
  unique++;
  return `${what}-${unique}`;
}

async function startNode(factory: BrokerFactory): Promise<Node> {
  const broker = await factory.connect();
  const h = await startServer({ broker }, WS);
  return { h, io: h.io, broker };
}

async function connect(node: Node, nsp = "/", auth?: Record<string, unknown>): Promise<Peer> {
  const client = node.h.client(nsp, auth ? { auth } : {});
  const events: unknown[][] = [];
  client.onAny((...args: unknown[]) => events.push(args));
  await waitFor(client, "connect");
  const socket = node.io.of(nsp).sockets.get(client.id as string) as Socket;
  assert.ok(socket, "server-side socket");
  return { client, socket, events };
}

/** Waits until every node's broker subscriptions are effective. */
async function settled(nodes: Node[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.io.hub.settled()));
}

/** Waits until each peer got the event named with it. */
async function arrived(expected: [Peer, string][]): Promise<void> {
  await until(
    () => expected.every(([peer, event]) => got(peer, event).length > 0),
    5000,
    `events ${expected.map(([, e]) => e).join(", ")}`,
  );
}

/**
 * Sends a marker to every peer through `node` and waits for it: on a broker
 * that keeps one node's publishes in order, what a peer got before the
 * marker is all the test's broadcasts gave it (tests wait for the expected
 * events first, so a broker that may reorder topics cannot fail them).
 */
async function fence(node: Node, peers: Peer[]): Promise<void> {
  const id = room("fence");
  node.io.emit("fence", id);
  await until(
    () => peers.every((p) => p.events.some((e) => e[0] === "fence" && e[1] === id)),
    5000,
    "the fence on every peer",
  );
}

/** The events a peer got, without fences. */
function got(peer: Peer, event?: string): unknown[][] {
  return peer.events.filter((e) => e[0] !== "fence" && (event === undefined || e[0] === event));
}

function socketioNodesSuite(name: string, makeFactory: () => BrokerFactory): void {
  describe(`Socket.IO across nodes (${name})`, () => {
    let factory: BrokerFactory;
    let a: Node;
    let b: Node;
    let c: Node;
    const extra: Broker[] = [];

    before(async () => {
      factory = makeFactory();
      a = await startNode(factory);
      b = await startNode(factory);
      c = await startNode(factory);
      await until(() => a.broker.nodes().length === 2, 5000, "three nodes");
    });

    after(async () => {
      for (const node of [a, b, c]) await node?.h.close();
      for (const broker of [a, b, c].map((n) => n?.broker).concat(extra)) await broker?.close();
      await factory?.close?.();
    });

    it(
      "a room broadcast reaches the room's sockets on every node, and no one else",
      T,
      async () => {
        const r = room("r");
        const [pa, pb, outsider] = [await connect(a), await connect(b), await connect(b)];
        pa.socket.join(r);
        pb.socket.join(r);
        await settled([a, b, c]);
        a.io.to(r).emit("news", 1, { two: 2 });
        await arrived([
          [pa, "news"],
          [pb, "news"],
        ]);
        await fence(a, [pa, pb, outsider]);
        assert.deepEqual(got(pa), [["news", 1, { two: 2 }]]);
        assert.deepEqual(got(pb), [["news", 1, { two: 2 }]]);
        assert.deepEqual(got(outsider), []);
        // From the other side too, and from a node with no socket in the room.
        c.io.to(r).emit("again");
        await arrived([
          [pa, "again"],
          [pb, "again"],
        ]);
        await fence(c, [pa, pb, outsider]);
        assert.deepEqual(got(pa, "again"), [["again"]]);
        assert.deepEqual(got(pb, "again"), [["again"]]);
        assert.deepEqual(got(outsider, "again"), []);
      },
    );

    it("except leaves out the excluded rooms' sockets on every node", T, async () => {
      const [r, muted] = [room("r"), room("muted")];
      const [pa, pb, pb2] = [await connect(a), await connect(b), await connect(b)];
      for (const p of [pa, pb, pb2]) p.socket.join(r);
      pb2.socket.join(muted);
      await settled([a, b, c]);
      a.io.to(r).except(muted).emit("m");
      // socket.broadcast on a node excludes the sender only.
      pb.socket.broadcast.to(r).emit("from-b");
      await arrived([
        [pa, "m"],
        [pb, "m"],
        [pa, "from-b"],
        [pb2, "from-b"],
      ]);
      await fence(a, [pa, pb, pb2]);
      assert.deepEqual(got(pa, "m"), [["m"]]);
      assert.deepEqual(got(pb, "m"), [["m"]]);
      assert.deepEqual(got(pb2, "m"), []);
      assert.deepEqual(got(pa, "from-b"), [["from-b"]]);
      assert.deepEqual(got(pb, "from-b"), []);
      assert.deepEqual(got(pb2, "from-b"), [["from-b"]]);
    });

    it("a socket in two target rooms gets the message once", T, async () => {
      const [r1, r2] = [room("r1"), room("r2")];
      const [pa, pb] = [await connect(a), await connect(b)];
      pa.socket.join([r1, r2]);
      pb.socket.join([r1, r2]);
      await settled([a, b, c]);
      c.io.to(r1).to(r2).emit("once");
      a.io.to([r2, r1]).emit("once-too");
      await arrived([
        [pa, "once"],
        [pa, "once-too"],
        [pb, "once"],
        [pb, "once-too"],
      ]);
      await fence(a, [pa, pb]);
      // Two publishers: their messages may arrive in either order.
      assert.deepEqual(got(pa).sort(), [["once"], ["once-too"]]);
      assert.deepEqual(got(pb).sort(), [["once"], ["once-too"]]);
    });

    it("the local flag keeps a broadcast on its node", T, async () => {
      const [pa, pb] = [await connect(a), await connect(b)];
      await settled([a, b, c]);
      a.io.local.emit("here");
      await arrived([[pa, "here"]]);
      await fence(a, [pa, pb]);
      assert.deepEqual(got(pa, "here"), [["here"]]);
      assert.deepEqual(got(pb, "here"), []);
    });

    it("volatile and compress flags travel; binary arrives byte for byte", T, async () => {
      const r = room("r");
      const pb = await connect(b);
      pb.socket.join(r);
      await settled([a, b, c]);
      const adapter = b.io.of("/").adapter;
      const seen: unknown[] = [];
      const deliver = adapter._deliverRemote.bind(adapter);
      adapter._deliverRemote = (rm, except, flags, frames) => {
        seen.push({ ...flags });
        deliver(rm, except, flags, frames);
      };
      try {
        a.io.to(r).volatile.compress(false).emit("v", "x");
        a.io.to(r).emit("bin", { file: Buffer.from([0, 1, 2, 255]), list: [Buffer.from("ab")] });
        await arrived([
          [pb, "v"],
          [pb, "bin"],
        ]);
      } finally {
        adapter._deliverRemote = deliver;
      }
      assert.deepEqual(
        seen.find((flags) => (flags as { volatile?: boolean }).volatile),
        { volatile: true, compress: false },
      );
      assert.deepEqual(got(pb, "v"), [["v", "x"]]);
      const [, payload] = got(pb, "bin")[0] as [string, { file: ArrayBuffer; list: ArrayBuffer[] }];
      assert.deepEqual([...Buffer.from(payload.file)], [0, 1, 2, 255]);
      assert.equal(Buffer.from(payload.list[0]).toString(), "ab");
    });

    it("a whole-namespace broadcast reaches every node, in its namespace only", T, async () => {
      const [pa, pb, pc] = [await connect(a), await connect(b), await connect(c)];
      for (const node of [a, b, c]) node.io.of("/chat");
      const [chatB, chatC] = [await connect(b, "/chat"), await connect(c, "/chat")];
      await settled([a, b, c]);
      a.io.emit("all");
      a.io.of("/chat").emit("chat-all");
      await arrived([
        [chatB, "chat-all"],
        [chatC, "chat-all"],
        [pa, "all"],
        [pb, "all"],
        [pc, "all"],
      ]);
      await fence(a, [pa, pb, pc]);
      for (const p of [pa, pb, pc]) {
        assert.deepEqual(got(p, "all"), [["all"]]);
        assert.deepEqual(got(p, "chat-all"), []);
      }
      assert.deepEqual(got(chatB), [["chat-all"]]);
      assert.deepEqual(got(chatC), [["chat-all"]]);
    });

    it(
      "namespaces whose topics share a name (room b of /a, namespace /a/b) stay apart",
      T,
      async () => {
        for (const node of [a, b]) {
          node.io.of("/a");
          node.io.of("/a/b");
        }
        const inRoom = await connect(b, "/a");
        inRoom.socket.join("b");
        const inNsp = await connect(b, "/a/b");
        inNsp.socket.join("c");
        const inRoomBc = await connect(b, "/a");
        inRoomBc.socket.join("b/c");
        await settled([a, b]);
        // Topics sio//a/b (room b of /a, namespace /a/b) and sio//a/b/c (room b/c of /a, room c of /a/b).
        a.io.of("/a").to("b").emit("room-b");
        a.io.of("/a/b").emit("nsp-a-b");
        a.io.of("/a").to("b/c").emit("room-b-c");
        a.io.of("/a/b").to("c").emit("room-c");
        await arrived([
          [inRoom, "room-b"],
          [inNsp, "nsp-a-b"],
          [inNsp, "room-c"],
          [inRoomBc, "room-b-c"],
        ]);
        a.io.of("/a").emit("fence-a");
        a.io.of("/a/b").emit("fence-a-b");
        await arrived([
          [inRoom, "fence-a"],
          [inRoomBc, "fence-a"],
          [inNsp, "fence-a-b"],
        ]);
        assert.deepEqual(got(inRoom), [["room-b"], ["fence-a"]]);
        assert.deepEqual(got(inRoomBc), [["room-b-c"], ["fence-a"]]);
        // Two topics: a broker may reorder them (sharded pub/sub), the fence comes after both.
        assert.deepEqual(got(inNsp).slice(0, 2).sort(), [["nsp-a-b"], ["room-c"]]);
        assert.deepEqual(got(inNsp).slice(2), [["fence-a-b"]]);
        // A control message on the shared topic acts in its own namespace only.
        a.io.of("/a/b").socketsJoin("joined");
        await until(() => inNsp.socket.rooms.has("joined"), 5000, "the join in /a/b");
        a.io.of("/a").to("b").socketsJoin("joined-a");
        await until(() => inRoom.socket.rooms.has("joined-a"), 5000, "the join in /a");
        assert.equal(inRoom.socket.rooms.has("joined"), false);
        assert.equal(inRoomBc.socket.rooms.has("joined"), false);
      },
    );

    it("to(socket id) reaches a socket held by another node", T, async () => {
      const pc = await connect(c);
      await settled([a, b, c]);
      a.io.to(pc.socket.id).emit("direct", "hi");
      await until(() => got(pc, "direct").length === 1, 5000, "the direct message");
      assert.deepEqual(got(pc, "direct"), [["direct", "hi"]]);
    });

    it(
      "fetchSockets returns remote sockets that emit, join, leave, answer and disconnect",
      T,
      async () => {
        const r = room("r");
        const pa = await connect(a);
        const pb = await connect(b, "/", { token: "b-token" });
        pa.socket.join(r);
        pb.socket.join(r);
        pb.socket.data = { user: "bob", avatar: Buffer.from([9, 8]) };
        pb.client.on("question", (n: number, ack: (answer: number) => void) => ack(n * 2));
        await settled([a, b, c]);
        const sockets = await a.io.in(r).fetchSockets();
        assert.deepEqual(sockets.missing, []);
        assert.deepEqual(sockets.map((s) => s.id).sort(), [pa.socket.id, pb.socket.id].sort());
        assert.equal(
          sockets.find((s) => s.id === pa.socket.id),
          pa.socket,
          "local as itself",
        );
        const remote = sockets.find((s) => s.id === pb.socket.id);
        assert.ok(remote);
        assert.equal(remote.handshake.auth.token, "b-token");
        assert.deepEqual([...remote.rooms].sort(), [pb.socket.id, r].sort());
        assert.equal(remote.data.user, "bob");
        assert.deepEqual([...remote.data.avatar], [9, 8]);

        remote.emit("to-remote", 5);
        await until(() => got(pb, "to-remote").length === 1, 5000, "the remote emit");
        assert.deepEqual(got(pb, "to-remote"), [["to-remote", 5]]);
        assert.equal(await remote.timeout(2000).emitWithAck("question", 21), 42);
        const answer = await new Promise((resolve) =>
          remote
            .timeout(2000)
            .emit("question", 5, (err: Error | null, n: number) => resolve([err, n])),
        );
        assert.deepEqual(answer, [null, 10]);

        const joined = room("joined");
        remote.join(joined);
        await until(() => pb.socket.rooms.has(joined), 5000, "the remote join");
        remote.leave(joined);
        await until(() => !pb.socket.rooms.has(joined), 5000, "the remote leave");
        remote.disconnect();
        await waitFor(pb.client, "disconnect");
        assert.equal(pb.socket.connected, false);
      },
    );

    it("socketsJoin, socketsLeave and disconnectSockets act on every node", T, async () => {
      const [r, extraRoom] = [room("r"), room("extra")];
      const [pa, pb, pc] = [await connect(a), await connect(b), await connect(c)];
      for (const p of [pa, pb, pc]) p.socket.join(r);
      await settled([a, b, c]);
      a.io.in(r).socketsJoin(extraRoom);
      await until(
        () => [pa, pb, pc].every((p) => p.socket.rooms.has(extraRoom)),
        5000,
        "every socket in the extra room",
      );
      b.io.in(r).except(pc.socket.id).socketsLeave(extraRoom);
      await until(
        () => !pa.socket.rooms.has(extraRoom) && !pb.socket.rooms.has(extraRoom),
        5000,
        "a's and b's sockets out of the extra room",
      );
      assert.equal(pc.socket.rooms.has(extraRoom), true, "excluded socket stays");
      await settled([a, b, c]);
      c.io.in(extraRoom).disconnectSockets();
      await waitFor(pc.client, "disconnect");
      a.io.in(r).disconnectSockets(true);
      await Promise.all([waitFor(pa.client, "disconnect"), waitFor(pb.client, "disconnect")]);
    });

    it(
      "serverSideEmit reaches the other nodes; its acknowledgements time out per node",
      T,
      async () => {
        const [gotB, gotC] = [waitFor(b.io, "ping-all"), waitFor(c.io, "ping-all")];
        a.io.serverSideEmit("ping-all", { n: 1 }, Buffer.from([7]));
        const [[argB, binB], [argC]] = (await Promise.all([gotB, gotC])) as [unknown, Buffer][];
        assert.deepEqual(argB, { n: 1 });
        assert.deepEqual([...binB], [7]);
        assert.deepEqual(argC, { n: 1 });

        b.io.on("count", (ack: (n: string) => void) => ack("b"));
        c.io.on("count", (ack: (n: string) => void) => ack("c"));
        assert.deepEqual((await a.io.serverSideEmitWithAck("count")).sort(), ["b", "c"]);

        b.io.on("slow", (ack: (n: string) => void) => ack("b"));
        c.io.on("slow", () => {});
        const missing: unknown[] = [];
        a.io.of("/").adapter.once("missing-nodes", (...args: unknown[]) => missing.push(args));
        const result = await new Promise<[Error | null, unknown[]]>((resolve) =>
          a.io
            .timeout(200)
            .serverSideEmit("slow", (err: Error | null, r: unknown[]) => resolve([err, r])),
        );
        // socket.io's wording for a server-side emit some node left unanswered.
        assert.match(String(result[0]), /timeout reached: only 1 responses received out of 2/);
        assert.deepEqual(result[1], ["b"], "the answers that came");
        assert.deepEqual(missing, [["serverSideEmit", [c.broker.nodeId]]]);
      },
    );

    it("broadcasts with acknowledgements collect every node's clients", T, async () => {
      const r = room("r");
      const peers = [await connect(a), await connect(b), await connect(c)];
      for (const [i, p] of peers.entries()) {
        p.socket.join(r);
        p.client.on("ask", (q: string, ack: (a: string) => void) => ack(`${q}-${i}`));
      }
      await settled([a, b, c]);
      const responses = await b.io.to(r).timeout(3000).emitWithAck("ask", "q");
      assert.deepEqual((responses as string[]).sort(), ["q-0", "q-1", "q-2"]);
      // One client does not answer: the others' answers come with the timeout error.
      peers[2].client.off("ask");
      peers[2].client.on("ask", () => {});
      const [err, partial] = await new Promise<[Error | null, unknown[]]>((resolve) =>
        a.io
          .to(r)
          .timeout(500)
          .emit("ask", "p", (e: Error | null, res: unknown[]) => resolve([e, res])),
      );
      assert.match(String(err), /timed out/);
      assert.deepEqual((partial as string[]).sort(), ["p-0", "p-1"]);
    });

    it("a node that does not answer leaves a partial result and is named missing", T, async () => {
      const r = room("r");
      const [pa, pb] = [await connect(a), await connect(b)];
      pa.socket.join(r);
      pb.socket.join(r);
      pb.client.on("ask", (ack: (a: string) => void) => ack("b"));
      const mute = await factory.connect();
      extra.push(mute);
      await mute.respond("**", () => new Promise(() => {}));
      await until(() => a.broker.nodes().includes(mute.nodeId), 5000, "the mute node");
      await settled([a, b, c]);
      const acked: unknown[] = [];
      a.io.of("/").adapter.once("missing-nodes", (...args: unknown[]) => acked.push(args));
      const [ackErr, answers] = await new Promise<[Error | null, unknown[]]>((resolve) =>
        a.io
          .to(pb.socket.id)
          .timeout(300)
          .emit("ask", (e: Error | null, res: unknown[]) => resolve([e, res])),
      );
      assert.match(String(ackErr), /timed out/, "a silent node makes the broadcast time out");
      assert.deepEqual(answers, ["b"], "with the answers that came");
      await until(() => acked.length === 1, 2000, "the missing-nodes event");
      assert.deepEqual(acked, [["broadcastWithAck", [mute.nodeId]]]);
      const events: unknown[] = [];
      a.io.of("/").adapter.once("missing-nodes", (...args: unknown[]) => events.push(args));
      const sockets = await a.io.in(r).timeout(300).fetchSockets();
      assert.deepEqual(sockets.map((s) => s.id).sort(), [pa.socket.id, pb.socket.id].sort());
      assert.deepEqual(sockets.missing, [mute.nodeId]);
      assert.deepEqual(events, [["fetchSockets", [mute.nodeId]]]);
      assert.equal(Object.keys(sockets).includes("missing"), false, "not enumerable");
      await mute.close();
      await until(() => !a.broker.nodes().includes(mute.nodeId), 10_000, "the mute node gone");
    });

    it(
      "a node receives a room's broadcasts only while it holds a socket of the room",
      T,
      async () => {
        const r = room("r");
        const [pb, pc] = [await connect(b), await connect(c)];
        pb.socket.join(r);
        await settled([a, b, c]);
        await fence(a, [pb, pc]);
        const atC = c.io.hub.stats.received;
        a.io.to(r).emit("only-b");
        await until(() => got(pb, "only-b").length === 1, 5000, "b's socket");
        // A later message c does get: c received that one and nothing before it.
        a.io.to(pc.socket.id).emit("probe");
        await until(() => got(pc, "probe").length === 1, 5000, "the probe on c");
        assert.equal(c.io.hub.stats.received, atC + 1);
        // The room's last socket on b leaves: b stops receiving it too.
        pb.socket.leave(r);
        await settled([a, b, c]);
        const atB = b.io.hub.stats.received;
        a.io.to(r).emit("nobody");
        a.io.to(pb.socket.id).emit("probe");
        await until(() => got(pb, "probe").length === 1, 5000, "the probe on b");
        assert.equal(b.io.hub.stats.received, atB + 1);
        assert.deepEqual(got(pb, "nobody"), []);
      },
    );

    it(
      "a foreign or other-version message is dropped and counted, and routing goes on",
      T,
      async () => {
        const pb = await connect(b);
        await settled([a, b, c]);
        const sender = await factory.connect();
        extra.push(sender);
        const before = b.io.hub.stats.dropped;
        const otherVersion = Buffer.from([0x48, 99, 0, 0, 0, 2, 0x7b, 0x7d, 0, 0]);
        await sender.publish("sio//", otherVersion);
        await sender.publish("sio//", Buffer.from("not an envelope"));
        await sender.publish(`sio///${pb.socket.id}`, Buffer.from([0x48, 1, 0xff]));
        await until(() => b.io.hub.stats.dropped >= before + 3, 5000, "three drops");
        a.io.to(pb.socket.id).emit("still");
        await until(() => got(pb, "still").length === 1, 5000, "a later broadcast");
        await sender.close();
        // Its goodbye reaches the other nodes a moment later on a real broker.
        await until(
          () => [a, b, c].every((n) => !n.broker.nodes().includes(sender.nodeId)),
          10_000,
          "the sender gone",
        );
      },
    );

    it("serverCount counts the live nodes; a closed node drops out", T, async () => {
      assert.equal(await a.io.of("/").adapter.serverCount(), 3);
      const d = await startNode(factory);
      await until(() => a.broker.nodes().length === 3, 5000, "four nodes");
      assert.equal(await a.io.of("/").adapter.serverCount(), 4);
      const pd = await connect(d);
      await settled([a, b, c, d]);
      a.io.emit("before-close");
      await until(() => got(pd, "before-close").length === 1, 5000, "d's client");
      await d.h.close();
      await d.broker.close();
      await until(() => a.broker.nodes().length === 2, 10_000, "d gone");
      assert.equal(await a.io.of("/").adapter.serverCount(), 3);
      // Queries do not wait for the node that left.
      const started = Date.now();
      await a.io.fetchSockets();
      assert.ok(Date.now() - started < 2000, "fetchSockets did not wait for d");
    });
  });
}

socketioNodesSuite("memory broker", () => {
  const hub = new MemoryBrokerHub();
  return { connect: () => hub.connect() };
});
await onRedis(socketioNodesSuite);
