/**
 * Per-publisher order on the server: the messages one client sends are
 * handled in the order it sent them, even when a step of their handling is
 * asynchronous (a policy, an extension) and several of its batches arrive
 * together (an offline queue flushed as several frames or requests).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { BayeuxMessage } from "../../src/codec/bayeux/index.js";
import { until } from "../socketio/raw-clients.js";
import {
  HANDSHAKE,
  LONG_POLLING,
  type Running,
  startServer,
  transportFreeServers,
  WsPeer,
} from "./helpers.js";

/** Resolves after a varying number of macrotask turns: later messages may finish first. */
function jitter(n: number): Promise<void> {
  return new Promise((resolve) => {
    let turns = (n * 7) % 4;
    const step = () => (turns-- <= 0 ? resolve() : setImmediate(step));
    step();
  });
}

const asyncPolicy = {
  canPublish: (_s: unknown, _c: string, message: BayeuxMessage) =>
    jitter((message.data as { n: number }).n).then(() => true),
};

describe("bayeux order: websocket", { timeout: 30_000 }, () => {
  let s: Running;
  before(async () => {
    s = await startServer({ policy: asyncPolicy });
  });
  after(() => s.close());

  it("handles one connection's frames in arrival order, with an asynchronous policy", async () => {
    const seen: number[] = [];
    s.bayeux.subscribe("/order/ws", (data) => seen.push((data as { n: number }).n));
    const peer = await new WsPeer(s.wsUrl).open();
    try {
      peer.send([HANDSHAKE]);
      const hs = await peer.next((m) => m.channel === "/meta/handshake");
      const clientId = hs.clientId!;
      // 20 frames of 5 publishes each, written back to back.
      let n = 0;
      for (let frame = 0; frame < 20; frame++) {
        const batch = [];
        for (let i = 0; i < 5; i++) {
          batch.push({ channel: "/order/ws", clientId, data: { n }, id: `p${n}` });
          n++;
        }
        peer.send(batch);
      }
      await until(() => seen.length >= 100, 20_000, "100 publishes");
      assert.deepEqual(
        seen,
        Array.from({ length: 100 }, (_, i) => i),
      );
      // Replies come back in order too.
      await until(
        () => peer.received.filter((m) => m.id?.toString().startsWith("p")).length >= 100,
        20_000,
        "100 replies",
      );
      const replied = peer.received
        .filter((m) => m.id?.toString().startsWith("p"))
        .map((m) => Number(String(m.id).slice(1)));
      assert.deepEqual(
        replied,
        Array.from({ length: 100 }, (_, i) => i),
      );
    } finally {
      await peer.close();
    }
  });
});

describe("bayeux order: batches of one session through process()", { timeout: 30_000 }, () => {
  const make = transportFreeServers({ policy: asyncPolicy });

  it("starts a session's batch only after its earlier batch is answered", async () => {
    const server = make();
    const seen: number[] = [];
    server.subscribe("/order/lp", (data) => seen.push((data as { n: number }).n));
    const [hs] = (await server.process([HANDSHAKE], LONG_POLLING)).replies;
    const clientId = hs.clientId!;
    // Ten requests arrive before any is answered (several HTTP connections).
    const pending = [];
    let n = 0;
    for (let request = 0; request < 10; request++) {
      const batch = [];
      for (let i = 0; i < 4; i++) {
        batch.push({ channel: "/order/lp", clientId, data: { n }, id: `p${n}` });
        n++;
      }
      pending.push(server.process(batch, LONG_POLLING));
    }
    const results = await Promise.all(pending);
    assert.deepEqual(
      seen,
      Array.from({ length: 40 }, (_, i) => i),
    );
    for (const [request, result] of results.entries()) {
      assert.deepEqual(
        result.replies.map((r) => r.id),
        [0, 1, 2, 3].map((i) => `p${request * 4 + i}`),
      );
      assert.ok(result.replies.every((r) => r.successful === true));
    }
    assert.equal(server.getSession(clientId)?.inFlight, null, "nothing left in flight");
  });
});
