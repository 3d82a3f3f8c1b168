/**
 * `/metrics` of a live node, value by value: real socket.io-client clients
 * (polling and websocket) and Faye clients (long-polling and websocket) do a
 * known number of connects, emits, broadcasts and publishes, then every
 * figure they move is read back exactly from the exposition. Then the
 * error, timeout and drop counters: handshake errors by code (unknown
 * transport, unknown sid, invalid namespace, middleware refusal, Bayeux
 * unknown client), ack timeouts (socket and broadcast), volatile drops,
 * Bayeux queue drops; and the label cap of `topicLabels`.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Socket as ClientSocket, io as connect } from "socket.io-client";
import { type FayeClient, faye, shutdown } from "../helpers/faye.js";
import { until, untilAsync } from "../socketio/raw-clients.js";
import { type MetricsNode, sampleOf, scrape, startMetricsNode } from "./metrics-helpers.js";

const CONNECTED = { forceNew: true, reconnection: false } as const;

describe("/metrics of a live node", () => {
  let node: MetricsNode;
  const sockets: ClientSocket[] = [];
  const fayes: FayeClient[] = [];

  before(async () => {
    node = await startMetricsNode();
    node.io.on("connection", (socket) => {
      socket.on("join", (room: string, ack: () => void) => {
        void socket.join(room);
        ack();
      });
    });
  });
  after(async () => {
    for (const socket of sockets) socket.close();
    await Promise.all(fayes.map(shutdown));
    await node.close();
  });

  async function member(transport: "polling" | "websocket") {
    const socket = connect(`http://127.0.0.1:${node.port}`, {
      transports: [transport],
      ...CONNECTED,
    });
    sockets.push(socket);
    const got: unknown[] = [];
    socket.on("news", (data: unknown) => got.push(data));
    await socket.timeout(5000).emitWithAck("join", "lobby");
    return got;
  }

  function fayeClient(transport: "long-polling" | "websocket") {
    const client = new faye.Client(`http://127.0.0.1:${node.port}/bayeux`, { timeout: 5 });
    if (transport === "long-polling") client.disable("websocket");
    fayes.push(client);
    return client;
  }

  it("counts connections, handshakes, packets, bytes, broadcasts and deliveries exactly", async () => {
    const got = [
      await member("polling"),
      await member("polling"),
      await member("websocket"),
      await member("websocket"),
    ];
    for (let i = 0; i < 3; i++) node.io.to("lobby").emit("news", "x");
    await until(() => got.every((g) => g.length === 3), 5000, "the broadcasts");

    const received: unknown[] = [];
    const subscribers = [fayeClient("long-polling"), fayeClient("websocket")];
    for (const client of subscribers) await client.subscribe("/news", (m) => received.push(m));
    const publisher = fayeClient("long-polling");
    await publisher.publish("/news", { n: 1 });
    await publisher.publish("/news", { n: 2 });
    await until(() => received.length === 4, 5000, "the Bayeux deliveries");
    // Faye moves its websocket client off long-polling on its next connect.
    await untilAsync(async () => {
      const { samples } = await scrape(node.port);
      return samples.get('switchboard_connections{protocol="bayeux",transport="websocket"}') === 1;
    });

    const { samples: s, type } = await scrape(node.port);
    assert.equal(type, "text/plain; version=0.0.4; charset=utf-8");
    const v = (series: string) => sampleOf(s, series);
    // Socket.IO: 4 connections, 3 broadcasts to 4 members.
    assert.equal(v('switchboard_connections{protocol="socketio",transport="polling"}'), 2);
    assert.equal(v('switchboard_connections{protocol="socketio",transport="websocket"}'), 2);
    assert.equal(v('switchboard_handshakes_total{protocol="socketio"}'), 4);
    assert.equal(v("switchboard_socketio_connects_total"), 4);
    assert.equal(v("switchboard_socketio_sockets"), 4);
    assert.equal(v("switchboard_socketio_namespaces"), 1);
    assert.equal(v("switchboard_socketio_rooms"), 1);
    assert.equal(v("switchboard_socketio_upgrades_total"), 0);
    assert.equal(v("switchboard_socketio_events_received_total"), 4);
    assert.equal(v('switchboard_socketio_acks_total{direction="sent"}'), 4);
    assert.equal(v('switchboard_socketio_acks_total{direction="received"}'), 0);
    // In: a CONNECT ("40") and `420["join","lobby"]` per client (websocket payloads, polling bodies).
    assert.equal(v('switchboard_messages_received_total{protocol="socketio"}'), 8);
    assert.equal(v('switchboard_bytes_received_total{protocol="socketio"}'), 4 * (2 + 19));
    // Out: a CONNECT reply (`40{"sid":"<20>"}`), an ack (`430[]`) each, and 12 deliveries of `42["news","x"]`.
    assert.equal(v('switchboard_messages_sent_total{protocol="socketio"}'), 4 + 4 + 12);
    assert.ok(v('switchboard_bytes_sent_total{protocol="socketio"}') > 4 * 32 + 4 * 5 + 12 * 14);
    assert.equal(v('switchboard_deliveries_total{protocol="socketio"}'), 12);
    assert.equal(v('switchboard_broadcast_fanout_count{protocol="socketio"}'), 3);
    assert.equal(v('switchboard_broadcast_fanout_sum{protocol="socketio"}'), 12);
    assert.equal(v('switchboard_broadcast_fanout_bucket{protocol="socketio",le="2"}'), 0);
    assert.equal(v('switchboard_broadcast_fanout_bucket{protocol="socketio",le="5"}'), 3);
    assert.equal(v('switchboard_broadcast_fanout_bucket{protocol="socketio",le="+Inf"}'), 3);
    // Bayeux: 3 sessions, 2 publishes to 2 subscribers.
    assert.equal(v('switchboard_connections{protocol="bayeux",transport="long-polling"}'), 2);
    assert.equal(v('switchboard_connections{protocol="bayeux",transport="pending"}'), 0);
    assert.equal(v('switchboard_handshakes_total{protocol="bayeux"}'), 3);
    assert.equal(v("switchboard_bayeux_channels"), 1);
    assert.equal(v("switchboard_bayeux_publishes_received_total"), 2);
    assert.equal(v('switchboard_deliveries_total{protocol="bayeux"}'), 4);
    assert.equal(v('switchboard_broadcast_fanout_count{protocol="bayeux"}'), 2);
    assert.equal(v('switchboard_broadcast_fanout_bucket{protocol="bayeux",le="1"}'), 0);
    assert.equal(v('switchboard_broadcast_fanout_bucket{protocol="bayeux",le="2"}'), 2);
    // Faye's connects repeat, so only bounds: every handshake, subscribe and publish came in.
    assert.ok(v('switchboard_messages_received_total{protocol="bayeux"}') >= 3 + 2 + 2);
    assert.ok(v('switchboard_messages_sent_total{protocol="bayeux"}') >= 3 + 2 + 2 + 4);
    assert.ok(v('switchboard_bytes_received_total{protocol="bayeux"}') > 0);
    assert.ok(v('switchboard_bytes_sent_total{protocol="bayeux"}') > 0);
    // Nothing went wrong; no broker.
    assert.equal([...s.keys()].filter((k) => k.startsWith("switchboard_errors_total")).length, 0);
    assert.equal(v("switchboard_socketio_ack_timeouts_total"), 0);
    assert.equal(v('switchboard_messages_dropped_total{protocol="socketio",reason="volatile"}'), 0);
    assert.equal(v('switchboard_slow_consumer_disconnects_total{protocol="bayeux"}'), 0);
    assert.equal(v('switchboard_recoveries_total{protocol="socketio",result="succeeded"}'), 0);
    assert.equal(s.has("switchboard_cluster_nodes"), false);
    assert.equal(
      s.has('switchboard_topic_messages_total{protocol="socketio",topic="/ lobby"}'),
      false,
    );
    // The process figures.
    assert.ok(v("process_cpu_seconds_total") > 0);
    assert.ok(v("process_resident_memory_bytes") > 0);
    assert.ok(v("nodejs_heap_used_bytes") > 0);
    assert.ok(v('switchboard_event_loop_lag_seconds{quantile="0.99"}') >= 0);
    assert.ok(v("switchboard_event_loop_lag_max_seconds") >= 0);

    // The node stats read the same counters.
    const stats = node.metrics.reader.snapshot();
    assert.equal(stats.deliveries.socketio, 12);
    assert.equal(stats.deliveries.bayeux, 4);
    assert.deepEqual(
      stats.topTopics.map((t) => [t.name, t.members, t.messages]),
      [
        ["/ lobby", 4, 3],
        ["/news", 2, 2],
      ],
    );
  });

  it("counts bytes as the transports move them: websocket frames in and out", async () => {
    const client = connect(`http://127.0.0.1:${node.port}`, {
      transports: ["websocket"],
      ...CONNECTED,
    });
    sockets.push(client);
    const server = await new Promise<import("../../src/index.js").Socket>((resolve) =>
      node.io.once("connection", resolve),
    );
    await until(() => client.connected, 5000, "the connect");
    const bytes = async () => {
      const { samples } = await scrape(node.port);
      return [
        sampleOf(samples, 'switchboard_bytes_received_total{protocol="socketio"}'),
        sampleOf(samples, 'switchboard_bytes_sent_total{protocol="socketio"}'),
      ];
    };
    const [in0, out0] = await bytes();
    let heard = false;
    server.once("x", () => (heard = true));
    client.emit("x", "y");
    await until(() => heard, 5000, "the event");
    let got = false;
    client.once("z", () => (got = true));
    server.emit("z");
    await until(() => got, 5000, "the emit");
    const [in1, out1] = await bytes();
    // The frame payload `42["x","y"]` in; the frame `42["z"]` out, its 2-byte header included.
    assert.equal(in1 - in0, 11);
    assert.equal(out1 - out0, 2 + 7);
  });

  it("counts the bytes of a broadcast answered to a held poll", async () => {
    const client = connect(`http://127.0.0.1:${node.port}`, {
      transports: ["polling"],
      ...CONNECTED,
    });
    sockets.push(client);
    const server = await new Promise<import("../../src/index.js").Socket>((resolve) =>
      node.io.once("connection", resolve),
    );
    await until(() => client.connected, 5000, "the connect");
    await server.join("bytes-polling");
    const sent = async () =>
      sampleOf(
        (await scrape(node.port)).samples,
        'switchboard_bytes_sent_total{protocol="socketio"}',
      );
    const out0 = await sent();
    let got = false;
    client.once("z", () => (got = true));
    node.io.to("bytes-polling").emit("z");
    await until(() => got, 5000, "the broadcast");
    // The poll's body is the one packet `42["z"]`, whether written shared or alone.
    assert.equal((await sent()) - out0, 7);
  });

  it("answers HEAD with no body and refuses other methods", async () => {
    const head = await fetch(`http://127.0.0.1:${node.port}/metrics`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
    const post = await fetch(`http://127.0.0.1:${node.port}/metrics`, { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
  });
});

describe("/metrics errors, timeouts and drops", () => {
  let node: MetricsNode;
  const sockets: ClientSocket[] = [];

  before(async () => {
    node = await startMetricsNode({ bayeux: { maxQueuedMessages: 2 } });
    node.io.of("/guarded").use((_socket, next) => next(new Error("not allowed")));
  });
  after(async () => {
    for (const socket of sockets) socket.close();
    await node.close();
  });

  const base = () => `http://127.0.0.1:${node.port}`;

  it("counts refused handshakes and connects by code, with the last errors", async () => {
    assert.equal((await fetch(`${base()}/socket.io/?EIO=4&transport=bogus`)).status, 400);
    assert.equal(
      (await fetch(`${base()}/socket.io/?EIO=4&transport=polling&sid=nope`)).status,
      400,
    );
    assert.equal(
      (await fetch(`${base()}/socket.io/?EIO=4&transport=polling&sid=nope`)).status,
      400,
    );
    for (const nsp of ["/nope", "/guarded"]) {
      const socket = connect(`${base()}${nsp}`, { transports: ["websocket"], ...CONNECTED });
      sockets.push(socket);
      await new Promise<void>((resolve) => socket.once("connect_error", () => resolve()));
    }
    const unknown = await fetch(`${base()}/bayeux`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify([{ channel: "/news", clientId: "nobody", data: 1 }]),
    });
    assert.equal(unknown.status, 200);
    const { samples: s } = await scrape(node.port);
    const v = (series: string) => sampleOf(s, series);
    assert.equal(
      v('switchboard_errors_total{protocol="socketio",code="ERR_EIO_UNKNOWN_TRANSPORT"}'),
      1,
    );
    assert.equal(v('switchboard_errors_total{protocol="socketio",code="ERR_EIO_UNKNOWN_SID"}'), 2);
    assert.equal(
      v('switchboard_errors_total{protocol="socketio",code="ERR_SIO_INVALID_NAMESPACE"}'),
      1,
    );
    assert.equal(v('switchboard_errors_total{protocol="socketio",code="ERR_SIO_MIDDLEWARE"}'), 1);
    assert.equal(v('switchboard_errors_total{protocol="bayeux",code="ERR_BAYEUX_402"}'), 1);
    const recent = node.metrics.reader.snapshot().recentErrors;
    assert.deepEqual(
      recent.map((e) => [e.protocol, e.code]),
      [
        ["socketio", "ERR_EIO_UNKNOWN_TRANSPORT"],
        ["socketio", "ERR_EIO_UNKNOWN_SID"],
        ["socketio", "ERR_EIO_UNKNOWN_SID"],
        ["socketio", "ERR_SIO_INVALID_NAMESPACE"],
        ["socketio", "ERR_SIO_MIDDLEWARE"],
        ["bayeux", "ERR_BAYEUX_402"],
      ],
    );
    assert.match(recent[4].message, /not allowed/);
  });

  it("counts ack timeouts of a socket's emit and of a broadcast", async () => {
    const socket = connect(base(), { transports: ["websocket"], ...CONNECTED });
    sockets.push(socket);
    const [server] = await Promise.all([
      new Promise<import("../../src/index.js").Socket>((resolve) =>
        node.io.once("connection", resolve),
      ),
      new Promise((resolve) => socket.once("connect", () => resolve(undefined))),
    ]);
    let errors = 0;
    server.timeout(20).emit("unanswered", () => errors++);
    node.io.timeout(20).emit("unanswered", () => errors++);
    await until(() => errors === 2, 5000, "both timeouts");
    const { samples } = await scrape(node.port);
    assert.equal(sampleOf(samples, "switchboard_socketio_ack_timeouts_total"), 2);
  });

  it("counts volatile packets dropped for a busy websocket", async () => {
    const socket = connect(base(), { transports: ["websocket"], ...CONNECTED });
    sockets.push(socket);
    let got = 0;
    socket.on("v", () => got++);
    socket.on("end", () => got++);
    const server = await new Promise<import("../../src/index.js").Socket>((resolve) =>
      node.io.once("connection", resolve),
    );
    await until(() => socket.connected, 5000, "the connect");
    const before = sampleOf(
      (await scrape(node.port)).samples,
      'switchboard_messages_dropped_total{protocol="socketio",reason="volatile"}',
    );
    // socket.io's rule: a volatile packet is dropped while a write is in flight.
    server.volatile.emit("v");
    server.volatile.emit("v");
    server.volatile.emit("v");
    await until(() => got === 1, 5000, "the first volatile packet");
    server.emit("end");
    await until(() => got === 2, 5000, "the end event");
    const { samples } = await scrape(node.port);
    assert.equal(
      sampleOf(
        samples,
        'switchboard_messages_dropped_total{protocol="socketio",reason="volatile"}',
      ) - before,
      2,
    );
  });

  it("counts Bayeux deliveries dropped past a full queue, and names the slow session", async () => {
    const post = async (messages: object[]) => {
      const res = await fetch(`${base()}/bayeux`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(messages),
      });
      return (await res.json()) as { clientId?: string; successful?: boolean }[];
    };
    const [hs] = await post([
      { channel: "/meta/handshake", version: "1.0", supportedConnectionTypes: ["long-polling"] },
    ]);
    const clientId = hs.clientId as string;
    const [sub] = await post([{ channel: "/meta/subscribe", clientId, subscription: "/slow" }]);
    assert.equal(sub.successful, true);
    // No connect is held: deliveries queue (at most 2), the rest are dropped.
    for (let i = 0; i < 5; i++) node.bayeux.publish("/slow", i);
    const { samples } = await scrape(node.port);
    assert.equal(
      sampleOf(
        samples,
        'switchboard_messages_dropped_total{protocol="bayeux",reason="queue_full"}',
      ),
      3,
    );
    assert.equal(
      sampleOf(samples, 'switchboard_connections{protocol="bayeux",transport="pending"}'),
      1,
    );
    assert.deepEqual(
      node.metrics.reader
        .snapshot()
        .slowConsumers.filter((c) => c.protocol === "bayeux")
        .map((c) => [c.protocol, c.id, c.dropped]),
      [["bayeux", clientId, 3]],
    );
  });
});

describe("topic labels", () => {
  it("labels at most topicLabels rooms and channels per protocol, the busiest by messages", async () => {
    const node = await startMetricsNode({ metrics: { topicLabels: 2 } });
    const sockets: ClientSocket[] = [];
    try {
      const socket = connect(`http://127.0.0.1:${node.port}`, {
        transports: ["websocket"],
        ...CONNECTED,
      });
      sockets.push(socket);
      const server = await new Promise<import("../../src/index.js").Socket>((resolve) =>
        node.io.once("connection", resolve),
      );
      const rooms = ["a", "b", "c", "d", "e"];
      server.join(rooms);
      // Room i gets i + 1 broadcasts; a private room (the socket's id) is never a topic.
      rooms.forEach((room, i) => {
        for (let n = 0; n <= i; n++) node.io.to(room).emit("x");
      });
      node.io.to(server.id).emit("x");
      for (const channel of ["/c1", "/c2", "/c3"]) node.bayeux.subscribe(channel, () => {});
      node.bayeux.publish("/c1", 1);
      node.bayeux.publish("/c2", 1);
      node.bayeux.publish("/c2", 1);
      node.bayeux.publish("/c3", 1);
      node.bayeux.publish("/c3", 1);
      node.bayeux.publish("/c3", 1);
      const { samples } = await scrape(node.port);
      const topics = [...samples].filter(([k]) => k.startsWith("switchboard_topic_messages_total"));
      assert.deepEqual(topics, [
        ['switchboard_topic_messages_total{protocol="socketio",topic="/ e"}', 5],
        ['switchboard_topic_messages_total{protocol="socketio",topic="/ d"}', 4],
        ['switchboard_topic_messages_total{protocol="bayeux",topic="/c3"}', 3],
        ['switchboard_topic_messages_total{protocol="bayeux",topic="/c2"}', 2],
      ]);
      // No other metric names a topic.
      const { text } = await scrape(node.port);
      assert.equal(text.match(/topic="/g)?.length, 4);
      assert.doesNotMatch(text, new RegExp(server.id));
    } finally {
      for (const socket of sockets) socket.close();
      await node.close();
    }
  });
});
