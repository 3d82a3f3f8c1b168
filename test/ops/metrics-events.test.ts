/**
 * The counters of `/metrics` that only a client coming back or something
 * going wrong moves, each driven by real clients and read back exactly from
 * the exposition: Socket.IO connection state recovery by result (succeeded,
 * failed, gap: the log lost packets the client missed), with the gap named
 * in the debug log; acknowledgements received from clients; slow consumers
 * cut at `maxBufferedBytes` (a Socket.IO and a Bayeux websocket whose TCP
 * socket stops reading); a cluster query that one node leaves unanswered
 * (two nodes on a memory broker), with the receive latency of a broadcast
 * between them; and Bayeux adoptions of a dead owner's sessions (succeeded,
 * failed while the session store cannot be read) and a gap in the channel
 * log a node follows.
 */
import assert from "node:assert/strict";
import type { Socket as TcpSocket } from "node:net";
import { after, before, describe, it } from "node:test";
import { type Socket as ClientSocket, io as connect } from "socket.io-client";
import { CHANNEL_STREAM } from "../../src/bayeux/server/channel-log.js";
import {
  MemoryBroker,
  MemoryBrokerHub,
  MemoryMessageLog,
  MemorySessionStore,
  type SessionRecord,
} from "../../src/cluster/index.js";
import type { Socket } from "../../src/index.js";
import { HANDSHAKE, WsPeer } from "../bayeux/helpers.js";
import { recordingLogger } from "../helpers/recording-logger.js";
import { until } from "../socketio/raw-clients.js";
import { type MetricsNode, sampleOf, scrape, startMetricsNode } from "./metrics-helpers.js";

const LIMIT = 256 * 1024;

describe("/metrics of recoveries, acks and slow consumers", () => {
  let node: MetricsNode;
  const { records, logger } = recordingLogger();
  const sockets: ClientSocket[] = [];

  before(async () => {
    node = await startMetricsNode({
      io: {
        // The log keeps 3 broadcasts: a client that misses more comes back to a gap.
        connectionStateRecovery: { maxBufferedPackets: 3 },
        maxBufferedBytes: LIMIT,
        logger,
      },
      bayeux: { maxBufferedBytes: LIMIT },
    });
  });
  after(async () => {
    for (const socket of sockets) socket.close();
    await node.close();
  });

  const base = () => `http://127.0.0.1:${node.port}`;
  const value = async (series: string) => sampleOf((await scrape(node.port)).samples, series);

  /** A websocket client and its server-side socket, connected. */
  async function client(options: Record<string, unknown> = {}) {
    const accepted = new Promise<Socket>((resolve) => node.io.once("connection", resolve));
    const socket = connect(base(), {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      ...options,
    });
    sockets.push(socket);
    const server = await accepted;
    await until(() => socket.connected, 5000, "the connect");
    return { socket, server };
  }

  /** Cuts the client's transport (as a network failure would) and waits for the server to see it. */
  async function cutOff(socket: ClientSocket, server: Socket): Promise<void> {
    const gone = new Promise((resolve) => server.once("disconnect", resolve));
    socket.io.engine.close();
    assert.equal(await gone, "transport close");
  }

  async function comeBack(socket: ClientSocket): Promise<void> {
    socket.connect();
    await until(() => socket.connected, 5000, "the reconnect");
  }

  it("counts recoveries that succeeded, failed and hit a gap, and logs the gap as one", async () => {
    const series = (result: string) =>
      `switchboard_recoveries_total{protocol="socketio",result="${result}"}`;
    assert.equal(await value(series("succeeded")), 0);
    const { socket, server } = await client();
    const got: unknown[] = [];
    socket.on("news", (n: unknown) => got.push(n));
    node.io.emit("news", 1);
    await until(() => got.length === 1, 5000, "the first broadcast");

    // Away while one broadcast is sent: it is replayed.
    await cutOff(socket, server);
    node.io.emit("news", 2);
    await comeBack(socket);
    assert.equal(socket.recovered, true);
    await until(() => got.length === 2, 5000, "the replay");
    assert.deepEqual(got, [1, 2]);

    // Away while 5 are sent, past the 3 the log keeps: a gap, a fresh session.
    const again = node.io.sockets.sockets.get(socket.id as string);
    assert.ok(again);
    await cutOff(socket, again);
    for (let n = 3; n <= 7; n++) node.io.emit("news", n);
    await comeBack(socket);
    assert.equal(socket.recovered, false);

    // A client back from a server that never knew its session (restarted, say).
    const stranger = connect(base(), {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      auth: { pid: "no-such-session", offset: "0" },
    });
    sockets.push(stranger);
    await until(() => stranger.connected, 5000, "the stranger's connect");
    assert.equal(stranger.recovered, false);

    const { samples } = await scrape(node.port);
    assert.equal(sampleOf(samples, series("succeeded")), 1);
    // A gap is a failure too, counted again under its own result.
    assert.equal(sampleOf(samples, series("failed")), 2);
    assert.equal(sampleOf(samples, series("gap")), 1);
    const failures = records.filter((r) => r.msg.startsWith("recovery failed"));
    assert.deepEqual(
      failures.map((r) => [r.level, r.msg, r.obj.gap]),
      [
        [
          "debug",
          "recovery failed: gap (the packets the client missed are gone from the log)",
          true,
        ],
        ["debug", "recovery failed: no such session", false],
      ],
    );
  });

  it("counts acknowledgements received from clients", async () => {
    const { socket, server } = await client();
    socket.on("ask", (n: number, ack: (answer: number) => void) => ack(n + 1));
    const before = await value('switchboard_socketio_acks_total{direction="received"}');
    const answers = [
      await server.timeout(5000).emitWithAck("ask", 1),
      await new Promise((resolve) => server.emit("ask", 10, resolve)),
      // A broadcast with acknowledgements: one answer per recipient.
      await node.io.to(server.id).timeout(5000).emitWithAck("ask", 20),
    ];
    assert.deepEqual(answers, [2, 11, [21]]);
    const received = await value('switchboard_socketio_acks_total{direction="received"}');
    assert.equal(received - before, 3);
  });

  it("counts a Socket.IO websocket cut for falling maxBufferedBytes behind", async () => {
    const series = 'switchboard_slow_consumer_disconnects_total{protocol="socketio"}';
    assert.equal(await value(series), 0);
    const { socket, server } = await client();
    const reason = new Promise((resolve) => server.once("disconnect", resolve));
    const transport = socket.io.engine.transport as unknown as { ws: { _socket: TcpSocket } };
    const tcp = transport.ws._socket;
    // The client's TCP socket reads nothing more: the server's unsent bytes grow.
    tcp.pause();
    const chunk = "x".repeat(32 * 1024);
    let sent = 0;
    while (server.connected && sent < 4096) {
      server.emit("firehose", chunk);
      sent++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(await reason, "transport error");
    assert.ok(sent * chunk.length > LIMIT, `cut after ${sent} chunks`);
    assert.equal(await value(series), 1);
    socket.io.engine.on("error", () => {});
    tcp.destroy();
  });

  it("counts a Bayeux websocket cut for falling maxBufferedBytes behind", async () => {
    const series = 'switchboard_slow_consumer_disconnects_total{protocol="bayeux"}';
    assert.equal(await value(series), 0);
    const peer = await new WsPeer(`ws://127.0.0.1:${node.port}/bayeux`).open();
    peer.send([HANDSHAKE]);
    const clientId = (await peer.next((m) => m.channel === "/meta/handshake")).clientId as string;
    peer.send([
      { channel: "/meta/connect", clientId, connectionType: "websocket", id: "c" },
      { channel: "/meta/subscribe", clientId, subscription: "/firehose", id: "s" },
    ]);
    assert.equal((await peer.next((m) => m.id === "s")).successful, true);
    const ended = new Promise((resolve) =>
      node.bayeux.on("disconnect", (id, why) => {
        if (id === clientId) resolve(why);
      }),
    );
    let cut = false;
    void ended.then(() => {
      cut = true;
    });
    const tcp = (peer.ws as unknown as { _socket: TcpSocket })._socket;
    tcp.pause();
    const payload = "x".repeat(64 * 1024);
    let sent = 0;
    while (!cut && sent < 2000) {
      node.bayeux.publish("/firehose", { n: sent, payload });
      sent++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(await ended, "slow consumer");
    assert.equal(await value(series), 1);
    peer.ws.on("error", () => {});
    tcp.destroy();
  });
});

describe("/metrics of a cluster query left unanswered", () => {
  const hub = new MemoryBrokerHub();
  let a: MetricsNode;
  let b: MetricsNode;
  const sockets: ClientSocket[] = [];

  before(async () => {
    a = await startMetricsNode({ broker: new MemoryBroker(hub, "node-a") });
    b = await startMetricsNode({ broker: new MemoryBroker(hub, "node-b") });
  });
  after(async () => {
    for (const socket of sockets) socket.close();
    await Promise.all([a.close(), b.close()]);
  });

  it("counts a serverSideEmit whose ack one node never sends as a partial answer", async () => {
    let asked = 0;
    // b hears the event and never acknowledges it.
    b.io.on("census", () => {
      asked++;
    });
    const answer = await new Promise<{ err: Error | null; replies: unknown[] }>((resolve) =>
      a.io
        .timeout(100)
        .serverSideEmit("census", 1, (err: Error | null, replies: unknown[]) =>
          resolve({ err, replies }),
        ),
    );
    assert.equal(asked, 1);
    assert.match(
      String(answer.err?.message),
      /timeout reached: only 0 responses received out of 1/,
    );
    const { samples } = await scrape(a.port);
    assert.equal(sampleOf(samples, "switchboard_cluster_requests_total"), 1);
    assert.equal(sampleOf(samples, "switchboard_cluster_partial_answers_total"), 1);
    assert.equal(sampleOf(samples, "switchboard_cluster_request_duration_seconds_count"), 1);
    assert.ok(sampleOf(samples, "switchboard_cluster_request_duration_seconds_sum") >= 0.09);
  });

  it("times a broadcast from the other node as it arrives", async () => {
    const socket = connect(`http://127.0.0.1:${b.port}`, {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
    });
    sockets.push(socket);
    const got: unknown[] = [];
    socket.on("hello", (n: unknown) => got.push(n));
    await until(() => socket.connected, 5000, "the connect to b");
    const before = sampleOf((await scrape(b.port)).samples, "switchboard_broker_received_total");
    for (let n = 0; n < 10; n++) a.io.emit("hello", n);
    await until(() => got.length === 10, 5000, "the broadcasts on b");
    const { samples } = await scrape(b.port);
    const received = sampleOf(samples, "switchboard_broker_received_total") - before;
    assert.equal(received, 10);
    // One observation per message received, each the wait in the broker's queue.
    assert.ok(sampleOf(samples, "switchboard_broker_receive_latency_seconds_count") >= received);
    const sum = sampleOf(samples, "switchboard_broker_receive_latency_seconds_sum");
    assert.ok(sum > 0 && sum < 1, `latency sum ${sum}`);
  });
});

/** A session store whose reads fail while `failing` (its backend unreachable). */
class FlakyStore extends MemorySessionStore {
  failing = false;
  override get(id: string): Promise<SessionRecord | undefined> {
    if (this.failing) return Promise.reject(new Error("session store unreachable"));
    return super.get(id);
  }
}

describe("/metrics of Bayeux adoptions", () => {
  const hub = new MemoryBrokerHub();
  const store = new FlakyStore();
  const channelLog = new MemoryMessageLog();
  const owner = hub.connect("owner");
  const heir = hub.connect("heir");
  let a: MetricsNode;
  let b: MetricsNode;

  before(async () => {
    const shared = { sessionStore: store, channelLog };
    a = await startMetricsNode({ broker: owner, bayeux: shared });
    b = await startMetricsNode({ broker: heir, bayeux: shared });
  });
  after(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  async function post(node: MetricsNode, messages: object[]) {
    const res = await fetch(`http://127.0.0.1:${node.port}/bayeux`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(messages),
      signal: AbortSignal.timeout(5000),
    });
    return (await res.json()) as {
      id?: string;
      clientId?: string;
      successful?: boolean;
      error?: string;
      data?: unknown;
    }[];
  }

  async function subscribedOnA(): Promise<string> {
    const [hs] = await post(a, [
      { channel: "/meta/handshake", version: "1.0", supportedConnectionTypes: ["long-polling"] },
    ]);
    const clientId = hs.clientId as string;
    const [sub] = await post(a, [{ channel: "/meta/subscribe", clientId, subscription: "/news" }]);
    assert.equal(sub.successful, true);
    await until(
      () => (store.getNow(clientId)?.data.subscriptions as unknown[] | undefined)?.length === 1,
      5000,
      "the session's record with its subscription",
    );
    return clientId;
  }

  it("counts adoptions that succeeded and failed, and a gap in the channel log", async () => {
    const series = (result: string) =>
      `switchboard_recoveries_total{protocol="bayeux",result="${result}"}`;
    const first = await subscribedOnA();
    const second = await subscribedOnA();
    // The owner leaves the cluster (as a dead node would): b sees it go.
    await owner.close();
    await until(() => heir.nodes().length === 0, 5000, "b to see the owner go");

    // The first client carries on at b: its session is adopted, subscription and all.
    const published = await post(b, [{ channel: "/news", clientId: first, data: 1, id: "p1" }]);
    // Its reply, and the publish itself delivered to it (the subscription came along).
    assert.deepEqual(
      published.map((m) => [m.id, m.successful, m.data]),
      [
        ["p1", undefined, 1],
        ["p1", true, undefined],
      ],
    );
    assert.equal(b.bayeux.getSession(first)?.id, first);
    // The second comes while the store cannot be read: the adoption fails.
    store.failing = true;
    const [refused] = await post(b, [{ channel: "/news", clientId: second, data: 2, id: "p2" }]);
    store.failing = false;
    assert.equal(refused.successful, false);
    assert.match(String(refused.error), /^402:/);

    // The channel log loses its stream (a flushed or restarted backend): b's follow sees a gap.
    channelLog.dropNow(CHANNEL_STREAM);
    await post(b, [{ channel: "/news", clientId: first, data: 3 }]);
    const { samples } = await scrape(b.port);
    assert.equal(sampleOf(samples, series("succeeded")), 1);
    assert.equal(sampleOf(samples, series("failed")), 1);
    assert.equal(sampleOf(samples, series("gap")), 1);
  });
});
