/**
 * Slow consumers: a websocket whose unsent bytes pass `maxBufferedBytes` is
 * cut, and its session is named in the node's slow-consumer list.
 */
import assert from "node:assert/strict";
import { EventEmitter, once } from "node:events";
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import type { WebSocket } from "ws";
import { BayeuxServer, BayeuxSocket, type DisconnectReason } from "../../src/bayeux/index.js";
import { nodeStats } from "../../src/ops/node-stats.js";
import { delay, HANDSHAKE, type Running, startServer, WsPeer } from "./helpers.js";

async function subscribed(
  s: Running,
  channel: string,
): Promise<{ peer: WsPeer; clientId: string }> {
  const peer = await new WsPeer(s.wsUrl).open();
  peer.send([HANDSHAKE]);
  const hs = await peer.next((m) => m.channel === "/meta/handshake");
  const clientId = hs.clientId!;
  peer.send([
    { channel: "/meta/connect", clientId, connectionType: "websocket", id: "c0" },
    { channel: "/meta/subscribe", clientId, subscription: channel, id: "s" },
  ]);
  assert.equal((await peer.next((m) => m.id === "s")).successful, true);
  await peer.next((m) => m.id === "c0");
  return { peer, clientId };
}

describe("bayeux websocket: slow consumers", { timeout: 30000 }, () => {
  let s: Running;
  before(async () => {
    s = await startServer({ maxBufferedBytes: 256 * 1024, timeout: 60000 });
  });
  after(() => s.close());

  it("terminates a client whose TCP socket stops reading and ends its session", async () => {
    const slow = await subscribed(s, "/firehose");
    const fast = await subscribed(s, "/firehose");
    const reasons = new Map<string, DisconnectReason>();
    s.bayeux.on("disconnect", (id, reason) => reasons.set(id, reason));
    // The raw TCP socket under the client: paused, it reads nothing, so the
    // kernel buffers fill and the server's unsent bytes grow.
    const tcp = (slow.peer.ws as unknown as { _socket: Socket })._socket;
    tcp.pause();
    const payload = "x".repeat(64 * 1024);
    let fastCount = 0;
    // Count deliveries, not frames: one tick's deliveries share a frame.
    fast.peer.ws.on("message", (data) => {
      for (const m of JSON.parse(data.toString()) as { channel: string }[]) {
        if (m.channel === "/firehose") fastCount++;
      }
    });
    let sent = 0;
    while (!reasons.has(slow.clientId) && sent < 2000) {
      s.bayeux.publish("/firehose", { n: sent, payload });
      sent++;
      // Let the fast reader drain so only the paused one falls behind.
      if (sent % 8 === 0) await delay(1);
    }
    assert.equal(reasons.get(slow.clientId), "slow consumer");
    assert.equal(s.bayeux.getSession(slow.clientId), undefined);
    const stats = nodeStats({ bayeux: s.bayeux }).snapshot();
    assert.deepEqual(
      stats.slowConsumers.map((c) => [c.protocol, c.id, c.dropped]),
      [["bayeux", slow.clientId, 1]],
    );
    assert.equal(stats.slowConsumerDrops.bayeux, 1);
    assert.equal(reasons.has(fast.clientId), false, "the reading client stays");
    assert.ok(s.bayeux.getSession(fast.clientId));
    // Once it reads again, the slow client finds its connection gone.
    const closed = once(slow.peer.ws, "close");
    slow.peer.ws.on("error", () => {});
    tcp.resume();
    await closed;
    // The reading client got every message.
    while (fastCount < sent) await delay(5);
    assert.equal(fastCount, sent);
    await fast.peer.close();
  });
});

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A stand-in for a ws WebSocket whose bufferedAmount the test sets. */
class FakeWs extends EventEmitter {
  readyState = 1;
  bufferedAmount = 0;
  sent = 0;
  terminated = false;
  send(): void {
    this.sent++;
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
  }
}

describe("bayeux websocket: maxBufferedBytes edge", () => {
  it("keeps a socket exactly at the limit and cuts it one byte past", async () => {
    const server = new BayeuxServer({ maxBufferedBytes: 1000 });
    try {
      const ws = new FakeWs();
      const socket = new BayeuxSocket(ws as unknown as WebSocket, {} as IncomingMessage, server);
      const { replies } = await server.process([HANDSHAKE], {
        connectionType: "websocket",
        request: null,
        socket,
      });
      const clientId = replies[0].clientId!;
      const session = server.getSession(clientId)!;
      assert.equal(session.socket, socket);
      server.subscribe("/x", () => {});
      server.router.subscribe(session, "/x");
      const reasons: string[] = [];
      server.on("disconnect", (_id, reason) => reasons.push(reason));

      ws.bufferedAmount = 1000;
      server.publish("/x", 1);
      // Deliveries to a websocket leave at the end of the tick.
      await tick();
      assert.equal(ws.sent, 1);
      assert.equal(ws.terminated, false);
      assert.ok(server.getSession(clientId));

      ws.bufferedAmount = 1001;
      server.publish("/x", 2);
      await tick();
      assert.equal(ws.sent, 2);
      assert.equal(ws.terminated, true);
      assert.deepEqual(reasons, ["slow consumer"]);
      assert.equal(server.getSession(clientId), undefined);
      assert.deepEqual(
        nodeStats({ bayeux: server })
          .snapshot()
          .slowConsumers.map((c) => [c.protocol, c.id, c.dropped]),
        [["bayeux", clientId, 1]],
      );

      server.publish("/x", 3);
      await tick();
      assert.equal(ws.sent, 2, "nothing more is written to a cut socket");
    } finally {
      await server.close();
    }
  });

  it("defaults to 16 MiB and refuses a bad value", () => {
    const server = new BayeuxServer();
    assert.equal(server.options.maxBufferedBytes, 16 * 1024 * 1024);
    void server.close();
    assert.throws(() => new BayeuxServer({ maxBufferedBytes: 0 }), RangeError);
  });
});
