/**
 * The bridge on one node, with real clients: a socket.io-client in a room
 * and a Faye client on a channel talk to each other, nothing echoes, a
 * wildcard route maps rooms to channels, binary is refused, close() stops.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { BayeuxServer } from "../../src/bayeux/index.js";
import { BRIDGE_ORIGIN_EXT } from "../../src/bridge/index.js";
import { type Bridge, BridgeRouteError, bridge, MemoryBrokerHub } from "../../src/index.js";
import { until } from "../socketio/raw-clients.js";
import { type BridgeNode, Clients, startNode } from "./helpers.js";

const T = { timeout: 15_000 };

describe("bridge on one node", () => {
  let node: BridgeNode;
  let link: Bridge | undefined;
  const clients = new Clients();

  before(async () => {
    node = await startNode();
  });
  afterEach(async () => {
    link?.close();
    link = undefined;
    await clients.close();
  });
  after(async () => {
    await node.close();
  });

  it(
    "carries a room broadcast to a Faye subscriber and a Faye publish to the room, once, no echo",
    T,
    async () => {
      link = bridge({
        io: node.io,
        bayeux: node.bayeux,
        routes: [{ room: "lobby", event: "message", channel: "/chat/lobby" }],
      });
      const member = await clients.member(node, "lobby", "message");
      const sub = await clients.subscriber(node, "/chat/lobby");

      node.io.to("lobby").emit("message", { text: "from socket.io" });
      await until(() => sub.got.length === 1, 5000, "the broadcast on the Faye subscriber");
      assert.deepEqual(sub.got, [{ text: "from socket.io" }]);

      await sub.client.publish("/chat/lobby", { text: "from faye" });
      await until(() => member.got.length === 2, 5000, "the Faye publish in the room");
      assert.deepEqual(member.got, [[{ text: "from socket.io" }], [{ text: "from faye" }]]);

      // Fence: one more broadcast each way; had anything echoed, it would sit before it.
      node.io.to("lobby").emit("message", "fence");
      await until(() => sub.got.length >= 3 && member.got.length >= 3, 5000, "the fence");
      assert.deepEqual(sub.got, [{ text: "from socket.io" }, { text: "from faye" }, "fence"]);
      assert.deepEqual(member.got, [
        [{ text: "from socket.io" }],
        [{ text: "from faye" }],
        ["fence"],
      ]);
      assert.deepEqual(link.stats, { toBayeux: 2, toSocketIO: 1, refused: 0 });
    },
  );

  it("maps several arguments to an array and Bayeux data to one argument", T, async () => {
    link = bridge({
      io: node.io,
      bayeux: node.bayeux,
      routes: [{ room: "args", event: "pair", channel: "/pairs" }],
    });
    const member = await clients.member(node, "args", "pair");
    const sub = await clients.subscriber(node, "/pairs");
    node.io.to("args").emit("pair", 1, "two", { three: 3 });
    await until(() => sub.got.length === 1, 5000, "the broadcast");
    assert.deepEqual(sub.got, [[1, "two", { three: 3 }]]);
    await sub.client.publish("/pairs", [4, 5]);
    await until(() => member.got.length === 2, 5000, "the publish");
    assert.deepEqual(member.got[1], [[4, 5]]);
  });

  it(
    "maps every room to /chat/<room> with a wildcard route, and skips rooms that are no channel segment",
    T,
    async () => {
      link = bridge({
        io: node.io,
        bayeux: node.bayeux,
        routes: [{ room: "chat:*", event: "message", channel: "/chat/*" }],
      });
      const tea = await clients.member(node, "chat:tea", "message");
      const spaced = await clients.member(node, "chat:tea room", "message");
      const sub = await clients.subscriber(node, "/chat/*");
      node.io.to("chat:tea").emit("message", "hi tea");
      node.io.to("chat:tea room").emit("message", "not a segment");
      node.io.to("other").emit("message", "not routed");
      await sub.client.publish("/chat/tea", "from faye");
      await until(
        () => tea.got.length === 2 && spaced.got.length === 1 && sub.got.length === 2,
        5000,
        "both ways",
      );
      assert.deepEqual(sub.got, ["hi tea", "from faye"]);
      assert.deepEqual(tea.got, [["hi tea"], ["from faye"]]);
      assert.deepEqual(spaced.got, [["not a segment"]]);
      assert.equal(link.stats.toBayeux, 1);
      assert.equal(link.stats.toSocketIO, 1);
    },
  );

  it("refuses a broadcast carrying binary: counted, reported, not published", T, async () => {
    const refused: string[] = [];
    link = bridge({
      io: node.io,
      bayeux: node.bayeux,
      routes: [{ room: "files", event: "file", channel: "/files" }],
      onRefused: (reason, _route, detail) => refused.push(`${reason}: ${detail}`),
    });
    const member = await clients.member(node, "files", "file");
    const sub = await clients.subscriber(node, "/files");
    node.io.to("files").emit("file", "name.bin", { body: Buffer.from([1, 2, 3]) });
    node.io.to("files").emit("file", "after");
    await until(() => sub.got.length === 1 && member.got.length === 2, 5000, "the text broadcast");
    assert.deepEqual(sub.got, ["after"]);
    assert.deepEqual(link.stats, { toBayeux: 1, toSocketIO: 0, refused: 1 });
    assert.deepEqual(refused, ["binary: file to files: binary at [1].body"]);
    // Socket.IO members still get the binary broadcast.
    const body = (member.got[0][1] as { body: Uint8Array }).body;
    assert.deepEqual([...new Uint8Array(body)], [1, 2, 3]);
  });

  it(
    "does not bridge io.local broadcasts, and strips a client's forged origin mark",
    T,
    async () => {
      link = bridge({
        io: node.io,
        bayeux: node.bayeux,
        routes: [{ room: "mark", event: "m", channel: "/mark" }],
      });
      const member = await clients.member(node, "mark", "m");
      const sub = await clients.subscriber(node, "/mark");
      node.io.local.to("mark").emit("m", "local only");
      sub.client.addExtension({
        outgoing(message: { channel: string; ext?: object }, callback: (m: object) => void) {
          if (message.channel === "/mark") message.ext = { [BRIDGE_ORIGIN_EXT]: "forged" };
          callback(message);
        },
      });
      await sub.client.publish("/mark", "forged");
      await until(() => member.got.length === 2, 5000, "the forged publish in the room");
      assert.deepEqual(member.got, [["local only"], ["forged"]]);
      assert.deepEqual(sub.got, ["forged"]);
      assert.deepEqual(link.stats, { toBayeux: 0, toSocketIO: 1, refused: 0 });
    },
  );

  it("runs transforms, a refusing transform counts, and close() stops both ways", T, async () => {
    link = bridge({
      io: node.io,
      bayeux: node.bayeux,
      routes: [
        {
          room: "t",
          event: "say",
          channel: "/say",
          toBayeux: (args) => (typeof args[0] === "string" ? { text: args[0] } : undefined),
          toSocketIO: (data) => {
            if ((data as { boom?: unknown }).boom) throw new Error("a mapping that throws");
            return typeof (data as { text?: unknown }).text === "string"
              ? [(data as { text: string }).text.toUpperCase()]
              : undefined;
          },
        },
      ],
    });
    const member = await clients.member(node, "t", "say");
    const sub = await clients.subscriber(node, "/say");
    node.io.to("t").emit("say", 42);
    node.io.to("t").emit("say", "hello");
    await sub.client.publish("/say", { nothing: true });
    // A throwing mapping refuses the message; the publish itself still succeeds.
    await sub.client.publish("/say", { boom: true });
    await sub.client.publish("/say", { text: "shout" });
    await until(() => member.got.length === 3 && sub.got.length === 4, 5000, "both ways");
    assert.deepEqual(sub.got, [
      { text: "hello" },
      { nothing: true },
      { boom: true },
      { text: "shout" },
    ]);
    assert.deepEqual(member.got, [[42], ["hello"], ["SHOUT"]]);
    assert.deepEqual(link.stats, { toBayeux: 1, toSocketIO: 1, refused: 3 });

    link.close();
    const before = node.io.of("/").adapter.broadcast;
    assert.equal(Object.hasOwn(node.io.of("/").adapter, "broadcast"), false);
    assert.equal(typeof before, "function");
    node.io.to("t").emit("say", "after close");
    await sub.client.publish("/say", { text: "after close" });
    await until(() => member.got.length === 4 && sub.got.length === 5, 5000, "the fence");
    assert.deepEqual(member.got[3], ["after close"]);
    assert.deepEqual(sub.got[4], { text: "after close" });
    assert.deepEqual(link.stats, { toBayeux: 1, toSocketIO: 1, refused: 3 });
  });

  it(
    "bridges socket.to(room) broadcasts but never an emit to one socket's own room",
    T,
    async () => {
      link = bridge({
        io: node.io,
        bayeux: node.bayeux,
        routes: [{ room: "*", event: "m", channel: "/p/*" }],
      });
      const member = await clients.member(node, "r1", "m");
      const other = await clients.member(node, "r1", "m");
      const sub = await clients.subscriber(node, "/p/*");
      const socket = node.io.of("/").sockets.get(member.socket.id as string);
      assert.ok(socket);
      socket.to("r1").emit("m", "from a socket");
      node.io.to(socket.id).emit("m", "private");
      node.io.to("r1").emit("m", "fence");
      await until(() => sub.got.includes("fence") && member.got.length === 2, 5000, "the fence");
      assert.deepEqual(sub.got, ["from a socket", "fence"]);
      assert.deepEqual(member.got, [["private"], ["fence"]]);
      assert.deepEqual(other.got.slice(0, 1), [["from a socket"]]);
    },
  );

  it("refuses wrong routes with a coded error", () => {
    const make = (route: object) => () =>
      bridge({ io: node.io, bayeux: node.bayeux, routes: [route as never] });
    const code = (code: string) => (err: unknown) =>
      err instanceof BridgeRouteError && err.code === code;
    assert.throws(
      make({ room: "a", event: "m", channel: "/meta/x" }),
      code("ERR_BRIDGE_ROUTE_CHANNEL"),
    );
    assert.throws(
      make({ room: "a", event: "connect", channel: "/a" }),
      code("ERR_BRIDGE_ROUTE_EVENT"),
    );
    assert.throws(
      make({ room: "*", event: "m", channel: "/a" }),
      code("ERR_BRIDGE_ROUTE_WILDCARD"),
    );
    assert.throws(
      make({ room: "a", event: "m", channel: "/a/*" }),
      code("ERR_BRIDGE_ROUTE_WILDCARD"),
    );
    assert.throws(
      () => bridge({ io: node.io, bayeux: node.bayeux, routes: [] }),
      code("ERR_BRIDGE_OPTIONS"),
    );
    const clustered = new BayeuxServer({ broker: new MemoryBrokerHub().connect() });
    assert.throws(
      () =>
        bridge({
          io: node.io,
          bayeux: clustered,
          routes: [{ room: "a", event: "m", channel: "/a" }],
        }),
      (err: unknown) =>
        err instanceof BridgeRouteError &&
        err.code === "ERR_BRIDGE_OPTIONS" &&
        /one broker/.test(err.message),
    );
    void clustered.close();
    // Nothing was left installed by the failed constructions.
    assert.equal(node.bayeux.extensions.length, 0);
  });
});
